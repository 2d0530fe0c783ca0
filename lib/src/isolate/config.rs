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

/// The largest file read as /etc/passwd or /etc/group: a bigger one is an
/// error naming the file, never a truncated read.
pub const MAX_DB: u64 = 1 << 20;

/// Read the image's user or group database `path` (e.g. `/etc/passwd`)
/// below `root`, the way a hostile image cannot abuse: resolved inside
/// `root` (`RESOLVE_IN_ROOT`: symlinks, `..` and absolute targets stay in
/// it), no magic links (`/proc/self/fd/N`), opened non-blocking so a fifo
/// or device never hangs the runtime, and it must be a regular file of at
/// most [`MAX_DB`] bytes. A missing file is empty.
pub fn read_db(root: std::os::fd::BorrowedFd<'_>, path: &str) -> Result<String, String> {
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
        Err(e) => return Err(format!("{path} of the image cannot be opened: {e}")),
    };
    let mut f = std::fs::File::from(fd);
    let meta = f
        .metadata()
        .map_err(|e| format!("{path} of the image: {e}"))?;
    if !meta.is_file() {
        return Err(format!(
            "{path} of the image is not a regular file; fix the image"
        ));
    }
    if meta.len() > MAX_DB {
        return Err(format!(
            "{path} of the image is larger than {} KiB; fix the image",
            MAX_DB >> 10
        ));
    }
    let mut buf = Vec::new();
    (&mut f)
        .take(MAX_DB + 1)
        .read_to_end(&mut buf)
        .map_err(|e| format!("reading {path} of the image: {e}"))?;
    if buf.len() as u64 > MAX_DB {
        return Err(format!(
            "{path} of the image grew past {} KiB while being read",
            MAX_DB >> 10
        ));
    }
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

fn parse_id(s: &str) -> Result<Option<u32>, String> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(None);
    }
    // A numeric-looking value that overflows is an error, never a name
    // lookup (CVE-2026-46680); ids are 0..2^31-1 (CVE-2024-40635).
    match s.parse::<u32>() {
        Ok(v) if v < 1 << 31 => Ok(Some(v)),
        _ => Err(format!(
            "user or group id {s} is out of range (0..2147483647)"
        )),
    }
}

/// Resolve `USER[:GROUP]` against the container's passwd and group files
/// (given as their contents; read by our own code, never NSS).
pub fn resolve_user(spec: &str, passwd: &str, group: &str) -> Result<Ident, String> {
    if passwd.len() as u64 > MAX_DB || group.len() as u64 > MAX_DB {
        return Err("/etc/passwd or /etc/group is larger than 1 MiB".into());
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
                parse_id(f[3])?
                    .ok_or_else(|| format!("user {uid}: bad gid {:?} in passwd", f[3]))?,
                f[5].to_string(),
                Some(f[0].to_string()),
            ),
            None => (uid, 0, "/".to_string(), None),
        }
    } else {
        let f = users.iter().find(|f| f[0] == u).ok_or_else(|| {
            format!("unable to find user {u}: no matching entries in passwd file")
        })?;
        let uid = parse_id(f[2])?.ok_or_else(|| format!("user {u}: bad uid in passwd"))?;
        let gid = parse_id(f[3])?.ok_or_else(|| format!("user {u}: bad gid in passwd"))?;
        (uid, gid, f[5].to_string(), Some(u.to_string()))
    };
    if let Some(g) = g {
        gid = match parse_id(g)? {
            Some(id) => id,
            None => {
                let f = groups.iter().find(|f| f[0] == g).ok_or_else(|| {
                    format!("unable to find group {g}: no matching entries in group file")
                })?;
                parse_id(f[2])?.ok_or_else(|| format!("group {g}: bad gid in group file"))?
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
        assert!(resolve_user("nobody", passwd, group).is_err());
        assert!(resolve_user("99999999999", passwd, group).is_err());
        assert!(resolve_user("2147483648", passwd, group).is_err());
        assert!(resolve_user("bob:nogroup", passwd, group).is_err());
        // a malformed gid is an error, never root's group
        let bad = "eve:x:1001:1x:::\n";
        assert!(resolve_user("1001", bad, group).is_err());
        assert!(resolve_user("eve", bad, group).is_err());
    }
}
