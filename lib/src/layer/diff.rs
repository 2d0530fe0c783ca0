//! A container's upper directory → an OCI changeset, following BuildKit's
//! `WriteUpperdir` (formats.md §3.4):
//!
//! - a whiteout (char 0/0) becomes `.wh.name` only if the path exists in the
//!   layers below; a whiteout for a path that never existed is dropped;
//! - an opaque directory that exists below becomes explicit whiteouts for
//!   every child below that the upper does not have (also inside its
//!   subdirectories, which the opaque parent hides as well); an opaque
//!   directory that is new is just a new directory;
//! - a copy-up that changed nothing (same type, mode, owner, mtime, size,
//!   xattrs, link target and contents as below) is dropped, unless it has
//!   other hard links in the upper;
//! - hard links stay links; xattrs are kept (not overlayfs's own);
//! - a directory is written when it is new, changed, or holds a change;
//! - `redirect` or `metacopy` xattrs make the diff refuse: an upper-only
//!   walk would be wrong with them.

use super::pack::{layer_xattrs, PackOptions, Packer};
use super::stack::{is_opaque, is_whiteout, Stack};
use crate::sys;
use std::ffi::OsString;
use std::fs::Metadata;
use std::io::{self, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum DiffError {
    #[error("{0}: overlayfs redirect_dir was used; cannot diff the upper directory alone")]
    Redirect(PathBuf),
    #[error("{0}: overlayfs metacopy was used; the upper file has no data")]
    Metacopy(PathBuf),
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
}

fn io_at(path: &Path) -> impl FnOnce(io::Error) -> DiffError + '_ {
    move |source| DiffError::Io {
        path: path.to_path_buf(),
        source,
    }
}

enum Action {
    Add(PathBuf, String),
    Whiteout(String, String),
}

struct Differ<'a> {
    upper: &'a Path,
    lower: &'a Stack,
    entries: u64,
}

fn rel_name(comps: &[OsString]) -> String {
    comps
        .iter()
        .map(|c| c.to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

fn check_overlay_xattrs(path: &Path, is_dir: bool) -> Result<(), DiffError> {
    for ns in ["trusted", "user"] {
        if is_dir {
            if sys::lgetxattr(path, &format!("{ns}.overlay.redirect"))
                .map_err(io_at(path))?
                .is_some()
            {
                return Err(DiffError::Redirect(path.to_path_buf()));
            }
        } else if sys::lgetxattr(path, &format!("{ns}.overlay.metacopy"))
            .map_err(io_at(path))?
            .is_some()
        {
            return Err(DiffError::Metacopy(path.to_path_buf()));
        }
    }
    Ok(())
}

fn same_contents(a: &Path, b: &Path) -> io::Result<bool> {
    let mut fa = std::fs::File::open(a)?;
    let mut fb = std::fs::File::open(b)?;
    let mut ba = vec![0u8; 1 << 16];
    let mut bb = vec![0u8; 1 << 16];
    loop {
        let na = fa.read(&mut ba)?;
        if na == 0 {
            return Ok(fb.read(&mut bb[..1])? == 0);
        }
        fb.read_exact(&mut bb[..na])?;
        if ba[..na] != bb[..na] {
            return Ok(false);
        }
    }
}

/// Is the upper entry identical to the one below (an unchanged copy-up)?
fn same(up: &Path, um: &Metadata, low: &Path, lm: &Metadata) -> io::Result<bool> {
    if um.file_type() != lm.file_type()
        || um.mode() != lm.mode()
        || um.uid() != lm.uid()
        || um.gid() != lm.gid()
        || um.rdev() != lm.rdev()
        || (!um.is_dir() && (um.mtime() != lm.mtime() || um.mtime_nsec() != lm.mtime_nsec()))
    {
        return Ok(false);
    }
    if layer_xattrs(up)? != layer_xattrs(low)? {
        return Ok(false);
    }
    if um.file_type().is_symlink() {
        return Ok(std::fs::read_link(up)? == std::fs::read_link(low)?);
    }
    if um.is_file() {
        return Ok(um.len() == lm.len() && same_contents(up, low)?);
    }
    Ok(true)
}

impl Differ<'_> {
    fn below(&self, comps: &[OsString]) -> Option<(PathBuf, Metadata)> {
        let rel: Vec<&[u8]> = comps.iter().map(|c| c.as_bytes()).collect();
        self.lower.lookup(&rel).map(|(i, m)| {
            let mut p = self.lower.dirs[i].clone();
            for c in comps {
                p.push(c);
            }
            (p, m)
        })
    }

    /// The changes inside directory `comps` of the upper. `shadow`: the
    /// layers below are hidden here (an opaque directory or inside one).
    fn dir(&mut self, comps: &mut Vec<OsString>, shadow: bool) -> Result<Vec<Action>, DiffError> {
        let here = self.upper.join(rel_name(comps));
        let mut names: Vec<OsString> = std::fs::read_dir(&here)
            .map_err(io_at(&here))?
            .map(|e| e.map(|e| e.file_name()))
            .collect::<Result<_, _>>()
            .map_err(io_at(&here))?;
        names.sort();
        let dir_name = rel_name(comps);
        let mut whiteouts: Vec<OsString> = Vec::new();
        let mut real: Vec<(OsString, Metadata)> = Vec::new();
        for n in names {
            let p = here.join(&n);
            let m = std::fs::symlink_metadata(&p).map_err(io_at(&p))?;
            if is_whiteout(&m) {
                whiteouts.push(n);
            } else {
                real.push((n, m));
            }
        }
        let below_is_dir = matches!(self.below(comps), Some((_, m)) if m.is_dir());
        let mut actions = Vec::new();
        if shadow && below_is_dir {
            let rel: Vec<&[u8]> = comps.iter().map(|c| c.as_bytes()).collect();
            for n in self.lower.list(&rel) {
                if !real.iter().any(|(r, _)| *r == n) {
                    actions.push(Action::Whiteout(
                        dir_name.clone(),
                        n.to_string_lossy().into_owned(),
                    ));
                }
            }
        } else {
            for n in whiteouts {
                comps.push(n.clone());
                let exists = self.below(comps).is_some();
                comps.pop();
                if exists {
                    actions.push(Action::Whiteout(
                        dir_name.clone(),
                        n.to_string_lossy().into_owned(),
                    ));
                }
            }
        }
        for (n, m) in real {
            comps.push(n);
            let path = self.upper.join(rel_name(comps));
            let name = rel_name(comps);
            check_overlay_xattrs(&path, m.is_dir())?;
            let below = self.below(comps);
            if m.is_dir() {
                let child_shadow = shadow || is_opaque(&path);
                let inner = self.dir(comps, child_shadow)?;
                let changed = match &below {
                    Some((lp, lm)) if lm.is_dir() => {
                        !same(&path, &m, lp, lm).map_err(io_at(&path))?
                    }
                    _ => true,
                };
                if changed || !inner.is_empty() {
                    actions.push(Action::Add(path, name));
                    actions.extend(inner);
                }
            } else {
                let unchanged = match &below {
                    Some((lp, lm)) if m.nlink() == 1 => {
                        same(&path, &m, lp, lm).map_err(io_at(&path))?
                    }
                    _ => false,
                };
                if !unchanged {
                    actions.push(Action::Add(path, name));
                }
            }
            comps.pop();
        }
        Ok(actions)
    }
}

/// What `write_upper` wrote.
#[derive(Debug, Clone, Copy, Default)]
pub struct DiffStats {
    /// Tar entries written (whiteouts included).
    pub entries: u64,
}

/// Write the changeset of `upper` against the layers `lower` (top first)
/// as a tar to `w`.
pub fn write_upper<W: Write>(
    upper: &Path,
    lower: &Stack,
    w: W,
    opts: PackOptions,
) -> Result<(W, DiffStats), DiffError> {
    let mut d = Differ {
        upper,
        lower,
        entries: 0,
    };
    let actions = d.dir(&mut Vec::new(), is_opaque(upper))?;
    let mut p = Packer::new(w, opts);
    for a in actions {
        match a {
            Action::Add(path, name) => p.add(&path, &name).map_err(io_at(&path))?,
            Action::Whiteout(dir, victim) => p.whiteout(&dir, &victim).map_err(io_at(upper))?,
        }
    }
    d.entries = p.entries();
    let w = p.finish().map_err(io_at(upper))?;
    Ok((w, DiffStats { entries: d.entries }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsFd;

    fn tmp(name: &str) -> PathBuf {
        let p = std::env::temp_dir().join(format!("cairn-diff-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        p
    }

    fn set_xattr(path: &Path, key: &str, value: &[u8]) {
        let dir = std::fs::File::open(path.parent().unwrap()).unwrap();
        crate::sys::lsetxattr_at(dir.as_fd(), path.file_name().unwrap(), key, value).unwrap();
    }

    #[test]
    fn refuses_redirect_and_metacopy() {
        // trusted.* xattrs need root, as the tests run here and in CI
        let upper = tmp("redirect");
        std::fs::create_dir(upper.join("moved")).unwrap();
        set_xattr(&upper.join("moved"), "trusted.overlay.redirect", b"/old");
        let e = write_upper(
            &upper,
            &Stack::default(),
            Vec::new(),
            PackOptions::default(),
        )
        .err()
        .unwrap();
        assert!(matches!(e, DiffError::Redirect(_)), "{e}");

        let upper = tmp("metacopy");
        std::fs::write(upper.join("f"), b"").unwrap();
        set_xattr(&upper.join("f"), "trusted.overlay.metacopy", b"");
        let e = write_upper(
            &upper,
            &Stack::default(),
            Vec::new(),
            PackOptions::default(),
        )
        .err()
        .unwrap();
        assert!(matches!(e, DiffError::Metacopy(_)), "{e}");
    }

    #[test]
    fn whiteout_of_a_path_that_never_existed_is_dropped() {
        let lower = tmp("lower");
        std::fs::write(lower.join("was"), b"x").unwrap();
        let upper = tmp("upper");
        for name in ["was", "never"] {
            let dir = std::fs::File::open(&upper).unwrap();
            nix::sys::stat::mknodat(
                dir.as_fd(),
                name,
                nix::sys::stat::SFlag::S_IFCHR,
                nix::sys::stat::Mode::empty(),
                0,
            )
            .unwrap();
        }
        let (tar, stats) = write_upper(
            &upper,
            &Stack::new(vec![lower]),
            Vec::new(),
            PackOptions::default(),
        )
        .unwrap();
        assert_eq!(stats.entries, 1);
        let mut a = tar::Archive::new(&tar[..]);
        let names: Vec<String> = a
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().display().to_string())
            .collect();
        assert_eq!(names, vec![".wh.was"]);
    }
}
