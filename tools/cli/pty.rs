//! The terminal side of `-t`, shared by isolate and exec.

use std::fs::File;
use std::io::{self, IsTerminal, Read, Write};
use std::os::fd::AsRawFd;

/// The terminal side of `-t`: our terminal in raw mode, bytes copied both
/// ways between it and the pty. Restored when dropped.
pub struct Relay {
    saved: Option<nix::sys::termios::Termios>,
    output: Option<std::thread::JoinHandle<()>>,
}

impl Relay {
    /// After the process has exited: let the output copier drain what the
    /// pty still holds (it ends at EIO once no process has the terminal
    /// open), for up to two seconds.
    pub fn finish(mut self) {
        if let Some(h) = self.output.take() {
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
            while !h.is_finished() && std::time::Instant::now() < deadline {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            if h.is_finished() {
                let _ = h.join();
            }
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

pub fn copy_winsize(m: &nix::pty::PtyMaster) {
    // SAFETY: TIOCGWINSZ/TIOCSWINSZ read and write a winsize we own.
    unsafe {
        let mut ws: libc::winsize = std::mem::zeroed();
        if libc::ioctl(0, libc::TIOCGWINSZ, &mut ws) == 0 {
            libc::ioctl(m.as_raw_fd(), libc::TIOCSWINSZ, &ws);
        }
    }
}

pub fn start_relay(m: &nix::pty::PtyMaster, to_stderr: bool) -> Relay {
    let saved = if io::stdin().is_terminal() {
        let t = nix::sys::termios::tcgetattr(io::stdin()).ok();
        if let Some(t) = &t {
            let mut raw = t.clone();
            nix::sys::termios::cfmakeraw(&mut raw);
            let _ =
                nix::sys::termios::tcsetattr(io::stdin(), nix::sys::termios::SetArg::TCSANOW, &raw);
        }
        copy_winsize(m);
        t
    } else {
        None
    };
    let fd = m.as_raw_fd();
    // SAFETY: dup of the master fd, owned by each thread's File.
    let (mut from, mut to) = unsafe { (File::from_raw_fd_dup(fd), File::from_raw_fd_dup(fd)) };
    let output = std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        let mut out: Box<dyn Write> = if to_stderr {
            Box::new(io::stderr())
        } else {
            Box::new(io::stdout())
        };
        while let Ok(n) = from.read(&mut buf) {
            if n == 0 || out.write_all(&buf[..n]).and_then(|_| out.flush()).is_err() {
                break;
            }
        }
    });
    std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        let mut stdin = io::stdin();
        while let Ok(n) = stdin.read(&mut buf) {
            if n == 0 || to.write_all(&buf[..n]).is_err() {
                break;
            }
        }
    });
    Relay {
        saved,
        output: Some(output),
    }
}

trait DupFd {
    /// # Safety
    /// `fd` must be an open descriptor.
    unsafe fn from_raw_fd_dup(fd: i32) -> File;
}

impl DupFd for File {
    unsafe fn from_raw_fd_dup(fd: i32) -> File {
        use std::os::fd::FromRawFd;
        // SAFETY: the caller guarantees fd is open; dup gives a new owned fd.
        unsafe { File::from_raw_fd(libc::dup(fd)) }
    }
}

/// Without `-t` a container never gets a terminal of ours: each of its
/// standard fds that would be a terminal gets a pipe instead, relayed to
/// and from that terminal here (as docker does). Files and pipes are
/// still handed over as they are, so `cairn run img cat f > out` stays
/// zero-copy. Make it before the container starts, [`TermPipes::start`]
/// the copying after (no thread may exist while the container is cloned).
pub struct TermPipes {
    /// (slot 0-2, the fd of ours it stands for, our end, the container's end)
    slots: Vec<(usize, std::os::fd::RawFd, OwnedFd, OwnedFd)>,
}

use std::os::fd::{FromRawFd, OwnedFd, RawFd};

impl TermPipes {
    /// Pipes for the slots of `stdio` (`None`: our own fd of that number)
    /// that are terminals.
    pub fn new(stdio: &[Option<RawFd>; 3]) -> io::Result<TermPipes> {
        let mut slots = Vec::new();
        for (i, s) in stdio.iter().enumerate() {
            let fd = s.unwrap_or(i as RawFd);
            // SAFETY: isatty only inspects the descriptor number.
            if unsafe { libc::isatty(fd) } != 1 {
                continue;
            }
            let (r, w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)?;
            slots.push(if i == 0 { (i, fd, w, r) } else { (i, fd, r, w) });
        }
        Ok(TermPipes { slots })
    }

    /// `stdio` with the container's pipe ends in place of the terminals.
    pub fn stdio(&self, mut stdio: [Option<RawFd>; 3]) -> [Option<RawFd>; 3] {
        for (i, _, _, theirs) in &self.slots {
            stdio[*i] = Some(theirs.as_raw_fd());
        }
        stdio
    }

    /// Once the container holds its ends: copy between the pipes and the
    /// terminals.
    pub fn start(self) -> PipeRelay {
        let mut outputs = Vec::new();
        for (i, fd, ours, theirs) in self.slots {
            drop(theirs);
            // SAFETY: fd is one of our open descriptors; dup gives an owned copy.
            let term = unsafe { File::from_raw_fd(libc::dup(fd)) };
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

fn copy(mut from: File, mut to: File) {
    let mut buf = [0u8; 8192];
    while let Ok(n) = from.read(&mut buf) {
        if n == 0 || to.write_all(&buf[..n]).is_err() {
            break;
        }
    }
}

/// The copying of [`TermPipes`].
pub struct PipeRelay {
    outputs: Vec<std::thread::JoinHandle<()>>,
}

impl PipeRelay {
    /// After the process has exited: let the output copiers drain the
    /// pipes (they end when no process of the container holds them), for
    /// up to two seconds.
    pub fn finish(self) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
        for h in self.outputs {
            while !h.is_finished() && std::time::Instant::now() < deadline {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            if h.is_finished() {
                let _ = h.join();
            }
        }
    }
}
