//! A container's root file system: what is mounted and made in it before
//! the pivot, and what is hidden or write-protected after, as plans that
//! are data ([`rootfs_plan`] from the spec's `mounts`, [`mask_plan`] from
//! its `maskedPaths` and `readonlyPaths`), carried out by a thin layer of
//! system calls. Every target is opened below the root by file
//! descriptors and mounted on through its fd (`/proc/self/fd/N`, as runc
//! does since CVE-2021-30465), so a path swapped for a symlink between the
//! check and the mount cannot send a mount outside the root: the targets
//! of /proc, /sys and /dev are opened without following any symlink; the
//! others (bind mounts, tmpfs, ...) are resolved with the root as `/`
//! (`openat2(RESOLVE_IN_ROOT)`: a symlink to `/etc` or to `../../..` in
//! the image stays inside the root), and made there when missing (a
//! symlink to something missing too: its target, inside the root).

use super::process::{ctx, Fail};
use super::spec::Unsupported;
use nix::errno::Errno;
use nix::fcntl::{openat, OFlag};
use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sys::stat::{mknodat, Mode, SFlag};
use nix::unistd::{chdir, fchdir, pivot_root, Gid, Uid};
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

fn open_in_root(root: &OwnedFd, rel: &str) -> nix::Result<OwnedFd> {
    crate::sys::open_in_root(root.as_fd(), rel)
}

fn is_dir(fd: &OwnedFd) -> Result<bool, Fail> {
    let st = ctx(nix::sys::stat::fstat(fd.as_fd()), "fstat")?;
    Ok(SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT == SFlag::S_IFDIR)
}

/// `path` with its empty, `.` and `..` components resolved by name,
/// never above the root: a relative path inside it.
fn clean(path: &str) -> String {
    let mut v: Vec<&str> = Vec::new();
    for c in path.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                v.pop();
            }
            c => v.push(c),
        }
    }
    v.join("/")
}

/// Where the directory `fd` is, as a path below `root`.
fn in_root_path(root: &OwnedFd, fd: &OwnedFd) -> Option<String> {
    let r = crate::sys::fd_path(root.as_fd()).ok()?;
    let p = crate::sys::fd_path(fd.as_fd()).ok()?;
    Some(p.strip_prefix(r).ok()?.to_str()?.to_string())
}

/// How many symlinks making a target may go through (the kernel's
/// bound for one lookup).
const MAX_LINKS: u8 = 40;

/// The mount target `rel`, resolved inside `root`
/// ([`crate::sys::open_in_root`]); when missing it is made there: a
/// directory, or an empty file when `file`, and its missing parents as
/// directories. A symlink to something missing is followed inside the
/// root and its target made there, as runc does.
fn target_in_root(root: &OwnedFd, rel: &str, file: bool) -> Result<OwnedFd, Fail> {
    make_in_root(root, &clean(rel), file, 0)
}

fn make_in_root(root: &OwnedFd, rel: &str, file: bool, links: u8) -> Result<OwnedFd, Fail> {
    let fail = |e: &dyn std::fmt::Display| Fail(125, format!("mount target /{rel}: {e}"));
    match open_in_root(root, rel) {
        Ok(fd) => return Ok(fd),
        Err(Errno::ENOENT) => {}
        Err(e) => return Err(fail(&e)),
    }
    let (parent, name) = rel.rsplit_once('/').unwrap_or(("", rel));
    let dir = if parent.is_empty() {
        ctx(root.try_clone(), "dup")?
    } else {
        make_in_root(root, parent, false, links)?
    };
    if !is_dir(&dir)? {
        return Err(fail(&format!("/{parent} is not a directory")));
    }
    let mode = Mode::from_bits_truncate(0o755);
    let made = if file {
        openat(
            dir.as_fd(),
            name,
            OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_WRONLY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
            mode,
        )
        .map(drop)
    } else {
        nix::sys::stat::mkdirat(dir.as_fd(), name, mode)
    };
    match made {
        Ok(()) | Err(Errno::EEXIST) => {}
        Err(e) => return Err(fail(&e)),
    }
    let fd = openat(
        dir.as_fd(),
        name,
        OFlag::O_PATH | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| fail(&e))?;
    let st = ctx(nix::sys::stat::fstat(fd.as_fd()), "fstat")?;
    if SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT != SFlag::S_IFLNK {
        return Ok(fd);
    }
    // A symlink to something missing: make its target, inside the root.
    if links >= MAX_LINKS {
        return Err(fail(&"too many levels of symbolic links"));
    }
    let link = crate::sys::read_handle_link(fd.as_fd()).map_err(|e| fail(&e))?;
    let link = link
        .to_str()
        .ok_or_else(|| fail(&"a symlink that is not UTF-8"))?;
    let base = match link.starts_with('/') {
        true => String::new(),
        false => in_root_path(root, &dir).ok_or_else(|| fail(&"cannot place its directory"))?,
    };
    make_in_root(root, &clean(&format!("{base}/{link}")), file, links + 1)
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

    /// Remount the bind mount on the target with `flags` (a bind mount
    /// takes its flags only this way).
    fn remount(flags: MsFlags, what: String) -> Mount {
        Mount {
            source: None,
            fstype: None,
            flags: MsFlags::MS_BIND | MsFlags::MS_REMOUNT | flags,
            data: None,
            what,
        }
    }

    /// Remount the bind mount on the target read-only, with `flags` too.
    fn read_only(flags: MsFlags, what: String) -> Mount {
        Mount::remount(MsFlags::MS_RDONLY | flags, what)
    }

    /// Mount on `target`: a path, or /proc/self/fd/N of an opened one. A
    /// remount refused with EPERM is tried again keeping the flags the
    /// mount has ([`locked_flags`]).
    fn apply(&self, target: &str) -> Result<(), Fail> {
        let go = |flags| {
            mount(
                self.source.as_deref(),
                target,
                self.fstype.as_deref(),
                flags,
                self.data.as_deref(),
            )
        };
        let r = match go(self.flags) {
            Err(Errno::EPERM) if self.flags.contains(MsFlags::MS_REMOUNT) => {
                go(self.flags | locked_flags(target).unwrap_or(MsFlags::empty()))
            }
            r => r,
        };
        ctx(r, &self.what)
    }
}

/// The flags of the mount on `target` that a user namespace may not
/// clear on a mount it did not make (the kernel locks them when it copies
/// the host's mounts into the container's mount namespace): nosuid,
/// nodev, noexec, read-only and the atime ones. A remount in a user
/// namespace keeps them, as runc's does.
pub(super) fn locked_flags(target: &str) -> Option<MsFlags> {
    use nix::sys::statvfs::FsFlags;
    let st = nix::sys::statvfs::statvfs(target).ok()?;
    let f = st.flags();
    let pairs = [
        (FsFlags::ST_NOSUID, MsFlags::MS_NOSUID),
        (FsFlags::ST_NODEV, MsFlags::MS_NODEV),
        (FsFlags::ST_NOEXEC, MsFlags::MS_NOEXEC),
        (FsFlags::ST_RDONLY, MsFlags::MS_RDONLY),
        (FsFlags::ST_NOATIME, MsFlags::MS_NOATIME),
        (FsFlags::ST_NODIRATIME, MsFlags::MS_NODIRATIME),
        (FsFlags::ST_RELATIME, MsFlags::MS_RELATIME),
    ];
    Some(
        pairs
            .into_iter()
            .filter(|(st, _)| f.contains(*st))
            .fold(MsFlags::empty(), |acc, (_, ms)| acc | ms),
    )
}

/// One step of preparing a container's root file system. Paths are
/// relative to the root; every target is opened below it by fds and
/// mounted on through its fd.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum RootfsStep {
    /// Mount on the directory `target`; when that fails and there is a
    /// `fallback`, its mounts instead, in order, on the same directory.
    /// `in_root`: the target is resolved with the root as `/` and made
    /// when missing ([`target_in_root`]); else it must be a real
    /// directory, reached without following any symlink.
    Mount {
        target: String,
        mount: Mount,
        fallback: Vec<Mount>,
        in_root: bool,
        propagation: Option<MsFlags>,
    },
    /// Bind the host's `source` (a directory or a file, followed as the
    /// host sees it) on `target`, resolved inside the root and made there
    /// as the same kind when missing; then, with `remount`, remount it
    /// with those flags (read-only, nosuid, ...), and set its
    /// `propagation`.
    Bind {
        target: String,
        source: String,
        recursive: bool,
        remount: Option<MsFlags>,
        propagation: Option<MsFlags>,
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
    /// Make the node `path` (below the root, its directories made as
    /// needed) of `kind`, mode and owner, as `linux.devices` asks; one
    /// already there is left as it is (runc's reading).
    Node {
        path: String,
        kind: SFlag,
        major: u64,
        minor: u64,
        mode: u32,
        uid: u32,
        gid: u32,
    },
    /// Make the symlink `dir/name` to `target`.
    Symlink {
        dir: &'static str,
        name: &'static str,
        target: &'static str,
    },
}

/// A mount's `options`, as mount(8) reads them.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Parsed {
    flags: MsFlags,
    data: Option<String>,
    /// `bind` (false) or `rbind` (true).
    bind: Option<bool>,
    /// The propagation to set after the mount (`MS_REC` for the `r` forms).
    propagation: Option<MsFlags>,
}

/// The flags, data, bind and propagation of a mount's `options`, as
/// mount(8) reads them. `remount` is refused: a spec's mounts are new.
fn parse_options(options: &[String]) -> Result<Parsed, Unsupported> {
    let mut p = Parsed {
        flags: MsFlags::empty(),
        data: None,
        bind: None,
        propagation: None,
    };
    let mut data: Vec<&str> = Vec::new();
    for o in options {
        let rec = MsFlags::MS_REC;
        let prop = match o.as_str() {
            "private" => Some(MsFlags::MS_PRIVATE),
            "rprivate" => Some(MsFlags::MS_PRIVATE | rec),
            "shared" => Some(MsFlags::MS_SHARED),
            "rshared" => Some(MsFlags::MS_SHARED | rec),
            "slave" => Some(MsFlags::MS_SLAVE),
            "rslave" => Some(MsFlags::MS_SLAVE | rec),
            "unbindable" => Some(MsFlags::MS_UNBINDABLE),
            "runbindable" => Some(MsFlags::MS_UNBINDABLE | rec),
            _ => None,
        };
        if prop.is_some() {
            p.propagation = prop;
            continue;
        }
        let (set, flag) = match o.as_str() {
            "bind" | "rbind" => {
                p.bind = Some(o == "rbind");
                continue;
            }
            "remount" => return Err(Unsupported::MountOption(o.clone())),
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
            _ => {
                data.push(o);
                continue;
            }
        };
        if set {
            p.flags |= flag;
        } else {
            p.flags.remove(flag);
        }
    }
    p.data = (!data.is_empty()).then(|| data.join(","));
    Ok(p)
}

/// The propagation `linux.rootfsPropagation` names (mount(8)'s
/// `private`, `rslave`, ...).
pub(super) fn propagation(name: &str) -> Result<MsFlags, Unsupported> {
    parse_options(&[name.to_string()])
        .ok()
        .and_then(|p| p.propagation)
        .ok_or_else(|| Unsupported::RootfsPropagation(name.into()))
}

/// The steps making the nodes of `linux.devices`, after every mount;
/// with `bind` (where no node can be made: a user namespace), the host's
/// node of the same path bound on each instead, as runc does there.
pub(super) fn device_plan(
    devices: &[oci_spec::runtime::LinuxDevice],
    bind: bool,
) -> Result<Vec<RootfsStep>, Unsupported> {
    use oci_spec::runtime::LinuxDeviceType as T;
    devices
        .iter()
        .map(|d| {
            let bad = |what| Unsupported::DeviceNode {
                path: d.path().clone(),
                what,
            };
            let path =
                relative(d.path()).map_err(|_| bad("not an absolute path below the root"))?;
            let kind = match d.typ() {
                T::C | T::U => SFlag::S_IFCHR,
                T::B => SFlag::S_IFBLK,
                T::P => SFlag::S_IFIFO,
                T::A => return Err(bad("type a is for device rules, not nodes")),
            };
            let number = |n: i64| u64::try_from(n).map_err(|_| bad("a negative device number"));
            if bind {
                return Ok(RootfsStep::Bind {
                    target: path,
                    source: d.path().display().to_string(),
                    recursive: false,
                    remount: None,
                    propagation: None,
                });
            }
            Ok(RootfsStep::Node {
                path,
                kind,
                major: number(d.major())?,
                minor: number(d.minor())?,
                mode: d.file_mode().unwrap_or(0o666) & 0o7777,
                uid: d.uid().unwrap_or(0),
                gid: d.gid().unwrap_or(0),
            })
        })
        .collect()
}

/// Make the node of a [`RootfsStep::Node`] below `root`.
fn make_node(root: &OwnedFd, step: &RootfsStep) -> Result<(), Fail> {
    let RootfsStep::Node {
        path,
        kind,
        major,
        minor,
        mode,
        uid,
        gid,
    } = step
    else {
        return Ok(());
    };
    let (parent, name) = path.rsplit_once('/').unwrap_or(("", path));
    let dir = match parent {
        "" => ctx(root.try_clone(), "dup")?,
        p => target_in_root(root, p, false)?,
    };
    let dir = ctx(
        openat(
            dir.as_fd(),
            ".",
            OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            Mode::empty(),
        ),
        &format!("opening /{parent}"),
    )?;
    let dev = nix::sys::stat::makedev(*major, *minor);
    match mknodat(
        dir.as_fd(),
        name,
        *kind,
        Mode::from_bits_truncate(*mode),
        dev,
    ) {
        Err(Errno::EEXIST) => return Ok(()),
        r => ctx(r, &format!("creating device /{path}"))?,
    }
    ctx(
        nix::unistd::fchownat(
            dir.as_fd(),
            name,
            Some(Uid::from_raw(*uid)),
            Some(Gid::from_raw(*gid)),
            nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW,
        ),
        &format!("chown of device /{path}"),
    )
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

/// Whether a mount is a bind mount: of type `bind`, or with a `bind` or
/// `rbind` option (as runc reads a spec).
fn is_bind(m: &oci_spec::runtime::Mount) -> bool {
    m.typ().as_deref() == Some("bind")
        || m.options()
            .iter()
            .flatten()
            .any(|o| o == "bind" || o == "rbind")
}

/// Targets in /proc, /sys and /dev are the runtime's: they must be real
/// directories, never reached through a symlink.
fn strict(target: &str) -> bool {
    ["proc", "sys", "dev"]
        .iter()
        .any(|d| target == *d || target.starts_with(&format!("{d}/")))
}

/// What goes into the root file system before the pivot: the spec's
/// `mounts`, in order. A tmpfs on /dev is filled as runc fills it
/// (docker's device nodes, the directories of the mounts below it, the
/// standard links) before those are mounted. A sysfs that cannot be
/// mounted (no network namespace of our own) falls back to the host's
/// /sys, bound and, if the mount asked for it, made read-only. A bind
/// mount is bound, then remounted when it asks for flags a bind cannot
/// set (read-only, nosuid, nodev, noexec, ...).
pub(super) fn rootfs_plan(
    mounts: &[oci_spec::runtime::Mount],
    bind_devices: bool,
) -> Result<Vec<RootfsStep>, Unsupported> {
    let mut plan = Vec::new();
    let targets: Vec<String> = mounts
        .iter()
        .map(|m| relative(m.destination()))
        .collect::<Result<_, _>>()?;
    for (i, (m, target)) in mounts.iter().zip(&targets).enumerate() {
        let fstype = m.typ().as_deref().unwrap_or("none");
        if fstype.starts_with("cgroup") {
            return Err(Unsupported::MountType {
                fstype: fstype.to_string(),
                destination: m.destination().clone(),
            });
        }
        let p = parse_options(m.options().as_deref().unwrap_or_default())?;
        let source = m.source().as_ref().and_then(|p| p.to_str());
        if is_bind(m) {
            plan.push(bind_step(m, target, source, p)?);
            continue;
        }
        let mut mount = Mount::fs(target, fstype, source.unwrap_or(fstype), p.flags);
        mount.data = p.data;
        let mut fallback = Vec::new();
        if fstype == "sysfs" {
            let bind_flags = p.flags - MsFlags::MS_RDONLY;
            fallback.push(Mount::bind("/sys", MsFlags::MS_REC, "binding /sys".into()));
            if p.flags.contains(MsFlags::MS_RDONLY) {
                fallback.push(Mount::read_only(bind_flags, "making /sys read-only".into()));
            }
        }
        plan.push(RootfsStep::Mount {
            target: target.clone(),
            mount,
            fallback,
            in_root: !strict(target),
            propagation: p.propagation,
        });
        if target == "dev" && fstype == "tmpfs" {
            let later: Vec<String> = mounts[i + 1..]
                .iter()
                .zip(&targets[i + 1..])
                .filter(|(m, _)| !is_bind(m))
                .map(|(_, t)| t.clone())
                .collect();
            fill_dev(&mut plan, &later, bind_devices);
        }
    }
    Ok(plan)
}

/// The step of a bind mount of `source` on `target`.
fn bind_step(
    m: &oci_spec::runtime::Mount,
    target: &str,
    source: Option<&str>,
    p: Parsed,
) -> Result<RootfsStep, Unsupported> {
    let source = source.filter(|s| s.starts_with('/')).ok_or_else(|| {
        Unsupported::MountOption(format!(
            "a bind mount on {} needs an absolute source",
            m.destination().display()
        ))
    })?;
    if let Some(d) = p.data {
        return Err(Unsupported::MountOption(d));
    }
    Ok(RootfsStep::Bind {
        target: target.to_string(),
        source: source.to_string(),
        recursive: p.bind.unwrap_or(false),
        remount: (!p.flags.is_empty()).then_some(p.flags),
        propagation: p.propagation,
    })
}

/// The nodes, directories and links of a fresh /dev; `later` are the
/// targets mounted after it. With `bind` (rootless, or in a user
/// namespace of the container's own), where no device node can be made,
/// the host's nodes are bound instead (as runc and podman do there).
fn fill_dev(plan: &mut Vec<RootfsStep>, later: &[String], bind: bool) {
    for (name, major, minor) in DEVICES {
        plan.push(if bind {
            RootfsStep::Bind {
                target: format!("dev/{name}"),
                source: format!("/dev/{name}"),
                recursive: false,
                remount: None,
                propagation: None,
            }
        } else {
            RootfsStep::Device {
                dir: "dev",
                name,
                major,
                minor,
            }
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

/// Set the propagation `p` of the mount whose root `mnt` holds (an fd
/// from [`bind_by_fd`] or [`fs_by_fd`]), never looking it up by path.
fn set_propagation(mnt: &OwnedFd, target: &str, p: MsFlags) -> Result<(), Fail> {
    let none: Option<&str> = None;
    ctx(
        mount(none, fd_path(mnt).as_str(), none, p, none),
        &format!("setting the propagation of /{target}"),
    )
}

/// Carry out a [`RootfsStep::Bind`].
fn apply_bind(root: &OwnedFd, step: &RootfsStep) -> Result<(), Fail> {
    let RootfsStep::Bind {
        target,
        source,
        recursive,
        remount,
        propagation,
    } = step
    else {
        return Ok(());
    };
    let src = ctx(
        nix::fcntl::open(
            source.as_str(),
            OFlag::O_PATH | OFlag::O_CLOEXEC,
            Mode::empty(),
        ),
        &format!("opening the bind mount's source {source}"),
    )?;
    let dir = is_dir(&src)?;
    let fd = target_in_root(root, target, !dir)?;
    if is_dir(&fd)? != dir {
        let (s, t) = if dir {
            ("a directory", "a file")
        } else {
            ("a file", "a directory")
        };
        return Err(Fail(
            125,
            format!("cannot bind {s} ({source}) on {t} (/{target})"),
        ));
    }
    let rec = if *recursive {
        MsFlags::MS_REC
    } else {
        MsFlags::empty()
    };
    // The new mount is reached by the fd it was made from, never by its
    // path again: the path may lead elsewhere by now (CVE-2021-30465).
    let mnt = ctx(
        bind_by_fd(&src, &fd, rec),
        &format!("binding {source} on /{target}"),
    )?;
    drop(fd);
    if let Some(flags) = remount {
        let what = format!("remounting /{target} with its options");
        Mount::remount(*flags, what).apply(&fd_path(&mnt))?;
    }
    if let Some(p) = propagation {
        set_propagation(&mnt, target, *p)?;
    }
    Ok(())
}

/// Bind `src` on `target` by fds: a detached copy of the mount tree at
/// `src` (`open_tree(OPEN_TREE_CLONE)`, its submounts too with `MS_REC`)
/// attached on the directory or file `target` holds (`move_mount`).
/// Returns the fd of the new mount's root: `/proc/self/fd/N` of it leads
/// to that mount, wherever a path to it leads meanwhile. (A classic bind
/// on `/proc/self/fd/N` of the target leaves no such handle: reaching the
/// mount to remount it read-only took a second lookup by path, which a
/// container sharing a volume above the target could send to a symlink.)
fn bind_by_fd(src: &OwnedFd, target: &OwnedFd, rec: MsFlags) -> std::io::Result<OwnedFd> {
    let tree = super::fsmount::clone_tree(src, rec.contains(MsFlags::MS_REC))?;
    super::fsmount::move_to(&tree, target)?;
    Ok(tree)
}

/// Mount a new file system of `m`'s type, source, data and flags on the
/// directory `target` holds, by fds: `fsopen`, `fsconfig` (each option of
/// `data` as mount(2) would pass it, then the superblock's flags),
/// `fsmount` (the mount's flags) and `move_mount` onto `target`. Returns
/// the fd of the new mount's root, as [`bind_by_fd`] does: its
/// propagation is then set through it. (mount(2) on `/proc/self/fd/N` of
/// the target leaves no handle on the new mount, only on the directory
/// under it, so the propagation took a second lookup by path, which a
/// container sharing a volume above the target could send elsewhere.)
fn fs_by_fd(m: &Mount, target: &OwnedFd) -> std::io::Result<OwnedFd> {
    use super::fsmount as fs;
    let fstype = m.fstype.as_deref().unwrap_or("none");
    let ctx = fs::open(fstype)?;
    if let Some(source) = &m.source {
        fs::set(&ctx, "source", Some(source))?;
    }
    for opt in m.data.iter().flat_map(|d| d.split(',')) {
        match opt.split_once('=') {
            Some((k, v)) => fs::set(&ctx, k, Some(v))?,
            None if !opt.is_empty() => fs::set(&ctx, opt, None)?,
            None => {}
        }
    }
    let sb_flags = [
        (MsFlags::MS_RDONLY, "ro"),
        (MsFlags::MS_SYNCHRONOUS, "sync"),
        (MsFlags::MS_DIRSYNC, "dirsync"),
        (MsFlags::MS_LAZYTIME, "lazytime"),
    ];
    for (flag, name) in sb_flags {
        if m.flags.contains(flag) {
            fs::set(&ctx, name, None)?;
        }
    }
    let mnt = fs::create(&ctx, fs::attrs(m.flags))?;
    fs::move_to(&mnt, target)?;
    Ok(mnt)
}

/// Mount `mount` on the directory `fd` holds, or when that fails and
/// there is a `fallback`, bind its first (the host's /sys) and apply the
/// rest (a remount) through the new mount's fd. Returns that fd: the new
/// mount is never looked up by its path again.
fn mount_step(fd: &OwnedFd, mount: &Mount, fallback: &[Mount]) -> Result<OwnedFd, Fail> {
    let first = match fs_by_fd(mount, fd) {
        Err(e) if fallback.is_empty() => return ctx(Err(e), &mount.what),
        Err(_) => &fallback[0],
        Ok(mnt) => return Ok(mnt),
    };
    let source = first.source.as_deref().unwrap_or("/");
    let src = ctx(
        nix::fcntl::open(source, OFlag::O_PATH | OFlag::O_CLOEXEC, Mode::empty()),
        &format!("opening {source}"),
    )?;
    let rec = first.flags & MsFlags::MS_REC;
    let mnt = ctx(bind_by_fd(&src, fd, rec), &first.what)?;
    for m in &fallback[1..] {
        m.apply(&fd_path(&mnt))?;
    }
    Ok(mnt)
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
                in_root,
                propagation,
            } => {
                opened = None;
                let fd = match in_root {
                    true => target_in_root(root, target, false)?,
                    false => open_in(root, target)?,
                };
                let mnt = mount_step(&fd, mount, fallback)?;
                if let Some(p) = propagation {
                    set_propagation(&mnt, target, *p)?;
                }
                continue;
            }
            RootfsStep::Bind { .. } => {
                opened = None;
                apply_bind(root, step)?;
                continue;
            }
            RootfsStep::Node { .. } => {
                make_node(root, step)?;
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
        // /dev/core only where the kernel has /proc/kcore, as runc links it
        let kcore = matches!(
            step,
            RootfsStep::Symlink {
                target: "/proc/kcore",
                ..
            }
        );
        if kcore && !Path::new("/proc/kcore").exists() {
            continue;
        }
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
            RootfsStep::Mount { .. } | RootfsStep::Bind { .. } | RootfsStep::Node { .. } => {
                unreachable!("handled above")
            }
        };
        ctx(r, &format!("creating /{dir}/{name}"))?;
    }
    Ok(())
}

/// Bind the root file system `rootfs` on itself, carry out `plan` in it,
/// call `before_pivot` (the createContainer hooks) and pivot into it;
/// then make it read-only if `readonly`, and give `/`
/// the `propagation` asked for. The host's mounts are made slaves first
/// whatever is asked, so no mount of the container's reaches the host
/// (`rshared` shares them within the container only).
pub(super) fn prepare_rootfs(
    rootfs: &Path,
    plan: &[RootfsStep],
    readonly: bool,
    propagation: Option<MsFlags>,
    before_pivot: impl FnOnce() -> Result<(), Fail>,
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
    before_pivot()?;
    pivot_into(rootfs)?;
    if readonly {
        let what = "making the root file system read-only".to_string();
        Mount::read_only(MsFlags::empty(), what).apply("/")?;
    }
    if let Some(p) = propagation {
        ctx(
            mount(none, "/", none, p, none),
            "setting linux.rootfsPropagation",
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
        rootfs_plan(spec.mounts().as_deref().unwrap(), false).unwrap()
    }

    fn mounts(plan: &[RootfsStep]) -> Vec<(&str, Option<&str>, &[Mount])> {
        plan.iter()
            .filter_map(|s| match s {
                RootfsStep::Mount {
                    target,
                    mount,
                    fallback,
                    ..
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
        let p = o(&["nosuid", "ro", "mode=755", "size=1k", "rw"]).unwrap();
        assert_eq!(
            (p.flags, p.data.as_deref()),
            (MsFlags::MS_NOSUID, Some("mode=755,size=1k"))
        );
        let p = o(&["rbind", "rprivate", "ro"]).unwrap();
        assert_eq!(p.bind, Some(true));
        assert_eq!(p.propagation, Some(MsFlags::MS_PRIVATE | MsFlags::MS_REC));
        assert_eq!(
            o(&["remount"]),
            Err(Unsupported::MountOption("remount".into()))
        );
        let m = |dest: &str, typ: &str| {
            let mut m = oci_spec::runtime::Mount::default();
            m.set_destination(dest.into()).set_typ(Some(typ.into()));
            m
        };
        assert!(matches!(
            rootfs_plan(&[m("/sys/fs/cgroup", "cgroup")], false),
            Err(Unsupported::MountType { .. })
        ));
        for bad in ["/../etc", "tmp", "/"] {
            assert_eq!(
                rootfs_plan(&[m(bad, "tmpfs")], false).err(),
                Some(Unsupported::MountDestination(bad.into())),
                "{bad}"
            );
        }
        let plan = rootfs_plan(&[m("/tmp/", "tmpfs")], false).unwrap();
        assert!(matches!(&plan[0], RootfsStep::Mount { target, .. } if target == "tmp"));
    }

    fn bind(dest: &str, source: &str, options: &[&str]) -> oci_spec::runtime::Mount {
        let mut m = oci_spec::runtime::Mount::default();
        m.set_destination(dest.into())
            .set_typ(Some("bind".into()))
            .set_source(Some(source.into()))
            .set_options(Some(options.iter().map(|s| s.to_string()).collect()));
        m
    }

    #[test]
    fn bind_mounts_are_bound_then_remounted_with_their_flags() {
        let plan = rootfs_plan(
            &[
                bind("/data", "/srv/d", &["rbind", "rprivate", "ro", "nosuid"]),
                bind("/etc/hosts", "/c/hosts", &["bind"]),
            ],
            false,
        )
        .unwrap();
        assert_eq!(
            plan,
            [
                RootfsStep::Bind {
                    target: "data".into(),
                    source: "/srv/d".into(),
                    recursive: true,
                    remount: Some(MsFlags::MS_RDONLY | MsFlags::MS_NOSUID),
                    propagation: Some(MsFlags::MS_PRIVATE | MsFlags::MS_REC),
                },
                RootfsStep::Bind {
                    target: "etc/hosts".into(),
                    source: "/c/hosts".into(),
                    recursive: false,
                    remount: None,
                    propagation: None,
                },
            ]
        );
        // a bind with no absolute source, or with data, is refused
        assert!(rootfs_plan(&[bind("/d", "rel", &[])], false).is_err());
        assert!(rootfs_plan(&[bind("/d", "/s", &["size=1k"])], false).is_err());
        // a bind under /dev is not made a directory of the fresh /dev
        let mut dev = oci_spec::runtime::Mount::default();
        dev.set_destination("/dev".into())
            .set_typ(Some("tmpfs".into()));
        let plan = rootfs_plan(&[dev, bind("/dev/fuse", "/dev/fuse", &["bind"])], false).unwrap();
        assert!(!plan
            .iter()
            .any(|s| matches!(s, RootfsStep::Dir { name, .. } if name == "fuse")));
    }

    #[test]
    fn a_tmpfs_of_the_user_is_resolved_in_the_root_and_procs_is_not() {
        let tmpfs = |dest: &str| {
            let mut m = oci_spec::runtime::Mount::default();
            m.set_destination(dest.into()).set_typ(Some("tmpfs".into()));
            m
        };
        let plan = rootfs_plan(
            &[tmpfs("/run/x"), tmpfs("/dev/shm"), tmpfs("/devices")],
            false,
        )
        .unwrap();
        let in_root: Vec<bool> = plan
            .iter()
            .map(|s| matches!(s, RootfsStep::Mount { in_root: true, .. }))
            .collect();
        assert_eq!(in_root, [true, false, true]);
    }

    /// The attacker's image: its /data is a symlink to /etc, to
    /// ../../.., to nothing, and two in a loop; the host's files must
    /// stay untouched.
    #[test]
    fn targets_resolve_inside_the_root_whatever_the_symlinks_say() {
        let dir = crate::testutil::TempDir::new("rootfs-in-root");
        let root = dir.path().join("root");
        std::fs::create_dir_all(root.join("etc")).unwrap();
        std::fs::create_dir_all(root.join("tmp")).unwrap();
        let root = root.canonicalize().unwrap();
        std::os::unix::fs::symlink("/etc", root.join("data")).unwrap();
        std::os::unix::fs::symlink("../../../../../../tmp", root.join("up")).unwrap();
        std::os::unix::fs::symlink("/nowhere", root.join("dangling")).unwrap();
        let fd: OwnedFd = nix::fcntl::open(
            &root,
            OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .unwrap();
        let at = |fd: &OwnedFd| crate::sys::fd_path(fd.as_fd()).unwrap();
        let t = target_in_root(&fd, "data", false).unwrap();
        assert_eq!(at(&t), root.join("etc"));
        // made inside the root, through the symlink
        let t = target_in_root(&fd, "data/new/file", true).unwrap();
        assert_eq!(at(&t), root.join("etc/new/file"));
        assert!(root.join("etc/new/file").is_file());
        assert!(!std::path::Path::new("/etc/new/file").exists());
        let t = target_in_root(&fd, "up/made", false).unwrap();
        assert_eq!(at(&t), root.join("tmp/made"));
        // a symlink to nothing: its target is made, inside the root
        let t = target_in_root(&fd, "dangling/x", true).unwrap();
        assert_eq!(at(&t), root.join("nowhere/x"));
        assert!(!std::path::Path::new("/nowhere").exists());
        std::os::unix::fs::symlink("../../../loop2", root.join("loop1")).unwrap();
        std::os::unix::fs::symlink("loop1", root.join("loop2")).unwrap();
        assert!(target_in_root(&fd, "loop1", false).is_err());
        assert_eq!(clean("/a/./b/../../../c//d"), "c/d");
    }
}
