//! A container's root file system: what is mounted and made in it before
//! the pivot, and what is hidden or write-protected after, as plans that
//! are data ([`rootfs_plan`] from the spec's `mounts`, [`mask_plan`] from
//! its `maskedPaths` and `readonlyPaths`), carried out by a thin layer of
//! system calls. Every directory is opened below the root without
//! following symlinks and mounted on through its fd.

use super::process::{ctx, Fail};
use super::spec::Unsupported;
use nix::fcntl::{openat, OFlag};
use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sys::stat::{mknodat, Mode, SFlag};
use nix::unistd::{chdir, fchdir, pivot_root};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::Path;

const PATH_FLAGS: OFlag = OFlag::O_PATH
    .union(OFlag::O_NOFOLLOW)
    .union(OFlag::O_CLOEXEC)
    .union(OFlag::O_DIRECTORY);

/// Open the directory `rel` below `root` without following any symlink.
fn open_in(root: &OwnedFd, rel: &str) -> Result<OwnedFd, Fail> {
    let mut cur = ctx(root.try_clone(), "dup")?;
    for c in rel.split('/').filter(|c| !c.is_empty()) {
        cur = openat(cur.as_fd(), c, PATH_FLAGS, Mode::empty()).map_err(|e| {
            Fail(
                125,
                format!("mount target /{rel} must be a real directory in the container (not a symlink): {e}"),
            )
        })?;
    }
    Ok(cur)
}

fn fd_path(fd: &OwnedFd) -> String {
    format!("/proc/self/fd/{}", fd.as_raw_fd())
}

/// One mount(2), without its target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Mount {
    source: Option<String>,
    fstype: Option<String>,
    flags: MsFlags,
    data: Option<String>,
    /// What it does, for errors ("mounting proc on /proc").
    what: String,
}

impl Mount {
    /// A new file system of type `fstype` on `/target`.
    fn fs(target: &str, fstype: &str, source: &str, flags: MsFlags) -> Mount {
        Mount {
            source: Some(source.into()),
            fstype: Some(fstype.into()),
            flags,
            data: None,
            what: format!("mounting {fstype} on /{target}"),
        }
    }

    fn data(self, data: &str) -> Mount {
        Mount {
            data: Some(data.into()),
            ..self
        }
    }

    /// A bind mount of `source` (recursive with `MS_REC` in `flags`).
    fn bind(source: &str, flags: MsFlags, what: String) -> Mount {
        Mount {
            source: Some(source.into()),
            fstype: None,
            flags: MsFlags::MS_BIND | flags,
            data: None,
            what,
        }
    }

    /// Remount the bind mount on the target read-only, with `flags` too.
    fn read_only(flags: MsFlags, what: String) -> Mount {
        Mount {
            source: None,
            fstype: None,
            flags: MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY | flags,
            data: None,
            what,
        }
    }

    /// Mount on `target`: a path, or /proc/self/fd/N of an opened one.
    fn apply(&self, target: &str) -> Result<(), Fail> {
        ctx(
            mount(
                self.source.as_deref(),
                target,
                self.fstype.as_deref(),
                self.flags,
                self.data.as_deref(),
            ),
            &self.what,
        )
    }
}

/// One step of preparing a container's root file system. Paths are
/// relative to the root; every directory is opened below it without
/// following symlinks, and mounted on through its fd.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum RootfsStep {
    /// Mount on the directory `target`; when that fails and there is a
    /// `fallback`, its mounts instead, in order, on the same directory.
    Mount {
        target: String,
        mount: Mount,
        fallback: Vec<Mount>,
    },
    /// Make the character device `dir/name`.
    Device {
        dir: &'static str,
        name: &'static str,
        major: u64,
        minor: u64,
    },
    /// Make the directory `dir/name`.
    Dir { dir: &'static str, name: String },
    /// Make the symlink `dir/name` to `target`.
    Symlink {
        dir: &'static str,
        name: &'static str,
        target: &'static str,
    },
}

/// The flags and the data of a mount's `options`, as mount(8) reads them.
/// Bind mounts and mount propagation are not supported (yet): an error
/// naming the option.
fn parse_options(options: &[String]) -> Result<(MsFlags, Option<String>), Unsupported> {
    let mut flags = MsFlags::empty();
    let mut data: Vec<&str> = Vec::new();
    for o in options {
        let (set, flag) = match o.as_str() {
            "ro" => (true, MsFlags::MS_RDONLY),
            "rw" => (false, MsFlags::MS_RDONLY),
            "nosuid" => (true, MsFlags::MS_NOSUID),
            "suid" => (false, MsFlags::MS_NOSUID),
            "nodev" => (true, MsFlags::MS_NODEV),
            "dev" => (false, MsFlags::MS_NODEV),
            "noexec" => (true, MsFlags::MS_NOEXEC),
            "exec" => (false, MsFlags::MS_NOEXEC),
            "sync" => (true, MsFlags::MS_SYNCHRONOUS),
            "async" => (false, MsFlags::MS_SYNCHRONOUS),
            "dirsync" => (true, MsFlags::MS_DIRSYNC),
            "noatime" => (true, MsFlags::MS_NOATIME),
            "atime" => (false, MsFlags::MS_NOATIME),
            "nodiratime" => (true, MsFlags::MS_NODIRATIME),
            "diratime" => (false, MsFlags::MS_NODIRATIME),
            "relatime" => (true, MsFlags::MS_RELATIME),
            "norelatime" => (false, MsFlags::MS_RELATIME),
            "strictatime" => (true, MsFlags::MS_STRICTATIME),
            "nostrictatime" => (false, MsFlags::MS_STRICTATIME),
            "bind" | "rbind" | "private" | "rprivate" | "shared" | "rshared" | "slave"
            | "rslave" | "unbindable" | "runbindable" | "remount" => {
                return Err(Unsupported::MountOption(o.clone()))
            }
            _ => {
                data.push(o);
                continue;
            }
        };
        if set {
            flags |= flag;
        } else {
            flags.remove(flag);
        }
    }
    Ok((flags, (!data.is_empty()).then(|| data.join(","))))
}

/// docker's device nodes, made in a fresh /dev.
const DEVICES: [(&str, u64, u64); 6] = [
    ("null", 1, 3),
    ("zero", 1, 5),
    ("full", 1, 7),
    ("random", 1, 8),
    ("urandom", 1, 9),
    ("tty", 5, 0),
];

/// The links a fresh /dev has.
const DEV_LINKS: [(&str, &str); 6] = [
    ("ptmx", "pts/ptmx"),
    ("fd", "/proc/self/fd"),
    ("stdin", "/proc/self/fd/0"),
    ("stdout", "/proc/self/fd/1"),
    ("stderr", "/proc/self/fd/2"),
    ("core", "/proc/kcore"),
];

/// The destination of a mount as a path relative to the root; it must be
/// absolute and stay below the root.
fn relative(dest: &Path) -> Result<String, Unsupported> {
    let bad = || Unsupported::MountDestination(dest.to_path_buf());
    let s = dest.to_str().ok_or_else(bad)?;
    let rel = s.trim_start_matches('/');
    if !s.starts_with('/') || rel.split('/').any(|c| c == "..") || rel.is_empty() {
        return Err(bad());
    }
    Ok(rel.trim_end_matches('/').to_string())
}

/// What goes into the root file system before the pivot: the spec's
/// `mounts`, in order. A tmpfs on /dev is filled as runc fills it
/// (docker's device nodes, the directories of the mounts below it, the
/// standard links) before those are mounted. A sysfs that cannot be
/// mounted (no network namespace of our own) falls back to the host's
/// /sys, bound and, if the mount asked for it, made read-only.
pub(super) fn rootfs_plan(
    mounts: &[oci_spec::runtime::Mount],
) -> Result<Vec<RootfsStep>, Unsupported> {
    let mut plan = Vec::new();
    let targets: Vec<String> = mounts
        .iter()
        .map(|m| relative(m.destination()))
        .collect::<Result<_, _>>()?;
    for (i, (m, target)) in mounts.iter().zip(&targets).enumerate() {
        let fstype = m.typ().as_deref().unwrap_or("none");
        if fstype == "bind" || fstype.starts_with("cgroup") {
            return Err(Unsupported::MountType {
                fstype: fstype.to_string(),
                destination: m.destination().clone(),
            });
        }
        let source = m
            .source()
            .as_ref()
            .and_then(|p| p.to_str())
            .unwrap_or(fstype);
        let (flags, data) = parse_options(m.options().as_deref().unwrap_or_default())?;
        let mut mount = Mount::fs(target, fstype, source, flags);
        mount.data = data;
        let mut fallback = Vec::new();
        if fstype == "sysfs" {
            let bind_flags = flags - MsFlags::MS_RDONLY;
            fallback.push(Mount::bind("/sys", MsFlags::MS_REC, "binding /sys".into()));
            if flags.contains(MsFlags::MS_RDONLY) {
                fallback.push(Mount::read_only(bind_flags, "making /sys read-only".into()));
            }
        }
        plan.push(RootfsStep::Mount {
            target: target.clone(),
            mount,
            fallback,
        });
        if target == "dev" && fstype == "tmpfs" {
            fill_dev(&mut plan, &targets[i + 1..]);
        }
    }
    Ok(plan)
}

/// The nodes, directories and links of a fresh /dev; `later` are the
/// targets mounted after it.
fn fill_dev(plan: &mut Vec<RootfsStep>, later: &[String]) {
    for (name, major, minor) in DEVICES {
        plan.push(RootfsStep::Device {
            dir: "dev",
            name,
            major,
            minor,
        });
    }
    for t in later {
        if let Some(name) = t.strip_prefix("dev/").filter(|n| !n.contains('/')) {
            plan.push(RootfsStep::Dir {
                dir: "dev",
                name: name.to_string(),
            });
        }
    }
    for (name, target) in DEV_LINKS {
        plan.push(RootfsStep::Symlink {
            dir: "dev",
            name,
            target,
        });
    }
}

/// Carry out a rootfs plan below `root`.
fn apply_rootfs_plan(root: &OwnedFd, plan: &[RootfsStep]) -> Result<(), Fail> {
    // The directory nodes were last made in, opened once for all of them.
    let mut opened: Option<(&str, OwnedFd)> = None;
    for step in plan {
        let (dir, name) = match step {
            RootfsStep::Mount {
                target,
                mount,
                fallback,
            } => {
                opened = None;
                let fd = open_in(root, target)?;
                let at = fd_path(&fd);
                match mount.apply(&at) {
                    Err(e) if fallback.is_empty() => return Err(e),
                    Err(_) => fallback.iter().try_for_each(|m| m.apply(&at))?,
                    Ok(()) => {}
                }
                continue;
            }
            RootfsStep::Device { dir, name, .. } | RootfsStep::Symlink { dir, name, .. } => {
                (*dir, *name)
            }
            RootfsStep::Dir { dir, name } => (*dir, name.as_str()),
        };
        if opened.as_ref().is_none_or(|(d, _)| *d != dir) {
            let fd = open_in(root, dir)?;
            let fd = ctx(
                openat(
                    fd.as_fd(),
                    ".",
                    OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
                    Mode::empty(),
                ),
                &format!("opening /{dir}"),
            )?;
            opened = Some((dir, fd));
        }
        let fd = opened.as_ref().map(|(_, fd)| fd.as_fd()).expect("opened");
        let r = match step {
            RootfsStep::Device { major, minor, .. } => mknodat(
                fd,
                name,
                SFlag::S_IFCHR,
                Mode::from_bits_truncate(0o666),
                nix::sys::stat::makedev(*major, *minor),
            ),
            RootfsStep::Dir { .. } => {
                nix::sys::stat::mkdirat(fd, name, Mode::from_bits_truncate(0o755))
            }
            RootfsStep::Symlink { target, .. } => nix::unistd::symlinkat(*target, fd, name),
            RootfsStep::Mount { .. } => unreachable!("handled above"),
        };
        ctx(r, &format!("creating /{dir}/{name}"))?;
    }
    Ok(())
}

/// Bind the root file system `rootfs` on itself, carry out `plan` in it
/// and pivot into it; then make it read-only if `readonly`.
pub(super) fn prepare_rootfs(
    rootfs: &Path,
    plan: &[RootfsStep],
    readonly: bool,
) -> Result<(), Fail> {
    let none: Option<&str> = None;
    ctx(
        mount(none, "/", none, MsFlags::MS_SLAVE | MsFlags::MS_REC, none),
        "making / a slave mount",
    )?;
    ctx(
        mount(
            Some(rootfs),
            rootfs,
            none,
            MsFlags::MS_BIND | MsFlags::MS_REC,
            none,
        ),
        "binding the root file system",
    )?;
    let root: OwnedFd = ctx(
        nix::fcntl::open(
            rootfs,
            OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            Mode::empty(),
        ),
        "opening the root file system",
    )?;
    apply_rootfs_plan(&root, plan)?;
    pivot_into(rootfs)?;
    if readonly {
        ctx(
            mount(
                none,
                "/",
                none,
                MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY,
                none,
            ),
            "making the root file system read-only",
        )?;
    }
    Ok(())
}

/// pivot_root(".", "."): the old root ends up under the new one and is
/// detached (runc's pivotRoot).
fn pivot_into(rootfs: &Path) -> Result<(), Fail> {
    let none: Option<&str> = None;
    let oldroot: OwnedFd = ctx(
        nix::fcntl::open(
            "/",
            OFlag::O_DIRECTORY | OFlag::O_RDONLY | OFlag::O_CLOEXEC,
            Mode::empty(),
        ),
        "opening /",
    )?;
    let newroot: OwnedFd = ctx(
        nix::fcntl::open(
            rootfs,
            OFlag::O_DIRECTORY | OFlag::O_RDONLY | OFlag::O_CLOEXEC,
            Mode::empty(),
        ),
        "opening the root file system",
    )?;
    ctx(fchdir(&newroot), "fchdir")?;
    ctx(pivot_root(".", "."), "pivot_root")?;
    ctx(fchdir(&oldroot), "fchdir")?;
    ctx(
        mount(none, ".", none, MsFlags::MS_SLAVE | MsFlags::MS_REC, none),
        "making the old root a slave",
    )?;
    ctx(umount2(".", MntFlags::MNT_DETACH), "detaching the old root")?;
    ctx(chdir("/"), "chdir /")?;
    Ok(())
}

/// The mounts that hide `masked` and write-protect `readonly` (absolute
/// paths, once inside the root), given what stands at a path: `None` for
/// nothing, else whether it is a directory.
fn mask_plan(
    masked: &[String],
    readonly: &[String],
    kind: impl Fn(&str) -> Option<bool>,
) -> Vec<(String, Mount)> {
    let mut plan = Vec::new();
    for p in masked {
        let Some(is_dir) = kind(p) else {
            continue;
        };
        let what = format!("masking {p}");
        let m = if is_dir {
            Mount::fs("", "tmpfs", "tmpfs", MsFlags::MS_RDONLY).data("size=0,nr_inodes=1")
        } else {
            Mount::bind("/dev/null", MsFlags::empty(), String::new())
        };
        plan.push((p.clone(), Mount { what, ..m }));
    }
    for p in readonly {
        if kind(p).is_none() {
            continue;
        }
        plan.push((
            p.clone(),
            Mount::bind(p, MsFlags::MS_REC, format!("binding {p}")),
        ));
        plan.push((
            p.clone(),
            Mount::read_only(
                MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
                format!("making {p} read-only"),
            ),
        ));
    }
    plan
}

/// Hide `masked` and write-protect `readonly` (paths inside the root,
/// after the pivot); a path that does not exist is left alone.
pub(super) fn mask_paths(masked: &[String], readonly: &[String]) -> Result<(), Fail> {
    let kind = |p: &str| std::fs::symlink_metadata(p).ok().map(|m| m.is_dir());
    for (target, m) in mask_plan(masked, readonly, kind) {
        m.apply(&target)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::isolate::spec::{Net, Options};

    /// The plan of the spec `isolate::spec` makes.
    fn plan(privileged: bool) -> Vec<RootfsStep> {
        let spec = Options {
            rootfs: "/r".into(),
            hostname: String::new(),
            args: Vec::new(),
            env: Vec::new(),
            cwd: "/".into(),
            user: crate::isolate::config::resolve_user("", "", "").unwrap(),
            net: Net::Loopback,
            privileged,
            limits: Default::default(),
            terminal: false,
            cgroups_path: None,
        }
        .build()
        .unwrap();
        rootfs_plan(spec.mounts().as_deref().unwrap()).unwrap()
    }

    fn mounts(plan: &[RootfsStep]) -> Vec<(&str, Option<&str>, &[Mount])> {
        plan.iter()
            .filter_map(|s| match s {
                RootfsStep::Mount {
                    target,
                    mount,
                    fallback,
                } => Some((
                    target.as_str(),
                    mount.fstype.as_deref(),
                    fallback.as_slice(),
                )),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_default_rootfs_has_proc_dev_and_a_read_only_sys() {
        let plan = self::plan(false);
        let m = mounts(&plan);
        let targets: Vec<_> = m.iter().map(|(t, f, _)| (*t, f.unwrap())).collect();
        assert_eq!(
            targets,
            [
                ("proc", "proc"),
                ("dev", "tmpfs"),
                ("dev/pts", "devpts"),
                ("dev/shm", "tmpfs"),
                ("dev/mqueue", "mqueue"),
                ("sys", "sysfs"),
            ]
        );
        // /dev is filled between its tmpfs and the mounts below it
        assert_eq!(plan.len(), 6 + 6 + 3 + 6);
        assert!(plan[2..17]
            .iter()
            .all(|s| !matches!(s, RootfsStep::Mount { .. })));
        assert!(plan.contains(&RootfsStep::Device {
            dir: "dev",
            name: "null",
            major: 1,
            minor: 3
        }));
        assert!(plan.contains(&RootfsStep::Symlink {
            dir: "dev",
            name: "ptmx",
            target: "pts/ptmx"
        }));
        let RootfsStep::Mount {
            mount, fallback, ..
        } = plan.last().unwrap()
        else {
            panic!("sys is mounted last")
        };
        assert!(mount
            .flags
            .contains(MsFlags::MS_RDONLY | MsFlags::MS_NOSUID));
        assert_eq!(fallback.len(), 2, "the host's /sys, bound, then read-only");
        assert!(fallback[1]
            .flags
            .contains(MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY));
        // only /sys has a fallback; nothing is mounted without NOSUID
        assert!(m[..5].iter().all(|(_, _, f)| f.is_empty()));
        for s in &plan {
            if let RootfsStep::Mount { mount, .. } = s {
                assert!(mount.flags.contains(MsFlags::MS_NOSUID), "{s:?}");
            }
        }
    }

    #[test]
    fn a_privileged_rootfs_has_a_writable_sys() {
        let privileged = plan(true);
        let RootfsStep::Mount {
            mount, fallback, ..
        } = privileged.last().unwrap()
        else {
            panic!("sys is mounted last")
        };
        assert!(!mount.flags.contains(MsFlags::MS_RDONLY));
        assert_eq!(fallback.len(), 1);
        assert!(!fallback[0].flags.contains(MsFlags::MS_RDONLY));
        // the rest is the same as for a default container
        let default = plan(false);
        let n = privileged.len() - 1;
        assert_eq!(privileged[..n], default[..default.len() - 1]);
    }

    #[test]
    fn masking_hides_what_exists_and_write_protects() {
        let masked = vec![
            "/proc/kcore".to_string(),
            "/proc/acpi".to_string(),
            "/gone".to_string(),
        ];
        let kind = |p: &str| match p {
            "/proc/kcore" | "/proc/sys" => Some(p == "/proc/sys"),
            "/proc/acpi" => Some(true),
            _ => None,
        };
        let readonly = ["/proc/sys".to_string(), "/proc/none".to_string()];
        let plan = mask_plan(&masked, &readonly, kind);
        let got: Vec<_> = plan
            .iter()
            .map(|(t, m)| {
                (
                    t.as_str(),
                    m.source.as_deref(),
                    m.fstype.as_deref(),
                    m.what.as_str(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (
                    "/proc/kcore",
                    Some("/dev/null"),
                    None,
                    "masking /proc/kcore"
                ),
                (
                    "/proc/acpi",
                    Some("tmpfs"),
                    Some("tmpfs"),
                    "masking /proc/acpi"
                ),
                ("/proc/sys", Some("/proc/sys"), None, "binding /proc/sys"),
                ("/proc/sys", None, None, "making /proc/sys read-only"),
            ]
        );
        assert!(plan[1].1.flags.contains(MsFlags::MS_RDONLY));
        assert_eq!(plan[1].1.data.as_deref(), Some("size=0,nr_inodes=1"));
        assert!(plan[3]
            .1
            .flags
            .contains(MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY | MsFlags::MS_NOEXEC));
    }

    #[test]
    fn options_are_flags_or_data_and_odd_mounts_are_refused() {
        let o = |v: &[&str]| parse_options(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        let (f, d) = o(&["nosuid", "ro", "mode=755", "size=1k", "rw"]).unwrap();
        assert_eq!(
            (f, d.as_deref()),
            (MsFlags::MS_NOSUID, Some("mode=755,size=1k"))
        );
        assert_eq!(o(&["rbind"]), Err(Unsupported::MountOption("rbind".into())));
        let m = |dest: &str, typ: &str| {
            let mut m = oci_spec::runtime::Mount::default();
            m.set_destination(dest.into()).set_typ(Some(typ.into()));
            m
        };
        assert!(matches!(
            rootfs_plan(&[m("/sys/fs/cgroup", "cgroup")]),
            Err(Unsupported::MountType { .. })
        ));
        for bad in ["/../etc", "tmp", "/"] {
            assert_eq!(
                rootfs_plan(&[m(bad, "tmpfs")]).err(),
                Some(Unsupported::MountDestination(bad.into())),
                "{bad}"
            );
        }
        let plan = rootfs_plan(&[m("/tmp/", "tmpfs")]).unwrap();
        assert!(matches!(&plan[0], RootfsStep::Mount { target, .. } if target == "tmp"));
    }
}
