//! The build context: .dockerignore, and the changeset tar of a COPY or
//! ADD (sources from the context, placed under the destination, with
//! `--chown` applied; ADD unpacks local tar archives).

use crate::layer::Compression;
use std::collections::BTreeMap;
use std::fs;
use std::io::{self, BufReader, Read, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// .dockerignore patterns.
#[derive(Debug, Clone, Default)]
pub struct Ignore {
    rules: Vec<(bool, Vec<String>)>,
}

fn glob_component(p: &[char], s: &[char]) -> bool {
    match (p.first(), s.first()) {
        (None, None) => true,
        (Some('*'), _) => {
            glob_component(&p[1..], s) || (!s.is_empty() && glob_component(p, &s[1..]))
        }
        (Some('?'), Some(_)) => glob_component(&p[1..], &s[1..]),
        (Some(a), Some(b)) if a == b => glob_component(&p[1..], &s[1..]),
        _ => false,
    }
}

fn glob_path(p: &[String], s: &[&str]) -> bool {
    match p.first() {
        None => s.is_empty(),
        Some(x) if x == "**" => (0..=s.len()).any(|k| glob_path(&p[1..], &s[k..])),
        Some(x) => {
            !s.is_empty()
                && glob_component(
                    &x.chars().collect::<Vec<_>>(),
                    &s[0].chars().collect::<Vec<_>>(),
                )
                && glob_path(&p[1..], &s[1..])
        }
    }
}

impl Ignore {
    pub fn load(context: &Path) -> io::Result<Ignore> {
        let text = match fs::read_to_string(context.join(".dockerignore")) {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Ignore::default()),
            Err(e) => return Err(e),
        };
        let mut rules = Vec::new();
        for l in text.lines() {
            let l = l.trim();
            if l.is_empty() || l.starts_with('#') {
                continue;
            }
            let (neg, pat) = match l.strip_prefix('!') {
                Some(p) => (true, p.trim()),
                None => (false, l),
            };
            let parts: Vec<String> = pat
                .trim_start_matches("./")
                .trim_matches('/')
                .split('/')
                .filter(|c| !c.is_empty() && *c != ".")
                .map(String::from)
                .collect();
            if !parts.is_empty() {
                rules.push((neg, parts));
            }
        }
        Ok(Ignore { rules })
    }

    /// Is `rel` (relative to the context) excluded? A path is excluded when
    /// it or one of its parents matches; later rules win.
    pub fn excluded(&self, rel: &str) -> bool {
        let comps: Vec<&str> = rel.split('/').filter(|c| !c.is_empty()).collect();
        let mut out = false;
        for (neg, pat) in &self.rules {
            let hit = (1..=comps.len()).any(|k| glob_path(pat, &comps[..k]));
            if hit {
                out = !neg;
            }
        }
        out
    }
}

/// Owner override for copied files.
pub type Owner = Option<(u32, u32)>;

/// Resolve `src` inside the context; `..` may not leave it.
pub fn context_path(context: &Path, src: &str) -> Result<PathBuf, String> {
    let mut parts: Vec<&str> = Vec::new();
    for c in src.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Err(format!("{src}: outside the build context"));
                }
            }
            c => parts.push(c),
        }
    }
    Ok(context.join(parts.join("/")))
}

/// Expand a source that may hold `*` or `?` in its last component.
pub fn expand(context: &Path, src: &str) -> Result<Vec<PathBuf>, String> {
    let p = context_path(context, src)?;
    let name = p
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if !name.contains('*') && !name.contains('?') {
        if fs::symlink_metadata(&p).is_err() {
            return Err(format!(
                "{src}: no such file or directory in the build context"
            ));
        }
        return Ok(vec![p]);
    }
    let dir = p.parent().unwrap_or(context);
    let pat: Vec<char> = name.chars().collect();
    let mut out: Vec<PathBuf> = fs::read_dir(dir)
        .map_err(|e| format!("{src}: {e}"))?
        .flatten()
        .filter(|e| {
            glob_component(
                &pat,
                &e.file_name().to_string_lossy().chars().collect::<Vec<_>>(),
            )
        })
        .map(|e| e.path())
        .collect();
    out.sort();
    if out.is_empty() {
        return Err(format!("{src}: no source files were specified"));
    }
    Ok(out)
}

/// Builds the tar of one COPY/ADD.
pub struct CopyTar<W: Write> {
    b: tar::Builder<W>,
    context: PathBuf,
    ignore: Ignore,
    owner: Owner,
    links: BTreeMap<(u64, u64), String>,
    pub files: u64,
}

fn header_from(m: &fs::Metadata, kind: tar::EntryType, owner: Owner) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(kind);
    h.set_mode(m.mode() & 0o7777);
    let (u, g) = owner.unwrap_or((m.uid(), m.gid()));
    h.set_uid(u as u64);
    h.set_gid(g as u64);
    h.set_mtime(m.mtime().max(0) as u64);
    h.set_size(0);
    h
}

impl<W: Write> CopyTar<W> {
    pub fn new(w: W, context: &Path, ignore: Ignore, owner: Owner) -> CopyTar<W> {
        CopyTar {
            b: tar::Builder::new(w),
            context: context.to_path_buf(),
            ignore,
            owner,
            links: BTreeMap::new(),
            files: 0,
        }
    }

    fn rel(&self, p: &Path) -> String {
        p.strip_prefix(&self.context)
            .unwrap_or(p)
            .to_string_lossy()
            .into_owned()
    }

    /// Add `src` (a file, symlink or directory of the context) as `dest`
    /// (tar name, no leading `/`). A directory's contents go under `dest`.
    pub fn add(&mut self, src: &Path, dest: &str, top: bool) -> io::Result<()> {
        let rel = self.rel(src);
        if !rel.is_empty() && self.ignore.excluded(&rel) {
            return Ok(());
        }
        let m = fs::symlink_metadata(src)?;
        let ft = m.file_type();
        if ft.is_dir() {
            if !top || !dest.is_empty() {
                let mut h = header_from(&m, tar::EntryType::Directory, self.owner);
                self.b.append_data(
                    &mut h,
                    format!("{}/", dest.trim_end_matches('/')),
                    io::empty(),
                )?;
            }
            let mut names: Vec<_> = fs::read_dir(src)?
                .flatten()
                .map(|e| e.file_name())
                .collect();
            names.sort();
            for n in names {
                let child = if dest.is_empty() {
                    n.to_string_lossy().into_owned()
                } else {
                    format!("{}/{}", dest.trim_end_matches('/'), n.to_string_lossy())
                };
                self.add(&src.join(&n), &child, false)?;
            }
            return Ok(());
        }
        self.files += 1;
        if ft.is_symlink() {
            let mut h = header_from(&m, tar::EntryType::Symlink, self.owner);
            return self.b.append_link(&mut h, dest, fs::read_link(src)?);
        }
        if ft.is_file() {
            if m.nlink() > 1 {
                if let Some(first) = self.links.get(&(m.dev(), m.ino())).cloned() {
                    let mut h = header_from(&m, tar::EntryType::Link, self.owner);
                    return self.b.append_link(&mut h, dest, first);
                }
                self.links.insert((m.dev(), m.ino()), dest.to_string());
            }
            let mut h = header_from(&m, tar::EntryType::Regular, self.owner);
            h.set_size(m.len());
            return self.b.append_data(&mut h, dest, fs::File::open(src)?);
        }
        Err(io::Error::other(format!(
            "{rel}: only files, directories and symlinks can be copied"
        )))
    }

    /// ADD of a local archive: its entries, re-rooted under `dest`.
    pub fn add_archive(&mut self, src: &Path, dest: &str) -> io::Result<()> {
        let mut input = BufReader::new(fs::File::open(src)?);
        let c = Compression::detect(&mut input)?;
        let mut a = tar::Archive::new(c.decoder(input)?);
        let prefix = dest.trim_matches('/');
        let join = |n: &str| {
            let n = n.trim_start_matches("./").trim_start_matches('/');
            if prefix.is_empty() {
                n.to_string()
            } else {
                format!("{prefix}/{n}")
            }
        };
        for e in a.entries()? {
            let mut e = e?;
            let name = String::from_utf8_lossy(&e.path_bytes()).into_owned();
            let mut h = e.header().clone();
            if let Some((u, g)) = self.owner {
                h.set_uid(u as u64);
                h.set_gid(g as u64);
            }
            let target = join(&name);
            if target.is_empty() {
                continue;
            }
            self.files += 1;
            match h.entry_type() {
                tar::EntryType::Link => {
                    let l = e
                        .link_name_bytes()
                        .map(|l| String::from_utf8_lossy(&l).into_owned())
                        .unwrap_or_default();
                    self.b.append_link(&mut h, &target, join(&l))?;
                }
                tar::EntryType::Symlink => {
                    let l = e
                        .link_name_bytes()
                        .map(|l| String::from_utf8_lossy(&l).into_owned())
                        .unwrap_or_default();
                    self.b.append_link(&mut h, &target, l)?;
                }
                _ => {
                    let mut data = Vec::new();
                    e.read_to_end(&mut data)?;
                    self.b.append_data(&mut h, &target, &data[..])?;
                }
            }
        }
        Ok(())
    }

    pub fn finish(self) -> io::Result<W> {
        self.b.into_inner()
    }
}

/// Does `path` look like a tar archive (plain, gzip or zstd)?
pub fn is_archive(path: &Path) -> bool {
    let Ok(f) = fs::File::open(path) else {
        return false;
    };
    let mut input = BufReader::new(f);
    let Ok(c) = Compression::detect(&mut input) else {
        return false;
    };
    let Ok(mut d) = c.decoder(input) else {
        return false;
    };
    let mut head = vec![0u8; 512];
    if d.read_exact(&mut head).is_err() {
        return false;
    }
    &head[257..262] == b"ustar"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ignore_rules() {
        let ig = Ignore {
            rules: vec![
                (false, vec!["*.log".into()]),
                (false, vec!["build".into()]),
                (false, vec!["**".into(), "secret".into()]),
                (true, vec!["keep.log".into()]),
            ],
        };
        assert!(ig.excluded("a.log"));
        assert!(!ig.excluded("keep.log"));
        assert!(ig.excluded("build/x/y"));
        assert!(ig.excluded("deep/er/secret"));
        assert!(!ig.excluded("src/main.rs"));
    }
}
