//! Mounting a container's union view: one overlayfs over the image's layer
//! stack, the container's init dir and its read-write upper dir.
//!
//! Options that keep `commit`'s diff honest: `index=off`,
//! `redirect_dir=off`, `metacopy=off` (with them, overlayfs would record
//! renames and metadata-only copy-ups in xattrs a tar cannot carry, and the
//! upper dir would no longer be the container's changes). The new mount API
//! (`fsopen`/`fsconfig` with one `lowerdir+` per layer, Linux ≥ 6.8) has no
//! limit on the number of layers; older kernels get the classic option
//! string, which fits about 40 layers in a page.

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// What to mount where.
#[derive(Debug, Clone)]
pub struct View {
    /// Read-only layers, top first (the container's init dir first of all).
    pub lower: Vec<PathBuf>,
    pub upper: PathBuf,
    pub work: PathBuf,
    pub target: PathBuf,
}

const FSOPEN_CLOEXEC: libc::c_uint = 1;
const FSCONFIG_SET_FLAG: libc::c_uint = 0;
const FSCONFIG_SET_STRING: libc::c_uint = 1;
const FSCONFIG_CMD_CREATE: libc::c_uint = 6;
const FSMOUNT_CLOEXEC: libc::c_uint = 1;
const MOVE_MOUNT_F_EMPTY_PATH: libc::c_uint = 4;

fn cstr(s: &[u8]) -> io::Result<CString> {
    CString::new(s)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL in a mount option"))
}

fn check(rc: libc::c_long) -> io::Result<libc::c_long> {
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(rc)
    }
}

pub(super) fn fsconfig_string(fs: &OwnedFd, key: &str, value: &[u8]) -> io::Result<()> {
    let k = cstr(key.as_bytes())?;
    let v = cstr(value)?;
    // SAFETY: fsconfig with valid fd and NUL-terminated strings that outlive the call.
    check(unsafe {
        libc::syscall(
            libc::SYS_fsconfig,
            fs.as_raw_fd(),
            FSCONFIG_SET_STRING,
            k.as_ptr(),
            v.as_ptr(),
            0,
        )
    })
    .map(drop)
    .map_err(|e| io::Error::new(e.kind(), format!("overlay option {key}: {e}")))
}

/// Set a flag option (one without a value) on an fs context.
fn fsconfig_flag(fs: &OwnedFd, key: &str) -> io::Result<()> {
    let k = cstr(key.as_bytes())?;
    // SAFETY: fsconfig with a valid fd and a NUL-terminated key that
    // outlives the call; a flag takes no value.
    check(unsafe {
        libc::syscall(
            libc::SYS_fsconfig,
            fs.as_raw_fd(),
            FSCONFIG_SET_FLAG,
            k.as_ptr(),
            std::ptr::null::<libc::c_void>(),
            0,
        )
    })
    .map(drop)
    .map_err(|e| io::Error::new(e.kind(), format!("overlay option {key}: {e}")))
}

/// In a rootless store, overlayfs keeps its whiteouts and opaque marks in
/// `user.overlay.*` xattrs (only the host's root may write `trusted.*`).
fn userxattr() -> bool {
    crate::userns::rootless()
}

/// Renamed directories are copied, never marked with a redirect that
/// commit could not read as a layer: `off`, which with `userxattr` the
/// kernel spells `nofollow` (it reads `off` as `follow` there and refuses).
fn redirect_dir() -> &'static str {
    if userxattr() {
        "nofollow"
    } else {
        "off"
    }
}

/// A new overlayfs context (`fsopen`), to configure with
/// [`fsconfig_string`] and mount with [`create_and_mount`].
pub(super) fn open_context() -> io::Result<OwnedFd> {
    let name = cstr(b"overlay")?;
    // SAFETY: fsopen with a valid NUL-terminated name; the result is an owned fd.
    let fs = check(unsafe { libc::syscall(libc::SYS_fsopen, name.as_ptr(), FSOPEN_CLOEXEC) })?;
    // SAFETY: fsopen returned a new fd we now own.
    Ok(unsafe { OwnedFd::from_raw_fd(fs as i32) })
}

/// Create the superblock of a configured fs context and make a detached
/// mount of it with the mount attributes `attrs` (`MOUNT_ATTR_*`).
pub(super) fn create_and_mount(fs: &OwnedFd, attrs: libc::c_uint) -> io::Result<OwnedFd> {
    // SAFETY: fsconfig(CMD_CREATE) on a valid fs context; no pointers.
    check(unsafe {
        libc::syscall(
            libc::SYS_fsconfig,
            fs.as_raw_fd(),
            FSCONFIG_CMD_CREATE,
            std::ptr::null::<libc::c_char>(),
            std::ptr::null::<libc::c_void>(),
            0,
        )
    })?;
    // SAFETY: fsmount of a created context; returns a new fd we own.
    let mnt =
        check(unsafe { libc::syscall(libc::SYS_fsmount, fs.as_raw_fd(), FSMOUNT_CLOEXEC, attrs) })?;
    // SAFETY: fsmount returned a new fd nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(mnt as i32) })
}

fn mount_new_api(v: &View) -> io::Result<()> {
    let fs = open_context()?;
    fsconfig_string(&fs, "source", b"cairn")?;
    for l in &v.lower {
        fsconfig_string(&fs, "lowerdir+", l.as_os_str().as_bytes())?;
    }
    if !v.upper.as_os_str().is_empty() {
        fsconfig_string(&fs, "upperdir", v.upper.as_os_str().as_bytes())?;
        fsconfig_string(&fs, "workdir", v.work.as_os_str().as_bytes())?;
    }
    for (k, val) in [
        ("index", "off"),
        ("redirect_dir", redirect_dir()),
        ("metacopy", "off"),
    ] {
        fsconfig_string(&fs, k, val.as_bytes())?;
    }
    if userxattr() {
        fsconfig_flag(&fs, "userxattr")?;
    }
    let mnt = create_and_mount(&fs, 0)?;
    let empty = cstr(b"")?;
    let target = cstr(v.target.as_os_str().as_bytes())?;
    // SAFETY: valid fds and NUL-terminated paths.
    check(unsafe {
        libc::syscall(
            libc::SYS_move_mount,
            mnt.as_raw_fd(),
            empty.as_ptr(),
            libc::AT_FDCWD,
            target.as_ptr(),
            MOVE_MOUNT_F_EMPTY_PATH,
        )
    })?;
    Ok(())
}

fn mount_classic(v: &View) -> io::Result<()> {
    let lower: Vec<String> = v.lower.iter().map(|p| p.display().to_string()).collect();
    let mut opts = if v.upper.as_os_str().is_empty() {
        format!(
            "lowerdir={},index=off,redirect_dir={},metacopy=off",
            lower.join(":"),
            redirect_dir()
        )
    } else {
        format!(
            "lowerdir={},upperdir={},workdir={},index=off,redirect_dir={},metacopy=off",
            lower.join(":"),
            v.upper.display(),
            v.work.display(),
            redirect_dir()
        )
    };
    if userxattr() {
        opts.push_str(",userxattr");
    }
    nix::mount::mount(
        Some("cairn"),
        &v.target,
        Some("overlay"),
        nix::mount::MsFlags::empty(),
        Some(opts.as_str()),
    )
    .map_err(|e| {
        io::Error::new(
            io::Error::from(e).kind(),
            format!("mount overlay ({} layers): {e}", v.lower.len()),
        )
    })
}

/// Mount the view.
pub fn mount(v: &View) -> io::Result<()> {
    match mount_new_api(v) {
        Ok(()) => Ok(()),
        // ENOSYS: no new mount API; EINVAL: no "lowerdir+" (before 6.8).
        Err(e) if matches!(e.raw_os_error(), Some(libc::ENOSYS) | Some(libc::EINVAL)) => {
            mount_classic(v)
        }
        Err(e) => Err(e),
    }
}

/// Mount a read-only view of `v.lower` only (no upper dir).
pub fn mount_readonly(v: &View) -> io::Result<()> {
    let ro = View {
        upper: PathBuf::new(),
        work: PathBuf::new(),
        ..v.clone()
    };
    mount(&ro)
}

/// Is something mounted at `path`? (Compared with its parent's device, and
/// by the mount table for bind mounts of the same file system.)
pub fn is_mounted(path: &Path) -> bool {
    let Ok(content) = std::fs::read_to_string("/proc/self/mountinfo") else {
        return false;
    };
    let want = path.as_os_str().as_bytes();
    content.lines().any(|l| {
        l.split(' ')
            .nth(4)
            .is_some_and(|mp| unescape(mp).as_slice() == want)
    })
}

fn unescape(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 3 < b.len() {
            // bytes, not a str slice: the three after a backslash need not
            // end on a char boundary
            let digits = std::str::from_utf8(&b[i + 1..i + 4]).unwrap_or("");
            if let Ok(v) = u8::from_str_radix(digits, 8) {
                out.push(v);
                i += 4;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

/// Unmount `path` (lazily, so a process still holding a file in it does
/// not keep the view from going away).
pub fn unmount(path: &Path) -> io::Result<()> {
    nix::mount::umount2(path, nix::mount::MntFlags::MNT_DETACH).map_err(io::Error::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mountinfo_escapes_are_undone() {
        assert_eq!(unescape("/plain"), b"/plain");
        assert_eq!(unescape(r"/a\040b\011c\012d\134e"), b"/a b\tc\nd\\e");
        assert_eq!(unescape(r"/end\040"), b"/end ");
        // not an escape: kept as written
        assert_eq!(unescape(r"/x\04"), br"/x\04");
        assert_eq!(unescape(r"/x\9zz"), br"/x\9zz");
        // multi-byte text after a backslash is kept whole
        assert_eq!(unescape("/x\\aé"), "/x\\aé".as_bytes());
        assert_eq!(unescape("/x\\éé"), "/x\\éé".as_bytes());
    }

    #[test]
    fn is_mounted_knows_the_root_and_not_a_plain_dir() {
        assert!(is_mounted(Path::new("/proc")));
        let d = crate::testutil::TempDir::new("overlay-mounted");
        assert!(!is_mounted(d.path()));
    }
}
