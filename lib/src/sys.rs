//! The few file-system calls nix does not wrap (extended attributes), and
//! handles on objects opened relative to a directory fd, kept small. A name
//! given here is a single component below a directory fd, so nothing is
//! resolved through a symlink; only `lgetxattr` and `llistxattr` take whole
//! paths, for trees the store owns and nothing else changes, and
//! [`open_in_root`] a path resolved with a directory as its `/`.

use nix::fcntl::{openat, OFlag};
use nix::sys::stat::Mode;
use std::ffi::{CStr, CString, OsStr, OsString};
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};

fn proc_path(dir: BorrowedFd<'_>, name: &OsStr) -> io::Result<CString> {
    let mut p = format!("/proc/self/fd/{}/", dir.as_raw_fd()).into_bytes();
    p.extend_from_slice(name.as_bytes());
    CString::new(p).map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL in name"))
}

fn cstr(s: &str) -> io::Result<CString> {
    CString::new(s).map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL in xattr name"))
}

/// Set an xattr on `name` in `dir` without following `name` if it is a
/// symlink (`lsetxattr` through the directory's `/proc/self/fd` entry).
pub fn lsetxattr_at(dir: BorrowedFd<'_>, name: &OsStr, key: &str, value: &[u8]) -> io::Result<()> {
    let path = proc_path(dir, name)?;
    let key = cstr(key)?;
    // SAFETY: both strings are NUL-terminated and live across the call; the
    // value pointer and length describe a valid slice.
    let rc = unsafe {
        libc::lsetxattr(
            path.as_ptr(),
            key.as_ptr(),
            value.as_ptr().cast(),
            value.len(),
            0,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Set an xattr on an open file.
pub fn fsetxattr<F: AsFd>(fd: F, key: &str, value: &[u8]) -> io::Result<()> {
    let key = cstr(key)?;
    // SAFETY: valid fd, NUL-terminated key, valid slice.
    let rc = unsafe {
        libc::fsetxattr(
            fd.as_fd().as_raw_fd(),
            key.as_ptr(),
            value.as_ptr().cast(),
            value.len(),
            0,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// What an xattr call reads.
enum On<'a> {
    /// A path whose final symlink is not followed (`l*xattr`).
    Link(&'a CStr),
    /// A path followed to its end (`*xattr`): `/proc/self/fd/N` of an
    /// `O_PATH` handle, which ends at the handle's object, never beyond it.
    Follow(&'a CStr),
    /// An open file or directory (`f*xattr`).
    Fd(BorrowedFd<'a>),
}

fn path_cstr(path: &std::path::Path) -> io::Result<CString> {
    CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL in path"))
}

/// The value of `key`, `None` when it is not set (or xattrs are not
/// supported there).
fn get_on(on: &On<'_>, key: &CStr) -> io::Result<Option<Vec<u8>>> {
    let mut buf = vec![0u8; 256];
    loop {
        let (ptr, len) = (buf.as_mut_ptr().cast(), buf.len());
        // SAFETY: valid NUL-terminated strings and fd; buf is writable for
        // len bytes.
        let n = unsafe {
            match on {
                On::Link(p) => libc::lgetxattr(p.as_ptr(), key.as_ptr(), ptr, len),
                On::Follow(p) => libc::getxattr(p.as_ptr(), key.as_ptr(), ptr, len),
                On::Fd(fd) => libc::fgetxattr(fd.as_raw_fd(), key.as_ptr(), ptr, len),
            }
        };
        if n >= 0 {
            buf.truncate(n as usize);
            return Ok(Some(buf));
        }
        let err = io::Error::last_os_error();
        match err.raw_os_error() {
            Some(libc::ENODATA) | Some(libc::ENOTSUP) => return Ok(None),
            Some(libc::ERANGE) if buf.len() < 1 << 16 => buf.resize(buf.len() * 4, 0),
            _ => return Err(err),
        }
    }
}

/// The names of the xattrs, as the kernel lists them (NUL-terminated).
fn list_on(on: &On<'_>) -> io::Result<Vec<u8>> {
    let mut buf = vec![0u8; 1024];
    loop {
        let (ptr, len) = (buf.as_mut_ptr().cast(), buf.len());
        // SAFETY: valid NUL-terminated string or fd; buf is writable for
        // len bytes.
        let n = unsafe {
            match on {
                On::Link(p) => libc::llistxattr(p.as_ptr(), ptr, len),
                On::Follow(p) => libc::listxattr(p.as_ptr(), ptr, len),
                On::Fd(fd) => libc::flistxattr(fd.as_raw_fd(), ptr, len),
            }
        };
        if n >= 0 {
            buf.truncate(n as usize);
            return Ok(buf);
        }
        let err = io::Error::last_os_error();
        match err.raw_os_error() {
            Some(libc::ENOTSUP) => return Ok(Vec::new()),
            Some(libc::ERANGE) if buf.len() < 1 << 20 => buf.resize(buf.len() * 4, 0),
            _ => return Err(err),
        }
    }
}

/// Every xattr with its value, sorted by name. One removed between the
/// listing and the read is left out.
fn all_on(on: &On<'_>) -> io::Result<Vec<(String, Vec<u8>)>> {
    let names = list_on(on)?;
    let mut out = Vec::new();
    for name in names.split(|&b| b == 0).filter(|s| !s.is_empty()) {
        let key = CString::new(name).expect("split at NUL");
        if let Some(v) = get_on(on, &key)? {
            out.push((String::from_utf8_lossy(name).into_owned(), v));
        }
    }
    out.sort();
    Ok(out)
}

/// Read an xattr of a path without following a final symlink. `Ok(None)`
/// when it is not set.
pub fn lgetxattr(path: &std::path::Path, key: &str) -> io::Result<Option<Vec<u8>>> {
    get_on(&On::Link(&path_cstr(path)?), &cstr(key)?)
}

/// The names of the xattrs of a path (not following a final symlink).
pub fn llistxattr(path: &std::path::Path) -> io::Result<Vec<String>> {
    Ok(list_on(&On::Link(&path_cstr(path)?))?
        .split(|&b| b == 0)
        .filter(|s| !s.is_empty())
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .collect())
}

/// Open again, with `flags`, the file an fd (an `O_PATH` one, say) refers
/// to, through its `/proc/self/fd` entry: the same inode, whatever has
/// since been renamed or replaced along the path it was found by.
pub fn reopen<F: AsFd>(fd: F, flags: nix::fcntl::OFlag) -> io::Result<std::os::fd::OwnedFd> {
    let p = format!("/proc/self/fd/{}", fd.as_fd().as_raw_fd());
    nix::fcntl::open(
        p.as_str(),
        flags | nix::fcntl::OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )
    .map_err(io::Error::from)
}

/// The path the kernel holds for an open fd (its `/proc/self/fd` link).
pub fn fd_path<F: AsFd>(fd: F) -> io::Result<std::path::PathBuf> {
    std::fs::read_link(format!("/proc/self/fd/{}", fd.as_fd().as_raw_fd()))
}

/// Every xattr of an open file or directory (`f*xattr`), sorted by name.
pub fn fxattrs(fd: BorrowedFd<'_>) -> io::Result<Vec<(String, Vec<u8>)>> {
    all_on(&On::Fd(fd))
}

/// Every xattr of the object an `O_PATH` handle holds (a symlink itself,
/// a device, a fifo), sorted by name: read through `/proc/self/fd/N`,
/// which resolves to that object and never follows it further.
pub fn handle_xattrs(handle: BorrowedFd<'_>) -> io::Result<Vec<(String, Vec<u8>)>> {
    let p = CString::new(format!("/proc/self/fd/{}", handle.as_raw_fd())).expect("no NUL");
    all_on(&On::Follow(&p))
}

/// An `O_PATH` handle on `name` in `dir`: the object itself, a symlink
/// not followed, nothing opened for I/O (a device or fifo never sees an
/// `open`).
pub fn open_handle_at(dir: BorrowedFd<'_>, name: &OsStr) -> io::Result<OwnedFd> {
    Ok(openat(
        dir,
        name,
        OFlag::O_PATH | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::empty(),
    )?)
}

/// The directory `name` in `dir`, open for reading; `ENOTDIR` or `ELOOP`
/// when it is anything else, a symlink included.
pub fn open_dir_at(dir: BorrowedFd<'_>, name: &OsStr) -> io::Result<OwnedFd> {
    Ok(openat(
        dir,
        name,
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::empty(),
    )?)
}

/// The directory an `O_PATH` handle holds, open for reading.
pub fn open_handle_dir(handle: BorrowedFd<'_>) -> io::Result<OwnedFd> {
    Ok(openat(
        handle,
        ".",
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )?)
}

/// The object of an `O_PATH` handle opened for reading, through
/// `/proc/self/fd/N`: the same inode, whatever its name is now. Only for
/// an object the caller knows to be a regular file (opening a device
/// node can have effects of its own).
pub fn reopen_for_reading(handle: BorrowedFd<'_>) -> io::Result<OwnedFd> {
    reopen(handle, OFlag::O_RDONLY | OFlag::O_NOCTTY)
}

/// The target of the symlink an `O_PATH|O_NOFOLLOW` handle holds.
pub fn read_handle_link(handle: BorrowedFd<'_>) -> io::Result<OsString> {
    let mut buf = vec![0u8; 4096];
    loop {
        // SAFETY: valid fd and NUL-terminated empty path; buf is writable
        // for buf.len() bytes.
        let n = unsafe {
            libc::readlinkat(
                handle.as_raw_fd(),
                c"".as_ptr(),
                buf.as_mut_ptr().cast(),
                buf.len(),
            )
        };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        let n = n as usize;
        if n < buf.len() {
            buf.truncate(n);
            return Ok(OsString::from_vec(buf));
        }
        buf.resize(buf.len() * 2, 0);
    }
}

/// An `O_PATH` handle on `path` resolved with `root` as `/`
/// (`openat2(RESOLVE_IN_ROOT)`): a symlink on the way, absolute or full
/// of `..`, is resolved inside `root` and never leaves it, as it would
/// inside a container whose root `root` is. Magic links (/proc) are not
/// followed.
pub fn open_in_root(root: BorrowedFd<'_>, path: &str) -> nix::Result<OwnedFd> {
    use nix::fcntl::{openat2, OpenHow, ResolveFlag};
    let how = OpenHow::new()
        .flags(OFlag::O_PATH | OFlag::O_CLOEXEC)
        .resolve(ResolveFlag::RESOLVE_IN_ROOT | ResolveFlag::RESOLVE_NO_MAGICLINKS);
    openat2(root, path, how)
}

/// The local zone's offset from UTC, in seconds east, at `secs` since the
/// epoch: as `TZ` says (a name under /usr/share/zoneinfo, or a POSIX rule),
/// else /etc/localtime; 0 when libc cannot tell.
pub fn local_offset(secs: i64) -> i32 {
    let t: libc::time_t = secs;
    // SAFETY: `tm` is plain data, all zeros a valid value of it.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    // SAFETY: both pointers are to live locals of the types localtime_r
    // takes; it writes only `tm`.
    let r = unsafe { libc::localtime_r(&t, &mut tm) };
    match r.is_null() {
        true => 0,
        false => i32::try_from(tm.tm_gmtoff).unwrap_or(0),
    }
}
