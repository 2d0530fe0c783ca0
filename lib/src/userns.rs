//! The user namespace cairn runs in.
//!
//! Root runs in the host's. An ordinary user's commands ("rootless") all
//! join one user namespace and one mount namespace per store, held open by
//! a small process of their own (`cairn-userns`, its pid in the store's
//! `rootless.pid`): inside it the user is root, container ids 1..N are the
//! user's subordinate range from /etc/subuid and /etc/subgid (mapped by
//! `newuidmap`/`newgidmap`, Debian's uidmap), so a layer's files keep their
//! owners as the tar names them; and a mount one command makes (a union
//! view) is there for the next. Sharing one namespace is also what lets
//! `stop` signal a container another command started. `docs/rootless.md`.

use nix::fcntl::{Flock, FlockArg};
use nix::sched::{setns, unshare, CloneFlags};
use nix::unistd::{fork, getgid, getuid, ForkResult, Gid, Pid, Uid, User};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The name of the process that holds a store's namespaces.
const HOLDER: &str = "cairn-userns";

/// What went wrong entering the rootless namespaces.
#[derive(Debug, thiserror::Error)]
pub enum UsernsError {
    #[error("user {user} has no subordinate {kind} range in {file}: add one as root, e.g. `usermod --add-subuids 100000-165535 --add-subgids 100000-165535 {user}`")]
    NoRange {
        user: String,
        kind: &'static str,
        file: &'static str,
    },
    #[error("{tool} is not installed: install Debian's uidmap package (rootless cairn maps ids with it)")]
    NoTool { tool: &'static str },
    #[error("{tool} refused to map the ids: {message}")]
    Map { tool: &'static str, message: String },
    #[error("{what}")]
    Io {
        what: String,
        #[source]
        source: io::Error,
    },
}

fn io_err(what: impl Into<String>) -> impl FnOnce(io::Error) -> UsernsError {
    let what = what.into();
    move |source| UsernsError::Io { what, source }
}

fn nix_err(what: impl Into<String>) -> impl FnOnce(nix::Error) -> UsernsError {
    let what = what.into();
    move |e| UsernsError::Io {
        what,
        source: e.into(),
    }
}

/// Whether this process is not root of the host's user namespace: an
/// ordinary user, or (root of) a user namespace cairn or anyone else made.
/// Such a process cannot write `trusted.*` xattrs, make device nodes,
/// configure cgroups it was not given, or touch the host's network.
pub fn rootless() -> bool {
    static ROOTLESS: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ROOTLESS.get_or_init(|| !nix::unistd::geteuid().is_root() || !in_initial_namespace())
}

/// In a user namespace, the highest id that both its uid and its gid map
/// cover from 0 on (a file can be given no owner above it); `None` in the
/// host's.
pub fn last_mapped() -> Option<u32> {
    static LAST: std::sync::OnceLock<Option<u32>> = std::sync::OnceLock::new();
    *LAST.get_or_init(|| {
        if in_initial_namespace() {
            return None;
        }
        let last = |file: &str| {
            let text = fs::read_to_string(file).unwrap_or_default();
            contiguous_top(&text)
        };
        Some(last("/proc/self/uid_map").min(last("/proc/self/gid_map")))
    })
}

/// The last id of the run of ids mapped from 0 in a `uid_map`'s text
/// (lines of inside, outside, count); 0 when 0 itself is unmapped.
fn contiguous_top(map: &str) -> u32 {
    let mut ranges: Vec<(u64, u64)> = map
        .lines()
        .filter_map(|l| {
            let f: Vec<u64> = l
                .split_whitespace()
                .filter_map(|x| x.parse().ok())
                .collect();
            (f.len() == 3).then(|| (f[0], f[2]))
        })
        .collect();
    ranges.sort();
    let mut next = 0u64;
    for (start, count) in ranges {
        if start > next {
            break;
        }
        next = next.max(start + count);
    }
    u32::try_from(next.saturating_sub(1)).unwrap_or(u32::MAX)
}

/// The host's user namespace maps every id to itself.
fn in_initial_namespace() -> bool {
    fs::read_to_string("/proc/self/uid_map")
        .map(|m| m.split_whitespace().collect::<Vec<_>>() == ["0", "0", "4294967295"])
        .unwrap_or(true)
}

/// For an ordinary user, join (or first make) the namespaces of the store
/// at `root`, and become root inside them. Root does nothing. Call it
/// before any thread is started: the kernel lets only a single-threaded
/// process change its user namespace.
pub fn enter(root: &Path) -> Result<(), UsernsError> {
    if nix::unistd::geteuid().is_root() {
        return Ok(());
    }
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(root)
        .map_err(io_err(format!("creating {}", root.display())))?;
    let lock_path = root.join("rootless.lock");
    let lock = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(&lock_path)
        .map_err(io_err(format!("opening {}", lock_path.display())))?;
    let _lock = Flock::lock(lock, FlockArg::LockExclusive)
        .map_err(|(_, e)| nix_err(format!("locking {}", lock_path.display()))(e))?;
    let pid_path = root.join("rootless.pid");
    let recorded = Recorded::read(&pid_path);
    let pid = match recorded.as_ref().and_then(Recorded::holder) {
        Some(pid) => pid,
        None => {
            // None yet, or the last one died. Its namespaces live on while
            // a process is in them (a running container's supervisor):
            // a new holder joins them, and nothing is lost. Else a fresh
            // pair, the mounts of the dead one gone with it.
            let survivor = recorded.as_ref().and_then(Recorded::survivor);
            let adopted = survivor.and_then(|s| spawn_holder_in(s).ok());
            let pid = match adopted {
                Some(pid) => pid,
                None => spawn_holder()?,
            };
            write_small(&pid_path, &Recorded::of(pid).text())?;
            pid
        }
    };
    join(pid)
}

/// What `rootless.pid` says: the holder (`PID START`, its start time in
/// clock ticks after boot), then which namespaces it holds (the inode
/// numbers of its user and mount namespaces, and the boot they belong
/// to).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Recorded {
    pid: i32,
    start: Option<u64>,
    ns: Option<Namespaces>,
}

/// A user and a mount namespace, as one boot numbers them.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Namespaces {
    user: u64,
    mnt: u64,
    boot: String,
}

impl Namespaces {
    fn of(pid: i32) -> Option<Namespaces> {
        let ino = |ns: &str| {
            fs::metadata(format!("/proc/{pid}/ns/{ns}"))
                .ok()
                .map(|m| m.ino())
        };
        Some(Namespaces {
            user: ino("user")?,
            mnt: ino("mnt")?,
            boot: crate::liveness::boot_id()?,
        })
    }
}

impl Recorded {
    fn of(pid: Pid) -> Recorded {
        Recorded {
            pid: pid.as_raw(),
            start: crate::liveness::proc_start_time(pid.as_raw()),
            ns: Namespaces::of(pid.as_raw()),
        }
    }

    fn text(&self) -> String {
        let mut t = self.pid.to_string();
        if let Some(s) = self.start {
            t += &format!(" {s}");
            if let Some(ns) = &self.ns {
                t += &format!(" {} {} {}", ns.user, ns.mnt, ns.boot);
            }
        }
        t
    }

    fn parse(text: &str) -> Option<Recorded> {
        let f: Vec<&str> = text.split_whitespace().collect();
        let ns = match f.get(2..5) {
            Some([user, mnt, boot]) => Some(Namespaces {
                user: user.parse().ok()?,
                mnt: mnt.parse().ok()?,
                boot: boot.to_string(),
            }),
            _ => None,
        };
        Some(Recorded {
            pid: f.first()?.parse().ok()?,
            start: f.get(1).and_then(|s| s.parse().ok()),
            ns,
        })
    }

    fn read(path: &Path) -> Option<Recorded> {
        Recorded::parse(&fs::read_to_string(path).ok()?)
    }

    /// The live holder it names: a `cairn-userns` process of this user,
    /// not a zombie, that started then (a pid reused by another process,
    /// even another store's holder, is not it).
    fn holder(&self) -> Option<Pid> {
        let pid = self.pid;
        if !crate::liveness::alive(Some(pid), self.start) {
            return None;
        }
        let proc = PathBuf::from(format!("/proc/{pid}"));
        let comm = fs::read_to_string(proc.join("comm")).ok()?;
        let owner = fs::metadata(&proc).ok()?.uid();
        (comm.trim_end() == HOLDER && owner == getuid().as_raw()).then_some(Pid::from_raw(pid))
    }

    /// A live process of this user's still in the namespaces the dead
    /// holder held.
    fn survivor(&self) -> Option<Pid> {
        let want = self.ns.as_ref()?;
        let me = getuid().as_raw();
        fs::read_dir("/proc").ok()?.flatten().find_map(|e| {
            let pid: i32 = e.file_name().to_str()?.parse().ok()?;
            let mine = e.metadata().ok()?.uid() == me;
            let live = crate::liveness::alive(Some(pid), None);
            (mine && live && Namespaces::of(pid).as_ref() == Some(want))
                .then_some(Pid::from_raw(pid))
        })
    }
}

/// Write a small file by rename, so a reader never sees half of it.
fn write_small(path: &Path, text: &str) -> Result<(), UsernsError> {
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    fs::write(&tmp, text)
        .and_then(|()| fs::rename(&tmp, path))
        .map_err(io_err(format!("writing {}", path.display())))
}

/// Join the holder's user and mount namespaces, keeping the working
/// directory (joining a mount namespace moves it to that namespace's `/`).
fn join(pid: Pid) -> Result<(), UsernsError> {
    let cwd = std::env::current_dir().ok();
    let open = |ns: &str| {
        let p = format!("/proc/{pid}/ns/{ns}");
        File::open(&p).map_err(io_err(format!("opening {p}")))
    };
    let (user, mnt) = (open("user")?, open("mnt")?);
    setns(&user, CloneFlags::CLONE_NEWUSER).map_err(nix_err(
        "joining the rootless user namespace (a process must do it before it starts threads)",
    ))?;
    setns(&mnt, CloneFlags::CLONE_NEWNS)
        .map_err(nix_err("joining the rootless mount namespace"))?;
    // Unmapped supplementary groups would show as nogroup: drop them.
    let _ = nix::unistd::setgroups(&[]);
    if let Some(cwd) = cwd {
        std::env::set_current_dir(&cwd)
            .map_err(io_err(format!("returning to {}", cwd.display())))?;
    }
    Ok(())
}

/// A subordinate range: the first id and how many.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    pub start: u32,
    pub count: u32,
}

/// The first range of `user` (by name or number) in a subuid/subgid file.
pub fn range_in(text: &str, name: &str, id: u32) -> Option<Range> {
    text.lines().find_map(|line| {
        let mut f = line.trim().splitn(3, ':');
        let (who, start, count) = (f.next()?, f.next()?, f.next()?);
        if who != name && who.parse::<u32>().ok() != Some(id) {
            return None;
        }
        let r = Range {
            start: start.parse().ok()?,
            count: count.parse().ok()?,
        };
        (r.count > 0).then_some(r)
    })
}

/// The user's name and subordinate uid and gid ranges.
fn ranges() -> Result<(String, Range, Range), UsernsError> {
    let (uid, gid) = (getuid(), getgid());
    let name = User::from_uid(uid)
        .ok()
        .flatten()
        .map(|u| u.name)
        .unwrap_or_else(|| uid.to_string());
    let find = |file: &'static str, kind: &'static str, id: u32| {
        let text = fs::read_to_string(file).unwrap_or_default();
        range_in(&text, &name, id).ok_or_else(|| UsernsError::NoRange {
            user: name.clone(),
            kind,
            file,
        })
    };
    let u = find("/etc/subuid", "uid", uid.as_raw())?;
    let g = find("/etc/subgid", "gid", gid.as_raw())?;
    Ok((name, u, g))
}

/// Make the holder: a child that unshares a user namespace, waits for the
/// maps, unshares a mount namespace and then only waits, detached from the
/// caller's session and files.
fn spawn_holder() -> Result<Pid, UsernsError> {
    let (_, uids, gids) = ranges()?;
    let (up_r, up_w) = nix::unistd::pipe().map_err(nix_err("making a pipe"))?;
    let (down_r, down_w) = nix::unistd::pipe().map_err(nix_err("making a pipe"))?;
    // SAFETY: the caller is single-threaded (see `enter`), so the child may
    // run any code; it never returns into the caller's code.
    match unsafe { fork() }.map_err(nix_err("forking the namespace holder"))? {
        ForkResult::Child => {
            drop((up_r, down_w));
            holder_main(up_w, down_r)
        }
        ForkResult::Parent { child } => {
            drop((up_w, down_r));
            let mut up = File::from(up_r);
            let mut down = File::from(down_w);
            let made = expect_byte(&mut up, "unsharing the user namespace")
                .and_then(|()| map_ids(child, getuid().as_raw(), uids, "newuidmap"))
                .and_then(|()| map_ids(child, getgid().as_raw(), gids, "newgidmap"))
                .and_then(|()| down.write_all(b"g").map_err(io_err("starting the holder")))
                .and_then(|()| expect_byte(&mut up, "making the mount namespace"));
            if let Err(e) = made {
                let _ = nix::sys::signal::kill(child, nix::sys::signal::SIGKILL);
                let _ = nix::sys::wait::waitpid(child, None);
                return Err(e);
            }
            Ok(child)
        }
    }
}

/// Read the one byte the holder sends when a step is done; EOF means it
/// failed (its reason is the step's name).
fn expect_byte(from: &mut File, step: &str) -> Result<(), UsernsError> {
    let mut b = [0u8; 1];
    match from.read(&mut b) {
        Ok(1) => Ok(()),
        Ok(_) => Err(UsernsError::Io {
            what: step.to_string(),
            source: io::Error::other("the namespace holder failed"),
        }),
        Err(e) => Err(io_err(step)(e)),
    }
}

/// `newuidmap PID 0 OUTER 1 1 START COUNT` (or newgidmap): container root
/// is the user, 1.. the subordinate range.
fn map_ids(pid: Pid, outer: u32, r: Range, tool: &'static str) -> Result<(), UsernsError> {
    let args = [
        pid.to_string(),
        "0".into(),
        outer.to_string(),
        "1".into(),
        "1".into(),
        r.start.to_string(),
        r.count.to_string(),
    ];
    let out = Command::new(tool).args(&args).output().map_err(|e| {
        if e.kind() == io::ErrorKind::NotFound {
            UsernsError::NoTool { tool }
        } else {
            io_err(format!("running {tool}"))(e)
        }
    })?;
    if !out.status.success() {
        let message = String::from_utf8_lossy(&out.stderr).trim().to_string();
        return Err(UsernsError::Map { tool, message });
    }
    Ok(())
}

/// In the forked holder: go on if `ok`, else end it without running the
/// caller's exit handlers or destructors.
fn step(ok: bool) {
    if !ok {
        // SAFETY: ending the forked child, which owns nothing of the
        // caller's that needs tidying.
        unsafe { libc::_exit(1) }
    }
}

/// The holder's life: unshare, wait for the maps, become root, unshare the
/// mount namespace, say so, and wait forever.
fn holder_main(up: OwnedFd, down: OwnedFd) -> ! {
    let mut up = File::from(up);
    let mut down = File::from(down);
    step(unshare(CloneFlags::CLONE_NEWUSER).is_ok());
    step(up.write_all(b"u").is_ok());
    let mut b = [0u8; 1];
    step(matches!(down.read(&mut b), Ok(1)));
    become_root();
    step(unshare(CloneFlags::CLONE_NEWNS).is_ok());
    std::mem::forget(down);
    hold(up)
}

fn become_root() {
    let root = (Uid::from_raw(0), Gid::from_raw(0));
    step(nix::unistd::setresgid(root.1, root.1, root.1).is_ok());
    step(nix::unistd::setresuid(root.0, root.0, root.0).is_ok());
}

/// A holder for the namespaces `survivor` is in (those of a holder that
/// died): a child that joins them and holds them from then on.
fn spawn_holder_in(survivor: Pid) -> Result<Pid, UsernsError> {
    let open = |ns: &str| {
        let p = format!("/proc/{survivor}/ns/{ns}");
        File::open(&p).map_err(io_err(format!("opening {p}")))
    };
    let (user, mnt) = (open("user")?, open("mnt")?);
    let (up_r, up_w) = nix::unistd::pipe().map_err(nix_err("making a pipe"))?;
    // SAFETY: the caller is single-threaded (see `enter`), so the child may
    // run any code; it never returns into the caller's code.
    match unsafe { fork() }.map_err(nix_err("forking the namespace holder"))? {
        ForkResult::Child => {
            drop(up_r);
            step(setns(&user, CloneFlags::CLONE_NEWUSER).is_ok());
            step(setns(&mnt, CloneFlags::CLONE_NEWNS).is_ok());
            become_root();
            std::mem::forget((user, mnt));
            hold(File::from(up_w))
        }
        ForkResult::Parent { child } => {
            drop(up_w);
            let joined = expect_byte(&mut File::from(up_r), "joining the namespaces");
            if let Err(e) = joined {
                let _ = nix::sys::signal::kill(child, nix::sys::signal::SIGKILL);
                let _ = nix::sys::wait::waitpid(child, None);
                return Err(e);
            }
            Ok(child)
        }
    }
}

/// The rest of a holder's life, in its namespaces: take its name, leave
/// the caller's session and files, say so on `up`, and wait forever.
fn hold(mut up: File) -> ! {
    let name = std::ffi::CString::new(HOLDER).expect("no NUL");
    step(nix::sys::prctl::set_name(&name).is_ok());
    let _ = nix::unistd::setsid();
    let _ = std::env::set_current_dir("/");
    if let Ok(null) = OpenOptions::new().read(true).write(true).open("/dev/null") {
        for fd in 0..3 {
            // SAFETY: dup2 onto the standard descriptors, which the holder
            // owns from here on.
            unsafe { libc::dup2(null.as_raw_fd(), fd) };
        }
    }
    step(up.write_all(b"m").is_ok());
    // SAFETY: closing every descriptor above stdio: the holder keeps none
    // of the caller's pipes, locks or files open.
    unsafe { libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, 0u32) };
    // Already closed: dropping it would close whatever reuses the number.
    std::mem::forget(up);
    loop {
        nix::unistd::pause();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_found_by_name_or_number() {
        let text = "alice:100000:65536\n1001:300000:1000\nbob:0:0\n";
        assert_eq!(
            range_in(text, "alice", 1000),
            Some(Range {
                start: 100000,
                count: 65536
            })
        );
        assert_eq!(range_in(text, "carol", 1001).map(|r| r.start), Some(300000));
        assert_eq!(range_in(text, "bob", 1002), None, "an empty range is none");
        assert_eq!(range_in(text, "dave", 1003), None);
    }

    #[test]
    fn the_mapped_run_from_zero_ends_at_its_first_gap() {
        assert_eq!(contiguous_top("0 1001 1\n1 100000 65536\n"), 65536);
        assert_eq!(contiguous_top("1 100000 65536\n0 1001 1\n"), 65536);
        assert_eq!(contiguous_top("0 1001 1\n5 100000 10\n"), 0);
        assert_eq!(contiguous_top("0 0 4294967295\n"), u32::MAX - 1);
    }

    #[test]
    fn the_pid_file_reads_back_old_and_new() {
        let full = Recorded {
            pid: 42,
            start: Some(1234),
            ns: Some(Namespaces {
                user: 4026532001,
                mnt: 4026532002,
                boot: "6f1c2d3e-aaaa-bbbb-cccc-0123456789ab".into(),
            }),
        };
        assert_eq!(Recorded::parse(&full.text()), Some(full));
        // What an older cairn wrote: the pid alone.
        let old = Recorded::parse("42\n").unwrap();
        assert_eq!((old.pid, old.start, old.ns), (42, None, None));
        assert_eq!(Recorded::parse("x"), None);
    }

    #[test]
    fn root_of_the_host_is_not_rootless() {
        if nix::unistd::geteuid().is_root() && in_initial_namespace() {
            assert!(!rootless());
        }
    }
}
