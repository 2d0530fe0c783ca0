//! An OCI runtime with runc's command line (`cairn-runtime`): a bundle's
//! config.json run through the same [`crate::isolate`] path as cairn's own
//! containers, its state kept under a root directory as runc keeps its.
//!
//! A container `ID` has the directory `ROOT/ID` holding `state.json`: the
//! runtime spec's state (`ociVersion`, `id`, `status`, `pid`, `bundle`)
//! plus what this runtime needs to check it (the start time of the pid, so
//! a reused pid is not taken for the container, and its cgroup's name).
//! The file is replaced atomically; the status in it is what was last
//! written, and [`Runtime::state`] reads the process's liveness to report
//! `stopped` once it is gone.
//!
//! Only the foreground `run` exists yet: it creates the container, records
//! it `running`, waits for it passing signals on, removes its cgroup and
//! its state, and returns its exit status. The container's cgroup is
//! `cairn/NAME` in every hierarchy, NAME the last component of the spec's
//! `linux.cgroupsPath` (or the ID).

use crate::isolate::cgroup::{Cgroup, CgroupError};
use crate::isolate::liveness::{alive, proc_start_time};
use crate::isolate::process::{self, Io, SpawnError};
use crate::isolate::spec::{self, Spec};
use crate::isolate::supervise::Signals;
use nix::sys::signal::Signal;
use nix::unistd::Pid;
use oci_spec::runtime::{ContainerState, State};
use serde::{Deserialize, Serialize};
use std::io::{self, Write};
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

/// What `ROOT/ID/state.json` holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Saved {
    #[serde(flatten)]
    state: State,
    /// The start time of `pid` (clock ticks after boot).
    pid_start: Option<u64>,
    /// The cgroup's name under `cairn/`.
    cgroup: String,
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
        "hooks": [],
        "mountOptions": [
            "async", "atime", "dev", "diratime", "dirsync", "exec", "noatime", "nodev",
            "nodiratime", "noexec", "norelatime", "nostrictatime", "nosuid", "relatime",
            "ro", "rw", "strictatime", "suid", "sync"
        ],
        "linux": {
            "namespaces": ["cgroup", "ipc", "mount", "network", "pid", "uts"],
            "capabilities": caps,
            "cgroup": {"v1": true, "v2": true, "systemd": false, "systemdUser": false},
            "seccomp": {"enabled": true, "actions": [], "operators": [], "archs": []},
            "apparmor": {"enabled": false},
            "selinux": {"enabled": false}
        },
        "annotations": {"org.cairn.runtime.seccomp": "docker's default profile only"}
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

/// How to run a container.
pub struct RunOptions<'a> {
    pub id: &'a str,
    pub bundle: &'a Path,
    /// Where to write the container's pid once it runs.
    pub pid_file: Option<&'a Path>,
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

    /// Run the container `o.id` from its bundle in the foreground: create
    /// it, record it running, wait for it passing the signals `signals`
    /// blocks on to it, remove what it left, and return its exit status.
    pub fn run(&self, o: &RunOptions<'_>, signals: &Signals) -> Result<i32> {
        let dir = self.dir(o.id)?;
        std::fs::create_dir_all(&self.root).map_err(at(&self.root))?;
        match std::fs::create_dir(&dir) {
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                return Err(RuntimeError::Exists(o.id.into()))
            }
            r => r.map_err(at(&dir))?,
        }
        let gone = Gone { dir: &dir };
        let bundle = o.bundle.canonicalize().map_err(at(o.bundle))?;
        let spec = load_spec(&bundle)?;
        let name = cgroup_name(&spec, o.id);
        let cg_err = |source| RuntimeError::Cgroup {
            id: o.id.into(),
            source,
        };
        let rules = spec::device_rules(&spec).map_err(|source| RuntimeError::Devices {
            id: o.id.into(),
            source,
        })?;
        let cg =
            Cgroup::create_with_devices(&name, &spec::limits(&spec), &rules).map_err(cg_err)?;
        let cg = Removed(cg);
        let io = Io {
            stdio: [None; 3],
            cgroup: Some(&cg.0),
            console: None,
        };
        let pid = process::spawn(&spec, &io).map_err(|source| RuntimeError::Spawn {
            id: o.id.into(),
            source,
        })?;
        let mut state = State::default();
        state
            .set_version(spec::OCI_VERSION.into())
            .set_id(o.id.into())
            .set_status(ContainerState::Running)
            .set_pid(Some(pid.as_raw()))
            .set_bundle(bundle);
        let saved = Saved {
            state,
            pid_start: proc_start_time(pid.as_raw()),
            cgroup: name,
        };
        self.save(o.id, &saved)?;
        if let Some(f) = o.pid_file {
            replace(f, pid.as_raw().to_string().as_bytes())?;
        }
        let code = signals
            .wait_for(pid, pid, None)
            .map_err(|e| RuntimeError::Io {
                path: dir.clone(),
                source: e.into(),
            })?;
        drop(cg);
        drop(gone);
        Ok(code)
    }

    /// The container's state as the runtime spec has it, its status read
    /// from its process.
    pub fn state(&self, id: &str) -> Result<State> {
        let s = self.load(id)?;
        let mut state = s.state;
        if !alive(*state.pid(), s.pid_start) {
            state.set_status(ContainerState::Stopped);
        }
        Ok(state)
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
            if let Ok(Some(cg)) = Cgroup::open(&s.cgroup) {
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

    /// Delete a stopped container's state and cgroup; a running one only
    /// with `force`, killing it first. Deleting one that does not exist
    /// is done with `force` (as docker's second delete expects).
    pub fn delete(&self, id: &str, force: bool) -> Result<()> {
        let s = match self.load(id) {
            Err(RuntimeError::NotFound(_)) if force => return Ok(()),
            r => r?,
        };
        if alive(*s.state.pid(), s.pid_start) {
            if !force {
                return Err(RuntimeError::Running(id.into()));
            }
            if let Some(pid) = s.state.pid() {
                let _ = nix::sys::signal::kill(Pid::from_raw(*pid), Signal::SIGKILL);
            }
        }
        if let Ok(Some(cg)) = Cgroup::open(&s.cgroup) {
            let _ = cg.signal_all(Signal::SIGKILL);
            let _ = cg.destroy();
        }
        let dir = self.dir(id)?;
        match std::fs::remove_dir_all(&dir) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            r => r.map_err(at(&dir)),
        }
    }
}

/// The cgroup's name: the last component of `linux.cgroupsPath`, or `id`.
fn cgroup_name(spec: &Spec, id: &str) -> String {
    spec.linux()
        .as_ref()
        .and_then(|l| l.cgroups_path().as_ref())
        .and_then(|p| p.file_name())
        .and_then(|n| n.to_str())
        .unwrap_or(id)
        .to_string()
}

/// Removes a container's state directory when dropped.
struct Gone<'a> {
    dir: &'a Path,
}

impl Drop for Gone<'_> {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(self.dir);
    }
}

/// Kills what is left in a cgroup and removes it when dropped.
struct Removed(Cgroup);

impl Drop for Removed {
    fn drop(&mut self) {
        let _ = self.0.signal_all(Signal::SIGKILL);
        let _ = self.0.destroy();
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
        assert_eq!(cgroup_name(&spec, "id"), "id");
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
