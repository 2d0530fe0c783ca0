//! Volumes, as docker's `local` driver keeps them: a directory of the
//! store (`volumes/NAME/_data`, beside `volumes/NAME/volume.json`) that
//! outlives the containers that mount it. A named volume is made on first
//! use; an anonymous one (an image's `VOLUME`, `-v /path`) gets a random
//! 64-hex name and goes with `rm -v`. An empty volume is filled from the
//! image's content at its mount point when a container first starts with
//! it ([`copy_tree`]).
//!
//! The flags that ask for mounts (`-v`, `--mount`, `--tmpfs`) are read
//! here into [`MountSpec`]s, the form a container's record keeps them in.
//! A volume is never part of a container's read-write layer: it is
//! mounted in the container's own mount namespace over its view, so
//! commit, which reads the read-write layer, never sees its content.

use crate::store::container::{ContainerMeta, MountKind, MountSpec};
use crate::store::{IoContext, Store, StoreError};
use serde::{Deserialize, Serialize};
use std::fs;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum VolumeError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("no such volume: {0}")]
    NotFound(String),
    #[error("invalid volume name {0:?}: use letters, digits, '_', '.' and '-' (at least two); a host directory must be an absolute path")]
    BadName(String),
    #[error("volume {name} is in use by container {}", containers.join(", "))]
    InUse {
        name: String,
        containers: Vec<String>,
    },
    /// A `-v`, `--mount` or `--tmpfs` that does not parse.
    #[error("{flag} {value:?}: {problem}")]
    Flag {
        flag: &'static str,
        value: String,
        problem: String,
    },
    #[error("duplicate mount point {0}")]
    Duplicate(String),
    #[error("bind source path does not exist: {0}")]
    NoSource(String),
    #[error("filling volume {name} from the image's {target}")]
    Seed {
        name: String,
        target: String,
        #[source]
        source: io::Error,
    },
}

type Result<T> = std::result::Result<T, VolumeError>;

/// A volume, as `volumes/NAME/volume.json` records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Volume {
    pub name: String,
    /// RFC 3339, UTC.
    pub created: String,
    /// Made for one container (`rm -v` removes it with the container).
    #[serde(default)]
    pub anonymous: bool,
}

/// A valid volume name, as docker's local driver allows:
/// `[a-zA-Z0-9][a-zA-Z0-9_.-]+`.
pub fn valid_name(n: &str) -> bool {
    let b = n.as_bytes();
    b.len() >= 2
        && b.len() <= 255
        && b[0].is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'))
}

fn dir(store: &Store) -> PathBuf {
    store.root().join("volumes")
}

/// Where a volume's content is: `volumes/NAME/_data`.
pub fn data_dir(store: &Store, name: &str) -> PathBuf {
    dir(store).join(name).join("_data")
}

/// The volume `name`.
pub fn get(store: &Store, name: &str) -> Result<Volume> {
    if !valid_name(name) {
        return Err(VolumeError::NotFound(name.to_string()));
    }
    let p = dir(store).join(name).join("volume.json");
    match fs::read(&p) {
        Ok(d) => Ok(serde_json::from_slice(&d).map_err(StoreError::json(&p))?),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            Err(VolumeError::NotFound(name.to_string()))
        }
        Err(e) => Err(StoreError::Io { path: p, source: e }.into()),
    }
}

/// Every volume, by name.
pub fn list(store: &Store) -> Result<Vec<Volume>> {
    let d = dir(store);
    let mut out = Vec::new();
    let rd = match fs::read_dir(&d) {
        Ok(rd) => rd,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(StoreError::Io { path: d, source: e }.into()),
    };
    for e in rd.flatten() {
        if let Some(v) = e.file_name().to_str().and_then(|n| get(store, n).ok()) {
            out.push(v);
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// Make the volume `name` (a random one when `None`: anonymous), or
/// return it when it exists. Staged and renamed into place, so a volume
/// exists whole or not at all; two makers of one name get the same one.
pub fn create(store: &Store, name: Option<&str>) -> Result<Volume> {
    let (name, anonymous) = match name {
        Some(n) if !valid_name(n) => return Err(VolumeError::BadName(n.to_string())),
        Some(n) => (n.to_string(), false),
        None => {
            let id = crate::digest::ContainerId::random().at(&dir(store))?;
            (id.hex(), true)
        }
    };
    if let Ok(v) = get(store, &name) {
        return Ok(v);
    }
    let d = dir(store);
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&d)
        .at(&d)?;
    let v = Volume {
        name: name.clone(),
        created: crate::store::container::now_rfc3339(),
        anonymous,
    };
    let staging = store.stage("volume")?;
    let sp = staging.path();
    let data = sp.join("_data");
    fs::DirBuilder::new().mode(0o755).create(&data).at(&data)?;
    let json = serde_json::to_vec_pretty(&v).expect("serialises");
    fs::write(sp.join("volume.json"), json).at(sp)?;
    let dest = d.join(&name);
    match fs::rename(sp, &dest) {
        Ok(()) => {
            std::mem::forget(staging);
            Ok(v)
        }
        // made meanwhile by another: that one is kept
        Err(_) if dest.join("volume.json").exists() => get(store, &name),
        Err(e) => Err(StoreError::Io {
            path: dest,
            source: e,
        }
        .into()),
    }
}

/// The containers (any state) that mount the volume `name`.
pub fn users(store: &Store, name: &str) -> Result<Vec<ContainerMeta>> {
    Ok(store
        .containers()?
        .into_iter()
        .filter(|c| {
            c.host
                .mounts
                .iter()
                .any(|m| m.kind == MountKind::Volume && m.source.as_deref() == Some(name))
        })
        .collect())
}

/// Hold the store's volume lock: while it is held no volume is removed,
/// so a container being made with a volume (which holds it from
/// [`prepare`] until its record is written) cannot lose it on the way.
pub fn lock(store: &Store) -> Result<nix::fcntl::Flock<fs::File>> {
    Ok(store.lock_exclusive("volumes")?)
}

/// Remove the volume `name` and its content; refused while a container,
/// running or not, mounts it (the error names them).
pub fn remove(store: &Store, name: &str) -> Result<()> {
    get(store, name)?;
    let _l = lock(store)?;
    let using = users(store, name)?;
    if !using.is_empty() {
        return Err(VolumeError::InUse {
            name: name.to_string(),
            containers: using.iter().map(|c| c.id.short()).collect(),
        });
    }
    Ok(store.trash(&dir(store).join(name))?)
}

/// Remove every volume no container mounts (docker 20.10's `volume
/// prune`, named volumes included); their names.
pub fn prune(store: &Store) -> Result<Vec<String>> {
    let mut gone = Vec::new();
    for v in list(store)? {
        match remove(store, &v.name) {
            Ok(()) => gone.push(v.name),
            Err(VolumeError::InUse { .. }) | Err(VolumeError::NotFound(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(gone)
}

fn flag_err(flag: &'static str, value: &str, problem: impl Into<String>) -> VolumeError {
    VolumeError::Flag {
        flag,
        value: value.to_string(),
        problem: problem.into(),
    }
}

/// A mount point as a container path: absolute, not `/`, without `..`;
/// trailing slashes dropped.
fn target(flag: &'static str, value: &str, t: &str) -> Result<String> {
    let trimmed = t.trim_end_matches('/');
    if !t.starts_with('/') || trimmed.is_empty() || t.split('/').any(|c| c == "..") {
        return Err(flag_err(
            flag,
            value,
            format!("the mount point {t:?} must be an absolute path other than /, without .."),
        ));
    }
    Ok(trimmed.to_string())
}

fn spec(kind: MountKind, source: Option<String>, target: String) -> MountSpec {
    MountSpec {
        kind,
        source,
        target,
        readonly: false,
        options: Vec::new(),
        anonymous: false,
        create_source: false,
        no_copy: false,
    }
}

/// `-v`: `HOST_PATH:CTR_PATH[:MODE]` (a bind; a missing host path is made
/// a directory, as docker does), `NAME:CTR_PATH[:MODE]` (a named volume)
/// or `CTR_PATH` (an anonymous volume). MODE: `ro`, `rw`, `nocopy`,
/// comma-separated.
pub fn parse_volume(v: &str) -> Result<MountSpec> {
    const F: &str = "-v";
    let parts: Vec<&str> = v.split(':').collect();
    let (src, dst, mode) = match parts[..] {
        [dst] => (None, dst, ""),
        [src, dst] => (Some(src), dst, ""),
        [src, dst, mode] => (Some(src), dst, mode),
        _ => return Err(flag_err(F, v, "use SOURCE:TARGET[:MODE] or TARGET")),
    };
    let target = target(F, v, dst)?;
    let mut m = match src {
        None => spec(MountKind::Volume, None, target),
        Some(s) if s.starts_with('/') => MountSpec {
            create_source: true,
            ..spec(MountKind::Bind, Some(s.to_string()), target)
        },
        Some(s) if valid_name(s) => spec(MountKind::Volume, Some(s.to_string()), target),
        Some(s) => return Err(VolumeError::BadName(s.to_string())),
    };
    for o in mode.split(',').filter(|o| !o.is_empty()) {
        match o {
            "ro" => m.readonly = true,
            "rw" => m.readonly = false,
            "nocopy" if m.kind == MountKind::Volume => m.no_copy = true,
            _ => {
                return Err(flag_err(
                    F,
                    v,
                    format!("unknown mode {o:?} (ro, rw, nocopy)"),
                ))
            }
        }
    }
    Ok(m)
}

fn truth(flag: &'static str, all: &str, v: Option<&str>) -> Result<bool> {
    match v {
        None | Some("true") | Some("1") => Ok(true),
        Some("false") | Some("0") => Ok(false),
        Some(o) => Err(flag_err(flag, all, format!("{o:?} is not true or false"))),
    }
}

/// `--mount type=bind|volume|tmpfs,source=…,target=…[,readonly]` (and
/// `src`, `dst`, `destination`, `ro`, `volume-nocopy`, `tmpfs-size`,
/// `tmpfs-mode`), as docker reads it; the type defaults to volume. A bind
/// whose source does not exist is refused when the container is made.
pub fn parse_mount(v: &str) -> Result<MountSpec> {
    const F: &str = "--mount";
    let (mut kind, mut src, mut dst) = (MountKind::Volume, None, None);
    let (mut readonly, mut no_copy, mut options) = (false, false, Vec::new());
    for field in v.split(',').filter(|f| !f.is_empty()) {
        let (k, val) = match field.split_once('=') {
            Some((k, val)) => (k, Some(val)),
            None => (field, None),
        };
        let need = || val.ok_or_else(|| flag_err(F, v, format!("{k} needs a value")));
        match k {
            "type" => {
                kind = match need()? {
                    "bind" => MountKind::Bind,
                    "volume" => MountKind::Volume,
                    "tmpfs" => MountKind::Tmpfs,
                    t => return Err(flag_err(F, v, format!("unknown type {t:?}"))),
                }
            }
            "source" | "src" => src = Some(need()?.to_string()),
            "target" | "destination" | "dst" => dst = Some(need()?),
            "readonly" | "ro" => readonly = truth(F, v, val)?,
            "volume-nocopy" => no_copy = truth(F, v, val)?,
            "tmpfs-size" => options.push(format!("size={}", need()?)),
            "tmpfs-mode" => options.push(format!("mode={}", need()?)),
            _ => return Err(flag_err(F, v, format!("unknown field {k:?}"))),
        }
    }
    let dst = dst.ok_or_else(|| flag_err(F, v, "target is required"))?;
    let target = target(F, v, dst)?;
    match (kind, &src) {
        (MountKind::Bind, Some(s)) if s.starts_with('/') => {}
        (MountKind::Bind, _) => return Err(flag_err(F, v, "a bind needs an absolute source")),
        (MountKind::Volume, Some(s)) if !valid_name(s) => {
            return Err(VolumeError::BadName(s.clone()))
        }
        (MountKind::Tmpfs, Some(_)) => return Err(flag_err(F, v, "a tmpfs takes no source")),
        _ => {}
    }
    if !options.is_empty() && kind != MountKind::Tmpfs {
        return Err(flag_err(F, v, "tmpfs-size and tmpfs-mode are for a tmpfs"));
    }
    Ok(MountSpec {
        readonly,
        no_copy,
        options,
        ..spec(kind, src, target)
    })
}

/// `--tmpfs PATH[:OPTIONS]`: a tmpfs with mount(8)'s options
/// (`size=64m,mode=1777`).
pub fn parse_tmpfs(v: &str) -> Result<MountSpec> {
    let (dst, opts) = v.split_once(':').unwrap_or((v, ""));
    let target = target("--tmpfs", v, dst)?;
    Ok(MountSpec {
        options: opts
            .split(',')
            .filter(|o| !o.is_empty())
            .map(str::to_string)
            .collect(),
        ..spec(MountKind::Tmpfs, None, target)
    })
}

/// Make a new container's mounts ready: an anonymous volume for each of
/// the image's `VOLUME`s no mount covers, every volume made (anonymous
/// ones named), every bind that must exist checked. Two mounts on one
/// path are refused. The caller holds [`lock`] until the container's
/// record names the volumes.
pub fn prepare(
    store: &Store,
    mut mounts: Vec<MountSpec>,
    image_volumes: &[String],
) -> Result<Vec<MountSpec>> {
    for iv in image_volumes {
        let t = iv.trim_end_matches('/');
        if !t.is_empty() && t.starts_with('/') && !mounts.iter().any(|m| m.target == t) {
            mounts.push(spec(MountKind::Volume, None, t.to_string()));
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    for m in &mut mounts {
        if !seen.insert(m.target.clone()) {
            return Err(VolumeError::Duplicate(m.target.clone()));
        }
        match m.kind {
            MountKind::Volume => {
                let v = create(store, m.source.as_deref())?;
                m.anonymous = v.anonymous;
                m.source = Some(v.name);
            }
            MountKind::Bind if !m.create_source => {
                let s = m.source.as_deref().unwrap_or_default();
                if fs::symlink_metadata(s).is_err() {
                    return Err(VolumeError::NoSource(s.to_string()));
                }
            }
            _ => {}
        }
    }
    Ok(mounts)
}

/// Remove the anonymous volumes of `c` that no other container mounts
/// (`rm -v`); their names.
pub fn remove_anonymous(store: &Store, c: &ContainerMeta) -> Result<Vec<String>> {
    let mut gone = Vec::new();
    for m in c.host.mounts.iter().filter(|m| m.anonymous) {
        let Some(name) = &m.source else { continue };
        match remove(store, name) {
            Ok(()) => gone.push(name.clone()),
            Err(VolumeError::InUse { .. }) | Err(VolumeError::NotFound(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(gone)
}

/// Whether the directory `p` is empty (or missing).
pub fn is_empty(p: &Path) -> bool {
    fs::read_dir(p).map_or(true, |mut rd| rd.next().is_none())
}

/// Fill the volume `name` from `from` (the image's directory at the
/// mount point, opened inside the container's view) when the volume is
/// empty: docker's copy of an image's content into a new volume.
pub fn seed(store: &Store, name: &str, target: &str, from: BorrowedFd<'_>) -> Result<()> {
    let to = data_dir(store, name);
    if !is_empty(&to) {
        return Ok(());
    }
    // Two containers starting on one new volume: one fills it.
    let json = dir(store).join(name).join("volume.json");
    let f = fs::File::open(&json).at(&json)?;
    let _l = nix::fcntl::Flock::lock(f, nix::fcntl::FlockArg::LockExclusive)
        .map_err(|(_, e)| e)
        .at(&json)?;
    if !is_empty(&to) {
        return Ok(());
    }
    copy_tree(from, &to).map_err(|source| VolumeError::Seed {
        name: name.to_string(),
        target: target.to_string(),
        source,
    })
}

/// Copy the directory `from` (an fd) into the directory `to`: files,
/// directories and symlinks, never followed, with their owners and
/// modes; `to` takes `from`'s owner and mode. Devices, fifos and sockets
/// are left out; hard links become copies.
pub fn copy_tree(from: BorrowedFd<'_>, to: &Path) -> io::Result<()> {
    let to_fd: OwnedFd = fs::File::open(to)?.into();
    copy_dir(from, to_fd.as_fd())
}

fn copy_dir(from: BorrowedFd<'_>, to: BorrowedFd<'_>) -> io::Result<()> {
    use nix::fcntl::{openat, AtFlags, OFlag};
    use nix::sys::stat::{fchmod, fstat, fstatat, mkdirat, Mode, SFlag};
    use nix::unistd::{fchown, fchownat, Gid, Uid};
    let st = fstat(from)?;
    let owner = |st: &nix::sys::stat::FileStat| {
        (
            Some(Uid::from_raw(st.st_uid)),
            Some(Gid::from_raw(st.st_gid)),
        )
    };
    let (u, g) = owner(&st);
    fchown(to, u, g)?;
    fchmod(to, Mode::from_bits_truncate(st.st_mode & 0o7777))?;
    for e in fs::read_dir(format!("/proc/self/fd/{}", from.as_raw_fd()))? {
        let name = e?.file_name();
        let st = fstatat(from, name.as_os_str(), AtFlags::AT_SYMLINK_NOFOLLOW)?;
        let (u, g) = owner(&st);
        let mode = Mode::from_bits_truncate(st.st_mode & 0o7777);
        match SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT {
            SFlag::S_IFDIR => {
                mkdirat(to, name.as_os_str(), Mode::from_bits_truncate(0o700))?;
                let sub_from = crate::sys::open_dir_at(from, &name)?;
                let sub_to = crate::sys::open_dir_at(to, &name)?;
                copy_dir(sub_from.as_fd(), sub_to.as_fd())?;
            }
            SFlag::S_IFREG => {
                let ro = OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
                let src = openat(from, name.as_os_str(), ro, Mode::empty())?;
                let wo = OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_NOFOLLOW;
                let dst = openat(to, name.as_os_str(), wo | OFlag::O_CLOEXEC, mode)?;
                let (mut src, mut dst) = (fs::File::from(src), fs::File::from(dst));
                io::copy(&mut src, &mut dst)?;
                fchown(dst.as_fd(), u, g)?;
                fchmod(dst.as_fd(), mode)?;
            }
            SFlag::S_IFLNK => {
                let target = nix::fcntl::readlinkat(from, name.as_os_str())?;
                nix::unistd::symlinkat(target.as_os_str(), to, name.as_os_str())?;
                let flags = AtFlags::AT_SYMLINK_NOFOLLOW;
                fchownat(to, name.as_os_str(), u, g, flags)?;
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dash_v_is_a_bind_a_named_or_an_anonymous_volume() {
        let m = parse_volume("/srv/data:/data:ro").unwrap();
        assert_eq!(
            (m.kind, m.source.as_deref(), m.target.as_str()),
            (MountKind::Bind, Some("/srv/data"), "/data")
        );
        assert!(m.readonly && m.create_source);
        let m = parse_volume("cache:/var/cache/").unwrap();
        assert_eq!(
            (m.kind, m.source.as_deref(), m.target.as_str(), m.readonly),
            (MountKind::Volume, Some("cache"), "/var/cache", false)
        );
        let m = parse_volume("/scratch").unwrap();
        assert_eq!((m.kind, m.source), (MountKind::Volume, None));
        assert!(parse_volume("cc:/x:nocopy").unwrap().no_copy);
        for bad in [
            "./rel:/x",
            "a:b",
            "/x:/",
            "/x:/../etc",
            "a:/x:z",
            "a:/b:ro:x",
        ] {
            assert!(parse_volume(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn dash_dash_mount_reads_dockers_fields() {
        let m = parse_mount("type=bind,source=/srv,target=/s,readonly").unwrap();
        assert_eq!(
            (m.kind, m.source.as_deref(), m.target.as_str(), m.readonly),
            (MountKind::Bind, Some("/srv"), "/s", true)
        );
        assert!(!m.create_source, "a --mount bind is never made");
        let m = parse_mount("src=v1,dst=/v,ro=false,volume-nocopy").unwrap();
        assert_eq!(
            (m.kind, m.source.as_deref(), m.readonly, m.no_copy),
            (MountKind::Volume, Some("v1"), false, true)
        );
        let m = parse_mount("type=tmpfs,destination=/t,tmpfs-size=1m,tmpfs-mode=1770").unwrap();
        assert_eq!(m.options, ["size=1m", "mode=1770"]);
        for bad in [
            "type=bind,target=/x",
            "type=tmpfs,source=a,target=/x",
            "source=v",
            "type=nfs,target=/x",
            "target=/x,colour=blue",
            "type=volume,target=/x,tmpfs-size=1",
        ] {
            assert!(parse_mount(bad).is_err(), "{bad}");
        }
        let t = parse_tmpfs("/run:size=64k,mode=1777").unwrap();
        assert_eq!(
            (t.target.as_str(), &t.options[..]),
            ("/run", &["size=64k".to_string(), "mode=1777".into()][..])
        );
    }

    #[test]
    fn volumes_are_made_once_refused_in_use_and_pruned() {
        let dir = crate::testutil::TempDir::new("volumes");
        let store = Store::open(dir.path()).unwrap();
        let v = create(&store, Some("data")).unwrap();
        assert!(!v.anonymous && data_dir(&store, "data").is_dir());
        assert_eq!(create(&store, Some("data")).unwrap(), v);
        assert!(create(&store, Some("-x")).is_err());
        let anon = create(&store, None).unwrap();
        assert!(anon.anonymous && anon.name.len() == 64);
        let names: Vec<_> = list(&store).unwrap().into_iter().map(|v| v.name).collect();
        assert_eq!(names.len(), 2);
        let mounts = prepare(
            &store,
            vec![parse_volume("data:/d").unwrap()],
            &["/d".to_string(), "/img/".to_string()],
        )
        .unwrap();
        assert_eq!(mounts.len(), 2, "the image's /d is covered by -v");
        assert!(mounts[1].anonymous && mounts[1].target == "/img");
        assert!(matches!(
            prepare(
                &store,
                vec![parse_volume("/a:/d").unwrap(), parse_volume("/d").unwrap()],
                &[]
            ),
            Err(VolumeError::Duplicate(_))
        ));
        assert!(matches!(
            prepare(
                &store,
                vec![parse_mount("type=bind,src=/nonexistent-cairn,dst=/x").unwrap()],
                &[]
            ),
            Err(VolumeError::NoSource(_))
        ));
        remove(&store, &anon.name).unwrap();
        assert!(matches!(
            get(&store, &anon.name),
            Err(VolumeError::NotFound(_))
        ));
        let gone = prune(&store).unwrap();
        assert!(gone.contains(&"data".to_string()));
    }

    #[test]
    fn a_copy_keeps_modes_and_never_follows_links() {
        let dir = crate::testutil::TempDir::new("volume-copy");
        let from = dir.path().join("from");
        fs::create_dir_all(from.join("sub")).unwrap();
        fs::write(from.join("sub/f"), "hello").unwrap();
        std::os::unix::fs::symlink("/etc/passwd", from.join("link")).unwrap();
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(from.join("sub/f"), fs::Permissions::from_mode(0o640)).unwrap();
        fs::set_permissions(&from, fs::Permissions::from_mode(0o711)).unwrap();
        let to = dir.path().join("to");
        fs::create_dir(&to).unwrap();
        let fd: OwnedFd = fs::File::open(&from).unwrap().into();
        copy_tree(fd.as_fd(), &to).unwrap();
        assert_eq!(fs::read_to_string(to.join("sub/f")).unwrap(), "hello");
        let mode = |p: &Path| fs::symlink_metadata(p).unwrap().permissions().mode() & 0o7777;
        assert_eq!((mode(&to.join("sub/f")), mode(&to)), (0o640, 0o711));
        assert_eq!(
            fs::read_link(to.join("link")).unwrap(),
            Path::new("/etc/passwd")
        );
        assert!(!is_empty(&to) && is_empty(&dir.path().join("none")));
    }
}
