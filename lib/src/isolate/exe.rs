//! The runtime's own binary, out of a container's reach (CVE-2019-5736).
//!
//! A process that enters a running container (`exec`) runs cairn's code
//! inside the container's pid namespace for a moment before it executes
//! the user's command. Had it been started from the host's binary, a
//! process in the container could open `/proc/PID/exe` during that moment,
//! keep the fd, and write the host's binary through it once it is no
//! longer busy. Two defences, as runc has them:
//!
//! - the process is not dumpable (`PR_SET_DUMPABLE` 0, set by the caller
//!   before it joins any namespace), so `/proc/PID/{exe,fd,root,mem}` are
//!   refused to the container (that needs `CAP_SYS_PTRACE`);
//! - the tool re-executes itself from a sealed view of its binary
//!   ([`run_sealed`]) before it does anything else, so even a process that
//!   could reach `/proc/PID/exe` finds a file nothing can write, not the
//!   one on the host. As runc does, the view is first a read-only overlayfs
//!   mount of the binary's directory that is attached nowhere (made with
//!   `fsopen`/`fsmount`: no copy, and nobody can remount it writable), and
//!   where that cannot be made, a memfd copy sealed against writes, growth
//!   and shrinking (which costs a copy of the binary per run).

use std::ffi::{CString, OsString};
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd};
use std::os::unix::ffi::OsStringExt;

const SEALS: libc::c_int =
    libc::F_SEAL_SEAL | libc::F_SEAL_SHRINK | libc::F_SEAL_GROW | libc::F_SEAL_WRITE;

/// Whether `f` is a memfd carrying every seal in [`SEALS`].
fn is_sealed(f: &File) -> bool {
    // SAFETY: F_GET_SEALS on an open fd reads an int; a non-memfd gives EINVAL.
    let s = unsafe { libc::fcntl(f.as_raw_fd(), libc::F_GET_SEALS) };
    s >= 0 && s & SEALS == SEALS
}

/// Whether `f` lives on a read-only overlayfs mount (the zero-copy view).
fn is_readonly_overlay(f: &File) -> bool {
    const OVERLAYFS_SUPER_MAGIC: libc::c_long = 0x794c_7630;
    // SAFETY: statfs is plain data; zero is a valid value.
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: fstatfs writes the statfs we pass for an open fd.
    if unsafe { libc::fstatfs(f.as_raw_fd(), &mut st) } != 0 {
        return false;
    }
    if st.f_type as libc::c_long != OVERLAYFS_SUPER_MAGIC {
        return false;
    }
    // SAFETY: statvfs is plain data; zero is a valid value.
    let mut vfs: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: fstatvfs writes the statvfs we pass for an open fd.
    unsafe { libc::fstatvfs(f.as_raw_fd(), &mut vfs) == 0 && vfs.f_flag & libc::ST_RDONLY != 0 }
}

/// Whether this process runs from a sealed view of its binary.
pub fn running_sealed() -> bool {
    File::open("/proc/self/exe").is_ok_and(|f| is_sealed(&f) || is_readonly_overlay(&f))
}

/// An empty directory, the lower layer under the binary's directory in
/// the overlay view.
const EMPTY_LOWER: &str = "/run/cairn/empty";

/// `path` escaped for an overlayfs `lowerdir` list.
fn escape_lower(path: &std::path::Path) -> Vec<u8> {
    use std::os::unix::ffi::OsStrExt;
    let mut out = Vec::new();
    for &b in path.as_os_str().as_bytes() {
        if b == b'\\' || b == b':' {
            out.push(b'\\');
        }
        out.push(b);
    }
    out
}

/// The binary, seen through a read-only overlayfs mount of its directory
/// that is attached nowhere: writes fail with EROFS, and as the mount is in
/// no mount table, nothing can remount it writable. Two lower layers (the
/// binary's directory on top) make overlayfs lower-only, without an upper
/// layer to copy up into.
fn sealed_overlay() -> io::Result<File> {
    use super::fsmount;
    use nix::mount::MsFlags;
    let exe = std::fs::read_link("/proc/self/exe")?;
    let (Some(dir), Some(name)) = (exe.parent(), exe.file_name()) else {
        return Err(io::Error::other("the binary has no directory"));
    };
    // The second layer must overlap neither the binary's directory nor any
    // of its parents (overlayfs refuses that with ELOOP): an empty
    // directory of cairn's own under /run.
    let empty = std::path::Path::new(EMPTY_LOWER);
    if let Err(e) = std::fs::create_dir_all(empty) {
        return Err(io::Error::new(e.kind(), format!("{EMPTY_LOWER}: {e}")));
    }
    if !std::fs::symlink_metadata(empty)?.is_dir() || dir.starts_with(empty) {
        return Err(io::Error::other(format!("{EMPTY_LOWER} is not usable")));
    }
    let mut lower = escape_lower(dir);
    lower.push(b':');
    lower.extend(escape_lower(empty));
    let fs = fsmount::open("overlay")?;
    fsmount::set_bytes(&fs, "lowerdir", Some(&lower))?;
    let _ = fsmount::set(&fs, "xino", Some("off"));
    let ro = MsFlags::MS_RDONLY | MsFlags::MS_NOSUID | MsFlags::MS_NODEV;
    let mnt = fsmount::create(&fs, fsmount::attrs(ro))?;
    let fd = nix::fcntl::openat(
        &mnt,
        name,
        nix::fcntl::OFlag::O_RDONLY | nix::fcntl::OFlag::O_NOFOLLOW | nix::fcntl::OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )?;
    let f = File::from(fd);
    if !is_readonly_overlay(&f) {
        return Err(io::Error::other("the overlay view is not read-only"));
    }
    Ok(f)
}

/// A sealed memfd holding a copy of this process's binary.
fn sealed_copy() -> io::Result<File> {
    let name = CString::new("cairn").expect("no NUL");
    const MFD_EXEC: libc::c_uint = 0x10;
    let flags = libc::MFD_CLOEXEC | libc::MFD_ALLOW_SEALING;
    // SAFETY: memfd_create with a NUL-terminated name; the fd is owned below.
    let mut fd = unsafe { libc::memfd_create(name.as_ptr(), flags | MFD_EXEC) };
    if fd < 0 && io::Error::last_os_error().raw_os_error() == Some(libc::EINVAL) {
        // Kernels before 6.3 know no MFD_EXEC (memfds are executable there).
        // SAFETY: as above.
        fd = unsafe { libc::memfd_create(name.as_ptr(), flags) };
    }
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fd is a fresh descriptor nothing else owns.
    let mut mem = unsafe { File::from_raw_fd(fd) };
    let mut exe = File::open("/proc/self/exe")?;
    io::copy(&mut exe, &mut mem)?;
    // SAFETY: F_ADD_SEALS on our memfd with a constant seal set.
    if unsafe { libc::fcntl(mem.as_raw_fd(), libc::F_ADD_SEALS, SEALS) } < 0 {
        return Err(io::Error::last_os_error());
    }
    if !is_sealed(&mem) {
        return Err(io::Error::other("the seals did not take"));
    }
    Ok(mem)
}

/// Re-execute this program from a sealed in-memory copy of its binary,
/// with the same arguments and environment, unless it already runs from
/// one. Call it first thing in `main`, before any thread exists. Returns
/// only on failure (or when already sealed, with `Ok`).
pub fn run_sealed() -> io::Result<()> {
    if running_sealed() {
        return Ok(());
    }
    let mem = match sealed_overlay() {
        Ok(f) => f,
        Err(_) => sealed_copy()?,
    };
    let cstrings = |v: Vec<OsString>| -> io::Result<Vec<CString>> {
        v.into_iter()
            .map(|s| CString::new(s.into_vec()))
            .collect::<Result<_, _>>()
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL in an argument"))
    };
    let argv = cstrings(std::env::args_os().collect())?;
    let envp = cstrings(
        std::env::vars_os()
            .map(|(k, v)| {
                let mut kv = k;
                kv.push("=");
                kv.push(v);
                kv
            })
            .collect(),
    )?;
    let mut argp: Vec<*const libc::c_char> = argv.iter().map(|a| a.as_ptr()).collect();
    argp.push(std::ptr::null());
    let mut envpp: Vec<*const libc::c_char> = envp.iter().map(|e| e.as_ptr()).collect();
    envpp.push(std::ptr::null());
    let empty = CString::new("").expect("no NUL");
    // SAFETY: execveat of our memfd with NULL-terminated arrays of pointers
    // to NUL-terminated strings that live across the call.
    unsafe {
        libc::syscall(
            libc::SYS_execveat,
            mem.as_raw_fd(),
            empty.as_ptr(),
            argp.as_ptr(),
            envpp.as_ptr(),
            libc::AT_EMPTY_PATH,
        )
    };
    Err(io::Error::last_os_error())
}

/// Make this process non-dumpable: its `/proc/PID` entries that expose
/// memory, fds and the binary are then refused to anyone without
/// `CAP_SYS_PTRACE`. `execve` of an ordinary binary makes it dumpable again.
pub fn set_undumpable() -> io::Result<()> {
    // SAFETY: prctl(PR_SET_DUMPABLE, 0) takes no pointers.
    if unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_overlay_view_cannot_be_written() {
        let f = sealed_overlay().unwrap();
        assert!(is_readonly_overlay(&f));
        let exe = std::fs::metadata("/proc/self/exe").unwrap();
        assert_eq!(f.metadata().unwrap().len(), exe.len());
        let p = format!("/proc/self/fd/{}", f.as_raw_fd());
        let e = std::fs::OpenOptions::new()
            .write(true)
            .open(&p)
            .unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::EROFS), "{e}");
        assert!(!is_readonly_overlay(&File::open("/proc/self/exe").unwrap()));
    }

    #[test]
    fn a_sealed_copy_cannot_be_written_or_resized() {
        let mem = sealed_copy().unwrap();
        assert!(is_sealed(&mem));
        let exe = std::fs::metadata("/proc/self/exe").unwrap();
        assert_eq!(mem.metadata().unwrap().len(), exe.len());
        // Reopened through /proc, as an attacker holding the fd would.
        let p = format!("/proc/self/fd/{}", mem.as_raw_fd());
        let w = std::fs::OpenOptions::new().write(true).open(&p);
        if let Ok(mut w) = w {
            use std::io::Write;
            assert!(
                w.write_all(b"PWNED").is_err(),
                "a sealed memfd took a write"
            );
            assert!(w.set_len(0).is_err(), "a sealed memfd shrank");
        }
        assert!(!is_sealed(&File::open("/proc/self/exe").unwrap()));
    }
}
