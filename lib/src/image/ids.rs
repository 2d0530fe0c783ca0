//! docker's image ID of every layer, kept in the store's `image-ids.json`
//! so that a prefix of one resolves without generating every image's
//! config.
//!
//! Every layer is the top of an image, and that image's ID (the digest of
//! the config [`super::config`] generates from the chain) depends on the
//! chain alone, which the layer ID pins: an entry, once right, stays right.
//! The file is therefore a cache of a pure function:
//!
//! - the commands that make layers (load, pull, import, commit, build,
//!   layer-unpack) call [`note`] when they are done: it adds the layers the
//!   file lacks, drops those that are gone, and replaces the file as every
//!   small file of the store is replaced (a sibling, fsynced, renamed over
//!   it), under `locks/image-ids.lock` so two writers lose no entry;
//! - readers ([`all`]) take the entries of the layers that exist and
//!   compute, writing nothing, those of the layers it lacks (made by a
//!   writer killed before it noted them, or by a cairn from before the
//!   file). A missing or unreadable file costs time, never a wrong answer
//!   that the layers do not give; the next writer rebuilds it.
//!
//! `cairn fsck` checks every entry of a layer that exists against the ID
//! computed afresh, and `--repair` rebuilds a file that is wrong.

use super::config::image_id;
use crate::digest::{Digest, LayerId};
use crate::store::{write_atomic, IoContext, Result, Store, StoreError};
use std::collections::BTreeMap;
use std::fs;
use std::io;

/// The index's file name, under the store's root.
pub const FILE: &str = "image-ids.json";

/// The name of the lock held while the index is replaced.
pub const LOCK: &str = "image-ids";

/// Layer ID -> image ID.
pub type ImageIds = BTreeMap<LayerId, Digest>;

/// The index as it is on disk, entries of layers since removed included;
/// `None` when there is none.
pub fn read(store: &Store) -> Result<Option<ImageIds>> {
    let path = store.root().join(FILE);
    let data = match fs::read(&path) {
        Ok(data) => data,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).at(&path),
    };
    serde_json::from_slice(&data)
        .map(Some)
        .map_err(StoreError::json(&path))
}

/// The image ID of every layer in the store: the index's entries, and
/// those it lacks computed (nothing is written). A damaged index is read
/// as an empty one.
pub fn all(store: &Store) -> Result<ImageIds> {
    let mut known = read(store).ok().flatten().unwrap_or_default();
    let mut out = ImageIds::new();
    for layer in store.layers()? {
        let id = match known.remove(&layer) {
            Some(id) => id,
            None => image_id(store, &layer)?,
        };
        out.insert(layer, id);
    }
    Ok(out)
}

/// The index read once for many look-ups, as a listing makes them:
/// an image ID comes from the index, and only one the index lacks is
/// computed (kept for the next look-up; nothing is written).
pub struct Lookup {
    known: ImageIds,
}

impl Lookup {
    /// The index as it is (a missing or damaged one: empty).
    pub fn open(store: &Store) -> Lookup {
        Lookup {
            known: read(store).ok().flatten().unwrap_or_default(),
        }
    }

    /// The image ID of the image whose top layer is `layer`.
    pub fn get(&mut self, store: &Store, layer: &LayerId) -> Result<Digest> {
        if let Some(id) = self.known.get(layer) {
            return Ok(*id);
        }
        let id = image_id(store, layer)?;
        self.known.insert(*layer, id);
        Ok(id)
    }
}

/// Bring the index up to date after a command made layers: add the layers
/// it lacks, drop those that are gone, and write it when that changed
/// anything.
///
/// Best effort: the index is a cache that readers complete for themselves,
/// so a failure here (a layer whose image cannot be generated, a full
/// disk) costs only time, and the command that made the layers has
/// succeeded all the same; nothing is reported.
pub fn note(store: &Store) {
    let _ = update(store);
}

fn update(store: &Store) -> Result<()> {
    let _lock = store.lock_exclusive(LOCK)?;
    let old = read(store).ok().flatten();
    let mut known = old.clone().unwrap_or_default();
    let mut new = ImageIds::new();
    for layer in store.layers()? {
        let id = match known.remove(&layer) {
            Some(id) => Some(id),
            None => image_id(store, &layer).ok(),
        };
        new.extend(id.map(|id| (layer, id)));
    }
    if old.as_ref() != Some(&new) {
        write(store, &new)?;
    }
    Ok(())
}

/// Replace the index with `ids`.
pub fn write(store: &Store, ids: &ImageIds) -> Result<()> {
    let mut bytes = serde_json::to_vec(ids).expect("IDs serialise");
    bytes.push(b'\n');
    write_atomic(&store.root().join(FILE), &bytes)
}

/// Remove the index (the next writer builds it anew).
pub fn forget(store: &Store) -> Result<()> {
    let path = store.root().join(FILE);
    match fs::remove_file(&path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e).at(&path),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::ingest::empty_layer;
    use crate::store::meta::LayerMeta;
    use crate::testutil::store;

    /// `n` distinct empty layers, numbered from `from`.
    fn layers(s: &Store, from: usize, n: usize) -> Vec<LayerId> {
        (from..from + n)
            .map(|i| {
                let meta = LayerMeta {
                    created_by: Some(format!("step {i}")),
                    ..Default::default()
                };
                empty_layer(s, meta).unwrap()
            })
            .collect()
    }

    #[test]
    fn note_keeps_every_layer_and_drops_the_gone() {
        let (_d, s) = store("ids-note");
        assert_eq!(read(&s).unwrap(), None);
        let ls = layers(&s, 0, 3);
        note(&s);
        let ids = read(&s).unwrap().unwrap();
        assert_eq!(ids.len(), 3);
        for l in &ls {
            assert_eq!(ids[l], image_id(&s, l).unwrap());
        }
        assert_eq!(all(&s).unwrap(), ids);
        s.trash(&s.layer_dir(&ls[0])).unwrap();
        assert_eq!(all(&s).unwrap().len(), 2, "gone layers are not read");
        note(&s);
        assert_eq!(read(&s).unwrap().unwrap().len(), 2);
    }

    #[test]
    fn readers_compute_what_the_index_lacks_and_write_nothing() {
        let (_d, s) = store("ids-lack");
        let ls = layers(&s, 0, 2);
        note(&s);
        let more = layers(&s, 2, 1)[0];
        let before = fs::read(s.root().join(FILE)).unwrap();
        let ids = all(&s).unwrap();
        assert_eq!(ids[&more], image_id(&s, &more).unwrap());
        assert_eq!(ids.len(), 3);
        assert_eq!(fs::read(s.root().join(FILE)).unwrap(), before);
        fs::write(s.root().join(FILE), b"{not json").unwrap();
        assert_eq!(all(&s).unwrap()[&ls[1]], image_id(&s, &ls[1]).unwrap());
        note(&s);
        assert_eq!(read(&s).unwrap().unwrap().len(), 3, "rebuilt");
    }

    #[test]
    fn lookups_take_the_index_and_compute_only_what_it_lacks() {
        let (_d, s) = store("ids-lookup");
        let ls = layers(&s, 0, 2);
        // an entry the index holds is taken as it is, not computed again
        let planted: Digest = format!("sha256:{}", "ab".repeat(32)).parse().unwrap();
        write(&s, &ImageIds::from([(ls[0], planted)])).unwrap();
        let before = fs::read(s.root().join(FILE)).unwrap();
        let mut ids = Lookup::open(&s);
        assert_eq!(ids.get(&s, &ls[0]).unwrap(), planted);
        assert_eq!(ids.get(&s, &ls[1]).unwrap(), image_id(&s, &ls[1]).unwrap());
        assert_eq!(fs::read(s.root().join(FILE)).unwrap(), before, "written");
    }
}
