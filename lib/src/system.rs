//! The store and the host as a whole, as `docker info` and `docker system
//! df` report them: counts, the drivers in use, and the space taken.
//!
//! cairn has no daemon: what docker's engine reports of itself is read
//! here from the store and the host, each time it is asked.

use crate::container::{self, ContainerError};
use crate::graph::dir_size;
use crate::isolate::cgroup;
use crate::store::container::Status;
use crate::store::{refs, Store};
use crate::LayerId;

pub mod usage;
use schemars::JsonSchema;
use serde::Serialize;
use std::collections::BTreeSet;
use std::path::PathBuf;

/// What `cairn info` reports. Names are docker's `info` fields in
/// snake_case.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(title = "cairn info record")]
pub struct Info {
    /// The store (docker's "Docker Root Dir").
    pub root: PathBuf,
    pub containers: usize,
    pub running: usize,
    pub paused: usize,
    pub stopped: usize,
    /// Images: distinct tagged images and untagged ones nothing stands on.
    pub images: usize,
    /// Every layer of the store (each one an image in the model).
    pub layers: usize,
    pub volumes: usize,
    /// Always `overlay`: layers are overlayfs lower dirs.
    pub storage_driver: &'static str,
    /// The file system the store is on (`extfs`, `xfs`, `btrfs`, ...).
    pub backing_filesystem: String,
    /// 1 or 2; absent when no cgroup file system is mounted.
    pub cgroup_version: Option<u8>,
    /// Always `cgroupfs`: cairn writes the cgroup files itself.
    pub cgroup_driver: &'static str,
    pub kernel_version: String,
    pub operating_system: String,
    pub os_type: &'static str,
    pub architecture: String,
    pub cpus: usize,
    /// Bytes.
    pub mem_total: u64,
    /// The host's name.
    pub name: String,
    /// Whether cairn runs without root (in its own user namespace).
    pub rootless: bool,
}

/// The images of the store as `info` and `system df` count them: tagged
/// ones and untagged layers no other layer stands on.
pub fn images(store: &Store) -> Result<BTreeSet<LayerId>, ContainerError> {
    let layers = store.layers()?;
    let parents = store.parents_among(&layers);
    let mut out: BTreeSet<LayerId> = refs::list(store)?.iter().map(|r| r.layer).collect();
    out.extend(layers.into_iter().filter(|l| !parents.contains(l)));
    Ok(out)
}

/// What `cairn info` reports, read now.
pub fn info(store: &Store) -> Result<Info, ContainerError> {
    let (mut running, mut paused, mut stopped) = (0, 0, 0);
    let containers = store.containers()?;
    for c in &containers {
        match container::state(store, c)?.status {
            Status::Running | Status::Restarting => running += 1,
            Status::Paused => paused += 1,
            Status::Created | Status::Exited => stopped += 1,
        }
    }
    let uname = nix::sys::utsname::uname().ok();
    let field = |f: fn(&nix::sys::utsname::UtsName) -> &std::ffi::OsStr| {
        uname
            .as_ref()
            .map(|u| f(u).to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    Ok(Info {
        root: store.root().to_path_buf(),
        containers: containers.len(),
        running,
        paused,
        stopped,
        images: images(store)?.len(),
        layers: store.layers()?.len(),
        volumes: crate::volume::list(store).map(|v| v.len()).unwrap_or(0),
        storage_driver: "overlay",
        backing_filesystem: backing_filesystem(store.root()),
        cgroup_version: cgroup::detect().ok().map(|v| match v {
            cgroup::Version::V1 => 1,
            cgroup::Version::V2 => 2,
        }),
        cgroup_driver: "cgroupfs",
        kernel_version: field(|u| u.release()),
        operating_system: operating_system(),
        os_type: "linux",
        architecture: field(|u| u.machine()),
        cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
        mem_total: meminfo_total().unwrap_or(0),
        name: field(|u| u.nodename()),
        rootless: crate::userns::rootless(),
    })
}

/// docker's name for the file system under `path`.
fn backing_filesystem(path: &std::path::Path) -> String {
    use nix::sys::statfs::statfs;
    let Ok(s) = statfs(path) else {
        return String::new();
    };
    match s.filesystem_type().0 as u64 {
        0xEF53 => "extfs",
        0x5846_5342 => "xfs",
        0x9123_683E => "btrfs",
        0x0102_1994 => "tmpfs",
        0x794C_7630 => "overlayfs",
        0x2FC1_2FC1 => "zfs",
        0x6969 => "nfs",
        other => return format!("{other:#x}"),
    }
    .to_string()
}

/// `PRETTY_NAME` of /etc/os-release.
fn operating_system() -> String {
    let text = std::fs::read_to_string("/etc/os-release").unwrap_or_default();
    text.lines()
        .find_map(|l| l.strip_prefix("PRETTY_NAME="))
        .map(|v| v.trim_matches('"').to_string())
        .unwrap_or_default()
}

fn meminfo_total() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// One line of `system df`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, JsonSchema)]
#[schemars(title = "cairn system df record")]
pub struct Usage {
    /// `Images`, `Containers`, `Local Volumes`, `Build Cache`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub total: usize,
    /// Images a container stands on, running containers, volumes a
    /// container mounts.
    pub active: usize,
    /// Bytes.
    pub size: u64,
    /// Bytes a prune could free.
    pub reclaimable: u64,
}

/// The space the store's images, containers and volumes take, as `docker
/// system df`. Build cache is always empty: a build's steps are layers,
/// counted as images.
pub fn df(store: &Store) -> Result<Vec<Usage>, ContainerError> {
    let containers = store.containers()?;
    // layers some container stands on, and the images among them
    let mut needed = BTreeSet::new();
    let (mut c_size, mut c_reclaim, mut running) = (0, 0, 0);
    for c in &containers {
        needed.extend(store.chain(&c.layer)?.into_iter().map(|(l, _)| l));
        let size = dir_size(&store.container_dirs(&c.id).upper);
        c_size += size;
        match container::state(store, c)?.status {
            Status::Running | Status::Paused => running += 1,
            _ => c_reclaim += size,
        }
    }
    let images = images(store)?;
    let (mut i_size, mut i_reclaim) = (0, 0);
    for l in store.layers()? {
        let size = store.layer_info(&l)?.size;
        i_size += size;
        if !needed.contains(&l) {
            i_reclaim += size;
        }
    }
    let volumes = crate::volume::list(store).unwrap_or_default();
    let (mut v_size, mut v_reclaim, mut v_active) = (0, 0, 0);
    for v in &volumes {
        let size = dir_size(&crate::volume::data_dir(store, &v.name));
        v_size += size;
        if crate::volume::users(store, &v.name).is_ok_and(|u| !u.is_empty()) {
            v_active += 1;
        } else {
            v_reclaim += size;
        }
    }
    let row = |kind, total, active, size, reclaimable| Usage {
        kind,
        total,
        active,
        size,
        reclaimable,
    };
    Ok(vec![
        row(
            "Images",
            images.len(),
            images.iter().filter(|l| needed.contains(l)).count(),
            i_size,
            i_reclaim,
        ),
        row("Containers", containers.len(), running, c_size, c_reclaim),
        row("Local Volumes", volumes.len(), v_active, v_size, v_reclaim),
        row("Build Cache", 0, 0, 0, 0),
    ])
}

/// One container's line of `docker stats --no-stream`.
#[derive(Debug, Clone, Serialize, PartialEq, JsonSchema)]
#[schemars(title = "cairn stats record")]
pub struct Stats {
    pub container: crate::ContainerId,
    pub name: String,
    /// Of one CPU: 200 is two CPUs busy (as docker).
    pub cpu_percent: f64,
    /// Bytes in use, less the inactive page cache (as docker).
    pub memory: u64,
    /// The container's memory limit, else the host's memory.
    pub memory_limit: u64,
    pub memory_percent: f64,
    pub pids: u64,
    /// Bytes received and sent on the container's own interfaces (its
    /// network namespace's, loopback left out; 0 on the host's network).
    pub net_rx: u64,
    pub net_tx: u64,
    /// Bytes read from and written to block devices (from the cgroup; 0
    /// where it does not count them).
    pub block_read: u64,
    pub block_write: u64,
}

/// Bytes received and sent, summed over the interfaces of a
/// `/proc/PID/net/dev` other than `lo`.
fn parse_net_dev(text: &str) -> (u64, u64) {
    let (mut rx, mut tx) = (0u64, 0u64);
    for line in text.lines().skip(2) {
        let Some((name, fields)) = line.split_once(':') else {
            continue;
        };
        if name.trim() == "lo" {
            continue;
        }
        let f: Vec<u64> = fields
            .split_whitespace()
            .map(|n| n.parse().unwrap_or(0))
            .collect();
        rx += f.first().copied().unwrap_or(0);
        tx += f.get(8).copied().unwrap_or(0);
    }
    (rx, tx)
}

/// A running container's network traffic, read through its init's
/// `/proc/PID/net/dev` (readable without privileges, so rootless
/// containers report it too). A container on the host's network has no
/// interfaces of its own and reads as zero, as docker's.
fn net_io(store: &Store, c: &crate::store::container::ContainerMeta) -> (u64, u64) {
    let Ok(st) = store.read_state(&c.id) else {
        return (0, 0);
    };
    let Some(pid) = st
        .pid
        .filter(|_| crate::liveness::alive(st.pid, st.pid_start))
    else {
        return (0, 0);
    };
    let ns = |p: &str| std::fs::read_link(format!("/proc/{p}/ns/net")).ok();
    if ns(&pid.to_string()).is_some_and(|n| Some(n) == ns("self")) {
        return (0, 0);
    }
    std::fs::read_to_string(format!("/proc/{pid}/net/dev"))
        .map(|t| parse_net_dev(&t))
        .unwrap_or((0, 0))
}

/// The host's CPU time so far, in nanoseconds (the first line of
/// /proc/stat, as docker's engine reads it).
fn host_cpu_ns() -> u64 {
    let text = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let jiffies: u64 = text
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .skip(1)
        .take(7)
        .filter_map(|f| f.parse::<u64>().ok())
        .sum();
    let hz = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
        .ok()
        .flatten()
        .unwrap_or(100) as u64;
    jiffies * (1_000_000_000 / hz)
}

/// The resource use of `containers` from their cgroups: two readings
/// `interval` apart, CPU % as docker's (the container's CPU time over the
/// host's, times the CPUs). A container without a cgroup (stopped, or
/// rootless) reads as zero but for its network traffic.
pub fn stats(
    store: &Store,
    containers: &[crate::store::container::ContainerMeta],
    interval: std::time::Duration,
) -> Result<Vec<Stats>, ContainerError> {
    let read = || -> Result<(u64, Vec<Option<cgroup::Usage>>), ContainerError> {
        let host = host_cpu_ns();
        let each = containers
            .iter()
            .map(container::usage)
            .collect::<Result<_, _>>()?;
        Ok((host, each))
    };
    let (host0, before) = read()?;
    std::thread::sleep(interval);
    let (host1, after) = read()?;
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    let total = meminfo_total().unwrap_or(0);
    let mut out = Vec::new();
    for ((c, b), a) in containers.iter().zip(before).zip(after) {
        let a = a.unwrap_or_default();
        let cpu = a
            .cpu_ns
            .unwrap_or(0)
            .saturating_sub(b.and_then(|b| b.cpu_ns).unwrap_or(0));
        let host = host1.saturating_sub(host0);
        let limit = a.memory_limit.unwrap_or(total).min(total.max(1));
        let memory = a.memory.unwrap_or(0);
        let (net_rx, net_tx) = net_io(store, c);
        let (block_read, block_write) = a.block_io.unwrap_or((0, 0));
        out.push(Stats {
            container: c.id,
            name: c.name.clone(),
            cpu_percent: if host > 0 {
                cpu as f64 / host as f64 * cpus * 100.0
            } else {
                0.0
            },
            memory,
            memory_limit: limit,
            memory_percent: if limit > 0 {
                memory as f64 / limit as f64 * 100.0
            } else {
                0.0
            },
            pids: a.pids.unwrap_or(0),
            net_rx,
            net_tx,
            block_read,
            block_write,
        });
    }
    Ok(out)
}

/// What `cairn version` reports.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(title = "cairn version record")]
pub struct Version {
    pub version: String,
    /// The commit cairn was built from, when the build knew it.
    pub git_commit: Option<String>,
    pub rust_version: String,
    pub os: String,
    /// As Go names it (`amd64`, `arm64`).
    pub arch: String,
}

fn schema<T: JsonSchema>(name: &str) -> (String, String) {
    let schema = schemars::schema_for!(T);
    let mut text = serde_json::to_string_pretty(&schema).expect("a schema serializes");
    text.push('\n');
    (format!("{name}.schema.json"), text)
}

/// The schemas of what `info`, `version`, `system df [-v]` and `stats`
/// print when piped: (file name, JSON text), kept in docs/ beside the
/// record kinds'.
pub fn schemas() -> Vec<(String, String)> {
    vec![
        schema::<Info>("info"),
        schema::<Version>("version"),
        schema::<Usage>("df"),
        schema::<usage::Line>("df-verbose"),
        schema::<Stats>("stats"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn net_dev_sums_all_but_loopback() {
        let text = "Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:     500       5    0    0    0     0          0         0      500       5    0    0    0     0       0          0
  eth0:    1296      14    0    0    0     0          0         0      648       8    0    0    0     0       0          0
  eth1:       4       1    0    0    0     0          0         0        2       1    0    0    0     0       0          0
";
        assert_eq!(parse_net_dev(text), (1300, 650));
    }

    #[test]
    fn block_io_of_v1_and_v2() {
        let v1 = "8:0 Read 4096\n8:0 Write 8192\n8:0 Sync 0\n8:0 Total 12288\n8:16 Read 1\nTotal 12289\n";
        assert_eq!(cgroup::parse_block_io(v1), (4097, 8192));
        let v2 =
            "8:0 rbytes=100 wbytes=200 rios=1 wios=2 dbytes=0 dios=0\n253:0 rbytes=1 wbytes=2\n";
        assert_eq!(cgroup::parse_block_io(v2), (101, 202));
        assert_eq!(cgroup::parse_block_io("Total 0\n"), (0, 0));
    }
}
