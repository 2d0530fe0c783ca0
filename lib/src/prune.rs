//! `system prune`: remove what nothing references, as `docker system
//! prune` does: stopped containers, dangling images (untagged layers no
//! other layer and no container stands on), and blobs no layer and no tag
//! names. With `all`, every image no container uses loses its tags first.
//! `container prune` and `image prune` are the two halves ([`Scope`]).
//!
//! Writers publish objects before they name them (a `load` publishes its
//! layers bottom first and tags the top last; `union-mount` creates a
//! container that `isolate` starts a moment later), so an object younger
//! than `min_age` is kept: it may be the work of a writer still running.

use crate::container::{self, ContainerError};
use crate::digest::{ContainerId, Digest, LayerId};
use crate::image::remove::{remove, RemoveError};
use crate::store::container::Status;
use crate::store::{refs, Store, StoreError};
use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, SystemTime};

#[derive(Debug, thiserror::Error)]
pub enum PruneError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Container(#[from] ContainerError),
    #[error(transparent)]
    Remove(#[from] RemoveError),
}

/// What to prune.
#[derive(Debug, Clone, Default)]
pub struct PruneOptions {
    /// Which kinds of object.
    pub scope: Scope,
    /// Also untag (and so remove) every image no container uses.
    pub all: bool,
    /// Keep what is younger than this.
    pub min_age: Duration,
}

/// The objects a prune looks at, as docker's `system`, `container` and
/// `image prune` do.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Scope {
    /// Stopped containers, then dangling images and unreferenced blobs.
    #[default]
    System,
    /// Stopped containers only.
    Containers,
    /// Dangling (with `all`: unused) images and unreferenced blobs only.
    Images,
}

/// What a prune removed, each object with the bytes of disk its removal
/// freed (allocated blocks).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Pruned {
    /// Containers, with their read-write layer and state.
    pub containers: Vec<(ContainerId, u64)>,
    pub untagged: Vec<String>,
    /// Layers, with their changeset blob when that went too.
    pub layers: Vec<(LayerId, u64)>,
    /// The blobs nothing named any more (configs, manifests, strays).
    pub blobs: Vec<(Digest, u64)>,
}

impl Pruned {
    /// Bytes of disk freed in all (docker's "Total reclaimed space").
    pub fn reclaimed(&self) -> u64 {
        let sizes = self.containers.iter().map(|c| c.1);
        let sizes = sizes.chain(self.layers.iter().map(|l| l.1));
        sizes.chain(self.blobs.iter().map(|b| b.1)).sum()
    }
}

/// Older than `min` (by modification time); unknown ages are young.
fn old(path: &Path, min: Duration) -> bool {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| SystemTime::now().duration_since(t).ok())
        .is_some_and(|age| age >= min)
}

/// Remove stopped containers, dangling images and unreferenced blobs.
pub fn prune(store: &Store, o: &PruneOptions) -> Result<Pruned, PruneError> {
    let mut out = Pruned::default();
    if o.scope != Scope::Images {
        prune_containers(store, o, &mut out)?;
    }
    if o.scope == Scope::Containers {
        return Ok(out);
    }
    let used: BTreeSet<LayerId> = store
        .containers()?
        .iter()
        .map(|c| store.chain(&c.layer))
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .flatten()
        .map(|(id, _)| id)
        .collect();
    if o.all {
        for t in refs::list(store)? {
            if !used.contains(&t.layer) {
                refs::remove(store, &t.name)?;
                out.untagged.push(t.name);
            }
        }
    }
    prune_layers(store, o, &used, &mut out)?;
    prune_blobs(store, o, &mut out)?;
    Ok(out)
}

/// Remove the stopped containers older than `min_age`.
fn prune_containers(store: &Store, o: &PruneOptions, out: &mut Pruned) -> Result<(), PruneError> {
    for c in store.containers()? {
        let stopped = matches!(
            container::state(store, &c)?.status,
            Status::Created | Status::Exited
        );
        let dir = store.container_dir(&c.id);
        if stopped && old(&dir, o.min_age) {
            let size = Store::disk_usage(&dir);
            container::remove(store, &c, false)?;
            out.containers.push((c.id, size));
        }
    }
    Ok(())
}

/// Remove each untagged leaf layer no container stands on, and below it
/// what nothing else needs (as `rmi` does), until none is left.
fn prune_layers(
    store: &Store,
    o: &PruneOptions,
    used: &BTreeSet<LayerId>,
    out: &mut Pruned,
) -> Result<(), PruneError> {
    let tagged: BTreeSet<LayerId> = refs::list(store)?.iter().map(|t| t.layer).collect();
    let layers = store.layers()?;
    let parents = store.parents_among(&layers);
    for id in layers {
        let dangling = !tagged.contains(&id) && !used.contains(&id) && !parents.contains(&id);
        let done = out.layers.iter().any(|l| l.0 == id);
        if dangling && old(&store.layer_dir(&id), o.min_age) && !done {
            let r = remove(store, &id.to_string(), false)?;
            out.layers.extend(r.deleted.into_iter().zip(r.reclaimed));
        }
    }
    Ok(())
}

/// Delete the blobs no layer and no tag's manifest names.
fn prune_blobs(store: &Store, o: &PruneOptions, out: &mut Pruned) -> Result<(), PruneError> {
    let mut named: BTreeSet<Digest> = BTreeSet::new();
    for id in store.layers()? {
        let info = store.layer_info(&id)?;
        named.extend(info.blob.map(|b| b.digest));
        named.extend(info.remote.iter().map(|r| r.manifest));
        named.extend(store.layer(&id).ok().and_then(|m| m.image_config));
    }
    let index = refs::read_index(store)?;
    let manifests = index["manifests"].as_array().into_iter().flatten();
    for t in manifests.filter_map(|d| d["digest"].as_str()?.parse::<Digest>().ok()) {
        named.insert(t);
        if let Ok(doc) = store.read_blob(&t) {
            if let Ok(v) = serde_json::from_slice(&doc) {
                named.extend(crate::fsck::manifest_needs(&v));
            }
        }
    }
    let dir = store.root().join("blobs/sha256");
    for e in std::fs::read_dir(&dir).map_err(|source| StoreError::Io {
        path: dir.clone(),
        source,
    })? {
        let Ok(e) = e else { continue };
        let Some(d) = e
            .file_name()
            .to_str()
            .and_then(|n| Digest::from_hex(n).ok())
        else {
            continue;
        };
        if named.contains(&d) || !old(&e.path(), o.min_age) {
            continue;
        }
        let size = Store::disk_usage(&e.path());
        if std::fs::remove_file(e.path()).is_ok() {
            out.blobs.push((d, size));
        }
    }
    Ok(())
}
