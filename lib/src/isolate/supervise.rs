//! Supervising a container's process: waiting for it while passing the
//! signals sent to us on to it, and the detached supervisor of `-d`.
//!
//! The signals we forward are blocked in the calling thread
//! ([`Signals::block`]) before any thread starts, so every thread
//! inherits the mask and they are taken only by [`Signals::wait_for`],
//! synchronously: no handler runs in the middle of anything.

use super::attach::{write_frame, Hub, Input, EXIT, STDERR, STDOUT};
use super::tty::Attached;
use crate::logfile;
use nix::sys::signal::{SigSet, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::time::{Duration, Instant};

/// The signals passed on to the supervised process. SIGWINCH is not
/// passed on: it resizes the process's pty, if it has one.
pub const FORWARDED: [Signal; 7] = [
    Signal::SIGINT,
    Signal::SIGTERM,
    Signal::SIGHUP,
    Signal::SIGQUIT,
    Signal::SIGUSR1,
    Signal::SIGUSR2,
    Signal::SIGWINCH,
];

/// The exit status of a wait: the code, or 128+N for a signal.
pub fn exit_code(status: WaitStatus) -> Option<i32> {
    match status {
        WaitStatus::Exited(_, code) => Some(code),
        WaitStatus::Signaled(_, sig, _) => Some(128 + sig as i32),
        _ => None,
    }
}

/// Parse `SIGTERM`, `TERM`, `15`.
pub fn parse_signal(s: &str) -> Option<Signal> {
    if let Ok(n) = s.parse::<i32>() {
        return Signal::try_from(n).ok();
    }
    let up = s.to_ascii_uppercase();
    let name = if up.starts_with("SIG") {
        up
    } else {
        format!("SIG{up}")
    };
    name.parse().ok()
}

/// The forwarded signals and SIGCHLD, blocked in this thread.
pub struct Signals(SigSet);

impl Signals {
    /// Block the forwarded signals and SIGCHLD in the calling thread.
    /// Call it before starting any thread, so that all inherit the mask.
    pub fn block() -> Signals {
        let mut set = SigSet::empty();
        for s in FORWARDED {
            set.add(s);
        }
        set.add(Signal::SIGCHLD);
        let _ = set.thread_block();
        Signals(set)
    }

    /// Wait for our child `waited` to end, passing the forwarded signals on
    /// to `target` (the same process, or the one `waited` waits for) and
    /// terminal resizes on to `term`. Returns its exit status.
    pub fn wait_for(&self, waited: Pid, target: Pid, term: Option<&Attached>) -> nix::Result<i32> {
        loop {
            match waitpid(waited, Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::StillAlive) => {}
                Ok(st) => {
                    if let Some(code) = exit_code(st) {
                        return Ok(code);
                    }
                }
                Err(nix::errno::Errno::EINTR) => continue,
                Err(e) => return Err(e),
            }
            match self.0.wait() {
                Ok(Signal::SIGCHLD) | Err(_) => {}
                Ok(Signal::SIGWINCH) => {
                    if let Some(t) = term {
                        t.resize();
                    }
                }
                Ok(sig) => {
                    let _ = nix::sys::signal::kill(target, sig);
                }
            }
        }
    }
}

impl Signals {
    /// A forwarded signal (SIGWINCH too) taken within `timeout`, if one
    /// came (SIGCHLD is taken and dropped).
    pub fn next(&self, timeout: Duration) -> Option<Signal> {
        let ts = libc::timespec {
            tv_sec: timeout.as_secs() as libc::time_t,
            tv_nsec: timeout.subsec_nanos() as libc::c_long,
        };
        // SAFETY: sigtimedwait reads the set and the timeout, both valid
        // for the call; no siginfo is asked for.
        let n = unsafe { libc::sigtimedwait(self.0.as_ref(), std::ptr::null_mut(), &ts) };
        match Signal::try_from(n).ok()? {
            Signal::SIGCHLD => None,
            sig => Some(sig),
        }
    }
}

/// The number of threads of this process, from /proc/self/status.
pub fn thread_count() -> io::Result<usize> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("Threads:"))
        .and_then(|n| n.trim().parse().ok())
        .ok_or_else(|| io::Error::other("/proc/self/status has no Threads line"))
}

/// `fork`, refused unless this process has a single thread: the child of
/// a multi-threaded fork may only call async-signal-safe functions (no
/// allocation: another thread may have held the allocator's lock), and
/// the supervisor allocates.
fn fork_single_threaded() -> io::Result<nix::unistd::ForkResult> {
    let n = thread_count()?;
    if n != 1 {
        return Err(io::Error::other(format!(
            "cannot fork a supervisor: the process has {n} threads, not 1"
        )));
    }
    // SAFETY: the process has one thread (checked above), so the child
    // gets a consistent copy of all its state and may allocate.
    Ok(unsafe { nix::unistd::fork() }?)
}

/// Where a detached supervisor keeps the process's output, where it
/// serves attachers, and the streams it gives the process.
pub struct Log<'a> {
    pub path: &'a Path,
    pub bounds: logfile::Bounds,
    /// The socket clients attach through (see [`super::attach`]).
    pub socket: &'a Path,
    /// Give the process a terminal (a new pty, its master held here).
    pub tty: bool,
    /// Keep its stdin open for attachers' input (else /dev/null).
    pub interactive: bool,
    /// A client's end of input closes its stdin (docker's StdinOnce).
    pub stdin_once: bool,
    /// Connect a client before the first run starts, so that it sees all
    /// of its output: [`detach`] returns its end.
    pub early: bool,
}

/// The standard streams a detached process is started with.
pub struct Stdio {
    /// `[0, 1, 2]`: the fd to hand it (`None`: the supervisor's own, which
    /// the pty's slave replaces with a terminal).
    pub fds: [Option<RawFd>; 3],
    /// With a terminal: the console socket its pty's master comes back on.
    pub console: Option<RawFd>,
}

/// The streams of one run, made before it starts: the process's ends and
/// the supervisor's.
struct Streams {
    stdout: Option<(OwnedFd, OwnedFd)>,
    stderr: Option<(OwnedFd, OwnedFd)>,
    stdin: Option<(OwnedFd, OwnedFd)>,
    console: Option<(OwnedFd, OwnedFd)>,
}

fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    Ok(nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)?)
}

impl Streams {
    fn new(log: &Log<'_>) -> io::Result<Streams> {
        if log.tty {
            return Ok(Streams {
                stdout: None,
                stderr: None,
                stdin: None,
                console: Some(super::tty::console_pair()?),
            });
        }
        Ok(Streams {
            stdout: Some(pipe()?),
            stderr: Some(pipe()?),
            stdin: if log.interactive { Some(pipe()?) } else { None },
            console: None,
        })
    }

    fn stdio(&self, null: &File) -> Stdio {
        if let Some((_, theirs)) = &self.console {
            return Stdio {
                fds: [None; 3],
                console: Some(theirs.as_raw_fd()),
            };
        }
        let w = |p: &Option<(OwnedFd, OwnedFd)>| p.as_ref().map(|(_, w)| w.as_raw_fd());
        Stdio {
            fds: [
                Some(
                    self.stdin
                        .as_ref()
                        .map_or(null.as_raw_fd(), |(r, _)| r.as_raw_fd()),
                ),
                w(&self.stdout),
                w(&self.stderr),
            ],
            console: None,
        }
    }

    /// Once the process holds its ends: the hub over ours.
    fn hub(self, listener: UnixListener, early: Option<UnixStream>, stdin_once: bool) -> Hub {
        let early = early.into_iter().collect();
        if let Some((ours, theirs)) = self.console {
            drop(theirs);
            let master = super::tty::receive_master(&ours);
            let (outputs, input) = match master.map(|m| (m.try_clone(), m)) {
                Some((Ok(copy), m)) => {
                    (vec![(STDOUT, File::from(m))], Input::Tty(File::from(copy)))
                }
                _ => (vec![], Input::None),
            };
            return Hub {
                listener,
                outputs,
                input,
                early,
                stdin_once,
            };
        }
        let mut outputs = Vec::new();
        for (stream, p) in [(STDOUT, self.stdout), (STDERR, self.stderr)] {
            if let Some((r, _)) = p {
                outputs.push((stream, File::from(r)));
            }
        }
        Hub {
            listener,
            outputs,
            input: match self.stdin {
                Some((_, w)) => Input::Pipe(File::from(w)),
                None => Input::None,
            },
            early,
            stdin_once,
        }
    }
}

/// A detached supervisor could not start its process.
#[derive(Debug, thiserror::Error)]
pub enum DetachError {
    #[error("starting a supervisor")]
    Io(#[from] io::Error),
    /// The supervisor's own report: the exit status it ended with and why.
    #[error("{message}")]
    Start { code: i32, message: String },
}

impl DetachError {
    /// The status the caller should end with (125: ours failed).
    pub fn exit_code(&self) -> i32 {
        match self {
            DetachError::Io(_) => 125,
            DetachError::Start { code, .. } => *code,
        }
    }
}

/// A supervisor's failure to start the process: its exit status and
/// message, passed back to the caller.
pub struct StartFailure {
    pub code: i32,
    pub message: String,
}

/// Start a process under a detached supervisor and return its pid.
///
/// The supervisor is a child of ours in a session of its own, its
/// standard streams on /dev/null. It calls `start` with the process's
/// stdio (stdin /dev/null; stdout and stderr a pipe into `log`) and its
/// own pid; `start` spawns the process and returns its pid and what
/// `finish` needs. The supervisor then reaps the process, forwarding
/// signals, and calls `finish` with its exit status; when `finish` says
/// so (a restart policy), it calls `start` again, and so on. The caller
/// returns once the process is first started (or failed to), with the
/// end of a client connected before it started when `log.early` asks for
/// one.
///
/// Refused (an error, nothing forked) unless the process is
/// single-threaded.
pub fn detach<T>(
    log: Log<'_>,
    start: impl FnMut(Stdio, Pid) -> Result<(Pid, T), StartFailure>,
    finish: impl FnMut(T, i32) -> bool,
) -> Result<(Pid, Option<UnixStream>), DetachError> {
    let (r, w) = nix::unistd::pipe().map_err(io::Error::from)?;
    let (client, ours) = match log.early {
        true => super::attach::pair().map(|(c, s)| (Some(c), Some(s)))?,
        false => (None, None),
    };
    match fork_single_threaded()? {
        nix::unistd::ForkResult::Child => {
            drop((r, client));
            let code = supervisor(File::from(w), log, ours, start, finish).unwrap_or(125);
            // SAFETY: _exit leaves the supervisor without running the
            // parent's exit handlers or unwinding into its state.
            unsafe { libc::_exit(code) }
        }
        nix::unistd::ForkResult::Parent { .. } => {
            drop((w, ours));
            let mut msg = String::new();
            File::from(r).read_to_string(&mut msg)?;
            Ok((report(&msg)?, client))
        }
    }
}

/// The parent's reading of the supervisor's report: `P<pid>`, or
/// `E<code> <message>`; nothing when it died before reporting.
fn report(msg: &str) -> Result<Pid, DetachError> {
    if let Some(pid) = msg.strip_prefix('P') {
        return Ok(Pid::from_raw(pid.parse().unwrap_or(0)));
    }
    let (code, message) = msg
        .strip_prefix('E')
        .and_then(|m| m.split_once(' '))
        .map(|(c, t)| (c.parse().unwrap_or(125), t.to_string()))
        .unwrap_or((125, "the supervisor failed to start".into()));
    Err(DetachError::Start { code, message })
}

/// The body of the detached supervisor; its exit status.
fn supervisor<T>(
    report: File,
    log: Log<'_>,
    mut early: Option<UnixStream>,
    mut start: impl FnMut(Stdio, Pid) -> Result<(Pid, T), StartFailure>,
    mut finish: impl FnMut(T, i32) -> bool,
) -> io::Result<i32> {
    nix::unistd::setsid()?;
    let null = OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")?;
    nix::unistd::dup2_stdin(&null)?;
    nix::unistd::dup2_stdout(&null)?;
    nix::unistd::dup2_stderr(&null)?;
    let open_log = || {
        logfile::Rotating::open(log.path, log.bounds)
            .map_err(|e| io::Error::other(format!("{}: {e}", log.path.display())))
    };
    let mut logfile = open_log()?;
    let signals = Signals::block();
    let mut report = Some(report);
    loop {
        // The process's streams are held here: a hub copies its output
        // into a log of bounded size and to attached clients, and their
        // input into it.
        let listener = super::attach::listen(log.socket)?;
        let streams = Streams::new(&log)?;
        let (pid, started) = match start(streams.stdio(&null), nix::unistd::getpid()) {
            Ok(s) => s,
            Err(f) => {
                listener.discard();
                if let Some(mut r) = report.take() {
                    let _ = write!(r, "E{} {}", f.code, f.message);
                }
                return Ok(f.code);
            }
        };
        // served before it is reported started: an attach that finds it
        // running finds its socket
        let _ = listener.serve();
        if let Some(mut r) = report.take() {
            let _ = write!(r, "P{pid}");
        }
        let hub = streams.hub(listener.listener, early.take(), log.stdin_once);
        let logger = std::thread::spawn(move || {
            let clients = hub.run(&mut logfile);
            (logfile, clients)
        });
        let code = signals.wait_for(pid, pid, None).unwrap_or(125);
        // The pipe ends when the last process of the container is gone
        // (all die with its init); wait for what it still holds.
        let drained = |t: Duration| {
            let deadline = Instant::now() + t;
            while !logger.is_finished() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(5));
            }
        };
        drained(Duration::from_secs(2));
        // Attached clients see the socket close once the end is recorded.
        let _ = std::fs::remove_file(log.socket);
        let again = finish(started, code);
        if !again {
            // the clients still attached are told its status
            if logger.is_finished() {
                if let Ok((_, clients)) = logger.join() {
                    for mut c in clients {
                        let _ = write_frame(&mut c, EXIT, &code.to_be_bytes());
                    }
                }
            }
            return Ok(code);
        }
        // A start forks: it must find this process single-threaded, so
        // the hub is joined first (its pipe's writers are gone now).
        drained(Duration::from_secs(5));
        if !logger.is_finished() {
            return Ok(code);
        }
        logfile = match logger.join() {
            Ok((l, _clients)) => l,
            Err(_) => open_log()?,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_are_read_back() {
        assert_eq!(report("P42").unwrap(), Pid::from_raw(42));
        match report("E127 no such command") {
            Err(DetachError::Start { code, message }) => {
                assert_eq!((code, message.as_str()), (127, "no such command"))
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(report("").unwrap_err().exit_code(), 125);
    }

    #[test]
    fn exit_codes_of_signals_are_128_plus() {
        let st = WaitStatus::Signaled(Pid::from_raw(1), Signal::SIGKILL, false);
        assert_eq!(exit_code(st), Some(137));
        assert_eq!(exit_code(WaitStatus::Exited(Pid::from_raw(1), 3)), Some(3));
    }
}
