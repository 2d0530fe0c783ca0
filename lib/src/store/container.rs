//! A container as the store keeps it: a read-write layer on an image, its
//! record (what it is, [`ContainerMeta`]; what it is doing, [`State`]), its
//! name, its directory ([`ContainerDirs`]) and its lock. A container need
//! not be running, and nothing here looks at processes: whether a recorded
//! pid still runs is decided by `isolate`, and the lifecycle (mount, start,
//! stop, commit, remove) is the top-level `container` module's.
//!
//! The directory's layout is described once, in `docs/store.md`;
//! [`ContainerDirs`] names its paths.

use super::{IoContext, Result, Store, StoreError};
use crate::digest::{ContainerId, LayerId};
use nix::fcntl::Flock;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fs::{self, File};
use std::os::unix::fs::DirBuilderExt;
use std::path::PathBuf;

/// What a container is. Written once, at creation.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct ContainerMeta {
    pub id: ContainerId,
    pub name: String,
    /// The image as the person named it (`busybox`, an ID, …).
    pub image: String,
    /// The image's top layer: the read-write layer sits on it.
    pub layer: LayerId,
    /// RFC 3339, UTC.
    pub created: String,
    /// The runtime config (docker keys: `Env`, `Cmd`, `Entrypoint`,
    /// `WorkingDir`, `User`, …): the image's, with this container's
    /// overrides applied.
    #[schemars(with = "super::schema::ConfigSchema")]
    pub config: Value,
    /// Its mounts, hostname and root, fixed at creation (docker's
    /// HostConfig); absent when it has none of its own.
    #[serde(default, skip_serializing_if = "HostConfig::is_empty")]
    pub host: HostConfig,
}

/// What a container is given beside its image, as docker's HostConfig
/// keeps it: fixed at creation, read at every start.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct HostConfig {
    /// Volumes, bind mounts and tmpfs, in the order given.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mounts: Vec<MountSpec>,
    /// The hostname (default: the short ID).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// The root file system is read-only (volumes and tmpfs stay writable).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub read_only: bool,
    /// Capabilities added to docker's default set (`CAP_NAME` or `ALL`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cap_add: Vec<String>,
    /// Capabilities dropped from it (`CAP_NAME` or `ALL`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cap_drop: Vec<String>,
    /// When its supervisor starts its process again (`--restart`).
    #[serde(default, skip_serializing_if = "RestartPolicy::is_no")]
    pub restart: RestartPolicy,
    /// Run a minimal init as pid 1 that starts its command, passes
    /// signals on to it and reaps orphans (`--init`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub init: bool,
    /// Its terminal and standard streams as `create` or `run` asked
    /// (`-t`, `-i`, `-a`); every start honours `tty` and `open_stdin`.
    #[serde(default, skip_serializing_if = "Terminal::is_default")]
    pub terminal: Terminal,
    /// Its resource limits (`-m`, `--memory-swap`, `--pids-limit`,
    /// `--cpus`), applied at every start; absent in a record made before
    /// create took them: no limits but the default pids bound.
    #[serde(default, skip_serializing_if = "Resources::is_default")]
    pub resources: Resources,
    /// Every start gives it every capability, every device and no masked
    /// paths (`--privileged`, docker's `Privileged`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub privileged: bool,
    /// Its supervisor removes it, and its anonymous volumes, when its
    /// process exits (`--rm`, docker's `AutoRemove`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub auto_remove: bool,
    /// Its log's options as given (`--log-opt max-size=10m`: docker's
    /// `LogConfig.Config`), read at every start; the last value of a key
    /// wins.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub log_opts: BTreeMap<String, String>,
}

/// A container's resource limits as `create` or `run` was asked for them,
/// docker's HostConfig `Memory`, `MemorySwap`, `PidsLimit` and `NanoCpus`
/// (a start applies them: `container::limits`).
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct Resources {
    /// Memory limit in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<u64>,
    /// Memory plus swap in bytes, -1 for no bound on swap; with `-m` and
    /// no `--memory-swap`, docker's default: twice the memory where the
    /// kernel bounds swap, else -1 ([`Resources::with_default_swap`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_swap: Option<i64>,
    /// Most processes (and threads) at once, -1 for no bound; none: the
    /// default bound a start applies (as podman's, 2048).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pids_limit: Option<i64>,
    /// CPU bandwidth in CPUs (`0.5`: half of one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpus: Option<f64>,
}

/// docker's smallest memory limit, 6 MiB (its daemon's `linuxMinMemory`);
/// `create`, `run` and `isolate` refuse less.
pub const MIN_MEMORY: u64 = 6 << 20;

/// A limit docker would refuse, as `create`, `run` and `isolate` check it.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum BadResources {
    #[error("-m: the minimum memory limit allowed is 6MB, as docker's; give 6m or more")]
    MemoryTooSmall,
    #[error("--cpus must be a positive number, or 0 for no limit")]
    Cpus,
    #[error("--memory-swap needs a memory limit (-m) too")]
    SwapWithoutMemory,
    #[error("--memory-swap must be at least the memory limit (-m), or -1 for unlimited swap")]
    SwapBelowMemory,
}

impl Resources {
    pub fn is_default(&self) -> bool {
        self == &Resources::default()
    }

    /// The same, refused where docker refuses it. As docker's, `--cpus 0`
    /// is no limit, and so is a `--pids-limit` of 0 or below (kept as -1).
    pub fn checked(mut self) -> std::result::Result<Resources, BadResources> {
        if self.memory.is_some_and(|m| m < MIN_MEMORY) {
            return Err(BadResources::MemoryTooSmall);
        }
        if self.cpus.is_some_and(|c| !(c.is_finite() && c >= 0.0)) {
            return Err(BadResources::Cpus);
        }
        self.cpus = self.cpus.filter(|c| *c > 0.0);
        self.pids_limit = self.pids_limit.map(|n| if n <= 0 { -1 } else { n });
        match (self.memory, self.memory_swap) {
            (None, Some(_)) => Err(BadResources::SwapWithoutMemory),
            (Some(m), Some(s)) if s != -1 && (s < 0 || (s as u64) < m) => {
                Err(BadResources::SwapBelowMemory)
            }
            _ => Ok(self),
        }
    }

    /// docker's `MemorySwap` for `-m` without `--memory-swap`: twice the
    /// memory when the kernel bounds swap (`swap_limit`), else -1.
    pub fn with_default_swap(self, swap_limit: bool) -> Resources {
        let memory_swap = match (self.memory, self.memory_swap) {
            (Some(m), None) if swap_limit => Some((m as i64).saturating_mul(2)),
            (Some(_), None) => Some(-1),
            (_, s) => s,
        };
        Resources {
            memory_swap,
            ..self
        }
    }

    /// These, each where it is given, else `recorded`'s (isolate's flags
    /// over the container's): a memory limit given brings its own swap; a
    /// swap given alone goes with the recorded memory limit.
    pub fn over(self, recorded: &Resources) -> Resources {
        let (memory, memory_swap) = match (self.memory, self.memory_swap) {
            (Some(_), _) => (self.memory, self.memory_swap),
            (None, Some(_)) => (recorded.memory, self.memory_swap),
            (None, None) => (recorded.memory, recorded.memory_swap),
        };
        Resources {
            memory,
            memory_swap,
            pids_limit: self.pids_limit.or(recorded.pids_limit),
            cpus: self.cpus.or(recorded.cpus),
        }
    }
}

/// docker's `Config` keys for a container's terminal and streams, as
/// docker's client sets them: `-t` gives a terminal, `-i` keeps stdin open
/// and attaches it; `create` and a foreground `run` attach stdout and
/// stderr (or the streams `-a` names), `run -d` none; stdin attached
/// means it closes with the first attacher's input (StdinOnce).
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq, JsonSchema)]
pub struct Terminal {
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub tty: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub open_stdin: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub attach_stdin: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub attach_stdout: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub attach_stderr: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub stdin_once: bool,
}

impl Terminal {
    /// As docker's client sets them for `-i`, `-t`, the streams `-a`
    /// named (none: stdout, stderr and with `-i` stdin) and `run -d`.
    pub fn of(interactive: bool, tty: bool, attach: &[Stream], detached: bool) -> Terminal {
        let named = |s| attach.contains(&s);
        let all = attach.is_empty() && !detached;
        let attach_stdin = !detached && (named(Stream::Stdin) || all && interactive);
        Terminal {
            tty,
            open_stdin: interactive,
            attach_stdin,
            attach_stdout: !detached && (all || named(Stream::Stdout)),
            attach_stderr: !detached && (all || named(Stream::Stderr)),
            stdin_once: interactive && attach_stdin,
        }
    }

    pub fn is_default(&self) -> bool {
        self == &Terminal::default()
    }
}

/// A standard stream, as `-a` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdin,
    Stdout,
    Stderr,
}

/// `-a` named no standard stream.
#[derive(Debug, thiserror::Error)]
#[error("invalid argument \"{0}\" for -a: valid streams are STDIN, STDOUT and STDERR")]
pub struct BadStream(pub String);

impl std::str::FromStr for Stream {
    type Err = BadStream;
    fn from_str(s: &str) -> Result<Stream, BadStream> {
        match s.to_ascii_lowercase().as_str() {
            "stdin" => Ok(Stream::Stdin),
            "stdout" => Ok(Stream::Stdout),
            "stderr" => Ok(Stream::Stderr),
            _ => Err(BadStream(s.to_string())),
        }
    }
}

/// docker's restart policy: when the supervisor starts the container's
/// process again after it ended (`no`, `on-failure[:N]`, `always`,
/// `unless-stopped`). `maximum_retry_count` bounds `on-failure` (0: no
/// bound).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RestartPolicy {
    /// `no`, `on-failure`, `always` or `unless-stopped`.
    pub name: String,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub maximum_retry_count: u32,
}

/// A `--restart` value docker would refuse.
#[derive(Debug, thiserror::Error)]
#[error("invalid restart policy {given:?}: {why}")]
pub struct BadRestartPolicy {
    pub given: String,
    pub why: PolicyProblem,
}

/// What is wrong with a restart policy.
#[derive(Debug, thiserror::Error)]
pub enum PolicyProblem {
    #[error("the count after on-failure: must be a whole number")]
    Count,
    #[error("only on-failure takes a count")]
    CountNotTaken,
    #[error("use no, on-failure[:N], always or unless-stopped")]
    Name,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl RestartPolicy {
    /// Parse docker's spelling: `no`, `on-failure`, `on-failure:N`,
    /// `always`, `unless-stopped`.
    pub fn parse(s: &str) -> std::result::Result<RestartPolicy, BadRestartPolicy> {
        let bad = |why| BadRestartPolicy {
            given: s.to_string(),
            why,
        };
        let (name, count) = match s.split_once(':') {
            Some((n, c)) => (n, Some(c)),
            None => (s, None),
        };
        let maximum_retry_count = match (name, count) {
            (_, None) => 0,
            ("on-failure", Some(c)) => c.parse().map_err(|_| bad(PolicyProblem::Count))?,
            (_, Some(_)) => return Err(bad(PolicyProblem::CountNotTaken)),
        };
        match name {
            "" | "no" | "on-failure" | "always" | "unless-stopped" => Ok(RestartPolicy {
                name: if name.is_empty() { "no" } else { name }.into(),
                maximum_retry_count,
            }),
            _ => Err(bad(PolicyProblem::Name)),
        }
    }

    /// No restarts (docker's `no`, and the empty policy).
    pub fn is_no(&self) -> bool {
        self.name.is_empty() || self.name == "no"
    }
}

impl HostConfig {
    pub fn is_empty(&self) -> bool {
        self == &HostConfig::default()
    }
}

/// What a mount mounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum MountKind {
    /// A path of the host.
    Bind,
    /// A volume of the store (`volumes/NAME/_data`).
    Volume,
    /// A new tmpfs.
    Tmpfs,
}

/// One mount of a container, as `-v`, `--mount` and `--tmpfs` give it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct MountSpec {
    #[serde(rename = "type")]
    pub kind: MountKind,
    /// A bind's host path, a volume's name; none for a tmpfs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Where it is mounted, an absolute path inside the container.
    pub target: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub readonly: bool,
    /// A tmpfs's options, as mount(8) takes them (`size=64m`, `mode=1777`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
    /// A volume made for this container (an image's VOLUME, `-v /path`):
    /// `rm -v` removes it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub anonymous: bool,
    /// A bind whose missing host path is made a directory at start (`-v`,
    /// as docker does); without it, a missing path is an error.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub create_source: bool,
    /// A volume that is not filled from the image's content at its
    /// target when it is empty (`volume-nocopy`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub no_copy: bool,
}

/// A container's status, as `ps` shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    #[default]
    Created,
    Running,
    Paused,
    /// Its process ended and its supervisor starts it again (after a
    /// delay), as its restart policy asks.
    Restarting,
    Exited,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Created => "created",
            Status::Running => "running",
            Status::Paused => "paused",
            Status::Restarting => "restarting",
            Status::Exited => "exited",
        }
    }
}

/// What a container is doing. Rewritten atomically at every change.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct State {
    pub status: Status,
    /// The container's init process (pid 1 inside), as the host sees it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<i32>,
    /// Its start time (field 22 of `/proc/<pid>/stat`), so a reused pid is
    /// never mistaken for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid_start: Option<u64>,
    /// The process that waits for it and records its exit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supervisor: Option<i32>,
    /// The supervisor's start time, as `pid_start` is the process's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supervisor_start: Option<u64>,
    /// The init's exit status once it has exited (128+N: killed by signal N).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// Whether the kernel's OOM killer killed a process of the container.
    #[serde(default)]
    pub oom_killed: bool,
    /// When it last started (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    /// When it last exited (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<String>,
    /// The command line it runs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub command: Vec<String>,
    /// Its cgroup's name, while it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cgroup: Option<String>,
    /// How many times its supervisor started it again since it was
    /// last started by hand (docker's RestartCount).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub restart_count: u32,
    /// The limits and privileges its last start ran it with: the limits
    /// recorded at create ([`HostConfig::resources`]) unless `isolate`'s
    /// flags gave others for that run.
    #[serde(default, skip_serializing_if = "RunSettings::is_default")]
    pub run: RunSettings,
}

/// What a start ran the container's process with besides its record:
/// `-m`, `--pids-limit`, `--cpus`, `--privileged`, `-t`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct RunSettings {
    /// Memory limit in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<u64>,
    /// Memory plus swap in bytes, -1: swap unbounded (none: no swap
    /// beyond the memory limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_swap: Option<i64>,
    /// Most processes (and threads) at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pids_limit: Option<u64>,
    /// CPU bandwidth in CPUs (`0.5`: half of one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpus: Option<f64>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub privileged: bool,
    /// Its process has a terminal.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub tty: bool,
}

impl RunSettings {
    pub fn is_default(&self) -> bool {
        self == &RunSettings::default()
    }
}

/// The paths of a container's directory (`docs/store.md` says what each
/// holds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerDirs {
    pub dir: PathBuf,
    pub upper: PathBuf,
    pub work: PathBuf,
    pub init: PathBuf,
    pub rootfs: PathBuf,
    pub log: PathBuf,
    /// The socket its detached supervisor serves attachers on.
    pub attach: PathBuf,
    pub lock: PathBuf,
}

impl ContainerDirs {
    fn under(dir: PathBuf) -> ContainerDirs {
        ContainerDirs {
            upper: dir.join("upper"),
            work: dir.join("work"),
            init: dir.join("init"),
            rootfs: dir.join("rootfs"),
            log: dir.join("log"),
            attach: dir.join("attach.sock"),
            lock: dir.join("lock"),
            dir,
        }
    }
}

const ADJECTIVES: &[&str] = &[
    "brave", "calm", "clever", "eager", "gentle", "happy", "jolly", "kind", "lucid", "merry",
    "nimble", "proud", "quiet", "sharp", "steady", "sunny", "swift", "tidy", "vivid", "wise",
];
const NOUNS: &[&str] = &[
    "badger", "cairn", "crane", "falcon", "fern", "granite", "heron", "lichen", "marmot", "moss",
    "otter", "pebble", "pika", "ridge", "slate", "summit", "talus", "tarn", "wren", "yak",
];

/// A name for a container nobody named: `<adjective>_<noun>_<4 hex>`.
pub fn generated_name(id: &ContainerId) -> String {
    let b = id.0;
    format!(
        "{}_{}_{}",
        ADJECTIVES[b[0] as usize % ADJECTIVES.len()],
        NOUNS[b[1] as usize % NOUNS.len()],
        &id.hex()[4..8]
    )
}

/// A valid container name: `[a-zA-Z0-9][a-zA-Z0-9_.-]*`, as docker allows.
pub fn valid_name(n: &str) -> bool {
    let b = n.as_bytes();
    !b.is_empty()
        && b.len() <= 128
        && b[0].is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'))
}

impl Store {
    pub fn container_dir(&self, id: &ContainerId) -> PathBuf {
        self.root().join("containers").join(id.hex())
    }

    /// The paths inside [`Store::container_dir`].
    pub fn container_dirs(&self, id: &ContainerId) -> ContainerDirs {
        ContainerDirs::under(self.container_dir(id))
    }

    /// Every container.
    pub fn containers(&self) -> Result<Vec<ContainerMeta>> {
        let dir = self.root().join("containers");
        let mut out = Vec::new();
        for e in fs::read_dir(&dir).at(&dir)? {
            let e = e.at(&dir)?;
            if let Some(id) = e
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<ContainerId>().ok())
            {
                if let Ok(m) = self.container(&id) {
                    out.push(m);
                }
            }
        }
        out.sort_by(|a, b| b.created.cmp(&a.created).then(a.id.cmp(&b.id)));
        Ok(out)
    }

    /// The containers whose image stack contains `layer`.
    pub fn containers_on(&self, layer: &LayerId) -> Result<Vec<ContainerMeta>> {
        let mut out = Vec::new();
        for c in self.containers()? {
            if self.chain(&c.layer)?.iter().any(|(id, _)| id == layer) {
                out.push(c);
            }
        }
        Ok(out)
    }

    pub fn container(&self, id: &ContainerId) -> Result<ContainerMeta> {
        let p = self.container_dir(id).join("container.json");
        let data = match fs::read(&p) {
            Ok(d) => d,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(StoreError::NoContainer(id.to_string()))
            }
            Err(e) => return Err(e).at(&p),
        };
        serde_json::from_slice(&data).map_err(StoreError::json(&p))
    }

    /// Find the container a person means: full ID, unique prefix (≥ 4 hex
    /// digits) or name.
    pub fn resolve_container(&self, name: &str) -> Result<ContainerMeta> {
        if let Ok(id) = name.parse::<ContainerId>() {
            return self.container(&id);
        }
        let all = self.containers()?;
        if let Some(c) = all.iter().find(|c| c.name == name) {
            return Ok(c.clone());
        }
        if name.len() >= 4
            && name
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            let m: Vec<&ContainerMeta> = all
                .iter()
                .filter(|c| c.id.hex().starts_with(name))
                .collect();
            return match m.len() {
                1 => Ok(m[0].clone()),
                0 => Err(StoreError::NoContainer(name.to_string())),
                n => Err(StoreError::Ambiguous {
                    name: name.to_string(),
                    count: n,
                }),
            };
        }
        Err(StoreError::NoContainer(name.to_string()))
    }

    /// Create a container (not mounted, not running) on image `layer`.
    pub fn create_container(
        &self,
        name: Option<&str>,
        image: &str,
        layer: &LayerId,
        config: Value,
        host: HostConfig,
    ) -> Result<ContainerMeta> {
        let id = ContainerId::random().at(&self.root().join("containers"))?;
        let name = match name {
            Some(n) if !valid_name(n) => return Err(StoreError::BadName(n.to_string())),
            Some(n) => n.to_string(),
            None => generated_name(&id),
        };
        let _l = self.lock_exclusive("containers")?;
        if self.containers()?.iter().any(|c| c.name == name) {
            return Err(StoreError::NameInUse(name));
        }
        let meta = ContainerMeta {
            id,
            name,
            image: image.to_string(),
            layer: *layer,
            created: now_rfc3339(),
            config,
            host,
        };
        let staging = self.stage("container")?;
        let sp = staging.path();
        let dirs = ContainerDirs::under(sp.to_path_buf());
        for d in [
            dirs.upper,
            dirs.work,
            dirs.rootfs,
            dirs.init.join("proc"),
            dirs.init.join("sys"),
            dirs.init.join("dev"),
        ] {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o755)
                .create(&d)
                .at(&d)?;
        }
        // The files cairn owns in every container, mounted over these
        // (as docker's init layer has them): below the read-write layer,
        // so commit never sees them.
        let etc = dirs.init.join("etc");
        fs::DirBuilder::new().mode(0o755).create(&etc).at(&etc)?;
        for f in crate::hostfiles::NAMES {
            let p = etc.join(f);
            File::create(&p).at(&p)?;
        }
        fs::write(
            sp.join("container.json"),
            serde_json::to_vec_pretty(&meta).expect("serialises"),
        )
        .at(sp)?;
        fs::write(
            sp.join("state.json"),
            serde_json::to_vec(&State::default()).expect("serialises"),
        )
        .at(sp)?;
        File::open(sp)
            .and_then(|f| nix::unistd::syncfs(&f).map_err(Into::into))
            .at(sp)?;
        let dest = self.container_dir(&id);
        fs::rename(sp, &dest).at(&dest)?;
        std::mem::forget(staging);
        Ok(meta)
    }

    pub fn read_state(&self, id: &ContainerId) -> Result<State> {
        let p = self.container_dir(id).join("state.json");
        match fs::read(&p) {
            Ok(d) => serde_json::from_slice(&d).map_err(StoreError::json(&p)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(State::default()),
            Err(e) => Err(e).at(&p),
        }
    }

    /// Record a container's state. Replaced atomically but not fsynced, as
    /// runc keeps its state on tmpfs: after a crash the processes are gone
    /// anyway, and `container::state` reports such a container exited.
    pub fn write_state(&self, id: &ContainerId, state: &State) -> Result<()> {
        super::replace_file(
            &self.container_dir(id).join("state.json"),
            &serde_json::to_vec(state).expect("state serialises"),
            false,
        )
    }

    /// Lock a container (exclusive) while it is started, committed or removed.
    pub fn lock_container(&self, id: &ContainerId) -> Result<Flock<File>> {
        super::lock_file(&self.container_dirs(id).lock)
    }

    /// Delete a container's directory (rename into trash/, then remove).
    pub fn remove_container_dir(&self, id: &ContainerId) -> Result<()> {
        self.trash(&self.container_dir(id))
    }
}

/// Now, RFC 3339 in UTC with nanoseconds, as docker writes `created`.
pub fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .expect("formatting now cannot fail")
}

#[cfg(test)]
mod tests {
    use super::{BadResources, Resources};

    fn mem(memory: Option<u64>, memory_swap: Option<i64>) -> Resources {
        Resources {
            memory,
            memory_swap,
            ..Resources::default()
        }
    }

    #[test]
    fn resources_are_checked_as_docker_checks_them() {
        let m = 64 << 20;
        assert_eq!(
            mem(Some(m), Some(m as i64)).checked(),
            Ok(mem(Some(m), Some(m as i64)))
        );
        assert_eq!(mem(Some(m), Some(-1)).checked(), Ok(mem(Some(m), Some(-1))));
        let below = mem(Some(m), Some(m as i64 - 1)).checked();
        assert_eq!(below, Err(BadResources::SwapBelowMemory));
        let alone = mem(None, Some(m as i64)).checked();
        assert_eq!(alone, Err(BadResources::SwapWithoutMemory));
        for pids in [0, -2] {
            let r = Resources {
                pids_limit: Some(pids),
                ..Resources::default()
            };
            assert_eq!(r.checked().unwrap().pids_limit, Some(-1));
        }
        let r = Resources {
            cpus: Some(0.0),
            ..Resources::default()
        };
        assert_eq!(r.checked().unwrap().cpus, None);
        for cpus in [-1.0, f64::NAN, f64::INFINITY] {
            let r = Resources {
                cpus: Some(cpus),
                ..Resources::default()
            };
            assert_eq!(r.checked(), Err(BadResources::Cpus), "{cpus}");
        }
    }

    #[test]
    fn memory_alone_gets_dockers_swap_and_flags_win_over_the_record() {
        let m = 64 << 20;
        let twice = mem(Some(m), None).with_default_swap(true);
        assert_eq!(twice.memory_swap, Some(2 * m as i64));
        assert_eq!(
            mem(Some(m), None).with_default_swap(false).memory_swap,
            Some(-1)
        );
        assert_eq!(
            mem(Some(m), Some(m as i64))
                .with_default_swap(true)
                .memory_swap,
            Some(m as i64)
        );
        assert_eq!(
            mem(None, None).with_default_swap(true),
            Resources::default()
        );
        let recorded = Resources {
            pids_limit: Some(50),
            cpus: Some(0.5),
            ..twice
        };
        let given = mem(Some(2 * m), Some(-1));
        let both = given.over(&recorded);
        assert_eq!((both.memory, both.memory_swap), (Some(2 * m), Some(-1)));
        assert_eq!((both.pids_limit, both.cpus), (Some(50), Some(0.5)));
        assert_eq!(Resources::default().over(&recorded), recorded);
        // a swap alone goes with the recorded memory, and is checked with it
        let swap = mem(None, Some(3 * m as i64)).over(&recorded);
        assert_eq!(
            (swap.memory, swap.memory_swap),
            (Some(m), Some(3 * m as i64))
        );
        let below = mem(None, Some(m as i64 / 2)).over(&recorded).checked();
        assert_eq!(below, Err(BadResources::SwapBelowMemory));
        let none = mem(None, Some(m as i64)).over(&Resources::default());
        assert_eq!(none.checked(), Err(BadResources::SwapWithoutMemory));
    }

    #[test]
    fn memory_below_dockers_minimum_is_refused() {
        let min = super::MIN_MEMORY;
        assert_eq!(min, 6_291_456);
        assert_eq!(mem(Some(min), None).checked(), Ok(mem(Some(min), None)));
        let below = mem(Some(min - 1), Some(-1)).checked();
        assert_eq!(below, Err(BadResources::MemoryTooSmall));
        // before the swap's check, as docker's
        let both = mem(Some(5 << 20), Some(4 << 20)).checked();
        assert_eq!(both, Err(BadResources::MemoryTooSmall));
    }
}
