//! A new network namespace, made without a mount: a short-lived thread
//! unshares its own network namespace, opens it (`/proc/thread-self/ns/net`)
//! and a netlink socket inside it, and ends. The caller then holds the
//! namespace by that fd alone; once the container's processes have joined
//! it and the fd is closed, the namespace lives exactly as long as they do,
//! and the kernel destroys it, with the container's end of its veth pair
//! (and so the host's end), when the last of them exits. Nothing is left
//! to sweep after a crash.
//!
//! The thread is joined before this returns: the caller is single-threaded
//! again when it goes on to spawn the container.

use super::netlink::Netlink;
use nix::sched::{unshare, CloneFlags};
use std::fs::File;
use std::io;
use std::os::fd::OwnedFd;

/// The path by which this process (and only it, as long as `fd` is open)
/// opens the namespace `fd` holds: what a container is told to join.
pub fn path(fd: &OwnedFd) -> std::path::PathBuf {
    use std::os::fd::AsRawFd;
    format!("/proc/self/fd/{}", fd.as_raw_fd()).into()
}

/// A network namespace held by an fd, and a netlink socket inside it.
pub struct Netns {
    pub fd: OwnedFd,
    pub netlink: Netlink,
    /// Made by [`create`] and given no interface yet: `eth0` is free.
    pub fresh: bool,
}

/// The loopback device's index in every network namespace (the kernel
/// registers it first, under this fixed index).
const LOOPBACK_INDEX: u32 = 1;

/// A new network namespace with `lo` up and IPv6 off (as docker leaves a
/// container whose network has no IPv6).
pub fn create() -> io::Result<Netns> {
    std::thread::spawn(|| -> io::Result<Netns> {
        unshare(CloneFlags::CLONE_NEWNET)?;
        let fd = OwnedFd::from(File::open("/proc/thread-self/ns/net")?);
        let mut netlink = Netlink::open()?;
        netlink.set_up(LOOPBACK_INDEX)?;
        // Read in the thread's namespace: this namespace's setting.
        let _ = std::fs::write("/proc/sys/net/ipv6/conf/all/disable_ipv6", "1");
        let _ = std::fs::write("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1");
        Ok(Netns {
            fd,
            netlink,
            fresh: true,
        })
    })
    .join()
    .map_err(|_| io::Error::other("the thread making a network namespace panicked"))?
}

/// The network namespace at `path` (a running container's,
/// `/proc/PID/ns/net`), and a netlink socket inside it, opened by a
/// short-lived thread that joins it.
pub fn enter(path: &std::path::Path) -> io::Result<Netns> {
    let fd = OwnedFd::from(File::open(path)?);
    let theirs = fd.try_clone()?;
    let netlink = std::thread::spawn(move || -> io::Result<Netlink> {
        nix::sched::setns(theirs, CloneFlags::CLONE_NEWNET)?;
        Netlink::open()
    })
    .join()
    .map_err(|_| io::Error::other("the thread entering a network namespace panicked"))??;
    Ok(Netns {
        fd,
        netlink,
        fresh: false,
    })
}
