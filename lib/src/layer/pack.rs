//! directory → tar: a deterministic layer tar writer.
//!
//! Headers are built explicitly from `lstat` (never
//! `HeaderMode::Deterministic`, which would destroy owners and modes):
//! numeric uid/gid and no user names, permission bits and set-id bits,
//! mtimes in whole seconds clamped to `SOURCE_DATE_EPOCH` when given,
//! device numbers, symlink targets, hard links as links to the first name
//! written, xattrs as `SCHILY.xattr.*` PAX records (overlayfs's own
//! `*.overlay.*` xattrs never leave the host). Long names use GNU records.
//! Whiteouts are empty regular files with mtime 0.
//!
//! A tree is read by fds, never by paths: each directory is opened relative
//! to its parent's fd, each entry relative to its directory's fd without
//! following it (`O_PATH|O_NOFOLLOW`; a regular file is then reopened for
//! reading through that handle, so no other kind of object is ever opened),
//! and everything an entry needs (lstat, xattrs, link target, contents) is
//! read from that one fd. A tree that changes while it is read (a running
//! container's) can make the walk fail with [`PackError::Changed`] or give
//! that tree's own files, never a file outside it: a symlink swapped in for
//! a directory is only ever read as a symlink.

use crate::sys;
use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::fs::{File, Metadata};
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileExt, FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use tar::{EntryType, Header};

#[derive(Debug, thiserror::Error)]
pub enum PackError {
    #[error("{0}: changed while being read; pause the container or retry")]
    Changed(PathBuf),
    #[error("{path}")]
    Io { path: PathBuf, source: io::Error },
    #[error("{0}: more than {MAX_DEPTH} directories deep; cairn does not walk a tree that deep")]
    TooDeep(PathBuf),
}

/// How many directories deep a walk of a tree goes at most: as deep as a
/// path within `PATH_MAX` (4096 bytes, one letter and a slash a level)
/// can reach. A container can nest directories without end (`mkdir d;
/// cd d` in a loop); a walk that recursed as deep as it made them ran out
/// of stack and aborted (`cairn diff` and `commit` at about 2000 levels).
pub const MAX_DEPTH: usize = 2048;

/// The stack of a thread that walks a tree: room for [`MAX_DEPTH`] levels
/// of a walk's recursion (a debug build's frames take some 4 KiB a level;
/// only what is used is ever touched).
pub const WALK_STACK: usize = 64 << 20;

/// An error when the directory `path`, `depth` levels below the top of a
/// walk, is deeper than [`MAX_DEPTH`].
pub fn check_depth(depth: usize, path: &Path) -> Result<(), PackError> {
    match depth > MAX_DEPTH {
        true => Err(PackError::TooDeep(path.to_path_buf())),
        false => Ok(()),
    }
}

impl PackError {
    /// An error opening `path` by its name in a listed directory: a name
    /// gone since the listing means the tree changed.
    pub fn opening(path: &Path, e: io::Error) -> PackError {
        if e.raw_os_error() == Some(libc::ENOENT) {
            return PackError::Changed(path.to_path_buf());
        }
        PackError::Io {
            path: path.to_path_buf(),
            source: e,
        }
    }

    /// An error writing `path`'s entry: a file that became shorter than
    /// its lstat said means the tree changed.
    pub fn writing(path: &Path, e: io::Error) -> PackError {
        if e.get_ref().is_some_and(|i| i.is::<Shrank>()) {
            return PackError::Changed(path.to_path_buf());
        }
        PackError::Io {
            path: path.to_path_buf(),
            source: e,
        }
    }
}

/// A regular file ended before the size its header says.
#[derive(Debug)]
struct Shrank;

impl std::fmt::Display for Shrank {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the file became shorter while being read")
    }
}

impl std::error::Error for Shrank {}

/// Exactly `size` bytes of a file from its start (positional reads, so
/// the file's offset does not matter); more than that is left out, fewer
/// is the error `Shrank`.
struct Exact<'a> {
    file: &'a File,
    at: u64,
    size: u64,
}

impl Read for Exact<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let want = buf
            .len()
            .min((self.size - self.at).try_into().unwrap_or(usize::MAX));
        if want == 0 {
            return Ok(0);
        }
        let n = self.file.read_at(&mut buf[..want], self.at)?;
        if n == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, Shrank));
        }
        self.at += n as u64;
        Ok(n)
    }
}

/// One object of a tree, opened relative to its directory's fd and never
/// through a symlink, with what its tar entry needs.
pub struct Node {
    /// Its lstat, from its own fd.
    pub meta: Metadata,
    /// All its xattrs, overlayfs's own included, sorted by name.
    pub xattrs: Vec<(String, Vec<u8>)>,
    /// A directory or a regular file: open for reading. Anything else (a
    /// symlink, device, fifo, socket): an `O_PATH` handle, never opened.
    file: File,
}

impl Node {
    /// The top directory of a walk: a path the caller trusts, its last
    /// component not followed.
    pub fn open_dir(path: &Path) -> io::Result<Node> {
        use nix::fcntl::OFlag;
        let fd = nix::fcntl::open(
            path,
            OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
            nix::sys::stat::Mode::empty(),
        )?;
        Node::readable(File::from(fd))
    }

    /// `name` in the directory `dir`. `listed_dir`: the directory listing
    /// says it is a directory, which saves a call; what is opened decides.
    /// `ENOENT` when the name is gone.
    pub fn open_at(dir: BorrowedFd<'_>, name: &OsStr, listed_dir: bool) -> io::Result<Node> {
        if listed_dir {
            match sys::open_dir_at(dir, name) {
                Ok(fd) => return Node::readable(File::from(fd)),
                // something else now: open it as whatever it is
                Err(e) if matches!(e.raw_os_error(), Some(libc::ENOTDIR | libc::ELOOP)) => {}
                Err(e) => return Err(e),
            }
        }
        Node::from_handle(File::from(sys::open_handle_at(dir, name)?))
    }

    /// The file an `O_PATH` handle stands for (a symlink's handle stands
    /// for the link itself).
    pub fn from_handle(handle: File) -> io::Result<Node> {
        let meta = handle.metadata()?;
        let ft = meta.file_type();
        let file = if ft.is_dir() {
            File::from(sys::open_handle_dir(handle.as_fd())?)
        } else if ft.is_file() {
            File::from(sys::reopen_for_reading(handle.as_fd())?)
        } else {
            let xattrs = sys::handle_xattrs(handle.as_fd())?;
            return Ok(Node {
                meta,
                xattrs,
                file: handle,
            });
        };
        let xattrs = sys::fxattrs(file.as_fd())?;
        Ok(Node { meta, xattrs, file })
    }

    fn readable(file: File) -> io::Result<Node> {
        Ok(Node {
            meta: file.metadata()?,
            xattrs: sys::fxattrs(file.as_fd())?,
            file,
        })
    }

    /// The fd: a directory's, to open its entries relative to it.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.file.as_fd()
    }

    /// The open file, for a regular file's contents.
    pub fn file(&self) -> &File {
        &self.file
    }

    /// The value of one xattr.
    pub fn xattr(&self, key: &str) -> Option<&[u8]> {
        self.xattrs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_slice())
    }

    /// The xattrs that belong in a layer (not overlayfs's own), sorted.
    pub fn layer_xattrs(&self) -> Vec<(String, Vec<u8>)> {
        self.xattrs
            .iter()
            .filter(|(k, _)| is_layer_xattr(k))
            .cloned()
            .collect()
    }

    /// A symlink's target.
    pub fn read_link(&self) -> io::Result<OsString> {
        sys::read_handle_link(self.file.as_fd())
    }

    /// The names in this directory, sorted, each with whether the listing
    /// says it is a directory.
    pub fn list(&self) -> io::Result<Vec<(OsString, bool)>> {
        // a duplicate of the fd, rewound: it shares the offset
        let fd = self.file.as_fd().try_clone_to_owned()?;
        nix::unistd::lseek(&fd, 0, nix::unistd::Whence::SeekSet)?;
        let mut dir = nix::dir::Dir::from_fd(fd)?;
        let mut names = Vec::new();
        for e in dir.iter() {
            let e = e?;
            let n = e.file_name().to_bytes();
            if n == b"." || n == b".." {
                continue;
            }
            names.push((
                OsStr::from_bytes(n).to_owned(),
                e.file_type() == Some(nix::dir::Type::Directory),
            ));
        }
        names.sort();
        Ok(names)
    }
}

/// Is this an xattr that belongs in a layer (not overlayfs's own)?
pub fn is_layer_xattr(name: &str) -> bool {
    !(name.starts_with("trusted.overlay.") || name.starts_with("user.overlay."))
}

/// How to write.
#[derive(Debug, Clone, Copy, Default)]
pub struct PackOptions {
    /// Clamp every mtime to this (SOURCE_DATE_EPOCH), as `tar --clamp-mtime`.
    pub clamp_mtime: Option<i64>,
}

/// Writes entries into a tar stream.
pub struct Packer<W: Write> {
    builder: tar::Builder<W>,
    links: HashMap<(u64, u64), String>,
    opts: PackOptions,
    entries: u64,
}

/// The xattrs of a path that belong in a layer (not overlayfs's own),
/// sorted by name. For trees the store owns; a tree that may change while
/// it is read is read by [`Node`].
pub fn layer_xattrs(path: &Path) -> io::Result<Vec<(String, Vec<u8>)>> {
    let mut out = Vec::new();
    for name in sys::llistxattr(path)? {
        if !is_layer_xattr(&name) {
            continue;
        }
        if let Some(v) = sys::lgetxattr(path, &name)? {
            out.push((name, v));
        }
    }
    out.sort();
    Ok(out)
}

impl<W: Write> Packer<W> {
    pub fn new(w: W, opts: PackOptions) -> Packer<W> {
        let mut builder = tar::Builder::new(w);
        builder.follow_symlinks(false);
        Packer {
            builder,
            links: HashMap::new(),
            opts,
            entries: 0,
        }
    }

    pub fn entries(&self) -> u64 {
        self.entries
    }

    fn mtime(&self, m: &Metadata) -> u64 {
        let t = m.mtime();
        let t = match self.opts.clamp_mtime {
            Some(c) if t > c => c,
            _ => t,
        };
        t.max(0) as u64
    }

    fn base_header(&self, kind: EntryType, m: &Metadata) -> Header {
        let mut h = Header::new_gnu();
        h.set_entry_type(kind);
        h.set_mode(m.mode() & 0o7777);
        h.set_uid(m.uid() as u64);
        h.set_gid(m.gid() as u64);
        h.set_mtime(self.mtime(m));
        h.set_size(0);
        h
    }

    fn pax_xattrs<'x>(
        &mut self,
        xattrs: impl Iterator<Item = &'x (String, Vec<u8>)>,
    ) -> io::Result<()> {
        let recs: Vec<(String, &[u8])> = xattrs
            .filter(|(k, _)| is_layer_xattr(k))
            .map(|(k, v)| (format!("SCHILY.xattr.{k}"), v.as_slice()))
            .collect();
        if recs.is_empty() {
            return Ok(());
        }
        self.builder
            .append_pax_extensions(recs.iter().map(|(k, v)| (k.as_str(), *v)))
    }

    /// Add a directory entry `name` (relative, no leading `/`) from its
    /// lstat and xattrs (overlayfs's own are left out).
    pub fn add_dir(
        &mut self,
        name: &str,
        meta: &Metadata,
        xattrs: &[(String, Vec<u8>)],
    ) -> io::Result<()> {
        self.pax_xattrs(xattrs.iter())?;
        self.entries += 1;
        let mut h = self.base_header(EntryType::Directory, meta);
        let dir_name = if name.ends_with('/') {
            name.to_string()
        } else {
            format!("{name}/")
        };
        self.builder.append_data(&mut h, dir_name, io::empty())
    }

    /// Add `node` under the tar name `name` (relative, no leading `/`;
    /// directories get a trailing `/`). A regular file is written with
    /// the size of its lstat: if it grew since, the rest is left out; if
    /// it shrank, the error is [`PackError::writing`]'s `Changed`.
    pub fn add(&mut self, name: &str, node: &Node) -> io::Result<()> {
        let m = &node.meta;
        let ft = m.file_type();
        if ft.is_dir() {
            return self.add_dir(name, m, &node.xattrs);
        }
        let kind = if ft.is_file() {
            EntryType::Regular
        } else if ft.is_symlink() {
            EntryType::Symlink
        } else if ft.is_char_device() {
            EntryType::Char
        } else if ft.is_block_device() {
            EntryType::Block
        } else if ft.is_fifo() {
            EntryType::Fifo
        } else {
            // sockets do not belong in a layer
            return Ok(());
        };
        self.pax_xattrs(node.xattrs.iter())?;
        self.entries += 1;
        if m.nlink() > 1 {
            let key = (m.dev(), m.ino());
            if let Some(first) = self.links.get(&key) {
                let mut h = self.base_header(EntryType::Link, m);
                let first = first.clone();
                return self.builder.append_link(&mut h, name, first);
            }
            self.links.insert(key, name.to_string());
        }
        let mut h = self.base_header(kind, m);
        match kind {
            EntryType::Regular => {
                h.set_size(m.len());
                let data = Exact {
                    file: node.file(),
                    at: 0,
                    size: m.len(),
                };
                self.builder.append_data(&mut h, name, data)
            }
            EntryType::Symlink => {
                let target = node.read_link()?;
                self.builder.append_link(&mut h, name, target)
            }
            EntryType::Fifo => self.builder.append_data(&mut h, name, io::empty()),
            _ => {
                h.set_device_major(libc::major(m.rdev()))?;
                h.set_device_minor(libc::minor(m.rdev()))?;
                self.builder.append_data(&mut h, name, io::empty())
            }
        }
    }

    /// An OCI whiteout for `dir/victim`: `dir/.wh.victim`.
    pub fn whiteout(&mut self, dir: &str, victim: &str) -> io::Result<()> {
        let name = if dir.is_empty() {
            format!("{}{victim}", super::WHITEOUT_PREFIX)
        } else {
            format!("{dir}/{}{victim}", super::WHITEOUT_PREFIX)
        };
        let mut h = Header::new_gnu();
        h.set_entry_type(EntryType::Regular);
        h.set_mode(0o600);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(0);
        h.set_size(0);
        self.entries += 1;
        self.builder.append_data(&mut h, name, io::empty())
    }

    /// Write the end-of-archive marker and return the writer.
    pub fn finish(self) -> io::Result<W> {
        self.builder.into_inner()
    }
}

/// Write the whole tree at `root` (sorted by name, `root` itself as `./`
/// not included) into `w`, reading it by fds.
pub fn pack_tree<W: Write>(root: &Path, w: W, opts: PackOptions) -> Result<W, PackError> {
    let top = Node::open_dir(root).map_err(|e| PackError::Io {
        path: root.to_path_buf(),
        source: e,
    })?;
    let mut p = Packer::new(w, opts);
    walk(root, &top, Path::new(""), &mut p)?;
    p.finish().map_err(|e| PackError::Io {
        path: root.to_path_buf(),
        source: e,
    })
}

fn walk<W: Write>(root: &Path, dir: &Node, rel: &Path, p: &mut Packer<W>) -> Result<(), PackError> {
    let names = dir.list().map_err(|e| PackError::Io {
        path: root.join(rel),
        source: e,
    })?;
    for (n, listed_dir) in names {
        let rel = rel.join(&n);
        let node = Node::open_at(dir.fd(), &n, listed_dir)
            .map_err(|e| PackError::opening(&root.join(&rel), e))?;
        p.add(&rel.to_string_lossy(), &node)
            .map_err(|e| PackError::writing(&root.join(&rel), e))?;
        if node.meta.is_dir() {
            check_depth(rel.components().count(), &root.join(&rel))?;
            walk(root, &node, &rel, p)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(dir: &Path, name: &str) -> Node {
        let top = Node::open_dir(dir).unwrap();
        Node::open_at(top.fd(), OsStr::new(name), false).unwrap()
    }

    #[test]
    fn a_file_that_shrinks_while_read_is_a_change_one_that_grows_is_cut() {
        let dir_guard = crate::testutil::TempDir::new("pack-shrink");
        let dir = dir_guard.path().to_path_buf();
        std::fs::write(dir.join("f"), b"0123456789").unwrap();
        let node = open(&dir, "f");
        std::fs::write(dir.join("f"), b"0123").unwrap();
        let mut p = Packer::new(Vec::new(), PackOptions::default());
        let e = p.add("f", &node).unwrap_err();
        let e = PackError::writing(&dir.join("f"), e);
        assert!(matches!(e, PackError::Changed(_)), "{e}");
        assert!(e
            .to_string()
            .ends_with("changed while being read; pause the container or retry"));

        let node = open(&dir, "f");
        std::fs::write(dir.join("f"), b"0123456789").unwrap();
        let mut p = Packer::new(Vec::new(), PackOptions::default());
        p.add("f", &node).unwrap();
        let tar = p.finish().unwrap();
        let mut a = tar::Archive::new(&tar[..]);
        let mut e = a.entries().unwrap().next().unwrap().unwrap();
        let mut data = Vec::new();
        e.read_to_end(&mut data).unwrap();
        assert_eq!(data, b"0123");
    }

    #[test]
    fn symlinks_and_fifos_are_written_never_followed_or_opened() {
        let dir_guard = crate::testutil::TempDir::new("pack-links");
        let dir = dir_guard.path().to_path_buf();
        let outside_guard = crate::testutil::TempDir::new("pack-outside");
        let outside = outside_guard.path().to_path_buf();
        std::fs::write(outside.join("secret"), b"host").unwrap();
        std::os::unix::fs::symlink(&outside, dir.join("s")).unwrap();
        nix::unistd::mkfifo(
            &dir.join("p"),
            nix::sys::stat::Mode::from_bits_truncate(0o600),
        )
        .unwrap();
        // a fifo opened for reading would block this test forever
        let tar = pack_tree(&dir, Vec::new(), PackOptions::default()).unwrap();
        let mut a = tar::Archive::new(&tar[..]);
        let got: Vec<(String, EntryType)> = a
            .entries()
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (
                    e.path().unwrap().display().to_string(),
                    e.header().entry_type(),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("p".to_string(), EntryType::Fifo),
                ("s".to_string(), EntryType::Symlink)
            ]
        );
    }
}

#[cfg(test)]
mod determinism {
    use super::*;
    use crate::testutil::TempDir;
    use std::fs;
    use std::os::unix::fs::PermissionsExt;

    struct Seen {
        path: String,
        kind: EntryType,
        uid: u64,
        gid: u64,
        mode: u32,
        mtime: u64,
        link: Option<String>,
        uname: Vec<u8>,
        pax: Vec<(String, Vec<u8>)>,
    }

    fn entries(tar: &[u8]) -> Vec<Seen> {
        let mut a = tar::Archive::new(tar);
        a.entries()
            .unwrap()
            .map(|e| {
                let mut e = e.unwrap();
                let h = e.header().clone();
                let pax = e
                    .pax_extensions()
                    .unwrap()
                    .into_iter()
                    .flatten()
                    .map(|p| {
                        let p = p.unwrap();
                        (p.key().unwrap().to_string(), p.value_bytes().to_vec())
                    })
                    .collect();
                Seen {
                    path: e.path().unwrap().display().to_string(),
                    kind: h.entry_type(),
                    uid: h.uid().unwrap(),
                    gid: h.gid().unwrap(),
                    mode: h.mode().unwrap(),
                    mtime: h.mtime().unwrap(),
                    link: e.link_name().unwrap().map(|l| l.display().to_string()),
                    uname: h.username_bytes().unwrap_or_default().to_vec(),
                    pax,
                }
            })
            .collect()
    }

    #[test]
    fn a_tree_is_written_sorted_with_its_own_numbers() {
        let d = TempDir::new("pack-order");
        let root = d.path();
        for dir in ["b", "a", "a/z", "a/c"] {
            fs::create_dir(root.join(dir)).unwrap();
        }
        fs::write(root.join("a/c/f"), b"x").unwrap();
        fs::write(root.join("B"), b"upper").unwrap();
        fs::write(root.join("a/z/setuid"), b"").unwrap();
        fs::set_permissions(root.join("a/z/setuid"), fs::Permissions::from_mode(0o4755)).unwrap();
        std::os::unix::fs::chown(root.join("b"), Some(1234), Some(5678)).unwrap();
        let tar = pack_tree(root, Vec::new(), PackOptions::default()).unwrap();
        let got = entries(&tar);
        let paths: Vec<&str> = got.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(
            paths,
            ["B", "a/", "a/c/", "a/c/f", "a/z/", "a/z/setuid", "b/"]
        );
        let b = got.iter().find(|e| e.path == "b/").unwrap();
        assert_eq!((b.uid, b.gid, b.kind), (1234, 5678, EntryType::Directory));
        assert!(got.iter().all(|e| e.uname.is_empty()), "no owner names");
        assert_eq!(got[5].mode, 0o4755);
        // the same tree twice: the same bytes
        assert_eq!(
            tar,
            pack_tree(root, Vec::new(), PackOptions::default()).unwrap()
        );
    }

    #[test]
    fn mtimes_clamp_to_source_date_epoch() {
        let d = TempDir::new("pack-clamp");
        fs::write(d.path().join("f"), b"x").unwrap();
        let now = fs::metadata(d.path().join("f")).unwrap().mtime() as u64;
        let clamp = |c| {
            let tar = pack_tree(d.path(), Vec::new(), PackOptions { clamp_mtime: c }).unwrap();
            entries(&tar)[0].mtime
        };
        assert_eq!(clamp(None), now);
        assert_eq!(clamp(Some(1000)), 1000);
        assert_eq!(
            clamp(Some(now as i64 + 10)),
            now,
            "a later epoch changes nothing"
        );
    }

    #[test]
    fn hard_links_point_at_the_first_name_written() {
        let d = TempDir::new("pack-links");
        fs::write(d.path().join("b"), b"data").unwrap();
        fs::hard_link(d.path().join("b"), d.path().join("a")).unwrap();
        fs::hard_link(d.path().join("b"), d.path().join("c")).unwrap();
        let tar = pack_tree(d.path(), Vec::new(), PackOptions::default()).unwrap();
        let got = entries(&tar);
        assert_eq!(got[0].kind, EntryType::Regular);
        for e in &got[1..] {
            assert_eq!(e.kind, EntryType::Link, "{}", e.path);
            assert_eq!(e.link.as_deref(), Some("a"));
        }
    }

    #[test]
    fn xattrs_go_in_pax_records_except_overlays_own() {
        let d = TempDir::new("pack-xattr");
        let f = d.path().join("f");
        fs::write(&f, b"x").unwrap();
        let set = |k: &str, v: &[u8]| {
            let p = std::ffi::CString::new(f.as_os_str().as_encoded_bytes()).unwrap();
            let k = std::ffi::CString::new(k).unwrap();
            // SAFETY: valid NUL-terminated path and name, and a buffer of v.len() bytes.
            unsafe { libc::lsetxattr(p.as_ptr(), k.as_ptr(), v.as_ptr().cast(), v.len(), 0) }
        };
        if set("user.cairn", b"v\0bin") != 0 || set("trusted.overlay.opaque", b"y") != 0 {
            eprintln!("no user/trusted xattrs on {}: skipped", d.path().display());
            return;
        }
        let tar = pack_tree(d.path(), Vec::new(), PackOptions::default()).unwrap();
        let got = entries(&tar);
        assert_eq!(got.len(), 1);
        assert_eq!(
            got[0].pax,
            vec![("SCHILY.xattr.user.cairn".to_string(), b"v\0bin".to_vec())]
        );
    }

    #[test]
    fn whiteouts_are_empty_files_at_time_zero() {
        let mut p = Packer::new(Vec::new(), PackOptions::default());
        p.whiteout("", "gone").unwrap();
        p.whiteout("etc/x", "passwd").unwrap();
        assert_eq!(p.entries(), 2);
        let got = entries(&p.finish().unwrap());
        let paths: Vec<&str> = got.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, [".wh.gone", "etc/x/.wh.passwd"]);
        for e in &got {
            assert_eq!(
                (e.kind, e.mode, e.mtime, e.uid),
                (EntryType::Regular, 0o600, 0, 0)
            );
        }
    }

    #[test]
    fn long_names_survive() {
        let d = TempDir::new("pack-long");
        let long = "n".repeat(200);
        fs::create_dir(d.path().join(&long)).unwrap();
        fs::write(d.path().join(&long).join(&long), b"x").unwrap();
        let tar = pack_tree(d.path(), Vec::new(), PackOptions::default()).unwrap();
        let got = entries(&tar);
        assert_eq!(got[0].path, format!("{long}/"));
        assert_eq!(got[1].path, format!("{long}/{long}"));
    }
}
