//! The names `cairn save` gives the images it writes.
//!
//! A subject named by a tag keeps that name. One named by an ID, or by a
//! record's `layer`, is untagged unless its record names it: the `tag` and
//! `tags` of `cairn tag` and `cairn load` records that are still tags of
//! that layer (so `cairn load | cairn save` keeps the names). Explicit
//! names (`--tag`) then go, in order, to the images still untagged, one
//! each.

use super::save::{SaveError, SaveImage};
use crate::digest::LayerId;
use crate::reference::Reference;
use crate::store::{refs, Store};

/// The images to save for `subjects` (a name, and the names the record it
/// came in gives its layer: its `tag` and `tags`), in their order, named as
/// the module docs say.
pub fn save_images(
    store: &Store,
    subjects: &[(&str, Vec<&str>)],
    tags: Vec<Reference>,
) -> Result<Vec<SaveImage>, SaveError> {
    let mut images = Vec::new();
    for (name, given) in subjects {
        let tagged = match Reference::parse(name) {
            Ok(r) => refs::find(store, &r.familiar())?.map(|found| (found.layer, r)),
            Err(_) => None,
        };
        images.push(match tagged {
            Some((top, r)) => SaveImage {
                top,
                names: vec![r],
            },
            None => {
                let top = super::resolve(store, name)?;
                SaveImage {
                    top,
                    names: record_names(store, given, &top)?,
                }
            }
        });
    }
    if tags.is_empty() {
        return Ok(images);
    }
    let untagged = images.iter().filter(|i| i.names.is_empty()).count();
    if tags.len() != untagged {
        return Err(SaveError::Names(format!(
            "{} --tag for {untagged} untagged image{}",
            tags.len(),
            if untagged == 1 { "" } else { "s" }
        )));
    }
    let mut next = tags.into_iter();
    for img in images.iter_mut().filter(|i| i.names.is_empty()) {
        img.names.extend(next.next());
    }
    Ok(images)
}

/// The names a record gives its layer that are tags of it in the store.
fn record_names(store: &Store, given: &[&str], top: &LayerId) -> Result<Vec<Reference>, SaveError> {
    let mut names = Vec::new();
    for &name in given {
        let Ok(r) = Reference::parse(name) else {
            continue;
        };
        if refs::find(store, &r.familiar())?.is_some_and(|found| found.layer == *top) {
            names.push(r);
        }
    }
    Ok(names)
}
