//! An OCI runtime with runc's command line (`cairn-runtime`): a bundle's
//! config.json run through the same [`crate::isolate`] path as cairn's own
//! containers, its state kept under a root directory as runc keeps its.
//!
//! A container `ID` has the directory `ROOT/ID` holding `state.json`: the
//! runtime spec's state (`ociVersion`, `id`, `status`, `pid`, `bundle`)
//! plus what this runtime needs to check it (the start time of the pid, so
//! a reused pid is not taken for the container, and its cgroup's path).
//! The file is replaced atomically; the status in it is what was last
//! written, and [`Runtime::state`] reads the process's liveness to report
//! `stopped` once it is gone.
//!
//! A container is made in two steps, as runc makes it: [`Runtime::create`]
//! sets it up and leaves its process waiting before `execve` at a start
//! gate (the fifo `ROOT/ID/exec.fifo`, see
//! [`crate::isolate::process::spawn_gated`]), running the prestart and
//! createRuntime hooks; [`Runtime::start`] opens the gate.
//! [`Runtime::run`] runs one in the foreground. The container's cgroup is
//! the spec's `linux.cgroupsPath` in every hierarchy: an absolute path from
//! each hierarchy's root (docker's `/docker/<id>`), a relative one below
//! `cairn/`, `cairn/<id>` when it has none; systemd's `slice:prefix:name`
//! is refused. docs/runtime.md has the command line and what each spec
//! field does.

mod hooks;

use hooks::Stage;

use crate::isolate::cgroup::{Cgroup, CgroupError};
use crate::isolate::devices;
use crate::isolate::liveness::{alive, proc_start_time};
use crate::isolate::process::{self, Io, SpawnError};
use crate::isolate::spec::{self, Spec};
use crate::isolate::supervise::Signals;
use crate::isolate::tty::Attach;
use nix::sys::signal::Signal;
use nix::unistd::Pid;
use oci_spec::runtime::{ContainerState, Process, State};
use serde::{Deserialize, Serialize};
use std::io::{self, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};

/// Where runc's command line keeps state unless `--root` says otherwise.
pub const DEFAULT_ROOT: &str = "/run/cairn-runtime";

#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error("container id {0:?} is not valid: use letters, digits, '_', '-', '+' and '.'")]
    BadId(String),
    #[error("container {0} does not exist")]
    NotFound(String),
    #[error("container {0} already exists")]
    Exists(String),
    #[error("container {0} is not running")]
    NotRunning(String),
    #[error("container {0} is still running; kill it first or use --force")]
    Running(String),
    #[error("container {0} is {1}, not created: only a created container is started")]
    NotCreated(String, Status),
    #[error("container {0}: exec needs a command (or --process FILE)")]
    NoCommand(String),
    #[error("user {0:?} is not UID[:GID] in numbers")]
    BadUser(String),
    #[error(
        "container {id}: linux.cgroupsPath {path:?} is systemd's slice:prefix:name, which \
         needs --systemd-cgroup (not supported): give a path such as /docker/{id}"
    )]
    SystemdCgroupsPath { id: String, path: String },
    #[error("container {0} exited before it was started")]
    ExitedBeforeStart(String),
    #[error("container {id} is {status}, not {want}")]
    Status {
        id: String,
        status: Status,
        want: Status,
    },
    #[error("container {id}: {what}")]
    Terminal { id: String, what: &'static str },
    #[error("container {id}: making its terminal")]
    Pty {
        id: String,
        #[source]
        source: io::Error,
    },
    #[error("{stage} hook {}", path.display())]
    Hook {
        stage: hooks::Stage,
        path: PathBuf,
        #[source]
        source: hooks::HookFailure,
    },
    #[error("{}", path.display())]
    Bundle {
        path: PathBuf,
        #[source]
        source: oci_spec::OciSpecError,
    },
    #[error("{}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("container {id}: its cgroup")]
    Cgroup {
        id: String,
        #[source]
        source: CgroupError,
    },
    #[error("container {id}: linux.resources.devices")]
    Devices {
        id: String,
        #[source]
        source: crate::isolate::spec::Unsupported,
    },
    #[error("container {id}")]
    Spawn {
        id: String,
        #[source]
        source: SpawnError,
    },
    #[error("container {id}: signal {signal}")]
    Kill {
        id: String,
        signal: Signal,
        #[source]
        source: nix::Error,
    },
}

impl RuntimeError {
    /// The exit status for this failure: the child's 126/127, else 1 as
    /// runc's.
    pub fn exit_code(&self) -> i32 {
        match self {
            RuntimeError::Spawn { source, .. } if source.exit_code() != 125 => source.exit_code(),
            _ => 1,
        }
    }
}

type Result<T> = std::result::Result<T, RuntimeError>;

fn at(path: &Path) -> impl FnOnce(io::Error) -> RuntimeError + '_ {
    move |source| RuntimeError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The status of a container as runc reports it: the runtime spec's,
/// and `paused` while its cgroup is frozen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Created,
    Running,
    Paused,
    Stopped,
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Status::Created => "created",
            Status::Running => "running",
            Status::Paused => "paused",
            Status::Stopped => "stopped",
        })
    }
}

/// A container's state as `state` prints it: the runtime spec's state,
/// its status read from the process and its cgroup.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub oci_version: String,
    pub id: String,
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pid: Option<i32>,
    pub bundle: PathBuf,
}

/// What `ROOT/ID/state.json` holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Saved {
    #[serde(flatten)]
    state: State,
    /// The start time of `pid` (clock ticks after boot).
    pid_start: Option<u64>,
    /// The cgroup's path below each hierarchy's root.
    cgroup: PathBuf,
}

/// Read `bundle/config.json`, its root path made absolute against the
/// bundle as runc reads it.
pub fn load_spec(bundle: &Path) -> Result<Spec> {
    let path = bundle.join("config.json");
    let mut spec = Spec::load(&path).map_err(|source| RuntimeError::Bundle {
        path: path.clone(),
        source,
    })?;
    if let Some(root) = spec.root_mut() {
        if root.path().is_relative() {
            let abs = bundle.join(root.path());
            root.set_path(abs);
        }
    }
    Ok(spec)
}

/// The spec `spec` writes: cairn's defaults ([`spec::defaults`]) running
/// `sh` in `rootfs`, as `runc spec` writes its own.
pub fn default_spec() -> Spec {
    let mut s = spec::defaults();
    if let Some(p) = s.process_mut() {
        p.set_args(Some(vec!["sh".into()]));
    }
    s.set_hostname(Some("cairn".into()));
    s
}

/// The system-call ABIs a seccomp profile may name here: the native one
/// and those its CPU runs too.
#[cfg(target_arch = "x86_64")]
const ARCHS: [&str; 3] = ["SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32"];
#[cfg(target_arch = "aarch64")]
const ARCHS: [&str; 2] = ["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"];

/// What this runtime supports, in the shape of `runc features`.
pub fn features() -> serde_json::Value {
    let caps = crate::isolate::caps::to_spec(&crate::isolate::caps::all());
    let mut caps: Vec<String> = caps
        .iter()
        .filter_map(|c| serde_json::to_value(c).ok()?.as_str().map(String::from))
        .collect();
    caps.sort();
    serde_json::json!({
        "ociVersionMin": "1.0.0",
        "ociVersionMax": spec::OCI_VERSION,
        "hooks": [
            "prestart", "createRuntime", "createContainer", "startContainer", "poststart",
            "poststop"
        ],
        "mountOptions": [
            "async", "atime", "dev", "diratime", "dirsync", "exec", "noatime", "nodev",
            "nodiratime", "noexec", "norelatime", "nostrictatime", "nosuid", "relatime",
            "ro", "rw", "strictatime", "suid", "sync"
        ],
        "linux": {
            "namespaces": ["cgroup", "ipc", "mount", "network", "pid", "user", "uts"],
            "capabilities": caps,
            "cgroup": {"v1": true, "v2": true, "systemd": false, "systemdUser": false},
            "seccomp": {
                "enabled": true,
                "actions": [
                    "SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS",
                    "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG", "SCMP_ACT_TRACE", "SCMP_ACT_TRAP"
                ],
                "operators": [
                    "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_LE", "SCMP_CMP_LT",
                    "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE"
                ],
                "archs": ARCHS,
                "knownFlags": [
                    "SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
                    "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"
                ],
                "supportedFlags": [
                    "SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
                    "SECCOMP_FILTER_FLAG_SPEC_ALLOW"
                ]
            },
            "apparmor": {"enabled": false},
            "selinux": {"enabled": false}
        },
        "annotations": {
            "org.cairn.runtime.seccomp": "no SCMP_ACT_NOTIFY"
        }
    })
}

/// One line of runc's `--log` file for an error `msg`: logrus's text
/// (`time="…" level=error msg="…"`) or, with `json`, the JSON object
/// containerd's shim reads (`{"level":"error","msg":…,"time":…}`).
pub fn log_line(json: bool, msg: &str) -> String {
    let time = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    if json {
        serde_json::json!({"level": "error", "msg": msg, "time": time}).to_string()
    } else {
        let quoted = serde_json::Value::from(msg).to_string();
        format!("time=\"{time}\" level=error msg={quoted}")
    }
}

/// Append [`log_line`] for `msg` to the log file at `path`.
pub fn log_error(path: &Path, json: bool, msg: &str) -> Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(at(path))?;
    writeln!(f, "{}", log_line(json, msg)).map_err(at(path))
}

/// The containers of one root directory.
pub struct Runtime {
    root: PathBuf,
}

/// How to create or run a container.
pub struct RunOptions<'a> {
    pub id: &'a str,
    pub bundle: &'a Path,
    /// Where to write the container's pid once it is created.
    pub pid_file: Option<&'a Path>,
    /// A unix socket to send the master of the container's terminal to
    /// (its process has `terminal`), as runc's `--console-socket`.
    pub console_socket: Option<&'a Path>,
}

/// How to run a process in a container (`exec`).
pub struct ExecOptions<'a> {
    /// Leave the process running and return its pid (exit status 0).
    pub detach: bool,
    /// Where to write the process's pid once it runs.
    pub pid_file: Option<&'a Path>,
    /// As [`RunOptions::console_socket`].
    pub console_socket: Option<&'a Path>,
}

/// The process `exec` runs when no process file is given: the
/// container's own process with these changes, as runc makes it.
pub struct ExecArgs<'a> {
    pub args: &'a [String],
    pub cwd: Option<&'a str>,
    /// Added to the container's environment.
    pub env: &'a [String],
    /// `UID[:GID]`, numbers.
    pub user: Option<&'a str>,
    pub tty: bool,
}

/// Read a process (the runtime spec's `process`, as `exec --process`
/// takes it) from the JSON file at `path`.
pub fn read_process(path: &Path) -> Result<Process> {
    let bytes = std::fs::read(path).map_err(at(path))?;
    serde_json::from_slice(&bytes).map_err(|e| RuntimeError::Io {
        path: path.to_path_buf(),
        source: e.into(),
    })
}

/// What a created container was made with, until it is recorded.
struct Made {
    dir: Armed<PathBuf>,
    cgroup: Armed<Cgroup>,
    /// Without its hooks: those are in `hooks`.
    spec: Spec,
    hooks: oci_spec::runtime::Hooks,
    bundle: PathBuf,
    /// The cgroup's path below each hierarchy's root.
    cgroup_path: PathBuf,
}

impl Made {
    /// The state the hooks inside the container start from: its process
    /// adds its status and pid.
    fn state(&self, id: &str) -> serde_json::Value {
        serde_json::json!({
            "ociVersion": spec::OCI_VERSION, "id": id, "bundle": self.bundle,
        })
    }

    /// The state hooks are given.
    fn report(&self, id: &str, pid: Pid, status: Status) -> Report {
        Report {
            oci_version: spec::OCI_VERSION.into(),
            id: id.into(),
            status,
            pid: Some(pid.as_raw()),
            bundle: self.bundle.clone(),
        }
    }
}

impl Runtime {
    pub fn new(root: impl Into<PathBuf>) -> Runtime {
        Runtime { root: root.into() }
    }

    fn dir(&self, id: &str) -> Result<PathBuf> {
        let ok = !id.is_empty()
            && id != "."
            && id != ".."
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_-+.".contains(&b));
        if !ok {
            return Err(RuntimeError::BadId(id.into()));
        }
        Ok(self.root.join(id))
    }

    fn load(&self, id: &str) -> Result<Saved> {
        let path = self.dir(id)?.join("state.json");
        let bytes = match std::fs::read(&path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(RuntimeError::NotFound(id.into()))
            }
            r => r.map_err(at(&path))?,
        };
        serde_json::from_slice(&bytes).map_err(|e| RuntimeError::Io {
            path,
            source: e.into(),
        })
    }

    fn save(&self, id: &str, s: &Saved) -> Result<()> {
        let path = self.dir(id)?.join("state.json");
        let json = serde_json::to_vec(s).map_err(|e| RuntimeError::Io {
            path: path.clone(),
            source: e.into(),
        })?;
        replace(&path, &json)
    }

    /// The state directory of a new container, its spec and its cgroup,
    /// all removed again unless disarmed.
    fn make(&self, o: &RunOptions<'_>) -> Result<Made> {
        let dir = self.dir(o.id)?;
        std::fs::create_dir_all(&self.root).map_err(at(&self.root))?;
        match std::fs::create_dir(&dir) {
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                return Err(RuntimeError::Exists(o.id.into()))
            }
            r => r.map_err(at(&dir))?,
        }
        let dir = Armed::new(dir, |d: &PathBuf| {
            let _ = std::fs::remove_dir_all(d);
        });
        let bundle = o.bundle.canonicalize().map_err(at(o.bundle))?;
        let mut spec = load_spec(&bundle)?;
        let hooks = hooks::take(&mut spec);
        let cgroup_path = cgroup_path(&spec, o.id)?;
        let mut rules = spec::device_rules(&spec).map_err(|source| RuntimeError::Devices {
            id: o.id.into(),
            source,
        })?;
        // The nodes a fresh /dev gets and a terminal needs are allowed
        // whatever the list says, as runc allows them (docker's list has
        // no /dev/full).
        rules.extend(devices::DEFAULT.iter().filter(|r| r.allow));
        // One left by a container that was never deleted, with nothing in
        // it, is taken over; one with processes is another container's.
        if let Ok(Some(old)) = Cgroup::open_at(&cgroup_path) {
            if old.procs().is_ok_and(|p| p.is_empty()) {
                let _ = old.destroy();
            }
        }
        let tuning = spec::tuning(&spec);
        let cg = Cgroup::create_at(&cgroup_path, &spec::limits(&spec), &rules, &tuning).map_err(
            |source| RuntimeError::Cgroup {
                id: o.id.into(),
                source,
            },
        )?;
        let cgroup = Armed::new(cg, |cg: &Cgroup| {
            let _ = cg.signal_all(Signal::SIGKILL);
            let _ = cg.destroy();
        });
        if let Some(shares) = spec::cpu_shares(&spec) {
            let cg_err = |source| RuntimeError::Cgroup {
                id: o.id.into(),
                source,
            };
            cgroup.value.set_cpu_shares(shares).map_err(cg_err)?;
        }
        Ok(Made {
            dir,
            cgroup,
            spec,
            hooks,
            bundle,
            cgroup_path,
        })
    }

    /// Record the container `id` with `pid` and `status`, and write the
    /// pid file.
    fn record(&self, o: &RunOptions<'_>, m: &Made, pid: Pid, status: ContainerState) -> Result<()> {
        let mut state = State::default();
        state
            .set_version(spec::OCI_VERSION.into())
            .set_id(o.id.into())
            .set_status(status)
            .set_pid(Some(pid.as_raw()))
            .set_bundle(m.bundle.clone());
        let saved = Saved {
            state,
            pid_start: proc_start_time(pid.as_raw()),
            cgroup: m.cgroup_path.clone(),
        };
        self.save(o.id, &saved)?;
        if let Some(f) = o.pid_file {
            replace(f, pid.as_raw().to_string().as_bytes())?;
        }
        Ok(())
    }

    /// Create the container `o.id` from its bundle: its process is set up
    /// in every way and waits before executing its command until
    /// [`Runtime::start`]. It does not depend on this process, which
    /// returns its pid; whoever inherits it reaps it.
    pub fn create(&self, o: &RunOptions<'_>) -> Result<Pid> {
        let m = self.make(o)?;
        let console = connect_console(o.id, &m.spec, o.console_socket)?;
        let io = Io {
            stdio: [None; 3],
            cgroup: Some(&m.cgroup.value),
            console: console.as_ref().map(|c| c.as_raw_fd()),
            state: Some(&m.state(o.id)),
        };
        let pid = self.spawn_at_gate(o.id, &m, &io, true)?;
        self.record(o, &m, pid, ContainerState::Created)?;
        m.dir.disarm();
        m.cgroup.disarm();
        Ok(pid)
    }

    /// Spawn the container's process as far as its start gate (outliving
    /// this process when `detached`), then run its prestart and
    /// createRuntime hooks.
    fn spawn_at_gate(&self, id: &str, m: &Made, io: &Io<'_>, detached: bool) -> Result<Pid> {
        let fifo = m.dir.value.join(FIFO);
        // 0622 whatever the umask: a process of any user writes it.
        let mode = nix::sys::stat::Mode::from_bits_truncate(0o622);
        let made = nix::unistd::mkfifo(&fifo, mode)
            .map_err(io::Error::from)
            .and_then(|()| {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&fifo, std::fs::Permissions::from_mode(0o622))
            });
        made.map_err(at(&fifo))?;
        let pid = process::spawn_gated(&m.spec, io, &fifo, detached).map_err(|source| {
            RuntimeError::Spawn {
                id: id.into(),
                source,
            }
        })?;
        let create = hooks::of(&m.hooks, Stage::Create);
        hooks::run(&create, Stage::Create, &m.report(id, pid, Status::Created))?;
        Ok(pid)
    }

    /// The hooks of the bundle of a recorded container.
    fn hooks_of(s: &Saved) -> Option<oci_spec::runtime::Hooks> {
        let mut spec = load_spec(s.state.bundle()).ok()?;
        Some(hooks::take(&mut spec))
    }

    /// Start a created container: let its process execute its command.
    pub fn start(&self, id: &str) -> Result<()> {
        let mut s = self.load(id)?;
        let status = self.status(&s);
        if status != Status::Created {
            return Err(RuntimeError::NotCreated(id.into(), status));
        }
        let fifo = self.dir(id)?.join(FIFO);
        let started =
            process::open_gate(&fifo, || alive(*s.state.pid(), s.pid_start)).map_err(|source| {
                RuntimeError::Spawn {
                    id: id.into(),
                    source,
                }
            })?;
        let _ = std::fs::remove_file(&fifo);
        if !started {
            return Err(RuntimeError::ExitedBeforeStart(id.into()));
        }
        s.state.set_status(ContainerState::Running);
        self.save(id, &s)?;
        let post = Self::hooks_of(&s).map(|h| hooks::of(&h, Stage::Poststart));
        let report = Self::report_of(&s, Status::Running);
        if let Err(e) = hooks::run(&post.unwrap_or_default(), Stage::Poststart, &report) {
            // as runc: a container whose poststart failed does not run
            let _ = self.kill(id, Signal::SIGKILL, true);
            return Err(e);
        }
        Ok(())
    }

    fn report_of(s: &Saved, status: Status) -> Report {
        Report {
            status,
            oci_version: s.state.version().clone(),
            id: s.state.id().clone(),
            pid: *s.state.pid(),
            bundle: s.state.bundle().clone(),
        }
    }

    /// Run the container `o.id` from its bundle in the foreground: create
    /// it, record it running, wait for it passing the signals `signals`
    /// blocks on to it, remove what it left, and return its exit status.
    /// A process with a terminal gets a new pty, relayed to and from our
    /// stdio (ours in raw mode while it runs, when it is a terminal), as
    /// runc's foreground run does.
    pub fn run(&self, o: &RunOptions<'_>, signals: &Signals) -> Result<i32> {
        let m = self.make(o)?;
        let attach = pty_wanted(&m.spec).then(|| new_pty(o.id)).transpose()?;
        let io = Io {
            stdio: [None; 3],
            cgroup: Some(&m.cgroup.value),
            console: attach.as_ref().and_then(Attach::console),
            state: Some(&m.state(o.id)),
        };
        let hooked = [Stage::Create, Stage::Poststart, Stage::Poststop]
            .iter()
            .any(|st| !hooks::of(&m.hooks, *st).is_empty());
        // the relay's threads start once the process is cloned
        let (pid, attached) = if hooked {
            // Hooks run between create and start: through the start gate,
            // the process dying with this one as without hooks.
            let pid = self.spawn_at_gate(o.id, &m, &io, false)?;
            let attached = attach.map(Attach::start);
            self.record(o, &m, pid, ContainerState::Created)?;
            self.start(o.id)?;
            (pid, attached)
        } else {
            let pid = process::spawn(&m.spec, &io).map_err(|source| RuntimeError::Spawn {
                id: o.id.into(),
                source,
            })?;
            let attached = attach.map(Attach::start);
            self.record(o, &m, pid, ContainerState::Running)?;
            (pid, attached)
        };
        let code = signals.wait_for(pid, pid, attached.as_ref());
        if let Some(a) = attached {
            a.finish();
        }
        let code = code.map_err(|e| RuntimeError::Io {
            path: m.dir.value.clone(),
            source: e.into(),
        })?;
        let post = hooks::of(&m.hooks, Stage::Poststop);
        let report = m.report(o.id, pid, Status::Stopped);
        drop(m);
        let _ = hooks::run(&post, Stage::Poststop, &report);
        Ok(code)
    }

    /// The status of a recorded container: stopped once its process is
    /// gone, paused while its cgroup is frozen.
    fn status(&self, s: &Saved) -> Status {
        if !alive(*s.state.pid(), s.pid_start) {
            return Status::Stopped;
        }
        if s.state.status() == &ContainerState::Created {
            return Status::Created;
        }
        let frozen = Cgroup::open_at(&s.cgroup)
            .ok()
            .flatten()
            .is_some_and(|cg| cg.is_frozen().unwrap_or(false));
        if frozen {
            Status::Paused
        } else {
            Status::Running
        }
    }

    /// The container's state, its status read from its process.
    pub fn state(&self, id: &str) -> Result<Report> {
        let s = self.load(id)?;
        Ok(Self::report_of(&s, self.status(&s)))
    }

    /// Send `signal` to the container's init, or with `all` to every
    /// process of its cgroup.
    pub fn kill(&self, id: &str, signal: Signal, all: bool) -> Result<()> {
        let s = self.load(id)?;
        let pid = s.state.pid().filter(|_| alive(*s.state.pid(), s.pid_start));
        let Some(pid) = pid else {
            return Err(RuntimeError::NotRunning(id.into()));
        };
        let failed = |source| RuntimeError::Kill {
            id: id.into(),
            signal,
            source,
        };
        if all {
            if let Ok(Some(cg)) = Cgroup::open_at(&s.cgroup) {
                return cg
                    .signal_all(signal)
                    .map_err(|source| RuntimeError::Cgroup {
                        id: id.into(),
                        source,
                    });
            }
        }
        nix::sys::signal::kill(Pid::from_raw(pid), signal).map_err(failed)
    }

    /// Delete a stopped or created container's state and cgroup (a
    /// created one is killed); a running one only with `force`, killing
    /// it first. Deleting one that does not exist is done with `force`
    /// (as docker's second delete expects).
    pub fn delete(&self, id: &str, force: bool) -> Result<()> {
        let s = match self.load(id) {
            Err(RuntimeError::NotFound(_)) if force => return Ok(()),
            r => r?,
        };
        match self.status(&s) {
            Status::Stopped | Status::Created => {}
            _ if !force => return Err(RuntimeError::Running(id.into())),
            _ => {}
        }
        if alive(*s.state.pid(), s.pid_start) {
            if let Some(pid) = s.state.pid() {
                let _ = nix::sys::signal::kill(Pid::from_raw(*pid), Signal::SIGKILL);
            }
        }
        if let Ok(Some(cg)) = Cgroup::open_at(&s.cgroup) {
            let _ = cg.signal_all(Signal::SIGKILL);
            let _ = cg.destroy();
        }
        let dir = self.dir(id)?;
        match std::fs::remove_dir_all(&dir) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            r => r.map_err(at(&dir))?,
        }
        // The spec has a failing poststop hook change nothing: the
        // container is gone.
        let post = Self::hooks_of(&s).map(|h| hooks::of(&h, Stage::Poststop));
        let report = Self::report_of(&s, Status::Stopped);
        let _ = hooks::run(&post.unwrap_or_default(), Stage::Poststop, &report);
        Ok(())
    }

    /// The cgroup of a container whose status is `want`.
    fn cgroup_if(&self, id: &str, want: Status) -> Result<Cgroup> {
        let s = self.load(id)?;
        let status = self.status(&s);
        if status != want {
            return Err(RuntimeError::Status {
                id: id.into(),
                status,
                want,
            });
        }
        let cg_err = |source| RuntimeError::Cgroup {
            id: id.into(),
            source,
        };
        Cgroup::open_at(&s.cgroup)
            .map_err(cg_err)?
            .ok_or_else(|| RuntimeError::NotRunning(id.into()))
    }

    /// Freeze every process of a running container (its cgroup's freezer).
    pub fn pause(&self, id: &str) -> Result<()> {
        let cg = self.cgroup_if(id, Status::Running)?;
        cg.freeze().map_err(|source| RuntimeError::Cgroup {
            id: id.into(),
            source,
        })
    }

    /// Let a paused container's processes run again.
    pub fn resume(&self, id: &str) -> Result<()> {
        let cg = self.cgroup_if(id, Status::Paused)?;
        cg.thaw().map_err(|source| RuntimeError::Cgroup {
            id: id.into(),
            source,
        })
    }

    /// The host pids of every process of the container, sorted.
    pub fn ps(&self, id: &str) -> Result<Vec<i32>> {
        let s = self.load(id)?;
        match Cgroup::open_at(&s.cgroup) {
            Ok(Some(cg)) => cg.procs(),
            Ok(None) => Ok(Vec::new()),
            Err(e) => Err(e),
        }
        .map_err(|source| RuntimeError::Cgroup {
            id: id.into(),
            source,
        })
    }

    /// The process [`ExecArgs`] describe in the container `id`.
    pub fn exec_process(&self, id: &str, a: &ExecArgs<'_>) -> Result<Process> {
        let s = self.load(id)?;
        let spec = load_spec(s.state.bundle())?;
        let mut p = spec.process().clone().unwrap_or_default();
        if a.args.is_empty() {
            return Err(RuntimeError::NoCommand(id.into()));
        }
        let mut env = p.env().clone().unwrap_or_default();
        env.extend(a.env.iter().cloned());
        p.set_args(Some(a.args.to_vec()))
            .set_env(Some(env))
            .set_terminal(Some(a.tty));
        if let Some(cwd) = a.cwd {
            p.set_cwd(cwd.into());
        }
        if let Some(u) = a.user {
            let bad = || RuntimeError::BadUser(u.into());
            let (uid, gid) = u.split_once(':').unwrap_or((u, "0"));
            let mut user = oci_spec::runtime::User::default();
            user.set_uid(uid.parse().map_err(|_| bad())?)
                .set_gid(gid.parse().map_err(|_| bad())?);
            p.set_user(user);
        }
        Ok(p)
    }

    /// Start `process` in the running container `id`, in its namespaces
    /// and cgroup with its spec's hardening. Detached: returns 0 once it
    /// runs; else waits for it passing signals on and returns its status
    /// (with a terminal and no console socket, its pty relayed to and
    /// from our stdio, as for [`Runtime::run`]).
    pub fn exec(
        &self,
        id: &str,
        process: Process,
        o: &ExecOptions<'_>,
        signals: &Signals,
    ) -> Result<i32> {
        let s = self.load(id)?;
        let status = self.status(&s);
        if status != Status::Running {
            return Err(RuntimeError::NotRunning(id.into()));
        }
        let pid = s.state.pid().unwrap_or(0);
        let mut spec = load_spec(s.state.bundle())?;
        // the container's hooks are not an exec's
        spec.set_hooks(None);
        spec.set_process(Some(process));
        spec::join_namespaces(&mut spec, pid);
        let attach = match (pty_wanted(&spec), o.console_socket, o.detach) {
            (true, None, false) => Some(new_pty(id)?),
            _ => None,
        };
        let console = match attach {
            Some(_) => None,
            None => connect_console(id, &spec, o.console_socket)?,
        };
        let cg = Cgroup::open_at(&s.cgroup).map_err(|source| RuntimeError::Cgroup {
            id: id.into(),
            source,
        })?;
        let io = Io {
            stdio: [None; 3],
            cgroup: cg.as_ref(),
            console: console
                .as_ref()
                .map(|c| c.as_raw_fd())
                .or(attach.as_ref().and_then(Attach::console)),
            state: None,
        };
        let spawn_err = |source| RuntimeError::Spawn {
            id: id.into(),
            source,
        };
        if o.detach {
            let pid = process::spawn_into_detached(&spec, &io).map_err(spawn_err)?;
            write_pid(o.pid_file, pid)?;
            return Ok(0);
        }
        let j = process::spawn_into(&spec, &io).map_err(spawn_err)?;
        let attached = attach.map(Attach::start);
        write_pid(o.pid_file, j.pid)?;
        let code = signals.wait_for(j.helper, j.pid, attached.as_ref());
        if let Some(a) = attached {
            a.finish();
        }
        code.map_err(|e| RuntimeError::Io {
            path: self.root.clone(),
            source: e.into(),
        })
    }
}

/// The name of the start gate's fifo in a container's state directory.
const FIFO: &str = "exec.fifo";

fn write_pid(file: Option<&Path>, pid: Pid) -> Result<()> {
    match file {
        Some(f) => replace(f, pid.as_raw().to_string().as_bytes()),
        None => Ok(()),
    }
}

/// Whether the spec's process has a terminal.
fn pty_wanted(spec: &Spec) -> bool {
    spec.process()
        .as_ref()
        .and_then(|p| p.terminal())
        .unwrap_or(false)
}

/// A new pty for a foreground process, to relay to and from our stdio.
fn new_pty(id: &str) -> Result<Attach> {
    Attach::new(true, true, false).map_err(|source| RuntimeError::Pty {
        id: id.into(),
        source,
    })
}

/// The console socket `path`, connected, when the spec's process has a
/// terminal: both or neither, as runc has it.
fn connect_console(id: &str, spec: &Spec, path: Option<&Path>) -> Result<Option<UnixStream>> {
    match (pty_wanted(spec), path) {
        (false, None) => Ok(None),
        (true, Some(path)) => UnixStream::connect(path).map(Some).map_err(at(path)),
        (true, None) => Err(RuntimeError::Terminal {
            id: id.into(),
            what: "its process has a terminal: give --console-socket",
        }),
        (false, Some(_)) => Err(RuntimeError::Terminal {
            id: id.into(),
            what: "--console-socket needs process.terminal true in its config.json",
        }),
    }
}

/// The cgroup's path below each hierarchy's root: `linux.cgroupsPath`
/// without its leading `/`, a relative one below `cairn/`, `cairn/<id>`
/// without one (checked when the cgroup is made). Refused: systemd's
/// `slice:prefix:name`.
fn cgroup_path(spec: &Spec, id: &str) -> Result<PathBuf> {
    let parent = Path::new(crate::isolate::cgroup::PARENT);
    let given = spec.linux().as_ref().and_then(|l| l.cgroups_path().clone());
    let Some(path) = given.filter(|p| !p.as_os_str().is_empty()) else {
        return Ok(parent.join(id));
    };
    if path.to_string_lossy().contains(':') {
        return Err(RuntimeError::SystemdCgroupsPath {
            id: id.into(),
            path: path.display().to_string(),
        });
    }
    Ok(match path.strip_prefix("/") {
        Ok(abs) => abs.to_path_buf(),
        Err(_) => parent.join(path),
    })
}

/// A value undone (by `undo`) when dropped, unless disarmed.
struct Armed<T> {
    value: T,
    undo: Option<fn(&T)>,
}

impl<T> Armed<T> {
    fn new(value: T, undo: fn(&T)) -> Armed<T> {
        Armed {
            value,
            undo: Some(undo),
        }
    }

    fn disarm(mut self) {
        self.undo = None;
    }
}

impl<T> Drop for Armed<T> {
    fn drop(&mut self) {
        if let Some(undo) = self.undo {
            undo(&self.value);
        }
    }
}

/// Write `data` to `path` atomically: a file beside it, then renamed.
fn replace(path: &Path, data: &[u8]) -> Result<()> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("f");
    let tmp = path.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
    let res = std::fs::File::create(&tmp)
        .and_then(|mut f| f.write_all(data))
        .and_then(|()| std::fs::rename(&tmp, path));
    if res.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    res.map_err(at(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_checked_and_relative_roots_resolved() {
        let rt = Runtime::new("/run/x");
        assert!(rt.dir("a-b_c.1+2").is_ok());
        for bad in ["", ".", "..", "a/b", "a b"] {
            assert!(matches!(rt.dir(bad), Err(RuntimeError::BadId(_))), "{bad}");
        }
        let dir = crate::testutil::TempDir::new("runtime-spec");
        default_spec().save(dir.path().join("config.json")).unwrap();
        let spec = load_spec(dir.path()).unwrap();
        assert_eq!(
            spec.root().as_ref().unwrap().path(),
            &dir.path().join("rootfs")
        );
        assert_eq!(cgroup_path(&spec, "id").unwrap(), Path::new("cairn/id"));
        let with = |path: &str| {
            let mut spec = spec.clone();
            let mut linux = spec.linux().clone().unwrap_or_default();
            linux.set_cgroups_path(Some(path.into()));
            spec.set_linux(Some(linux));
            cgroup_path(&spec, "id")
        };
        assert_eq!(with("/docker/x").unwrap(), Path::new("docker/x"));
        assert_eq!(with("a/b").unwrap(), Path::new("cairn/a/b"));
        assert!(matches!(
            with("system.slice:docker:x"),
            Err(RuntimeError::SystemdCgroupsPath { .. })
        ));
    }

    #[test]
    fn a_missing_container_is_gone_for_delete_force() {
        let dir = crate::testutil::TempDir::new("runtime-root");
        let rt = Runtime::new(dir.path());
        assert!(matches!(rt.state("x"), Err(RuntimeError::NotFound(_))));
        assert!(matches!(
            rt.delete("x", false),
            Err(RuntimeError::NotFound(_))
        ));
        rt.delete("x", true).unwrap();
    }
}
