//! `rmi`: drop a tag, then every layer nothing else needs.
//!
//! A layer is needed while a tag points at it, a container's image stack
//! holds it, or another layer has it as parent. Deleting walks down from
//! the image's top and stops at the first needed layer, so shared bases and
//! intermediate layers of other images stay.

use crate::digest::LayerId;
use crate::reference::Reference;
use crate::store::{refs, Store, StoreError};
use std::collections::{HashMap, HashSet};

#[derive(Debug, thiserror::Error)]
pub enum RemoveError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(
        "image {image} is used by container {container}; remove the container first or use -f"
    )]
    InUse { image: String, container: String },
    #[error("image {image} is tagged as {tags}; remove the tags or use -f")]
    Tagged { image: String, tags: String },
    #[error("image {image} has other layers stacked on it; remove those images first")]
    HasChildren { image: String },
}

/// What a removal did.
#[derive(Debug, Default, Clone)]
pub struct Removed {
    pub untagged: Vec<String>,
    pub deleted: Vec<LayerId>,
    /// Bytes of disk each deleted layer freed, in the order of `deleted`:
    /// its directory, and its changeset blob when no other layer needs it.
    pub reclaimed: Vec<u64>,
}

/// Remove the image `name` (a tag, or an ID or prefix).
pub fn remove(store: &Store, name: &str, force: bool) -> Result<Removed, RemoveError> {
    let top = super::resolve(store, name)?;
    let tags = refs::list(store)?;
    let by_tag = Reference::parse(name)
        .ok()
        .map(|r| r.familiar())
        .filter(|n| tags.iter().any(|t| &t.name == n));
    let users = store.containers_on(&top)?;
    let mut out = Removed::default();
    let to_untag: Vec<String> = match &by_tag {
        Some(t) => vec![t.clone()],
        None => {
            let mine: Vec<String> = tags
                .iter()
                .filter(|t| t.layer == top)
                .map(|t| t.name.clone())
                .collect();
            if mine.len() > 1 && !force {
                return Err(RemoveError::Tagged {
                    image: name.to_string(),
                    tags: mine.join(", "),
                });
            }
            mine
        }
    };
    if !users.is_empty() && !force {
        // Untagging one of several tags is fine: the image stays.
        let other_tags = tags
            .iter()
            .filter(|t| t.layer == top && !to_untag.contains(&t.name))
            .count();
        if other_tags == 0 {
            return Err(RemoveError::InUse {
                image: name.to_string(),
                container: users[0].id.short(),
            });
        }
    }
    if by_tag.is_none() && to_untag.is_empty() {
        // An untagged layer by ID: only a leaf may go.
        let children = children_of(store)?;
        if children.get(&top).is_some_and(|c| !c.is_empty()) {
            return Err(RemoveError::HasChildren {
                image: name.to_string(),
            });
        }
    }
    for t in &to_untag {
        refs::remove(store, t)?;
        out.untagged.push(t.clone());
    }
    // Delete from the top down while nothing needs the layer.
    let tags = refs::list(store)?;
    let tagged: HashSet<LayerId> = tags.iter().map(|t| t.layer).collect();
    let mut used: HashSet<LayerId> = HashSet::new();
    for c in store.containers()? {
        for (id, _) in store.chain(&c.layer)? {
            used.insert(id);
        }
    }
    let mut children = children_of(store)?;
    let mut cur = Some(top);
    while let Some(id) = cur {
        if tagged.contains(&id)
            || used.contains(&id)
            || children.get(&id).is_some_and(|c| !c.is_empty())
        {
            break;
        }
        let meta = store.layer(&id)?;
        let info = store.layer_info(&id)?;
        let mut freed = Store::disk_usage(&store.layer_dir(&id));
        store.trash(&store.layer_dir(&id))?;
        out.deleted.push(id);
        if let Some(blob) = info.blob {
            if !blob_in_use(store, &blob.digest)? {
                let path = store.blob_path(&blob.digest);
                let size = Store::disk_usage(&path);
                if std::fs::remove_file(path).is_ok() {
                    freed += size;
                }
            }
        }
        out.reclaimed.push(freed);
        if let Some(p) = meta.parent {
            if let Some(c) = children.get_mut(&p) {
                c.remove(&id);
            }
        }
        cur = meta.parent;
    }
    Ok(out)
}

fn children_of(store: &Store) -> Result<HashMap<LayerId, HashSet<LayerId>>, StoreError> {
    let mut m: HashMap<LayerId, HashSet<LayerId>> = HashMap::new();
    for id in store.layers()? {
        if let Ok(meta) = store.layer(&id) {
            if let Some(p) = meta.parent {
                m.entry(p).or_default().insert(id);
            }
        }
    }
    Ok(m)
}

pub(crate) fn blob_in_use(store: &Store, d: &crate::Digest) -> Result<bool, StoreError> {
    for id in store.layers()? {
        if store.layer_info(&id)?.blob.is_some_and(|b| b.digest == *d) {
            return Ok(true);
        }
    }
    Ok(false)
}
