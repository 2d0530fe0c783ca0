//! The new mount API (Linux 5.2): a file system configured through an fd
//! (`fsopen`, `fsconfig`), mounted detached (`fsmount`) and attached on a
//! target's fd (`move_mount`). What it gives over mount(2): an fd on the
//! new mount itself, through which it is changed afterwards, so nothing
//! looks it up by path again. nix and libc do not wrap these calls yet.

use nix::mount::MsFlags;
use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

const FSOPEN_CLOEXEC: libc::c_uint = 1;
const FSCONFIG_SET_FLAG: libc::c_uint = 0;
const FSCONFIG_SET_STRING: libc::c_uint = 1;
const FSCONFIG_CMD_CREATE: libc::c_uint = 6;
const FSMOUNT_CLOEXEC: libc::c_uint = 1;
const OPEN_TREE_CLONE: libc::c_uint = 1;
const MOVE_MOUNT_F_EMPTY_PATH: libc::c_uint = 0x04;
const MOVE_MOUNT_T_EMPTY_PATH: libc::c_uint = 0x40;
const MOUNT_ATTR_RDONLY: libc::c_uint = 0x01;
const MOUNT_ATTR_NOSUID: libc::c_uint = 0x02;
const MOUNT_ATTR_NODEV: libc::c_uint = 0x04;
const MOUNT_ATTR_NOEXEC: libc::c_uint = 0x08;
const MOUNT_ATTR_NOATIME: libc::c_uint = 0x10;
const MOUNT_ATTR_STRICTATIME: libc::c_uint = 0x20;
const MOUNT_ATTR_NODIRATIME: libc::c_uint = 0x80;

fn cstring(s: impl AsRef<[u8]>) -> io::Result<CString> {
    CString::new(s.as_ref())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL in a mount option"))
}

/// A system call's result as an fd, or the error with what the file
/// system said about it (the context's log, "tmpfs: Bad value for
/// 'size'"), when it said something.
fn fd_or_error(rc: libc::c_long, ctx: Option<&OwnedFd>) -> io::Result<OwnedFd> {
    if rc < 0 {
        return Err(with_log(io::Error::last_os_error(), ctx));
    }
    // SAFETY: the call returned a new fd that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(rc as i32) })
}

fn with_log(e: io::Error, ctx: Option<&OwnedFd>) -> io::Error {
    let Some(ctx) = ctx else { return e };
    let mut buf = [0u8; 512];
    // SAFETY: read into a buffer of the length given.
    let n = unsafe { libc::read(ctx.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
    if n <= 0 {
        return e;
    }
    let said = String::from_utf8_lossy(&buf[..n as usize]);
    // each message starts with its kind: "e " error, "w " warning
    let said = said
        .trim()
        .trim_start_matches("e ")
        .trim_start_matches("w ");
    io::Error::new(e.kind(), format!("{e} ({said})"))
}

/// A new configuration context for a file system of type `fstype`.
pub(super) fn open(fstype: &str) -> io::Result<OwnedFd> {
    let t = cstring(fstype)?;
    // SAFETY: fsopen with a NUL-terminated name.
    let rc = unsafe { libc::syscall(libc::SYS_fsopen, t.as_ptr(), FSOPEN_CLOEXEC) };
    fd_or_error(rc, None)
}

/// Set the option `key` of the context `ctx`: to `value`, or as a flag
/// when there is none (mount(2)'s `key=value` and `key`).
pub(super) fn set(ctx: &OwnedFd, key: &str, value: Option<&str>) -> io::Result<()> {
    set_bytes(ctx, key, value.map(str::as_bytes))
}

/// [`set`] with a value of any bytes (a path).
pub(super) fn set_bytes(ctx: &OwnedFd, key: &str, value: Option<&[u8]>) -> io::Result<()> {
    let k = cstring(key)?;
    let v = value.map(cstring).transpose()?;
    let (cmd, vp) = match &v {
        Some(v) => (FSCONFIG_SET_STRING, v.as_ptr()),
        None => (FSCONFIG_SET_FLAG, std::ptr::null()),
    };
    // SAFETY: fsconfig on a valid fd with NUL-terminated strings (or a
    // null value for a flag).
    let rc = unsafe { libc::syscall(libc::SYS_fsconfig, ctx.as_raw_fd(), cmd, k.as_ptr(), vp, 0) };
    if rc < 0 {
        return Err(with_log(io::Error::last_os_error(), Some(ctx)));
    }
    Ok(())
}

/// Make the file system `ctx` describes and a detached mount of it with
/// the mount attributes `attrs` ([`attrs`]); returns the mount's fd.
pub(super) fn create(ctx: &OwnedFd, attrs: libc::c_uint) -> io::Result<OwnedFd> {
    let none: *const libc::c_char = std::ptr::null();
    // SAFETY: fsconfig's create command takes no key or value.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_fsconfig,
            ctx.as_raw_fd(),
            FSCONFIG_CMD_CREATE,
            none,
            none,
            0,
        )
    };
    if rc < 0 {
        return Err(with_log(io::Error::last_os_error(), Some(ctx)));
    }
    // SAFETY: fsmount on a context that has made its file system.
    let rc = unsafe { libc::syscall(libc::SYS_fsmount, ctx.as_raw_fd(), FSMOUNT_CLOEXEC, attrs) };
    fd_or_error(rc, Some(ctx))
}

/// A detached copy of the mount at the fd `src` (`open_tree` with
/// `OPEN_TREE_CLONE`), with its submounts when `recursive`: a bind mount
/// not attached anywhere yet.
pub(super) fn clone_tree(src: &OwnedFd, recursive: bool) -> io::Result<OwnedFd> {
    let mut flags = OPEN_TREE_CLONE | libc::O_CLOEXEC as libc::c_uint;
    flags |= libc::AT_EMPTY_PATH as libc::c_uint;
    if recursive {
        flags |= libc::AT_RECURSIVE as libc::c_uint;
    }
    // SAFETY: open_tree on a valid fd with an empty NUL-terminated path.
    let rc = unsafe { libc::syscall(libc::SYS_open_tree, src.as_raw_fd(), c"".as_ptr(), flags) };
    fd_or_error(rc, None)
}

/// Attach the detached mount `mnt` on what the fd `target` holds.
pub(super) fn move_to(mnt: &OwnedFd, target: &OwnedFd) -> io::Result<()> {
    // SAFETY: move_mount between two valid fds, both paths empty.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_move_mount,
            mnt.as_raw_fd(),
            c"".as_ptr(),
            target.as_raw_fd(),
            c"".as_ptr(),
            MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH,
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// The mount attributes mount(2) would give a new mount for `flags`:
/// read-only, nosuid, nodev, noexec, nodiratime, and one atime mode
/// (relatime unless noatime or strictatime is asked, as mount(2)).
pub(super) fn attrs(flags: MsFlags) -> libc::c_uint {
    let pairs = [
        (MsFlags::MS_RDONLY, MOUNT_ATTR_RDONLY),
        (MsFlags::MS_NOSUID, MOUNT_ATTR_NOSUID),
        (MsFlags::MS_NODEV, MOUNT_ATTR_NODEV),
        (MsFlags::MS_NOEXEC, MOUNT_ATTR_NOEXEC),
        (MsFlags::MS_NODIRATIME, MOUNT_ATTR_NODIRATIME),
    ];
    let mut a = pairs
        .into_iter()
        .filter(|(f, _)| flags.contains(*f))
        .fold(0, |a, (_, attr)| a | attr);
    if flags.contains(MsFlags::MS_NOATIME) {
        a |= MOUNT_ATTR_NOATIME;
    } else if flags.contains(MsFlags::MS_STRICTATIME) {
        a |= MOUNT_ATTR_STRICTATIME;
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_become_the_attributes_mount_2_would_give() {
        let f = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
        assert_eq!(attrs(f), 0x0e);
        assert_eq!(attrs(MsFlags::MS_RDONLY | MsFlags::MS_STRICTATIME), 0x21);
        // noatime wins over strictatime, as in mount(2)
        let both = MsFlags::MS_NOATIME | MsFlags::MS_STRICTATIME;
        assert_eq!(attrs(both), MOUNT_ATTR_NOATIME);
        // relatime is the default: no bit
        assert_eq!(attrs(MsFlags::MS_RELATIME), 0);
    }
}
