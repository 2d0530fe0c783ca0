//! Control groups: one per container, under `cairn/` in each hierarchy
//! (an OCI runtime's at any path its spec gives, such as `docker/<id>`).
//!
//! Two layouts are supported and detected from `/proc/self/mountinfo`,
//! never assumed:
//!
//! - **v2**: a cgroup2 mount whose `cgroup.controllers` lists `memory`
//!   (normally `/sys/fs/cgroup` itself). A container is one directory,
//!   `<mount>/cairn/<name>`; `+memory +pids +cpu` are enabled in the
//!   `subtree_control` of the mount root and of `cairn/`.
//! - **v1** (also "hybrid", where a cgroup2 mount exists but holds none of
//!   the controllers we need): a container is one directory per hierarchy
//!   used, `<mount>/cairn/<name>`, for the memory, pids, cpu, cpuacct,
//!   freezer, devices and blkio controllers (blkio only counts: `stats`'
//!   BLOCK I/O; v2's `io` likewise, where the mount offers it). Controllers co-mounted in one
//!   hierarchy (such as `cpu,cpuacct`) share one directory.
//!
//! Every cgroup gets a device policy ([`super::devices`]), limits or not:
//! on v1 written to the devices controller's `devices.deny`/`devices.allow`,
//! on v2 (which has no devices controller) attached to the directory as a
//! BPF device program. On hybrid systems the v1 devices controller is the
//! one that applies, as the container's cgroups are v1 ones.
//!
//! A memory limit also bounds swap, when the kernel accounts for it (the
//! files exist): [`Limits::memory_swap`] is memory plus swap, as docker's
//! `--memory-swap` and OCI's `memory.swap` (v1's
//! `memory.memsw.limit_in_bytes`; on v2, `memory.swap.max` is it less the
//! memory limit); without one, swap is capped at nothing beyond the limit.

use std::collections::HashSet;
use std::ffi::{CString, OsStr};
use std::fs;
use std::io::{self, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::thread::sleep;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::signal::{kill, Signal};
use nix::sys::stat::Mode;
use nix::unistd::Pid;

use super::devices::{self, DevicesError, Policy, Rule};

mod tune;
pub use tune::{Throttle, Tune};

/// The directory below each hierarchy's root that holds cairn's cgroups.
pub const PARENT: &str = "cairn";

/// The CFS period used for CPU limits, in microseconds.
const CPU_PERIOD_US: u64 = 100_000;
/// The kernel's smallest accepted CFS quota, in microseconds.
const CPU_MIN_QUOTA_US: u64 = 1_000;
/// How long [`Cgroup::freeze`] waits for the kernel to report frozen.
const FREEZE_TIMEOUT: Duration = Duration::from_secs(5);
/// How long [`Cgroup::signal_all`] tries to freeze before killing on v1.
const KILL_FREEZE_TIMEOUT: Duration = Duration::from_secs(1);
/// How long [`Cgroup::destroy`] retries `rmdir` while it fails with `EBUSY`.
const DESTROY_TIMEOUT: Duration = Duration::from_secs(2);
/// Longest sleep between two polls of a control file.
const MAX_POLL: Duration = Duration::from_millis(10);
const MOUNTINFO: &str = "/proc/self/mountinfo";

/// Errors from cgroup operations.
#[derive(Debug, thiserror::Error)]
pub enum CgroupError {
    /// The name is empty, `.`/`..`, or has a character outside `[a-zA-Z0-9_.-]`.
    #[error("invalid cgroup name {name:?}: use only letters, digits, '_', '.' and '-'")]
    InvalidName {
        /// The rejected name.
        name: String,
    },
    /// A cgroup path is empty, absolute, or has a component that is not a
    /// valid name (`..` among them).
    #[error(
        "invalid cgroup path {path:?}: give names of letters, digits, '_', '.' and '-' \
         separated by '/'"
    )]
    InvalidPath {
        /// The rejected path.
        path: String,
    },
    /// A limit the kernel cannot express (such as a non-positive CPU count).
    #[error("invalid limit: {what}")]
    InvalidLimit {
        /// What is wrong with it.
        what: String,
    },
    /// `/proc/self/mountinfo` lists no cgroup or cgroup2 mount.
    #[error("no cgroup file system is mounted (according to {MOUNTINFO})")]
    NotMounted,
    /// A limit or operation needs a controller this system does not offer.
    #[error("the {controller} cgroup controller is not available (looked in {path})")]
    MissingController {
        /// The controller's name (`memory`, `pids`, `cpu`, `freezer`).
        controller: &'static str,
        /// Where it was looked for.
        path: PathBuf,
    },
    /// [`Cgroup::create`] found the cgroup's directory already there.
    #[error("{path}: cgroup already exists")]
    AlreadyExists {
        /// The directory that exists.
        path: PathBuf,
    },
    /// A file-system operation on a cgroup file or directory failed.
    #[error("{path}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// A control file held something unexpected.
    #[error("{path}: unexpected content {content:?}")]
    Parse {
        /// The control file.
        path: PathBuf,
        /// What it held (or the offending part).
        content: String,
    },
    /// The kernel did not reach the wanted state in time.
    #[error("{path}: timed out waiting for {what}")]
    Timeout {
        /// The control file that was polled.
        path: PathBuf,
        /// The state waited for.
        what: &'static str,
    },
    /// A `linux.resources` setting this kernel does not offer.
    #[error("linux.resources.{field} is not available: {what}; leave it out")]
    NotOffered {
        /// The spec's field, below `linux.resources`.
        field: &'static str,
        /// What is missing.
        what: String,
    },
    /// The kernel refused a `linux.resources` setting's value.
    #[error("linux.resources.{field}: writing {value:?} to {path}")]
    Tune {
        /// The spec's field, below `linux.resources`.
        field: &'static str,
        /// The control file.
        path: PathBuf,
        /// What was written.
        value: String,
        /// The kernel's answer.
        source: io::Error,
    },
    /// Loading or attaching the v2 device program failed.
    #[error(transparent)]
    Devices(#[from] DevicesError),
    /// Sending a signal to a member process failed (other than `ESRCH`).
    #[error("kill({pid}, {signal})")]
    Signal {
        /// The process.
        pid: i32,
        /// The signal.
        signal: Signal,
        /// The errno.
        source: Errno,
    },
}

type Result<T, E = CgroupError> = std::result::Result<T, E>;

fn io_at(path: &Path) -> impl FnOnce(io::Error) -> CgroupError + '_ {
    move |source| CgroupError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// What a cgroup's processes use ([`Cgroup::usage`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    /// CPU time of every process, in nanoseconds.
    pub cpu_ns: Option<u64>,
    /// Memory in use less the inactive page cache, as docker's CLI counts
    /// it, in bytes.
    pub memory: Option<u64>,
    /// The memory limit in bytes; absent: unlimited.
    pub memory_limit: Option<u64>,
    /// Processes and threads.
    pub pids: Option<u64>,
    /// Bytes read from and written to block devices (v1 blkio's
    /// `io_service_bytes_recursive`, v2's `io.stat` rbytes and wbytes).
    pub block_io: Option<(u64, u64)>,
}

/// Bytes read and written, summed over devices: v1's
/// `blkio.*io_service_bytes_recursive` (`MAJ:MIN Read N` lines) or v2's
/// `io.stat` (`MAJ:MIN rbytes=N wbytes=N …`), as docker's CLI sums them.
pub fn parse_block_io(text: &str) -> (u64, u64) {
    let (mut read, mut write) = (0u64, 0u64);
    for line in text.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if let [_, op, n] = f[..] {
            if let Ok(n) = n.parse::<u64>() {
                match op.to_ascii_lowercase().as_str() {
                    "read" => read += n,
                    "write" => write += n,
                    _ => {}
                }
                continue;
            }
        }
        for kv in f.iter().skip(1) {
            match kv.split_once('=') {
                Some(("rbytes", n)) => read += n.parse::<u64>().unwrap_or(0),
                Some(("wbytes", n)) => write += n.parse::<u64>().unwrap_or(0),
                _ => {}
            }
        }
    }
    (read, write)
}

/// A number read from a control file (`path`) holding only it.
fn number(path: &Path) -> Result<Option<u64>> {
    let text = read_file(path)?;
    match text.trim() {
        "max" => Ok(None),
        t => t.parse().map(Some).map_err(|_| CgroupError::Parse {
            path: path.to_path_buf(),
            content: text.clone(),
        }),
    }
}

/// Which cgroup interface is in use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Version {
    /// Legacy hierarchies, one per controller (or per group of co-mounted
    /// controllers); also chosen on hybrid systems.
    V1,
    /// The unified hierarchy.
    V2,
}

/// Resource limits applied by [`Cgroup::create`]. `None` leaves the
/// kernel's default (unlimited).
#[derive(Default, Clone, Debug, PartialEq)]
pub struct Limits {
    /// Memory limit in bytes.
    pub memory: Option<u64>,
    /// With a memory limit: memory plus swap in bytes, -1 for no bound on
    /// swap; none: no swap beyond the memory limit (the same as `memory`).
    pub memory_swap: Option<i64>,
    /// Maximum number of processes (and threads).
    pub pids: Option<u64>,
    /// CPU bandwidth in CPUs, e.g. `0.5` for half of one CPU.
    pub cpus: Option<f64>,
}

/// Whether this kernel bounds swap per cgroup (v1's
/// `memory.memsw.limit_in_bytes`, v2's `memory.swap.max`), as docker's
/// `SwapLimit` decides it: without, docker records `MemorySwap` -1.
pub fn swap_limit_supported() -> bool {
    match layout() {
        Ok(Layout::V1 { mounts }) => (mounts.iter())
            .find(|(c, _)| *c == "memory")
            .is_some_and(|(_, m)| m.join("memory.memsw.limit_in_bytes").exists()),
        // the root has no memory.swap.max: a child with memory.max tells
        Ok(Layout::V2 { root, .. }) => fs::read_dir(&root).is_ok_and(|d| {
            d.flatten()
                .map(|e| e.path())
                .find(|p| p.join("memory.max").exists())
                .is_some_and(|p| p.join("memory.swap.max").exists())
        }),
        Err(_) => false,
    }
}

/// The v2 `cpu.weight` (1 to 10000) for v1 CPU `shares` (2 to 262144),
/// runc's mapping: the default 1024 is 39, not v2's default 100.
pub fn cpu_weight(shares: u64) -> u64 {
    1 + (shares.clamp(2, 262_144) - 2) * 9999 / 262_142
}

/// The CFS quota, per [`CPU_PERIOD`] microseconds, that gives `cpus` CPUs.
pub fn cpu_quota(cpus: f64) -> Result<u64, CgroupError> {
    if !(cpus.is_finite() && cpus > 0.0) {
        return Err(CgroupError::InvalidLimit {
            what: format!("cpus must be a positive number, not {cpus}"),
        });
    }
    let q = (cpus * CPU_PERIOD_US as f64).round();
    if q > u64::MAX as f64 / 2.0 {
        return Err(CgroupError::InvalidLimit {
            what: format!("cpus {cpus} is too large"),
        });
    }
    Ok((q as u64).max(CPU_MIN_QUOTA_US))
}

/// The CFS period of CPU limits, in microseconds.
pub const CPU_PERIOD: u64 = CPU_PERIOD_US;

/// Check that `name` is a single, safe path component.
fn validate_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name != "."
        && name != ".."
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(CgroupError::InvalidName {
            name: name.to_string(),
        })
    }
}

/// Check that `path` is a relative path of one or more valid names.
fn validate_path(path: &Path) -> Result<()> {
    let bad = || CgroupError::InvalidPath {
        path: path.display().to_string(),
    };
    let mut any = false;
    for c in path.components() {
        let std::path::Component::Normal(name) = c else {
            return Err(bad());
        };
        validate_name(name.to_str().ok_or_else(bad)?).map_err(|_| bad())?;
        any = true;
    }
    if any {
        Ok(())
    } else {
        Err(bad())
    }
}

// ---------------------------------------------------------------------------
// Detection

/// One cgroup or cgroup2 mount from mountinfo.
struct Mount {
    point: PathBuf,
    v2: bool,
    /// Super options (for v1: the controllers of the hierarchy, among others).
    options: String,
}

/// Undo mountinfo's octal escapes (`\040` for space and so on).
fn unescape(field: &str) -> PathBuf {
    let b = field.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 3 < b.len() {
            let digits = &b[i + 1..i + 4];
            if digits.iter().all(|c| (b'0'..=b'7').contains(c)) {
                let v = digits
                    .iter()
                    .fold(0u32, |acc, c| acc * 8 + u32::from(c - b'0'));
                if let Ok(v) = u8::try_from(v) {
                    out.push(v);
                    i += 4;
                    continue;
                }
            }
        }
        out.push(b[i]);
        i += 1;
    }
    PathBuf::from(OsStr::from_bytes(&out))
}

fn cgroup_mounts() -> Result<Vec<Mount>> {
    let path = Path::new(MOUNTINFO);
    let text = fs::read_to_string(path).map_err(io_at(path))?;
    let mut mounts = Vec::new();
    for line in text.lines() {
        // "<id> <parent> <maj:min> <root> <point> <opts> [optional...] - <fstype> <source> <super opts>"
        let Some((left, right)) = line.split_once(" - ") else {
            continue;
        };
        let Some(point) = left.split(' ').nth(4) else {
            continue;
        };
        let mut right = right.split(' ');
        let fstype = right.next().unwrap_or("");
        let options = right.nth(1).unwrap_or("").to_string();
        let v2 = match fstype {
            "cgroup2" => true,
            "cgroup" => false,
            _ => continue,
        };
        mounts.push(Mount {
            point: unescape(point),
            v2,
            options,
        });
    }
    Ok(mounts)
}

/// The controllers cairn uses, in the order their v1 directories are
/// listed; the last two only for a cgroup whose settings need them
/// ([`Tune`]): a cpuset must be filled before a process may join it.
const V1_CONTROLLERS: [&str; 9] = [
    "memory", "pids", "cpu", "cpuacct", "freezer", "devices", "blkio", "cpuset", "hugetlb",
];

/// The v1 controllers whose directory a cgroup has only when asked.
const V1_ON_DEMAND: [&str; 2] = ["cpuset", "hugetlb"];

enum Layout {
    V2 {
        root: PathBuf,
        controllers: Vec<String>,
    },
    /// (controller, mount point) for each of [`V1_CONTROLLERS`] mounted.
    V1 {
        mounts: Vec<(&'static str, PathBuf)>,
    },
}

fn read_controllers(root: &Path) -> Vec<String> {
    fs::read_to_string(root.join("cgroup.controllers"))
        .map(|s| s.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default()
}

fn layout() -> Result<Layout> {
    let mut mounts = cgroup_mounts()?;
    // Prefer the conventional location when a hierarchy is mounted twice.
    mounts.sort_by_key(|m| !m.point.starts_with("/sys/fs/cgroup"));
    let mut v2_roots = mounts.iter().filter(|m| m.v2);
    if let Some(m) = v2_roots
        .clone()
        .find(|m| read_controllers(&m.point).iter().any(|c| c == "memory"))
    {
        return Ok(Layout::V2 {
            root: m.point.clone(),
            controllers: read_controllers(&m.point),
        });
    }
    let v1: Vec<(&'static str, PathBuf)> = V1_CONTROLLERS
        .iter()
        .filter_map(|&c| {
            mounts
                .iter()
                .find(|m| !m.v2 && m.options.split(',').any(|o| o == c))
                .map(|m| (c, m.point.clone()))
        })
        .collect();
    if !v1.is_empty() {
        return Ok(Layout::V1 { mounts: v1 });
    }
    if let Some(m) = v2_roots.next() {
        return Ok(Layout::V2 {
            root: m.point.clone(),
            controllers: read_controllers(&m.point),
        });
    }
    Err(CgroupError::NotMounted)
}

/// Which cgroup interface this system offers for cairn's controllers:
/// [`Version::V2`] when a cgroup2 mount holds the memory controller,
/// else [`Version::V1`] when legacy hierarchies are mounted (hybrid systems
/// included), else a bare cgroup2 mount is [`Version::V2`].
pub fn detect() -> Result<Version, CgroupError> {
    Ok(match layout()? {
        Layout::V2 { .. } => Version::V2,
        Layout::V1 { .. } => Version::V1,
    })
}

// ---------------------------------------------------------------------------
// Control-file helpers

fn read_file(path: &Path) -> Result<String> {
    fs::read_to_string(path).map_err(io_at(path))
}

fn write_file(path: &Path, value: &str) -> Result<()> {
    // One write(2) per value: the kernel parses each write on its own.
    let mut f = fs::OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(io_at(path))?;
    f.write_all(value.as_bytes()).map_err(io_at(path))
}

/// The value of `key` in a flat-keyed file (`key value` per line).
fn keyed(path: &Path, text: &str, key: &str) -> Result<Option<u64>> {
    for line in text.lines() {
        let mut it = line.split_whitespace();
        if it.next() == Some(key) {
            let v = it.next().unwrap_or("");
            return v.parse().map(Some).map_err(|_| CgroupError::Parse {
                path: path.to_path_buf(),
                content: line.to_string(),
            });
        }
    }
    Ok(None)
}

fn mkdir(path: &Path) -> io::Result<()> {
    fs::DirBuilder::new().create(path)
}

fn mkdir_exist_ok(path: &Path) -> Result<()> {
    match mkdir(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(io_at(path)(e)),
    }
}

/// Sleep before the next poll, backing off from 1 ms to [`MAX_POLL`].
fn backoff(delay: &mut Duration) {
    sleep(*delay);
    *delay = (*delay * 2).min(MAX_POLL);
}

/// Remove `dir` and every cgroup below it, retrying `EBUSY` until `deadline`.
fn remove_tree(dir: &Path, deadline: Instant) -> Result<()> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io_at(dir)(e)),
    };
    for entry in entries {
        let entry = entry.map_err(io_at(dir))?;
        if entry.file_type().map_err(io_at(dir))?.is_dir() {
            remove_tree(&entry.path(), deadline)?;
        }
    }
    let mut delay = Duration::from_millis(1);
    loop {
        match fs::remove_dir(dir) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) if e.raw_os_error() == Some(libc::EBUSY) && Instant::now() < deadline => {
                backoff(&mut delay)
            }
            Err(e) => return Err(io_at(dir)(e)),
        }
    }
}

/// Collect the pids in `dir`'s `cgroup.procs` and those of its descendants.
fn collect_procs(dir: &Path, top: bool, out: &mut Vec<i32>) -> Result<()> {
    let path = dir.join("cgroup.procs");
    let text = match fs::read_to_string(&path) {
        Ok(t) => t,
        // A descendant may vanish while we walk.
        Err(e) if !top && e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io_at(&path)(e)),
    };
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        out.push(line.parse().map_err(|_| CgroupError::Parse {
            path: path.clone(),
            content: line.to_string(),
        })?);
    }
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if !top && e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io_at(dir)(e)),
    };
    for entry in entries {
        let entry = entry.map_err(io_at(dir))?;
        if entry.file_type().map_err(io_at(dir))?.is_dir() {
            collect_procs(&entry.path(), false, out)?;
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// The cgroup

/// A v2 mount root and the controllers it offers.
struct V2Root {
    root: PathBuf,
    controllers: Vec<String>,
}

/// One container's cgroup: a directory per hierarchy on v1, one on v2.
///
/// The value is only a handle; dropping it changes nothing on the system.
/// Call [`Cgroup::destroy`] to remove the directories.
#[derive(Clone, Debug)]
pub struct Cgroup {
    version: Version,
    /// The path below each hierarchy's root.
    rel: PathBuf,
    dirs: Vec<PathBuf>,
    /// Index into `dirs` of the directory for each controller, when present.
    memory: Option<usize>,
    pids: Option<usize>,
    cpu: Option<usize>,
    /// CPU accounting: v1's cpuacct (often co-mounted with cpu), v2's core.
    cpuacct: Option<usize>,
    freezer: Option<usize>,
    devices: Option<usize>,
    /// Block I/O accounting: v1's blkio, v2's io.
    blkio: Option<usize>,
    cpuset: Option<usize>,
    hugetlb: Option<usize>,
    /// v1 hierarchies of [`V1_ON_DEMAND`] controllers, not (yet) among
    /// `dirs`: controller, mount point.
    on_demand: Vec<(&'static str, PathBuf)>,
    /// `<dir>/cgroup.procs` of every dir, prepared for [`Cgroup::add_self`].
    procs_files: Vec<CString>,
    /// Where missing controllers were looked for (for error messages).
    source: PathBuf,
}

impl Cgroup {
    /// The handle for the cgroup at `rel` below each hierarchy's root
    /// under the current layout, touching nothing.
    fn layout_for(rel: &Path) -> Result<(Cgroup, Option<V2Root>)> {
        validate_path(rel)?;
        let mut cg = Cgroup {
            version: Version::V1,
            rel: rel.to_path_buf(),
            dirs: Vec::new(),
            memory: None,
            pids: None,
            cpu: None,
            cpuacct: None,
            freezer: None,
            devices: None,
            blkio: None,
            cpuset: None,
            hugetlb: None,
            on_demand: Vec::new(),
            procs_files: Vec::new(),
            source: PathBuf::from(MOUNTINFO),
        };
        let v2 = match layout()? {
            Layout::V2 { root, controllers } => {
                cg.version = Version::V2;
                cg.dirs.push(root.join(rel));
                let has = |c: &str| controllers.iter().any(|x| x == c).then_some(0);
                cg.memory = has("memory");
                cg.pids = has("pids");
                cg.cpu = has("cpu");
                cg.blkio = has("io");
                cg.cpuset = has("cpuset");
                cg.hugetlb = has("hugetlb");
                // The v2 freezer and cpu.stat are part of the core.
                cg.freezer = Some(0);
                cg.cpuacct = Some(0);
                cg.source = root.join("cgroup.controllers");
                Some(V2Root { root, controllers })
            }
            Layout::V1 { mounts } => {
                for (controller, point) in mounts {
                    if V1_ON_DEMAND.contains(&controller) {
                        cg.on_demand.push((controller, point));
                        continue;
                    }
                    let dir = point.join(rel);
                    let idx = match cg.dirs.iter().position(|d| *d == dir) {
                        Some(i) => i,
                        None => {
                            cg.dirs.push(dir);
                            cg.dirs.len() - 1
                        }
                    };
                    match controller {
                        "memory" => cg.memory = Some(idx),
                        "pids" => cg.pids = Some(idx),
                        "cpu" => cg.cpu = Some(idx),
                        "cpuacct" => cg.cpuacct = Some(idx),
                        "freezer" => cg.freezer = Some(idx),
                        "devices" => cg.devices = Some(idx),
                        "blkio" => cg.blkio = Some(idx),
                        _ => {}
                    }
                }
                None
            }
        };
        cg.procs_files = cg
            .dirs
            .iter()
            .map(|d| procs_file(d))
            .collect::<Result<_>>()?;
        Ok((cg, v2))
    }

    /// Make the v1 hierarchy of the on-demand `controller` one of this
    /// cgroup's (a no-op on v2, or when it is one already or not mounted).
    fn take_on_demand(&mut self, controller: &str) -> Result<()> {
        let Some(i) = self.on_demand.iter().position(|(c, _)| *c == controller) else {
            return Ok(());
        };
        let (c, point) = self.on_demand.remove(i);
        let dir = point.join(&self.rel);
        self.procs_files.push(procs_file(&dir)?);
        self.dirs.push(dir);
        let idx = Some(self.dirs.len() - 1);
        match c {
            "cpuset" => self.cpuset = idx,
            _ => self.hugetlb = idx,
        }
        Ok(())
    }

    /// The directory of `controller` (as [`Tune::controller`] names it).
    fn dir_for(&self, controller: &str) -> Option<&Path> {
        let idx = match controller {
            "memory" => self.memory,
            "cpu" => self.cpu,
            "blkio" | "io" => self.blkio,
            "cpuset" => self.cpuset,
            "hugetlb" => self.hugetlb,
            _ => None,
        };
        idx.map(|i| self.dirs[i].as_path())
    }

    /// Write `tuning` ([`Tune`]), each in its controller's directory.
    fn apply_tuning(&self, tuning: &[Tune]) -> Result<()> {
        if self.version == Version::V1 && self.cpuset.is_some() {
            let point = self.dirs[self.cpuset.unwrap_or(0)]
                .ancestors()
                .nth(self.rel.components().count())
                .unwrap_or(Path::new("/"));
            tune::fill_cpusets(point, &self.rel)?;
        }
        for t in tuning {
            let controller = t.controller(self.version);
            let Some(dir) = self.dir_for(controller) else {
                return Err(CgroupError::NotOffered {
                    field: t.field(),
                    what: format!("the {controller} cgroup controller is not mounted"),
                });
            };
            tune::apply(t, self.version, dir)?;
        }
        Ok(())
    }

    fn missing(&self, controller: &'static str) -> CgroupError {
        CgroupError::MissingController {
            controller,
            path: self.source.clone(),
        }
    }

    fn dir_of(&self, idx: Option<usize>, controller: &'static str) -> Result<&Path> {
        idx.map(|i| self.dirs[i].as_path())
            .ok_or_else(|| self.missing(controller))
    }

    /// Weigh the CPU time of this cgroup's processes against their
    /// siblings' with `shares` (the OCI spec's and docker's `--cpu-shares`):
    /// v1 `cpu.shares`, v2 `cpu.weight` converted as runc converts it.
    pub fn set_cpu_shares(&self, shares: u64) -> Result<()> {
        let dir = self.dir_of(self.cpu, "cpu")?;
        match self.version {
            Version::V1 => write_file(&dir.join("cpu.shares"), &shares.to_string()),
            Version::V2 => write_file(&dir.join("cpu.weight"), &cpu_weight(shares).to_string()),
        }
    }

    /// [`Cgroup::create_with_devices`] with docker's default device
    /// policy, [`devices::DEFAULT`].
    pub fn create(name: &str, limits: &Limits) -> Result<Cgroup, CgroupError> {
        Self::create_with_devices(name, limits, devices::DEFAULT)
    }

    /// `cairn/<name>`, the path below each hierarchy's root of cairn's
    /// cgroup called `name`.
    fn named(name: &str) -> Result<PathBuf> {
        validate_name(name)?;
        Ok(Path::new(PARENT).join(name))
    }

    /// [`Cgroup::create_at`] `cairn/<name>`.
    pub fn create_with_devices(
        name: &str,
        limits: &Limits,
        rules: &[Rule],
    ) -> Result<Cgroup, CgroupError> {
        Self::create_at(&Self::named(name)?, limits, rules, &[])
    }

    /// Create `<mount>/<rel>` (`rel` a relative path of names, such as
    /// `cairn/<name>` or an OCI runtime's `docker/<id>`) in every hierarchy
    /// used, with the directories above it (v2: one directory, after
    /// enabling `+memory +pids +cpu` where available in the
    /// `subtree_control` of the mount root and of each directory above it),
    /// apply `limits`
    /// and the device policy `rules` (such as [`devices::DEFAULT`], or
    /// [`devices::ALLOW_ALL`] for a privileged container), all before any
    /// process joins. Fails with [`CgroupError::AlreadyExists`] if a
    /// directory of that name exists, and with
    /// [`CgroupError::MissingController`] if a limit or a restricting
    /// device policy needs a controller the system lacks. On failure,
    /// nothing this call created is left behind (except the directories
    /// above it, which other cgroups may share).
    pub fn create_at(
        rel: &Path,
        limits: &Limits,
        rules: &[Rule],
        tuning: &[Tune],
    ) -> Result<Cgroup, CgroupError> {
        let (mut cg, v2) = Self::layout_for(rel)?;
        for t in tuning {
            cg.take_on_demand(t.controller(Version::V1))?;
        }
        let cg = cg;
        let quota = limits.cpus.map(cpu_quota).transpose()?;
        let tuned = |c: &str| tuning.iter().any(|t| t.controller(cg.version) == c);
        let required = [
            (
                "memory",
                cg.memory,
                limits.memory.is_some() || tuned("memory"),
            ),
            ("pids", cg.pids, limits.pids.is_some()),
            ("cpu", cg.cpu, quota.is_some() || tuned("cpu")),
            ("io", cg.blkio, tuned("io")),
            ("cpuset", cg.cpuset, tuned("cpuset")),
            ("hugetlb", cg.hugetlb, tuned("hugetlb")),
        ];
        for (controller, idx, needed) in required {
            if needed && idx.is_none() && !tuned(controller) {
                return Err(cg.missing(controller));
            }
        }
        let policy = Policy::from_rules(rules);
        let unrestricted = policy.default_allow && policy.exceptions.is_empty();
        if cg.version == Version::V1 && cg.devices.is_none() && !unrestricted {
            return Err(cg.missing("devices"));
        }

        let mut created: Vec<&Path> = Vec::new();
        let result = (|| {
            if let Some(V2Root { root, controllers }) = &v2 {
                let wanted: Vec<(&str, bool)> = required
                    .iter()
                    .filter(|(c, _, _)| controllers.iter().any(|x| x == c))
                    .map(|&(c, _, needed)| (c, needed))
                    .collect();
                // each directory from the root down hands the controllers on
                let mut dir = root.clone();
                enable_controllers(&dir, &wanted)?;
                for c in rel.parent().map(Path::components).into_iter().flatten() {
                    dir.push(c);
                    mkdir_exist_ok(&dir)?;
                    enable_controllers(&dir, &wanted)?;
                }
            }
            for dir in &cg.dirs {
                if let Some(parent) = dir.parent() {
                    fs::create_dir_all(parent).map_err(io_at(parent))?;
                }
                match mkdir(dir) {
                    Ok(()) => created.push(dir),
                    Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                        return Err(CgroupError::AlreadyExists { path: dir.clone() })
                    }
                    Err(e) => return Err(io_at(dir)(e)),
                }
            }
            cg.apply(limits, quota)?;
            cg.apply_tuning(tuning)?;
            cg.apply_devices(rules, &policy, unrestricted)
        })();
        if let Err(e) = result {
            for dir in created.iter().rev() {
                let _ = fs::remove_dir(dir);
            }
            return Err(e);
        }
        Ok(cg)
    }

    /// The file interface of this cgroup's version.
    fn files(&self) -> &'static dyn Files {
        match self.version {
            Version::V1 => &V1,
            Version::V2 => &V2,
        }
    }

    fn apply(&self, limits: &Limits, quota: Option<u64>) -> Result<()> {
        if let Some(bytes) = limits.memory {
            let dir = self.dir_of(self.memory, "memory")?;
            self.files().set_memory(dir, bytes, limits.memory_swap)?;
        }
        if let Some(n) = limits.pids {
            let dir = self.dir_of(self.pids, "pids")?;
            write_file(&dir.join("pids.max"), &n.to_string())?;
        }
        if let Some(q) = quota {
            self.files()
                .set_cpu_quota(self.dir_of(self.cpu, "cpu")?, q)?;
        }
        Ok(())
    }

    /// On v1 write `rules` to the devices controller, one line per write
    /// (the kernel folds them as [`Policy::from_rules`] does); on v2 attach
    /// `policy` as a device program, unless it restricts nothing.
    fn apply_devices(&self, rules: &[Rule], policy: &Policy, unrestricted: bool) -> Result<()> {
        let dir = match self.version {
            Version::V1 => self.devices.map(|i| self.dirs[i].as_path()),
            Version::V2 => self.dirs.first().map(PathBuf::as_path),
        };
        match dir {
            Some(dir) => self.files().set_devices(dir, rules, policy, unrestricted),
            None => Ok(()),
        }
    }

    /// The existing cgroup called `name` (`cairn/<name>`), if any of its
    /// directories exist (a partly destroyed one included, so that it can
    /// be destroyed).
    pub fn open(name: &str) -> Result<Option<Cgroup>, CgroupError> {
        Self::open_at(&Self::named(name)?)
    }

    /// As [`Cgroup::open`], the cgroup at `rel` below each hierarchy's root.
    pub fn open_at(rel: &Path) -> Result<Option<Cgroup>, CgroupError> {
        let (mut cg, _) = Self::layout_for(rel)?;
        for (c, point) in cg.on_demand.clone() {
            if point.join(rel).is_dir() {
                cg.take_on_demand(c)?;
            }
        }
        let mut any = false;
        for dir in &cg.dirs {
            match fs::symlink_metadata(dir) {
                Ok(m) if m.is_dir() => any = true,
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(io_at(dir)(e)),
            }
        }
        Ok(any.then_some(cg))
    }

    /// Which interface this cgroup uses.
    pub fn version(&self) -> Version {
        self.version
    }

    /// Where the cgroup is below each hierarchy's root (`cairn/<name>`).
    pub fn path(&self) -> &Path {
        &self.rel
    }

    /// The directories this cgroup owns: one on v2; on v1 one per hierarchy
    /// used (memory, pids, cpu, cpuacct, freezer, devices; co-mounted
    /// controllers share one).
    pub fn dirs(&self) -> &[PathBuf] {
        &self.dirs
    }

    /// Move process `pid` (all its threads) into the cgroup, in every
    /// hierarchy.
    pub fn add(&self, pid: i32) -> Result<(), CgroupError> {
        let value = pid.to_string();
        for dir in &self.dirs {
            write_file(&dir.join("cgroup.procs"), &value)?;
        }
        Ok(())
    }

    /// Move the calling process into the cgroup, in every hierarchy.
    ///
    /// Async-signal-safe: it allocates nothing (the paths are prepared when
    /// the handle is made) and uses only `open`, `write` and `close`, so it
    /// may be called in a child between `fork` and `exec`, e.g. from
    /// [`std::os::unix::process::CommandExt::pre_exec`] with a clone of the
    /// handle, so that the program is limited before it can fork.
    pub fn add_self(&self) -> Result<(), Errno> {
        for path in &self.procs_files {
            let fd = nix::fcntl::open(
                path.as_c_str(),
                OFlag::O_WRONLY | OFlag::O_CLOEXEC,
                Mode::empty(),
            )?;
            // "0" means the writing process.
            if nix::unistd::write(&fd, b"0")? != 1 {
                return Err(Errno::EIO);
            }
        }
        Ok(())
    }

    /// The pids of the processes in the cgroup and in any cgroups below it,
    /// sorted. Read from the pids hierarchy on v1 (else the freezer's, else
    /// the first), from the one directory on v2.
    pub fn procs(&self) -> Result<Vec<i32>, CgroupError> {
        let idx = self.pids.or(self.freezer).unwrap_or(0);
        let Some(dir) = self.dirs.get(idx) else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        collect_procs(dir, true, &mut out)?;
        out.sort_unstable();
        out.dedup();
        Ok(out)
    }

    /// Freeze every process and wait until the kernel reports the cgroup
    /// frozen (v1 `freezer.state` FROZEN; v2 `cgroup.freeze` 1 and
    /// `cgroup.events` "frozen 1"). After a few seconds without that, thaw
    /// again and fail with [`CgroupError::Timeout`].
    pub fn freeze(&self) -> Result<(), CgroupError> {
        self.freeze_within(FREEZE_TIMEOUT)
    }

    fn freeze_within(&self, timeout: Duration) -> Result<()> {
        let dir = self.dir_of(self.freezer, "freezer")?;
        let deadline = Instant::now() + timeout;
        let mut delay = Duration::from_millis(1);
        let files = self.files();
        loop {
            // Writing again retries (v1) tasks that were forking.
            files.request_freeze(dir, true)?;
            if files.is_frozen(dir)? {
                return Ok(());
            }
            if Instant::now() >= deadline {
                let _ = files.request_freeze(dir, false);
                let (path, what) = files.frozen_evidence(dir);
                return Err(CgroupError::Timeout { path, what });
            }
            backoff(&mut delay);
        }
    }

    /// Let the processes run again.
    pub fn thaw(&self) -> Result<(), CgroupError> {
        self.files()
            .request_freeze(self.dir_of(self.freezer, "freezer")?, false)
    }

    /// Whether the kernel reports the cgroup frozen (v1 FREEZING counts as
    /// not frozen). `false` on v1 without a freezer hierarchy.
    pub fn is_frozen(&self) -> Result<bool, CgroupError> {
        match self.freezer {
            Some(i) => self.files().is_frozen(&self.dirs[i]),
            None => Ok(false),
        }
    }

    /// Send `sig` to every process in the cgroup (and in cgroups below it).
    ///
    /// SIGKILL on v2 writes `cgroup.kill` when the kernel has it. Otherwise
    /// the member processes are signalled one by one, re-reading the list
    /// until no new pid appears; for SIGKILL on v1 the cgroup is frozen
    /// first (so nothing forks in between) and thawed afterwards, which is
    /// also what lets an already frozen v1 cgroup die. Processes that exit
    /// meanwhile (`ESRCH`) are not an error.
    pub fn signal_all(&self, sig: Signal) -> Result<(), CgroupError> {
        let first = self.dirs.first();
        if sig == Signal::SIGKILL && first.map_or(Ok(false), |d| self.files().kill_all(d))? {
            return Ok(());
        }
        if sig == Signal::SIGKILL && self.version == Version::V1 && self.freezer.is_some() {
            if !self.is_frozen()? {
                // Best effort: a cgroup that will not freeze is killed anyway.
                let _ = self.freeze_within(KILL_FREEZE_TIMEOUT);
            }
            let sent = self.signal_each(sig);
            let thawed = self.thaw();
            sent?;
            return thawed;
        }
        self.signal_each(sig)
    }

    fn signal_each(&self, sig: Signal) -> Result<()> {
        let mut sent = HashSet::new();
        let mut first_err = None;
        // Bounded: a cgroup forking faster than we read gets a pids limit.
        for _ in 0..100 {
            let fresh: Vec<i32> = self
                .procs()?
                .into_iter()
                .filter(|p| !sent.contains(p))
                .collect();
            if fresh.is_empty() {
                break;
            }
            for pid in fresh {
                sent.insert(pid);
                match kill(Pid::from_raw(pid), sig) {
                    Ok(()) | Err(Errno::ESRCH) => {}
                    Err(source) => {
                        first_err.get_or_insert(CgroupError::Signal {
                            pid,
                            signal: sig,
                            source,
                        });
                    }
                }
            }
        }
        first_err.map_or(Ok(()), Err)
    }

    /// Remove the directories (and any cgroups below them), retrying for up
    /// to about two seconds while the kernel still counts exiting processes
    /// (`EBUSY`). Directories already gone are fine, so this is idempotent.
    /// All directories are attempted; the first error is returned.
    pub fn destroy(&self) -> Result<(), CgroupError> {
        let deadline = Instant::now() + DESTROY_TIMEOUT;
        let mut first_err = None;
        for dir in self.dirs.iter().rev() {
            if let Err(e) = remove_tree(dir, deadline) {
                first_err.get_or_insert(e);
            }
        }
        first_err.map_or(Ok(()), Err)
    }

    /// What the cgroup's processes use now, as `docker stats` reads it;
    /// a figure whose controller is missing is absent.
    pub fn usage(&self) -> Result<Usage, CgroupError> {
        let mut u = Usage::default();
        if let Some(i) = self.cpuacct {
            u.cpu_ns = Some(self.files().cpu_ns(&self.dirs[i])?);
        }
        if let Some(i) = self.memory {
            let (used, limit) = self.files().memory(&self.dirs[i])?;
            u.memory = Some(used);
            u.memory_limit = limit;
        }
        if let Some(i) = self.blkio {
            let dir = &self.dirs[i];
            let files = match self.version {
                Version::V2 => vec![dir.join("io.stat")],
                Version::V1 => vec![
                    dir.join("blkio.io_service_bytes_recursive"),
                    dir.join("blkio.throttle.io_service_bytes_recursive"),
                ],
            };
            // v1: the scheduler's file when it counts, else the throttle's
            u.block_io = files
                .iter()
                .filter_map(|f| fs::read_to_string(f).ok())
                .map(|t| parse_block_io(&t))
                .find(|&(r, w)| r + w > 0)
                .or(Some((0, 0)));
        }
        if let Some(i) = self.pids {
            let path = self.dirs[i].join("pids.current");
            let text = read_file(&path)?;
            u.pids = Some(text.trim().parse().map_err(|_| CgroupError::Parse {
                path,
                content: text.clone(),
            })?);
        }
        Ok(u)
    }

    /// Whether the memory controller recorded an OOM kill in this cgroup
    /// (v1 `memory.oom_control` oom_kill > 0 or under_oom 1; v2
    /// `memory.events` oom_kill > 0), e.g. to report an exit by SIGKILL as
    /// out-of-memory. Call it before [`Cgroup::destroy`]. `false` without a
    /// memory controller.
    pub fn oom_killed(&self) -> Result<bool, CgroupError> {
        match self.memory {
            Some(i) => self.files().oom_killed(&self.dirs[i]),
            None => Ok(false),
        }
    }
}

// ---------------------------------------------------------------------------
// The two kernel interfaces

/// What differs between cgroup v1 and v2 for one cgroup directory: the
/// files a setting lives in and their formats. Everything else (which
/// directories, membership, the process list, removal) is the same code.
trait Files: Sync {
    /// Cap memory at `bytes`, and memory plus swap at `swap` (-1: no
    /// bound; none: `bytes`) where the kernel accounts for swap.
    fn set_memory(&self, dir: &Path, bytes: u64, swap: Option<i64>) -> Result<()>;
    /// `quota` microseconds of CPU per [`CPU_PERIOD_US`].
    fn set_cpu_quota(&self, dir: &Path, quota: u64) -> Result<()>;
    /// Apply the device policy (`dir` is the devices hierarchy's on v1).
    fn set_devices(
        &self,
        dir: &Path,
        rules: &[Rule],
        policy: &Policy,
        unrestricted: bool,
    ) -> Result<()>;
    /// Ask the kernel to freeze (`true`) or thaw the cgroup.
    fn request_freeze(&self, dir: &Path, frozen: bool) -> Result<()>;
    /// Whether the kernel reports the cgroup frozen, all tasks included.
    fn is_frozen(&self, dir: &Path) -> Result<bool>;
    /// The file and value that say "frozen" (for a timeout's message).
    fn frozen_evidence(&self, dir: &Path) -> (PathBuf, &'static str);
    /// Kill every process at once if the kernel can (`Ok(false)`: it
    /// cannot, signal them one by one).
    fn kill_all(&self, dir: &Path) -> Result<bool>;
    /// Whether the memory controller recorded an OOM kill.
    fn oom_killed(&self, dir: &Path) -> Result<bool>;
    /// CPU time used, in nanoseconds (`dir`: v1's cpuacct).
    fn cpu_ns(&self, dir: &Path) -> Result<u64>;
    /// Memory in use less the inactive page cache, and the limit.
    fn memory(&self, dir: &Path) -> Result<(u64, Option<u64>)>;
}

/// `usage` less the inactive file cache named `key` in `dir/memory.stat`.
fn less_inactive(dir: &Path, usage: u64, key: &str) -> Result<u64> {
    let path = dir.join("memory.stat");
    let inactive = keyed(&path, &read_file(&path)?, key)?.unwrap_or(0);
    Ok(if inactive < usage {
        usage - inactive
    } else {
        usage
    })
}

/// cgroup v1: a hierarchy per controller.
struct V1;
/// cgroup v2: one unified hierarchy.
struct V2;

impl Files for V1 {
    fn set_memory(&self, dir: &Path, bytes: u64, swap: Option<i64>) -> Result<()> {
        // The memory limit first: memsw may never be below it.
        write_file(&dir.join("memory.limit_in_bytes"), &bytes.to_string())?;
        let memsw = dir.join("memory.memsw.limit_in_bytes");
        if memsw.exists() {
            let total = swap.map_or(bytes.to_string(), |s| s.to_string());
            write_file(&memsw, &total)?;
        }
        Ok(())
    }
    fn set_cpu_quota(&self, dir: &Path, quota: u64) -> Result<()> {
        write_file(&dir.join("cpu.cfs_period_us"), &CPU_PERIOD_US.to_string())?;
        write_file(&dir.join("cpu.cfs_quota_us"), &quota.to_string())
    }
    fn set_devices(&self, dir: &Path, rules: &[Rule], _: &Policy, _: bool) -> Result<()> {
        for rule in rules {
            let (file, line) = rule.v1_line();
            write_file(&dir.join(file), &line)?;
        }
        Ok(())
    }
    fn request_freeze(&self, dir: &Path, frozen: bool) -> Result<()> {
        let state = if frozen { "FROZEN" } else { "THAWED" };
        write_file(&dir.join("freezer.state"), state)
    }
    fn is_frozen(&self, dir: &Path) -> Result<bool> {
        Ok(read_file(&dir.join("freezer.state"))?.trim() == "FROZEN")
    }
    fn frozen_evidence(&self, dir: &Path) -> (PathBuf, &'static str) {
        (dir.join("freezer.state"), "FROZEN")
    }
    fn kill_all(&self, _: &Path) -> Result<bool> {
        Ok(false)
    }
    fn oom_killed(&self, dir: &Path) -> Result<bool> {
        let path = dir.join("memory.oom_control");
        let text = read_file(&path)?;
        Ok(keyed(&path, &text, "oom_kill")?.unwrap_or(0) > 0
            || keyed(&path, &text, "under_oom")? == Some(1))
    }
    fn cpu_ns(&self, dir: &Path) -> Result<u64> {
        Ok(number(&dir.join("cpuacct.usage"))?.unwrap_or(0))
    }
    fn memory(&self, dir: &Path) -> Result<(u64, Option<u64>)> {
        let usage = number(&dir.join("memory.usage_in_bytes"))?.unwrap_or(0);
        // v1 says "unlimited" with a huge page-aligned number
        let limit = number(&dir.join("memory.limit_in_bytes"))?.filter(|&l| l < 1 << 62);
        Ok((less_inactive(dir, usage, "total_inactive_file")?, limit))
    }
}

impl Files for V2 {
    fn set_memory(&self, dir: &Path, bytes: u64, swap: Option<i64>) -> Result<()> {
        write_file(&dir.join("memory.max"), &bytes.to_string())?;
        let file = dir.join("memory.swap.max");
        if file.exists() {
            // v2 bounds swap alone: memory plus swap, less the memory (runc's
            // conversion of OCI's memory.swap)
            let value = match swap {
                Some(-1) => "max".to_string(),
                Some(s) => (s.max(0) as u64).saturating_sub(bytes).to_string(),
                None => "0".to_string(),
            };
            write_file(&file, &value)?;
        }
        Ok(())
    }
    fn set_cpu_quota(&self, dir: &Path, quota: u64) -> Result<()> {
        write_file(&dir.join("cpu.max"), &format!("{quota} {CPU_PERIOD_US}"))
    }
    fn set_devices(
        &self,
        dir: &Path,
        _: &[Rule],
        policy: &Policy,
        unrestricted: bool,
    ) -> Result<()> {
        if unrestricted {
            return Ok(());
        }
        Ok(devices::attach(dir, policy)?)
    }
    fn request_freeze(&self, dir: &Path, frozen: bool) -> Result<()> {
        write_file(&dir.join("cgroup.freeze"), if frozen { "1" } else { "0" })
    }
    fn is_frozen(&self, dir: &Path) -> Result<bool> {
        let path = dir.join("cgroup.events");
        let text = read_file(&path)?;
        Ok(keyed(&path, &text, "frozen")? == Some(1))
    }
    fn frozen_evidence(&self, dir: &Path) -> (PathBuf, &'static str) {
        (dir.join("cgroup.events"), "frozen 1")
    }
    fn kill_all(&self, dir: &Path) -> Result<bool> {
        let kill_file = dir.join("cgroup.kill");
        if !kill_file.exists() {
            return Ok(false);
        }
        write_file(&kill_file, "1")?;
        Ok(true)
    }
    fn oom_killed(&self, dir: &Path) -> Result<bool> {
        let path = dir.join("memory.events");
        let text = match fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(io_at(&path)(e)),
        };
        Ok(keyed(&path, &text, "oom_kill")?.unwrap_or(0) > 0)
    }
    fn cpu_ns(&self, dir: &Path) -> Result<u64> {
        let path = dir.join("cpu.stat");
        let usec = keyed(&path, &read_file(&path)?, "usage_usec")?;
        Ok(usec.unwrap_or(0) * 1000)
    }
    fn memory(&self, dir: &Path) -> Result<(u64, Option<u64>)> {
        let usage = number(&dir.join("memory.current"))?.unwrap_or(0);
        let limit = number(&dir.join("memory.max"))?;
        Ok((less_inactive(dir, usage, "inactive_file")?, limit))
    }
}

/// `dir/cgroup.procs`, ready for [`Cgroup::add_self`].
fn procs_file(dir: &Path) -> Result<CString> {
    CString::new(dir.join("cgroup.procs").as_os_str().as_bytes()).map_err(|_| CgroupError::Parse {
        path: PathBuf::from(MOUNTINFO),
        content: dir.display().to_string(),
    })
}

/// Enable `wanted` controllers (name, required) in `dir`'s
/// `cgroup.subtree_control`. A failure is an error only for a required one.
fn enable_controllers(dir: &Path, wanted: &[(&str, bool)]) -> Result<()> {
    let path = dir.join("cgroup.subtree_control");
    let current = read_file(&path)?;
    for &(controller, required) in wanted {
        if current.split_whitespace().any(|c| c == controller) {
            continue;
        }
        match write_file(&path, &format!("+{controller}")) {
            Err(e) if required => return Err(e),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::{CommandExt, ExitStatusExt};
    use std::process::{Child, Command, Stdio};
    use std::sync::atomic::{AtomicUsize, Ordering};

    static COUNTER: AtomicUsize = AtomicUsize::new(0);

    fn unique(tag: &str) -> String {
        format!(
            "test-{tag}-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        )
    }

    /// Kills, reaps and removes everything, even when an assertion fails.
    struct Guard {
        cg: Cgroup,
        children: Vec<Child>,
    }

    impl Drop for Guard {
        fn drop(&mut self) {
            let _ = self.cg.signal_all(Signal::SIGKILL);
            for c in &mut self.children {
                let _ = c.kill();
                let _ = c.wait();
            }
            let _ = self.cg.destroy();
        }
    }

    fn file(cg: &Cgroup, idx: Option<usize>, name: &str) -> PathBuf {
        cg.dirs[idx.expect("controller present")].join(name)
    }

    fn read(path: &Path) -> String {
        fs::read_to_string(path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            .trim()
            .to_string()
    }

    /// Spawn `cmd` already inside `cg` (joined between fork and exec).
    fn spawn_inside(cg: &Cgroup, cmd: &mut Command) -> Child {
        let joiner = cg.clone();
        // SAFETY: add_self is async-signal-safe (no allocation, only
        // open/write/close), and io::Error::from(Errno) does not allocate.
        unsafe {
            cmd.pre_exec(move || joiner.add_self().map_err(io::Error::from));
        }
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn")
    }

    fn wait_timeout(child: &mut Child, timeout: Duration) -> std::process::ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(st) = child.try_wait().expect("try_wait") {
                return st;
            }
            assert!(Instant::now() < deadline, "child did not exit in time");
            sleep(Duration::from_millis(10));
        }
    }

    #[test]
    fn cgroup_names_are_validated() {
        for bad in ["", ".", "..", "a/b", "../x", "a b", "x\0y", "é", "/abs"] {
            assert!(
                matches!(validate_name(bad), Err(CgroupError::InvalidName { .. })),
                "{bad:?} accepted"
            );
            assert!(matches!(
                Cgroup::create(bad, &Limits::default()),
                Err(CgroupError::InvalidName { .. })
            ));
            assert!(matches!(
                Cgroup::open(bad),
                Err(CgroupError::InvalidName { .. })
            ));
        }
        for good in ["a", "abc-DEF_1.2", "...", ".x", "x.."] {
            validate_name(good).unwrap();
        }
        for bad in ["", "/", "/docker/x", "a/../b", "../x", "a/b c", "a/é"] {
            assert!(
                matches!(
                    validate_path(Path::new(bad)),
                    Err(CgroupError::InvalidPath { .. })
                ),
                "{bad:?} accepted"
            );
        }
        for good in ["docker/abc", "cairn/a/b.c", "a//b/", "x"] {
            validate_path(Path::new(good)).unwrap();
        }
    }

    #[test]
    fn cgroup_mountinfo_unescape() {
        assert_eq!(unescape(r"/a\040b\134c\011"), PathBuf::from("/a b\\c\t"));
        assert_eq!(unescape(r"/x\04"), PathBuf::from(r"/x\04"));
    }

    #[test]
    fn cgroup_detect_matches_handles() {
        let v = detect().unwrap();
        let name = unique("detect");
        let g = Guard {
            cg: Cgroup::create(&name, &Limits::default()).unwrap(),
            children: Vec::new(),
        };
        assert_eq!(g.cg.version(), v);
        match v {
            Version::V2 => assert_eq!(g.cg.dirs().len(), 1),
            Version::V1 => {
                assert!(g.cg.memory.is_some() && g.cg.pids.is_some() && g.cg.freezer.is_some());
                let mut d = g.cg.dirs().to_vec();
                d.sort();
                d.dedup();
                assert_eq!(d.len(), g.cg.dirs().len(), "dirs are distinct");
            }
        }
        for d in g.cg.dirs() {
            assert!(d.is_dir(), "{}", d.display());
            assert!(d.ends_with(Path::new(PARENT).join(&name)));
        }
    }

    #[test]
    fn cgroup_device_policy_is_applied() {
        let name = unique("devices");
        let g = Guard {
            cg: Cgroup::create(&name, &Limits::default()).unwrap(),
            children: Vec::new(),
        };
        let privileged = Guard {
            cg: Cgroup::create_with_devices(
                &unique("devall"),
                &Limits::default(),
                devices::ALLOW_ALL,
            )
            .unwrap(),
            children: Vec::new(),
        };
        match g.cg.version() {
            Version::V1 => {
                // The kernel's own list: what the rules folded to.
                let list = read(&file(&g.cg, g.cg.devices, "devices.list"));
                let lines: Vec<&str> = list.lines().collect();
                let want: Vec<String> = devices::DEFAULT
                    .iter()
                    .filter(|r| r.allow)
                    .map(|r| r.v1_line().1)
                    .collect();
                assert_eq!(lines, want);
                let all = read(&file(&privileged.cg, privileged.cg.devices, "devices.list"));
                assert_eq!(all, "a *:* rwm");
            }
            // The program itself is tested in `devices`; here it loaded.
            Version::V2 => {}
        }
    }

    #[test]
    fn cgroup_invalid_cpus_rejected() {
        for cpus in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            let name = unique("cpus");
            let r = Cgroup::create(
                &name,
                &Limits {
                    cpus: Some(cpus),
                    ..Limits::default()
                },
            );
            assert!(matches!(r, Err(CgroupError::InvalidLimit { .. })), "{cpus}");
            assert!(Cgroup::open(&name).unwrap().is_none());
        }
    }

    #[test]
    fn cgroup_create_twice_is_already_exists_and_open_finds_it() {
        let name = unique("twice");
        let g = Guard {
            cg: Cgroup::create(&name, &Limits::default()).unwrap(),
            children: Vec::new(),
        };
        match Cgroup::create(&name, &Limits::default()) {
            Err(CgroupError::AlreadyExists { path }) => assert!(g.cg.dirs().contains(&path)),
            other => panic!("expected AlreadyExists, got {other:?}"),
        }
        // The failed create must not have removed the existing dirs.
        for d in g.cg.dirs() {
            assert!(d.is_dir(), "{}", d.display());
        }
        let opened = Cgroup::open(&name).unwrap().expect("exists");
        assert_eq!(opened.dirs(), g.cg.dirs());
        g.cg.destroy().unwrap();
        g.cg.destroy().unwrap(); // idempotent
        assert!(Cgroup::open(&name).unwrap().is_none());
    }

    #[test]
    fn cgroup_limits_membership_freeze_kill_destroy() {
        let name = unique("life");
        // memory plus swap twice the memory, docker's default for -m
        let limits = Limits {
            memory: Some(32 << 20),
            memory_swap: Some(64 << 20),
            pids: Some(16),
            cpus: Some(0.5),
        };
        let mut g = Guard {
            cg: Cgroup::create(&name, &limits).unwrap(),
            children: Vec::new(),
        };
        let cg = g.cg.clone();

        match cg.version() {
            Version::V1 => {
                assert_eq!(
                    read(&file(&cg, cg.memory, "memory.limit_in_bytes")),
                    "33554432"
                );
                let memsw = file(&cg, cg.memory, "memory.memsw.limit_in_bytes");
                if memsw.exists() {
                    assert_eq!(read(&memsw), "67108864");
                }
                assert_eq!(read(&file(&cg, cg.cpu, "cpu.cfs_period_us")), "100000");
                assert_eq!(read(&file(&cg, cg.cpu, "cpu.cfs_quota_us")), "50000");
            }
            Version::V2 => {
                assert_eq!(read(&file(&cg, cg.memory, "memory.max")), "33554432");
                let swap = file(&cg, cg.memory, "memory.swap.max");
                if swap.exists() {
                    assert_eq!(read(&swap), "33554432");
                }
                assert_eq!(read(&file(&cg, cg.cpu, "cpu.max")), "50000 100000");
            }
        }
        assert_eq!(read(&file(&cg, cg.pids, "pids.max")), "16");

        let child = Command::new("sleep")
            .arg("30")
            .stdin(Stdio::null())
            .spawn()
            .expect("spawn sleep");
        let pid = child.id() as i32;
        g.children.push(child);
        cg.add(pid).unwrap();
        assert_eq!(cg.procs().unwrap(), vec![pid]);
        for d in cg.dirs() {
            let procs = read(&d.join("cgroup.procs"));
            assert_eq!(procs, pid.to_string(), "{}", d.display());
        }

        assert!(!cg.is_frozen().unwrap());
        cg.freeze().unwrap();
        assert!(cg.is_frozen().unwrap());
        cg.thaw().unwrap();
        assert!(!cg.is_frozen().unwrap());

        // Kill while frozen: signal_all must still make it die.
        cg.freeze().unwrap();
        cg.signal_all(Signal::SIGKILL).unwrap();
        let st = wait_timeout(&mut g.children[0], Duration::from_secs(5));
        assert_eq!(st.signal(), Some(libc::SIGKILL));
        assert!(!cg.oom_killed().unwrap());

        cg.destroy().unwrap();
        for d in cg.dirs() {
            assert!(!d.exists(), "{} still exists", d.display());
        }
        assert!(Cgroup::open(&name).unwrap().is_none());
    }

    #[test]
    fn cgroup_pids_limit_stops_a_fork_loop() {
        let name = unique("pids");
        let limits = Limits {
            pids: Some(8),
            ..Limits::default()
        };
        let mut g = Guard {
            cg: Cgroup::create(&name, &limits).unwrap(),
            children: Vec::new(),
        };
        let cg = g.cg.clone();
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "for i in $(seq 40); do sleep 5 & done; wait"]);
        g.children.push(spawn_inside(&cg, &mut cmd));

        let start = Instant::now();
        let mut most = 0;
        while start.elapsed() < Duration::from_millis(800) {
            let n = cg.procs().unwrap().len();
            assert!(n <= 8, "{n} processes in a pids.max=8 cgroup");
            most = most.max(n);
            sleep(Duration::from_millis(20));
        }
        assert!(most >= 2, "the loop never ran inside the cgroup");
        // The kernel counted refused forks.
        let events = file(&cg, cg.pids, "pids.events");
        let text = read(&events);
        assert!(
            keyed(&events, &text, "max").unwrap().unwrap_or(0) > 0,
            "pids.events: {text}"
        );

        cg.signal_all(Signal::SIGKILL).unwrap();
        wait_timeout(&mut g.children[0], Duration::from_secs(5));
        cg.destroy().unwrap();
        for d in cg.dirs() {
            assert!(!d.exists(), "{} still exists", d.display());
        }
    }

    #[test]
    fn cgroup_memory_limit_oom_kills() {
        let name = unique("oom");
        let limits = Limits {
            memory: Some(16 << 20),
            ..Limits::default()
        };
        let mut g = Guard {
            cg: Cgroup::create(&name, &limits).unwrap(),
            children: Vec::new(),
        };
        let cg = g.cg.clone();
        assert!(!cg.oom_killed().unwrap());
        // tail keeps every byte of a newline-free input: it grows until killed.
        let mut cmd = Command::new("tail");
        cmd.arg("/dev/zero");
        g.children.push(spawn_inside(&cg, &mut cmd));
        let st = wait_timeout(&mut g.children[0], Duration::from_secs(20));
        assert_eq!(st.signal(), Some(libc::SIGKILL), "{st:?}");
        assert!(cg.oom_killed().unwrap());
        cg.destroy().unwrap();
    }
}
