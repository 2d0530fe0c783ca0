//! Outbound networking without root through slirp4netns (Debian's
//! package), as podman's rootless default: a user-mode TCP/IP stack on the
//! host's side of a tap device in the container's own network namespace.
//! The container gets 10.0.2.100/24 on `tap0`, its gateway 10.0.2.2 and a
//! DNS forwarder at 10.0.2.3. The host's loopback is not reachable through
//! the gateway unless asked (`slirp4netns:allow_host_loopback=true`): a
//! service listening on 127.0.0.1 trusts that only the host reaches it.
//!
//! slirp4netns runs beside the container, its pid in the container's
//! directory (`slirp4netns.pid`), and is stopped when the container's
//! network is taken down (or swept by the next command after a crash).
//!
//! Published ports (`-p [IP:]HOSTPORT:PORT`) are slirp4netns's own
//! forwarder, as podman's rootless port handler does with it: slirp4netns
//! listens on the host's side (in the host's network namespace, so a
//! host port below `net.ipv4.ip_unprivileged_port_start` is refused to an
//! ordinary user) and passes each connection to the container's
//! 10.0.2.100. The forwards are asked for on its API socket
//! (`slirp4netns.sock` in the container's directory; JSON requests
//! `add_hostfwd`, one per connection) before the container starts.

use crate::net::netns;
use crate::net::port::{Port, Proto};
use crate::store::Store;
use crate::ContainerId;
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The API socket's name in the container's directory (relative: the
/// directory's full path may be longer than a socket address holds).
const API_SOCKET: &str = "slirp4netns.sock";

/// What went wrong starting slirp4netns.
#[derive(Debug, thiserror::Error)]
pub enum SlirpError {
    #[error("slirp4netns is not installed: install Debian's slirp4netns package, or use --network none or host")]
    NotInstalled,
    #[error("slirp4netns did not come up: {0}")]
    NotReady(String),
    #[error("/dev/net/tun is not open to this user (slirp4netns needs it; Debian's udev makes it mode 0666): as root, chmod 0666 /dev/net/tun, or use --network none or host")]
    NoTun,
    #[error("publishing {port}: slirp4netns refused it ({message}): is the host port taken, or below net.ipv4.ip_unprivileged_port_start?")]
    Publish { port: String, message: String },
    #[error("{what}")]
    Io {
        what: &'static str,
        #[source]
        source: io::Error,
    },
}

fn io_err(what: &'static str) -> impl FnOnce(io::Error) -> SlirpError {
    move |source| SlirpError::Io { what, source }
}

fn pid_file(store: &Store, id: &ContainerId) -> PathBuf {
    store.container_dir(id).join("slirp4netns.pid")
}

/// A network namespace served by slirp4netns, and the ports it forwards.
pub struct Attached {
    /// The container joins it by [`netns::path`]; keep it open until it
    /// has.
    pub netns: OwnedFd,
    /// The ports asked for, each with the host port it got.
    pub ports: Vec<Port>,
}

/// A new network namespace with slirp4netns serving it, forwarding
/// `ports` from the host to it.
pub fn attach(
    store: &Store,
    id: &ContainerId,
    allow_host_loopback: bool,
    ports: &[Port],
) -> Result<Attached, SlirpError> {
    let rw = nix::unistd::AccessFlags::R_OK | nix::unistd::AccessFlags::W_OK;
    if nix::unistd::access("/dev/net/tun", rw).is_err() {
        return Err(SlirpError::NoTun);
    }
    let ns = netns::create().map_err(io_err("making a network namespace"))?;
    let (ready_r, ready_w) = nix::unistd::pipe().map_err(|e| io_err("making a pipe")(e.into()))?;
    let log_path = store.container_dir(id).join("slirp4netns.log");
    let log = File::create(&log_path).map_err(io_err("creating slirp4netns.log"))?;
    let mut cmd = Command::new("slirp4netns");
    cmd.args([
        "--configure",
        "--mtu=65520",
        "--netns-type=path",
        "--ready-fd=4",
        "--enable-sandbox",
        "--enable-seccomp",
    ]);
    if !allow_host_loopback {
        cmd.arg("--disable-host-loopback");
    }
    if !ports.is_empty() {
        cmd.arg(format!("--api-socket={API_SOCKET}"));
    }
    cmd.args(["/proc/self/fd/3", "tap0"])
        .current_dir(store.container_dir(id))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .process_group(0);
    let (ns_fd, ready_fd) = (ns.fd.as_raw_fd(), ready_w.as_raw_fd());
    // SAFETY: only dup2 and close_range between fork and exec. dup2 clears
    // close-on-exec on the new numbers, which hands them to slirp4netns;
    // every other descriptor is closed, so that it holds none of the
    // caller's pipes open (a detached start waits for one to close).
    unsafe {
        cmd.pre_exec(move || {
            for (from, to) in [(ns_fd, 3), (ready_fd, 4)] {
                if libc::dup2(from, to) < 0 {
                    return Err(io::Error::last_os_error());
                }
            }
            libc::syscall(libc::SYS_close_range, 5u32, u32::MAX, 0u32);
            Ok(())
        });
    }
    let mut child = cmd.spawn().map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => SlirpError::NotInstalled,
        _ => io_err("starting slirp4netns")(e),
    })?;
    drop(ready_w);
    if let Err(e) = wait_ready(ready_r) {
        end(&mut child);
        let log = fs::read_to_string(&log_path).unwrap_or_default();
        let why: Vec<&str> = log.lines().filter(|l| !l.trim().is_empty()).collect();
        let why = if why.is_empty() { e } else { why.join("; ") };
        return Err(SlirpError::NotReady(why));
    }
    let published = forward(store, id, ports)
        .and_then(|p| {
            fs::write(pid_file(store, id), child.id().to_string())
                .map_err(io_err("writing slirp4netns.pid"))?;
            Ok(p)
        })
        .inspect_err(|_| end(&mut child))?;
    Ok(Attached {
        netns: ns.fd,
        ports: published,
    })
}

fn end(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// Ask the container's slirp4netns to forward each of `ports`; a port
/// without a host port gets a free one of the host's. Returns them with
/// their host ports.
fn forward(store: &Store, id: &ContainerId, ports: &[Port]) -> Result<Vec<Port>, SlirpError> {
    if ports.is_empty() {
        return Ok(Vec::new());
    }
    let dir = File::open(store.container_dir(id)).map_err(io_err("opening its directory"))?;
    let socket = format!("/proc/self/fd/{}/{API_SOCKET}", dir.as_raw_fd());
    let mut done = Vec::new();
    for p in ports {
        let mut p = *p;
        let addr = p.host_ip.unwrap_or(Ipv4Addr::UNSPECIFIED);
        if p.host_port == 0 {
            p.host_port = free_port(addr, p.proto).map_err(io_err("finding a free port"))?;
        }
        let request = serde_json::json!({
            "execute": "add_hostfwd",
            "arguments": {
                "proto": p.proto.to_string(),
                "host_addr": addr.to_string(),
                "host_port": p.host_port,
                "guest_port": p.container_port,
            }
        });
        let answer = ask(&socket, &request).map_err(io_err("asking slirp4netns for a port"))?;
        if let Some(e) = answer.get("error") {
            return Err(SlirpError::Publish {
                port: format!("{} -> {}", p.host_side(), p.container_side()),
                message: e["desc"].as_str().unwrap_or("no reason given").to_string(),
            });
        }
        done.push(p);
    }
    Ok(done)
}

/// One request on slirp4netns's API socket, and its answer.
fn ask(socket: &str, request: &serde_json::Value) -> io::Result<serde_json::Value> {
    let mut s = UnixStream::connect(socket)?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    s.write_all(request.to_string().as_bytes())?;
    s.shutdown(std::net::Shutdown::Write)?;
    let mut answer = String::new();
    s.read_to_string(&mut answer)?;
    serde_json::from_str(&answer).map_err(io::Error::other)
}

/// A port of `addr` no socket is bound to now (the kernel's choice).
fn free_port(addr: Ipv4Addr, proto: Proto) -> io::Result<u16> {
    Ok(match proto {
        Proto::Tcp => std::net::TcpListener::bind((addr, 0))?.local_addr()?.port(),
        Proto::Udp => std::net::UdpSocket::bind((addr, 0))?.local_addr()?.port(),
    })
}

/// Wait (up to ten seconds) for the byte slirp4netns writes when tap0 is
/// configured; EOF means it exited.
fn wait_ready(r: OwnedFd) -> Result<(), String> {
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
    let mut f = File::from(r);
    let mut fds = [PollFd::new(std::os::fd::AsFd::as_fd(&f), PollFlags::POLLIN)];
    let ten = PollTimeout::try_from(Duration::from_secs(10)).unwrap_or(PollTimeout::MAX);
    match poll(&mut fds, ten) {
        Ok(0) => return Err("no answer in ten seconds".into()),
        Err(e) => return Err(e.to_string()),
        Ok(_) => {}
    }
    let mut b = [0u8; 1];
    match f.read(&mut b) {
        Ok(1) => Ok(()),
        _ => Err("it exited".into()),
    }
}

/// Stop the container's slirp4netns, if it has one (checked by name: a
/// reused pid is left alone).
pub fn stop(store: &Store, id: &ContainerId) {
    let path = pid_file(store, id);
    let Some(pid) = fs::read_to_string(&path)
        .ok()
        .and_then(|p| p.trim().parse::<i32>().ok())
    else {
        return;
    };
    let comm = fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
    if comm.trim_end() == "slirp4netns" {
        let pid = nix::unistd::Pid::from_raw(pid);
        // (it ignores SIGTERM)
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::SIGKILL);
        // Gone before this returns (a second or so at most): reaped here
        // when this process started it, else left to init as a zombie.
        for _ in 0..200 {
            let _ = nix::sys::wait::waitpid(pid, Some(nix::sys::wait::WaitPidFlag::WNOHANG));
            let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            if stat.is_empty() || stat.contains(") Z ") {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    let _ = fs::remove_file(path);
    let _ = fs::remove_file(store.container_dir(id).join(API_SOCKET));
}
