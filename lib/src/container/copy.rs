//! `docker cp`: files between a container and the host, or a tar stream,
//! in either direction, on a running or a stopped container.
//!
//! A path in the container is resolved with its root as `/`
//! (`openat2(RESOLVE_IN_ROOT)`): a symlink in the container, absolute or
//! full of `..`, is followed inside the container and never reaches the
//! host. Below the directory so resolved, nothing is followed at all: the
//! tree read is walked by fds ([`Node`], as `commit` and `export` read),
//! and every entry written is made relative to its parent's fd with
//! `O_NOFOLLOW`/`O_EXCL`, its parents opened one name at a time without
//! following a symlink; an entry whose way goes through a symlink is
//! refused. That holds for both ends: the host's directory is as safe
//! from a hostile container's tree as the container is from a tar.
//!
//! A running container is reached through its init's root
//! (`/proc/PID/root`: its volumes and tmpfs as it sees them); a stopped
//! one through its union view, mounted for the copy if it is not. Either
//! way what is written lands in its read-write layer (or in a volume), so
//! `commit` and `diff` see it.
//!
//! Where docker's rules decide where a copy lands, they are docker's: a
//! file onto a missing name takes that name, into a directory it keeps its
//! own; a directory onto a missing name becomes it; `DIR/.` copies what is
//! in DIR. Owners are what docker's engine gives, not what its manual
//! says: files copied into a container keep the tar's owners (the host
//! files' uid and gid) unless `archive` (`-a`) and the container has a
//! USER, whose they then become; files copied out are owned by the caller.

use super::{is_mounted, mount, state, unmount, ContainerError};
use crate::isolate::liveness::alive;
use crate::layer::pack::{Node, PackOptions, Packer};
use crate::store::container::{ContainerMeta, Status};
use crate::store::Store;
use nix::errno::Errno;
use nix::fcntl::{open, openat, AtFlags, OFlag};
use nix::sys::stat::{fchmod, fstatat, mkdirat, mknodat, Mode, SFlag};
use nix::unistd::{fchown, fchownat, linkat, symlinkat, unlinkat, Gid, Uid, UnlinkatFlags};
use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;

#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    #[error(transparent)]
    Container(#[from] ContainerError),
    /// A path (`CONTAINER:PATH` in a container) could not be read or
    /// written.
    #[error("{path}")]
    Io {
        path: String,
        #[source]
        source: io::Error,
    },
    #[error("{0}: cannot copy a directory onto a file")]
    DirOntoFile(String),
    #[error("{0}: no such directory")]
    NoDir(String),
    #[error("{0}: must be a directory to extract a tar stream into")]
    NotDir(String),
    /// The container's USER, whom `-a` gives what is copied in, is not
    /// one its passwd and group files know.
    #[error("{id}: its user")]
    User {
        id: String,
        #[source]
        source: crate::isolate::config::UserError,
    },
}

type Result<T> = std::result::Result<T, CopyError>;

fn at(path: &str) -> impl FnOnce(io::Error) -> CopyError + '_ {
    move |source| CopyError::Io {
        path: path.to_string(),
        source,
    }
}

/// One end of a copy, as `docker cp` reads its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// `-`: a tar stream on stdin or stdout.
    Stream,
    /// A path on the host.
    Host(String),
    /// `CONTAINER:PATH`.
    Container { name: String, path: String },
}

impl Location {
    /// As docker: `CONTAINER:PATH` when there is a `:` and what is before
    /// it has no `/` (a path with a colon is written `./a:b`).
    pub fn parse(arg: &str) -> Location {
        if arg == "-" {
            return Location::Stream;
        }
        match arg.split_once(':') {
            Some((name, path)) if !name.is_empty() && !name.contains('/') => Location::Container {
                name: name.to_string(),
                path: if path.is_empty() {
                    "/".into()
                } else {
                    path.into()
                },
            },
            _ => Location::Host(arg.to_string()),
        }
    }
}

/// A container's root, open for a copy: its init's root while it runs,
/// else its union view (mounted for the copy, and unmounted after, when
/// it was not; the container is locked meanwhile, so it does not start).
pub struct Root<'a> {
    fd: OwnedFd,
    id: String,
    unmount: Option<(&'a Store, ContainerMeta)>,
    _lock: Option<nix::fcntl::Flock<File>>,
}

impl Drop for Root<'_> {
    fn drop(&mut self) {
        if let Some((store, c)) = &self.unmount {
            let _ = unmount(store, c);
        }
    }
}

const DIR_PATH: OFlag = OFlag::O_PATH
    .union(OFlag::O_DIRECTORY)
    .union(OFlag::O_CLOEXEC);

/// Open `c`'s root for a copy.
pub fn open_root<'a>(store: &'a Store, c: &ContainerMeta) -> Result<Root<'a>> {
    let id = c.id.short();
    let st = state(store, c)?;
    if let (Status::Running | Status::Paused, Some(pid)) = (st.status, st.pid) {
        let path = format!("/proc/{pid}/root");
        let fd = open(path.as_str(), DIR_PATH, Mode::empty()).map_err(io::Error::from);
        // the pid is the container's still, so the root opened is its
        if alive(st.pid, st.pid_start) {
            return Ok(Root {
                fd: fd.map_err(at(&format!("{id}:/")))?,
                id,
                unmount: None,
                _lock: None,
            });
        }
    }
    let lock = store.lock_container(&c.id).map_err(ContainerError::from)?;
    let mounted_here = !is_mounted(store, c);
    let path = mount(store, c)?;
    let root = Root {
        fd: open(&path, DIR_PATH, Mode::empty())
            .map_err(io::Error::from)
            .map_err(at(&format!("{id}:/")))?,
        id,
        unmount: mounted_here.then(|| (store, c.clone())),
        _lock: Some(lock),
    };
    Ok(root)
}

impl Root<'_> {
    /// `path` as the error messages name it: `ID:PATH`.
    fn name(&self, path: &str) -> String {
        format!("{}:{path}", self.id)
    }

    /// `path` resolved inside the root, every symlink followed there.
    fn resolve(&self, path: &str) -> io::Result<OwnedFd> {
        Ok(crate::sys::open_in_root(self.fd.as_fd(), path)?)
    }
}

/// `path` split as a copy reads it: its directory, its last name (`.`
/// for the root itself), and whether it asks for a directory's contents
/// (`DIR/.`) or for a directory at all (a trailing `/`).
#[derive(Debug, PartialEq, Eq)]
struct Parts {
    dir: String,
    name: String,
    contents: bool,
    wants_dir: bool,
}

fn split(path: &str) -> Parts {
    let contents = path == "." || path.ends_with("/.");
    let wants_dir = path.ends_with('/') || contents;
    let mut names: Vec<&str> = path.split('/').filter(|n| !n.is_empty()).collect();
    if contents {
        names.pop();
    }
    let name = names.pop().unwrap_or(".").to_string();
    let mut dir = names.join("/");
    if path.starts_with('/') {
        dir.insert(0, '/');
    }
    if dir.is_empty() {
        dir.push('.');
    }
    Parts {
        dir,
        name,
        contents,
        wants_dir,
    }
}

/// What a copy reads: `name` in the directory `dir`, never followed.
struct Source {
    name: OsString,
    node: Node,
    contents: bool,
}

impl Source {
    fn open(parent: OwnedFd, p: &Parts, shown: &str) -> Result<Source> {
        let node = if p.name == "." {
            Node::open_at(parent.as_fd(), OsStr::new("."), true)
        } else {
            Node::open_at(parent.as_fd(), OsStr::new(&p.name), false)
        }
        .map_err(at(shown))?;
        let contents = p.contents || p.name == ".";
        if (contents || p.wants_dir) && !node.meta.is_dir() {
            return Err(CopyError::NotDir(shown.to_string()));
        }
        Ok(Source {
            name: p.name.clone().into(),
            node,
            contents,
        })
    }

    fn is_dir(&self) -> bool {
        self.node.meta.is_dir()
    }

    /// With `follow` (`cp -L`), a symlink named as the source is replaced
    /// by what it leads to (`resolve`: the whole path, resolved as the
    /// source's side resolves it), keeping the link's name, as docker's;
    /// links below a copied directory stay links.
    fn followed(
        self,
        follow: bool,
        resolve: impl FnOnce() -> io::Result<OwnedFd>,
        shown: &str,
    ) -> Result<Source> {
        if !follow || !self.node.meta.file_type().is_symlink() {
            return Ok(self);
        }
        let node = resolve()
            .and_then(|fd| Node::from_handle(File::from(fd)))
            .map_err(at(shown))?;
        Ok(Source { node, ..self })
    }

    /// The tar of it, its top entry named by its own name (the root's
    /// entries by theirs: the tar writer drops a `.`).
    fn archive<W: Write>(&self, w: W, shown: &str) -> Result<W> {
        let top = self.name.to_string_lossy().into_owned();
        let mut p = Packer::new(w, PackOptions::default());
        p.add(&top, &self.node).map_err(at(shown))?;
        if self.is_dir() {
            walk(&self.node, &top, &mut p, shown)?;
        }
        p.finish().map_err(at(shown))
    }
}

fn walk<W: Write>(dir: &Node, rel: &str, p: &mut Packer<W>, shown: &str) -> Result<()> {
    let names = dir.list().map_err(at(shown))?;
    for (n, listed_dir) in names {
        let rel = format!("{rel}/{}", n.to_string_lossy());
        let node = match Node::open_at(dir.fd(), &n, listed_dir) {
            Ok(node) => node,
            // gone meanwhile (a running container's file): as tar does
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => continue,
            Err(e) => return Err(at(&format!("{shown}/{rel}"))(e)),
        };
        p.add(&rel, &node).map_err(at(shown))?;
        if node.meta.is_dir() && !is_kernel_fs(&node) {
            let depth = rel.split('/').filter(|c| !c.is_empty()).count();
            crate::layer::pack::check_depth(depth, std::path::Path::new(&format!("{shown}/{rel}")))
                .map_err(|e| at(shown)(std::io::Error::other(e)))?;
            walk(&node, &rel, p, shown)?;
        }
    }
    Ok(())
}

/// A running container's /proc or /sys (its root is reached through its
/// init's): copied as the empty mount points they are in its image.
fn is_kernel_fs(dir: &Node) -> bool {
    use nix::sys::statfs::{fstatfs, PROC_SUPER_MAGIC, SYSFS_MAGIC};
    fstatfs(dir.fd()).is_ok_and(|s| [PROC_SUPER_MAGIC, SYSFS_MAGIC].contains(&s.filesystem_type()))
}

/// Where a copy writes: the directory the tar is extracted into, and the
/// name its top entry takes there (none: its own).
struct Target {
    dir: OwnedFd,
    rename: Option<(String, String)>,
}

/// Docker's rules for where a `src_name` (a directory when `src_dir`)
/// lands at `dest`, its paths resolved by `resolve`.
fn target(
    resolve: impl Fn(&str) -> io::Result<OwnedFd>,
    dest: &str,
    shown: &str,
    src_name: &str,
    src_dir: bool,
    src_contents: bool,
) -> Result<Target> {
    let top = src_name;
    match resolve(dest) {
        Ok(fd) => {
            let st = nix::sys::stat::fstat(&fd)
                .map_err(io::Error::from)
                .map_err(at(shown))?;
            let is_dir = SFlag::from_bits_truncate(st.st_mode).contains(SFlag::S_IFDIR);
            if is_dir {
                let rename = src_contents.then(|| (top.to_string(), ".".to_string()));
                let dir = crate::sys::reopen(&fd, DIR_PATH).map_err(at(shown))?;
                return Ok(Target { dir, rename });
            }
            if src_dir {
                return Err(CopyError::DirOntoFile(shown.to_string()));
            }
        }
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {
            if dest.ends_with('/') && !src_dir {
                return Err(CopyError::NoDir(shown.to_string()));
            }
        }
        Err(e) => return Err(at(shown)(e)),
    }
    let p = split(dest);
    let dir = resolve(&p.dir).map_err(at(shown))?;
    if top == "." {
        // the root's entries have no top name to rename: make the
        // directory they go into
        let name = OsStr::new(&p.name);
        mkdirat(&dir, name, Mode::from_bits_truncate(0o755))
            .and_then(|()| openat(&dir, name, DIR_PATH | OFlag::O_NOFOLLOW, Mode::empty()))
            .map_err(io::Error::from)
            .map_err(at(shown))
            .map(|dir| Target { dir, rename: None })
    } else {
        Ok(Target {
            dir,
            rename: Some((top.to_string(), p.name)),
        })
    }
}

/// How entries are written.
#[derive(Debug, Clone, Copy)]
struct Owner(Option<(u32, u32)>);

/// Extract the tar `r` into `t.dir`, nothing followed below it.
fn extract<R: Read>(t: &Target, r: R, owner: Owner, shown: &str) -> Result<()> {
    let mut ar = tar::Archive::new(r);
    let entries = ar.entries().map_err(at(shown))?;
    for e in entries {
        let mut e = e.map_err(at(shown))?;
        let raw = e.path_bytes().into_owned();
        let name = String::from_utf8_lossy(&raw).into_owned();
        let shown_entry = format!("{shown}: {name}");
        let Some(names) = entry_names(&raw, t.rename.as_ref()) else {
            return Err(at(&shown_entry)(refused("a name with '..'")));
        };
        let Some((last, parents)) = names.split_last() else {
            continue; // the directory extracted into itself
        };
        let parent = open_parents(t.dir.as_fd(), parents).map_err(at(&shown_entry))?;
        write_entry(
            parent.as_fd(),
            last,
            &mut e,
            &t.rename,
            t.dir.as_fd(),
            owner,
        )
        .map_err(at(&shown_entry))?;
    }
    Ok(())
}

fn refused(why: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("refused: {why}"))
}

/// The names of an entry's path below the target: its first name
/// renamed, `.` and empty names dropped; `None` for a `..`.
fn entry_names(raw: &[u8], rename: Option<&(String, String)>) -> Option<Vec<OsString>> {
    let mut names: Vec<&[u8]> = raw
        .split(|&b| b == b'/')
        .filter(|n| !n.is_empty())
        .collect();
    if let (Some((from, to)), Some(first)) = (rename, names.first()) {
        if *first == from.as_bytes() {
            names[0] = to.as_bytes();
        }
    }
    if names.iter().any(|n| *n == b"..") {
        return None;
    }
    Some(
        names
            .into_iter()
            .filter(|n| *n != b".")
            .map(|n| OsStr::from_bytes(n).to_owned())
            .collect(),
    )
}

/// The directory `names` below `dir`, each opened without following a
/// symlink and made (0755) when missing.
fn open_parents(dir: BorrowedFd<'_>, names: &[OsString]) -> io::Result<OwnedFd> {
    let mut cur = dir.try_clone_to_owned()?;
    for n in names {
        let flags = DIR_PATH | OFlag::O_NOFOLLOW;
        cur = match openat(&cur, n.as_os_str(), flags, Mode::empty()) {
            Ok(fd) => fd,
            Err(Errno::ENOENT) => {
                mkdirat(&cur, n.as_os_str(), Mode::from_bits_truncate(0o755))?;
                openat(&cur, n.as_os_str(), flags, Mode::empty())?
            }
            Err(Errno::ELOOP | Errno::ENOTDIR) => {
                return Err(refused(
                    "a parent directory is a symlink or not a directory",
                ))
            }
            Err(e) => return Err(e.into()),
        };
    }
    Ok(cur)
}

/// What is at `name` in `dir` now: none, a directory, or something else.
fn existing(dir: BorrowedFd<'_>, name: &OsStr) -> io::Result<Option<bool>> {
    match fstatat(dir, name, AtFlags::AT_SYMLINK_NOFOLLOW) {
        Ok(st) => Ok(Some(
            SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT == SFlag::S_IFDIR,
        )),
        Err(Errno::ENOENT) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Write one entry as `name` in `dir`: what was there is replaced (a
/// directory only by a directory, which is kept), nothing is followed.
fn write_entry<R: Read>(
    dir: BorrowedFd<'_>,
    name: &OsStr,
    e: &mut tar::Entry<R>,
    rename: &Option<(String, String)>,
    top: BorrowedFd<'_>,
    owner: Owner,
) -> io::Result<()> {
    use tar::EntryType as T;
    let h = e.header().clone();
    let kind = h.entry_type();
    let mode = Mode::from_bits_truncate(h.mode()? & 0o7777);
    let (uid, gid) = owner.0.unwrap_or((h.uid()? as u32, h.gid()? as u32));
    let is_dir = kind == T::Directory;
    match existing(dir, name)? {
        Some(true) if is_dir => {}
        Some(true) => return Err(refused("cannot replace a directory with a non-directory")),
        Some(false) if is_dir => {
            return Err(refused("cannot replace a non-directory with a directory"))
        }
        Some(false) => unlinkat(dir, name, UnlinkatFlags::NoRemoveDir)?,
        None if is_dir => mkdirat(dir, name, Mode::from_bits_truncate(0o700))?,
        None => {}
    }
    let set_meta = |fd: &OwnedFd| -> io::Result<()> {
        fchown(fd, Some(Uid::from_raw(uid)), Some(Gid::from_raw(gid)))?;
        fchmod(fd, mode)?;
        Ok(())
    };
    match kind {
        T::Directory => {
            let fd = crate::sys::open_dir_at(dir, name)?;
            set_meta(&fd)?;
        }
        T::Regular | T::Continuous | T::GNUSparse => {
            let flags = OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_NOFOLLOW;
            let fd = openat(
                dir,
                name,
                flags | OFlag::O_CLOEXEC,
                Mode::from_bits_truncate(0o600),
            )?;
            set_meta(&fd)?;
            let mut f = File::from(fd);
            io::copy(e, &mut f)?;
            let mtime = h.mtime().unwrap_or(0) as i64;
            let t = nix::sys::time::TimeSpec::new(mtime, 0);
            nix::sys::stat::futimens(&f, &t, &t)?;
        }
        T::Symlink => {
            let target = e
                .link_name_bytes()
                .ok_or_else(|| refused("a symlink without a target"))?;
            symlinkat(OsStr::from_bytes(&target), dir, name)?;
            chown_at(dir, name, uid, gid)?;
        }
        T::Link => {
            let target = e
                .link_name_bytes()
                .ok_or_else(|| refused("a link without a target"))?;
            let names = entry_names(&target, rename.as_ref())
                .ok_or_else(|| refused("a link target with '..'"))?;
            let (last, parents) = names.split_last().ok_or_else(|| refused("a link to '.'"))?;
            let missing = |e: io::Error| match e.raw_os_error() {
                Some(libc::ENOENT) => refused(&format!(
                    "a hard link to {}, which is neither an earlier entry nor in the container",
                    String::from_utf8_lossy(&target)
                )),
                _ => e,
            };
            let from = open_existing_parents(top, parents).map_err(missing)?;
            linkat(&from, last.as_os_str(), dir, name, AtFlags::empty())
                .map_err(|e| missing(e.into()))?;
        }
        T::Char | T::Block | T::Fifo => {
            let k = match kind {
                T::Char => SFlag::S_IFCHR,
                T::Block => SFlag::S_IFBLK,
                _ => SFlag::S_IFIFO,
            };
            let major = h.device_major()?.unwrap_or(0) as u64;
            let minor = h.device_minor()?.unwrap_or(0) as u64;
            mknodat(dir, name, k, mode, libc::makedev(major as _, minor as _))?;
            chown_at(dir, name, uid, gid)?;
        }
        _ => {} // pax and GNU headers are the tar reader's; others have no file
    }
    Ok(())
}

fn chown_at(dir: BorrowedFd<'_>, name: &OsStr, uid: u32, gid: u32) -> io::Result<()> {
    fchownat(
        dir,
        name,
        Some(Uid::from_raw(uid)),
        Some(Gid::from_raw(gid)),
        AtFlags::AT_SYMLINK_NOFOLLOW,
    )?;
    Ok(())
}

/// The existing directory `names` below `dir`, nothing followed.
fn open_existing_parents(dir: BorrowedFd<'_>, names: &[OsString]) -> io::Result<OwnedFd> {
    let mut cur = dir.try_clone_to_owned()?;
    for n in names {
        cur = openat(
            &cur,
            n.as_os_str(),
            DIR_PATH | OFlag::O_NOFOLLOW,
            Mode::empty(),
        )?;
    }
    Ok(cur)
}

/// A host path, resolved as the caller's own (its symlinks followed).
fn host_resolve(path: &str) -> io::Result<OwnedFd> {
    Ok(open(path, OFlag::O_PATH | OFlag::O_CLOEXEC, Mode::empty())?)
}

fn host_source(path: &str, follow: bool) -> Result<Source> {
    let p = split(path);
    let parent = open(p.dir.as_str(), DIR_PATH, Mode::empty())
        .map_err(io::Error::from)
        .map_err(at(path))?;
    Source::open(parent, &p, path)?.followed(follow, || host_resolve(path), path)
}

fn container_source(root: &Root<'_>, path: &str, follow: bool) -> Result<Source> {
    let shown = root.name(path);
    let p = split(path);
    let parent = root.resolve(&p.dir).map_err(at(&shown))?;
    Source::open(parent, &p, &shown)?.followed(follow, || root.resolve(path), &shown)
}

/// How a copy treats what it reads.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// `-a`: what is copied in is owned by the container's USER, when it
    /// has one (else, as without it, by the tar's owners).
    pub archive: bool,
    /// Follow a symlink named as the source (`-L`).
    pub follow: bool,
}

/// `cp CONTAINER:SRC DEST`: into the host's `dest` (owned by the caller,
/// as docker does).
pub fn copy_out(store: &Store, c: &ContainerMeta, src: &str, dest: &str, o: Options) -> Result<()> {
    let root = open_root(store, c)?;
    let s = container_source(&root, src, o.follow)?;
    let shown = root.name(src);
    let t = target(
        host_resolve,
        dest,
        dest,
        &s.name.to_string_lossy(),
        s.is_dir(),
        s.contents,
    )?;
    let owner = Owner(Some((
        nix::unistd::geteuid().as_raw(),
        nix::unistd::getegid().as_raw(),
    )));
    pipe_through(&s, &shown, |r| extract(&t, r, owner, dest))
}

/// `cp SRC CONTAINER:DEST`: the host's `src` into the container, owned as
/// [`owner_in`] says.
pub fn copy_in(store: &Store, c: &ContainerMeta, src: &str, dest: &str, o: Options) -> Result<()> {
    let s = host_source(src, o.follow)?;
    let root = open_root(store, c)?;
    let owner = owner_in(&root, c, o.archive)?;
    let shown = root.name(dest);
    let t = target(
        |p| root.resolve(p),
        dest,
        &shown,
        &s.name.to_string_lossy(),
        s.is_dir(),
        s.contents,
    )?;
    pipe_through(&s, src, |r| extract(&t, r, owner, &shown))
}

/// `cp CONTAINER:SRC -`: the tar of `src` (its owners as they are).
pub fn archive_out<W: Write>(
    store: &Store,
    c: &ContainerMeta,
    src: &str,
    w: W,
    o: Options,
) -> Result<W> {
    let root = open_root(store, c)?;
    let s = container_source(&root, src, o.follow)?;
    s.archive(w, &root.name(src))
}

/// `cp - CONTAINER:DEST`: the tar `r` extracted into the directory
/// `dest`, owned as [`copy_in`] owns.
pub fn extract_in<R: Read>(
    store: &Store,
    c: &ContainerMeta,
    r: R,
    dest: &str,
    archive: bool,
) -> Result<()> {
    let root = open_root(store, c)?;
    let shown = root.name(dest);
    let dir = root.resolve(dest).map_err(at(&shown))?;
    let st = nix::sys::stat::fstat(&dir)
        .map_err(io::Error::from)
        .map_err(at(&shown))?;
    if !SFlag::from_bits_truncate(st.st_mode).contains(SFlag::S_IFDIR) {
        return Err(CopyError::NotDir(shown));
    }
    let t = Target { dir, rename: None };
    extract(&t, r, owner_in(&root, c, archive)?, &shown)
}

/// Whose files a copy into the container makes, as docker's engine does
/// it: the tar's owners, unless `archive` and the container runs as a
/// USER (resolved in its own passwd and group files): then that user's.
fn owner_in(root: &Root<'_>, c: &ContainerMeta, archive: bool) -> Result<Owner> {
    let config = crate::image::runtime_config::runtime(&c.config);
    let spec = config.user().clone().unwrap_or_default();
    if !archive || spec.is_empty() {
        return Ok(Owner(None));
    }
    let user = |source| CopyError::User {
        id: root.id.clone(),
        source,
    };
    let db = |p: &str| crate::isolate::config::read_db(root.fd.as_fd(), p).map_err(user);
    let (passwd, group) = (db("/etc/passwd")?, db("/etc/group")?);
    let id = crate::isolate::config::resolve_user(&spec, &passwd, &group).map_err(user)?;
    Ok(Owner(Some((id.uid, id.gid))))
}

/// Stream the tar of `s` into `sink` through a pipe, written by a thread.
fn pipe_through(s: &Source, shown: &str, sink: impl FnOnce(File) -> Result<()>) -> Result<()> {
    let (r, w) = nix::unistd::pipe2(OFlag::O_CLOEXEC)
        .map_err(io::Error::from)
        .map_err(at(shown))?;
    let (r, w) = (File::from(r), File::from(w));
    std::thread::scope(|scope| {
        // on a stack made for the deepest tree a walk goes down
        let writer = std::thread::Builder::new()
            .stack_size(crate::layer::pack::WALK_STACK)
            .spawn_scoped(scope, move || s.archive(w, shown).map(drop))
            .map_err(at(shown))?;
        let read = sink(r);
        let wrote = writer.join().expect("the archive thread does not panic");
        match (read, wrote) {
            // the reader's error is the cause when the writer's is the
            // broken pipe it makes; else the writer's (a tar cut short
            // may read as whole)
            (Err(r), Err(CopyError::Io { source, .. }))
                if source.kind() == io::ErrorKind::BrokenPipe =>
            {
                Err(r)
            }
            (_, Err(w)) => Err(w),
            (r, Ok(())) => r,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_as_docker_reads_them() {
        assert_eq!(Location::parse("-"), Location::Stream);
        assert_eq!(
            Location::parse("web:/etc/passwd"),
            Location::Container {
                name: "web".into(),
                path: "/etc/passwd".into()
            }
        );
        assert_eq!(
            Location::parse("web:"),
            Location::Container {
                name: "web".into(),
                path: "/".into()
            }
        );
        assert_eq!(Location::parse("./a:b"), Location::Host("./a:b".into()));
        assert_eq!(Location::parse("/x:y"), Location::Host("/x:y".into()));
        assert_eq!(Location::parse("plain"), Location::Host("plain".into()));
    }

    #[test]
    fn paths_split_into_directory_and_name() {
        let p = split("/etc/passwd");
        assert_eq!((p.dir.as_str(), p.name.as_str()), ("/etc", "passwd"));
        let p = split("/etc/.");
        assert_eq!(
            (p.dir.as_str(), p.name.as_str(), p.contents),
            ("/", "etc", true)
        );
        let p = split("out/");
        assert_eq!(
            (p.dir.as_str(), p.name.as_str(), p.wants_dir),
            (".", "out", true)
        );
        let p = split("/");
        assert_eq!((p.dir.as_str(), p.name.as_str()), ("/", "."));
    }

    #[test]
    fn entry_names_are_renamed_and_dotdot_refused() {
        let r = Some(("a".to_string(), "b".to_string()));
        let n = entry_names(b"a/x/./y", r.as_ref()).unwrap();
        assert_eq!(n, vec![OsString::from("b"), "x".into(), "y".into()]);
        let r = Some((".".to_string(), ".".to_string()));
        assert_eq!(
            entry_names(b"./", r.as_ref()).unwrap(),
            Vec::<OsString>::new()
        );
        assert!(entry_names(b"a/../../etc", None).is_none());
        assert_eq!(entry_names(b"/abs/x", None).unwrap().len(), 2);
    }
}
