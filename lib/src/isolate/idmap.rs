//! A new user namespace with the spec's `linux.uidMappings` and
//! `linux.gidMappings`, made as runc makes it as root: the container is
//! cloned into it (with its other new namespaces, which the user namespace
//! then owns, so it may mount proc, sysfs and mqueue in them), waits while
//! the runtime writes its `uid_map` and `gid_map` from outside, then takes
//! uid and gid 0 inside: root there, the host's mapped ids outside.
//! `setgroups` stays allowed (runc denies it only for a rootless caller
//! mapping ids without newgidmap, which cairn never does: an ordinary
//! user's containers live in cairn's own namespace, `crate::userns`).
//!
//! What needs a privilege of the host is done by the runtime before the
//! container enters: raising rlimits (`prlimit(2)` on the waiting child)
//! and a lowered `oom_score_adj`, as runc sets them from its parent.

use super::spec::Unsupported;
use oci_spec::runtime::LinuxIdMapping;
use std::io;

/// The id maps of a new user namespace, as written to `/proc/PID/uid_map`
/// and `gid_map`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct IdMaps {
    pub(super) uid_map: String,
    pub(super) gid_map: String,
    /// The host's uid and gid of the container's root.
    pub(super) root: (u32, u32),
}

/// The kernel takes at most this many lines in an id map.
const MAX_LINES: usize = 340;

/// The text of an id map, and the host id that id 0 inside maps to.
fn map_text(maps: &[LinuxIdMapping], field: &'static str) -> Result<(String, u32), Unsupported> {
    if maps.is_empty() {
        return Err(Unsupported::IdMap {
            field,
            what: "a new user namespace needs at least one mapping (runc's rule too)".into(),
        });
    }
    if maps.len() > MAX_LINES {
        return Err(Unsupported::IdMap {
            field,
            what: format!(
                "{} mappings; the kernel takes at most {MAX_LINES}",
                maps.len()
            ),
        });
    }
    let mut text = String::new();
    let mut root = None;
    for m in maps {
        let (inside, outside, size) = (m.container_id(), m.host_id(), m.size());
        let end_in = u64::from(inside) + u64::from(size);
        let end_out = u64::from(outside) + u64::from(size);
        if size == 0 || end_in > 1 << 32 || end_out > 1 << 32 {
            return Err(Unsupported::IdMap {
                field,
                what: format!("mapping {inside} {outside} {size} is empty or out of range"),
            });
        }
        if inside == 0 {
            root = Some(outside);
        }
        text.push_str(&format!("{inside} {outside} {size}\n"));
    }
    let root = root.ok_or_else(|| Unsupported::IdMap {
        field,
        what: "no mapping for id 0: the container's root must be mapped (runc refuses it too)"
            .into(),
    })?;
    Ok((text, root))
}

/// The maps of a new user namespace from the spec's mappings.
pub(super) fn read(linux: &oci_spec::runtime::Linux) -> Result<IdMaps, Unsupported> {
    let none = Vec::new();
    let uids = linux.uid_mappings().as_ref().unwrap_or(&none);
    let gids = linux.gid_mappings().as_ref().unwrap_or(&none);
    let (uid_map, uid) = map_text(uids, "linux.uidMappings")?;
    let (gid_map, gid) = map_text(gids, "linux.gidMappings")?;
    Ok(IdMaps {
        uid_map,
        gid_map,
        root: (uid, gid),
    })
}

/// Mappings given without a new user namespace to put them on.
pub(super) fn stray(linux: &oci_spec::runtime::Linux) -> Option<Unsupported> {
    let some = |m: &Option<Vec<LinuxIdMapping>>| m.as_ref().is_some_and(|v| !v.is_empty());
    (some(linux.uid_mappings()) || some(linux.gid_mappings())).then(|| Unsupported::IdMap {
        field: "linux.uidMappings",
        what: "mappings need a new user namespace in linux.namespaces: add {\"type\": \"user\"}"
            .into(),
    })
}

/// In the runtime, while the child `pid` waits in its new user namespace:
/// write its maps.
pub(super) fn write_maps(pid: i32, maps: &IdMaps) -> io::Result<()> {
    for (file, text) in [("uid_map", &maps.uid_map), ("gid_map", &maps.gid_map)] {
        let path = format!("/proc/{pid}/{file}");
        std::fs::write(&path, text)
            .map_err(|e| io::Error::new(e.kind(), format!("writing {path}: {e}")))?;
    }
    Ok(())
}

/// In the runtime: set the rlimits `(resource, soft, hard)` and the OOM
/// score of the process `pid`, with the host's privileges it will not
/// have inside its user namespace.
pub(super) fn apply_limits_to(
    pid: i32,
    rlimits: &[(u32, u64, u64)],
    oom_score_adj: Option<i32>,
) -> io::Result<()> {
    for &(resource, soft, hard) in rlimits {
        let lim = libc::rlimit {
            rlim_cur: soft,
            rlim_max: hard,
        };
        // SAFETY: prlimit reads the rlimit we pass and writes no old value.
        if unsafe { libc::prlimit(pid, resource as _, &lim, std::ptr::null_mut()) } < 0 {
            let e = io::Error::last_os_error();
            return Err(io::Error::new(
                e.kind(),
                format!("prlimit({pid}, {resource}, {soft}, {hard}): {e}"),
            ));
        }
    }
    if let Some(adj) = oom_score_adj {
        let path = format!("/proc/{pid}/oom_score_adj");
        std::fs::write(&path, adj.to_string())
            .map_err(|e| io::Error::new(e.kind(), format!("writing {path}: {e}")))?;
    }
    Ok(())
}

/// In the child, once its maps are written: become root of the user
/// namespace (uid and gid 0 inside), keeping its capabilities there.
pub(super) fn become_root() -> nix::Result<()> {
    let (uid, gid) = (nix::unistd::Uid::from_raw(0), nix::unistd::Gid::from_raw(0));
    nix::unistd::setresgid(gid, gid, gid)?;
    nix::unistd::setresuid(uid, uid, uid)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapping(inside: u32, outside: u32, size: u32) -> LinuxIdMapping {
        serde_json::from_value(serde_json::json!(
            {"containerID": inside, "hostID": outside, "size": size}))
        .unwrap()
    }

    fn linux(uids: Vec<LinuxIdMapping>, gids: Vec<LinuxIdMapping>) -> oci_spec::runtime::Linux {
        let mut l = oci_spec::runtime::Linux::default();
        l.set_uid_mappings(Some(uids)).set_gid_mappings(Some(gids));
        l
    }

    #[test]
    fn maps_are_written_as_the_kernel_reads_them() {
        let l = linux(
            vec![mapping(0, 100000, 65536)],
            vec![mapping(0, 200000, 10), mapping(10, 300000, 5)],
        );
        let m = read(&l).unwrap();
        assert_eq!(m.uid_map, "0 100000 65536\n");
        assert_eq!(m.gid_map, "0 200000 10\n10 300000 5\n");
        assert_eq!(m.root, (100000, 200000));
        assert!(stray(&l).is_some());
        assert!(stray(&oci_spec::runtime::Linux::default()).is_none());
    }

    #[test]
    fn bad_maps_are_refused_naming_the_field() {
        let e = read(&linux(vec![], vec![mapping(0, 1, 1)])).unwrap_err();
        assert!(e.to_string().contains("linux.uidMappings"), "{e}");
        let e = read(&linux(vec![mapping(0, 1, 1)], vec![mapping(1, 1, 1)])).unwrap_err();
        assert!(e.to_string().contains("linux.gidMappings"), "{e}");
        assert!(e.to_string().contains("id 0"), "{e}");
        let e = read(&linux(vec![mapping(0, u32::MAX, 2)], vec![])).unwrap_err();
        assert!(e.to_string().contains("out of range"), "{e}");
    }
}
