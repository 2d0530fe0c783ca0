//! Containers end to end: create one on an image, mount its union view,
//! run it, watch it, signal it, commit it, remove it. Ties the store and
//! the image's runtime config to `isolate`. The record it keeps (what a
//! container is and what it is doing) and the container's directory are
//! [`crate::store::container`]'s; whether a recorded process is still alive
//! is [`crate::isolate::liveness`]'s.
//!
//! State never lies: every read of a container's status checks that its
//! supervisor is alive (pid and start time); the supervisor records its
//! init's exit, and a container whose supervisor died is recorded exited
//! and its processes, cgroup and mount are cleaned up on the spot.

use crate::image::runtime_config::{self as rcfg, effective_config, runtime, Overrides};
use crate::isolate::cgroup::{self, Cgroup, Limits};
use crate::isolate::config::DEFAULT_PATH;
use crate::isolate::liveness::{alive, proc_start_time};
use crate::isolate::overlay::{self, View};
use crate::isolate::process::{self, Io, SpawnError};
use crate::isolate::spec::{self, Net};
use crate::isolate::supervise;
use crate::net::{self as network, Mode};
use crate::store::container::{now_rfc3339, ContainerMeta, HostConfig, RunSettings, State, Status};
use crate::store::{Store, StoreError};
use nix::sys::signal::Signal;
use nix::unistd::Pid;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::PathBuf;
use std::time::{Duration, Instant};

pub mod attach;
mod bundle_init;
pub mod capabilities;
pub mod copy;
mod mounts;
pub mod restart;
pub mod slirp;
pub use mounts::{bind_propagation, hostname};

#[derive(Debug, thiserror::Error)]
pub enum ContainerError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The container is not in a state the operation can work with.
    #[error("container {id}: {problem}")]
    State { id: String, problem: Problem },
    #[error("container {id}")]
    Spawn { id: String, source: SpawnError },
    /// `--init` in a bundle, with no static init on the host to give it.
    #[error("container {id}")]
    BundleInit {
        id: String,
        source: bundle_init::InitError,
    },
    /// A `--change` instruction that does not parse.
    #[error("container {id}: --change")]
    Change {
        id: String,
        #[source]
        source: crate::image::change::ChangeError,
    },
    /// A system operation on the container failed: `what`, with its cause
    /// as the source.
    #[error("container {id}: {what}")]
    Sys {
        id: String,
        what: &'static str,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error(transparent)]
    Detach(#[from] supervise::DetachError),
    /// Attaching a terminal's input from a stdin that is not one.
    #[error(transparent)]
    NotATty(#[from] crate::isolate::tty::NotATty),
    #[error(transparent)]
    Volume(#[from] crate::volume::VolumeError),
    #[error(
        "invalid hostname {0:?}: use letters, digits, '-' and '.', at most 63 characters a label"
    )]
    Hostname(String),
}

impl ContainerError {
    /// The exit status for `isolate`'s own failures (125, or the child's
    /// 126/127).
    pub fn exit_code(&self) -> i32 {
        match self {
            ContainerError::Spawn { source, .. } => source.exit_code(),
            ContainerError::Detach(e) => e.exit_code(),
            _ => 125,
        }
    }
}

/// Why a container cannot do what was asked, as it is now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    #[error("is already running")]
    AlreadyRunning,
    #[error("has no command: the image sets no Cmd or Entrypoint; give one after --")]
    NoCommand,
    #[error("is not running")]
    NotRunning,
    #[error("is already paused")]
    AlreadyPaused,
    #[error("is not paused")]
    NotPaused,
    #[error("has no cgroup")]
    NoCgroup,
    #[error("has no cgroup to freeze: a rootless container gets none on this host (no cgroup v2 controllers delegated to the user)")]
    RootlessNoCgroup,
    #[error("asks for {0}, which needs a cgroup, and a rootless container gets none on this host (no cgroup v2 controllers delegated to the user): drop it or run as root")]
    RootlessLimit(&'static str),
    #[error("is running; stop it first or use -f")]
    Running,
    #[error("is paused; unpause it first")]
    Paused,
    #[error("is restarting; wait until it is running")]
    Restarting,
    #[error("its union view is still mounted")]
    StillMounted,
}

type Result<T> = std::result::Result<T, ContainerError>;

fn state_err(c: &ContainerMeta, problem: Problem) -> ContainerError {
    ContainerError::State {
        id: c.id.short(),
        problem,
    }
}

/// `what` failed for container `c`, because of `e`.
fn sys<E>(c: &ContainerMeta, what: &'static str) -> impl FnOnce(E) -> ContainerError
where
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let id = c.id.short();
    move |e| ContainerError::Sys {
        id,
        what,
        source: e.into(),
    }
}

/// Create a container on the image `image` (any name `resolve` accepts).
pub fn create(
    store: &Store,
    image: &str,
    name: Option<&str>,
    o: &Overrides,
) -> Result<ContainerMeta> {
    create_with(store, image, name, o, HostConfig::default())
}

/// [`create`], with mounts, a hostname or a read-only root: the volumes
/// it names are made (and an anonymous one for each of the image's
/// `VOLUME`s no mount covers), a bind that must exist is checked.
pub fn create_with(
    store: &Store,
    image: &str,
    name: Option<&str>,
    o: &Overrides,
    mut host: HostConfig,
) -> Result<ContainerMeta> {
    let layer = crate::image::resolve(store, image)?;
    let chain = store.chain(&layer)?;
    let config = rcfg::apply(&effective_config(&chain), o);
    if let Some(h) = &host.hostname {
        if !crate::hostfiles::valid_hostname(h) {
            return Err(ContainerError::Hostname(h.clone()));
        }
    }
    let image_volumes = runtime(&config).volumes().clone().unwrap_or_default();
    // no volume it names is removed before its record names it
    let _l = crate::volume::lock(store)?;
    host.mounts = crate::volume::prepare(store, host.mounts, &image_volumes)?;
    Ok(store.create_container(name, image, &layer, config, host)?)
}

pub fn rootfs(store: &Store, c: &ContainerMeta) -> PathBuf {
    store.container_dirs(&c.id).rootfs
}

/// The read-only layers under a container's read-write layer, top first:
/// its init dir (the mount points /proc, /sys, /dev), then its image's.
pub fn lower_layers(store: &Store, c: &ContainerMeta) -> Result<Vec<PathBuf>> {
    let mut lower = vec![store.container_dirs(&c.id).init];
    lower.extend(store.stack(&c.layer)?.dirs);
    Ok(lower)
}

/// Mount the container's union view, if it is not mounted yet.
pub fn mount(store: &Store, c: &ContainerMeta) -> Result<PathBuf> {
    let target = rootfs(store, c);
    if overlay::is_mounted(&target) {
        return Ok(target);
    }
    let dirs = store.container_dirs(&c.id);
    overlay::mount(&View {
        lower: lower_layers(store, c)?,
        upper: dirs.upper,
        work: dirs.work,
        target: target.clone(),
    })
    .map_err(sys(c, "mounting the union view"))?;
    Ok(target)
}

/// Take the union view down (a no-op when it is not mounted), and its
/// bind mount in a bundle ([`write_bundle`]) first.
pub fn unmount(store: &Store, c: &ContainerMeta) -> Result<()> {
    let record = bundle_record(store, c);
    if let Ok(dir) = std::fs::read(&record) {
        let bound = PathBuf::from(std::ffi::OsString::from_vec(dir)).join("rootfs");
        if overlay::is_mounted(&bound) {
            overlay::unmount(&bound).map_err(sys(c, "unmounting its bundle's rootfs"))?;
        }
        let _ = std::fs::remove_file(&record);
    }
    let target = rootfs(store, c);
    if overlay::is_mounted(&target) {
        overlay::unmount(&target).map_err(sys(c, "unmounting the union view"))?;
    }
    Ok(())
}

/// Where the container records the bundle its view is bound into.
fn bundle_record(store: &Store, c: &ContainerMeta) -> PathBuf {
    store.container_dir(&c.id).join("bundle")
}

/// Write an OCI bundle for any runtime (runc, crun) at `dir`: the
/// container's union view bind-mounted at `dir/rootfs` and `dir/config.json`,
/// the spec [`start`] would run with `o` (its root path relative, as a
/// bundle's is). [`unmount`] takes the bind mount down with the view.
pub fn write_bundle(
    store: &Store,
    c: &ContainerMeta,
    dir: &std::path::Path,
    o: &RunOptions,
) -> Result<PathBuf> {
    let config = runtime(&rcfg::apply(&c.config, &o.overrides));
    if rcfg::argv(&config).is_empty() {
        return Err(state_err(c, Problem::NoCommand));
    }
    // as docker gives runc its init: the host's static one, bound in
    let init = match c.host.init {
        true => Some(
            bundle_init::find().map_err(|source| ContainerError::BundleInit {
                id: c.id.short(),
                source,
            })?,
        ),
        false => None,
    };
    let root = mount(store, c)?;
    let user =
        spec::resolve_user(&root, &rcfg::user(&config)).map_err(sys(c, "resolving its user"))?;
    // A bundle's runtime makes its own namespaces: a network cairn would
    // set up for it has nobody to hold it.
    let net = match &o.net {
        Mode::Host => Net::Host,
        Mode::Join(p) => Net::Join(p.clone()),
        _ => Net::Loopback,
    };
    let mut spec = spec_of(c, &config, o, "rootfs".into(), user, net.clone())
        .build()
        .map_err(sys(c, "making its spec"))?;
    if !o.privileged {
        capabilities::apply(&mut spec, &c.host.cap_add, &c.host.cap_drop);
    }
    mounts::add_to_spec(store, c, &mut spec, &root, &net)?;
    if let Some(init) = init {
        bundle_init::apply(&mut spec, &init).map_err(sys(c, "giving the bundle its init"))?;
    }
    let bound = dir.join("rootfs");
    std::fs::create_dir_all(&bound).map_err(sys(c, "making the bundle's rootfs"))?;
    let dir = dir
        .canonicalize()
        .map_err(sys(c, "making the bundle's rootfs"))?;
    let bound = dir.join("rootfs");
    if !overlay::is_mounted(&bound) {
        use nix::mount::MsFlags;
        nix::mount::mount(
            Some(&root),
            &bound,
            None::<&str>,
            MsFlags::MS_BIND,
            None::<&str>,
        )
        .map_err(sys(c, "binding the view into the bundle"))?;
        crate::store::write_atomic(&bundle_record(store, c), dir.as_os_str().as_bytes())?;
    }
    let json = serde_json::to_vec_pretty(&spec).map_err(sys(c, "writing config.json"))?;
    crate::store::write_atomic(&dir.join("config.json"), &json)?;
    Ok(dir)
}

pub fn is_mounted(store: &Store, c: &ContainerMeta) -> bool {
    overlay::is_mounted(&rootfs(store, c))
}

fn cgroup_name(c: &ContainerMeta) -> String {
    c.id.hex()
}

/// The container's state as it really is. A container recorded running
/// whose supervisor is gone is recorded exited (and cleaned up). While the
/// supervisor lives the record is its own: it reaps the init and records
/// the real exit status, so an init that just died is not yet "exited"
/// here (taking over then would race it with a 137 of our own).
pub fn state(store: &Store, c: &ContainerMeta) -> Result<State> {
    let mut st = store.read_state(&c.id)?;
    if st.status == Status::Restarting && !alive(st.supervisor, st.supervisor_start) {
        // its supervisor died between two runs: nothing will start it
        st.status = Status::Exited;
        st.supervisor = None;
        st.supervisor_start = None;
        store.write_state(&c.id, &st)?;
        return Ok(st);
    }
    if st.status == Status::Running || st.status == Status::Paused {
        if !alive(st.supervisor, st.supervisor_start) {
            // The supervisor died before it could record the exit: take
            // everything down and say so.
            if alive(st.pid, st.pid_start) {
                let _ = kill_all(store, c, Signal::SIGKILL);
            }
            cleanup(store, c);
            let mut fresh = store.read_state(&c.id)?;
            if fresh.status == Status::Running || fresh.status == Status::Paused {
                fresh.status = Status::Exited;
                fresh.exit_code.get_or_insert(137);
                fresh.finished_at.get_or_insert_with(now_rfc3339);
                fresh.cgroup = None;
                store.write_state(&c.id, &fresh)?;
            }
            return Ok(fresh);
        }
        if let Ok(Some(cg)) = Cgroup::open(&cgroup_name(c)) {
            // Frozen with its init gone is not a pause: the supervisor
            // freezes a v1 cgroup to kill what the init left behind.
            let paused = alive(st.pid, st.pid_start) && cg.is_frozen().unwrap_or(false);
            st.status = if paused {
                Status::Paused
            } else {
                Status::Running
            };
        }
    }
    Ok(st)
}

/// Take down what a finished container leaves: its cgroup and its mount.
fn cleanup(store: &Store, c: &ContainerMeta) {
    if let Ok(Some(cg)) = Cgroup::open(&cgroup_name(c)) {
        let _ = cg.signal_all(Signal::SIGKILL);
        let _ = cg.destroy();
    }
    let _ = unmount(store, c);
    disconnect(store, &c.id);
}

/// How to run the container's process.
#[derive(Clone)]
pub struct RunOptions {
    /// Overrides for this run (a command after `--`, …).
    pub overrides: Overrides,
    /// Its network (`--network`).
    pub net: Mode,
    /// Ports published to it (`-p`; on a bridge network or slirp4netns).
    pub ports: Vec<network::Port>,
    pub limits: Limits,
    pub privileged: bool,
    pub stdio: [Option<std::os::fd::RawFd>; 3],
    pub tty: bool,
    /// With a tty: the console socket (see [`process::Io::console`]).
    pub console: Option<std::os::fd::RawFd>,
    /// The process that will wait for the container (this one, or a
    /// detached supervisor).
    pub supervisor: Pid,
}

/// A started container.
pub struct Running {
    pub meta: ContainerMeta,
    pub pid: Pid,
    pub cgroup: Option<Cgroup>,
    /// `start` mounted the view (it was not mounted before), so `finish`
    /// takes it down again; a view mounted by `union-mount` stays.
    pub mounted_here: bool,
}

/// Start the container: mount its view, make its spec and its cgroup,
/// spawn its process and record it running. The caller then `wait`s for
/// it.
pub fn start(store: &Store, c: &ContainerMeta, o: &RunOptions) -> Result<Running> {
    let _lock = store.lock_container(&c.id)?;
    let restart_count = may_start(store, c, o)?;
    let config = runtime(&rcfg::apply(&c.config, &o.overrides));
    let argv = rcfg::argv(&config);
    if argv.is_empty() {
        return Err(state_err(c, Problem::NoCommand));
    }
    let mounted_here = !is_mounted(store, c);
    let root = mount(store, c)?;
    let failed = |e: SpawnError| -> ContainerError {
        if mounted_here {
            let _ = unmount(store, c);
        }
        match record_failed_start(store, c, &argv, e.exit_code()) {
            Ok(()) => ContainerError::Spawn {
                id: c.id.short(),
                source: e,
            },
            Err(e) => e,
        }
    };
    // The user, as the image's own passwd and group files have it.
    let user = spec::resolve_user(&root, &rcfg::user(&config)).map_err(|e| {
        failed(SpawnError::Child {
            code: 125,
            msg: crate::error::one_line(&e),
        })
    })?;
    let (net, attached) = connect(store, c, &o.net, &o.ports).inspect_err(|_| {
        if mounted_here {
            let _ = unmount(store, c);
        }
        let _ = record_failed_start(store, c, &argv, 125);
    })?;
    // Any failure from here on takes the network down again.
    let failed = |e: SpawnError| {
        disconnect(store, &c.id);
        failed(e)
    };
    let name = cgroup_name(c);
    let mut spec = spec_of(c, &config, o, root.clone(), user, net.clone())
        .build()
        .map_err(sys(c, "creating its cgroup"))?;
    if !o.privileged {
        capabilities::apply(&mut spec, &c.host.cap_add, &c.host.cap_drop);
    }
    ask_for_init(c, &mut spec);
    mounts::add_to_spec(store, c, &mut spec, &root, &net).inspect_err(|_| {
        disconnect(store, &c.id);
        if mounted_here {
            let _ = unmount(store, c);
        }
    })?;
    let cgroup = container_cgroup(c, &name, &spec).inspect_err(|_| {
        disconnect(store, &c.id);
        if mounted_here {
            let _ = unmount(store, c);
        }
        let _ = record_failed_start(store, c, &argv, 125);
    })?;
    let io = Io {
        stdio: o.stdio,
        cgroup: cgroup.as_ref(),
        console: o.console,
        state: None,
    };
    crate::trace::mark("start: spawn");
    let pid = process::spawn(&spec, &io).map_err(|e| {
        if let Some(cg) = &cgroup {
            let _ = cg.destroy();
        }
        failed(e)
    })?;
    crate::trace::mark("start: spawned");
    // The container's processes hold its network namespace now.
    drop(attached);
    let st = running_state(o, pid, argv, cgroup.as_ref().map(|_| name), restart_count);
    store.write_state(&c.id, &st)?;
    crate::trace::mark("start: running");
    Ok(Running {
        meta: c.clone(),
        pid,
        cgroup,
        mounted_here,
    })
}

/// The record of a container whose process `pid` was just started with
/// `o`: running, with the limits and privileges it was given.
fn running_state(
    o: &RunOptions,
    pid: nix::unistd::Pid,
    command: Vec<String>,
    cgroup: Option<String>,
    restart_count: u32,
) -> State {
    State {
        status: Status::Running,
        pid: Some(pid.as_raw()),
        pid_start: proc_start_time(pid.as_raw()),
        supervisor: Some(o.supervisor.as_raw()),
        supervisor_start: proc_start_time(o.supervisor.as_raw()),
        exit_code: None,
        oom_killed: false,
        started_at: Some(now_rfc3339()),
        finished_at: None,
        command,
        cgroup,
        restart_count,
        run: RunSettings {
            memory: o.limits.memory,
            memory_swap: o.limits.memory_swap,
            pids_limit: o.limits.pids,
            cpus: o.limits.cpus,
            privileged: o.privileged,
            tty: o.tty,
        },
    }
}

pub use crate::isolate::supervise::exit_code;

/// With `--init`, the spec asks for cairn's init as pid 1
/// ([`crate::isolate::init`]).
fn ask_for_init(c: &ContainerMeta, spec: &mut spec::Spec) {
    if c.host.init {
        let mut a = spec.annotations().clone().unwrap_or_default();
        a.insert(crate::isolate::init::ANNOTATION.into(), "true".into());
        spec.set_annotations(Some(a));
    }
}

/// Refuse to start a container that runs, unless this is its supervisor
/// starting it again (its restart policy). A start by hand clears a stop
/// and the count of restarts. Returns the count the new run carries.
fn may_start(store: &Store, c: &ContainerMeta, o: &RunOptions) -> Result<u32> {
    let st = state(store, c)?;
    let restart = st.status == Status::Restarting && st.supervisor == Some(o.supervisor.as_raw());
    if restart {
        return Ok(st.restart_count);
    }
    if matches!(
        st.status,
        Status::Running | Status::Paused | Status::Restarting
    ) {
        return Err(state_err(c, Problem::AlreadyRunning));
    }
    restart::clear_stop(store, &c.id);
    Ok(0)
}

/// The container's cgroup, made afresh (a leftover of the same name is
/// killed and removed). A rootless container gets none: this kind of host
/// delegates no controllers to an ordinary user, so a limit asked for is
/// refused ([`rootless_limits`]) and docker's default pids bound is not
/// enforced.
fn container_cgroup(c: &ContainerMeta, name: &str, spec: &spec::Spec) -> Result<Option<Cgroup>> {
    if crate::userns::rootless() {
        rootless_limits(&spec::limits(spec)).map_err(|p| state_err(c, p))?;
        return Ok(None);
    }
    if let Ok(Some(old)) = Cgroup::open(name) {
        let _ = old.signal_all(Signal::SIGKILL);
        let _ = old.destroy();
    }
    let devices = spec::device_rules(spec).map_err(sys(c, "creating its cgroup"))?;
    Cgroup::create_with_devices(name, &spec::limits(spec), &devices)
        .map(Some)
        .map_err(sys(c, "creating its cgroup"))
}

/// The limits a start applies for `r`: the default pids bound
/// ([`crate::isolate::config::DEFAULT_PIDS_LIMIT`]) when none is given, and
/// swap only with a memory limit.
pub fn limits(r: &crate::store::container::Resources) -> Limits {
    let pids = match r.pids_limit {
        None => Some(crate::isolate::config::DEFAULT_PIDS_LIMIT),
        Some(n) => u64::try_from(n).ok().filter(|n| *n > 0),
    };
    Limits {
        memory: r.memory,
        memory_swap: r.memory.and(r.memory_swap),
        pids,
        cpus: r.cpus,
    }
}

/// In a rootless store, the limit in `l` that cannot be had (docker's
/// default pids bound aside, which is dropped).
pub fn rootless_limits(l: &Limits) -> std::result::Result<(), Problem> {
    let default_pids = Some(crate::isolate::config::DEFAULT_PIDS_LIMIT);
    if l.memory.is_some() {
        Err(Problem::RootlessLimit("a memory limit"))
    } else if l.cpus.is_some() {
        Err(Problem::RootlessLimit("a cpu limit"))
    } else if l.pids.is_some() && l.pids != default_pids {
        Err(Problem::RootlessLimit("a pids limit"))
    } else {
        Ok(())
    }
}

/// How a detached container is supervised.
#[derive(Debug, Clone, Copy, Default)]
pub struct Detached {
    /// Bounds of its log.
    pub log: crate::logfile::Bounds,
    /// Remove it when it exits (`--rm`).
    pub remove_on_exit: bool,
    /// Keep its stdin open for attachers (`-i`); with `tty` in the run
    /// options, it gets a terminal.
    pub interactive: bool,
    /// An attacher's end of input closes its stdin (docker's StdinOnce).
    pub stdin_once: bool,
    /// Connect an attacher before it starts, so that none of its output
    /// is missed (a foreground `run -it`, `start -a`): its end comes back.
    pub attach_early: bool,
}

/// Start the container under a detached supervisor (`isolate -d`) that
/// keeps its output in the container's log, serves attachers on the
/// socket in its directory ([`crate::isolate::attach`]), reaps it and
/// records its exit, starts it again as its restart policy asks
/// ([`restart`]), then removes the container when `remove_on_exit`
/// (`--rm`). Returns the pid of its init, and the early attacher's end
/// of the socket when `d.attach_early` asked for one. `o.stdio`,
/// `o.console` and `o.supervisor` are the supervisor's to set.
pub fn start_detached(
    store: &Store,
    c: &ContainerMeta,
    o: RunOptions,
    d: Detached,
) -> Result<(Pid, Option<std::os::unix::net::UnixStream>)> {
    let dirs = store.container_dirs(&c.id);
    let log = supervise::Log {
        path: &dirs.log,
        bounds: d.log,
        socket: &dirs.attach,
        tty: o.tty,
        interactive: d.interactive,
        stdin_once: d.stdin_once,
        early: d.attach_early,
    };
    let started = |stdio: supervise::Stdio, supervisor| {
        let o = RunOptions {
            stdio: stdio.fds,
            console: stdio.console,
            supervisor,
            ..o.clone()
        };
        start(store, c, &o)
            .map(|r| (r.pid, (r, Instant::now())))
            .map_err(|e| supervise::StartFailure {
                code: e.exit_code(),
                message: crate::error::one_line(&e),
            })
    };
    let mut backoff = restart::Backoff::default();
    let finished = |(r, since): (Running, Instant), code| {
        // read before its exit is recorded: a restart waits for that, then
        // starts it again (and clears the mark)
        let restarting = restart::restart_requested(store, &r.meta.id);
        let _ = finish(store, &r, code);
        if restart_after(store, &r.meta, code, &mut backoff, since.elapsed()) {
            return true;
        }
        if d.remove_on_exit && !restarting {
            // as docker's --rm: its anonymous volumes go with it
            let _ = remove_with_volumes(store, &r.meta);
        }
        false
    };
    Ok(supervise::detach(log, started, finished)?)
}

/// After `c`'s process (which ran `ran`) exited with `code` and was
/// recorded exited: if its restart policy asks for another run, record it
/// restarting, wait the backoff's delay and say `true`; `false` when the
/// policy says no or a stop came meanwhile. Called by its supervisor.
fn restart_after(
    store: &Store,
    c: &ContainerMeta,
    code: i32,
    backoff: &mut restart::Backoff,
    ran: Duration,
) -> bool {
    let Ok(mut st) = store.read_state(&c.id) else {
        return false;
    };
    let stopped = restart::stop_requested(store, &c.id);
    if !restart::should(&c.host.restart, code, st.restart_count, stopped) {
        return false;
    }
    let me = nix::unistd::getpid().as_raw();
    st.status = Status::Restarting;
    st.restart_count += 1;
    st.supervisor = Some(me);
    st.supervisor_start = proc_start_time(me);
    if store.write_state(&c.id, &st).is_err() {
        return false;
    }
    if restart::sleep_unless_stopped(store, &c.id, backoff.next(ran)) {
        return true;
    }
    st.status = Status::Exited;
    st.supervisor = None;
    st.supervisor_start = None;
    let _ = store.write_state(&c.id, &st);
    false
}

/// Record the end of a running container: state exited with `code`, its
/// cgroup removed, its view unmounted.
pub fn finish(store: &Store, r: &Running, code: i32) -> Result<State> {
    crate::trace::mark("finish");
    let oom = r
        .cgroup
        .as_ref()
        .is_some_and(|cg| cg.oom_killed().unwrap_or(false));
    if let Some(cg) = &r.cgroup {
        let _ = cg.signal_all(Signal::SIGKILL);
        let _ = cg.destroy();
    }
    crate::trace::mark("finish: unmount");
    let _ = unmount(store, &r.meta);
    crate::trace::mark("finish: network");
    disconnect(store, &r.meta.id);
    crate::trace::mark("finish: state");
    let mut st = store.read_state(&r.meta.id)?;
    st.status = Status::Exited;
    st.exit_code = Some(code);
    st.oom_killed = oom;
    st.finished_at = Some(now_rfc3339());
    st.cgroup = None;
    st.pid = None;
    st.pid_start = None;
    st.supervisor = None;
    st.supervisor_start = None;
    store.write_state(&r.meta.id, &st)?;
    Ok(st)
}

/// [`finish`], then `--rm`'s removal when `rm`, unless a restart stopped
/// it ([`stop_to_restart`]).
pub fn finish_run(store: &Store, r: &Running, code: i32, rm: bool) -> Result<State> {
    let restarting = restart::restart_requested(store, &r.meta.id);
    let st = finish(store, r, code)?;
    if rm && !restarting {
        remove_with_volumes(store, &r.meta)?;
    }
    Ok(st)
}

/// What a running container's processes use now, from its cgroup; `None`
/// when it has no cgroup (not running, or rootless).
pub fn usage(c: &ContainerMeta) -> Result<Option<cgroup::Usage>> {
    match Cgroup::open(&cgroup_name(c)).map_err(sys(c, "opening its cgroup"))? {
        Some(cg) => Ok(Some(cg.usage().map_err(sys(c, "reading its cgroup"))?)),
        None => Ok(None),
    }
}

/// Send `sig` to every process of a running container.
pub fn kill_all(store: &Store, c: &ContainerMeta, sig: Signal) -> Result<()> {
    match Cgroup::open(&cgroup_name(c)).map_err(sys(c, "opening its cgroup"))? {
        Some(cg) => cg
            .signal_all(sig)
            .map_err(sys(c, "signalling its processes")),
        None if crate::userns::rootless() => signal_init(c, &store.read_state(&c.id)?, sig),
        None => Err(state_err(c, Problem::NotRunning)),
    }
}

/// A rootless container has no cgroup to signal through: its init gets
/// the signal (as docker's kill and stop send it), and SIGKILL of a pid
/// namespace's init ends every process in it.
fn signal_init(c: &ContainerMeta, st: &State, sig: Signal) -> Result<()> {
    if !alive(st.pid, st.pid_start) {
        return Err(state_err(c, Problem::NotRunning));
    }
    let pid = Pid::from_raw(st.pid.unwrap_or_default());
    nix::sys::signal::kill(pid, sig).map_err(sys(c, "signalling its processes"))
}

/// `docker kill`: send `sig` to every process of a running container;
/// after SIGKILL, wait (up to ten seconds) until it is recorded stopped.
pub fn kill(store: &Store, c: &ContainerMeta, sig: Signal) -> Result<()> {
    if !is_running(store, c)? {
        return Err(state_err(c, Problem::NotRunning));
    }
    let before = store.read_state(&c.id)?.pid;
    kill_all(store, c, sig)?;
    if sig == Signal::SIGKILL {
        // stopped, or started again by its restart policy
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let st = store.read_state(&c.id)?;
            let this_run = matches!(st.status, Status::Running | Status::Paused)
                && st.pid == before
                && (alive(st.pid, st.pid_start) || alive(st.supervisor, st.supervisor_start));
            if !this_run || Instant::now() >= deadline {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    Ok(())
}

/// Is the container running (or paused, or between two runs of a
/// restart policy)?
pub fn is_running(store: &Store, c: &ContainerMeta) -> Result<bool> {
    Ok(matches!(
        state(store, c)?.status,
        Status::Running | Status::Paused | Status::Restarting
    ))
}

/// Wait until the container is no longer running, up to `timeout`.
pub fn wait_stopped(store: &Store, c: &ContainerMeta, timeout: Duration) -> Result<bool> {
    let deadline = Instant::now() + timeout;
    loop {
        let st = store.read_state(&c.id)?;
        // Stopped once the init is gone and so is its supervisor, which
        // records the exit, unmounts the view and keeps the log until then.
        let running = matches!(
            st.status,
            Status::Running | Status::Paused | Status::Restarting
        ) && (alive(st.pid, st.pid_start)
            || alive(st.supervisor, st.supervisor_start));
        if !running {
            return Ok(true);
        }
        if Instant::now() >= deadline {
            return Ok(false);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `docker stop`: SIGTERM (or the image's StopSignal) to every process,
/// then SIGKILL after `grace`. Returns the final state.
pub fn stop(store: &Store, c: &ContainerMeta, grace: Duration) -> Result<State> {
    // no restart policy brings it back (the next start by hand clears it)
    restart::request_stop(store, &c.id).map_err(sys(c, "recording the stop"))?;
    halt(store, c, grace)
}

/// [`stop`] for a restart: a `--rm` container is not removed by its
/// exit, as docker's restart keeps an AutoRemove container. Whoever
/// removes it reads [`restart::restart_requested`] before its exit is
/// recorded ([`finish`]), as the start that follows clears it.
pub fn stop_to_restart(store: &Store, c: &ContainerMeta, grace: Duration) -> Result<State> {
    restart::request_restart(store, &c.id).map_err(sys(c, "recording the stop"))?;
    halt(store, c, grace)
}

/// Signal `c`'s processes, the stop signal then after `grace` SIGKILL, and
/// wait until its exit is recorded.
fn halt(store: &Store, c: &ContainerMeta, grace: Duration) -> Result<State> {
    if !is_running(store, c)? {
        return state(store, c);
    }
    let sig = runtime(&c.config)
        .stop_signal()
        .as_deref()
        .and_then(parse_signal)
        .unwrap_or(Signal::SIGTERM);
    if let Ok(Some(cg)) = Cgroup::open(&cgroup_name(c)) {
        if cg.is_frozen().unwrap_or(false) {
            let _ = cg.thaw();
        }
    }
    let _ = kill_all(store, c, sig);
    if !wait_stopped(store, c, grace)? {
        let _ = kill_all(store, c, Signal::SIGKILL);
        wait_stopped(store, c, Duration::from_secs(10))?;
    }
    // The supervisor records the exit; give it a moment, then trust state().
    let deadline = Instant::now() + Duration::from_secs(5);
    while store.read_state(&c.id)?.status != Status::Exited && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    state(store, c)
}

pub use crate::isolate::supervise::parse_signal;

/// Freeze or thaw every process of a running container.
pub fn set_paused(store: &Store, c: &ContainerMeta, paused: bool) -> Result<()> {
    let st = state(store, c)?;
    match (st.status, paused) {
        (Status::Running, true) | (Status::Paused, false) => {}
        (Status::Paused, true) => return Err(state_err(c, Problem::AlreadyPaused)),
        (Status::Running, false) => return Err(state_err(c, Problem::NotPaused)),
        _ => return Err(state_err(c, Problem::NotRunning)),
    }
    let cg = Cgroup::open(&cgroup_name(c))
        .map_err(sys(c, "opening its cgroup"))?
        .ok_or_else(|| {
            let p = if crate::userns::rootless() {
                Problem::RootlessNoCgroup
            } else {
                Problem::NoCgroup
            };
            state_err(c, p)
        })?;
    if paused {
        cg.freeze().map_err(sys(c, "freezing it"))
    } else {
        cg.thaw().map_err(sys(c, "thawing it"))
    }
}

/// `--rm`, noted in the container's directory before its start. A
/// container whose supervisor was killed never removes itself; the next
/// listing sweeps it ([`listed`]), as docker's daemon removes its
/// AutoRemove containers when it comes back.
pub fn note_rm(store: &Store, c: &ContainerMeta, rm: bool) -> Result<()> {
    if rm {
        std::fs::write(rm_mark(store, c), b"").map_err(sys(c, "noting --rm"))?;
    }
    Ok(())
}

/// Whether `c` was started with `--rm` (docker's AutoRemove).
pub fn removes_itself(store: &Store, c: &ContainerMeta) -> bool {
    rm_mark(store, c).exists()
}

fn rm_mark(store: &Store, c: &ContainerMeta) -> PathBuf {
    store.container_dir(&c.id).join("autoremove")
}

/// `--rm` at the end of a run: the container and its anonymous volumes.
pub fn remove_with_volumes(store: &Store, c: &ContainerMeta) -> Result<()> {
    remove(store, c, true)?;
    crate::volume::remove_anonymous(store, c)?;
    Ok(())
}

/// A container's state as a listing shows it: `None` for a `--rm`
/// container that has exited, which is removed here (its supervisor, if
/// alive, is removing it too; the second removal finds nothing to do).
pub fn listed(store: &Store, c: &ContainerMeta) -> Result<Option<State>> {
    let st = state(store, c)?;
    let restarting = restart::restart_requested(store, &c.id);
    if st.status == Status::Exited && rm_mark(store, c).exists() && !restarting {
        remove_with_volumes(store, c)?;
        return Ok(None);
    }
    Ok(Some(st))
}

/// `docker rm`: refuse a running container unless `force` (then kill it);
/// unmount, remove the cgroup, delete the read-write layer. A container
/// removed meanwhile by another (its own `--rm`) is removed: that is done.
pub fn remove(store: &Store, c: &ContainerMeta, force: bool) -> Result<()> {
    match remove_now(store, c, force) {
        Err(_) if !store.container_dir(&c.id).exists() => Ok(()),
        r => r,
    }
}

fn remove_now(store: &Store, c: &ContainerMeta, force: bool) -> Result<()> {
    if is_running(store, c)? {
        if !force {
            return Err(state_err(c, Problem::Running));
        }
        restart::request_stop(store, &c.id).map_err(sys(c, "recording the stop"))?;
        let _ = kill_all(store, c, Signal::SIGKILL);
        wait_stopped(store, c, Duration::from_secs(10))?;
        let _ = state(store, c)?;
    }
    let _lock = store.lock_container(&c.id)?;
    cleanup(store, c);
    if is_mounted(store, c) {
        return Err(state_err(c, Problem::StillMounted));
    }
    store.remove_container_dir(&c.id)?;
    Ok(())
}

/// `docker rename`: give `c` the name `new` (valid and unused).
pub fn rename(store: &Store, c: &ContainerMeta, new: &str) -> Result<ContainerMeta> {
    if !crate::store::container::valid_name(new) {
        return Err(StoreError::BadName(new.to_string()).into());
    }
    // no other container takes the name meanwhile
    let _l = store.lock_exclusive("containers")?;
    if store
        .containers()?
        .iter()
        .any(|o| o.name == new && o.id != c.id)
    {
        return Err(StoreError::NameInUse(new.to_string()).into());
    }
    let mut meta = store.container(&c.id)?;
    meta.name = new.to_string();
    let json = serde_json::to_vec_pretty(&meta).map_err(sys(c, "writing its record"))?;
    crate::store::write_atomic(&store.container_dir(&c.id).join("container.json"), &json)?;
    Ok(meta)
}

/// The host pids of every process of a running container (its cgroup's),
/// in the order the kernel lists them. A rootless container has no
/// cgroup: its processes are those in its init's pid namespace, found
/// through /proc without privileges.
pub fn processes(store: &Store, c: &ContainerMeta) -> Result<Vec<Pid>> {
    if !is_running(store, c)? {
        return Err(state_err(c, Problem::NotRunning));
    }
    let cg = Cgroup::open(&cgroup_name(c)).map_err(sys(c, "opening its cgroup"))?;
    match cg {
        Some(cg) => {
            let pids = cg.procs().map_err(sys(c, "listing its processes"))?;
            Ok(pids.into_iter().map(Pid::from_raw).collect())
        }
        None if crate::userns::rootless() => {
            let st = store.read_state(&c.id)?;
            let init = st.pid.ok_or_else(|| state_err(c, Problem::NotRunning))?;
            pid_namespace_members(init).map_err(sys(c, "listing its processes"))
        }
        None => Err(state_err(c, Problem::NotRunning)),
    }
}

/// `init` and every process in the same pid namespace (`/proc/PID/ns/pid`
/// names the same one), in pid order.
fn pid_namespace_members(init: i32) -> std::io::Result<Vec<Pid>> {
    let ns = |pid: &str| std::fs::read_link(format!("/proc/{pid}/ns/pid")).ok();
    let want = ns(&init.to_string()).ok_or(std::io::Error::from_raw_os_error(libc::ESRCH))?;
    let mut out: Vec<i32> = std::fs::read_dir("/proc")?
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|p| ns(&p.to_string()).as_ref() == Some(&want))
        .collect();
    out.sort_unstable();
    Ok(out.into_iter().map(Pid::from_raw).collect())
}

/// `docker top`: the header of `ps`'s output `text` and its lines for
/// `pids` (the column headed PID says whose a line is). An error when
/// there is no PID column (ps options without one).
pub fn ps_lines<'t>(
    text: &'t str,
    pids: &[Pid],
) -> std::result::Result<Vec<&'t str>, &'static str> {
    let mut lines = text.lines();
    let header = lines.next().ok_or("no output")?;
    let col = header
        .split_whitespace()
        .position(|h| h == "PID")
        .ok_or("no PID column in its output")?;
    let mut out = vec![header];
    out.extend(lines.filter(|l| {
        l.split_whitespace()
            .nth(col)
            .and_then(|p| p.parse::<i32>().ok())
            .is_some_and(|p| pids.contains(&Pid::from_raw(p)))
    }));
    Ok(out)
}

/// `docker network connect`: put `c` on the bridge network `name` too,
/// found there also by `aliases`: at once if it runs (an interface more
/// in its namespace), and at every start.
pub fn network_connect(
    store: &Store,
    c: &ContainerMeta,
    name: &str,
    aliases: &[String],
) -> Result<()> {
    let _lock = store.lock_container(&c.id)?;
    let st = state(store, c)?;
    let running = match (st.status, st.pid) {
        (Status::Running | Status::Paused, Some(p)) => {
            Some(PathBuf::from(format!("/proc/{p}/ns/net")))
        }
        _ => None,
    };
    network::connect(store, &c.id, name, aliases, running.as_deref())
        .map_err(sys(c, "connecting it to a network"))
}

/// `docker network disconnect`: take `c` off the network `name`, at once
/// if it runs.
pub fn network_disconnect(store: &Store, c: &ContainerMeta, name: &str) -> Result<()> {
    let _lock = store.lock_container(&c.id)?;
    // a container found dead is taken down first
    state(store, c)?;
    network::disconnect(store, &c.id, name).map_err(sys(c, "disconnecting it from a network"))
}

/// The host pid of a running container's init, or an error.
pub fn init_pid(store: &Store, c: &ContainerMeta) -> Result<Pid> {
    let st = state(store, c)?;
    match (st.status, st.pid) {
        (Status::Running, Some(p)) => Ok(Pid::from_raw(p)),
        (Status::Paused, _) => Err(state_err(c, Problem::Paused)),
        _ => Err(state_err(c, Problem::NotRunning)),
    }
}

/// How to run a process in a running container (`exec`).
pub struct ExecOptions {
    pub argv: Vec<String>,
    pub env: Vec<String>,
    pub workdir: Option<String>,
    pub user: Option<String>,
    pub privileged: bool,
    pub stdio: [Option<std::os::fd::RawFd>; 3],
    pub tty: bool,
    /// With a tty: the console socket (see [`process::Io::console`]).
    pub console: Option<std::os::fd::RawFd>,
}

/// The settings of `c`'s spec for a run with `o`: the image's runtime
/// `config` (with this run's overrides), the view mounted at `root`, the
/// resolved `user`.
fn spec_of(
    c: &ContainerMeta,
    config: &oci_spec::image::Config,
    o: &RunOptions,
    root: PathBuf,
    user: crate::isolate::config::Ident,
    net: Net,
) -> spec::Options {
    let hostname = hostname(c);
    spec::Options {
        rootfs: root,
        env: process_env(config, &hostname, &[], o.tty),
        hostname,
        args: rcfg::argv(config),
        cwd: rcfg::workdir(config),
        user,
        net,
        privileged: o.privileged,
        limits: o.limits.clone(),
        terminal: o.tty,
        cgroups_path: Some(PathBuf::from(format!(
            "/{}/{}",
            cgroup::PARENT,
            cgroup_name(c)
        ))),
    }
}

/// The network namespace `c` runs in for `mode`, recorded as its endpoint;
/// on a bridge network, the namespace made for it, to be held until the
/// container's process has joined it.
/// Take the container's network down: its bridge attachment or its
/// slirp4netns.
fn disconnect(store: &Store, id: &crate::ContainerId) {
    let _ = network::detach(store, id);
    slirp::stop(store, id);
}

/// The container's network, and the fd of a namespace made for it, to
/// keep open until its process has joined.
fn connect(
    store: &Store,
    c: &ContainerMeta,
    mode: &Mode,
    ports: &[network::Port],
) -> Result<(Net, Option<OwnedFd>)> {
    if !ports.is_empty() && !matches!(mode, Mode::Bridge(_) | Mode::Slirp4netns { .. }) {
        return Err(sys(c, "publishing ports")(
            "a port is published on a bridge network or slirp4netns only",
        ));
    }
    crate::trace::mark("start: network");
    let net = match mode {
        Mode::None => Net::Loopback,
        Mode::Host => Net::Host,
        Mode::Join(p) => Net::Join(p.clone()),
        Mode::Container(name) => {
            let other = store.resolve_container(name)?;
            if other.id == c.id {
                return Err(sys(c, "joining a network")(
                    "a container cannot share its own network",
                ));
            }
            let pid = init_pid(store, &other)?;
            network::note_shared(store, &other.id).map_err(sys(c, "joining a network"))?;
            Net::Join(format!("/proc/{pid}/ns/net").into())
        }
        Mode::Bridge(_) if crate::userns::rootless() => {
            return Err(sys(c, "attaching it to its network")(
                "a bridge network needs root (it adds a veth pair and nftables rules to the host): use --network none or host",
            ));
        }
        Mode::Bridge(name) => {
            let a = network::attach(store, &c.id, name, ports)
                .map_err(sys(c, "attaching it to its network"))?;
            return Ok((Net::Join(a.netns_path()), Some(a.netns)));
        }
        Mode::Slirp4netns {
            allow_host_loopback,
        } => {
            let s = slirp::attach(store, &c.id, *allow_host_loopback, ports)
                .map_err(sys(c, "starting slirp4netns"))?;
            let recorded = network::record_forwarded(store, &c.id, mode, &s.ports);
            if let Err(e) = recorded {
                slirp::stop(store, &c.id);
                return Err(sys(c, "recording its network")(e));
            }
            return Ok((Net::Join(network::netns::path(&s.netns)), Some(s.netns)));
        }
    };
    network::record_mode(store, &c.id, mode).map_err(sys(c, "recording its network"))?;
    Ok((net, None))
}

/// A container's environment: its config's, each name once (with the
/// default PATH when it sets none), HOSTNAME, then `extra` (`exec
/// --env`), and TERM on a terminal.
fn process_env(
    config: &oci_spec::image::Config,
    hostname: &str,
    extra: &[String],
    tty: bool,
) -> Vec<String> {
    let mut env = rcfg::unique_env(&rcfg::env(config));
    if !env.iter().any(|e| e.starts_with("PATH=")) {
        env.insert(0, format!("PATH={}", DEFAULT_PATH));
    }
    env = rcfg::merge_env(&env, &[format!("HOSTNAME={hostname}")]);
    env = rcfg::merge_env(&env, extra);
    if tty && !env.iter().any(|e| e.starts_with("TERM=")) {
        env.push("TERM=xterm".into());
    }
    env
}

/// The environment given on a command line, as docker reads it: the
/// lines of each env file (`env_files`, their text; blank lines and `#`
/// comments skipped), then each `-e`. A bare `K` takes the caller's value
/// (`lookup`); one the caller does not have stays bare, which removes `K`.
pub fn caller_env(
    env_files: &[String],
    flags: &[String],
    lookup: impl Fn(&str) -> Option<String>,
) -> Vec<String> {
    let lines = env_files.iter().flat_map(|t| {
        t.lines()
            .map(str::trim_start)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
    });
    lines
        .chain(flags.iter().map(String::as_str))
        .map(|e| match (e.contains('='), lookup(e)) {
            (false, Some(v)) => format!("{e}={v}"),
            _ => e.to_string(),
        })
        .collect()
}

/// Record that `c` exited with `code` before its command ran.
fn record_failed_start(store: &Store, c: &ContainerMeta, argv: &[String], code: i32) -> Result<()> {
    let mut st = store.read_state(&c.id)?;
    st.status = Status::Exited;
    st.exit_code = Some(code);
    st.command = argv.to_vec();
    st.finished_at = Some(now_rfc3339());
    store.write_state(&c.id, &st)?;
    Ok(())
}

/// Start a new process inside a running container's namespaces and
/// cgroup, with the same hardening as its init.
pub fn exec(store: &Store, c: &ContainerMeta, o: &ExecOptions) -> Result<process::Joined> {
    enter(store, c, o, process::spawn_into)
}

/// [`exec`], the process left running on its own (`exec -d`): returns
/// its pid once it has executed.
pub fn exec_detached(store: &Store, c: &ContainerMeta, o: &ExecOptions) -> Result<Pid> {
    enter(store, c, o, process::spawn_into_detached)
}

fn enter<T>(
    store: &Store,
    c: &ContainerMeta,
    o: &ExecOptions,
    spawn: impl FnOnce(&spec::Spec, &Io<'_>) -> std::result::Result<T, SpawnError>,
) -> Result<T> {
    let pid = init_pid(store, c)?;
    // A container that stopped while this was being set up is "not
    // running", not whichever /proc or cgroup file vanished first.
    let raced = |e: ContainerError| {
        if init_ends(pid) {
            state_err(c, Problem::NotRunning)
        } else {
            e
        }
    };
    let cgroup = Cgroup::open(&cgroup_name(c))
        .map_err(sys(c, "opening its cgroup"))
        .map_err(raced)?;
    let image = runtime(&c.config);
    let spawn_err = |source: SpawnError| {
        raced(ContainerError::Spawn {
            id: c.id.short(),
            source,
        })
    };
    // The container's root as its init sees it.
    let root = PathBuf::from(format!("/proc/{pid}/root"));
    let user = o.user.clone().unwrap_or_else(|| rcfg::user(&image));
    let user = spec::resolve_user(&root, &user).map_err(|e| {
        spawn_err(SpawnError::Child {
            code: 125,
            msg: crate::error::one_line(&e),
        })
    })?;
    let mut spec = spec::Options {
        rootfs: root,
        hostname: hostname(c),
        args: o.argv.clone(),
        env: process_env(&image, &hostname(c), &o.env, o.tty),
        cwd: o.workdir.clone().unwrap_or_else(|| rcfg::workdir(&image)),
        user,
        net: Net::Host,
        privileged: o.privileged,
        limits: Limits::default(),
        terminal: o.tty,
        cgroups_path: None,
    }
    .build()
    .map_err(sys(c, "making its spec"))?;
    if !o.privileged {
        capabilities::apply(&mut spec, &c.host.cap_add, &c.host.cap_drop);
    }
    spec::join_namespaces(&mut spec, pid.as_raw());
    let io = Io {
        stdio: o.stdio,
        cgroup: cgroup.as_ref(),
        console: o.console,
        state: None,
    };
    spawn(&spec, &io).map_err(spawn_err)
}

/// After a failure to enter a container: is its init gone, or going
/// (within 100 ms)? Its namespaces vanish while it exits, a moment before
/// it is a zombie.
fn init_ends(pid: Pid) -> bool {
    (0..20).any(|i| {
        if i > 0 {
            std::thread::sleep(Duration::from_millis(5));
        }
        !alive(Some(pid.as_raw()), None)
    })
}

/// `docker diff`: the paths the container's read-write layer adds,
/// changes and deletes, as a commit of it now would record them.
pub fn diff(store: &Store, c: &ContainerMeta) -> Result<Vec<crate::layer::diff::Change>> {
    let lower = store.stack(&c.layer)?;
    crate::layer::diff::changes(&store.container_dirs(&c.id).upper, &lower)
        .map_err(sys(c, "reading its read-write layer"))
}

/// How to commit.
#[derive(Debug, Clone, Default)]
pub struct CommitOptions {
    pub message: Option<String>,
    pub author: Option<String>,
    /// Dockerfile instructions applied to the config (`--change`).
    pub changes: Vec<String>,
    /// Freeze a running container while its layer is read.
    pub pause: bool,
    /// SOURCE_DATE_EPOCH: clamps mtimes, sets `created`.
    pub source_date_epoch: Option<i64>,
    /// `created_by` (default: the container's command).
    pub created_by: Option<String>,
    /// The config to commit instead of the container's (build keeps the
    /// image's, not the RUN command's).
    pub config: Option<serde_json::Value>,
}

/// `docker commit`: the container's read-write layer becomes a new
/// read-only layer whose parent is the container's image. The container
/// keeps its layer.
pub fn commit(
    store: &Store,
    c: &ContainerMeta,
    o: &CommitOptions,
) -> Result<crate::store::ingest::Ingested> {
    use crate::layer::pack::PackOptions;
    let _lock = store.lock_container(&c.id)?;
    // The new config: the container's, with the changes applied; recorded
    // only when it differs from what the image already has.
    let mut config = o.config.clone().unwrap_or_else(|| c.config.clone());
    for ch in &o.changes {
        crate::image::change::apply(&mut config, ch, &crate::image::change::default_shell())
            .map_err(|source| ContainerError::Change {
                id: c.id.short(),
                source,
            })?;
    }
    let chain = store.chain(&c.layer)?;
    let image_config = effective_config(&chain);
    let st = state(store, c)?;
    let running = matches!(st.status, Status::Running | Status::Paused);
    // Freeze while reading, and thaw whatever happens.
    struct Thaw(Option<Cgroup>);
    impl Drop for Thaw {
        fn drop(&mut self) {
            if let Some(cg) = &self.0 {
                let _ = cg.thaw();
            }
        }
    }
    let _thaw = if running && o.pause && st.status == Status::Running {
        let cg = Cgroup::open(&cgroup_name(c)).map_err(sys(c, "opening its cgroup"))?;
        if let Some(cg) = &cg {
            cg.freeze().map_err(sys(c, "freezing it"))?;
        }
        Thaw(cg)
    } else {
        Thaw(None)
    };
    let lower = store.stack(&c.layer)?;
    let staging = store.stage("commit")?;
    let tar_path = staging.path().join("layer.tar");
    let f = std::fs::File::create(&tar_path).map_err(sys(c, "creating the layer tar"))?;
    let (w, _) = crate::layer::diff::write_upper(
        &store.container_dirs(&c.id).upper,
        &lower,
        std::io::BufWriter::new(f),
        PackOptions {
            clamp_mtime: o.source_date_epoch,
        },
    )
    .map_err(sys(c, "reading its read-write layer"))?;
    w.into_inner()
        .map_err(|e| sys(c, "writing the layer tar")(e.into_error()))?
        .sync_all()
        .map_err(sys(c, "writing the layer tar"))?;
    drop(_thaw);
    let created = match o.source_date_epoch {
        Some(t) => time::OffsetDateTime::from_unix_timestamp(t)
            .ok()
            .and_then(|t| {
                t.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            }),
        None => Some(now_rfc3339()),
    };
    let command = if st.command.is_empty() {
        rcfg::argv(&runtime(&c.config))
    } else {
        st.command.clone()
    };
    let meta = crate::store::meta::LayerMeta {
        parent: Some(c.layer),
        created,
        created_by: Some(o.created_by.clone().unwrap_or_else(|| command.join(" "))),
        author: o.author.clone(),
        comment: o.message.clone(),
        config: (config != image_config).then_some(config),
        ..Default::default()
    };
    let f = std::fs::File::open(&tar_path).map_err(sys(c, "reading the layer tar"))?;
    crate::store::ingest::ingest_layer(
        store,
        f,
        crate::store::ingest::IngestOptions {
            meta,
            ..Default::default()
        },
    )
    .map_err(sys(c, "storing the new layer"))
}

/// Run a started-from-nothing container in the foreground to its end:
/// start, wait, record the exit. Returns the exit status.
pub fn run_to_exit(store: &Store, c: &ContainerMeta, o: &RunOptions) -> Result<i32> {
    let r = start(store, c, o)?;
    let code = loop {
        match nix::sys::wait::waitpid(r.pid, None) {
            Ok(st) => {
                if let Some(code) = exit_code(st) {
                    break code;
                }
            }
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(sys(c, "waiting for its process")(e)),
        }
    };
    finish(store, &r, code)?;
    Ok(code)
}

#[cfg(test)]
mod tests {
    #[test]
    fn ps_lines_keep_the_header_and_the_containers_pids() {
        use nix::unistd::Pid;
        let text = "UID PID PPID C STIME TTY TIME CMD\nroot 1 0 0 10:00 ? 00:00:01 init\nroot 42 1 0 10:00 ? 00:00:00 sleep 60\nroot 420 1 0 10:00 ? 00:00:00 42\n";
        let l = super::ps_lines(text, &[Pid::from_raw(42)]).unwrap();
        assert_eq!(
            l,
            [
                "UID PID PPID C STIME TTY TIME CMD",
                "root 42 1 0 10:00 ? 00:00:00 sleep 60"
            ]
        );
        assert!(super::ps_lines("USER COMMAND\n", &[]).is_err());
    }

    #[test]
    fn caller_env_reads_files_then_flags_and_the_callers_values() {
        let file = "# a comment\n\nA=1\n  HOME_ISH\nB=x=y\n".to_string();
        let lookup = |k: &str| (k == "HOME_ISH" || k == "FOO").then(|| format!("v-{k}"));
        let env = super::caller_env(
            &[file],
            &["FOO".into(), "GONE".into(), "A=2".into()],
            lookup,
        );
        assert_eq!(
            env,
            [
                "A=1",
                "HOME_ISH=v-HOME_ISH",
                "B=x=y",
                "FOO=v-FOO",
                "GONE",
                "A=2"
            ]
        );
    }
}
