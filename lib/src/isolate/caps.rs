//! Capabilities and `no_new_privs`.

use oci_spec::runtime::{Capabilities, Capability};
use std::io;
use std::str::FromStr;

/// Docker's default capabilities (moby `caps/defaults.go`): CHOWN,
/// DAC_OVERRIDE, FOWNER, FSETID, KILL, SETGID, SETUID, SETPCAP,
/// NET_BIND_SERVICE, NET_RAW, SYS_CHROOT, MKNOD, AUDIT_WRITE, SETFCAP.
pub const DEFAULT_CAPS: [u32; 14] = [0, 1, 3, 4, 5, 6, 7, 8, 10, 13, 18, 27, 29, 31];

/// Capability names by number (linux/capability.h, without `CAP_`), as
/// oci-spec's [`Capability`] displays and parses them.
const NAMES: [&str; 41] = [
    "CHOWN",
    "DAC_OVERRIDE",
    "DAC_READ_SEARCH",
    "FOWNER",
    "FSETID",
    "KILL",
    "SETGID",
    "SETUID",
    "SETPCAP",
    "LINUX_IMMUTABLE",
    "NET_BIND_SERVICE",
    "NET_BROADCAST",
    "NET_ADMIN",
    "NET_RAW",
    "IPC_LOCK",
    "IPC_OWNER",
    "SYS_MODULE",
    "SYS_RAWIO",
    "SYS_CHROOT",
    "SYS_PTRACE",
    "SYS_PACCT",
    "SYS_ADMIN",
    "SYS_BOOT",
    "SYS_NICE",
    "SYS_RESOURCE",
    "SYS_TIME",
    "SYS_TTY_CONFIG",
    "MKNOD",
    "LEASE",
    "AUDIT_WRITE",
    "AUDIT_CONTROL",
    "SETFCAP",
    "MAC_OVERRIDE",
    "MAC_ADMIN",
    "SYSLOG",
    "WAKE_ALARM",
    "BLOCK_SUSPEND",
    "AUDIT_READ",
    "PERFMON",
    "BPF",
    "CHECKPOINT_RESTORE",
];

/// The capabilities numbered `caps`, as the OCI runtime spec lists them.
pub fn to_spec(caps: &[u32]) -> Capabilities {
    caps.iter()
        .filter_map(|&n| NAMES.get(n as usize))
        .filter_map(|name| Capability::from_str(name).ok())
        .collect()
}

/// Every capability cairn knows (a privileged container's).
pub fn all() -> Vec<u32> {
    (0..NAMES.len() as u32).collect()
}

/// The numbers of the capabilities in `set`, lowest first.
pub fn from_spec(set: &Capabilities) -> Vec<u32> {
    let mut caps: Vec<u32> = set
        .iter()
        .filter_map(|c| {
            let name = c.to_string();
            NAMES.iter().position(|n| *n == name).map(|n| n as u32)
        })
        .collect();
    caps.sort_unstable();
    caps
}

fn check(rc: libc::c_int) -> io::Result<()> {
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

fn last_cap() -> u32 {
    std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(40)
}

/// Drop every capability not in `keep` from the bounding set.
pub fn drop_bounding(keep: &[u32]) -> io::Result<()> {
    for cap in 0..=last_cap() {
        if !keep.contains(&cap) {
            // SAFETY: prctl with integer arguments only.
            let rc = unsafe { libc::prctl(libc::PR_CAPBSET_DROP, cap as libc::c_ulong, 0, 0, 0) };
            if rc < 0 && io::Error::last_os_error().raw_os_error() != Some(libc::EINVAL) {
                return Err(io::Error::last_os_error());
            }
        }
    }
    Ok(())
}

pub fn clear_ambient() -> io::Result<()> {
    // SAFETY: prctl with integer arguments only.
    let rc = unsafe {
        libc::prctl(
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_CLEAR_ALL as libc::c_ulong,
            0,
            0,
            0,
        )
    };
    if rc < 0 && io::Error::last_os_error().raw_os_error() != Some(libc::EINVAL) {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Keep the permitted capabilities across a change from root to another
/// user (`PR_SET_KEEPCAPS`), or stop keeping them.
pub fn keep_on_setuid(keep: bool) -> io::Result<()> {
    // SAFETY: prctl with integer arguments only.
    check(unsafe { libc::prctl(libc::PR_SET_KEEPCAPS, keep as libc::c_ulong, 0, 0, 0) })
}

/// Raise `caps` in the ambient set (each must be permitted and
/// inheritable).
pub fn raise_ambient(caps: &[u32]) -> io::Result<()> {
    for &cap in caps {
        // SAFETY: prctl with integer arguments only.
        check(unsafe {
            libc::prctl(
                libc::PR_CAP_AMBIENT,
                libc::PR_CAP_AMBIENT_RAISE as libc::c_ulong,
                cap as libc::c_ulong,
                0,
                0,
            )
        })?;
    }
    Ok(())
}

pub fn set_no_new_privs() -> io::Result<()> {
    // SAFETY: prctl with integer arguments only.
    check(unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) })
}

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: libc::c_int,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

const CAP_V3: u32 = 0x2008_0522;

/// This thread's permitted set, as a mask.
fn permitted_now() -> io::Result<u64> {
    let mut hdr = CapHeader {
        version: CAP_V3,
        pid: 0,
    };
    let mut data = [CapData::default(); 2];
    // SAFETY: capget writes one header and two data structs, laid out as the kernel's.
    check(unsafe {
        libc::syscall(
            libc::SYS_capget,
            &mut hdr as *mut CapHeader,
            data.as_mut_ptr(),
        ) as libc::c_int
    })?;
    Ok(u64::from(data[0].permitted) | u64::from(data[1].permitted) << 32)
}

/// Set the effective, permitted and inheritable sets to exactly these
/// (a container's inheritable set is empty: CVE-2022-24769). What this
/// thread is not permitted (capabilities the kernel does not know, or
/// that the runtime itself was started without) cannot be granted and is
/// left out: "all capabilities" are all the runtime has.
pub fn set(effective: &[u32], permitted: &[u32], inheritable: &[u32]) -> io::Result<()> {
    let have = permitted_now()?;
    let m = |caps: &[u32]| {
        let known: Vec<u32> = caps.iter().copied().filter(|c| *c < 64).collect();
        mask(&known) & have
    };
    let (e, p, i) = (m(effective), m(permitted), m(inheritable));
    let hdr = CapHeader {
        version: CAP_V3,
        pid: 0,
    };
    let data = [
        CapData {
            effective: e as u32,
            permitted: p as u32,
            inheritable: i as u32,
        },
        CapData {
            effective: (e >> 32) as u32,
            permitted: (p >> 32) as u32,
            inheritable: (i >> 32) as u32,
        },
    ];
    // SAFETY: capset reads one header and two data structs, laid out as the kernel's.
    check(unsafe {
        libc::syscall(libc::SYS_capset, &hdr as *const CapHeader, data.as_ptr()) as libc::c_int
    })
}

/// The capability mask of a set of capability numbers (as /proc shows CapEff).
pub fn mask(caps: &[u32]) -> u64 {
    caps.iter().fold(0, |m, c| m | 1u64 << c)
}

#[cfg(test)]
mod tests {
    #[test]
    fn docker_default_mask() {
        assert_eq!(super::mask(&super::DEFAULT_CAPS), 0xa80425fb);
    }

    #[test]
    fn every_name_is_oci_specs() {
        let all = super::all();
        assert_eq!(super::from_spec(&super::to_spec(&all)), all);
        let d = super::to_spec(&super::DEFAULT_CAPS);
        assert!(d.contains(&oci_spec::runtime::Capability::NetBindService));
        assert_eq!(super::from_spec(&d), super::DEFAULT_CAPS);
    }
}
