//! A container's upper directory → an OCI changeset, following BuildKit's
//! `WriteUpperdir` (moby/buildkit util/overlay):
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
//!
//! The upper directory is read by fds (see `pack`): a container that changes
//! its files while it is committed unpaused can make the commit fail with
//! "changed while being read", or commit its own files, never a host file
//! reached through a symlink it swapped in. The layers below belong to the
//! store and do not change; they are looked up by path, never through a
//! symlink.

use super::pack::{layer_xattrs, Node, PackError, PackOptions, Packer};
use super::stack::Stack;
use nix::sys::stat::{fstatat, FileStat, SFlag};
use std::ffi::OsString;
use std::fs::Metadata;
use std::io::{self, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum DiffError {
    #[error("{0}: overlayfs redirect_dir was used; cannot diff the upper directory alone")]
    Redirect(PathBuf),
    #[error("{0}: overlayfs metacopy was used; the upper file has no data")]
    Metacopy(PathBuf),
    #[error("{path}")]
    Io { path: PathBuf, source: io::Error },
    #[error(transparent)]
    Pack(#[from] PackError),
}

fn io_at(path: &Path) -> impl FnOnce(io::Error) -> DiffError + '_ {
    move |source| DiffError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// A directory entered but not written yet: written, with every one above
/// it, as soon as something in it is.
struct Pending {
    name: String,
    meta: Metadata,
    xattrs: Vec<(String, Vec<u8>)>,
    written: bool,
}

struct Differ<'a, W: Write> {
    upper: &'a Path,
    lower: &'a Stack,
    packer: Packer<W>,
    /// The directories from the top down to the one being read.
    pending: Vec<Pending>,
}

fn rel_name(comps: &[OsString]) -> String {
    comps
        .iter()
        .map(|c| c.to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

fn check_overlay_xattrs(node: &Node, path: &Path) -> Result<(), DiffError> {
    for ns in ["trusted", "user"] {
        if node.meta.is_dir() {
            if node.xattr(&format!("{ns}.overlay.redirect")).is_some() {
                return Err(DiffError::Redirect(path.to_path_buf()));
            }
        } else if node.xattr(&format!("{ns}.overlay.metacopy")).is_some() {
            return Err(DiffError::Metacopy(path.to_path_buf()));
        }
    }
    Ok(())
}

/// Does this directory carry the opaque xattr (trusted. or user.)?
fn is_opaque(node: &Node) -> bool {
    [super::OPAQUE_XATTR, "user.overlay.opaque"]
        .iter()
        .any(|k| node.xattr(k) == Some(b"y"))
}

/// Is this lstat the overlayfs whiteout (a character device 0/0)?
fn is_whiteout(st: &FileStat) -> bool {
    SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT == SFlag::S_IFCHR && st.st_rdev == 0
}

fn same_contents(up: &std::fs::File, low: &Path) -> io::Result<bool> {
    // the layers below are the store's: no symlink is followed there either
    let mut fb = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(low)?;
    let mut ba = vec![0u8; 1 << 16];
    let mut bb = vec![0u8; 1 << 16];
    let mut at = 0;
    loop {
        let na = up.read_at(&mut ba, at)?;
        if na == 0 {
            return Ok(fb.read(&mut bb[..1])? == 0);
        }
        at += na as u64;
        fb.read_exact(&mut bb[..na])?;
        if ba[..na] != bb[..na] {
            return Ok(false);
        }
    }
}

/// Is the upper entry identical to the one below (an unchanged copy-up)?
fn same(up: &Node, low: &Path, lm: &Metadata) -> io::Result<bool> {
    let um = &up.meta;
    if um.file_type() != lm.file_type()
        || um.mode() != lm.mode()
        || um.uid() != lm.uid()
        || um.gid() != lm.gid()
        || um.rdev() != lm.rdev()
        || (!um.is_dir() && (um.mtime() != lm.mtime() || um.mtime_nsec() != lm.mtime_nsec()))
    {
        return Ok(false);
    }
    if up.layer_xattrs() != layer_xattrs(low)? {
        return Ok(false);
    }
    if um.file_type().is_symlink() {
        return Ok(up.read_link()? == std::fs::read_link(low)?.into_os_string());
    }
    if um.is_file() {
        return Ok(um.len() == lm.len() && same_contents(up.file(), low)?);
    }
    Ok(true)
}

impl<W: Write> Differ<'_, W> {
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

    /// Write the directories entered and not written yet.
    fn flush(&mut self) -> Result<(), DiffError> {
        for d in self.pending.iter_mut().filter(|d| !d.written) {
            self.packer
                .add_dir(&d.name, &d.meta, &d.xattrs)
                .map_err(io_at(self.upper))?;
            d.written = true;
        }
        Ok(())
    }

    fn whiteout(&mut self, dir: &str, victim: &OsString) -> Result<(), DiffError> {
        self.flush()?;
        self.packer
            .whiteout(dir, &victim.to_string_lossy())
            .map_err(io_at(self.upper))
    }

    /// Write the changes inside `dir`, the directory `comps` of the upper.
    /// `shadow`: the layers below are hidden here (an opaque directory or
    /// inside one).
    fn dir(
        &mut self,
        comps: &mut Vec<OsString>,
        dir: &Node,
        shadow: bool,
    ) -> Result<(), DiffError> {
        let here = self.upper.join(rel_name(comps));
        super::pack::check_depth(comps.len(), &here)?;
        let names = dir.list().map_err(io_at(&here))?;
        let dir_name = rel_name(comps);
        let mut whiteouts: Vec<OsString> = Vec::new();
        let mut real: Vec<(OsString, FileStat)> = Vec::new();
        for (n, _) in names {
            let st = fstatat(
                dir.fd(),
                n.as_os_str(),
                nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW,
            )
            .map_err(|e| PackError::opening(&here.join(&n), e.into()))?;
            if is_whiteout(&st) {
                whiteouts.push(n);
            } else {
                real.push((n, st));
            }
        }
        let below_is_dir = matches!(self.below(comps), Some((_, m)) if m.is_dir());
        if shadow && below_is_dir {
            let rel: Vec<&[u8]> = comps.iter().map(|c| c.as_bytes()).collect();
            for n in self.lower.list(&rel) {
                if !real.iter().any(|(r, _)| *r == n) {
                    self.whiteout(&dir_name, &n)?;
                }
            }
        } else {
            for n in whiteouts {
                comps.push(n.clone());
                let exists = self.below(comps).is_some();
                comps.pop();
                if exists {
                    self.whiteout(&dir_name, &n)?;
                }
            }
        }
        for (n, st) in real {
            comps.push(n);
            let n = comps.last().expect("pushed");
            let path = self.upper.join(rel_name(comps));
            let name = rel_name(comps);
            let listed_dir =
                SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT == SFlag::S_IFDIR;
            let node =
                Node::open_at(dir.fd(), n, listed_dir).map_err(|e| PackError::opening(&path, e))?;
            // what is read is what was listed and sorted above
            if (
                node.meta.dev(),
                node.meta.ino(),
                node.meta.mode() & libc::S_IFMT,
            ) != (st.st_dev, st.st_ino, st.st_mode & libc::S_IFMT)
            {
                return Err(PackError::Changed(path).into());
            }
            check_overlay_xattrs(&node, &path)?;
            let below = self.below(comps);
            if node.meta.is_dir() {
                let child_shadow = shadow || is_opaque(&node);
                let changed = match &below {
                    Some((lp, lm)) if lm.is_dir() => !same(&node, lp, lm).map_err(io_at(&path))?,
                    _ => true,
                };
                self.pending.push(Pending {
                    name,
                    meta: node.meta.clone(),
                    xattrs: node.layer_xattrs(),
                    written: false,
                });
                if changed {
                    self.flush()?;
                }
                self.dir(comps, &node, child_shadow)?;
                self.pending.pop();
            } else {
                let unchanged = match &below {
                    Some((lp, lm)) if node.meta.nlink() == 1 => {
                        same(&node, lp, lm).map_err(io_at(&path))?
                    }
                    _ => false,
                };
                if !unchanged {
                    self.flush()?;
                    self.packer
                        .add(&name, &node)
                        .map_err(|e| PackError::writing(&path, e))?;
                }
            }
            comps.pop();
        }
        Ok(())
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
pub fn write_upper<W: Write + Send>(
    upper: &Path,
    lower: &Stack,
    w: W,
    opts: PackOptions,
) -> Result<(W, DiffStats), DiffError> {
    let top = Node::open_dir(upper).map_err(io_at(upper))?;
    let mut d = Differ {
        upper,
        lower,
        packer: Packer::new(w, opts),
        pending: Vec::new(),
    };
    // on a stack made for the deepest tree walked
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("diff".into())
            .stack_size(super::pack::WALK_STACK)
            .spawn_scoped(scope, || d.dir(&mut Vec::new(), &top, is_opaque(&top)))
            .map_err(io_at(upper))?
            .join()
            .unwrap_or_else(|_| Err(io_at(upper)(io::Error::other("the diff walk panicked"))))
    })?;
    let entries = d.packer.entries();
    let w = d.packer.finish().map_err(io_at(upper))?;
    Ok((w, DiffStats { entries }))
}

/// What `docker diff` shows of one path: added, changed or deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ChangeKind {
    Added,
    Changed,
    Deleted,
}

impl ChangeKind {
    /// docker's letter: `A`, `C` or `D`.
    pub fn letter(self) -> char {
        match self {
            ChangeKind::Added => 'A',
            ChangeKind::Changed => 'C',
            ChangeKind::Deleted => 'D',
        }
    }
}

/// One changed path, absolute as the container sees it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Change {
    pub path: Vec<u8>,
    pub kind: ChangeKind,
}

/// The paths `upper` changes against `lower`, sorted: exactly the entries
/// the changeset [`write_upper`] writes (so a copy-up that changed nothing
/// is no change, and a directory holding a change is one), each `D` for a
/// whiteout, `C` where the layers below have the path, `A` where not.
pub fn changes(upper: &Path, lower: &Stack) -> Result<Vec<Change>, DiffError> {
    let (reader, writer) = nix::unistd::pipe().map_err(|e| io_at(upper)(e.into()))?;
    let (reader, writer) = (std::fs::File::from(reader), std::fs::File::from(writer));
    std::thread::scope(|scope| {
        let packing = scope
            .spawn(move || write_upper(upper, lower, writer, PackOptions::default()).map(|_| ()));
        let listed = list_changes(reader, lower);
        let packed = packing
            .join()
            .unwrap_or_else(|_| Err(io_at(upper)(io::Error::other("the diff thread panicked"))));
        packed?;
        let mut out = listed.map_err(io_at(upper))?;
        out.sort();
        Ok(out)
    })
}

/// Read a changeset's tar and name each entry's change.
fn list_changes(r: impl Read, lower: &Stack) -> io::Result<Vec<Change>> {
    let mut out = Vec::new();
    for entry in tar::Archive::new(r).entries()? {
        let entry = entry?;
        let raw = entry.path_bytes();
        let comps: Vec<&[u8]> = raw
            .split(|&b| b == b'/')
            .filter(|c| !c.is_empty() && *c != b".")
            .collect();
        let Some((last, dir)) = comps.split_last() else {
            continue;
        };
        let (kind, last) = match last.strip_prefix(b".wh.") {
            Some(hidden) => (ChangeKind::Deleted, hidden),
            None => {
                let below = lower.lookup(&comps).is_some();
                let kind = if below {
                    ChangeKind::Changed
                } else {
                    ChangeKind::Added
                };
                (kind, *last)
            }
        };
        let mut path = Vec::new();
        for c in dir.iter().chain([&last]) {
            path.push(b'/');
            path.extend_from_slice(c);
        }
        out.push(Change { path, kind });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsFd;

    fn set_xattr(path: &Path, key: &str, value: &[u8]) {
        let dir = std::fs::File::open(path.parent().unwrap()).unwrap();
        crate::sys::lsetxattr_at(dir.as_fd(), path.file_name().unwrap(), key, value).unwrap();
    }

    #[test]
    fn changes_name_what_the_changeset_holds() {
        use nix::sys::stat::{mknod, Mode, SFlag};
        let lower_guard = crate::testutil::TempDir::new("changes-lower");
        let lower = lower_guard.path();
        std::fs::create_dir_all(lower.join("etc")).unwrap();
        std::fs::write(lower.join("etc/passwd"), b"root\n").unwrap();
        std::fs::write(lower.join("etc/group"), b"root\n").unwrap();
        std::fs::write(lower.join("gone"), b"x").unwrap();
        let upper_guard = crate::testutil::TempDir::new("changes-upper");
        let upper = upper_guard.path();
        std::fs::create_dir_all(upper.join("etc")).unwrap();
        std::fs::write(upper.join("etc/passwd"), b"root\nme\n").unwrap();
        std::fs::write(upper.join("etc/new"), b"n").unwrap();
        std::fs::create_dir_all(upper.join("opt/app")).unwrap();
        // a whiteout (root only, as the tests run) and one of a path never there
        mknod(
            &upper.join("gone"),
            SFlag::S_IFCHR,
            Mode::from_bits_truncate(0o600),
            0,
        )
        .unwrap();
        mknod(
            &upper.join("never"),
            SFlag::S_IFCHR,
            Mode::from_bits_truncate(0o600),
            0,
        )
        .unwrap();
        let got = changes(upper, &Stack::new(vec![lower.to_path_buf()])).unwrap();
        let got: Vec<String> = got
            .iter()
            .map(|c| format!("{} {}", c.kind.letter(), String::from_utf8_lossy(&c.path)))
            .collect();
        assert_eq!(
            got,
            [
                "C /etc",
                "A /etc/new",
                "C /etc/passwd",
                "D /gone",
                "A /opt",
                "A /opt/app"
            ]
        );
    }

    #[test]
    fn refuses_redirect_and_metacopy() {
        // trusted.* xattrs need root, as the tests run here and in CI
        let upper_guard = crate::testutil::TempDir::new("diff-redirect");
        let upper = upper_guard.path().to_path_buf();
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

        let upper_guard = crate::testutil::TempDir::new("diff-metacopy");
        let upper = upper_guard.path().to_path_buf();
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
        let lower_guard = crate::testutil::TempDir::new("diff-lower");
        let lower = lower_guard.path().to_path_buf();
        std::fs::write(lower.join("was"), b"x").unwrap();
        let upper_guard = crate::testutil::TempDir::new("diff-upper");
        let upper = upper_guard.path().to_path_buf();
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
