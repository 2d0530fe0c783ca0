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
//! - the tool re-executes itself from a sealed in-memory copy of its
//!   binary ([`run_sealed`]) before it does anything else, so even a
//!   process that could reach `/proc/PID/exe` finds a memfd that can never
//!   be written, grown or shrunk, not the file on the host.

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

/// Whether this process runs from a sealed copy of its binary.
pub fn running_sealed() -> bool {
    File::open("/proc/self/exe").is_ok_and(|f| is_sealed(&f))
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
    let mem = sealed_copy()?;
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
