//! `system df -v`: the space each image, container and volume takes, as
//! docker's verbose tables list it. An image's layers that other images
//! also stand on are its shared size, the rest its unique size.

use super::images;
use crate::container::{self, ContainerError};
use crate::digest::{ContainerId, Digest, LayerId};
use crate::graph::dir_size;
use crate::store::container::Status;
use crate::store::{refs, Store};
use schemars::JsonSchema;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// One object of `system df -v`, by its `type`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(tag = "type", rename_all = "lowercase")]
#[schemars(title = "cairn system df -v record")]
pub enum Line {
    Image(ImageUsage),
    Container(ContainerUsage),
    Volume(VolumeUsage),
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ImageUsage {
    /// The image's top layer.
    pub layer: LayerId,
    /// docker's image ID: the digest of the image's config.
    pub image_id: Digest,
    /// Its tags (`name:tag`), none for an untagged image.
    pub tags: Vec<String>,
    /// When it was made (RFC 3339), if known.
    pub created: Option<String>,
    /// Bytes of its whole stack.
    pub size: u64,
    /// Bytes of the layers other images stand on too.
    pub shared_size: u64,
    /// Containers made from it.
    pub containers: usize,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ContainerUsage {
    pub container: ContainerId,
    pub name: String,
    /// The image as it was named.
    pub image: String,
    /// Volumes it mounts.
    pub local_volumes: usize,
    /// Bytes of its read-write layer.
    pub size: u64,
    pub status: Status,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct VolumeUsage {
    pub name: String,
    /// Containers that mount it.
    pub links: usize,
    /// Bytes of its data.
    pub size: u64,
}

/// Every image, container and volume of the store with the space it
/// takes: images as `info` counts them, in the order of their IDs.
pub fn lines(store: &Store) -> Result<Vec<Line>, ContainerError> {
    let mut tags: BTreeMap<LayerId, Vec<String>> = BTreeMap::new();
    for r in refs::list(store)? {
        tags.entry(r.layer).or_default().push(r.name);
    }
    let containers = store.containers()?;
    let mut chains = Vec::new();
    let mut users: HashMap<LayerId, usize> = HashMap::new();
    let mut sizes: HashMap<LayerId, u64> = HashMap::new();
    for top in images(store)? {
        let chain: Vec<LayerId> = store.chain(&top)?.into_iter().map(|(l, _)| l).collect();
        for l in &chain {
            *users.entry(*l).or_default() += 1;
            if !sizes.contains_key(l) {
                sizes.insert(*l, store.layer_info(l)?.size);
            }
        }
        chains.push((top, chain));
    }
    // image IDs from the store's index of them (readers never write it)
    let mut ids = crate::image::ids::Lookup::open(store);
    let mut out = Vec::new();
    for (top, chain) in chains {
        let size = chain.iter().map(|l| sizes[l]).sum();
        let shared = chain
            .iter()
            .filter(|l| users[*l] > 1)
            .map(|l| sizes[l])
            .sum();
        out.push(Line::Image(ImageUsage {
            layer: top,
            image_id: ids.get(store, &top)?,
            tags: tags.get(&top).cloned().unwrap_or_default(),
            created: store
                .chain(&top)?
                .iter()
                .find_map(|(_, m)| m.created.clone()),
            size,
            shared_size: shared,
            containers: containers.iter().filter(|c| c.layer == top).count(),
        }));
    }
    for c in &containers {
        out.push(Line::Container(ContainerUsage {
            container: c.id,
            name: c.name.clone(),
            image: c.image.clone(),
            local_volumes: c
                .host
                .mounts
                .iter()
                .filter(|m| m.kind == crate::store::container::MountKind::Volume)
                .count(),
            size: dir_size(&store.container_dirs(&c.id).upper),
            status: container::state(store, c)?.status,
        }));
    }
    for v in crate::volume::list(store).unwrap_or_default() {
        out.push(Line::Volume(VolumeUsage {
            links: crate::volume::users(store, &v.name).map_or(0, |u| u.len()),
            size: dir_size(&crate::volume::data_dir(store, &v.name)),
            name: v.name,
        }));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::ids;
    use crate::store::ingest::empty_layer;
    use crate::store::meta::LayerMeta;
    use crate::testutil::store;

    /// `df -v` takes image IDs from the index (no config generated and
    /// hashed per image): an entry planted there is what it shows; an
    /// image the index lacks is computed.
    #[test]
    fn image_ids_come_from_the_index() {
        let (_d, s) = store("df-ids");
        let layer = |i: usize| {
            let meta = LayerMeta {
                created_by: Some(format!("step {i}")),
                ..Default::default()
            };
            empty_layer(&s, meta).unwrap()
        };
        let (a, b) = (layer(0), layer(1));
        let planted: Digest = format!("sha256:{}", "cd".repeat(32)).parse().unwrap();
        ids::write(&s, &ids::ImageIds::from([(a, planted)])).unwrap();
        let shown: BTreeMap<LayerId, Digest> = (lines(&s).unwrap().into_iter())
            .filter_map(|l| match l {
                Line::Image(i) => Some((i.layer, i.image_id)),
                _ => None,
            })
            .collect();
        assert_eq!(shown[&a], planted);
        assert_eq!(shown[&b], crate::image::config::image_id(&s, &b).unwrap());
    }
}
