//! The build context: .dockerignore, the sources of a COPY or ADD
//! resolved inside the context, and the changeset tar they make (placed
//! under the destination, with `--chown` applied; ADD unpacks local tar
//! archives).

use crate::layer::Compression;
use nix::fcntl::{openat, openat2, OFlag, OpenHow, ResolveFlag};
use nix::sys::stat::{fstat, FileStat, Mode};
use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::fs;
use std::io::{self, BufReader, Read, Write};
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// Why a COPY or ADD source cannot be copied: each names the source as
/// the Dockerfile writes it.
#[derive(Debug, thiserror::Error)]
pub enum ContextError {
    /// Its `..` climb above the context's root.
    #[error("{src}: outside the build context")]
    Outside { src: String },
    #[error("{src}: no such file or directory in the build context")]
    Missing { src: String },
    /// Its wildcards match nothing (or only what .dockerignore excludes).
    #[error("{src}: no source files were specified")]
    NoMatch { src: String },
    /// A URL: the build has no network.
    #[error("{src}: remote sources are not supported (no network)")]
    Remote { src: String },
    /// Looking it up in the context failed.
    #[error("{src}")]
    Lookup {
        src: String,
        #[source]
        source: io::Error,
    },
    /// Copying it into the layer failed.
    #[error("{src}")]
    Copy {
        src: String,
        #[source]
        source: CopyError,
    },
}

/// Why an entry of the context could not be copied into the layer: each
/// names the entry by its path in the context.
#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    /// `rel` could not be looked at or opened.
    #[error("{rel}")]
    Entry {
        rel: String,
        #[source]
        source: io::Error,
    },
    /// `rel` was found as one kind and opened as another: it was replaced
    /// between the two calls.
    #[error(
        "{rel}: changed while it was copied (the build context must not change during a build)"
    )]
    Changed { rel: String },
    /// A fifo, socket or device.
    #[error("{rel}: only files, directories and symlinks can be copied")]
    NotCopyable { rel: String },
    /// Reading a file or an archive, or writing the layer's tar.
    #[error(transparent)]
    Io(#[from] io::Error),
}

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
    /// The rules of the context's `.dockerignore`; none when it has none.
    pub fn load(ctx: &Context) -> io::Result<Ignore> {
        match ctx.read_file(".dockerignore")? {
            Some(text) => Ok(Ignore::parse(&String::from_utf8_lossy(&text))),
            None => Ok(Ignore::default()),
        }
    }

    /// Parse .dockerignore's text.
    pub fn parse(text: &str) -> Ignore {
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
        Ignore { rules }
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

fn kind(st: &FileStat) -> libc::mode_t {
    st.st_mode & libc::S_IFMT
}

/// `rel` could not be looked at.
fn at(rel: &str, e: impl Into<io::Error>) -> CopyError {
    CopyError::Entry {
        rel: rel.into(),
        source: e.into(),
    }
}

/// An entry found as one kind and opened as another: it was replaced
/// between the two calls.
fn changed(rel: &str, e: nix::errno::Errno) -> CopyError {
    use nix::errno::Errno;
    match e {
        Errno::ELOOP | Errno::ENOTDIR | Errno::EINVAL | Errno::ENOENT => {
            CopyError::Changed { rel: rel.into() }
        }
        e => at(rel, e),
    }
}

/// The build context, held by a directory fd. Every COPY/ADD source is
/// resolved below it as if it were `/`, as docker does (moby's
/// `FollowSymlinkInScope`, BuildKit's fsutil): a symlink to an absolute
/// path lands inside the context, `..` stops at its root, and a source
/// that is itself a link is followed, inside the context. The kernel does
/// the resolving (`openat2` with `RESOLVE_IN_ROOT`), so however the
/// context's links are made, or changed while the build reads them, no
/// source reads a file outside it. Copied directories are then walked by
/// fd, a name at a time, never following a link: a link inside a copied
/// directory is copied as the link it is.
pub struct Context {
    root: OwnedFd,
    /// The root's path as the kernel names it, to name what a source
    /// resolved to (for .dockerignore).
    real: PathBuf,
}

/// A COPY/ADD source found in the context.
pub struct Source {
    /// The source as written, cleaned (`./a/../b` is `b`).
    pub name: String,
    /// What it resolved to, relative to the context's root ("" for the root).
    pub rel: String,
    fd: OwnedFd,
    stat: FileStat,
}

impl Source {
    pub fn is_dir(&self) -> bool {
        kind(&self.stat) == libc::S_IFDIR
    }

    pub fn is_file(&self) -> bool {
        kind(&self.stat) == libc::S_IFREG
    }

    /// Its last component as written: the name its copy gets in a
    /// directory (docker names a copied link by the link, not its target).
    pub fn file_name(&self) -> &str {
        self.name.rsplit('/').next().unwrap_or("")
    }

    /// Open it for reading (the inode found, not its path again).
    pub fn open(&self) -> io::Result<fs::File> {
        let fd = crate::sys::reopen(
            &self.fd,
            OFlag::O_RDONLY | OFlag::O_NONBLOCK | OFlag::O_NOCTTY,
        )?;
        Ok(fs::File::from(fd))
    }
}

/// `src` cleaned as docker cleans it: no empty or `.` components, `..`
/// applied; climbing above the context is an error.
fn clean(src: &str) -> Result<Vec<&str>, ContextError> {
    let mut parts: Vec<&str> = Vec::new();
    for c in src.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Err(ContextError::Outside { src: src.into() });
                }
            }
            c => parts.push(c),
        }
    }
    Ok(parts)
}

/// The names in a directory, sorted.
fn names(dir: &OwnedFd) -> io::Result<Vec<std::ffi::OsString>> {
    let d = nix::dir::Dir::openat(
        dir,
        ".",
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )?;
    let mut out = Vec::new();
    for e in d {
        let e = e?;
        let n = e.file_name().to_bytes();
        if n != b"." && n != b".." {
            out.push(OsStr::from_bytes(n).to_os_string());
        }
    }
    out.sort();
    Ok(out)
}

impl Context {
    pub fn open(path: &Path) -> io::Result<Context> {
        let root = nix::fcntl::open(
            path,
            OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )?;
        let real = crate::sys::fd_path(&root)?;
        Ok(Context { root, real })
    }

    /// Resolve `path` (cleaned, relative) in the context, following every
    /// link on the way and at its end, inside the context. `None` when
    /// there is nothing there.
    fn lookup(&self, path: &str) -> io::Result<Option<(OwnedFd, FileStat, String)>> {
        let how = OpenHow::new()
            .flags(OFlag::O_PATH | OFlag::O_CLOEXEC)
            .resolve(ResolveFlag::RESOLVE_IN_ROOT | ResolveFlag::RESOLVE_NO_MAGICLINKS);
        let target = if path.is_empty() { "." } else { path };
        let mut tries = 0;
        let fd = loop {
            match openat2(&self.root, target, how) {
                Ok(fd) => break fd,
                // a rename elsewhere raced a `..`: the kernel asks to retry
                Err(nix::errno::Errno::EAGAIN) if tries < 32 => tries += 1,
                Err(nix::errno::Errno::ENOENT | nix::errno::Errno::ENOTDIR) => return Ok(None),
                Err(e) => return Err(e.into()),
            }
        };
        let stat = fstat(&fd)?;
        let real = crate::sys::fd_path(&fd)?;
        let rel = real
            .strip_prefix(&self.real)
            .map_err(|_| io::Error::other("moved out of the build context while it was read"))?;
        Ok(Some((fd, stat, rel.to_string_lossy().into_owned())))
    }

    /// The content of a regular file of the context (resolved in it), or
    /// `None` when it has none.
    pub fn read_file(&self, path: &str) -> io::Result<Option<Vec<u8>>> {
        let Some((fd, stat, _)) = self.lookup(path)? else {
            return Ok(None);
        };
        if kind(&stat) != libc::S_IFREG {
            return Err(io::Error::other("not a regular file"));
        }
        let mut f = fs::File::from(crate::sys::reopen(
            &fd,
            OFlag::O_RDONLY | OFlag::O_NONBLOCK | OFlag::O_NOCTTY,
        )?);
        let mut out = Vec::new();
        f.read_to_end(&mut out)?;
        Ok(Some(out))
    }

    /// A source and what .dockerignore leaves of it: nothing when the
    /// path as written, or what it resolved to, is excluded (docker never
    /// sends those to the builder).
    fn source(&self, name: &str, ignore: &Ignore) -> io::Result<Option<Source>> {
        if ignore.excluded(name) {
            return Ok(None);
        }
        let Some((fd, stat, rel)) = self.lookup(name)? else {
            return Ok(None);
        };
        if ignore.excluded(&rel) {
            return Ok(None);
        }
        Ok(Some(Source {
            name: name.to_string(),
            rel,
            fd,
            stat,
        }))
    }

    /// The sources one COPY/ADD source names: itself, or what the `*` and
    /// `?` of its last component match, sorted. An error, naming `src`,
    /// when the context holds none.
    pub fn expand(&self, src: &str, ignore: &Ignore) -> Result<Vec<Source>, ContextError> {
        let parts = clean(src)?;
        let missing = || ContextError::Missing { src: src.into() };
        let fail = |source| ContextError::Lookup {
            src: src.into(),
            source,
        };
        let last = parts.last().copied().unwrap_or("");
        if !last.contains(['*', '?']) {
            return match self.source(&parts.join("/"), ignore).map_err(fail)? {
                Some(s) => Ok(vec![s]),
                None => Err(missing()),
            };
        }
        let parent = parts[..parts.len() - 1].join("/");
        let dir = match self.lookup(&parent).map_err(fail)? {
            Some((fd, stat, _)) if kind(&stat) == libc::S_IFDIR => fd,
            _ => return Err(missing()),
        };
        let pat: Vec<char> = last.chars().collect();
        let mut out = Vec::new();
        for n in names(&dir).map_err(fail)? {
            let n = n.to_string_lossy();
            if !glob_component(&pat, &n.chars().collect::<Vec<_>>()) {
                continue;
            }
            let name = if parent.is_empty() {
                n.into_owned()
            } else {
                format!("{parent}/{n}")
            };
            out.extend(self.source(&name, ignore).map_err(fail)?);
        }
        if out.is_empty() {
            return Err(ContextError::NoMatch { src: src.into() });
        }
        Ok(out)
    }
}

/// Builds the tar of one COPY/ADD.
pub struct CopyTar<W: Write> {
    b: tar::Builder<W>,
    ignore: Ignore,
    owner: Owner,
    links: BTreeMap<(u64, u64), String>,
    pub files: u64,
}

fn header_from(st: &FileStat, kind: tar::EntryType, owner: Owner) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(kind);
    h.set_mode(st.st_mode & 0o7777);
    let (u, g) = owner.unwrap_or((st.st_uid, st.st_gid));
    h.set_uid(u as u64);
    h.set_gid(g as u64);
    h.set_mtime(st.st_mtime.max(0) as u64);
    h.set_size(0);
    h
}

fn join(dest: &str, name: &str) -> String {
    if dest.is_empty() {
        name.to_string()
    } else {
        format!("{}/{name}", dest.trim_end_matches('/'))
    }
}

impl<W: Write> CopyTar<W> {
    pub fn new(w: W, ignore: Ignore, owner: Owner) -> CopyTar<W> {
        CopyTar {
            b: tar::Builder::new(w),
            ignore,
            owner,
            links: BTreeMap::new(),
            files: 0,
        }
    }

    /// Add `src` as `dest` (tar name, no leading `/`). A directory's
    /// contents go under `dest`, and `dest` itself takes the directory's
    /// metadata unless it is the root.
    pub fn add(&mut self, src: &Source, dest: &str) -> Result<(), CopyError> {
        if src.is_dir() {
            let dir = openat(
                &src.fd,
                ".",
                OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
                Mode::empty(),
            )
            .map_err(io::Error::from)?;
            if !dest.is_empty() {
                self.dir_entry(&src.stat, dest)?;
            }
            return self.add_children(&dir, &src.rel, dest);
        }
        if src.is_file() {
            return Ok(self.file_entry(src.open()?, &src.stat, dest)?);
        }
        Err(CopyError::NotCopyable {
            rel: src.name.clone(),
        })
    }

    fn dir_entry(&mut self, st: &FileStat, dest: &str) -> io::Result<()> {
        let mut h = header_from(st, tar::EntryType::Directory, self.owner);
        self.b.append_data(
            &mut h,
            format!("{}/", dest.trim_end_matches('/')),
            io::empty(),
        )
    }

    fn file_entry(&mut self, f: fs::File, st: &FileStat, dest: &str) -> io::Result<()> {
        self.files += 1;
        if st.st_nlink > 1 {
            let key = (st.st_dev, st.st_ino);
            if let Some(first) = self.links.get(&key).cloned() {
                let mut h = header_from(st, tar::EntryType::Link, self.owner);
                return self.b.append_link(&mut h, dest, first);
            }
            self.links.insert(key, dest.to_string());
        }
        let mut h = header_from(st, tar::EntryType::Regular, self.owner);
        h.set_size(st.st_size as u64);
        self.b.append_data(&mut h, dest, f.take(st.st_size as u64))
    }

    /// The entries of the directory `dir` (`rel` in the context) under
    /// `dest`, each looked up by name in `dir` without following it.
    fn add_children(&mut self, dir: &OwnedFd, rel: &str, dest: &str) -> Result<(), CopyError> {
        for name in names(dir).map_err(|e| at(rel, e))? {
            let shown = name.to_string_lossy();
            let crel = join(rel, &shown);
            if self.ignore.excluded(&crel) {
                continue;
            }
            self.add_at(dir, &name, &crel, &join(dest, &shown))?;
        }
        Ok(())
    }

    fn add_at(
        &mut self,
        dir: &OwnedFd,
        name: &OsStr,
        rel: &str,
        dest: &str,
    ) -> Result<(), CopyError> {
        use nix::fcntl::AtFlags;
        let st = nix::sys::stat::fstatat(dir, name, AtFlags::AT_SYMLINK_NOFOLLOW)
            .map_err(|e| at(rel, e))?;
        match kind(&st) {
            libc::S_IFDIR => {
                let fd = openat(
                    dir,
                    name,
                    OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
                    Mode::empty(),
                )
                .map_err(|e| changed(rel, e))?;
                let st = fstat(&fd).map_err(|e| at(rel, e))?;
                self.dir_entry(&st, dest)?;
                self.add_children(&fd, rel, dest)
            }
            libc::S_IFLNK => {
                self.files += 1;
                let target = nix::fcntl::readlinkat(dir, name).map_err(|e| changed(rel, e))?;
                let mut h = header_from(&st, tar::EntryType::Symlink, self.owner);
                Ok(self.b.append_link(&mut h, dest, target)?)
            }
            libc::S_IFREG => {
                let fd = openat(
                    dir,
                    name,
                    OFlag::O_RDONLY
                        | OFlag::O_NOFOLLOW
                        | OFlag::O_NONBLOCK
                        | OFlag::O_NOCTTY
                        | OFlag::O_CLOEXEC,
                    Mode::empty(),
                )
                .map_err(|e| changed(rel, e))?;
                let st = fstat(&fd).map_err(|e| at(rel, e))?;
                if kind(&st) != libc::S_IFREG {
                    return Err(changed(rel, nix::errno::Errno::EINVAL));
                }
                Ok(self.file_entry(fs::File::from(fd), &st, dest)?)
            }
            _ => Err(CopyError::NotCopyable { rel: rel.into() }),
        }
    }

    /// ADD of a local archive: its entries, re-rooted under `dest`.
    pub fn add_archive(&mut self, src: &Source, dest: &str) -> Result<(), CopyError> {
        let mut input = BufReader::new(src.open()?);
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

/// Is `src` a tar archive (plain, gzip or zstd)?
pub fn is_archive(src: &Source) -> bool {
    let Ok(f) = src.open() else {
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
