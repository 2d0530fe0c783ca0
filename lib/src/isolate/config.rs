//! What a process in a container starts with, as the runtime decides it:
//! the default PATH and pids limit, and the user, resolved against the
//! rootfs's own passwd and group files.

/// The PATH a container gets when its image sets none.
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// The pids limit (processes and threads) of a container when none is
/// given: podman's default. A fork bomb then exhausts its own cgroup, not
/// the host's pid table.
pub const DEFAULT_PIDS_LIMIT: u64 = 2048;

/// A resolved user: uid, gid, supplementary groups and home.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ident {
    pub uid: u32,
    pub gid: u32,
    pub groups: Vec<u32>,
    pub home: String,
}

/// Why a user could not be resolved, or the image's user or group
/// database could not be read: each names the file, the user or the group.
#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error("{path} of the image cannot be opened")]
    Open {
        path: String,
        #[source]
        source: nix::errno::Errno,
    },
    #[error("{path} of the image")]
    Stat {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} of the image is not a regular file; fix the image")]
    NotRegular { path: String },
    #[error("{path} of the image is larger than {} KiB; fix the image", MAX_DB >> 10)]
    TooLarge { path: String },
    #[error("reading {path} of the image")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} of the image grew past {} KiB while being read", MAX_DB >> 10)]
    Grew { path: String },
    /// The contents given to [`resolve_user`] are over [`MAX_DB`].
    #[error("/etc/passwd or /etc/group is larger than 1 MiB")]
    DbTooLarge,
    #[error("user or group id {0} is out of range (0..2147483647)")]
    IdOutOfRange(String),
    #[error("unable to find user {0}: no matching entries in passwd file")]
    UnknownUser(String),
    #[error("unable to find group {0}: no matching entries in group file")]
    UnknownGroup(String),
    /// The passwd entry of `user` has a `field` (uid or gid) that is not
    /// a number.
    #[error("user {user}: bad {field} {value:?} in passwd")]
    BadPasswdEntry {
        user: String,
        field: &'static str,
        value: String,
    },
    /// The group entry of `group` has a gid that is not a number.
    #[error("group {group}: bad gid {value:?} in group file")]
    BadGroupEntry { group: String, value: String },
}

/// The largest file read as /etc/passwd or /etc/group: a bigger one is an
/// error naming the file, never a truncated read.
pub const MAX_DB: u64 = 1 << 20;

/// Read the image's user or group database `path` (e.g. `/etc/passwd`)
/// below `root`, the way a hostile image cannot abuse: resolved inside
/// `root` (`RESOLVE_IN_ROOT`: symlinks, `..` and absolute targets stay in
/// it), no magic links (`/proc/self/fd/N`), opened non-blocking so a fifo
/// or device never hangs the runtime, and it must be a regular file of at
/// most [`MAX_DB`] bytes. A missing file is empty.
pub fn read_db(root: std::os::fd::BorrowedFd<'_>, path: &str) -> Result<String, UserError> {
    use nix::fcntl::{openat2, OFlag, OpenHow, ResolveFlag};
    use std::io::Read;
    let how = OpenHow::new()
        .flags(OFlag::O_RDONLY | OFlag::O_NONBLOCK | OFlag::O_NOCTTY | OFlag::O_CLOEXEC)
        .resolve(ResolveFlag::RESOLVE_IN_ROOT | ResolveFlag::RESOLVE_NO_MAGICLINKS);
    let fd = match openat2(root, path, how) {
        Ok(fd) => fd,
        Err(nix::errno::Errno::ENOENT) | Err(nix::errno::Errno::ENOTDIR) => {
            return Ok(String::new())
        }
        Err(source) => {
            return Err(UserError::Open {
                path: path.into(),
                source,
            })
        }
    };
    let mut f = std::fs::File::from(fd);
    let meta = f.metadata().map_err(|source| UserError::Stat {
        path: path.into(),
        source,
    })?;
    if !meta.is_file() {
        return Err(UserError::NotRegular { path: path.into() });
    }
    if meta.len() > MAX_DB {
        return Err(UserError::TooLarge { path: path.into() });
    }
    let mut buf = Vec::new();
    (&mut f)
        .take(MAX_DB + 1)
        .read_to_end(&mut buf)
        .map_err(|source| UserError::Read {
            path: path.into(),
            source,
        })?;
    if buf.len() as u64 > MAX_DB {
        return Err(UserError::Grew { path: path.into() });
    }
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

fn parse_id(s: &str) -> Result<Option<u32>, UserError> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(None);
    }
    // A numeric-looking value that overflows is an error, never a name
    // lookup (CVE-2026-46680); ids are 0..2^31-1 (CVE-2024-40635).
    match s.parse::<u32>() {
        Ok(v) if v < 1 << 31 => Ok(Some(v)),
        _ => Err(UserError::IdOutOfRange(s.into())),
    }
}

fn bad_passwd(user: &str, field: &'static str, value: &str) -> UserError {
    UserError::BadPasswdEntry {
        user: user.into(),
        field,
        value: value.into(),
    }
}

/// Resolve `USER[:GROUP]` against the container's passwd and group files
/// (given as their contents; read by our own code, never NSS).
pub fn resolve_user(spec: &str, passwd: &str, group: &str) -> Result<Ident, UserError> {
    if passwd.len() as u64 > MAX_DB || group.len() as u64 > MAX_DB {
        return Err(UserError::DbTooLarge);
    }
    let (u, g) = match spec.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (spec, None),
    };
    let users: Vec<Vec<&str>> = passwd
        .lines()
        .map(|l| l.split(':').collect::<Vec<_>>())
        .filter(|f| f.len() >= 7)
        .collect();
    let groups: Vec<Vec<&str>> = group
        .lines()
        .map(|l| l.split(':').collect::<Vec<_>>())
        .filter(|f| f.len() >= 4)
        .collect();
    let (uid, mut gid, home, name) = if u.is_empty() {
        (0, 0, "/root".to_string(), Some("root".to_string()))
    } else if let Some(uid) = parse_id(u)? {
        match users.iter().find(|f| f[2].parse::<u32>().ok() == Some(uid)) {
            Some(f) => (
                uid,
                parse_id(f[3])?.ok_or_else(|| bad_passwd(&uid.to_string(), "gid", f[3]))?,
                f[5].to_string(),
                Some(f[0].to_string()),
            ),
            None => (uid, 0, "/".to_string(), None),
        }
    } else {
        let f = users
            .iter()
            .find(|f| f[0] == u)
            .ok_or_else(|| UserError::UnknownUser(u.into()))?;
        let uid = parse_id(f[2])?.ok_or_else(|| bad_passwd(u, "uid", f[2]))?;
        let gid = parse_id(f[3])?.ok_or_else(|| bad_passwd(u, "gid", f[3]))?;
        (uid, gid, f[5].to_string(), Some(u.to_string()))
    };
    if let Some(g) = g {
        gid = match parse_id(g)? {
            Some(id) => id,
            None => {
                let f = groups
                    .iter()
                    .find(|f| f[0] == g)
                    .ok_or_else(|| UserError::UnknownGroup(g.into()))?;
                parse_id(f[2])?.ok_or_else(|| UserError::BadGroupEntry {
                    group: g.into(),
                    value: f[2].into(),
                })?
            }
        };
    }
    let mut extra: Vec<u32> = vec![gid];
    if let Some(name) = &name {
        for f in &groups {
            if f[3].split(',').any(|m| m == name) {
                if let Ok(Some(id)) = parse_id(f[2]) {
                    if !extra.contains(&id) {
                        extra.push(id);
                    }
                }
            }
        }
    }
    Ok(Ident {
        uid,
        gid,
        groups: extra,
        home: if home.is_empty() { "/".into() } else { home },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users() {
        let passwd = "root:x:0:0:root:/root:/bin/sh\nbob:x:1000:1000::/home/bob:/bin/sh\n";
        let group = "root:x:0:\nbob:x:1000:\nwheel:x:10:bob\n";
        assert_eq!(resolve_user("", passwd, group).unwrap().uid, 0);
        let b = resolve_user("bob", passwd, group).unwrap();
        assert_eq!(
            (b.uid, b.gid, b.groups.clone(), b.home.as_str()),
            (1000, 1000, vec![1000, 10], "/home/bob")
        );
        assert_eq!(resolve_user("1000:10", passwd, group).unwrap().gid, 10);
        assert_eq!(resolve_user("4242", passwd, group).unwrap().uid, 4242);
        let e = |spec: &str, passwd: &str| resolve_user(spec, passwd, group).unwrap_err();
        assert!(matches!(e("nobody", passwd), UserError::UnknownUser(u) if u == "nobody"));
        assert!(matches!(
            e("99999999999", passwd),
            UserError::IdOutOfRange(_)
        ));
        assert!(matches!(
            e("2147483648", passwd),
            UserError::IdOutOfRange(_)
        ));
        assert!(matches!(e("bob:nogroup", passwd), UserError::UnknownGroup(g) if g == "nogroup"));
        // a malformed gid is an error, never root's group
        let bad = "eve:x:1001:1x:::\n";
        assert!(matches!(
            e("1001", bad),
            UserError::BadPasswdEntry { field: "gid", value, .. } if value == "1x"
        ));
        assert!(matches!(
            e("eve", bad),
            UserError::BadPasswdEntry { field: "gid", .. }
        ));
        assert!(matches!(
            e("eve", "eve:x:x1:0:::\n"),
            UserError::BadPasswdEntry { field: "uid", .. }
        ));
        assert!(matches!(
            resolve_user("0:g", passwd, "g:x:zz:\n"),
            Err(UserError::BadGroupEntry { group, value }) if group == "g" && value == "zz"
        ));
        let big = "#".repeat(MAX_DB as usize + 1);
        assert!(matches!(e("root", &big), UserError::DbTooLarge));
    }

    /// A rootfs in a temporary directory with `etc/`.
    fn rootfs() -> (crate::testutil::TempDir, std::fs::File) {
        let d = crate::testutil::TempDir::new("config-rootfs");
        std::fs::create_dir(d.path().join("etc")).unwrap();
        let f = std::fs::File::open(d.path()).unwrap();
        (d, f)
    }

    fn read(root: &std::fs::File) -> Result<String, UserError> {
        read_db(std::os::fd::AsFd::as_fd(root), "/etc/passwd")
    }

    #[test]
    fn the_user_database_is_a_small_regular_file_or_nothing() {
        let (d, root) = rootfs();
        let passwd = d.path().join("etc/passwd");
        assert_eq!(read(&root).unwrap(), "", "a missing file is empty");
        std::fs::write(&passwd, "root:x:0:0::/root:/bin/sh\n").unwrap();
        assert!(read(&root).unwrap().starts_with("root:"));
        // one byte over the bound: refused, not cut short
        std::fs::write(&passwd, vec![b'#'; MAX_DB as usize + 1]).unwrap();
        assert!(matches!(read(&root), Err(UserError::TooLarge { path }) if path == "/etc/passwd"));
        std::fs::remove_file(&passwd).unwrap();
        // a fifo would block a reader: refused without opening it for good
        nix::unistd::mkfifo(&passwd, nix::sys::stat::Mode::from_bits_truncate(0o644)).unwrap();
        assert!(matches!(read(&root), Err(UserError::NotRegular { .. })));
        std::fs::remove_file(&passwd).unwrap();
        std::fs::create_dir(&passwd).unwrap();
        assert!(matches!(read(&root), Err(UserError::NotRegular { .. })));
        std::fs::remove_dir(&passwd).unwrap();
        // a link out of the root resolves inside it: to nothing here
        std::os::unix::fs::symlink("/etc/hostname", &passwd).unwrap();
        assert_eq!(read(&root).unwrap(), "");
    }

    #[test]
    fn the_wire_line_carries_the_cause() {
        let (d, root) = rootfs();
        // a link loop: openat2 fails with ELOOP, the cause of the error
        std::os::unix::fs::symlink("passwd", d.path().join("etc/passwd")).unwrap();
        let e = read(&root).unwrap_err();
        assert!(
            matches!(&e, UserError::Open { path, .. } if path == "/etc/passwd"),
            "{e:?}"
        );
        assert_eq!(e.to_string(), "/etc/passwd of the image cannot be opened");
        let line = crate::error::one_line(&e);
        assert!(
            line.starts_with("/etc/passwd of the image cannot be opened: ELOOP"),
            "{line}"
        );
    }
}
