//! A minimal init for pid 1 (`--init`, what docker's docker-init, tini,
//! does): it starts the container's command as its child, passes every
//! signal it gets on to it, reaps every process that ends in the
//! container (orphans are re-parented to pid 1), and exits with the
//! command's status (128+N when a signal N killed it) once the command
//! has ended.
//!
//! It is not a binary bound into the container: the process that set the
//! container up forks here instead of executing the command itself, and
//! stays as pid 1. That needs no loader or libc in the image (docker binds
//! a static tini; cairn's binaries link glibc dynamically). A process of
//! the runtime that lives in the container is what CVE-2019-5736 goes
//! after, so two defences hold here: it is not dumpable (`/proc/1/exe` is
//! refused to a container without `CAP_SYS_PTRACE`), and `cairn-isolate`
//! runs from a sealed view of its binary ([`super::exe`]), so a container
//! with that capability finds a file nothing can write, never the host's
//! (an O_PATH fd of it handed to another container stays useless after
//! the init is gone).

use nix::sys::signal::{kill, sigprocmask, SigSet, SigmaskHow, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::{fork, ForkResult, Pid};
use std::convert::Infallible;

/// The annotation of a container's spec that asks for the init.
pub const ANNOTATION: &str = "org.cairn.init";

/// Become the init of the container: fork, run `exec` in the child (it
/// executes the command, or returns why it could not, with the standard
/// streams and every fd the caller set up), and in this process, once the
/// fds from 3 up are closed, forward signals and reap until the child is
/// gone; then exit with its status. Returns only when the fork fails
/// (`failed` says how).
pub fn run<E>(
    exec: impl FnOnce() -> Result<Infallible, E>,
    failed: impl Fn(&'static str, nix::Error) -> E,
) -> Result<Infallible, E> {
    let all = SigSet::all();
    sigprocmask(SigmaskHow::SIG_SETMASK, Some(&all), None)
        .map_err(|e| failed("blocking signals", e))?;
    // Named before the fork: the command may look at pid 1 at once (the
    // child's exec gives it its own name).
    let _ = nix::sys::prctl::set_name(c"cairn-init");
    // SAFETY: the process that sets up a container has a single thread.
    match unsafe { fork() }.map_err(|e| failed("fork of the init", e))? {
        ForkResult::Child => {
            sigprocmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::empty()), None)
                .map_err(|e| failed("unblocking signals", e))?;
            exec()
        }
        ForkResult::Parent { child } => {
            // The pipes that report the command's execution to the one
            // that started the container are the child's alone.
            close_from(3);
            let code = supervise(child, &all);
            // SAFETY: _exit ends pid 1 (and so the container) at once.
            unsafe { libc::_exit(code) }
        }
    }
}

/// Forward signals to `child` and reap every process until `child`
/// ends; its exit status.
fn supervise(child: Pid, all: &SigSet) -> i32 {
    loop {
        if let Some(code) = reap(child) {
            return code;
        }
        match all.wait() {
            Ok(Signal::SIGCHLD) | Err(_) => {}
            Ok(sig) => {
                let _ = kill(child, sig);
            }
        }
    }
}

/// Reap every process that has ended; `child`'s status if it was one.
fn reap(child: Pid) -> Option<i32> {
    let mut status = None;
    loop {
        match waitpid(Pid::from_raw(-1), Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::StillAlive) | Err(_) => return status,
            Ok(st) if st.pid() == Some(child) => {
                status = super::supervise::exit_code(st).or(status);
            }
            Ok(_) => {}
        }
    }
}

fn close_from(first: u32) {
    // SAFETY: close_range closes descriptors this process owns and no
    // Rust object here holds any longer (the caller leaves it for good).
    unsafe { libc::syscall(libc::SYS_close_range, first, u32::MAX, 0) };
}
