//! The OCI runtime spec of a container (oci-spec's `runtime::Spec`, the
//! document runc reads as config.json), made the way docker makes it.
//!
//! [`defaults`] is docker's hardening for a container that is not
//! privileged: docker's default capabilities in the bounding, effective and
//! permitted sets (inheritable and ambient empty), `noNewPrivileges`, new
//! mount, pid, uts, ipc, cgroup and network namespaces, /proc, a tmpfs /dev
//! with devpts, shm and mqueue, a read-only /sys, the masked and read-only
//! paths, the device allow-list, a pids limit of
//! [`DEFAULT_PIDS_LIMIT`](super::config::DEFAULT_PIDS_LIMIT) and docker's
//! seccomp profile. [`Options::build`] adds one container to it: its root,
//! hostname, process, user (resolved beforehand with [`resolve_user`]),
//! network, privilege and limits. [`super::process::spawn`] runs such a
//! spec, and [`super::process::spawn_into`] one whose namespaces are all
//! joined ([`join_namespaces`]), so what a container gets is read from one
//! document whoever wrote it.
//!
//! Two choices differ from docker's and are cairn's own: `noNewPrivileges`
//! is on for every unprivileged container (docker only with
//! `--security-opt no-new-privileges`), and no cgroup file system is
//! mounted at /sys/fs/cgroup.

use super::caps;
use super::cgroup::{self, CgroupError, Limits, Throttle, Tune};
use super::config::{Ident, UserError, DEFAULT_PIDS_LIMIT};
use super::devices::{self, access, Kind, Rule};
use oci_spec::runtime::{
    Capabilities, LinuxCapabilities, LinuxCpu, LinuxDeviceCgroup, LinuxDeviceType, LinuxMemory,
    LinuxNamespace, LinuxNamespaceType, LinuxPids, LinuxResources, Mount, Process, Root, User,
};
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};

/// What a runtime spec asks for and cairn does not do: refused by name
/// before anything starts, never silently ignored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unsupported {
    #[error("the spec has no {0} section")]
    Missing(&'static str),
    #[error("{0} is not supported")]
    Field(&'static str),
    #[error("a {0} namespace is not supported")]
    Namespace(String),
    #[error("a process in a running container joins its {0} namespace: give its path")]
    JoinWithoutPath(String),
    #[error("a new container needs a mount namespace of its own (joining one is not supported)")]
    SharedNamespaces,
    #[error("a hostname needs a new uts namespace")]
    HostnameWithoutUts,
    #[error("the cwd {0:?} is not an absolute UTF-8 path")]
    Cwd(PathBuf),
    #[error("mount destination {0:?} must be an absolute path below the root")]
    MountDestination(PathBuf),
    #[error("a mount of type {fstype} (on {destination:?}) is not supported")]
    MountType {
        fstype: String,
        destination: PathBuf,
    },
    #[error("mount option {0:?} is not supported")]
    MountOption(String),
    #[error("device rule of type {0} is not supported")]
    DeviceType(String),
    #[error("device number {0} is out of range")]
    DeviceNumber(i64),
    #[error("device access {0:?} is not r, w or m")]
    DeviceAccess(char),
    #[error("linux.seccomp: {0}")]
    Seccomp(String),
    #[error("sysctl {0:?} is not one of the container's own namespaces: leave it out")]
    Sysctl(String),
    #[error("linux.rootfsPropagation {0:?} is not private, slave, shared or unbindable (r…)")]
    RootfsPropagation(String),
    #[error("linux.personality: {0}")]
    Personality(String),
    #[error("linux.devices: {path:?}: {what}")]
    DeviceNode { path: PathBuf, what: &'static str },
    #[error("linux.resources.{0} is not supported: leave it out (or zero)")]
    Resource(&'static str),
    #[error("{field}: {what}")]
    IdMap { field: &'static str, what: String },
    #[error("joining a user namespace by path ({0:?}) is not supported for a new container: leave the path out and give linux.uidMappings and gidMappings")]
    JoinUserNamespace(PathBuf),
}

pub use oci_spec::runtime::Spec;

/// The version of the runtime spec the documents made here follow.
pub const OCI_VERSION: &str = "1.0.2";

/// Paths of /proc and /sys hidden from the container (moby's defaults).
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

/// Paths of /proc the container may read but not write (moby's defaults).
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

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn mount(destination: &str, typ: &str, source: &str, options: &[&str]) -> Mount {
    let mut m = Mount::default();
    m.set_destination(destination.into())
        .set_typ(Some(typ.into()))
        .set_source(Some(source.into()))
        .set_options(Some(strings(options)));
    m
}

/// A bind mount of the host's `source` (a directory or a file) on
/// `destination`, as docker makes one for a volume: recursive, with
/// `propagation` (`rprivate`, docker's default, or `rslave`), and
/// read-only when `readonly`. The destination is resolved inside the
/// container's root and made there when missing.
pub fn bind_mount(source: &Path, destination: &str, readonly: bool, propagation: &str) -> Mount {
    let mut options = vec!["rbind", propagation];
    if readonly {
        options.push("ro");
    }
    let mut m = mount(destination, "bind", "", &options);
    m.set_source(Some(source.to_path_buf()));
    m
}

/// A tmpfs on `destination` with docker's options for `--tmpfs`
/// (`nosuid`, `nodev`, `noexec`), then `options` (mount(8)'s: `size=64m`,
/// `mode=1777`, `exec`, `ro`, ...).
pub fn tmpfs_mount(destination: &str, options: &[String]) -> Mount {
    let mut m = mount(
        destination,
        "tmpfs",
        "tmpfs",
        &["nosuid", "nodev", "noexec"],
    );
    let mut all = m.options().clone().unwrap_or_default();
    all.extend(options.iter().cloned());
    m.set_options(Some(all));
    m
}

/// docker's mounts (without its cgroup file system), in the order they
/// are made; /sys read-only unless `privileged`.
fn mounts(privileged: bool) -> Vec<Mount> {
    let nse = ["nosuid", "noexec", "nodev"];
    let sys: &[&str] = if privileged {
        &["nosuid", "noexec", "nodev", "rw"]
    } else {
        &["nosuid", "noexec", "nodev", "ro"]
    };
    vec![
        mount("/proc", "proc", "proc", &nse),
        mount(
            "/dev",
            "tmpfs",
            "tmpfs",
            &["nosuid", "strictatime", "mode=755", "size=65536k"],
        ),
        mount(
            "/dev/pts",
            "devpts",
            "devpts",
            &[
                "nosuid",
                "noexec",
                "newinstance",
                "ptmxmode=0666",
                "mode=0620",
                "gid=5",
            ],
        ),
        mount(
            "/dev/shm",
            "tmpfs",
            "shm",
            &["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"],
        ),
        mount("/dev/mqueue", "mqueue", "mqueue", &nse),
        mount("/sys", "sysfs", "sysfs", sys),
    ]
}

fn namespace(typ: LinuxNamespaceType, path: Option<PathBuf>) -> LinuxNamespace {
    let mut ns = LinuxNamespace::default();
    ns.set_typ(typ).set_path(path);
    ns
}

/// The namespaces of a new container on `net`: the network one is new,
/// joined by path, or absent (the host's).
fn namespaces(net: &Net) -> Vec<LinuxNamespace> {
    use LinuxNamespaceType::*;
    let mut v: Vec<LinuxNamespace> = [Mount, Pid, Uts, Ipc, Cgroup]
        .into_iter()
        .map(|t| namespace(t, None))
        .collect();
    match net {
        Net::Loopback => v.push(namespace(Network, None)),
        Net::Join(p) => v.push(namespace(Network, Some(p.clone()))),
        Net::Host => {}
    }
    v
}

/// The five capability sets: `caps` in bounding, effective and permitted
/// (only bounding for a user other than root, as the kernel leaves such a
/// user none), inheritable and ambient empty (CVE-2022-24769).
fn capabilities(caps: &[u32], root: bool) -> LinuxCapabilities {
    let set = caps::to_spec(caps);
    let held = if root {
        set.clone()
    } else {
        Capabilities::new()
    };
    let mut c = LinuxCapabilities::default();
    c.set_bounding(Some(set))
        .set_effective(Some(held.clone()))
        .set_permitted(Some(held))
        .set_inheritable(Some(Capabilities::new()))
        .set_ambient(Some(Capabilities::new()));
    c
}

fn device_rule(r: &Rule) -> LinuxDeviceCgroup {
    let mut d = LinuxDeviceCgroup::default();
    let typ = match r.kind {
        Kind::All => LinuxDeviceType::A,
        Kind::Char => LinuxDeviceType::C,
        Kind::Block => LinuxDeviceType::B,
    };
    let bits = [
        (access::READ, 'r'),
        (access::WRITE, 'w'),
        (access::MKNOD, 'm'),
    ];
    let acc: String = bits
        .iter()
        .filter(|(b, _)| r.access & b != 0)
        .map(|(_, c)| *c)
        .collect();
    d.set_allow(r.allow)
        .set_typ(Some(typ))
        .set_major(r.major.map(i64::from))
        .set_minor(r.minor.map(i64::from))
        .set_access(Some(acc));
    d
}

/// The device rules of `spec`'s `linux.resources.devices`, in order; none
/// (every device allowed) when it has no list. A rule the cgroup cannot
/// express is an error naming it.
pub fn device_rules(spec: &Spec) -> Result<Vec<Rule>, Unsupported> {
    let Some(list) = resources(spec).and_then(|r| r.devices().as_ref()) else {
        return Ok(devices::ALLOW_ALL.to_vec());
    };
    list.iter()
        .map(|d| {
            let kind = match d.typ() {
                None | Some(LinuxDeviceType::A) => Kind::All,
                Some(LinuxDeviceType::C) | Some(LinuxDeviceType::U) => Kind::Char,
                Some(LinuxDeviceType::B) => Kind::Block,
                Some(t) => return Err(Unsupported::DeviceType(format!("{t:?}"))),
            };
            let num = |n: Option<i64>| match n {
                None | Some(-1) => Ok(None),
                Some(n) => u32::try_from(n)
                    .map(Some)
                    .map_err(|_| Unsupported::DeviceNumber(n)),
            };
            let mut bits = 0;
            for c in d.access().as_deref().unwrap_or("rwm").chars() {
                bits |= match c {
                    'r' => access::READ,
                    'w' => access::WRITE,
                    'm' => access::MKNOD,
                    _ => return Err(Unsupported::DeviceAccess(c)),
                };
            }
            Ok(Rule {
                allow: d.allow(),
                kind,
                major: num(d.major())?,
                minor: num(d.minor())?,
                access: bits,
            })
        })
        .collect()
}

/// Refuse a `linux.resources` field cairn does not apply, set to what is
/// not its default: memory, pids, CPU quota and period and the device
/// rules are applied ([`limits`], [`device_rules`]), CPU shares too
/// ([`cpu_shares`]), and what [`tuning`] reads; memory.swap is applied
/// with the memory limit, as runc does (none: no swap beyond it).
pub fn check_resources(spec: &Spec) -> Result<(), Unsupported> {
    let Some(r) = resources(spec) else {
        return Ok(());
    };
    let nonzero = |v: Option<u64>| v.is_some_and(|v| v != 0);
    let m = r.memory().as_ref();
    let c = r.cpu().as_ref();
    let empty = |v: Option<usize>| v.unwrap_or(0) == 0;
    let asked = [
        (
            m.and_then(|m| m.kernel()).is_some_and(|v| v > 0),
            "memory.kernel",
        ),
        (
            m.and_then(|m| m.disable_oom_killer()) == Some(true),
            "memory.disableOOMKiller",
        ),
        (c.and_then(|c| c.idle()).is_some_and(|v| v != 0), "cpu.idle"),
        (nonzero(c.and_then(|c| c.burst())), "cpu.burst"),
        (r.network().is_some(), "network"),
        (!empty(r.rdma().as_ref().map(|m| m.len())), "rdma"),
        (!empty(r.unified().as_ref().map(|m| m.len())), "unified"),
    ];
    match asked.into_iter().find(|(set, _)| *set) {
        Some((_, what)) => Err(Unsupported::Resource(what)),
        None => Ok(()),
    }
}

/// The settings of `spec`'s `linux.resources` beyond [`limits`] and
/// [`cpu_shares`] that are set (docker's zero blkio weight is its
/// default: none), in runc's order (realtime period before runtime).
pub fn tuning(spec: &Spec) -> Vec<Tune> {
    let Some(r) = resources(spec) else {
        return Vec::new();
    };
    let mut v = Vec::new();
    if let Some(c) = r.cpu() {
        let set = |s: &Option<String>| s.clone().filter(|s| !s.is_empty());
        v.extend(set(c.cpus()).map(Tune::Cpus));
        v.extend(set(c.mems()).map(Tune::Mems));
        v.extend(c.realtime_period().filter(|p| *p != 0).map(Tune::RtPeriod));
        v.extend(
            c.realtime_runtime()
                .filter(|p| *p != 0)
                .map(Tune::RtRuntime),
        );
    }
    if let Some(m) = r.memory() {
        v.extend(
            m.reservation()
                .filter(|b| *b > 0)
                .map(Tune::MemoryReservation),
        );
        v.extend(m.swappiness().map(Tune::Swappiness));
        v.extend(m.kernel_tcp().filter(|b| *b > 0).map(Tune::KernelTcp));
    }
    if let Some(b) = r.block_io() {
        v.extend(b.weight().filter(|w| *w != 0).map(Tune::BlkioWeight));
        v.extend(
            b.leaf_weight()
                .filter(|w| *w != 0)
                .map(Tune::BlkioLeafWeight),
        );
        v.extend(
            b.weight_device()
                .iter()
                .flatten()
                .map(|d| Tune::WeightDevice {
                    major: d.major(),
                    minor: d.minor(),
                    weight: d.weight(),
                    leaf: d.leaf_weight(),
                }),
        );
        let lists = [
            (Throttle::ReadBps, b.throttle_read_bps_device()),
            (Throttle::WriteBps, b.throttle_write_bps_device()),
            (Throttle::ReadIops, b.throttle_read_iops_device()),
            (Throttle::WriteIops, b.throttle_write_iops_device()),
        ];
        for (which, list) in lists {
            v.extend(list.iter().flatten().map(|d| Tune::Throttle {
                which,
                major: d.major(),
                minor: d.minor(),
                rate: d.rate(),
            }));
        }
    }
    v.extend(
        r.hugepage_limits()
            .iter()
            .flatten()
            .map(|h| Tune::Hugepage {
                size: h.page_size().clone(),
                limit: u64::try_from(h.limit()).unwrap_or(0),
            }),
    );
    v
}

fn resources(spec: &Spec) -> Option<&LinuxResources> {
    spec.linux().as_ref()?.resources().as_ref()
}

/// The CPU shares of `spec`'s `linux.resources`; docker's 0 is none.
pub fn cpu_shares(spec: &Spec) -> Option<u64> {
    resources(spec)?.cpu().as_ref()?.shares().filter(|s| *s > 0)
}

/// The memory, pids and CPU limits of `spec`'s `linux.resources`. A pids
/// limit of 0 or below is none, as runc reads it.
pub fn limits(spec: &Spec) -> Limits {
    let r = resources(spec);
    let m = r.and_then(|r| r.memory().as_ref());
    let memory = m
        .and_then(|m| m.limit())
        .and_then(|l| u64::try_from(l).ok());
    // 0 (or absent) is none, as runc reads it
    let memory_swap = m.and_then(|m| m.swap()).filter(|s| *s == -1 || *s > 0);
    let pids = r
        .and_then(|r| r.pids().as_ref())
        .and_then(|p| u64::try_from(p.limit()).ok())
        .filter(|n| *n > 0);
    let cpus = r.and_then(|r| r.cpu().as_ref()).and_then(|c| {
        let quota = u64::try_from(c.quota()?).ok()?;
        Some(quota as f64 / c.period().unwrap_or(cgroup::CPU_PERIOD) as f64)
    });
    Limits {
        memory,
        memory_swap,
        pids,
        cpus,
    }
}

/// docker's resources: its device allow-list (or every device when
/// `privileged`) and the default pids limit.
fn default_resources(privileged: bool) -> LinuxResources {
    let rules = if privileged {
        devices::ALLOW_ALL
    } else {
        devices::DEFAULT
    };
    let mut pids = LinuxPids::default();
    pids.set_limit(DEFAULT_PIDS_LIMIT as i64);
    let mut r = LinuxResources::default();
    r.set_devices(Some(rules.iter().map(device_rule).collect()))
        .set_pids(Some(pids));
    r
}

/// docker's spec for a container that is not privileged, without a
/// command: root user, `/` as working directory, the default PATH, a new
/// network namespace with only loopback.
pub fn defaults() -> Spec {
    let mut process = Process::default();
    process
        .set_terminal(Some(false))
        .set_console_size(None)
        .set_user(User::default())
        .set_args(None)
        .set_env(Some(vec![format!("PATH={}", super::config::DEFAULT_PATH)]))
        .set_cwd("/".into())
        .set_capabilities(Some(capabilities(&caps::DEFAULT_CAPS, true)))
        .set_rlimits(None)
        .set_no_new_privileges(Some(true))
        .set_oom_score_adj(None);
    let mut root = Root::default();
    root.set_path("rootfs".into()).set_readonly(Some(false));
    let mut linux = oci_spec::runtime::Linux::default();
    linux
        .set_uid_mappings(None)
        .set_gid_mappings(None)
        .set_sysctl(None)
        .set_resources(Some(default_resources(false)))
        .set_namespaces(Some(namespaces(&Net::Loopback)))
        .set_devices(None)
        .set_masked_paths(Some(strings(MASKED_PATHS)))
        .set_readonly_paths(Some(strings(READONLY_PATHS)))
        .set_seccomp(Some(super::seccomp::default_spec_here().clone()));
    let mut spec = Spec::default();
    spec.set_version(OCI_VERSION.into())
        .set_root(Some(root))
        .set_hostname(None)
        .set_mounts(Some(mounts(false)))
        .set_process(Some(process))
        .set_annotations(None)
        .set_linux(Some(linux));
    spec
}

/// One container's settings, the rest of its spec being [`defaults`].
#[derive(Debug, Clone)]
pub struct Options {
    /// The mounted union view, as the host sees it.
    pub rootfs: PathBuf,
    pub hostname: String,
    pub args: Vec<String>,
    /// The environment; `HOME` is added from the user's entry when absent.
    pub env: Vec<String>,
    /// The working directory (made absolute).
    pub cwd: String,
    pub user: Ident,
    pub net: Net,
    /// All capabilities, every device, no seccomp filter, no masked paths
    /// and a writable /sys.
    pub privileged: bool,
    pub limits: Limits,
    /// fd 0 is a terminal to become the controlling terminal.
    pub terminal: bool,
    /// The cgroup, relative to the hierarchy's root (`/cairn/NAME`).
    pub cgroups_path: Option<PathBuf>,
}

impl Options {
    /// The spec: [`defaults`] with these settings. Fails only on a CPU
    /// limit the kernel cannot take.
    pub fn build(&self) -> Result<Spec, CgroupError> {
        let mut spec = defaults();
        let mut env = self.env.clone();
        if !env.iter().any(|e| e.starts_with("HOME=")) {
            env.push(format!("HOME={}", self.user.home));
        }
        let mut user = User::default();
        user.set_uid(self.user.uid)
            .set_gid(self.user.gid)
            .set_additional_gids(Some(self.user.groups.clone()));
        let caps = if self.privileged {
            caps::all()
        } else {
            caps::DEFAULT_CAPS.to_vec()
        };
        if let Some(p) = spec.process_mut() {
            p.set_args(Some(self.args.clone()))
                .set_env(Some(env))
                .set_cwd(absolute(&self.cwd).into())
                .set_user(user)
                .set_terminal(Some(self.terminal))
                .set_capabilities(Some(capabilities(&caps, self.user.uid == 0)))
                .set_no_new_privileges(Some(!self.privileged));
        }
        if let Some(r) = spec.root_mut() {
            r.set_path(self.rootfs.clone());
        }
        spec.set_hostname(Some(self.hostname.clone()))
            .set_mounts(Some(mounts(self.privileged)));
        let resources = self.resources()?;
        if let Some(l) = spec.linux_mut() {
            l.set_namespaces(Some(namespaces(&self.net)))
                .set_resources(Some(resources))
                .set_cgroups_path(self.cgroups_path.clone());
            if self.privileged {
                l.set_masked_paths(Some(Vec::new()))
                    .set_readonly_paths(Some(Vec::new()))
                    .set_seccomp(None);
            } else {
                let mut masked = strings(MASKED_PATHS);
                masked.extend(thermal_throttle());
                l.set_masked_paths(Some(masked));
            }
        }
        Ok(spec)
    }

    fn resources(&self) -> Result<LinuxResources, CgroupError> {
        let mut r = default_resources(self.privileged);
        let mut pids = LinuxPids::default();
        // none: unlimited, as runc reads -1
        pids.set_limit(self.limits.pids.map_or(-1, |n| n as i64));
        r.set_pids(Some(pids));
        if let Some(bytes) = self.limits.memory {
            let mut m = LinuxMemory::default();
            // memory plus swap (-1: unbounded); none: no swap beyond the limit
            let swap = self.limits.memory_swap.unwrap_or(bytes as i64);
            m.set_limit(Some(bytes as i64)).set_swap(Some(swap));
            r.set_memory(Some(m));
        }
        if let Some(cpus) = self.limits.cpus {
            let mut c = LinuxCpu::default();
            c.set_quota(Some(cgroup::cpu_quota(cpus)? as i64))
                .set_period(Some(cgroup::CPU_PERIOD));
            r.set_cpu(Some(c));
        }
        Ok(r)
    }
}

fn absolute(cwd: &str) -> String {
    if cwd.starts_with('/') {
        cwd.to_string()
    } else {
        format!("/{cwd}")
    }
}

/// The host's per-CPU thermal_throttle directories, which moby masks too.
fn thermal_throttle() -> Vec<String> {
    let Ok(rd) = std::fs::read_dir("/sys/devices/system/cpu") else {
        return Vec::new();
    };
    let mut v: Vec<String> = rd
        .flatten()
        .map(|e| e.path().join("thermal_throttle"))
        .filter(|p| p.exists())
        .map(|p| p.display().to_string())
        .collect();
    v.sort();
    v
}

/// Point every namespace of `spec` at the one of the running process
/// `pid` (`/proc/PID/ns/...`): the spec of a process started in a running
/// container (`exec`). Its user namespace is joined only when it is not
/// the caller's own (a container made with uid and gid mappings).
pub fn join_namespaces(spec: &mut Spec, pid: i32) {
    use LinuxNamespaceType::*;
    let joined = [User, Cgroup, Ipc, Uts, Network, Pid, Mount]
        .into_iter()
        .map(|t| namespace(t, Some(format!("/proc/{pid}/ns/{t}").into())))
        .collect();
    if let Some(l) = spec.linux_mut() {
        l.set_namespaces(Some(joined));
    }
}

/// Resolve `user` (`USER[:GROUP]` as an image config writes it, "" for
/// root) against the passwd and group files of the root file system at
/// `root`, read the way a hostile image cannot abuse
/// ([`super::config::read_db`]).
pub fn resolve_user(root: &Path, user: &str) -> Result<Ident, UserError> {
    use nix::fcntl::OFlag;
    let dir = nix::fcntl::open(
        root,
        OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )
    .map_err(|source| UserError::Open {
        path: root.display().to_string(),
        source,
    })?;
    let passwd = super::config::read_db(dir.as_fd(), "/etc/passwd")?;
    let group = super::config::read_db(dir.as_fd(), "/etc/group")?;
    super::config::resolve_user(user, &passwd, &group)
}

#[cfg(test)]
mod tests {
    use super::*;
    use oci_spec::runtime::Capability;

    fn options() -> Options {
        Options {
            rootfs: "/r".into(),
            hostname: "h".into(),
            args: vec!["sh".into()],
            env: vec!["PATH=/bin".into()],
            cwd: "work".into(),
            user: Ident {
                uid: 0,
                gid: 0,
                groups: vec![0],
                home: "/root".into(),
            },
            net: Net::Loopback,
            privileged: false,
            limits: Limits {
                pids: Some(DEFAULT_PIDS_LIMIT),
                ..Limits::default()
            },
            terminal: false,
            cgroups_path: Some("/cairn/c".into()),
        }
    }

    fn ns(spec: &Spec) -> Vec<(String, Option<PathBuf>)> {
        let l = spec.linux().as_ref().unwrap();
        l.namespaces()
            .iter()
            .flatten()
            .map(|n| (n.typ().to_string(), n.path().clone()))
            .collect()
    }

    fn caps_of(spec: &Spec) -> LinuxCapabilities {
        let p = spec.process().as_ref().unwrap();
        p.capabilities().clone().unwrap()
    }

    #[test]
    fn a_default_container_is_dockers() {
        let spec = options().build().unwrap();
        let p = spec.process().as_ref().unwrap();
        assert_eq!(p.args().as_deref(), Some(&["sh".to_string()][..]));
        assert_eq!(
            p.env().as_deref(),
            Some(&["PATH=/bin".to_string(), "HOME=/root".to_string()][..])
        );
        assert_eq!(p.cwd(), Path::new("/work"));
        assert_eq!((p.user().uid(), p.user().gid()), (0, 0));
        assert_eq!(p.no_new_privileges(), Some(true));
        assert_eq!(p.terminal(), Some(false));
        let c = caps_of(&spec);
        let docker = caps::to_spec(&caps::DEFAULT_CAPS);
        assert_eq!(c.bounding().as_ref(), Some(&docker));
        assert_eq!(c.effective().as_ref(), Some(&docker));
        assert_eq!(c.permitted().as_ref(), Some(&docker));
        assert!(c.inheritable().as_ref().unwrap().is_empty());
        assert!(c.ambient().as_ref().unwrap().is_empty());
        assert!(!docker.contains(&Capability::SysAdmin));
        assert_eq!(spec.hostname().as_deref(), Some("h"));
        let root = spec.root().as_ref().unwrap();
        assert_eq!(
            (root.path().as_path(), root.readonly()),
            (Path::new("/r"), Some(false))
        );
        let dest: Vec<_> = spec
            .mounts()
            .iter()
            .flatten()
            .map(|m| {
                (
                    m.destination().display().to_string(),
                    m.typ().clone().unwrap(),
                )
            })
            .collect();
        let dest: Vec<_> = dest.iter().map(|(d, t)| (d.as_str(), t.as_str())).collect();
        assert_eq!(
            dest,
            [
                ("/proc", "proc"),
                ("/dev", "tmpfs"),
                ("/dev/pts", "devpts"),
                ("/dev/shm", "tmpfs"),
                ("/dev/mqueue", "mqueue"),
                ("/sys", "sysfs"),
            ]
        );
        let sys = spec.mounts().as_ref().unwrap().last().unwrap();
        assert!(sys.options().as_ref().unwrap().contains(&"ro".to_string()));
        let names: Vec<_> = ns(&spec)
            .into_iter()
            .map(|(t, p)| (t, p.is_none()))
            .collect();
        let want: Vec<_> = ["mnt", "pid", "uts", "ipc", "cgroup", "net"]
            .iter()
            .map(|t| (t.to_string(), true))
            .collect();
        assert_eq!(names, want);
        let l = spec.linux().as_ref().unwrap();
        let masked = l.masked_paths().as_ref().unwrap();
        assert_eq!(masked[..MASKED_PATHS.len()], strings(MASKED_PATHS));
        assert_eq!(
            l.readonly_paths().as_ref().unwrap(),
            &strings(READONLY_PATHS)
        );
        assert_eq!(l.cgroups_path().as_deref(), Some(Path::new("/cairn/c")));
        assert_eq!(
            l.seccomp().as_ref(),
            Some(super::super::seccomp::default_spec_here())
        );
        assert_eq!(device_rules(&spec).unwrap(), devices::DEFAULT);
        let lim = limits(&spec);
        assert_eq!((lim.memory, lim.pids, lim.cpus), (None, Some(2048), None));
    }

    #[test]
    fn a_privileged_container_has_everything() {
        let spec = Options {
            privileged: true,
            ..options()
        }
        .build()
        .unwrap();
        let c = caps_of(&spec);
        let all = caps::to_spec(&caps::all());
        assert_eq!(c.bounding().as_ref(), Some(&all));
        assert_eq!(c.effective().as_ref(), Some(&all));
        assert_eq!(c.permitted().as_ref(), Some(&all));
        assert!(c.inheritable().as_ref().unwrap().is_empty());
        let p = spec.process().as_ref().unwrap();
        assert_eq!(p.no_new_privileges(), Some(false));
        let l = spec.linux().as_ref().unwrap();
        assert!(l.seccomp().is_none());
        assert!(l.masked_paths().as_ref().unwrap().is_empty());
        assert!(l.readonly_paths().as_ref().unwrap().is_empty());
        assert_eq!(device_rules(&spec).unwrap(), devices::ALLOW_ALL);
        let sys = spec.mounts().as_ref().unwrap().last().unwrap();
        assert!(!sys.options().as_ref().unwrap().contains(&"ro".to_string()));
    }

    #[test]
    fn the_network_is_new_the_hosts_or_joined() {
        let host = Options {
            net: Net::Host,
            ..options()
        }
        .build()
        .unwrap();
        assert!(ns(&host).iter().all(|(t, _)| t != "net"));
        assert_eq!(ns(&host).len(), 5);
        let joined = Options {
            net: Net::Join("/run/netns/x".into()),
            ..options()
        }
        .build()
        .unwrap();
        assert_eq!(
            ns(&joined).last().unwrap(),
            &("net".to_string(), Some(PathBuf::from("/run/netns/x")))
        );
        let mut exec = options().build().unwrap();
        join_namespaces(&mut exec, 42);
        let got = ns(&exec);
        assert_eq!(got.len(), 7);
        assert_eq!(got[0], ("user".into(), Some("/proc/42/ns/user".into())));
        assert_eq!(got[1], ("cgroup".into(), Some("/proc/42/ns/cgroup".into())));
        assert_eq!(got[6], ("mnt".into(), Some("/proc/42/ns/mnt".into())));
    }

    #[test]
    fn limits_go_into_resources_and_come_back() {
        let spec = Options {
            limits: Limits {
                memory: Some(64 << 20),
                memory_swap: Some(128 << 20),
                pids: None,
                cpus: Some(0.5),
            },
            ..options()
        }
        .build()
        .unwrap();
        let r = resources(&spec).unwrap();
        let m = r.memory().as_ref().unwrap();
        assert_eq!((m.limit(), m.swap()), (Some(64 << 20), Some(128 << 20)));
        assert_eq!(r.pids().as_ref().unwrap().limit(), -1);
        let c = r.cpu().as_ref().unwrap();
        assert_eq!((c.quota(), c.period()), (Some(50_000), Some(100_000)));
        let back = limits(&spec);
        assert_eq!(
            (back.memory, back.memory_swap, back.pids, back.cpus),
            (Some(64 << 20), Some(128 << 20), None, Some(0.5))
        );
        let bad = Options {
            limits: Limits {
                cpus: Some(f64::INFINITY),
                ..Limits::default()
            },
            ..options()
        };
        assert!(bad.build().is_err());
    }

    #[test]
    fn users_by_name_and_by_id() {
        let passwd = "root:x:0:0:root:/root:/bin/sh\nbob:x:1000:1000::/home/bob:/bin/sh\n";
        let group = "root:x:0:\nbob:x:1000:\nwheel:x:10:bob\n";
        let by_name = super::super::config::resolve_user("bob", passwd, group).unwrap();
        let spec = Options {
            user: by_name,
            env: vec![],
            ..options()
        }
        .build()
        .unwrap();
        let p = spec.process().as_ref().unwrap();
        let u = p.user();
        assert_eq!((u.uid(), u.gid()), (1000, 1000));
        assert_eq!(u.additional_gids().as_deref(), Some(&[1000, 10][..]));
        assert_eq!(
            p.env().as_deref(),
            Some(&["HOME=/home/bob".to_string()][..])
        );
        // a user other than root holds no capability, only the bound
        let c = caps_of(&spec);
        assert!(c.effective().as_ref().unwrap().is_empty());
        assert!(c.permitted().as_ref().unwrap().is_empty());
        assert_eq!(
            c.bounding().as_ref().unwrap().len(),
            caps::DEFAULT_CAPS.len()
        );
        let by_id = super::super::config::resolve_user("4242:10", passwd, group).unwrap();
        let spec = Options {
            user: by_id,
            ..options()
        }
        .build()
        .unwrap();
        let u = spec.process().as_ref().unwrap().user().clone();
        assert_eq!((u.uid(), u.gid()), (4242, 10));
        assert_eq!(u.additional_gids().as_deref(), Some(&[10][..]));
    }

    #[test]
    fn resolving_reads_the_roots_own_files() {
        let dir = crate::testutil::TempDir::new("spec-user");
        std::fs::create_dir(dir.path().join("etc")).unwrap();
        std::fs::write(
            dir.path().join("etc/passwd"),
            "root:x:0:0::/root:/bin/sh\nann:x:7:8::/home/ann:/bin/sh\n",
        )
        .unwrap();
        let ann = resolve_user(dir.path(), "ann").unwrap();
        assert_eq!((ann.uid, ann.gid, ann.home.as_str()), (7, 8, "/home/ann"));
        assert!(resolve_user(dir.path(), "bob").is_err());
    }

    /// Every key `runc spec` writes, but `process.rlimits` (cairn sets
    /// none), with the JSON type runc gives it, at the top and one level
    /// down: so runc reads our config.json as it reads its own.
    fn runc_keys(v: &serde_json::Value) -> Vec<(String, u8)> {
        let kind = |v: &serde_json::Value| match v {
            serde_json::Value::Null => 0,
            serde_json::Value::Bool(_) => 1,
            serde_json::Value::Number(_) => 2,
            serde_json::Value::String(_) => 3,
            serde_json::Value::Array(_) => 4,
            serde_json::Value::Object(_) => 5,
        };
        let mut keys = Vec::new();
        for (k, v) in v.as_object().unwrap() {
            keys.push((k.clone(), kind(v)));
            for (k2, v2) in v.as_object().into_iter().flatten() {
                keys.push((format!("{k}.{k2}"), kind(v2)));
            }
        }
        keys
    }

    #[test]
    fn it_is_a_config_json_runc_reads() {
        let spec = options().build().unwrap();
        let text = serde_json::to_string_pretty(&spec).unwrap();
        let back: Spec = serde_json::from_str(&text).unwrap();
        assert_eq!(back, spec);
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        let ours = runc_keys(&v);
        let dir = crate::testutil::TempDir::new("runc-spec");
        let runc = std::process::Command::new("runc")
            .args(["spec", "--bundle"])
            .arg(dir.path())
            .status();
        if runc.is_ok_and(|s| s.success()) {
            let text = std::fs::read_to_string(dir.path().join("config.json")).unwrap();
            let theirs = runc_keys(&serde_json::from_str(&text).unwrap());
            for k in theirs.iter().filter(|(k, _)| k != "process.rlimits") {
                assert!(ours.contains(k), "{k:?} of `runc spec` is not in ours");
            }
        }
        for k in ["linux.seccomp", "linux.cgroupsPath"] {
            assert!(ours.iter().any(|(o, _)| o == k), "{k}");
        }
        assert!(v["process"]["user"]["uid"].is_u64());
        assert!(v["root"]["path"].is_string());
        assert_eq!(v["linux"]["seccomp"]["defaultAction"], "SCMP_ACT_ERRNO");
        let caps = v["process"]["capabilities"]["bounding"].as_array().unwrap();
        assert!(caps.iter().any(|c| c == "CAP_NET_BIND_SERVICE"));
        assert_eq!(
            v["linux"]["resources"]["devices"][0],
            serde_json::json!({"allow": false, "type": "a", "access": "rwm"})
        );
    }
}
