//! Attaching to a detached process: its supervisor serves a unix socket
//! through which any number of clients at once get its output and give it
//! input, as docker's daemon serves `docker attach`.
//!
//! The supervisor holds the process's standard streams: a pty's master
//! for a process with a terminal, else a pipe for stdout, another for
//! stderr (kept apart, as docker keeps them) and, when it was started
//! interactive, a pipe into its stdin (/dev/null otherwise). A [`Hub`]
//! copies the output into the log and to every client, and the clients'
//! input into the process.
//!
//! On the socket every message is a frame: docker's stream header (one
//! byte naming the stream, three zero bytes, the length as a big-endian
//! u32) and the bytes. The supervisor sends [`HELLO`] first (its one byte
//! says whether the process has a terminal and an open stdin), then
//! [`STDOUT`] and [`STDERR`] frames, and last an [`EXIT`] frame with the
//! run's status once it is recorded; a client sends [`STDIN`] frames (an
//! empty one: its input ended) and [`RESIZE`] frames (rows and columns,
//! big-endian u16s). The socket closes when the process's run ends.
//!
//! A client that must see all the output (a foreground `run -it`) is
//! connected before the process starts: [`pair`] makes both ends, the
//! supervisor takes one as its first client.

use crate::logfile::Rotating;
use nix::poll::{PollFd, PollFlags, PollTimeout};
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, AsRawFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Input for the process (client to supervisor).
pub const STDIN: u8 = 0;
/// The process's stdout, or its terminal's output.
pub const STDOUT: u8 = 1;
/// The process's stderr (never with a terminal).
pub const STDERR: u8 = 2;
/// A new terminal size: rows, columns (client to supervisor).
pub const RESIZE: u8 = 3;
/// The first frame a client gets: [`HELLO_TTY`] and [`HELLO_STDIN`] bits.
pub const HELLO: u8 = 4;
/// The process has a terminal.
pub const HELLO_TTY: u8 = 1;
/// The process's stdin is open for clients' input.
pub const HELLO_STDIN: u8 = 2;
/// The run's exit status (a big-endian i32), the last frame a client gets.
pub const EXIT: u8 = 5;

/// A connected pair: the client's end and the supervisor's.
pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
    UnixStream::pair()
}

/// Write one frame.
pub fn write_frame(w: &mut impl Write, stream: u8, data: &[u8]) -> io::Result<()> {
    let len = u32::try_from(data.len()).map_err(io::Error::other)?;
    let mut frame = Vec::with_capacity(8 + data.len());
    frame.extend_from_slice(&[stream, 0, 0, 0]);
    frame.extend_from_slice(&len.to_be_bytes());
    frame.extend_from_slice(data);
    w.write_all(&frame)
}

/// Read one frame; `None` at the end of the stream.
pub fn read_frame(r: &mut impl Read) -> io::Result<Option<(u8, Vec<u8>)>> {
    let mut head = [0u8; 8];
    match r.read_exact(&mut head) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let len = u32::from_be_bytes([head[4], head[5], head[6], head[7]]) as usize;
    let mut data = vec![0u8; len];
    r.read_exact(&mut data)?;
    Ok(Some((head[0], data)))
}

/// Frames taken from bytes as they come.
#[derive(Default)]
struct Frames(Vec<u8>);

impl Frames {
    fn next(&mut self) -> Option<(u8, Vec<u8>)> {
        let head = self.0.get(..8)?;
        let len = u32::from_be_bytes([head[4], head[5], head[6], head[7]]) as usize;
        if self.0.len() < 8 + len {
            return None;
        }
        let stream = head[0];
        let data = self.0[8..8 + len].to_vec();
        self.0.drain(..8 + len);
        Some((stream, data))
    }
}

/// `path` as a name short enough for a socket address (108 bytes at
/// most): its directory opened and named through /proc/self/fd. The
/// directory's handle must be kept while the name is used.
fn short_name(path: &Path) -> io::Result<(File, PathBuf)> {
    let (dir, name) = match (path.parent(), path.file_name()) {
        (Some(d), Some(n)) => (d, n),
        _ => return Err(io::Error::other("a socket path needs a directory")),
    };
    let dir = File::open(dir)?;
    let short = PathBuf::from(format!("/proc/self/fd/{}", dir.as_raw_fd())).join(name);
    Ok((dir, short))
}

/// A socket bound beside `path`, served at `path` once [`Aside::serve`]
/// moves it there: a run that fails to start leaves the socket of one
/// already running (or one an earlier run left) as it was.
pub struct Aside {
    pub listener: UnixListener,
    aside: PathBuf,
    path: PathBuf,
}

impl Aside {
    /// Serve it at its path (one left there is replaced).
    pub fn serve(&self) -> io::Result<()> {
        std::fs::rename(&self.aside, &self.path)
    }

    /// Give it up unserved.
    pub fn discard(self) {
        let _ = std::fs::remove_file(&self.aside);
    }
}

/// Bind a socket beside `path`, to serve at `path` later.
pub fn listen(path: &Path) -> io::Result<Aside> {
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".{}", std::process::id()));
    let aside = PathBuf::from(name);
    let _ = std::fs::remove_file(&aside);
    let (_dir, short) = short_name(&aside)?;
    Ok(Aside {
        listener: bind_private(&short)?,
        aside,
        path: path.to_path_buf(),
    })
}

/// A socket listening at `name` that only its owner may connect to (mode
/// 0600; connecting takes write permission). The mode is given to the
/// socket before `bind`, which makes the file with it less the umask, so
/// there is no moment when anyone else may connect, whatever the
/// caller's umask (`UnixListener::bind` made it 0777 under umask 0).
fn bind_private(name: &Path) -> io::Result<UnixListener> {
    use nix::sys::socket::{bind, listen, socket, AddressFamily, Backlog, SockFlag, SockType};
    let fd = socket(
        AddressFamily::Unix,
        SockType::Stream,
        SockFlag::SOCK_CLOEXEC,
        None,
    )?;
    nix::sys::stat::fchmod(&fd, nix::sys::stat::Mode::from_bits_truncate(0o600))?;
    bind(fd.as_raw_fd(), &nix::sys::socket::UnixAddr::new(name)?)?;
    listen(&fd, Backlog::MAXCONN)?;
    Ok(UnixListener::from(fd))
}

/// Connect to the socket at `path`.
pub fn connect(path: &Path) -> io::Result<UnixStream> {
    let (_dir, short) = short_name(path)?;
    UnixStream::connect(short)
}

/// Where the process's input goes.
pub enum Input {
    /// Not open: clients' input is dropped.
    None,
    /// A pipe into its stdin.
    Pipe(File),
    /// Its terminal (the pty's master), which also takes resizes.
    Tty(File),
}

/// The supervisor's side of one run: its output read, its input written.
pub struct Hub {
    pub listener: UnixListener,
    /// (stream, the read end of it)
    pub outputs: Vec<(u8, File)>,
    pub input: Input,
    /// Clients connected before the process started (see [`pair`]).
    pub early: Vec<UnixStream>,
    /// A client's end of input closes the process's stdin (docker's
    /// StdinOnce), as a foreground `run -i` gives its input and ends.
    pub stdin_once: bool,
}

/// A client as the hub holds it.
struct Client {
    sock: UnixStream,
    frames: Frames,
}

impl Hub {
    fn hello(&self) -> u8 {
        match &self.input {
            Input::None => 0,
            Input::Pipe(_) => HELLO_STDIN,
            Input::Tty(_) => HELLO_TTY | HELLO_STDIN,
        }
    }

    /// Copy the output into `log` and to the clients, and the clients'
    /// input into the process, until no process holds the output (the run
    /// is over). Returns the clients still attached: the caller closes
    /// them once the run's end is recorded.
    pub fn run(mut self, log: &mut Rotating) -> Vec<UnixStream> {
        let _ = self.listener.set_nonblocking(true);
        let mut clients: Vec<Client> = Vec::new();
        for sock in std::mem::take(&mut self.early) {
            self.welcome(sock, &mut clients);
        }
        let mut buf = vec![0u8; 32 << 10];
        while !self.outputs.is_empty() {
            let (ready_l, ready_o, ready_c) = self.wait(&clients);
            if ready_l {
                self.accept(&mut clients);
            }
            for i in ready_o.into_iter().rev() {
                let (stream, f) = &mut self.outputs[i];
                let stream = *stream;
                match f.read(&mut buf) {
                    Ok(n) if n > 0 => {
                        if let Some(s) = crate::logfile::Stream::from_code(stream) {
                            let _ = log.append(s, &buf[..n]);
                        }
                        clients.retain_mut(|c| write_frame(&mut c.sock, stream, &buf[..n]).is_ok());
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    // the end, or EIO from a pty no process holds any more
                    _ => {
                        self.outputs.remove(i);
                    }
                }
            }
            for i in ready_c.into_iter().rev() {
                if !self.take_input(&mut clients[i], &mut buf) {
                    clients.remove(i);
                }
            }
        }
        let _ = log.flush();
        clients.into_iter().map(|c| c.sock).collect()
    }

    /// Wait for something to read: (the listener, the outputs, the
    /// clients that are ready, by index).
    fn wait(&self, clients: &[Client]) -> (bool, Vec<usize>, Vec<usize>) {
        let flags = PollFlags::POLLIN;
        let mut fds = vec![PollFd::new(self.listener.as_fd(), flags)];
        fds.extend(
            self.outputs
                .iter()
                .map(|(_, f)| PollFd::new(f.as_fd(), flags)),
        );
        fds.extend(clients.iter().map(|c| PollFd::new(c.sock.as_fd(), flags)));
        let timeout = PollTimeout::try_from(Duration::from_millis(500)).unwrap_or(PollTimeout::MAX);
        if nix::poll::poll(&mut fds, timeout).is_err() {
            return (false, vec![], vec![]);
        }
        let ready: Vec<bool> = fds
            .iter()
            .map(|p| p.revents().is_some_and(|r| !r.is_empty()))
            .collect();
        let n = self.outputs.len();
        let outs = (1..1 + n).filter(|&i| ready[i]).map(|i| i - 1).collect();
        let cls = (1 + n..ready.len())
            .filter(|&i| ready[i])
            .map(|i| i - 1 - n)
            .collect();
        (ready[0], outs, cls)
    }

    fn accept(&self, clients: &mut Vec<Client>) {
        while let Ok((sock, _)) = self.listener.accept() {
            self.welcome(sock, clients);
        }
    }

    fn welcome(&self, mut sock: UnixStream, clients: &mut Vec<Client>) {
        let _ = sock.set_nonblocking(false);
        // a client that stops reading is dropped, not waited for
        let _ = sock.set_write_timeout(Some(Duration::from_secs(2)));
        if write_frame(&mut sock, HELLO, &[self.hello()]).is_ok() {
            clients.push(Client {
                sock,
                frames: Frames::default(),
            });
        }
    }

    /// Read what a client sent and pass it on; `false` when it left.
    fn take_input(&mut self, c: &mut Client, buf: &mut [u8]) -> bool {
        match c.sock.read(buf) {
            Ok(0) => return false,
            Ok(n) => c.frames.0.extend_from_slice(&buf[..n]),
            Err(e) => return e.kind() == io::ErrorKind::Interrupted,
        }
        while let Some((stream, data)) = c.frames.next() {
            match (&mut self.input, stream) {
                (Input::Pipe(_), STDIN) if data.is_empty() && self.stdin_once => {
                    self.input = Input::None;
                }
                (Input::Pipe(f) | Input::Tty(f), STDIN) => {
                    let _ = f.write_all(&data);
                }
                (Input::Tty(f), RESIZE) if data.len() == 4 => {
                    let rows = u16::from_be_bytes([data[0], data[1]]);
                    let cols = u16::from_be_bytes([data[2], data[3]]);
                    set_winsize(f.as_fd(), rows, cols);
                }
                _ => {}
            }
        }
        true
    }
}

/// Give a terminal a size.
pub fn set_winsize(fd: std::os::fd::BorrowedFd<'_>, rows: u16, cols: u16) {
    let ws = libc::winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCSWINSZ reads a winsize we own.
    unsafe { libc::ioctl(fd.as_raw_fd(), libc::TIOCSWINSZ, &ws) };
}

/// The size of our terminal on `fd`, if it is one: (rows, columns).
pub fn winsize(fd: std::os::fd::BorrowedFd<'_>) -> Option<(u16, u16)> {
    // SAFETY: TIOCGWINSZ writes a winsize we own.
    unsafe {
        let mut ws: libc::winsize = std::mem::zeroed();
        (libc::ioctl(fd.as_raw_fd(), libc::TIOCGWINSZ, &mut ws) == 0)
            .then_some((ws.ws_row, ws.ws_col))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_read_back_whole_and_in_pieces() {
        let mut wire = Vec::new();
        write_frame(&mut wire, STDOUT, b"out\n").unwrap();
        write_frame(&mut wire, STDERR, b"").unwrap();
        write_frame(&mut wire, STDERR, b"err").unwrap();
        let mut r = &wire[..];
        assert_eq!(
            read_frame(&mut r).unwrap(),
            Some((STDOUT, b"out\n".to_vec()))
        );
        assert_eq!(read_frame(&mut r).unwrap(), Some((STDERR, vec![])));
        assert_eq!(read_frame(&mut r).unwrap(), Some((STDERR, b"err".to_vec())));
        assert_eq!(read_frame(&mut r).unwrap(), None);
        let mut f = Frames::default();
        let mut got = Vec::new();
        for b in wire.chunks(3) {
            f.0.extend_from_slice(b);
            while let Some(x) = f.next() {
                got.push(x);
            }
        }
        assert_eq!(got.len(), 3);
        assert_eq!(got[2], (STDERR, b"err".to_vec()));
    }
}
