//! `docker attach`: a client of the socket a detached container's
//! supervisor serves ([`crate::isolate::attach`]). What the process
//! writes from now on comes out here, stdout on `out` and stderr on `err`
//! (one stream with a terminal); our stdin goes to it when it was started
//! with `-i`; with `-t` our terminal goes raw and its size goes along.
//! Several clients may attach at once; each ends when the run ends, or
//! leaves it running on the detach keys (ctrl-p ctrl-q).

use super::{state, state_err, sys, ContainerError, Problem};
use crate::isolate::attach::{
    self as wire, EXIT, HELLO, HELLO_STDIN, HELLO_TTY, RESIZE, STDERR, STDIN,
};
use crate::isolate::supervise::Signals;
use crate::isolate::tty::NotATty;
use crate::store::container::{ContainerMeta, Status};
use crate::store::Store;
use nix::sys::signal::Signal;
use std::io::{self, IsTerminal, Read, Write};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// docker's default detach keys: ctrl-p ctrl-q.
pub const DETACH_KEYS: &[u8] = &[0x10, 0x11];

/// Parse docker's `--detach-keys`: keys separated by commas, each one
/// character or `ctrl-X` (X a letter or one of `@[\]^_`).
pub fn parse_detach_keys(s: &str) -> Option<Vec<u8>> {
    s.split(',')
        .map(|k| match k.strip_prefix("ctrl-") {
            Some(x) if x.len() == 1 => match x.as_bytes()[0].to_ascii_lowercase() {
                c @ b'a'..=b'z' => Some(c - b'a' + 1),
                b'@' => Some(0),
                c @ b'['..=b'_' => Some(c - b'[' + 27),
                _ => None,
            },
            _ if k.len() == 1 => Some(k.as_bytes()[0]),
            _ => None,
        })
        .collect()
}

/// Finds the detach keys in the input as docker's escape proxy does: the
/// bytes that may start the sequence are held back until it is complete
/// (detach) or broken (they go on with the rest).
pub struct Escape {
    keys: Vec<u8>,
    held: usize,
}

impl Escape {
    pub fn new(keys: Vec<u8>) -> Escape {
        Escape { keys, held: 0 }
    }

    /// The bytes of `input` to pass on, and whether the keys were typed.
    pub fn feed(&mut self, input: &[u8]) -> (Vec<u8>, bool) {
        let mut out = Vec::with_capacity(input.len());
        for &b in input {
            if self.keys.is_empty() {
                out.push(b);
            } else if b == self.keys[self.held] {
                self.held += 1;
                if self.held == self.keys.len() {
                    self.held = 0;
                    return (out, true);
                }
            } else {
                out.extend_from_slice(&self.keys[..self.held]);
                self.held = 0;
                if b == self.keys[0] {
                    self.held = 1;
                } else {
                    out.push(b);
                }
            }
        }
        (out, false)
    }
}

/// How to attach.
pub struct Options<'a> {
    /// Give our stdin to the process, if its stdin is open (not `--no-stdin`).
    pub stdin: bool,
    pub detach_keys: Vec<u8>,
    /// Pass the signals we take on to its main process (`--sig-proxy`;
    /// without a terminal only, as docker). The signals must be blocked
    /// before any thread started, [`Signals::block`].
    pub signals: &'a Signals,
    pub proxy: bool,
}

/// How an attach ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// The run ended with this status.
    Exited(i32),
    /// The detach keys were typed: it runs on.
    Detached,
    /// We took this signal and did not pass it on.
    Signalled(i32),
}

/// Our terminal in raw mode until dropped.
struct Raw(Option<nix::sys::termios::Termios>);

impl Raw {
    fn new() -> Raw {
        use nix::sys::termios::{cfmakeraw, tcgetattr, tcsetattr, SetArg};
        let saved = tcgetattr(io::stdin()).ok();
        if let Some(t) = &saved {
            let mut raw = t.clone();
            cfmakeraw(&mut raw);
            let _ = tcsetattr(io::stdin(), SetArg::TCSANOW, &raw);
        }
        Raw(saved)
    }
}

impl Drop for Raw {
    fn drop(&mut self) {
        use nix::sys::termios::{tcsetattr, SetArg};
        if let Some(t) = &self.0 {
            let _ = tcsetattr(io::stdin(), SetArg::TCSANOW, t);
        }
    }
}

/// Send our terminal's size.
fn resize(sock: &mut UnixStream) {
    if let Some((rows, cols)) = wire::winsize(std::os::fd::AsFd::as_fd(&io::stdin())) {
        let mut b = rows.to_be_bytes().to_vec();
        b.extend_from_slice(&cols.to_be_bytes());
        let _ = wire::write_frame(sock, RESIZE, &b);
    }
}

/// What ended the attach early: 0 nothing yet, -1 the detach keys, or the
/// signal taken.
type Why = Arc<AtomicI32>;

/// Copy our stdin to the process until its end or the detach keys.
fn pass_stdin(mut sock: UnixStream, keys: Vec<u8>, why: Why) {
    let mut esc = Escape::new(keys);
    let mut buf = [0u8; 8192];
    let mut stdin = io::stdin();
    loop {
        let n = match stdin.read(&mut buf) {
            Ok(0) | Err(_) => {
                // the end of our input: it closes the process's stdin
                // when it was started so (StdinOnce)
                let _ = wire::write_frame(&mut sock, STDIN, &[]);
                return;
            }
            Ok(n) => n,
        };
        let (data, detach) = esc.feed(&buf[..n]);
        if !data.is_empty() && wire::write_frame(&mut sock, STDIN, &data).is_err() {
            return;
        }
        if detach {
            why.store(-1, Ordering::SeqCst);
            let _ = sock.shutdown(std::net::Shutdown::Both);
            return;
        }
    }
}

/// Take the blocked signals: resizes go to a terminal, the others to the
/// container's main process when proxying, else they end the attach.
fn take_signals(
    mut sock: UnixStream,
    signals: &Signals,
    proxy: Option<Box<dyn Fn(Signal) + Send>>,
    tty: bool,
    why: &Why,
) {
    loop {
        let Some(sig) = signals.next(Duration::from_millis(200)) else {
            if why.load(Ordering::SeqCst) != 0 {
                return;
            }
            continue;
        };
        match (sig, &proxy) {
            (Signal::SIGWINCH, _) if tty => resize(&mut sock),
            (Signal::SIGWINCH, _) => {}
            (sig, Some(p)) => p(sig),
            (sig, None) => {
                why.store(sig as i32, Ordering::SeqCst);
                let _ = sock.shutdown(std::net::Shutdown::Both);
                return;
            }
        }
    }
}

/// Attach to `c`'s current run: its output into `out` and `err`, our
/// stdin into it, until the run ends (its status), the detach keys are
/// typed, or a signal not passed on ends it.
pub fn attach(
    store: &Store,
    c: &ContainerMeta,
    o: Options<'_>,
    out: &mut impl Write,
    err: &mut impl Write,
) -> Result<Ended, ContainerError> {
    let st = state(store, c)?;
    match st.status {
        Status::Running => {}
        Status::Paused => return Err(state_err(c, Problem::Paused)),
        Status::Restarting => return Err(state_err(c, Problem::Restarting)),
        _ => return Err(state_err(c, Problem::NotRunning)),
    }
    let sock = wire::connect(&store.container_dirs(&c.id).attach).map_err(sys(
        c,
        "connecting to its supervisor (was it started with -d?)",
    ))?;
    session(store, c, &st, sock, o, (out, err))
}

/// Attach through `sock`, connected before `c`'s run started
/// ([`super::Detached::attach_early`]): all of its output, then as
/// [`attach`]. Its run may be over already (and with `--rm` the container
/// gone): the status then comes from its supervisor.
pub fn attach_early(
    store: &Store,
    c: &ContainerMeta,
    sock: UnixStream,
    o: Options<'_>,
    out: &mut impl Write,
    err: &mut impl Write,
) -> Result<Ended, ContainerError> {
    let st = store.read_state(&c.id).unwrap_or_default();
    session(store, c, &st, sock, o, (out, err))
}

/// Run `c` in the foreground as docker's `run -it` and `start -a` do:
/// under a detached supervisor (`d`), so that the detach keys leave it
/// running, with us its first attacher, connected before it starts so
/// that none of its output is missed.
pub fn run_attached(
    store: &Store,
    c: &ContainerMeta,
    opts: super::RunOptions,
    d: super::Detached,
    o: Options<'_>,
    out: &mut impl Write,
    err: &mut impl Write,
) -> Result<Ended, ContainerError> {
    let d = super::Detached {
        attach_early: true,
        ..d
    };
    let (_, sock) = super::start_detached(store, c, opts, d)?;
    let sock = sock.ok_or_else(|| state_err(c, Problem::NotRunning))?;
    attach_early(store, c, sock, o, out, err)
}

/// One attached client on `sock`, from the supervisor's hello on.
fn session(
    store: &Store,
    c: &ContainerMeta,
    st: &crate::store::container::State,
    mut sock: UnixStream,
    o: Options<'_>,
    (out, err): (&mut impl Write, &mut impl Write),
) -> Result<Ended, ContainerError> {
    let hello = match wire::read_frame(&mut sock) {
        Ok(Some((HELLO, h))) => h.first().copied().unwrap_or(0),
        _ => return Err(state_err(c, Problem::NotRunning)),
    };
    let tty = hello & HELLO_TTY != 0;
    let stdin = o.stdin && hello & HELLO_STDIN != 0;
    if tty && stdin && !io::stdin().is_terminal() {
        return Err(ContainerError::NotATty(NotATty));
    }
    let _raw = (tty && stdin).then(Raw::new);
    if tty {
        resize(&mut sock);
    }
    let why: Why = Arc::default();
    let clone = |s: &UnixStream| s.try_clone().map_err(sys(c, "attaching"));
    if stdin {
        let (s, w, keys) = (clone(&sock)?, why.clone(), o.detach_keys.clone());
        std::thread::spawn(move || pass_stdin(s, keys, w));
    }
    let told = copy_output(c, st, o, clone(&sock)?, &why, tty, (out, err))?;
    let _ = sock.shutdown(std::net::Shutdown::Both);
    drop(_raw);
    match (why.load(Ordering::SeqCst), told) {
        (-1, _) => Ok(Ended::Detached),
        (sig, _) if sig > 0 => Ok(Ended::Signalled(sig)),
        (_, Some(code)) => Ok(Ended::Exited(code)),
        _ => Ok(Ended::Exited(exit_status(store, c, st.pid)?)),
    }
}

/// Copy the output frames until the socket ends, taking signals meanwhile;
/// the run's status if its supervisor told it.
#[allow(clippy::too_many_arguments)]
fn copy_output(
    c: &ContainerMeta,
    st: &crate::store::container::State,
    o: Options<'_>,
    mut sock: UnixStream,
    why: &Why,
    tty: bool,
    (out, err): (&mut impl Write, &mut impl Write),
) -> Result<Option<i32>, ContainerError> {
    let sig_sock = sock.try_clone().map_err(sys(c, "attaching"))?;
    let (meta, now) = (c.clone(), st.clone());
    let proxy: Option<Box<dyn Fn(Signal) + Send>> = (o.proxy && !tty).then(|| {
        Box::new(move |sig| {
            // to its main process, as docker's proxy sends it
            let _ = super::signal_init(&meta, &now, sig);
        }) as Box<dyn Fn(Signal) + Send>
    });
    std::thread::scope(|s| {
        let w = why.clone();
        s.spawn(move || take_signals(sig_sock, o.signals, proxy, tty, &w));
        let write = |to: &mut dyn Write, b: &[u8]| {
            to.write_all(b)
                .and_then(|()| to.flush())
                .map_err(sys(c, "writing its output"))
        };
        let mut told = None;
        let r = loop {
            match wire::read_frame(&mut sock) {
                Ok(Some((STDERR, b))) => write(err, &b)?,
                Ok(Some((EXIT, b))) => {
                    told = <[u8; 4]>::try_from(&b[..]).ok().map(i32::from_be_bytes)
                }
                Ok(Some((_, b))) => write(out, &b)?,
                Ok(None) | Err(_) => break Ok(told),
            }
        };
        // the signal taker ends on this
        if why.load(Ordering::SeqCst) == 0 {
            why.store(i32::MIN, Ordering::SeqCst);
        }
        r
    })
}

/// The status of the run whose init was `pid`, once its end is recorded.
fn exit_status(store: &Store, c: &ContainerMeta, pid: Option<i32>) -> Result<i32, ContainerError> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let now = store.read_state(&c.id)?;
        let this_run = now.pid == pid && matches!(now.status, Status::Running | Status::Paused);
        if !this_run || Instant::now() > deadline {
            return Ok(now.exit_code.unwrap_or(0));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The output of `c`'s first run, from its log (which a new container
/// starts empty), copied as it comes until that run ends, stdout's to
/// `out` and stderr's to `err`; its status. The restarts its policy asks
/// for go on without us, as docker's `run --restart` shows only the first
/// run in the foreground.
pub fn first_run(
    store: &Store,
    c: &ContainerMeta,
    out: &mut impl Write,
    err: &mut impl Write,
) -> Result<i32, ContainerError> {
    let pid = store.read_state(&c.id)?.pid;
    let path = store.container_dirs(&c.id).log;
    let show = crate::logfile::Show::default();
    let mut write = |r: crate::logfile::Record| {
        show.write(&r, out, err)?;
        out.flush().and_then(|()| err.flush())
    };
    let mut follow =
        crate::logfile::read(&path, None, &mut write).map_err(sys(c, "copying its log"))?;
    loop {
        let now = store.read_state(&c.id)?;
        let this_run = now.pid == pid && matches!(now.status, Status::Running | Status::Paused);
        // its end is recorded once the log holds all it wrote
        follow.more(&mut write).map_err(sys(c, "copying its log"))?;
        if !this_run {
            return Ok(now.exit_code.unwrap_or(0));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detach_keys_parse_as_docker_writes_them() {
        assert_eq!(
            parse_detach_keys("ctrl-p,ctrl-q"),
            Some(DETACH_KEYS.to_vec())
        );
        assert_eq!(
            parse_detach_keys("ctrl-@,ctrl-[,ctrl-_,x"),
            Some(vec![0, 27, 31, b'x'])
        );
        assert_eq!(parse_detach_keys("ctrl-A"), Some(vec![1]));
        assert_eq!(parse_detach_keys("ctrl-1"), None);
        assert_eq!(parse_detach_keys("ab"), None);
    }

    #[test]
    fn the_escape_holds_a_prefix_back_and_lets_a_broken_one_through() {
        let mut e = Escape::new(DETACH_KEYS.to_vec());
        assert_eq!(e.feed(b"ab\x10"), (b"ab".to_vec(), false));
        assert_eq!(e.feed(b"c"), (b"\x10c".to_vec(), false));
        assert_eq!(e.feed(b"\x10\x10"), (b"\x10".to_vec(), false));
        assert_eq!(e.feed(b"\x11rest"), (vec![], true));
        assert_eq!(
            Escape::new(vec![]).feed(b"\x10\x11"),
            (b"\x10\x11".to_vec(), false)
        );
    }
}
