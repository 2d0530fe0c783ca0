//! Starting a process in its own namespaces, inside a container's union
//! view, with the runtime hardening runc applies (docs/security.md).
//!
//! The child is created with `clone(2)` in new mount, pid, uts and ipc (and
//! by default network) namespaces. It waits until the parent has put it in
//! its cgroup, enters a new cgroup namespace, mounts /proc, a minimal /dev
//! and a read-only /sys into the view (every target opened with
//! `O_NOFOLLOW` below the root and mounted through its fd), pivots into it
//! (never chroot), masks and write-protects the /proc paths docker does,
//! drops to docker's default capabilities with `no_new_privs`, closes every
//! inherited fd beyond 0-2, installs a seccomp filter and executes the command, which is pid 1 of its
//! namespace. A failure before `execve` is reported to the parent through a
//! close-on-exec pipe with the exit status it means: 125 (setup failed),
//! 126 (cannot execute), 127 (not found).

use super::caps::DEFAULT_CAPS;
use super::cgroup::Cgroup;
use nix::errno::Errno;
use nix::fcntl::{openat, OFlag};
use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sched::{setns, unshare, CloneFlags};
use nix::sys::signal::{sigprocmask, SigSet, SigmaskHow, Signal};
use nix::sys::stat::{mknodat, Mode, SFlag};
use nix::unistd::{chdir, dup2, execve, fchdir, pivot_root, sethostname, Gid, Pid, Uid};
use std::convert::Infallible;
use std::ffi::CString;
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};

/// Paths of /proc and /sys hidden from the container (moby defaults).
pub const MASKED_PATHS: &[&str] = &[
    "/proc/acpi",
    "/proc/asound",
    "/proc/interrupts",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/sys/devices/virtual/powercap",
    "/sys/firmware",
];

/// Paths of /proc the container may read but not write.
pub const READONLY_PATHS: &[&str] = &[
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
];

/// The network a container gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Net {
    /// A new network namespace with only `lo`, up.
    Loopback,
    /// The host's network.
    Host,
    /// An existing network namespace (e.g. /run/netns/NAME from `ip netns add`).
    Join(PathBuf),
}

/// Everything needed to start the process.
pub struct Spec<'a> {
    /// The mounted union view.
    pub rootfs: PathBuf,
    pub hostname: String,
    pub argv: Vec<String>,
    pub env: Vec<String>,
    pub cwd: String,
    /// `USER[:GROUP]` as the image config writes it ("" is root).
    pub user: String,
    pub net: Net,
    pub privileged: bool,
    pub cgroup: Option<&'a Cgroup>,
    /// Fds to become the child's 0, 1, 2 (`None`: inherit).
    pub stdio: [Option<RawFd>; 3],
    /// fd 0 is a terminal to make the controlling terminal of a new session.
    pub tty: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum SpawnError {
    /// The child failed before `execve`; `code` is 125, 126 or 127.
    #[error("{msg}")]
    Child { code: i32, msg: String },
    #[error("{what}: {source}")]
    Sys { what: String, source: io::Error },
    /// SIGINT, SIGTERM, SIGHUP or SIGQUIT came while the process was being
    /// set up; it was killed.
    #[error("interrupted by {0} while starting the process")]
    Interrupted(Signal),
}

impl SpawnError {
    /// The exit status this failure means (chroot's convention).
    pub fn exit_code(&self) -> i32 {
        match self {
            SpawnError::Child { code, .. } => *code,
            SpawnError::Sys { .. } => 125,
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
struct Fail(i32, String);

fn ctx<T, E: std::fmt::Display>(r: Result<T, E>, what: &str) -> Result<T, Fail> {
    r.map_err(|e| Fail(125, format!("{what}: {e}")))
}

fn pipe() -> Result<(OwnedFd, OwnedFd), SpawnError> {
    nix::unistd::pipe2(OFlag::O_CLOEXEC).map_err(sys("pipe"))
}

/// Start the process. Returns its pid (as the host sees it) once it has
/// executed the command.
pub fn spawn(spec: &Spec<'_>) -> Result<Pid, SpawnError> {
    let (go_r, go_w) = pipe()?;
    let (err_r, err_w) = pipe()?;
    let mut flags = CloneFlags::CLONE_NEWNS
        | CloneFlags::CLONE_NEWPID
        | CloneFlags::CLONE_NEWUTS
        | CloneFlags::CLONE_NEWIPC;
    if spec.net == Net::Loopback {
        flags |= CloneFlags::CLONE_NEWNET;
    }
    let mut stack = vec![0u8; 1 << 20];
    let go_raw = go_r.as_raw_fd();
    let err_raw = err_w.as_raw_fd();
    let cb = Box::new(move || -> isize {
        // SAFETY: these fds were open in the parent and are copies in this child.
        let go = unsafe { BorrowedFd::borrow_raw(go_raw) };
        let err = unsafe { BorrowedFd::borrow_raw(err_raw) };
        // Nothing of the host's (the store's locks, the caller's pipes)
        // comes along but what the child needs.
        let mut keep = vec![go_raw, err_raw];
        keep.extend(spec.stdio.iter().flatten());
        let r = close_except(&keep).map_err(|e| Fail(125, format!("closing inherited fds: {e}")));
        let Err(Fail(code, msg)) = r.and_then(|()| child(spec, go));
        let mut f = File::from(err.try_clone_to_owned().expect("dup of the error pipe"));
        let _ = write!(f, "{code} {msg}");
        code as isize
    });
    // SAFETY: the process is single-threaded here (the tools never start
    // threads before spawning), so the child may allocate; it only returns
    // through the callback's status or replaces itself with execve.
    let pid = unsafe { nix::sched::clone(cb, &mut stack, flags, Some(libc::SIGCHLD)) }
        .map_err(sys("clone"))?;
    drop(go_r);
    drop(err_w);
    let abort = |e: SpawnError| {
        let _ = nix::sys::signal::kill(pid, Signal::SIGKILL);
        let _ = nix::sys::wait::waitpid(pid, None);
        e
    };
    if let Some(cg) = spec.cgroup {
        cg.add(pid.as_raw()).map_err(|e| {
            abort(SpawnError::Sys {
                what: "joining the cgroup".into(),
                source: io::Error::other(e.to_string()),
            })
        })?;
    }
    File::from(go_w).write_all(b"g").map_err(|e| {
        abort(SpawnError::Sys {
            what: "starting the child".into(),
            source: e,
        })
    })?;
    let msg = read_report(err_r).map_err(abort)?;
    if msg.is_empty() {
        return Ok(pid);
    }
    let _ = nix::sys::wait::waitpid(pid, None);
    let (code, text) = msg.split_once(' ').unwrap_or(("125", msg.as_str()));
    Err(SpawnError::Child {
        code: code.parse().unwrap_or(125),
        msg: text.to_string(),
    })
}

/// The child: set everything up and execute. Returns only on failure.
fn child(spec: &Spec<'_>, go: BorrowedFd<'_>) -> Result<Infallible, Fail> {
    ctx(super::exe::set_undumpable(), "prctl(PR_SET_DUMPABLE)")?;
    // The container dies with the process that started it (a killed
    // `cairn run` leaves nothing running unsupervised). Had the parent
    // died before this, the read of `go` below sees its end closed.
    ctx(parent_death_kill(), "prctl(PR_SET_PDEATHSIG)")?;
    reset_signals();
    nix::sys::stat::umask(Mode::empty());
    for (i, fd) in spec.stdio.iter().enumerate() {
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
    // Wait until the parent has put us in our cgroup.
    let mut b = [0u8; 1];
    let n = ctx(nix::unistd::read(go, &mut b), "waiting for the parent")?;
    if n == 0 {
        return Err(Fail(125, "the parent went away before the start".into()));
    }
    if spec.cgroup.is_some() {
        ctx(
            unshare(CloneFlags::CLONE_NEWCGROUP),
            "unshare cgroup namespace",
        )?;
    }
    match &spec.net {
        Net::Loopback => ctx(loopback_up(), "bringing up lo")?,
        Net::Host => {}
        Net::Join(p) => {
            let f = ctx(File::open(p), &format!("network namespace {}", p.display()))?;
            ctx(
                setns(f.as_fd(), CloneFlags::CLONE_NEWNET),
                &format!("joining network namespace {}", p.display()),
            )?;
        }
    }
    ctx(sethostname(&spec.hostname), "sethostname")?;
    prepare_rootfs(spec)?;
    if !spec.privileged {
        mask_paths()?;
    }
    become_process(spec)
}

/// Inside the container's root: resolve the user, enter the working
/// directory, drop privileges, close inherited fds and execute.
fn become_process(spec: &Spec<'_>) -> Result<Infallible, Fail> {
    // Read inside the container's root (we have pivoted into it), never
    // blocking and never truncated.
    let root = ctx(
        nix::fcntl::open(
            "/",
            OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            Mode::empty(),
        ),
        "opening /",
    )?;
    let db = |p: &str| super::config::read_db(root.as_fd(), p).map_err(|e| Fail(125, e.one_line()));
    let (passwd, group) = (db("/etc/passwd")?, db("/etc/group")?);
    drop(root);
    let ident = super::config::resolve_user(&spec.user, &passwd, &group)
        .map_err(|e| Fail(125, e.one_line()))?;

    // The working directory: made if missing (as docker does), inside the root.
    let cwd = if spec.cwd.starts_with('/') {
        spec.cwd.clone()
    } else {
        format!("/{}", spec.cwd)
    };
    if !Path::new(&cwd).is_dir() {
        ctx(
            std::fs::create_dir_all(&cwd),
            &format!("creating working directory {cwd}"),
        )?;
    }
    nix::sys::stat::umask(Mode::from_bits_truncate(0o022));

    // Always a session of its own: the container never shares the
    // caller's controlling terminal, so it cannot push input into the
    // caller's shell (TIOCSTI) or open it as /dev/tty.
    ctx(nix::unistd::setsid(), "setsid")?;
    if spec.tty {
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
    if !spec.privileged {
        ctx(
            super::caps::drop_bounding(&DEFAULT_CAPS),
            "dropping capabilities",
        )?;
        ctx(super::caps::set_no_new_privs(), "no_new_privs")?;
    }
    ctx(
        super::caps::clear_ambient(),
        "clearing ambient capabilities",
    )?;
    let groups: Vec<Gid> = ident.groups.iter().map(|g| Gid::from_raw(*g)).collect();
    ctx(nix::unistd::setgroups(&groups), "setgroups")?;
    ctx(nix::unistd::setgid(Gid::from_raw(ident.gid)), "setgid")?;
    ctx(nix::unistd::setuid(Uid::from_raw(ident.uid)), "setuid")?;
    // A change of credentials clears the parent-death signal: set it again.
    ctx(parent_death_kill(), "prctl(PR_SET_PDEATHSIG)")?;
    if ident.uid == 0 && !spec.privileged {
        ctx(
            super::caps::set(&DEFAULT_CAPS, &DEFAULT_CAPS, &[]),
            "setting capabilities",
        )?;
    }
    ctx(chdir(cwd.as_str()), &format!("chdir {cwd}"))?;
    match nix::unistd::getcwd() {
        Ok(p) if p.is_absolute() => {}
        _ => {
            return Err(Fail(
                125,
                "working directory is outside the container: possible breakout".into(),
            ))
        }
    }
    // No fd beyond 0-2 survives execve (CVE-2024-21626).
    close_from(3);
    // seccomp last, right before execve (runc's order).
    if !spec.privileged {
        ctx(super::seccomp::install(), "installing the seccomp filter")?;
    }

    let mut env = spec.env.clone();
    if !env.iter().any(|e| e.starts_with("HOME=")) {
        env.push(format!("HOME={}", ident.home));
    }
    exec(&spec.argv, &env)
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

fn exec(argv: &[String], env: &[String]) -> Result<Infallible, Fail> {
    let Some(arg0) = argv.first() else {
        return Err(Fail(
            125,
            "no command: the image has no Cmd or Entrypoint; give one after --".into(),
        ));
    };
    let cargs: Vec<CString> = argv
        .iter()
        .map(|a| CString::new(a.as_bytes()))
        .collect::<Result<_, _>>()
        .map_err(|_| Fail(125, "NUL byte in the command".into()))?;
    let cenv: Vec<CString> = env
        .iter()
        .filter_map(|e| CString::new(e.as_bytes()).ok())
        .collect();
    let candidates: Vec<String> = if arg0.contains('/') {
        vec![arg0.clone()]
    } else {
        let path = env
            .iter()
            .find_map(|e| e.strip_prefix("PATH="))
            .unwrap_or(super::config::DEFAULT_PATH);
        path.split(':')
            .map(|d| format!("{}/{arg0}", if d.is_empty() { "." } else { d }))
            .collect()
    };
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
        None if arg0.contains('/') => Fail(127, format!("{arg0}: no such file or directory")),
        None => Fail(127, format!("{arg0}: executable file not found in $PATH")),
    })
}

const PATH_FLAGS: OFlag = OFlag::O_PATH
    .union(OFlag::O_NOFOLLOW)
    .union(OFlag::O_CLOEXEC)
    .union(OFlag::O_DIRECTORY);

/// Open the directory `rel` below `root` without following any symlink.
fn open_in(root: &OwnedFd, rel: &str) -> Result<OwnedFd, Fail> {
    let mut cur = ctx(root.try_clone(), "dup")?;
    for c in rel.split('/').filter(|c| !c.is_empty()) {
        cur = openat(cur.as_fd(), c, PATH_FLAGS, Mode::empty()).map_err(|e| {
            Fail(
                125,
                format!("mount target /{rel} must be a real directory in the container (not a symlink): {e}"),
            )
        })?;
    }
    Ok(cur)
}

fn fd_path(fd: &OwnedFd) -> String {
    format!("/proc/self/fd/{}", fd.as_raw_fd())
}

/// One mount(2), without its target.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Mount {
    source: Option<String>,
    fstype: Option<&'static str>,
    flags: MsFlags,
    data: Option<&'static str>,
    /// What it does, for errors ("mounting proc on /proc").
    what: String,
}

impl Mount {
    /// A new file system of type `fstype` on `/target`.
    fn fs(target: &str, fstype: &'static str, source: &str, flags: MsFlags) -> Mount {
        Mount {
            source: Some(source.into()),
            fstype: Some(fstype),
            flags,
            data: None,
            what: format!("mounting {fstype} on /{target}"),
        }
    }

    fn data(self, data: &'static str) -> Mount {
        Mount {
            data: Some(data),
            ..self
        }
    }

    /// A bind mount of `source` (recursive with `MS_REC` in `flags`).
    fn bind(source: &str, flags: MsFlags, what: String) -> Mount {
        Mount {
            source: Some(source.into()),
            fstype: None,
            flags: MsFlags::MS_BIND | flags,
            data: None,
            what,
        }
    }

    /// Remount the bind mount on the target read-only, with `flags` too.
    fn read_only(flags: MsFlags, what: String) -> Mount {
        Mount {
            source: None,
            fstype: None,
            flags: MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY | flags,
            data: None,
            what,
        }
    }

    /// Mount on `target`: a path, or /proc/self/fd/N of an opened one.
    fn apply(&self, target: &str) -> Result<(), Fail> {
        ctx(
            mount(
                self.source.as_deref(),
                target,
                self.fstype,
                self.flags,
                self.data,
            ),
            &self.what,
        )
    }
}

/// One step of preparing a container's root file system. Paths are
/// relative to the root; every directory is opened below it without
/// following symlinks, and mounted on through its fd.
#[derive(Debug, Clone, PartialEq, Eq)]
enum RootfsStep {
    /// Mount on the directory `target`; when that fails and there is a
    /// `fallback`, its mounts instead, in order, on the same directory.
    Mount {
        target: &'static str,
        mount: Mount,
        fallback: Vec<Mount>,
    },
    /// Make the character device `dir/name`.
    Device {
        dir: &'static str,
        name: &'static str,
        major: u64,
        minor: u64,
    },
    /// Make the directory `dir/name`.
    Dir {
        dir: &'static str,
        name: &'static str,
    },
    /// Make the symlink `dir/name` to `target`.
    Symlink {
        dir: &'static str,
        name: &'static str,
        target: &'static str,
    },
}

/// What goes into the root file system before the pivot: /proc, a
/// minimal /dev (docker's devices, its /dev/pts, /dev/shm and
/// /dev/mqueue), and /sys (read-only unless privileged).
fn rootfs_plan(spec: &Spec<'_>) -> Vec<RootfsStep> {
    use RootfsStep::{Device, Dir, Symlink};
    let nse = MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC | MsFlags::MS_NODEV;
    let mount = |target: &'static str, mount: Mount| RootfsStep::Mount {
        target,
        mount,
        fallback: Vec::new(),
    };
    let mut plan = vec![
        mount("proc", Mount::fs("proc", "proc", "proc", nse)),
        mount(
            "dev",
            Mount::fs(
                "dev",
                "tmpfs",
                "tmpfs",
                MsFlags::MS_NOSUID | MsFlags::MS_STRICTATIME,
            )
            .data("mode=755,size=65536k"),
        ),
    ];
    for (name, major, minor) in [
        ("null", 1, 3),
        ("zero", 1, 5),
        ("full", 1, 7),
        ("random", 1, 8),
        ("urandom", 1, 9),
        ("tty", 5, 0),
    ] {
        plan.push(Device {
            dir: "dev",
            name,
            major,
            minor,
        });
    }
    for name in ["pts", "shm", "mqueue"] {
        plan.push(Dir { dir: "dev", name });
    }
    for (name, target) in [
        ("ptmx", "pts/ptmx"),
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
        ("core", "/proc/kcore"),
    ] {
        plan.push(Symlink {
            dir: "dev",
            name,
            target,
        });
    }
    plan.push(mount(
        "dev/pts",
        Mount::fs(
            "dev/pts",
            "devpts",
            "devpts",
            MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC,
        )
        .data("newinstance,ptmxmode=0666,mode=0620,gid=5"),
    ));
    plan.push(mount(
        "dev/shm",
        Mount::fs("dev/shm", "tmpfs", "shm", nse).data("mode=1777,size=65536k"),
    ));
    plan.push(mount(
        "dev/mqueue",
        Mount::fs("dev/mqueue", "mqueue", "mqueue", nse),
    ));
    let sys_flags = if spec.privileged {
        nse
    } else {
        nse | MsFlags::MS_RDONLY
    };
    // Without a network namespace of our own sysfs cannot be mounted:
    // the host's /sys is bound instead.
    let mut fallback = vec![Mount::bind("/sys", MsFlags::MS_REC, "binding /sys".into())];
    if !spec.privileged {
        fallback.push(Mount::read_only(nse, "making /sys read-only".into()));
    }
    plan.push(RootfsStep::Mount {
        target: "sys",
        mount: Mount::fs("sys", "sysfs", "sysfs", sys_flags),
        fallback,
    });
    plan
}

/// Carry out a rootfs plan below `root`.
fn apply_rootfs_plan(root: &OwnedFd, plan: &[RootfsStep]) -> Result<(), Fail> {
    // The directory nodes were last made in, opened once for all of them.
    let mut opened: Option<(&str, OwnedFd)> = None;
    for step in plan {
        let (dir, name) = match step {
            RootfsStep::Mount {
                target,
                mount,
                fallback,
            } => {
                opened = None;
                let fd = open_in(root, target)?;
                let at = fd_path(&fd);
                match mount.apply(&at) {
                    Err(e) if fallback.is_empty() => return Err(e),
                    Err(_) => fallback.iter().try_for_each(|m| m.apply(&at))?,
                    Ok(()) => {}
                }
                continue;
            }
            RootfsStep::Device { dir, name, .. }
            | RootfsStep::Dir { dir, name }
            | RootfsStep::Symlink { dir, name, .. } => (*dir, *name),
        };
        if opened.as_ref().is_none_or(|(d, _)| *d != dir) {
            let fd = open_in(root, dir)?;
            let fd = ctx(
                openat(
                    fd.as_fd(),
                    ".",
                    OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
                    Mode::empty(),
                ),
                &format!("opening /{dir}"),
            )?;
            opened = Some((dir, fd));
        }
        let fd = opened.as_ref().map(|(_, fd)| fd.as_fd()).expect("opened");
        let r = match step {
            RootfsStep::Device { major, minor, .. } => mknodat(
                fd,
                name,
                SFlag::S_IFCHR,
                Mode::from_bits_truncate(0o666),
                nix::sys::stat::makedev(*major, *minor),
            ),
            RootfsStep::Dir { .. } => {
                nix::sys::stat::mkdirat(fd, name, Mode::from_bits_truncate(0o755))
            }
            RootfsStep::Symlink { target, .. } => nix::unistd::symlinkat(*target, fd, name),
            RootfsStep::Mount { .. } => unreachable!("handled above"),
        };
        ctx(r, &format!("creating /{dir}/{name}"))?;
    }
    Ok(())
}

/// Prepare the container's root file system and pivot into it.
fn prepare_rootfs(spec: &Spec<'_>) -> Result<(), Fail> {
    let none: Option<&str> = None;
    ctx(
        mount(none, "/", none, MsFlags::MS_SLAVE | MsFlags::MS_REC, none),
        "making / a slave mount",
    )?;
    ctx(
        mount(
            Some(&spec.rootfs),
            &spec.rootfs,
            none,
            MsFlags::MS_BIND | MsFlags::MS_REC,
            none,
        ),
        "binding the root file system",
    )?;
    let root: OwnedFd = ctx(
        nix::fcntl::open(
            &spec.rootfs,
            OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            Mode::empty(),
        ),
        "opening the root file system",
    )?;
    apply_rootfs_plan(&root, &rootfs_plan(spec))?;
    pivot_into(&spec.rootfs)
}

/// pivot_root(".", "."): the old root ends up under the new one and is
/// detached (runc's pivotRoot).
fn pivot_into(rootfs: &Path) -> Result<(), Fail> {
    let none: Option<&str> = None;
    let oldroot: OwnedFd = ctx(
        nix::fcntl::open(
            "/",
            OFlag::O_DIRECTORY | OFlag::O_RDONLY | OFlag::O_CLOEXEC,
            Mode::empty(),
        ),
        "opening /",
    )?;
    let newroot: OwnedFd = ctx(
        nix::fcntl::open(
            rootfs,
            OFlag::O_DIRECTORY | OFlag::O_RDONLY | OFlag::O_CLOEXEC,
            Mode::empty(),
        ),
        "opening the root file system",
    )?;
    ctx(fchdir(&newroot), "fchdir")?;
    ctx(pivot_root(".", "."), "pivot_root")?;
    ctx(fchdir(&oldroot), "fchdir")?;
    ctx(
        mount(none, ".", none, MsFlags::MS_SLAVE | MsFlags::MS_REC, none),
        "making the old root a slave",
    )?;
    ctx(umount2(".", MntFlags::MNT_DETACH), "detaching the old root")?;
    ctx(chdir("/"), "chdir /")?;
    Ok(())
}

/// The mounts that hide `masked` and write-protect `readonly` (absolute
/// paths, once inside the root), given what stands at a path: `None` for
/// nothing, else whether it is a directory.
fn mask_plan(
    masked: &[String],
    readonly: &[&str],
    kind: impl Fn(&str) -> Option<bool>,
) -> Vec<(String, Mount)> {
    let mut plan = Vec::new();
    for p in masked {
        let Some(is_dir) = kind(p) else {
            continue;
        };
        let what = format!("masking {p}");
        let m = if is_dir {
            Mount::fs("", "tmpfs", "tmpfs", MsFlags::MS_RDONLY).data("size=0,nr_inodes=1")
        } else {
            Mount::bind("/dev/null", MsFlags::empty(), String::new())
        };
        plan.push((p.clone(), Mount { what, ..m }));
    }
    for p in readonly {
        if kind(p).is_none() {
            continue;
        }
        plan.push((
            p.to_string(),
            Mount::bind(p, MsFlags::MS_REC, format!("binding {p}")),
        ));
        plan.push((
            p.to_string(),
            Mount::read_only(
                MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
                format!("making {p} read-only"),
            ),
        ));
    }
    plan
}

/// Hide docker's masked paths and write-protect its read-only ones.
fn mask_paths() -> Result<(), Fail> {
    let mut masked: Vec<String> = MASKED_PATHS.iter().map(|s| s.to_string()).collect();
    if let Ok(rd) = std::fs::read_dir("/sys/devices/system/cpu") {
        for e in rd.flatten() {
            let p = e.path().join("thermal_throttle");
            if p.exists() {
                masked.push(p.display().to_string());
            }
        }
    }
    let kind = |p: &str| std::fs::symlink_metadata(p).ok().map(|m| m.is_dir());
    for (target, m) in mask_plan(&masked, READONLY_PATHS, kind) {
        m.apply(&target)?;
    }
    Ok(())
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

/// Start `spec`'s command inside the namespaces and cgroup of the running
/// process `target` (a container's init), with the same hardening as a new
/// container. `spec.rootfs`, `net` and `hostname` are not used.
pub fn spawn_into(target: Pid, spec: &Spec<'_>) -> Result<Joined, SpawnError> {
    let (pid_r, pid_w) = pipe()?;
    let (err_r, err_w) = pipe()?;
    // Open the namespaces before forking, so a failure is reported here.
    let mut nsfds = Vec::new();
    for (ns, flag) in [
        ("cgroup", CloneFlags::CLONE_NEWCGROUP),
        ("ipc", CloneFlags::CLONE_NEWIPC),
        ("uts", CloneFlags::CLONE_NEWUTS),
        ("net", CloneFlags::CLONE_NEWNET),
        ("pid", CloneFlags::CLONE_NEWPID),
        ("mnt", CloneFlags::CLONE_NEWNS),
    ] {
        let p = format!("/proc/{target}/ns/{ns}");
        let f = File::open(&p).map_err(|e| SpawnError::Sys {
            what: format!("opening {p}"),
            source: e,
        })?;
        nsfds.push((f, flag));
    }
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
            join_and_exec(spec, nsfds, pid_w, err_w)
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
    spec: &Spec<'_>,
    nsfds: Vec<(File, CloneFlags)>,
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
    keep.extend(spec.stdio.iter().flatten());
    if let Err(e) = close_except(&keep) {
        report(125, format!("closing inherited fds: {e}"));
    }
    if let Some(cg) = spec.cgroup {
        if let Err(e) = cg.add_self() {
            report(125, format!("joining the cgroup: {e}"));
        }
    }
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
            for (i, fd) in spec.stdio.iter().enumerate() {
                if let Some(fd) = fd {
                    if *fd != i as RawFd {
                        // SAFETY: both are open descriptors; dup2 onto a standard slot.
                        unsafe { libc::dup2(*fd, i as RawFd) };
                    }
                }
            }
            let Err(Fail(code, msg)) = become_process(spec);
            report(code, msg)
        }
        Ok(nix::unistd::ForkResult::Parent { child }) => {
            drop(err_w);
            let _ = write!(File::from(pid_w), "{child}");
            let code = wait_status(child);
            // SAFETY: leaving the forked helper with the process's status.
            unsafe { libc::_exit(code) }
        }
    }
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

    fn spec(privileged: bool) -> Spec<'static> {
        Spec {
            rootfs: PathBuf::from("/r"),
            hostname: String::new(),
            argv: Vec::new(),
            env: Vec::new(),
            cwd: "/".into(),
            user: String::new(),
            net: Net::Loopback,
            privileged,
            cgroup: None,
            stdio: [None; 3],
            tty: false,
        }
    }

    fn mounts(plan: &[RootfsStep]) -> Vec<(&str, Option<&str>, &[Mount])> {
        plan.iter()
            .filter_map(|s| match s {
                RootfsStep::Mount {
                    target,
                    mount,
                    fallback,
                } => Some((*target, mount.fstype, fallback.as_slice())),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_default_rootfs_has_proc_dev_and_a_read_only_sys() {
        let plan = rootfs_plan(&spec(false));
        let m = mounts(&plan);
        let targets: Vec<_> = m.iter().map(|(t, f, _)| (*t, f.unwrap())).collect();
        assert_eq!(
            targets,
            [
                ("proc", "proc"),
                ("dev", "tmpfs"),
                ("dev/pts", "devpts"),
                ("dev/shm", "tmpfs"),
                ("dev/mqueue", "mqueue"),
                ("sys", "sysfs"),
            ]
        );
        // /dev is filled between its tmpfs and the mounts below it
        assert_eq!(plan.len(), 6 + 6 + 3 + 6);
        assert!(plan[2..17]
            .iter()
            .all(|s| !matches!(s, RootfsStep::Mount { .. })));
        assert!(plan.contains(&RootfsStep::Device {
            dir: "dev",
            name: "null",
            major: 1,
            minor: 3
        }));
        assert!(plan.contains(&RootfsStep::Symlink {
            dir: "dev",
            name: "ptmx",
            target: "pts/ptmx"
        }));
        let RootfsStep::Mount {
            mount, fallback, ..
        } = plan.last().unwrap()
        else {
            panic!("sys is mounted last")
        };
        assert!(mount
            .flags
            .contains(MsFlags::MS_RDONLY | MsFlags::MS_NOSUID));
        assert_eq!(fallback.len(), 2, "the host's /sys, bound, then read-only");
        assert!(fallback[1]
            .flags
            .contains(MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY));
        // only /sys has a fallback; nothing is mounted without NOSUID
        assert!(m[..5].iter().all(|(_, _, f)| f.is_empty()));
        for s in &plan {
            if let RootfsStep::Mount { mount, .. } = s {
                assert!(mount.flags.contains(MsFlags::MS_NOSUID), "{s:?}");
            }
        }
    }

    #[test]
    fn a_privileged_rootfs_has_a_writable_sys() {
        let plan = rootfs_plan(&spec(true));
        let RootfsStep::Mount {
            mount, fallback, ..
        } = plan.last().unwrap()
        else {
            panic!("sys is mounted last")
        };
        assert!(!mount.flags.contains(MsFlags::MS_RDONLY));
        assert_eq!(fallback.len(), 1);
        assert!(!fallback[0].flags.contains(MsFlags::MS_RDONLY));
        // the rest is the same as for a default container
        let default = rootfs_plan(&spec(false));
        assert_eq!(plan[..plan.len() - 1], default[..default.len() - 1]);
    }

    #[test]
    fn masking_hides_what_exists_and_write_protects() {
        let masked = vec![
            "/proc/kcore".to_string(),
            "/proc/acpi".to_string(),
            "/gone".to_string(),
        ];
        let kind = |p: &str| match p {
            "/proc/kcore" | "/proc/sys" => Some(p == "/proc/sys"),
            "/proc/acpi" => Some(true),
            _ => None,
        };
        let plan = mask_plan(&masked, &["/proc/sys", "/proc/none"], kind);
        let got: Vec<_> = plan
            .iter()
            .map(|(t, m)| (t.as_str(), m.source.as_deref(), m.fstype, m.what.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "/proc/kcore",
                    Some("/dev/null"),
                    None,
                    "masking /proc/kcore"
                ),
                (
                    "/proc/acpi",
                    Some("tmpfs"),
                    Some("tmpfs"),
                    "masking /proc/acpi"
                ),
                ("/proc/sys", Some("/proc/sys"), None, "binding /proc/sys"),
                ("/proc/sys", None, None, "making /proc/sys read-only"),
            ]
        );
        assert!(plan[1].1.flags.contains(MsFlags::MS_RDONLY));
        assert_eq!(plan[1].1.data, Some("size=0,nr_inodes=1"));
        assert!(plan[3]
            .1
            .flags
            .contains(MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY | MsFlags::MS_NOEXEC));
    }

    #[test]
    fn a_report_is_read_to_its_end() {
        let (r, w) = nix::unistd::pipe2(OFlag::O_CLOEXEC).unwrap();
        File::from(w).write_all(b"127 not found").unwrap();
        assert_eq!(read_report(r).unwrap(), "127 not found");
    }
}
