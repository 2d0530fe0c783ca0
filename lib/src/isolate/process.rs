//! Starting a process as an OCI runtime spec ([`super::spec`]) describes
//! it, with the runtime hardening runc applies (docs/security.md).
//!
//! The spec is read first into a [`Plan`] (plain data: which namespaces
//! are new and which are joined, what is mounted and masked, the user,
//! capabilities and filter), so a spec asking for what cairn cannot do is
//! refused before anything starts. For a new container ([`spawn`]) the
//! child is created with `clone(2)` in the new namespaces. It waits until
//! the parent has put it in its cgroup, enters a new cgroup namespace,
//! carries out the spec's mounts in the view (every target opened by fds
//! below the root, symlinks resolved inside it, and mounted through its
//! fd; bind mounts included), runs the createContainer hooks, pivots into it
//! (never chroot), masks and write-protects the spec's paths, drops to the
//! spec's capabilities with `no_new_privs`, closes every inherited fd
//! beyond 0-2, installs the seccomp filter, runs the startContainer hooks
//! ([`super::hooks`]) and executes the command, which
//! is pid 1 of its namespace. [`spawn_into`] starts a process in the
//! namespaces of a running one the same way (`exec`). A failure before
//! `execve` is reported to the parent through a close-on-exec pipe with the
//! exit status it means: 125 (setup failed), 126 (cannot execute), 127 (not
//! found).

use super::cgroup::Cgroup;
use super::rootfs::RootfsStep;
use super::spec::{Spec, Unsupported};
use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sched::{setns, unshare, CloneFlags};
use nix::sys::signal::{sigprocmask, SigSet, SigmaskHow, Signal};
use nix::sys::stat::Mode;
use nix::unistd::{chdir, dup2, execve, sethostname, Gid, Pid, Uid};
use oci_spec::runtime::{LinuxNamespaceType, Process};
use std::convert::Infallible;
use std::ffi::CString;
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};

pub use super::spec::Net;

/// What a process needs beside its spec: the fds to become its 0, 1, 2
/// (`None`: inherit) and the cgroup to put it in.
#[derive(Default)]
pub struct Io<'a> {
    pub stdio: [Option<RawFd>; 3],
    pub cgroup: Option<&'a Cgroup>,
    /// A unix socket for a terminal of the container's own: inside its
    /// root the child opens a new pty from the container's /dev/ptmx,
    /// makes the slave its 0, 1 and 2, and sends the master on this
    /// socket (runc's console socket). The pty is then in the container's
    /// /dev/pts, so `tty` names it.
    pub console: Option<RawFd>,
    /// The state the spec's createContainer and startContainer hooks get
    /// on stdin (`ociVersion`, `id`, `bundle`: the runtime's), to which
    /// the process adds its status and pid ([`super::hooks`]).
    pub state: Option<&'a serde_json::Value>,
}

#[derive(Debug, thiserror::Error)]
pub enum SpawnError {
    /// The child failed before `execve`; `code` is 125, 126 or 127.
    #[error("{msg}")]
    Child { code: i32, msg: String },
    #[error("{what}")]
    Sys { what: String, source: io::Error },
    /// SIGINT, SIGTERM, SIGHUP or SIGQUIT came while the process was being
    /// set up; it was killed.
    #[error("interrupted by {0} while starting the process")]
    Interrupted(Signal),
    /// The spec asks for what cairn does not do; nothing was started.
    #[error("the runtime spec: {0}")]
    Unsupported(Unsupported),
    /// An init (which stays in the container for its whole life) would run
    /// from the host's binary, which a container with CAP_SYS_PTRACE can
    /// reach through /proc/1/exe ([`super::exe`]).
    #[error("an init stays in the container, so it must run from a sealed view of the binary, not from the host's file")]
    UnsealedInit,
}

impl SpawnError {
    /// The exit status this failure means (chroot's convention).
    pub fn exit_code(&self) -> i32 {
        match self {
            SpawnError::Child { code, .. } => *code,
            SpawnError::Sys { .. } | SpawnError::Unsupported(_) | SpawnError::UnsealedInit => 125,
            SpawnError::Interrupted(sig) => 128 + *sig as i32,
        }
    }
}

fn sys(what: impl Into<String>) -> impl FnOnce(Errno) -> SpawnError {
    let what = what.into();
    move |e| SpawnError::Sys {
        what,
        source: e.into(),
    }
}

/// A failure inside the child: exit status and message.
#[derive(Debug)]
pub(super) struct Fail(pub(super) i32, pub(super) String);

/// `what` failed because of `e`: the message carries `e`'s whole chain, as
/// the parent gets only this text.
pub(super) fn ctx<T, E: std::error::Error>(r: Result<T, E>, what: &str) -> Result<T, Fail> {
    r.map_err(|e| Fail(125, format!("{what}: {}", crate::error::one_line(&e))))
}

fn pipe() -> Result<(OwnedFd, OwnedFd), SpawnError> {
    nix::unistd::pipe2(OFlag::O_CLOEXEC).map_err(sys("pipe"))
}

/// The five capability sets of a process, by number.
#[derive(Debug, Clone, PartialEq, Eq)]
struct CapSets {
    bounding: Vec<u32>,
    effective: Vec<u32>,
    permitted: Vec<u32>,
    inheritable: Vec<u32>,
    ambient: Vec<u32>,
}

/// The process part of a [`Plan`].
#[derive(Debug, Clone, PartialEq, Eq)]
struct Proc<'s> {
    args: &'s [String],
    env: &'s [String],
    /// Absolute, inside the container; made if missing.
    cwd: String,
    uid: u32,
    gid: u32,
    /// The supplementary groups.
    groups: Vec<u32>,
    umask: u32,
    /// `None`: the capabilities are left as they are.
    caps: Option<CapSets>,
    no_new_privs: bool,
    /// The seccomp filter to load, compiled from the spec's profile.
    seccomp: Option<super::seccomp::Filter>,
    /// fd 0 becomes the controlling terminal.
    terminal: bool,
    /// The process outlives the one that starts it: no parent-death
    /// signal (a detached `create` or `exec`, reaped by whoever inherits
    /// it).
    detached: bool,
    /// Where the process waits before `execve` (a gated spawn).
    gate: Option<Gate>,
    /// `setrlimit(2)`s: resource, soft and hard limit.
    rlimits: Vec<(u32, u64, u64)>,
    /// Written to /proc/self/oom_score_adj.
    oom_score_adj: Option<i32>,
    /// The terminal's size (rows, columns), set on the pty made for it.
    console_size: Option<(u16, u16)>,
    /// `personality(2)`'s persona (`linux.personality`).
    persona: Option<libc::c_ulong>,
    /// Stay as the container's init, the command a child ([`super::init`]).
    init: bool,
    /// Run by the process just before `execve`.
    start_hooks: Vec<oci_spec::runtime::Hook>,
    /// The rlimits and OOM score were set from outside, with the host's
    /// privileges (the process is in a user namespace of its own, where
    /// it could not raise them).
    limits_set: bool,
}

/// The resource number of an rlimit of the spec.
fn rlimit_resource(t: oci_spec::runtime::PosixRlimitType) -> u32 {
    use oci_spec::runtime::PosixRlimitType::*;
    let r = match t {
        RlimitCpu => libc::RLIMIT_CPU,
        RlimitFsize => libc::RLIMIT_FSIZE,
        RlimitData => libc::RLIMIT_DATA,
        RlimitStack => libc::RLIMIT_STACK,
        RlimitCore => libc::RLIMIT_CORE,
        RlimitRss => libc::RLIMIT_RSS,
        RlimitNproc => libc::RLIMIT_NPROC,
        RlimitNofile => libc::RLIMIT_NOFILE,
        RlimitMemlock => libc::RLIMIT_MEMLOCK,
        RlimitAs => libc::RLIMIT_AS,
        RlimitLocks => libc::RLIMIT_LOCKS,
        RlimitSigpending => libc::RLIMIT_SIGPENDING,
        RlimitMsgqueue => libc::RLIMIT_MSGQUEUE,
        RlimitNice => libc::RLIMIT_NICE,
        RlimitRtprio => libc::RLIMIT_RTPRIO,
        RlimitRttime => libc::RLIMIT_RTTIME,
    };
    // c_uint on glibc, c_int on musl
    #[allow(clippy::unnecessary_cast)]
    let r = r as u32;
    r
}

/// The spec's rlimits and OOM score, while the capabilities to raise
/// them are still held.
fn apply_limits(p: &Proc<'_>) -> Result<(), Fail> {
    if p.limits_set {
        return Ok(());
    }
    for &(resource, soft, hard) in &p.rlimits {
        let lim = libc::rlimit {
            rlim_cur: soft,
            rlim_max: hard,
        };
        // SAFETY: setrlimit reads the rlimit we pass.
        if unsafe { libc::setrlimit(resource as _, &lim) } < 0 {
            let e = io::Error::last_os_error();
            return Err(Fail(
                125,
                format!("setrlimit({resource}, {soft}, {hard}): {e}"),
            ));
        }
    }
    if let Some(adj) = p.oom_score_adj {
        ctx(
            std::fs::write("/proc/self/oom_score_adj", adj.to_string()),
            "writing /proc/self/oom_score_adj",
        )?;
    }
    Ok(())
}

/// The start gate of a created container ([`spawn_gated`]): once set up,
/// the child says so on `ready` (and closes it), then opens the fifo `fifo`
/// (an `O_PATH` fd) for writing, which blocks until the container is
/// started by opening its other end; it writes one byte there and goes on
/// to `execve`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Gate {
    fifo: RawFd,
    ready: RawFd,
}

/// The root file system part of a [`Plan`].
#[derive(Debug, Clone, PartialEq, Eq)]
struct Root<'s> {
    path: PathBuf,
    readonly: bool,
    steps: Vec<RootfsStep>,
    /// `linux.rootfsPropagation`, set on `/` once pivoted into it.
    propagation: Option<nix::mount::MsFlags>,
    masked: &'s [String],
    readonly_paths: &'s [String],
    /// A `cgroup` mount: the container's own cgroups.
    cgroup: Option<super::sysfs::CgroupMount>,
    /// The spec's sysctls: file under /proc/sys, value.
    sysctl: Vec<(String, String)>,
    /// Run once the mounts are made, before `pivot_root`.
    create_hooks: Vec<oci_spec::runtime::Hook>,
}

/// What a spec asks of the runtime, read and checked before anything is
/// started.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Plan<'s> {
    /// Namespaces made new by `clone(2)`.
    new: CloneFlags,
    /// A new cgroup namespace, entered once the process is in its cgroup.
    new_cgroup: bool,
    /// Namespaces joined by path, in the order they are joined (the mount
    /// namespace last: it changes what paths mean).
    join: Vec<(PathBuf, CloneFlags)>,
    hostname: Option<&'s str>,
    domainname: Option<&'s str>,
    /// `None` for a process joining a running container.
    root: Option<Root<'s>>,
    process: Proc<'s>,
    /// The maps of a new user namespace (`CLONE_NEWUSER` in `new`).
    userns: Option<super::idmap::IdMaps>,
}

fn unsupported(what: Unsupported) -> SpawnError {
    SpawnError::Unsupported(what)
}

/// The clone flag of a namespace type, and its rank in the order of
/// joining.
fn ns_flag(t: LinuxNamespaceType) -> Result<(CloneFlags, u8), SpawnError> {
    use LinuxNamespaceType::*;
    // The user namespace first: the others a container made are its.
    Ok(match t {
        User => (CloneFlags::CLONE_NEWUSER, 0),
        Cgroup => (CloneFlags::CLONE_NEWCGROUP, 1),
        Ipc => (CloneFlags::CLONE_NEWIPC, 2),
        Uts => (CloneFlags::CLONE_NEWUTS, 3),
        Network => (CloneFlags::CLONE_NEWNET, 4),
        Pid => (CloneFlags::CLONE_NEWPID, 5),
        Mount => (CloneFlags::CLONE_NEWNS, 6),
        Time => return Err(unsupported(Unsupported::Namespace(t.to_string()))),
    })
}

/// Refuse what a spec may ask for and cairn does not do yet, naming it,
/// rather than run the container without it.
fn refuse_unsupported(spec: &Spec, linux: &oci_spec::runtime::Linux) -> Result<(), SpawnError> {
    let some = |set: bool, what: &'static str| set.then_some(what);
    let asked = [
        some(
            spec.hooks().as_ref().is_some_and(|h| {
                let set = |v: &Option<Vec<_>>| v.as_ref().is_some_and(|v| !v.is_empty());
                set(h.prestart())
                    || set(h.create_runtime())
                    || set(h.poststart())
                    || set(h.poststop())
            }),
            "hooks but createContainer and startContainer (a runtime runs the others)",
        ),
        some(linux.intel_rdt().is_some(), "linux.intelRdt"),
        some(linux.mount_label().is_some(), "linux.mountLabel"),
        some(linux.memory_policy().is_some(), "linux.memoryPolicy"),
        some(linux.time_offsets().is_some(), "linux.timeOffsets"),
        some(linux.net_devices().is_some(), "linux.netDevices"),
        some(
            spec.mounts().iter().flatten().any(|m| {
                m.uid_mappings().as_ref().is_some_and(|v| !v.is_empty())
                    || m.gid_mappings().as_ref().is_some_and(|v| !v.is_empty())
            }),
            "id-mapped mounts (mounts[].uidMappings)",
        ),
    ];
    if let Some(what) = asked.into_iter().flatten().next() {
        return Err(unsupported(Unsupported::Field(what)));
    }
    super::spec::check_resources(spec).map_err(unsupported)?;
    if let Some(p) = linux.personality() {
        if p.flags().as_ref().is_some_and(|f| !f.is_empty()) {
            return Err(unsupported(Unsupported::Personality(
                "flags are not supported (runc ignores them): leave them out".into(),
            )));
        }
    }
    Ok(())
}

/// `personality(2)`'s persona for the spec's `linux.personality`.
fn persona(linux: &oci_spec::runtime::Linux) -> Option<libc::c_ulong> {
    use oci_spec::runtime::LinuxPersonalityDomain::*;
    linux.personality().as_ref().map(|p| match p.domain() {
        PerLinux => 0x0000,
        PerLinux32 => 0x0008,
    })
}

/// The spec's seccomp filter, compiled here, before the start: a profile
/// cairn cannot compile is refused, never loaded in part.
fn compile_seccomp(
    linux: &oci_spec::runtime::Linux,
) -> Result<Option<super::seccomp::Filter>, SpawnError> {
    linux
        .seccomp()
        .as_ref()
        .map(super::seccomp::Filter::from_spec)
        .transpose()
        .map_err(|e| unsupported(Unsupported::Seccomp(e.to_string())))
}

/// The spec's last `cgroup` mount (made apart, from the container's own
/// cgroups: [`super::sysfs`]) and its other mounts.
fn cgroup_mount(
    mounts: &[oci_spec::runtime::Mount],
) -> (
    Option<super::sysfs::CgroupMount>,
    Vec<oci_spec::runtime::Mount>,
) {
    let is_cgroup = |m: &oci_spec::runtime::Mount| m.typ().as_deref() == Some("cgroup");
    let cgroup = mounts.iter().rfind(|m| is_cgroup(m)).map(|m| {
        let options = m.options().as_deref().unwrap_or_default();
        super::sysfs::CgroupMount {
            target: m.destination().display().to_string(),
            readonly: options.iter().any(|o| o == "ro"),
        }
    });
    let rest = mounts.iter().filter(|m| !is_cgroup(m)).cloned().collect();
    (cgroup, rest)
}

impl<'s> Plan<'s> {
    /// Read `spec`: for a new container (`joining` false) or for a process
    /// joining a running one, every namespace of which the spec then names
    /// by path.
    fn read(spec: &'s Spec, joining: bool) -> Result<Plan<'s>, SpawnError> {
        let linux = spec
            .linux()
            .as_ref()
            .ok_or(unsupported(Unsupported::Missing("linux")))?;
        refuse_unsupported(spec, linux)?;
        let (mut new, mut new_cgroup, mut join) = (CloneFlags::empty(), false, Vec::new());
        for ns in linux.namespaces().iter().flatten() {
            let (flag, rank) = ns_flag(ns.typ())?;
            match ns.path() {
                Some(p) => join.push((rank, p.clone(), flag)),
                None if joining => {
                    return Err(unsupported(Unsupported::JoinWithoutPath(
                        ns.typ().to_string(),
                    )))
                }
                None if flag == CloneFlags::CLONE_NEWCGROUP => new_cgroup = true,
                None => new |= flag,
            }
        }
        join.sort_by_key(|(rank, _, _)| *rank);
        let join: Vec<_> = join.into_iter().map(|(_, p, f)| (p, f)).collect();
        let userns = Self::userns(linux, new, &join, joining)?;
        let root = if joining {
            None
        } else {
            if !new.contains(CloneFlags::CLONE_NEWNS) {
                return Err(unsupported(Unsupported::SharedNamespaces));
            }
            let names = spec.hostname().is_some() || spec.domainname().is_some();
            if names && !new.contains(CloneFlags::CLONE_NEWUTS) {
                // it would rename the host
                return Err(unsupported(Unsupported::HostnameWithoutUts));
            }
            let root = spec
                .root()
                .as_ref()
                .ok_or(unsupported(Unsupported::Missing("root")))?;
            let (cgroup, mounts) = cgroup_mount(spec.mounts().as_deref().unwrap_or_default());
            // no device node can be made in a user namespace: the host's are bound
            let bind_devices = userns.is_some() || crate::userns::rootless();
            let mut steps =
                super::rootfs::rootfs_plan(&mounts, bind_devices).map_err(unsupported)?;
            let devices = linux.devices().as_deref().unwrap_or_default();
            let nodes = super::rootfs::device_plan(devices, bind_devices);
            steps.extend(nodes.map_err(unsupported)?);
            let propagation = linux
                .rootfs_propagation()
                .as_deref()
                .filter(|p| !p.is_empty())
                .map(super::rootfs::propagation)
                .transpose()
                .map_err(unsupported)?;
            let own_net = new.contains(CloneFlags::CLONE_NEWNET) || !join.is_empty();
            let sysctl = linux
                .sysctl()
                .iter()
                .flatten()
                .map(|(k, v)| Ok((super::sysfs::sysctl_path(k, new, own_net)?, v.clone())))
                .collect::<Result<_, Unsupported>>()
                .map_err(unsupported)?;
            Some(Root {
                path: root.path().clone(),
                readonly: root.readonly().unwrap_or(false),
                steps,
                propagation,
                masked: linux.masked_paths().as_deref().unwrap_or_default(),
                readonly_paths: linux.readonly_paths().as_deref().unwrap_or_default(),
                cgroup,
                sysctl,
                create_hooks: super::hooks::Inside::of(spec.hooks().as_ref()).create_container,
            })
        };
        let process = spec
            .process()
            .as_ref()
            .ok_or(unsupported(Unsupported::Missing("process")))?;
        let mut process = Proc::read(process)?;
        process.persona = persona(linux);
        process.init = !joining
            && spec
                .annotations()
                .as_ref()
                .and_then(|a| a.get(super::init::ANNOTATION))
                .is_some_and(|v| v == "true");
        if !joining {
            process.start_hooks = super::hooks::Inside::of(spec.hooks().as_ref()).start_container;
        }
        process.seccomp = compile_seccomp(linux)?;
        Ok(Plan {
            new,
            new_cgroup,
            join,
            hostname: spec.hostname().as_deref().filter(|_| !joining),
            domainname: spec.domainname().as_deref().filter(|_| !joining),
            root,
            process,
            userns,
        })
    }

    /// The maps of the new user namespace the spec asks for, if any. A
    /// process joining a running container joins its user namespace by
    /// path; a new container may not (runc's would need the other new
    /// namespaces made inside it by a second process).
    fn userns(
        linux: &oci_spec::runtime::Linux,
        new: CloneFlags,
        join: &[(PathBuf, CloneFlags)],
        joining: bool,
    ) -> Result<Option<super::idmap::IdMaps>, SpawnError> {
        if !new.contains(CloneFlags::CLONE_NEWUSER) {
            let by_path = join.iter().find(|(_, f)| *f == CloneFlags::CLONE_NEWUSER);
            if let (Some((p, _)), false) = (by_path, joining) {
                return Err(unsupported(Unsupported::JoinUserNamespace(p.clone())));
            }
            if !joining && by_path.is_none() {
                if let Some(e) = super::idmap::stray(linux) {
                    return Err(unsupported(e));
                }
            }
            return Ok(None);
        }
        super::idmap::read(linux).map(Some).map_err(unsupported)
    }
}

impl<'s> Proc<'s> {
    fn read(p: &'s Process) -> Result<Proc<'s>, SpawnError> {
        if p.apparmor_profile().is_some() || p.selinux_label().is_some() {
            return Err(unsupported(Unsupported::Field(
                "process.apparmorProfile or selinuxLabel",
            )));
        }
        if p.io_priority().is_some() || p.scheduler().is_some() || p.exec_cpu_affinity().is_some() {
            return Err(unsupported(Unsupported::Field(
                "process.ioPriority, scheduler or execCPUAffinity",
            )));
        }
        let console_size = p.console_size().as_ref().map(|b| {
            let clamp = |n: u64| u16::try_from(n).unwrap_or(u16::MAX);
            (clamp(b.height()), clamp(b.width()))
        });
        let rlimits = p
            .rlimits()
            .iter()
            .flatten()
            .map(|r| (rlimit_resource(r.typ()), r.soft(), r.hard()))
            .collect();
        let caps = p.capabilities().as_ref().map(|c| {
            let set = |s: &Option<oci_spec::runtime::Capabilities>| {
                s.as_ref().map(super::caps::from_spec).unwrap_or_default()
            };
            CapSets {
                bounding: set(c.bounding()),
                effective: set(c.effective()),
                permitted: set(c.permitted()),
                inheritable: set(c.inheritable()),
                ambient: set(c.ambient()),
            }
        });
        let user = p.user();
        let cwd = p
            .cwd()
            .to_str()
            .filter(|c| c.starts_with('/'))
            .ok_or_else(|| unsupported(Unsupported::Cwd(p.cwd().clone())))?;
        Ok(Proc {
            args: p.args().as_deref().unwrap_or_default(),
            env: p.env().as_deref().unwrap_or_default(),
            cwd: cwd.to_string(),
            uid: user.uid(),
            gid: user.gid(),
            groups: user.additional_gids().clone().unwrap_or_default(),
            umask: user.umask().unwrap_or(0o022),
            caps,
            no_new_privs: p.no_new_privileges().unwrap_or(false),
            seccomp: None,
            terminal: p.terminal().unwrap_or(false),
            detached: false,
            gate: None,
            rlimits,
            oom_score_adj: p.oom_score_adj(),
            console_size,
            persona: None,
            init: false,
            start_hooks: Vec::new(),
            limits_set: false,
        })
    }
}

/// Start the process `spec` describes, with `io`. Returns its pid (as the
/// host sees it) once it has executed the command.
pub fn spawn(spec: &Spec, io: &Io<'_>) -> Result<Pid, SpawnError> {
    start(spec, io, None, false)
}

/// Start the process `spec` describes, with `io`, as far as its start
/// gate: set up in every way but stopped before `execve` until the fifo
/// `fifo` is opened for reading (runc's `exec.fifo`; see
/// [`open_gate`]). Returns its pid once it waits there. With `detached`
/// it does not die with its caller, whose exit leaves it to be reaped by
/// whoever inherits it (`create`); else it is killed when the caller
/// dies, as [`spawn`]'s (a foreground run with hooks). A command that
/// cannot be found fails here, before the gate.
pub fn spawn_gated(
    spec: &Spec,
    io: &Io<'_>,
    fifo: &Path,
    detached: bool,
) -> Result<Pid, SpawnError> {
    let gate = nix::fcntl::open(fifo, OFlag::O_PATH | OFlag::O_CLOEXEC, Mode::empty())
        .map_err(sys(format!("opening {}", fifo.display())))?;
    start(spec, io, Some(gate.as_fd()), detached)
}

/// Start a process waiting at the gate `fifo` ([`spawn_gated`]): open the
/// fifo for reading without blocking, and wait for the byte the process
/// writes on its way to `execve`, asking `alive` every tenth of a second
/// whether it still lives (a dead one never writes). `Ok(false)`: it is
/// gone, or was started already (the fifo gave nothing).
pub fn open_gate(fifo: &Path, alive: impl Fn() -> bool) -> Result<bool, SpawnError> {
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
    let fd = nix::fcntl::open(
        fifo,
        OFlag::O_RDONLY | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(sys(format!("opening {}", fifo.display())))?;
    let mut b = [0u8; 1];
    loop {
        let mut fds = [PollFd::new(fd.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, PollTimeout::from(100u8)) {
            Err(Errno::EINTR) | Ok(0) if alive() => continue,
            Err(Errno::EINTR) | Ok(0) => return Ok(false),
            Err(e) => return Err(sys("poll")(e)),
            Ok(_) => {}
        }
        // Readable, or its writer closed: the byte, or nothing.
        return match nix::unistd::read(&fd, &mut b) {
            Ok(n) => Ok(n == 1),
            Err(Errno::EAGAIN) => continue,
            Err(e) => Err(sys(format!("reading {}", fifo.display()))(e)),
        };
    }
}

/// The namespaces `plan` joins, opened here, in the caller, so a path
/// only the caller can open (`/proc/self/fd/N`, a namespace it holds by
/// an fd) works, and a bad path fails before anything starts.
fn open_joined(plan: &Plan<'_>) -> Result<Vec<(OwnedFd, CloneFlags)>, SpawnError> {
    plan.join
        .iter()
        .map(|(p, flag)| {
            File::open(p)
                .map(|f| (OwnedFd::from(f), *flag))
                .map_err(|source| SpawnError::Sys {
                    what: format!("opening {}", p.display()),
                    source,
                })
        })
        .collect()
}

/// Join the pid namespace among `joined`, if any, for the children of
/// this process (a pid namespace is its joiner's children's): the clone
/// lands in it. Returns this process's own, to go back to after the clone.
fn enter_pid_ns(joined: &[(OwnedFd, CloneFlags)]) -> Result<Option<OwnedFd>, SpawnError> {
    let Some((fd, _)) = joined.iter().find(|(_, f)| *f == CloneFlags::CLONE_NEWPID) else {
        return Ok(None);
    };
    let own = nix::fcntl::open(
        "/proc/self/ns/pid",
        OFlag::O_RDONLY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(sys("opening /proc/self/ns/pid"))?;
    setns(fd, CloneFlags::CLONE_NEWPID).map_err(sys("joining the pid namespace"))?;
    Ok(Some(own))
}

/// [`spawn`], or [`spawn_gated`] at `gate`.
fn start(
    spec: &Spec,
    io: &Io<'_>,
    gate: Option<BorrowedFd<'_>>,
    detached: bool,
) -> Result<Pid, SpawnError> {
    let mut plan = Plan::read(spec, false)?;
    if plan.process.init && !super::exe::running_sealed() {
        return Err(SpawnError::UnsealedInit);
    }
    let joined = open_joined(&plan)?;
    let joined_raw: Vec<(RawFd, CloneFlags)> =
        joined.iter().map(|(f, c)| (f.as_raw_fd(), *c)).collect();
    let (go_r, go_w) = pipe()?;
    let (err_r, err_w) = pipe()?;
    let ready = gate.map(|_| pipe()).transpose()?;
    if let (Some(g), Some((_, w))) = (gate, &ready) {
        plan.process.detached = detached;
        plan.process.gate = Some(Gate {
            fifo: g.as_raw_fd(),
            ready: w.as_raw_fd(),
        });
    }
    plan.process.limits_set = plan.userns.is_some();
    let mut stack = vec![0u8; 1 << 20];
    let pid_ns = enter_pid_ns(&joined)?;
    let go_raw = go_r.as_raw_fd();
    let err_raw = err_w.as_raw_fd();
    let plan_ref = &plan;
    let cb = Box::new(move || -> isize {
        // SAFETY: these fds were open in the parent and are copies in this child.
        let go = unsafe { BorrowedFd::borrow_raw(go_raw) };
        let err = unsafe { BorrowedFd::borrow_raw(err_raw) };
        // Nothing of the host's (the store's locks, the caller's pipes)
        // comes along but what the child needs.
        let mut keep = vec![go_raw, err_raw];
        keep.extend(io.stdio.iter().flatten());
        keep.extend(io.console);
        keep.extend(plan_ref.process.gate.iter().flat_map(|g| [g.fifo, g.ready]));
        keep.extend(joined_raw.iter().map(|(fd, _)| *fd));
        let r = close_except(&keep).map_err(|e| Fail(125, format!("closing inherited fds: {e}")));
        let Err(Fail(code, msg)) = r.and_then(|()| child(plan_ref, io, go, &joined_raw));
        let mut f = File::from(err.try_clone_to_owned().expect("dup of the error pipe"));
        let _ = write!(f, "{code} {msg}");
        code as isize
    });
    // SAFETY: the process is single-threaded here (the tools never start
    // threads before spawning), so the child may allocate; it only returns
    // through the callback's status or replaces itself with execve.
    let cloned = unsafe { nix::sched::clone(cb, &mut stack, plan.new, Some(libc::SIGCHLD)) };
    if let Some(own) = pid_ns {
        // hooks and later children are the host's again
        setns(own, CloneFlags::CLONE_NEWPID).map_err(sys("going back to the pid namespace"))?;
    }
    let pid = cloned.map_err(sys("clone"))?;
    drop(go_r);
    drop(err_w);
    let ready_r = ready.map(|(r, _w)| r);
    let abort = |e: SpawnError| {
        let _ = nix::sys::signal::kill(pid, Signal::SIGKILL);
        let _ = nix::sys::wait::waitpid(pid, None);
        e
    };
    if let Some(cg) = io.cgroup {
        cg.add(pid.as_raw()).map_err(|e| {
            abort(SpawnError::Sys {
                what: "joining the cgroup".into(),
                source: io::Error::other(e),
            })
        })?;
    }
    if let Some(maps) = &plan.userns {
        enter_userns_from_outside(pid, maps, &plan.process).map_err(abort)?;
    }
    File::from(go_w).write_all(b"g").map_err(|e| {
        abort(SpawnError::Sys {
            what: "starting the child".into(),
            source: e,
        })
    })?;
    if let Some(r) = ready_r {
        // "r" and the end of the pipe: it waits at the gate. The end
        // alone: it failed, and says why on the error pipe.
        if read_report(r).map_err(abort)? == "r" {
            return Ok(pid);
        }
    }
    let msg = read_report(err_r).map_err(abort)?;
    if msg.is_empty() && gate.is_none() {
        return Ok(pid);
    }
    let _ = nix::sys::wait::waitpid(pid, None);
    if msg.is_empty() {
        return Err(SpawnError::Child {
            code: 125,
            msg: "the process ended before its start gate".into(),
        });
    }
    let (code, text) = msg.split_once(' ').unwrap_or(("125", msg.as_str()));
    Err(SpawnError::Child {
        code: code.parse().unwrap_or(125),
        msg: text.to_string(),
    })
}

/// In the runtime, while the child `pid` waits in its new user
/// namespace: what takes the host's privileges (its maps, rlimits and OOM
/// score; [`super::idmap`]).
fn enter_userns_from_outside(
    pid: Pid,
    maps: &super::idmap::IdMaps,
    p: &Proc<'_>,
) -> Result<(), SpawnError> {
    super::idmap::write_maps(pid.as_raw(), maps)
        .and_then(|()| super::idmap::apply_limits_to(pid.as_raw(), &p.rlimits, p.oom_score_adj))
        .map_err(|source| SpawnError::Sys {
            what: "setting up the user namespace".into(),
            source,
        })
}

/// In the child, its maps written: root of its user namespace. The change
/// of user resets what the kernel resets on one: it is made undumpable and
/// given its parent-death signal again.
fn become_userns_root(p: &Proc<'_>) -> Result<(), Fail> {
    ctx(
        super::idmap::become_root(),
        "becoming root of the user namespace",
    )?;
    ctx(super::exe::set_undumpable(), "prctl(PR_SET_DUMPABLE)")?;
    if !p.detached {
        ctx(parent_death_kill(), "prctl(PR_SET_PDEATHSIG)")?;
    }
    Ok(())
}

/// Put the fds `stdio` names on 0, 1 and 2.
fn redirect_stdio(stdio: &[Option<RawFd>; 3]) -> Result<(), Fail> {
    for (i, fd) in stdio.iter().enumerate() {
        if let Some(fd) = fd {
            if *fd != i as RawFd {
                // SAFETY: i is 0..2, a standard descriptor slot.
                let mut target = unsafe { OwnedFd::from_raw_fd(i as RawFd) };
                // SAFETY: fd is an open descriptor handed in by the caller.
                ctx(
                    dup2(unsafe { BorrowedFd::borrow_raw(*fd) }, &mut target),
                    "redirecting stdio",
                )?;
                std::mem::forget(target);
            }
        }
    }
    Ok(())
}

/// The child: set everything up and execute. Returns only on failure.
fn child(
    plan: &Plan<'_>,
    io: &Io<'_>,
    go: BorrowedFd<'_>,
    joined: &[(RawFd, CloneFlags)],
) -> Result<Infallible, Fail> {
    ctx(super::exe::set_undumpable(), "prctl(PR_SET_DUMPABLE)")?;
    // The container dies with the process that started it (a killed
    // `cairn run` leaves nothing running unsupervised). Had the parent
    // died before this, the read of `go` below sees its end closed. A
    // detached one is left to whoever inherits it.
    if !plan.process.detached {
        ctx(parent_death_kill(), "prctl(PR_SET_PDEATHSIG)")?;
    }
    reset_signals();
    nix::sys::stat::umask(Mode::empty());
    redirect_stdio(&io.stdio)?;
    // Wait until the parent has put us in our cgroup.
    let mut b = [0u8; 1];
    let n = ctx(nix::unistd::read(go, &mut b), "waiting for the parent")?;
    if n == 0 {
        return Err(Fail(125, "the parent went away before the start".into()));
    }
    if plan.userns.is_some() {
        become_userns_root(&plan.process)?;
    }
    if plan.new_cgroup {
        ctx(
            unshare(CloneFlags::CLONE_NEWCGROUP),
            "unshare cgroup namespace",
        )?;
    }
    if plan.new.contains(CloneFlags::CLONE_NEWNET) {
        ctx(loopback_up(), "bringing up lo")?;
    }
    for ((fd, flag), (p, _)) in joined.iter().zip(&plan.join) {
        if *flag == CloneFlags::CLONE_NEWPID {
            // joined by the parent for the clone
            continue;
        }
        // SAFETY: opened by the parent before the clone, kept open above.
        let f = unsafe { BorrowedFd::borrow_raw(*fd) };
        ctx(
            setns(f, *flag),
            &format!("joining namespace {}", p.display()),
        )?;
    }
    if let Some(h) = plan.hostname {
        ctx(sethostname(h), "sethostname")?;
    }
    if let Some(d) = plan.domainname {
        // SAFETY: the pointer and length are those of a live &str.
        let r = unsafe { libc::setdomainname(d.as_ptr().cast(), d.len()) };
        ctx(Errno::result(r), "setdomainname")?;
    }
    if let Some(root) = &plan.root {
        let cgroups = match (&root.cgroup, io.cgroup) {
            (None, _) => None,
            (Some(_), Some(cg)) => Some(super::sysfs::open_cgroups(cg)?),
            (Some(m), None) => {
                return Err(Fail(
                    125,
                    format!("a cgroup mount on {}: the process has no cgroup", m.target),
                ))
            }
        };
        let create_hooks = || {
            let state = super::hooks::state_here(io.state, "creating");
            ctx(chdir(&root.path), "chdir to the root file system")?;
            super::hooks::run_inside(&root.create_hooks, "createContainer", &state)
                .map_err(|e| Fail(1, e))
        };
        super::rootfs::prepare_rootfs(
            &root.path,
            &root.steps,
            root.readonly,
            root.propagation,
            create_hooks,
        )?;
        if let (Some(m), Some(opened)) = (&root.cgroup, &cgroups) {
            super::sysfs::mount_cgroups(m, opened)?;
        }
        drop(cgroups);
        super::sysfs::write_sysctls(&root.sysctl)?;
        super::rootfs::mask_paths(root.masked, root.readonly_paths)?;
    }
    if let Some(sock) = io.console {
        open_console(sock, plan.process.console_size)?;
    }
    become_process(&plan.process, io.state)
}

/// In the child, inside the container's root: a new pty from its
/// /dev/ptmx; the slave becomes 0, 1 and 2, the master is sent on `sock`.
fn open_console(sock: RawFd, size: Option<(u16, u16)>) -> Result<(), Fail> {
    use nix::sys::socket::{sendmsg, ControlMessage, MsgFlags, UnixAddr};
    let master = ctx(
        nix::pty::posix_openpt(OFlag::O_RDWR | OFlag::O_NOCTTY | OFlag::O_CLOEXEC),
        "opening the container's /dev/ptmx",
    )?;
    ctx(nix::pty::unlockpt(&master), "unlocking the pty")?;
    if let Some((rows, cols)) = size {
        let ws = libc::winsize {
            ws_row: rows,
            ws_col: cols,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        // SAFETY: TIOCSWINSZ reads a winsize that lives across the call.
        let r = unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCSWINSZ, &ws) };
        ctx(Errno::result(r), "setting the terminal's size")?;
    }
    // SAFETY: TIOCGPTPEER opens this master's slave (no path lookup) and
    // returns a new descriptor, or -1.
    let slave = unsafe {
        libc::ioctl(
            master.as_raw_fd(),
            libc::TIOCGPTPEER,
            libc::O_RDWR | libc::O_NOCTTY,
        )
    };
    if slave < 0 {
        let e = io::Error::last_os_error();
        return Err(Fail(125, format!("opening the pty's slave: {e}")));
    }
    // SAFETY: a descriptor just opened, owned here.
    let slave = unsafe { OwnedFd::from_raw_fd(slave) };
    redirect_stdio(&[Some(slave.as_raw_fd()); 3])?;
    let fds = [master.as_raw_fd()];
    ctx(
        sendmsg::<UnixAddr>(
            sock,
            &[io::IoSlice::new(b"c")],
            &[ControlMessage::ScmRights(&fds)],
            MsgFlags::empty(),
            None,
        ),
        "sending the pty",
    )?;
    Ok(())
}

/// Inside the container's root: enter the working directory, take the
/// spec's user and capabilities, close inherited fds and execute.
fn become_process(p: &Proc<'_>, state: Option<&serde_json::Value>) -> Result<Infallible, Fail> {
    // The working directory: made if missing (as docker does), inside the root.
    let cwd = Path::new(&p.cwd);
    if !cwd.is_dir() && cwd.symlink_metadata().is_ok() {
        // a file, or a symlink to nothing: mkdir would say "File exists"
        let what = match std::fs::read_link(cwd) {
            Ok(to) => format!("a symlink to {}, which", to.display()),
            Err(_) => "there but".to_string(),
        };
        return Err(Fail(
            125,
            format!(
                "working directory {}: {what} is not a directory in the container; give -w a directory",
                p.cwd
            ),
        ));
    }
    if !cwd.is_dir() {
        ctx(
            std::fs::create_dir_all(&p.cwd),
            &format!("creating working directory {}", p.cwd),
        )?;
    }
    nix::sys::stat::umask(Mode::from_bits_truncate(p.umask as libc::mode_t));
    apply_limits(p)?;
    if let Some(persona) = p.persona {
        // SAFETY: personality(2) takes a number and no pointers.
        if unsafe { libc::personality(persona) } < 0 {
            let e = io::Error::last_os_error();
            return Err(Fail(125, format!("personality({persona:#x}): {e}")));
        }
    }

    // Always a session of its own: the container never shares the
    // caller's controlling terminal, so it cannot push input into the
    // caller's shell (TIOCSTI) or open it as /dev/tty.
    ctx(nix::unistd::setsid(), "setsid")?;
    if p.terminal {
        // SAFETY: TIOCSCTTY on fd 0 with arg 0; no memory is passed.
        if unsafe { libc::ioctl(0, libc::TIOCSCTTY, 0) } < 0 {
            return Err(Fail(
                125,
                format!(
                    "making the terminal controlling: {}",
                    io::Error::last_os_error()
                ),
            ));
        }
    }
    // Without no_new_privs, loading a filter takes CAP_SYS_ADMIN: load it
    // while it is still held (runc's order); else as late as possible.
    let early_seccomp = p.seccomp.as_ref().filter(|_| !p.no_new_privs);
    if let Some(f) = early_seccomp {
        ctx(f.install(), "installing the seccomp filter")?;
    }
    if let Some(c) = &p.caps {
        ctx(
            super::caps::drop_bounding(&c.bounding),
            "dropping capabilities",
        )?;
    }
    if p.no_new_privs {
        ctx(super::caps::set_no_new_privs(), "no_new_privs")?;
    }
    ctx(
        super::caps::clear_ambient(),
        "clearing ambient capabilities",
    )?;
    become_user(p)?;
    ctx(chdir(p.cwd.as_str()), &format!("chdir {}", p.cwd))?;
    match nix::unistd::getcwd() {
        Ok(d) if d.is_absolute() => {}
        _ => {
            return Err(Fail(
                125,
                "working directory is outside the container: possible breakout".into(),
            ))
        }
    }
    if let Some(g) = &p.gate {
        wait_at_gate(g, p)?;
    }
    // No fd beyond 0-2 survives execve (CVE-2024-21626).
    close_from(3);
    // seccomp last, right before execve (runc's order).
    if let Some(f) = p.seccomp.as_ref().filter(|_| p.no_new_privs) {
        ctx(f.install(), "installing the seccomp filter")?;
    }
    run_start_hooks(p, state)?;
    if p.init {
        return super::init::run(
            || exec(p.args, p.env),
            |what, e| Fail(125, format!("{what}: {e}")),
        );
    }
    exec(p.args, p.env)
}

/// The startContainer hooks, as the process, just before `execve`. Past
/// a start gate no one reads the error pipe any more: a failure is told
/// on the process's stderr and it exits 1, as runc's does.
fn run_start_hooks(p: &Proc<'_>, state: Option<&serde_json::Value>) -> Result<(), Fail> {
    if p.start_hooks.is_empty() {
        return Ok(());
    }
    let state = super::hooks::state_here(state, "created");
    let Err(e) = super::hooks::run_inside(&p.start_hooks, "startContainer", &state) else {
        return Ok(());
    };
    if p.gate.is_none() {
        return Err(Fail(1, e));
    }
    let _ = writeln!(io::stderr(), "{e}");
    // SAFETY: _exit ends this process without running anything of the parent's.
    unsafe { libc::_exit(1) }
}

/// Take the user's ids and groups, then exactly the spec's capabilities
/// (kept across the change of user when it is not root and holds some).
fn become_user(p: &Proc<'_>) -> Result<(), Fail> {
    let keep = p
        .caps
        .as_ref()
        .is_some_and(|c| p.uid != 0 && !c.permitted.is_empty());
    if keep {
        ctx(super::caps::keep_on_setuid(true), "prctl(PR_SET_KEEPCAPS)")?;
    }
    let groups: Vec<Gid> = p.groups.iter().map(|g| Gid::from_raw(*g)).collect();
    ctx(nix::unistd::setgroups(&groups), "setgroups")?;
    ctx(nix::unistd::setgid(Gid::from_raw(p.gid)), "setgid")?;
    ctx(nix::unistd::setuid(Uid::from_raw(p.uid)), "setuid")?;
    // A change of credentials clears the parent-death signal: set it again.
    if !p.detached {
        ctx(parent_death_kill(), "prctl(PR_SET_PDEATHSIG)")?;
    }
    if let Some(c) = &p.caps {
        ctx(
            super::caps::set(&c.effective, &c.permitted, &c.inheritable),
            "setting capabilities",
        )?;
        ctx(
            super::caps::raise_ambient(&c.ambient),
            "raising ambient capabilities",
        )?;
    }
    if keep {
        ctx(super::caps::keep_on_setuid(false), "prctl(PR_SET_KEEPCAPS)")?;
    }
    Ok(())
}

/// Make the process `cmd` starts die (SIGKILL) when the thread that
/// spawns it exits: a porcelain that supervises a tool takes it down with
/// it.
pub fn die_with_parent(cmd: &mut std::process::Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: the closure runs in the child between fork and exec and only
    // makes a prctl system call, which is async-signal-safe.
    unsafe { cmd.pre_exec(parent_death_kill) };
}

/// The signals with which a person asks a foreground container (or its
/// start) to stop.
pub const STOP_SIGNALS: [Signal; 4] = [
    Signal::SIGINT,
    Signal::SIGTERM,
    Signal::SIGHUP,
    Signal::SIGQUIT,
];

/// Read a child's report pipe to its end. Nothing in the container can
/// make this wait forever for someone who wants to stop: a SIGINT,
/// SIGTERM, SIGHUP or SIGQUIT (blocked by the tools while they supervise,
/// so seen here through a signalfd) ends the wait with
/// [`SpawnError::Interrupted`].
fn read_report(r: OwnedFd) -> Result<String, SpawnError> {
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
    use nix::sys::signalfd::{SfdFlags, SignalFd};
    let mut set = SigSet::empty();
    for s in STOP_SIGNALS {
        set.add(s);
    }
    let sfd = SignalFd::with_flags(&set, SfdFlags::SFD_CLOEXEC | SfdFlags::SFD_NONBLOCK)
        .map_err(sys("signalfd"))?;
    let mut f = File::from(r);
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let mut fds = [
            PollFd::new(f.as_fd(), PollFlags::POLLIN),
            PollFd::new(sfd.as_fd(), PollFlags::POLLIN),
        ];
        match poll(&mut fds, PollTimeout::NONE) {
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(sys("poll")(e)),
            Ok(_) => {}
        }
        // The report first: a signal that comes as the process starts is
        // left pending, for the supervisor to pass on to it.
        if fds[0].any().unwrap_or(false) {
            match f.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    out.extend_from_slice(&buf[..n]);
                    continue;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    return Err(SpawnError::Sys {
                        what: "reading the child's status".into(),
                        source: e,
                    })
                }
            }
        }
        if fds[1].any().unwrap_or(false) {
            if let Ok(Some(info)) = sfd.read_signal() {
                let sig = Signal::try_from(info.ssi_signo as i32).unwrap_or(Signal::SIGTERM);
                return Err(SpawnError::Interrupted(sig));
            }
        }
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

fn parent_death_kill() -> io::Result<()> {
    // SAFETY: prctl(PR_SET_PDEATHSIG, SIGKILL) takes no pointers.
    if unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

fn reset_signals() {
    for sig in Signal::iterator() {
        if sig != Signal::SIGKILL && sig != Signal::SIGSTOP {
            // SAFETY: restoring the default disposition installs no handler.
            let _ = unsafe { nix::sys::signal::signal(sig, nix::sys::signal::SigHandler::SigDfl) };
        }
    }
    let _ = sigprocmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::empty()), None);
}

/// Close every fd from 3 up except those in `keep` (not marked
/// close-on-exec: closed now, so nothing reaches the container's
/// namespaces through them).
fn close_except(keep: &[RawFd]) -> io::Result<()> {
    let mut keep: Vec<RawFd> = keep.iter().copied().filter(|&fd| fd >= 3).collect();
    keep.sort_unstable();
    keep.dedup();
    let mut from: u32 = 3;
    for k in keep.into_iter().map(|k| k as u32).chain([u32::MAX]) {
        if k > from {
            // SAFETY: close_range closes descriptors we own by number; no
            // Rust object refers to the ones in these gaps.
            let rc = unsafe { libc::syscall(libc::SYS_close_range, from, k - 1, 0) };
            if rc < 0 {
                return Err(io::Error::last_os_error());
            }
        }
        from = k.saturating_add(1);
    }
    Ok(())
}

fn close_from(first: u32) {
    const CLOSE_RANGE_CLOEXEC: libc::c_uint = 4;
    // SAFETY: close_range with the CLOEXEC flag only marks descriptors.
    let rc = unsafe { libc::syscall(libc::SYS_close_range, first, u32::MAX, CLOSE_RANGE_CLOEXEC) };
    if rc < 0 {
        if let Ok(rd) = std::fs::read_dir("/proc/self/fd") {
            let fds: Vec<i32> = rd
                .flatten()
                .filter_map(|e| e.file_name().to_str()?.parse().ok())
                .collect();
            for fd in fds.into_iter().filter(|&fd| fd >= first as i32) {
                // SAFETY: setting FD_CLOEXEC on a descriptor number is harmless.
                unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
            }
        }
    }
}

/// At the start gate: check the command can be found (so `create` fails
/// on it, as runc's does), say "ready", then block opening the fifo for
/// writing until the container is started, and write one byte there.
fn wait_at_gate(g: &Gate, p: &Proc<'_>) -> Result<(), Fail> {
    let (arg0, candidates) = candidates(p.args, p.env)?;
    if !candidates.iter().any(|c| Path::new(c).is_file()) {
        return Err(not_found(arg0));
    }
    // SAFETY: the ready pipe's write end is this child's own copy; it is
    // closed here so the parent sees the byte and then the end.
    let ready = unsafe { OwnedFd::from_raw_fd(g.ready) };
    ctx(File::from(ready).write_all(b"r"), "saying ready")?;
    let fifo = format!("/proc/self/fd/{}", g.fifo);
    let mut f = ctx(
        std::fs::OpenOptions::new().write(true).open(&fifo),
        "waiting for the start",
    )?;
    ctx(f.write_all(b"0"), "starting")?;
    Ok(())
}

fn not_found(arg0: &str) -> Fail {
    if arg0.contains('/') {
        Fail(127, format!("{arg0}: no such file or directory"))
    } else {
        Fail(127, format!("{arg0}: executable file not found in $PATH"))
    }
}

/// The command's name and the paths `execve` tries for it, in order: the
/// name itself when it holds a '/', else each directory of `PATH`.
fn candidates<'a>(argv: &'a [String], env: &[String]) -> Result<(&'a str, Vec<String>), Fail> {
    let Some(arg0) = argv.first() else {
        return Err(Fail(
            125,
            "no command: the image has no Cmd or Entrypoint; give one after --".into(),
        ));
    };
    if arg0.contains('/') {
        return Ok((arg0, vec![arg0.clone()]));
    }
    let path = env
        .iter()
        .find_map(|e| e.strip_prefix("PATH="))
        .unwrap_or(super::config::DEFAULT_PATH);
    let list = path
        .split(':')
        .map(|d| format!("{}/{arg0}", if d.is_empty() { "." } else { d }))
        .collect();
    Ok((arg0, list))
}

fn exec(argv: &[String], env: &[String]) -> Result<Infallible, Fail> {
    let (arg0, candidates) = candidates(argv, env)?;
    let cargs: Vec<CString> = argv
        .iter()
        .map(|a| CString::new(a.as_bytes()))
        .collect::<Result<_, _>>()
        .map_err(|_| Fail(125, "NUL byte in the command".into()))?;
    let cenv: Vec<CString> = env
        .iter()
        .filter_map(|e| CString::new(e.as_bytes()).ok())
        .collect();
    let mut denied = None;
    for c in candidates {
        let Ok(p) = CString::new(c.as_bytes()) else {
            continue;
        };
        match execve(&p, &cargs, &cenv) {
            Err(Errno::ENOENT) | Err(Errno::ENOTDIR) => {}
            Err(e) => denied = Some((c, e)),
            Ok(never) => match never {},
        }
    }
    Err(match denied {
        Some((c, e)) => Fail(126, format!("cannot execute {c}: {e}")),
        None => not_found(arg0),
    })
}

fn loopback_up() -> io::Result<()> {
    // SAFETY: plain socket(2); the fd is owned below.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fd is a fresh socket we own.
    let sock = unsafe { OwnedFd::from_raw_fd(fd) };
    // SAFETY: ifreq is plain old data; zero is a valid value.
    let mut ifr: libc::ifreq = unsafe { std::mem::zeroed() };
    for (i, b) in b"lo".iter().enumerate() {
        ifr.ifr_name[i] = *b as libc::c_char;
    }
    // SAFETY: SIOCGIFFLAGS/SIOCSIFFLAGS read and write the ifreq we pass.
    unsafe {
        if libc::ioctl(sock.as_raw_fd(), libc::SIOCGIFFLAGS, &mut ifr) < 0 {
            return Err(io::Error::last_os_error());
        }
        ifr.ifr_ifru.ifru_flags |= (libc::IFF_UP | libc::IFF_RUNNING) as libc::c_short;
        if libc::ioctl(sock.as_raw_fd(), libc::SIOCSIFFLAGS, &ifr) < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// A process started in a running container's namespaces (`exec`).
pub struct Joined {
    /// The helper that joined the namespaces and waits for the process; its
    /// exit status is the process's.
    pub helper: Pid,
    /// The process itself, as the host sees it.
    pub pid: Pid,
}

/// Start the process `spec` describes inside a running container: every
/// namespace of the spec is joined by path (`/proc/PID/ns/...` of the
/// container's init, see [`super::spec::join_namespaces`]), the process
/// joins `io.cgroup`, with the same hardening as a new container. The
/// spec's root, mounts, masked paths and hostname are the container's
/// already and are not used.
pub fn spawn_into(spec: &Spec, io: &Io<'_>) -> Result<Joined, SpawnError> {
    join(spec, io, false)
}

/// [`spawn_into`], the process left to outlive the caller: the helper
/// exits once the process has executed, so the process is inherited (and
/// reaped) by the caller's subreaper or init, as runc's `exec --detach`
/// leaves it. Returns its pid.
pub fn spawn_into_detached(spec: &Spec, io: &Io<'_>) -> Result<Pid, SpawnError> {
    let j = join(spec, io, true)?;
    let _ = wait_status(j.helper);
    Ok(j.pid)
}

fn join(spec: &Spec, io: &Io<'_>, detached: bool) -> Result<Joined, SpawnError> {
    let mut plan = Plan::read(spec, true)?;
    plan.process.detached = detached;
    let (pid_r, pid_w) = pipe()?;
    let (err_r, err_w) = pipe()?;
    // Open the namespaces before forking, so a failure is reported here.
    let nsfds = open_joined(&plan)?;
    // SAFETY: single-threaded caller; the child only joins namespaces,
    // forks once more and exits.
    match unsafe { nix::unistd::fork() }.map_err(sys("fork"))? {
        nix::unistd::ForkResult::Parent { child } => {
            drop(pid_w);
            drop(err_w);
            drop(nsfds);
            await_joined(child, pid_r, err_r)
        }
        nix::unistd::ForkResult::Child => {
            drop(pid_r);
            drop(err_r);
            join_and_exec(&plan.process, io, nsfds, pid_w, err_w)
        }
    }
}

/// In `spawn_into`'s caller: wait for the helper `child` to report the
/// process's pid (on `pid_r`) and its failure before `execve`, if any (on
/// `err_r`).
fn await_joined(child: Pid, pid_r: OwnedFd, err_r: OwnedFd) -> Result<Joined, SpawnError> {
    let interrupted = |e: SpawnError| {
        // The helper may be stuck (e.g. in a frozen cgroup):
        // kill it, and do not wait for it.
        let _ = nix::sys::signal::kill(child, Signal::SIGKILL);
        e
    };
    let buf = read_report(pid_r).map_err(interrupted)?;
    if let Ok(pid) = buf.trim().parse::<i32>() {
        // From now on a signal goes to the process itself.
        let msg = read_report(err_r).map_err(|e| {
            let _ = nix::sys::signal::kill(Pid::from_raw(pid), Signal::SIGKILL);
            interrupted(e)
        })?;
        if !msg.is_empty() {
            let _ = nix::sys::wait::waitpid(child, None);
            let (code, text) = msg.split_once(' ').unwrap_or(("125", msg.as_str()));
            return Err(SpawnError::Child {
                code: code.parse().unwrap_or(125),
                msg: text.to_string(),
            });
        }
        return Ok(Joined {
            helper: child,
            pid: Pid::from_raw(pid),
        });
    }
    let msg = read_report(err_r).map_err(interrupted)?;
    if !msg.is_empty() || buf.is_empty() {
        let _ = nix::sys::wait::waitpid(child, None);
        let (code, text) = msg
            .split_once(' ')
            .unwrap_or(("125", "joining the container failed"));
        return Err(SpawnError::Child {
            code: code.parse().unwrap_or(125),
            msg: text.to_string(),
        });
    }
    Ok(Joined {
        helper: child,
        pid: Pid::from_raw(buf.trim().parse().unwrap_or(0)),
    })
}

/// In `spawn_into`'s forked helper: join the cgroup and the namespaces,
/// fork the process, report its pid on `pid_w` and wait for it, leaving
/// with its status. A failure is reported on `err_w`.
fn join_and_exec(
    p: &Proc<'_>,
    io: &Io<'_>,
    nsfds: Vec<(OwnedFd, CloneFlags)>,
    pid_w: OwnedFd,
    err_w: OwnedFd,
) -> ! {
    let report = |code: i32, msg: String| -> ! {
        let _ = write!(File::from(err_w.try_clone().expect("dup")), "{code} {msg}");
        // SAFETY: leaving the forked helper without running the parent's destructors.
        unsafe { libc::_exit(code) }
    };
    // Before joining anything of the container: nothing of this
    // process may be reached through /proc by the container's
    // processes (its binary, memory, fds), and it carries no host
    // fd in but the ones it needs (CVE-2019-5736, CVE-2016-9962).
    if let Err(e) = super::exe::set_undumpable() {
        report(125, format!("prctl(PR_SET_DUMPABLE): {e}"));
    }
    let mut keep: Vec<RawFd> = vec![err_w.as_raw_fd(), pid_w.as_raw_fd()];
    keep.extend(nsfds.iter().map(|(f, _)| f.as_raw_fd()));
    keep.extend(io.stdio.iter().flatten());
    keep.extend(io.console);
    if let Err(e) = close_except(&keep) {
        report(125, format!("closing inherited fds: {e}"));
    }
    if let Some(cg) = io.cgroup {
        if let Err(e) = cg.add_self() {
            report(125, format!("joining the cgroup: {e}"));
        }
    }
    let user = CloneFlags::CLONE_NEWUSER;
    let nsfds: Vec<_> = nsfds
        .into_iter()
        .filter(|(f, flag)| !already_in(f.as_fd(), *flag))
        .collect();
    let mut p = p.clone();
    if nsfds.iter().any(|(_, flag)| *flag == user) {
        // raised while this helper still holds the host's privileges
        if let Err(Fail(code, msg)) = apply_limits(&p) {
            report(code, msg);
        }
        p.limits_set = true;
    }
    let p = &p;
    for (f, flag) in &nsfds {
        if let Err(e) = setns(f.as_fd(), *flag) {
            report(125, format!("joining the container's namespaces: {e}"));
        }
    }
    drop(nsfds);
    // SAFETY: still single-threaded.
    match unsafe { nix::unistd::fork() } {
        Err(e) => report(125, format!("fork: {e}")),
        Ok(nix::unistd::ForkResult::Child) => {
            drop(pid_w);
            reset_signals();
            for (i, fd) in io.stdio.iter().enumerate() {
                if let Some(fd) = fd {
                    if *fd != i as RawFd {
                        // SAFETY: both are open descriptors; dup2 onto a standard slot.
                        unsafe { libc::dup2(*fd, i as RawFd) };
                    }
                }
            }
            if let Some(Err(Fail(code, msg))) = io.console.map(|s| open_console(s, p.console_size))
            {
                report(code, msg)
            }
            let Err(Fail(code, msg)) = become_process(p, None);
            report(code, msg)
        }
        Ok(nix::unistd::ForkResult::Parent { child }) => {
            drop(err_w);
            let _ = write!(File::from(pid_w), "{child}");
            if p.detached {
                // SAFETY: leaving the forked helper; the process is orphaned.
                unsafe { libc::_exit(0) }
            }
            let code = wait_status(child);
            // SAFETY: leaving the forked helper with the process's status.
            unsafe { libc::_exit(code) }
        }
    }
}

/// Whether `fd` is the namespace of kind `flag` this process is in
/// already. Joining it would change nothing, and can fail: `setns(2)`
/// refuses one's own user namespace, and once in a container's user
/// namespace a namespace it shares with the host (docker's host cgroup
/// namespace on cgroup v1) can no longer be joined. runc joins only the
/// namespaces the container's config names.
fn already_in(fd: BorrowedFd<'_>, flag: CloneFlags) -> bool {
    use std::os::unix::fs::MetadataExt;
    let name = [
        (CloneFlags::CLONE_NEWUSER, "user"),
        (CloneFlags::CLONE_NEWCGROUP, "cgroup"),
        (CloneFlags::CLONE_NEWIPC, "ipc"),
        (CloneFlags::CLONE_NEWUTS, "uts"),
        (CloneFlags::CLONE_NEWNET, "net"),
        (CloneFlags::CLONE_NEWPID, "pid"),
        (CloneFlags::CLONE_NEWNS, "mnt"),
    ]
    .into_iter()
    .find_map(|(f, n)| (f == flag).then_some(n));
    let (Some(name), Ok(theirs)) = (name, nix::sys::stat::fstat(fd)) else {
        return false;
    };
    std::fs::metadata(format!("/proc/self/ns/{name}"))
        .is_ok_and(|ours| theirs.st_ino == ours.ino() && theirs.st_dev == ours.dev())
}

/// Wait for `child` to end; its exit status, 128+N when signal N killed
/// it, 125 when it cannot be waited for.
fn wait_status(child: Pid) -> i32 {
    loop {
        match nix::sys::wait::waitpid(child, None) {
            Ok(nix::sys::wait::WaitStatus::Exited(_, c)) => return c,
            Ok(nix::sys::wait::WaitStatus::Signaled(_, s, _)) => return 128 + s as i32,
            Ok(_) => continue,
            Err(Errno::EINTR) => continue,
            Err(_) => return 125,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_that_never_comes_gives_way_to_sigterm() {
        let (r, w) = nix::unistd::pipe2(OFlag::O_CLOEXEC).unwrap();
        let (tid_tx, tid_rx) = std::sync::mpsc::channel();
        let waiter = std::thread::spawn(move || {
            // As the tools do while they supervise: the signal is blocked.
            let mut set = SigSet::empty();
            set.add(Signal::SIGTERM);
            set.thread_block().unwrap();
            // SAFETY: gettid takes no arguments.
            tid_tx.send(unsafe { libc::gettid() }).unwrap();
            let start = std::time::Instant::now();
            (read_report(r), start.elapsed())
        });
        let tid = tid_rx.recv().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(100));
        // SAFETY: tgkill of a thread of this process that blocks SIGTERM.
        unsafe { libc::syscall(libc::SYS_tgkill, libc::getpid(), tid, libc::SIGTERM) };
        let (res, took) = waiter.join().unwrap();
        drop(w);
        assert!(
            matches!(res, Err(SpawnError::Interrupted(Signal::SIGTERM))),
            "{res:?}"
        );
        assert!(took < std::time::Duration::from_secs(5));
        assert_eq!(SpawnError::Interrupted(Signal::SIGTERM).exit_code(), 143);
    }

    fn options(privileged: bool) -> super::super::spec::Options {
        super::super::spec::Options {
            rootfs: "/r".into(),
            hostname: "h".into(),
            args: vec!["sh".into()],
            env: vec![],
            cwd: "/w".into(),
            user: super::super::config::resolve_user("", "", "").unwrap(),
            net: Net::Loopback,
            privileged,
            limits: Default::default(),
            terminal: true,
            cgroups_path: None,
        }
    }

    #[test]
    fn a_plan_is_read_from_the_spec() {
        use super::super::caps::{all, DEFAULT_CAPS};
        let spec = options(false).build().unwrap();
        let plan = Plan::read(&spec, false).unwrap();
        let ns = CloneFlags::CLONE_NEWNS
            | CloneFlags::CLONE_NEWPID
            | CloneFlags::CLONE_NEWUTS
            | CloneFlags::CLONE_NEWIPC
            | CloneFlags::CLONE_NEWNET;
        assert_eq!((plan.new, plan.new_cgroup, plan.join.len()), (ns, true, 0));
        assert_eq!(plan.hostname, Some("h"));
        let root = plan.root.as_ref().unwrap();
        assert_eq!(root.path, Path::new("/r"));
        assert_eq!(root.steps.len(), 21);
        assert!(root.masked.iter().any(|p| p == "/proc/kcore"));
        let p = &plan.process;
        assert_eq!((p.cwd.as_str(), p.uid, p.umask), ("/w", 0, 0o022));
        assert!(p.no_new_privs && p.seccomp.is_some() && p.terminal);
        let caps = p.caps.as_ref().unwrap();
        assert_eq!(caps.bounding, DEFAULT_CAPS);
        assert_eq!(caps.effective, DEFAULT_CAPS);
        assert!(caps.inheritable.is_empty() && caps.ambient.is_empty());

        let spec = options(true).build().unwrap();
        let plan = Plan::read(&spec, false).unwrap();
        let p = &plan.process;
        assert!(!p.no_new_privs && p.seccomp.is_none());
        assert_eq!(p.caps.as_ref().unwrap().permitted, all());
        assert!(plan.root.unwrap().masked.is_empty());
    }

    #[test]
    fn a_joining_plan_opens_every_namespace_mount_last() {
        let mut spec = options(false).build().unwrap();
        assert!(Plan::read(&spec, true).is_err(), "new namespaces to join");
        super::super::spec::join_namespaces(&mut spec, 7);
        let plan = Plan::read(&spec, true).unwrap();
        assert!(plan.new.is_empty() && !plan.new_cgroup && plan.root.is_none());
        assert_eq!(plan.hostname, None);
        let paths: Vec<_> = plan
            .join
            .iter()
            .map(|(p, _)| p.display().to_string())
            .collect();
        assert_eq!(paths.first().map(String::as_str), Some("/proc/7/ns/user"));
        assert_eq!(paths.last().map(String::as_str), Some("/proc/7/ns/mnt"));
        // a new container joins no mount namespace
        assert!(Plan::read(&spec, false).is_err());
    }

    #[test]
    fn what_cairn_cannot_do_is_refused_before_the_start() {
        let mut spec = options(false).build().unwrap();
        let linux = spec.linux_mut().as_mut().unwrap();
        let notify = serde_json::json!({"defaultAction": "SCMP_ACT_ALLOW",
            "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]});
        linux.set_seccomp(Some(serde_json::from_value(notify).unwrap()));
        let e = Plan::read(&spec, false).unwrap_err();
        assert!(e.to_string().contains("SCMP_ACT_NOTIFY"), "{e}");
        assert_eq!(e.exit_code(), 125);
        let mut spec = options(false).build().unwrap();
        let p = spec.process_mut().as_mut().unwrap();
        p.set_cwd("rel".into());
        assert!(Plan::read(&spec, false).is_err());
        let mut spec = options(false).build().unwrap();
        let mut ns = spec.linux().as_ref().unwrap().namespaces().clone().unwrap();
        let mut user = oci_spec::runtime::LinuxNamespace::default();
        user.set_typ(LinuxNamespaceType::User);
        ns.push(user);
        spec.linux_mut().as_mut().unwrap().set_namespaces(Some(ns));
        assert!(Plan::read(&spec, false).is_err());
        let mut spec = options(false).build().unwrap();
        let p = spec.process_mut().as_mut().unwrap();
        p.set_scheduler(Some(Default::default()));
        let e = Plan::read(&spec, false).unwrap_err().to_string();
        assert!(e.contains("scheduler"), "{e}");
        let mut spec = options(false).build().unwrap();
        let linux = spec.linux_mut().as_mut().unwrap();
        let mut r = linux.resources().clone().unwrap_or_default();
        let mut cpu = oci_spec::runtime::LinuxCpu::default();
        cpu.set_idle(Some(1));
        r.set_cpu(Some(cpu));
        linux.set_resources(Some(r));
        let e = Plan::read(&spec, false).unwrap_err().to_string();
        assert!(e.contains("cpu.idle"), "{e}");
    }

    #[test]
    fn domainname_personality_and_root_propagation_are_read() {
        let mut spec = options(false).build().unwrap();
        spec.set_domainname(Some("example.org".into()));
        let linux = spec.linux_mut().as_mut().unwrap();
        linux.set_rootfs_propagation(Some("rshared".into()));
        let persona: oci_spec::runtime::LinuxPersonality =
            serde_json::from_value(serde_json::json!({"domain": "LINUX32"})).unwrap();
        linux.set_personality(Some(persona));
        let plan = Plan::read(&spec, false).unwrap();
        assert_eq!(plan.domainname, Some("example.org"));
        assert_eq!(plan.process.persona, Some(8));
        let shared = nix::mount::MsFlags::MS_SHARED | nix::mount::MsFlags::MS_REC;
        assert_eq!(plan.root.unwrap().propagation, Some(shared));
    }

    #[test]
    fn rlimits_and_the_oom_score_are_read() {
        let mut spec = options(false).build().unwrap();
        let nofile: oci_spec::runtime::PosixRlimit = serde_json::from_value(
            serde_json::json!({"type": "RLIMIT_NOFILE", "soft": 1024, "hard": 4096}),
        )
        .unwrap();
        let p = spec.process_mut().as_mut().unwrap();
        p.set_rlimits(Some(vec![nofile]))
            .set_oom_score_adj(Some(-500));
        let plan = Plan::read(&spec, false).unwrap();
        let want = (
            rlimit_resource(oci_spec::runtime::PosixRlimitType::RlimitNofile),
            1024,
            4096,
        );
        assert_eq!(want.0 as i64, libc::RLIMIT_NOFILE as i64);
        assert_eq!(plan.process.rlimits, [want]);
        assert_eq!(plan.process.oom_score_adj, Some(-500));
        assert!(!plan.process.detached && plan.process.gate.is_none());
        let p = spec.process_mut().as_mut().unwrap();
        p.set_apparmor_profile(Some("docker-default".into()));
        let e = Plan::read(&spec, false).unwrap_err().to_string();
        assert!(e.contains("apparmorProfile"), "{e}");
    }

    #[test]
    fn a_report_is_read_to_its_end() {
        let (r, w) = nix::unistd::pipe2(OFlag::O_CLOEXEC).unwrap();
        File::from(w).write_all(b"127 not found").unwrap();
        assert_eq!(read_report(r).unwrap(), "127 not found");
    }
}
