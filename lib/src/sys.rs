//! The few file-system calls nix does not wrap (extended attributes), kept
//! small and fd-relative. Every path given here is a single component below
//! a directory fd, so nothing is ever resolved through a symlink.

use std::ffi::{CStr, CString, OsStr};
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::os::unix::ffi::OsStrExt;

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

/// Read an xattr of a path without following a final symlink. `Ok(None)`
/// when it is not set.
pub fn lgetxattr(path: &std::path::Path, key: &str) -> io::Result<Option<Vec<u8>>> {
    let p = CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL in path"))?;
    let key = cstr(key)?;
    let mut buf = vec![0u8; 256];
    loop {
        // SAFETY: valid C strings; buf is writable for buf.len() bytes.
        let n = unsafe {
            libc::lgetxattr(p.as_ptr(), key.as_ptr(), buf.as_mut_ptr().cast(), buf.len())
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

/// The names of the xattrs of a path (not following a final symlink).
pub fn llistxattr(path: &std::path::Path) -> io::Result<Vec<String>> {
    let p = CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL in path"))?;
    let mut buf = vec![0u8; 1024];
    loop {
        // SAFETY: valid C string; buf writable for buf.len() bytes.
        let n = unsafe { libc::llistxattr(p.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
        if n >= 0 {
            buf.truncate(n as usize);
            break;
        }
        let err = io::Error::last_os_error();
        match err.raw_os_error() {
            Some(libc::ENOTSUP) => return Ok(Vec::new()),
            Some(libc::ERANGE) if buf.len() < 1 << 20 => buf.resize(buf.len() * 4, 0),
            _ => return Err(err),
        }
    }
    Ok(buf
        .split(|&b| b == 0)
        .filter(|s| !s.is_empty())
        .filter_map(|s| {
            CStr::from_bytes_with_nul(&[s, &[0]].concat())
                .ok()
                .map(|c| c.to_string_lossy().into_owned())
        })
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
