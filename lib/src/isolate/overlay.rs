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

use std::io;
use std::os::fd::OwnedFd;
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

/// Set `key` of an overlayfs context to `value` (a path's bytes, say).
fn set(fs: &OwnedFd, key: &str, value: Option<&[u8]>) -> io::Result<()> {
    super::fsmount::set_bytes(fs, key, value)
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

fn mount_new_api(v: &View) -> io::Result<()> {
    use super::fsmount;
    let fs = fsmount::open("overlay")?;
    set(&fs, "source", Some(b"cairn"))?;
    for l in &v.lower {
        set(&fs, "lowerdir+", Some(l.as_os_str().as_bytes()))?;
    }
    if !v.upper.as_os_str().is_empty() {
        set(&fs, "upperdir", Some(v.upper.as_os_str().as_bytes()))?;
        set(&fs, "workdir", Some(v.work.as_os_str().as_bytes()))?;
    }
    for (k, val) in [
        ("index", "off"),
        ("redirect_dir", redirect_dir()),
        ("metacopy", "off"),
    ] {
        set(&fs, k, Some(val.as_bytes()))?;
    }
    if userxattr() {
        set(&fs, "userxattr", None)?;
    }
    let mnt = fsmount::create(&fs, 0)?;
    // the target is the store's own directory, looked up on the host
    let target = std::fs::File::open(&v.target)?;
    fsmount::move_to(&mnt, &target.into())
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
