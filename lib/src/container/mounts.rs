//! What a container has mounted beside its view, made at each start: its
//! volumes, bind mounts and tmpfs (its record's [`HostConfig`]), and the
//! /etc files cairn owns (`hostname`, `hosts`, `resolv.conf`, written
//! into the container's directory and bound over the image's). All of
//! them become mounts of its runtime spec, which `isolate` makes in the
//! container's own mount namespace: nothing is mounted on the host, and
//! nothing of them is in the read-write layer that commit reads.
//!
//! [`HostConfig`]: crate::store::container::HostConfig

use super::{ContainerError, Result};
use crate::hostfiles::{self, Network};
use crate::isolate::spec::{self, Net};
use crate::store::container::{ContainerMeta, MountKind, MountSpec};
use crate::store::Store;
use crate::volume;
use oci_spec::runtime::Mount;
use std::os::fd::AsFd;
use std::path::Path;

/// The container's hostname: `--hostname`, else its short ID.
pub fn hostname(c: &ContainerMeta) -> String {
    c.host.hostname.clone().unwrap_or_else(|| c.id.short())
}

fn sys_err<E>(c: &ContainerMeta, what: &'static str) -> impl FnOnce(E) -> ContainerError
where
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    super::sys(c, what)
}

/// The network the container's /etc files describe.
///
/// This is the one place a container's own address goes into its
/// /etc/hosts: a network that gives it one passes it here.
fn network<'a>(
    store: &Store,
    c: &ContainerMeta,
    net: &Net,
    host_hosts: &'a str,
    host_resolv: &'a str,
) -> Network<'a> {
    match net {
        Net::Host => Network::Host {
            hosts: host_hosts,
            resolv_conf: host_resolv,
        },
        _ => Network::Own {
            address: crate::net::address(store, &c.id).map(std::net::IpAddr::V4),
        },
    }
}

/// Write the container's /etc files into its directory for a run on
/// `net`.
fn write_etc_files(store: &Store, c: &ContainerMeta, net: &Net) -> Result<()> {
    let host_hosts = std::fs::read_to_string("/etc/hosts").unwrap_or_default();
    let host_resolv = hostfiles::host_resolv_conf();
    let net = network(store, c, net, &host_hosts, &host_resolv);
    let dir = store.container_dir(&c.id);
    // each replaced whole: a reader sees the old text or the new
    let mut files = hostfiles::files(&hostname(c), &net, &host_resolv);
    files.hosts = hostfiles::with_peers(&files.hosts, &crate::net::hosts::peers(store, &c.id));
    for (name, text) in files.entries() {
        crate::store::replace_file(&dir.join(name), text.as_bytes(), false)
            .map_err(sys_err(c, "writing its /etc files"))?;
    }
    Ok(())
}

/// Fill an empty volume from the image's content at the mount point, as
/// the container's view (mounted at `root`) shows it, resolved inside it.
fn seed(store: &Store, c: &ContainerMeta, root: &Path, m: &MountSpec, name: &str) -> Result<()> {
    if m.no_copy || !volume::is_empty(&volume::data_dir(store, name)) {
        return Ok(());
    }
    let root_fd: std::os::fd::OwnedFd = std::fs::File::open(root)
        .map_err(sys_err(c, "opening its view"))?
        .into();
    let Ok(at) = crate::sys::open_in_root(root_fd.as_fd(), &m.target) else {
        return Ok(());
    };
    let Ok(dir) = crate::sys::open_handle_dir(at.as_fd()) else {
        return Ok(());
    };
    Ok(volume::seed(store, name, &m.target, dir.as_fd())?)
}

/// The propagation of a bind of the host's `source` (`-v`, `--mount`), as
/// docker 20.10 chooses it (its daemon's `validateBindDaemonRoot`): `rslave`
/// when the source holds the store or lies inside it, so that the store's
/// own mounts (other containers' views) taken down on the host go from
/// the container too, where a private copy would hold them; else
/// `rprivate`, docker's default. inspect's `Mounts[].Propagation` says it.
pub fn bind_propagation(store: &Store, source: &str) -> &'static str {
    let (root, source) = (store.root(), Path::new(source));
    if root.starts_with(source) || source.starts_with(root) {
        "rslave"
    } else {
        "rprivate"
    }
}

/// The spec mount of one of the container's mounts; a volume is made if
/// it went missing, and filled when empty; a `-v` host path is made.
fn user_mount(store: &Store, c: &ContainerMeta, root: &Path, m: &MountSpec) -> Result<Mount> {
    let source = m.source.clone().unwrap_or_default();
    Ok(match m.kind {
        MountKind::Bind => {
            if m.create_source && !Path::new(&source).exists() {
                std::fs::create_dir_all(&source)
                    .map_err(sys_err(c, "making a bind mount's host directory"))?;
            }
            let propagation = bind_propagation(store, &source);
            spec::bind_mount(Path::new(&source), &m.target, m.readonly, propagation)
        }
        MountKind::Volume => {
            volume::create(store, Some(&source))?;
            seed(store, c, root, m, &source)?;
            let data = volume::data_dir(store, &source);
            spec::bind_mount(&data, &m.target, m.readonly, "rprivate")
        }
        MountKind::Tmpfs => {
            let mut options = m.options.clone();
            if m.readonly {
                options.push("ro".into());
            }
            spec::tmpfs_mount(&m.target, &options)
        }
    })
}

/// The mounts of the container beside docker's defaults, for a run on
/// `net` with its view mounted at `root`: its own, and its /etc files
/// (but where one of its own is on the same path), parents before what
/// is mounted below them.
pub(super) fn mounts(
    store: &Store,
    c: &ContainerMeta,
    root: &Path,
    net: &Net,
) -> Result<Vec<Mount>> {
    write_etc_files(store, c, net)?;
    let dir = store.container_dir(&c.id);
    let mut all: Vec<(String, Mount)> = Vec::new();
    for name in hostfiles::NAMES {
        let target = format!("/etc/{name}");
        if c.host.mounts.iter().all(|m| m.target != target) {
            let m = spec::bind_mount(&dir.join(name), &target, c.host.read_only, "rprivate");
            all.push((target, m));
        }
    }
    for m in &c.host.mounts {
        all.push((m.target.clone(), user_mount(store, c, root, m)?));
    }
    all.sort_by_key(|(t, _)| t.split('/').filter(|s| !s.is_empty()).count());
    Ok(all.into_iter().map(|(_, m)| m).collect())
}

/// Add the container's mounts ([`mounts`]) and its read-only root to a
/// spec made for it.
pub(super) fn add_to_spec(
    store: &Store,
    c: &ContainerMeta,
    spec: &mut spec::Spec,
    root: &Path,
    net: &Net,
) -> Result<()> {
    let extra = mounts(store, c, root, net)?;
    let mut all = spec.mounts().clone().unwrap_or_default();
    // one of its own on a default's path (/dev/shm) takes its place
    all.retain(|d| extra.iter().all(|m| m.destination() != d.destination()));
    all.extend(extra);
    spec.set_mounts(Some(all));
    if let Some(r) = spec.root_mut() {
        r.set_readonly(Some(c.host.read_only));
    }
    Ok(())
}
