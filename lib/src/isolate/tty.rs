//! The standard streams of a process run in the foreground (`isolate`,
//! `exec`), and the caller's terminal.
//!
//! With a tty the process gets a new pty, opened inside the container
//! from its own /dev/ptmx and handed back over a console socket (see
//! [`crate::isolate::process::Io::console`]): the caller's terminal goes
//! raw and bytes are copied both ways between it and the pty ([`Relay`]).
//! Without one the process never gets a terminal of the caller's: each of
//! its standard fds that would be a terminal gets a pipe instead, relayed
//! to and from that terminal here, as docker does ([`TermPipes`]). Files
//! and pipes are still handed over as they are, so `cairn run img cat f >
//! out` stays zero-copy.
//!
//! Everything here is made before the process starts and copies after
//! ([`Attach::start`]): no thread may exist while the process is cloned.

use std::fs::File;
use std::io::{self, IsTerminal, Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::time::{Duration, Instant};

/// How long the output copiers may drain after the process has exited.
const DRAIN: Duration = Duration::from_secs(2);

/// `-i` and `-t` together on a stdin that is not a terminal: there is no
/// terminal to put in raw mode and relay keys from (`echo x | run -it`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the input device is not a TTY")]
pub struct NotATty;

/// Refuse `-it` when our stdin is not a terminal, as docker does, before
/// anything is made for the process.
pub fn check_input(interactive: bool, tty: bool) -> Result<(), NotATty> {
    if interactive && tty && !io::stdin().is_terminal() {
        return Err(NotATty);
    }
    Ok(())
}

/// The standard streams to give a process, before it starts.
pub struct Attach {
    /// `[slot 0, 1, 2]`: an fd to hand over, or `None` for ours of that number.
    stdio: [Option<RawFd>; 3],
    /// With a tty: the console socket, (our end, the process's end).
    console: Option<(OwnedFd, OwnedFd)>,
    pipes: Option<TermPipes>,
    /// Keeps /dev/null open for stdin until the process holds it.
    _null: Option<File>,
    stdout_to_stderr: bool,
}

/// The socket pair a new pty's master comes back over from the child
/// that makes it (ours, the child's end).
pub(crate) fn console_pair() -> io::Result<(OwnedFd, OwnedFd)> {
    use nix::sys::socket::{socketpair, AddressFamily, SockFlag, SockType};
    Ok(socketpair(
        AddressFamily::Unix,
        SockType::Stream,
        None,
        SockFlag::SOCK_CLOEXEC,
    )?)
}

impl Attach {
    /// `tty`: a new pty for all three streams. Else stdin is ours when
    /// `interactive` (/dev/null otherwise) and stdout ours, or our stderr
    /// when `stdout_to_stderr` (stdout carries records); terminals among
    /// them are replaced by pipes.
    pub fn new(tty: bool, interactive: bool, stdout_to_stderr: bool) -> io::Result<Attach> {
        if tty {
            // The process's 0, 1 and 2 become the pty's slave in the child.
            return Ok(Attach {
                stdio: [None; 3],
                console: Some(console_pair()?),
                pipes: None,
                _null: None,
                stdout_to_stderr,
            });
        }
        let null = if interactive {
            None
        } else {
            Some(File::open("/dev/null")?)
        };
        let plain = [
            null.as_ref().map(|f| f.as_raw_fd()),
            stdout_to_stderr.then_some(2),
            None,
        ];
        let pipes = TermPipes::new(&plain)?;
        Ok(Attach {
            stdio: pipes.stdio(plain),
            console: None,
            pipes: Some(pipes),
            _null: null,
            stdout_to_stderr,
        })
    }

    /// The fds to hand the process, slot by slot.
    pub fn stdio(&self) -> [Option<RawFd>; 3] {
        self.stdio
    }

    /// Is the process given a pty?
    pub fn is_tty(&self) -> bool {
        self.console.is_some()
    }

    /// The console socket's end to hand the process, with a tty.
    pub fn console(&self) -> Option<RawFd> {
        self.console.as_ref().map(|(_, theirs)| theirs.as_raw_fd())
    }

    /// Once the process holds its ends (it has started): start copying.
    pub fn start(self) -> Attached {
        match (self.console, self.pipes) {
            (Some((ours, theirs)), _) => {
                drop(theirs);
                let master = receive_master(&ours);
                let relay = master
                    .as_ref()
                    .map(|m| start_relay(m, self.stdout_to_stderr));
                Attached {
                    master,
                    relay,
                    pipes: None,
                }
            }
            (None, pipes) => Attached {
                master: None,
                relay: None,
                pipes: pipes.map(TermPipes::start),
            },
        }
    }
}

/// The copying of a started process's streams.
pub struct Attached {
    master: Option<OwnedFd>,
    relay: Option<Relay>,
    pipes: Option<PipeRelay>,
}

impl Attached {
    /// Our terminal changed size (SIGWINCH): pass it on to the pty.
    pub fn resize(&self) {
        if let Some(m) = &self.master {
            copy_winsize(m.as_fd());
        }
    }

    /// After the process has exited: let the output copiers drain what
    /// the pty or the pipes still hold (they end once no process holds
    /// them), for up to two seconds; then give the terminal back.
    pub fn finish(mut self) {
        let deadline = Instant::now() + DRAIN;
        if let Some(r) = self.relay.take() {
            r.finish(deadline);
        }
        if let Some(p) = self.pipes.take() {
            p.finish(deadline);
        }
    }
}

/// Wait for a copier until `deadline`; join it if it ended.
fn drain(h: std::thread::JoinHandle<()>, deadline: Instant) {
    while !h.is_finished() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    if h.is_finished() {
        let _ = h.join();
    }
}

/// Our terminal in raw mode, bytes copied both ways between it and the
/// pty. The terminal is restored when dropped.
struct Relay {
    saved: Option<nix::sys::termios::Termios>,
    output: Option<std::thread::JoinHandle<()>>,
}

impl Relay {
    fn finish(mut self, deadline: Instant) {
        if let Some(h) = self.output.take() {
            drain(h, deadline);
        }
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        if let Some(t) = &self.saved {
            let _ =
                nix::sys::termios::tcsetattr(io::stdin(), nix::sys::termios::SetArg::TCSANOW, t);
        }
    }
}

/// The pty's master, sent by the process before it started (so it is
/// waiting on the socket already), or `None` if it did not come.
pub(crate) fn receive_master(sock: &OwnedFd) -> Option<OwnedFd> {
    use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags, UnixAddr};
    let mut buf = [0u8; 1];
    let mut iov = [io::IoSliceMut::new(&mut buf)];
    let mut space = nix::cmsg_space!([RawFd; 1]);
    let msg = recvmsg::<UnixAddr>(
        sock.as_raw_fd(),
        &mut iov,
        Some(&mut space),
        MsgFlags::MSG_DONTWAIT | MsgFlags::MSG_CMSG_CLOEXEC,
    )
    .ok()?;
    let mut fds = msg.cmsgs().ok()?.flat_map(|c| match c {
        ControlMessageOwned::ScmRights(fds) => fds,
        _ => vec![],
    });
    let fd = fds.next()?;
    // SAFETY: a descriptor just received, owned here; any others are
    // closed.
    for extra in fds {
        drop(unsafe { OwnedFd::from_raw_fd(extra) });
    }
    Some(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Give the pty the size of our terminal (stdin).
fn copy_winsize(master: BorrowedFd<'_>) {
    // SAFETY: TIOCGWINSZ/TIOCSWINSZ read and write a winsize we own.
    unsafe {
        let mut ws: libc::winsize = std::mem::zeroed();
        if libc::ioctl(0, libc::TIOCGWINSZ, &mut ws) == 0 {
            libc::ioctl(master.as_raw_fd(), libc::TIOCSWINSZ, &ws);
        }
    }
}

fn start_relay(master: &OwnedFd, to_stderr: bool) -> Relay {
    let saved = if io::stdin().is_terminal() {
        let t = nix::sys::termios::tcgetattr(io::stdin()).ok();
        if let Some(t) = &t {
            let mut raw = t.clone();
            nix::sys::termios::cfmakeraw(&mut raw);
            let _ =
                nix::sys::termios::tcsetattr(io::stdin(), nix::sys::termios::SetArg::TCSANOW, &raw);
        }
        copy_winsize(master.as_fd());
        t
    } else {
        None
    };
    let (from, to) = match (master.try_clone(), master.try_clone()) {
        (Ok(a), Ok(b)) => (File::from(a), File::from(b)),
        _ => {
            return Relay {
                saved,
                output: None,
            }
        }
    };
    let output = std::thread::spawn(move || {
        if to_stderr {
            copy(from, io::stderr())
        } else {
            copy(from, io::stdout())
        }
    });
    std::thread::spawn(move || copy(io::stdin(), to));
    Relay {
        saved,
        output: Some(output),
    }
}

/// Pipes in place of the terminals among a process's standard fds. Make
/// it before the process starts, [`TermPipes::start`] the copying after.
struct TermPipes {
    /// (slot 0-2, the fd of ours it stands for, our end, the process's end)
    slots: Vec<(usize, RawFd, OwnedFd, OwnedFd)>,
}

impl TermPipes {
    /// Pipes for the slots of `stdio` (`None`: our own fd of that number)
    /// that are terminals.
    fn new(stdio: &[Option<RawFd>; 3]) -> io::Result<TermPipes> {
        let mut slots = Vec::new();
        for (i, s) in stdio.iter().enumerate() {
            let fd = s.unwrap_or(i as RawFd);
            // SAFETY: isatty only inspects the descriptor number; a closed
            // one is simply not a terminal.
            if !nix::unistd::isatty(unsafe { BorrowedFd::borrow_raw(fd) }).unwrap_or(false) {
                continue;
            }
            let (r, w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)?;
            slots.push(if i == 0 { (i, fd, w, r) } else { (i, fd, r, w) });
        }
        Ok(TermPipes { slots })
    }

    /// `stdio` with the process's pipe ends in place of the terminals.
    fn stdio(&self, mut stdio: [Option<RawFd>; 3]) -> [Option<RawFd>; 3] {
        for (i, _, _, theirs) in &self.slots {
            stdio[*i] = Some(theirs.as_raw_fd());
        }
        stdio
    }

    /// Once the process holds its ends: copy between the pipes and the
    /// terminals.
    fn start(self) -> PipeRelay {
        let mut outputs = Vec::new();
        for (i, fd, ours, theirs) in self.slots {
            drop(theirs);
            // SAFETY: fd is one of our open descriptors (checked a
            // terminal above); it is only borrowed to duplicate it.
            let term = match unsafe { BorrowedFd::borrow_raw(fd) }.try_clone_to_owned() {
                Ok(t) => File::from(t),
                Err(_) => continue,
            };
            let pipe = File::from(ours);
            if i == 0 {
                std::thread::spawn(move || copy(term, pipe));
            } else {
                outputs.push(std::thread::spawn(move || copy(pipe, term)));
            }
        }
        PipeRelay { outputs }
    }
}

fn copy(mut from: impl Read, mut to: impl Write) {
    let mut buf = [0u8; 8192];
    while let Ok(n) = from.read(&mut buf) {
        if n == 0 || to.write_all(&buf[..n]).and_then(|_| to.flush()).is_err() {
            break;
        }
    }
}

/// The copying of [`TermPipes`].
struct PipeRelay {
    outputs: Vec<std::thread::JoinHandle<()>>,
}

impl PipeRelay {
    fn finish(self, deadline: Instant) {
        for h in self.outputs {
            drain(h, deadline);
        }
    }
}
