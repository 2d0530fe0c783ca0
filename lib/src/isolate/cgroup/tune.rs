//! The runtime spec's `linux.resources` settings beyond [`super::Limits`]
//! (cpusets, memory reservation and swappiness, block I/O weights and
//! throttles, hugepages, CPU realtime), as plain data ([`Tune`]), and the
//! file each is written to under cgroup v1 and v2, as runc writes them.
//!
//! A setting this kernel does not offer is an error naming the spec's
//! field: its controller is not mounted, or its file is absent (v1's
//! `blkio.weight` under the multi-queue schedulers, `cpu.rt_runtime_us`
//! without realtime group scheduling), or the version has no such file at
//! all (swappiness and realtime on v2). Nothing is silently left out.

use super::{read_file, write_file, CgroupError, Result, Version};
use std::path::{Path, PathBuf};

/// One of the block I/O throttles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Throttle {
    ReadBps,
    WriteBps,
    ReadIops,
    WriteIops,
}

/// A setting of the runtime spec's `linux.resources`, set to something.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tune {
    /// `cpu.cpus`: the CPUs the processes may run on (`0-2,4`).
    Cpus(String),
    /// `cpu.mems`: the memory nodes they may use.
    Mems(String),
    /// `memory.reservation`: the soft limit, in bytes.
    MemoryReservation(i64),
    /// `memory.swappiness`: 0 to 100.
    Swappiness(u64),
    /// `memory.kernelTCP`: the TCP buffers' limit, in bytes.
    KernelTcp(i64),
    /// `blockIO.weight`: 10 to 1000.
    BlkioWeight(u16),
    /// `blockIO.leafWeight`.
    BlkioLeafWeight(u16),
    /// One of `blockIO.weightDevice`.
    WeightDevice {
        major: i64,
        minor: i64,
        weight: Option<u16>,
        leaf: Option<u16>,
    },
    /// One of `blockIO.throttle*Device`: bytes or operations per second.
    Throttle {
        which: Throttle,
        major: i64,
        minor: i64,
        rate: u64,
    },
    /// One of `hugepageLimits`: `size` as the kernel names it (`2MB`).
    Hugepage { size: String, limit: u64 },
    /// `cpu.realtimePeriod`, microseconds.
    RtPeriod(u64),
    /// `cpu.realtimeRuntime`, microseconds.
    RtRuntime(i64),
}

impl Tune {
    /// The spec's name for it, below `linux.resources`.
    pub fn field(&self) -> &'static str {
        match self {
            Tune::Cpus(_) => "cpu.cpus",
            Tune::Mems(_) => "cpu.mems",
            Tune::MemoryReservation(_) => "memory.reservation",
            Tune::Swappiness(_) => "memory.swappiness",
            Tune::KernelTcp(_) => "memory.kernelTCP",
            Tune::BlkioWeight(_) => "blockIO.weight",
            Tune::BlkioLeafWeight(_) => "blockIO.leafWeight",
            Tune::WeightDevice { .. } => "blockIO.weightDevice",
            Tune::Throttle { which, .. } => match which {
                Throttle::ReadBps => "blockIO.throttleReadBpsDevice",
                Throttle::WriteBps => "blockIO.throttleWriteBpsDevice",
                Throttle::ReadIops => "blockIO.throttleReadIOPSDevice",
                Throttle::WriteIops => "blockIO.throttleWriteIOPSDevice",
            },
            Tune::Hugepage { .. } => "hugepageLimits",
            Tune::RtPeriod(_) => "cpu.realtimePeriod",
            Tune::RtRuntime(_) => "cpu.realtimeRuntime",
        }
    }

    /// The controller it belongs to, as each version names it.
    pub fn controller(&self, version: Version) -> &'static str {
        match self {
            Tune::Cpus(_) | Tune::Mems(_) => "cpuset",
            Tune::MemoryReservation(_) | Tune::Swappiness(_) | Tune::KernelTcp(_) => "memory",
            Tune::BlkioWeight(_)
            | Tune::BlkioLeafWeight(_)
            | Tune::WeightDevice { .. }
            | Tune::Throttle { .. } => match version {
                Version::V1 => "blkio",
                Version::V2 => "io",
            },
            Tune::Hugepage { .. } => "hugetlb",
            Tune::RtPeriod(_) | Tune::RtRuntime(_) => "cpu",
        }
    }

    /// The writes that make it, in order: (file in the controller's
    /// directory, value); where the kernel may name a file two ways, the
    /// one `has` says exists. `None`: the version has no such setting.
    fn writes(
        &self,
        version: Version,
        has: &dyn Fn(&str) -> bool,
    ) -> Option<Vec<(String, String)>> {
        let one = |f: &str, v: String| Some(vec![(f.to_string(), v)]);
        // v1 blkio's files, or the bfq scheduler's where it is the one
        let either = |a: &str, b: &str| {
            if has(a) || !has(b) {
                a.to_string()
            } else {
                b.to_string()
            }
        };
        match (self, version) {
            (Tune::Cpus(c), _) => one("cpuset.cpus", c.clone()),
            (Tune::Mems(m), _) => one("cpuset.mems", m.clone()),
            (Tune::MemoryReservation(b), Version::V1) => {
                one("memory.soft_limit_in_bytes", b.to_string())
            }
            (Tune::MemoryReservation(b), Version::V2) => one("memory.low", b.to_string()),
            (Tune::Swappiness(s), Version::V1) => one("memory.swappiness", s.to_string()),
            (Tune::KernelTcp(b), Version::V1) => {
                one("memory.kmem.tcp.limit_in_bytes", b.to_string())
            }
            (Tune::BlkioWeight(w), Version::V1) => Some(vec![(
                either("blkio.weight", "blkio.bfq.weight"),
                w.to_string(),
            )]),
            (Tune::BlkioWeight(w), Version::V2) if has("io.bfq.weight") => {
                one("io.bfq.weight", w.to_string())
            }
            // runc's mapping of 10..1000 onto 1..10000
            (Tune::BlkioWeight(w), Version::V2) => {
                let v = 1 + (u64::from(*w).clamp(10, 1000) - 10) * 9999 / 990;
                one("io.weight", format!("default {v}"))
            }
            (Tune::BlkioLeafWeight(w), Version::V1) => one("blkio.leaf_weight", w.to_string()),
            (
                Tune::WeightDevice {
                    major,
                    minor,
                    weight,
                    leaf,
                },
                Version::V1,
            ) => {
                let mut v = Vec::new();
                if let Some(w) = weight {
                    let f = either("blkio.weight_device", "blkio.bfq.weight_device");
                    v.push((f, format!("{major}:{minor} {w}")));
                }
                if let Some(l) = leaf {
                    v.push((
                        "blkio.leaf_weight_device".into(),
                        format!("{major}:{minor} {l}"),
                    ));
                }
                Some(v)
            }
            (
                Tune::WeightDevice {
                    major,
                    minor,
                    weight: Some(w),
                    leaf: None,
                },
                Version::V2,
            ) => one("io.bfq.weight", format!("{major}:{minor} {w}")),
            (
                Tune::Throttle {
                    which,
                    major,
                    minor,
                    rate,
                },
                _,
            ) => Some(vec![throttle(
                *which,
                version,
                format!("{major}:{minor}"),
                *rate,
            )]),
            (Tune::Hugepage { size, limit }, Version::V1) => {
                one(&format!("hugetlb.{size}.limit_in_bytes"), limit.to_string())
            }
            (Tune::Hugepage { size, limit }, Version::V2) => {
                one(&format!("hugetlb.{size}.max"), limit.to_string())
            }
            (Tune::RtPeriod(p), Version::V1) => one("cpu.rt_period_us", p.to_string()),
            (Tune::RtRuntime(r), Version::V1) => one("cpu.rt_runtime_us", r.to_string()),
            _ => None,
        }
    }
}

/// The file and value of a throttle of the device `dev` (`MAJOR:MINOR`).
fn throttle(which: Throttle, version: Version, dev: String, rate: u64) -> (String, String) {
    let (v1, v2) = match which {
        Throttle::ReadBps => ("blkio.throttle.read_bps_device", "rbps"),
        Throttle::WriteBps => ("blkio.throttle.write_bps_device", "wbps"),
        Throttle::ReadIops => ("blkio.throttle.read_iops_device", "riops"),
        Throttle::WriteIops => ("blkio.throttle.write_iops_device", "wiops"),
    };
    match version {
        Version::V1 => (v1.into(), format!("{dev} {rate}")),
        Version::V2 => ("io.max".into(), format!("{dev} {v2}={rate}")),
    }
}

/// Write `tune` in `dir` (its controller's directory of a cgroup of
/// `version`), every file checked first: one that is absent is an error
/// naming the field, and nothing of it is written.
pub(super) fn apply(tune: &Tune, version: Version, dir: &Path) -> Result<()> {
    let field = tune.field();
    let has = |f: &str| dir.join(f).exists();
    let Some(writes) = tune.writes(version, &has) else {
        return Err(CgroupError::NotOffered {
            field,
            what: format!("cgroup {version:?} has no such setting"),
        });
    };
    if let Some((f, _)) = writes.iter().find(|(f, _)| !has(f)) {
        return Err(CgroupError::NotOffered {
            field,
            what: format!("this kernel has no {}", dir.join(f).display()),
        });
    }
    for (f, value) in writes {
        let path = dir.join(&f);
        write_file(&path, &value).map_err(|e| match e {
            CgroupError::Io { path, source } => CgroupError::Tune {
                field,
                path,
                value,
                source,
            },
            e => e,
        })?;
    }
    Ok(())
}

/// Give the v1 cpuset directories from `point` (the hierarchy's root)
/// down to `point/rel` their parent's CPUs and memory nodes where they
/// have none, as runc does: a process cannot join a cpuset without.
pub(super) fn fill_cpusets(point: &Path, rel: &Path) -> Result<()> {
    let mut dir = point.to_path_buf();
    for c in rel.components() {
        let parent = dir.clone();
        dir.push(c);
        for f in ["cpuset.cpus", "cpuset.mems"] {
            let here: PathBuf = dir.join(f);
            if read_file(&here)?.trim().is_empty() {
                let from = read_file(&parent.join(f))?;
                write_file(&here, from.trim())?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_setting_has_runcs_file_in_each_version() {
        let none = |_: &str| false;
        let w = |t: &Tune, v| t.writes(v, &none);
        let pair = |f: &str, v: &str| Some(vec![(f.to_string(), v.to_string())]);
        assert_eq!(
            w(&Tune::MemoryReservation(5), Version::V1),
            pair("memory.soft_limit_in_bytes", "5")
        );
        assert_eq!(
            w(&Tune::MemoryReservation(5), Version::V2),
            pair("memory.low", "5")
        );
        assert_eq!(w(&Tune::Swappiness(10), Version::V2), None);
        assert_eq!(w(&Tune::RtRuntime(10), Version::V2), None);
        let t = Tune::Throttle {
            which: Throttle::WriteIops,
            major: 254,
            minor: 0,
            rate: 100,
        };
        assert_eq!(
            w(&t, Version::V1),
            pair("blkio.throttle.write_iops_device", "254:0 100")
        );
        assert_eq!(w(&t, Version::V2), pair("io.max", "254:0 wiops=100"));
        assert_eq!(t.field(), "blockIO.throttleWriteIOPSDevice");
        assert_eq!(
            w(&Tune::BlkioWeight(10), Version::V2),
            pair("io.weight", "default 1")
        );
        assert_eq!(
            w(&Tune::BlkioWeight(1000), Version::V2),
            pair("io.weight", "default 10000")
        );
        // bfq's file where the kernel has it and not the other
        let bfq = |f: &str| f.contains("bfq");
        assert_eq!(
            Tune::BlkioWeight(300).writes(Version::V1, &bfq),
            pair("blkio.bfq.weight", "300")
        );
        assert_eq!(
            w(&Tune::BlkioWeight(300), Version::V1),
            pair("blkio.weight", "300")
        );
        let h = Tune::Hugepage {
            size: "2MB".into(),
            limit: 4096,
        };
        assert_eq!(
            w(&h, Version::V1),
            pair("hugetlb.2MB.limit_in_bytes", "4096")
        );
        assert_eq!(h.controller(Version::V2), "hugetlb");
    }

    #[test]
    fn an_absent_file_is_refused_by_name_and_nothing_written() {
        let dir = crate::testutil::TempDir::new("tune");
        let e = apply(&Tune::BlkioWeight(300), Version::V1, dir.path()).unwrap_err();
        let e = e.to_string();
        assert!(
            e.contains("linux.resources.blockIO.weight") && e.contains("blkio.weight"),
            "{e}"
        );
        std::fs::write(dir.path().join("memory.swappiness"), "").unwrap();
        apply(&Tune::Swappiness(7), Version::V1, dir.path()).unwrap();
        let got = std::fs::read_to_string(dir.path().join("memory.swappiness")).unwrap();
        assert_eq!(got, "7");
        let e = apply(&Tune::Swappiness(7), Version::V2, dir.path()).unwrap_err();
        assert!(e.to_string().contains("memory.swappiness"), "{e}");
    }
}
