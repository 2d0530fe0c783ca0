//! What a container sees of the kernel's settings: the spec's sysctls
//! (`linux.sysctl`), written in its own namespaces, and a `cgroup` mount
//! at /sys/fs/cgroup made as runc makes it, showing the container its own
//! cgroups and no other.
//!
//! A sysctl is taken only when the namespace it lives in is the
//! container's own (runc's list): `kernel.msg*`, `kernel.sem`,
//! `kernel.shm*` and `fs.mqueue.*` with a new ipc namespace, `net.*` with
//! a network namespace that is not the host's, `kernel.hostname` and
//! `kernel.domainname` with a new uts namespace. Any other would change
//! the host: refused by name.
//!
//! The `cgroup` mount (cgroup v1, no cgroup namespace needed) is a tmpfs
//! with, for each hierarchy the container's cgroup has, a directory of the
//! hierarchy's name onto which the container's own cgroup directory is
//! bound; read-only when the mount asks for it. The cgroup directories are
//! cloned as detached mounts before the pivot (as the host names them)
//! and attached after it. On cgroup v2 the one directory is bound at the
//! target itself.

use super::process::{ctx, Fail};
use super::spec::Unsupported;
use nix::mount::{mount, MsFlags};
use nix::sched::CloneFlags;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::Path;

const IPC_SYSCTLS: [&str; 8] = [
    "kernel.msgmax",
    "kernel.msgmnb",
    "kernel.msgmni",
    "kernel.sem",
    "kernel.shmall",
    "kernel.shmmax",
    "kernel.shmmni",
    "kernel.shm_rmid_forced",
];

/// The file under /proc/sys of the sysctl `key`, if the container's
/// namespaces (`new`: made for it; `own_net`: its network namespace is not
/// the host's) hold it.
pub(super) fn sysctl_path(
    key: &str,
    new: CloneFlags,
    own_net: bool,
) -> Result<String, Unsupported> {
    let bad = || Unsupported::Sysctl(key.to_string());
    let well_formed = !key.is_empty()
        && key
            .split('.')
            .all(|c| !c.is_empty() && c != ".." && !c.contains('/'));
    if !well_formed {
        return Err(bad());
    }
    let ipc = new.contains(CloneFlags::CLONE_NEWIPC);
    let uts = new.contains(CloneFlags::CLONE_NEWUTS);
    let ok = (ipc && (IPC_SYSCTLS.contains(&key) || key.starts_with("fs.mqueue.")))
        || (own_net && key.starts_with("net."))
        || (uts && (key == "kernel.hostname" || key == "kernel.domainname"));
    if !ok {
        return Err(bad());
    }
    Ok(format!("/proc/sys/{}", key.replace('.', "/")))
}

/// Write the sysctls (file, value), inside the container after its /proc
/// is mounted.
pub(super) fn write_sysctls(list: &[(String, String)]) -> Result<(), Fail> {
    for (path, value) in list {
        ctx(std::fs::write(path, value), &format!("writing {path}"))?;
    }
    Ok(())
}

/// A `cgroup` mount of the spec: where, and whether read-only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct CgroupMount {
    /// Absolute, inside the container.
    pub target: String,
    pub readonly: bool,
}

/// The container's cgroup directories cloned before the pivot, each with
/// the name of its hierarchy (`memory`, `cpu,cpuacct`; "" on v2).
pub(super) struct Opened(Vec<(String, OwnedFd)>);

/// Clone the directories of the container's cgroup `cg` as detached
/// mounts (`open_tree(2)`) while the host's paths are still reachable;
/// they are attached after the pivot.
pub(super) fn open_cgroups(cg: &super::cgroup::Cgroup) -> Result<Opened, Fail> {
    const OPEN_TREE_CLONE: libc::c_uint = 1;
    let v2 = cg.version() == super::cgroup::Version::V2;
    let mut out = Vec::new();
    for d in cg.dirs() {
        let hierarchy = if v2 {
            String::new()
        } else {
            hierarchy_name(d, cg.path())
        };
        let path = ctx(
            std::ffi::CString::new(d.as_os_str().as_encoded_bytes()),
            "a cgroup path",
        )?;
        // SAFETY: open_tree reads a NUL-terminated path and returns a new
        // fd or -1.
        let fd = unsafe {
            libc::syscall(
                libc::SYS_open_tree,
                libc::AT_FDCWD,
                path.as_ptr(),
                OPEN_TREE_CLONE | libc::O_CLOEXEC as libc::c_uint,
            )
        };
        if fd < 0 {
            let e = std::io::Error::last_os_error();
            return Err(Fail(125, format!("cloning {}: {e}", d.display())));
        }
        // SAFETY: a new fd nothing else owns.
        out.push((hierarchy, unsafe { OwnedFd::from_raw_fd(fd as RawFd) }));
    }
    Ok(Opened(out))
}

/// Attach the detached mount `tree` on `at`.
fn attach(tree: &OwnedFd, at: &str) -> Result<(), Fail> {
    const MOVE_MOUNT_F_EMPTY_PATH: libc::c_uint = 4;
    let target = ctx(std::ffi::CString::new(at), "a mount target")?;
    // SAFETY: a valid fd and NUL-terminated paths.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_move_mount,
            tree.as_raw_fd(),
            c"".as_ptr(),
            libc::AT_FDCWD,
            target.as_ptr(),
            MOVE_MOUNT_F_EMPTY_PATH,
        )
    };
    if rc < 0 {
        let e = std::io::Error::last_os_error();
        return Err(Fail(
            125,
            format!("binding the container's cgroup on {at}: {e}"),
        ));
    }
    Ok(())
}

/// The name of the v1 hierarchy a cgroup directory `<mount>/<rel>`
/// belongs to: the mount point's.
fn hierarchy_name(dir: &Path, rel: &Path) -> String {
    dir.ancestors()
        .nth(rel.components().count())
        .and_then(|m| m.file_name())
        .and_then(|n| n.to_str())
        .unwrap_or("cgroup")
        .to_string()
}

/// Make the `cgroup` mount `m` inside the container (after the pivot) from
/// the directories cloned before it.
pub(super) fn mount_cgroups(m: &CgroupMount, opened: &Opened) -> Result<(), Fail> {
    let none: Option<&str> = None;
    let flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
    let bind = |fd: &OwnedFd, at: &str| {
        attach(fd, at)?;
        if m.readonly {
            let ro = MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY | flags;
            ctx(
                mount(none, at, none, ro, none),
                &format!("making {at} read-only"),
            )?;
        }
        Ok(())
    };
    if let [(name, fd)] = opened.0.as_slice() {
        if name.is_empty() {
            return bind(fd, &m.target);
        }
    }
    ctx(
        mount(
            Some("tmpfs"),
            m.target.as_str(),
            Some("tmpfs"),
            flags,
            Some("mode=755"),
        ),
        &format!("mounting tmpfs on {}", m.target),
    )?;
    for (name, fd) in &opened.0 {
        let at = format!("{}/{name}", m.target);
        ctx(std::fs::create_dir(&at), &format!("creating {at}"))?;
        bind(fd, &at)?;
    }
    if m.readonly {
        let ro = MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY | flags;
        ctx(
            mount(none, m.target.as_str(), none, ro, Some("mode=755")),
            &format!("making {} read-only", m.target),
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_containers_own_sysctls_are_taken() {
        let all = CloneFlags::CLONE_NEWIPC | CloneFlags::CLONE_NEWUTS;
        assert_eq!(
            sysctl_path("net.ipv4.ping_group_range", all, true).unwrap(),
            "/proc/sys/net/ipv4/ping_group_range"
        );
        assert!(sysctl_path("kernel.shmmax", all, false).is_ok());
        assert!(sysctl_path("fs.mqueue.msg_max", all, false).is_ok());
        assert!(sysctl_path("kernel.hostname", all, false).is_ok());
        for (key, new, net) in [
            ("net.ipv4.ip_forward", all, false),
            ("kernel.shmmax", CloneFlags::empty(), true),
            ("kernel.core_pattern", all, true),
            ("vm.overcommit_memory", all, true),
            ("net..x", all, true),
            ("net.a/b", all, true),
            ("", all, true),
        ] {
            assert_eq!(
                sysctl_path(key, new, net),
                Err(Unsupported::Sysctl(key.into())),
                "{key}"
            );
        }
    }

    #[test]
    fn hierarchies_are_named_from_the_mount() {
        let name = |dir: &str, rel: &str| hierarchy_name(Path::new(dir), Path::new(rel));
        assert_eq!(name("/sys/fs/cgroup/memory/cairn/x", "cairn/x"), "memory");
        assert_eq!(
            name("/sys/fs/cgroup/cpu,cpuacct/cairn/x", "cairn/x"),
            "cpu,cpuacct"
        );
        assert_eq!(
            name("/sys/fs/cgroup/pids/docker/a/b/c", "docker/a/b/c"),
            "pids"
        );
    }
}
