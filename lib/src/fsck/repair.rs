//! `fsck --repair`: move what is broken aside, into `lost+found/`, and
//! drop what cannot stand without it. Nothing sound is touched.

use super::survey::{survey, Survey};
use super::{Finding, FsckError, Kind};
use crate::digest::{Digest, LayerId};
use crate::image::ids;
use crate::store::container::Status;
use crate::store::{random_hex, refs, IoContext, Store};
use std::collections::BTreeSet;
use std::fmt;
use std::fs::{self, File};
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::path::{Path, PathBuf};

/// Where the repair moves broken objects, under the store's root. Unlike
/// `trash/`, nothing purges it: what is there is for a person to look at.
pub const LOST_FOUND: &str = "lost+found";

/// What a repair will do, as plain data.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// File names under `blobs/sha256/` to move aside.
    pub blobs: Vec<String>,
    /// Layers to move aside: the damaged ones and every layer above them,
    /// and those that need a blob that is gone.
    pub layers: Vec<LayerId>,
    /// Directory names under `layers/` that are no layer ID.
    pub odd_layers: Vec<String>,
    /// Descriptors of `index.json` to drop: position and name.
    pub tags: Vec<(usize, String)>,
    /// Tags whose layers are sound but whose manifest is incomplete: their
    /// documents are written again from the layers (position, name, top).
    pub retag: Vec<(usize, String, LayerId)>,
    /// Container directories to move aside.
    pub containers: Vec<String>,
    /// `index.json` is unreadable: move it aside and start an empty one.
    pub index: bool,
    /// The index of image IDs is unreadable or wrong: move it aside and
    /// build it again from the layers left.
    pub image_ids: bool,
}

/// One thing a repair did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// An object moved aside to `to` (relative to the store's root).
    Moved { kind: Kind, id: String, to: PathBuf },
    /// A tag dropped from `index.json`.
    Untagged(String),
    /// A tag whose config and manifest were written again.
    Retagged(String),
    /// A container left where it is, and why.
    Kept { id: String, why: &'static str },
    /// `index.json` moved aside to `to` and replaced by an empty index.
    NewIndex { to: PathBuf },
    /// The index of image IDs moved aside to `to` and built again.
    NewImageIds { to: PathBuf },
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::Moved { kind, id, to } => {
                write!(f, "moved {kind} {id} aside to {}", to.display())
            }
            Action::Untagged(name) => write!(f, "untagged {name}"),
            Action::Retagged(name) => write!(f, "wrote the config and manifest of {name} again"),
            Action::Kept { id, why } => write!(f, "kept container {id}: {why}"),
            Action::NewIndex { to } => write!(
                f,
                "moved index.json aside to {} and started an empty one",
                to.display()
            ),
            Action::NewImageIds { to } => write!(
                f,
                "moved {} aside to {} and built it again",
                ids::FILE,
                to.display()
            ),
        }
    }
}

/// What to move aside and drop, given a survey.
pub fn plan(s: &Survey) -> Plan {
    let mut gone: BTreeSet<Digest> = s.missing.clone();
    gone.extend(s.bad_blobs.iter().filter_map(|n| Digest::from_hex(n).ok()));
    let mut dropped: BTreeSet<LayerId> = s
        .layers
        .iter()
        .filter(|(_, e)| !e.sound || e.needs.iter().any(|d| gone.contains(d)))
        .map(|(id, _)| *id)
        .collect();
    loop {
        let above: Vec<LayerId> = s
            .layers
            .iter()
            .filter(|(id, _)| !dropped.contains(id))
            .filter(|(_, e)| {
                e.parent
                    .is_some_and(|p| dropped.contains(&p) || !s.layers.contains_key(&p))
            })
            .map(|(id, _)| *id)
            .collect();
        if above.is_empty() {
            break;
        }
        dropped.extend(above);
    }
    let kept = |l: &LayerId| s.layers.contains_key(l) && !dropped.contains(l);
    let rebuilt: BTreeSet<Digest> = s
        .layers
        .iter()
        .filter(|(id, _)| kept(id))
        .filter_map(|(_, e)| e.rebuilds)
        .collect();
    let present = |d: &Digest| s.good_blobs.contains(d) || rebuilt.contains(d);
    let (mut tags, mut retag) = (Vec::new(), Vec::new());
    for (i, t) in s.tags.iter().flatten().enumerate() {
        let complete = t.needs.iter().all(present);
        match t.layer {
            Some(l) if kept(&l) && !(t.sound && complete) => retag.push((i, t.name.clone(), l)),
            _ if t.sound && t.layer.is_none_or(|l| kept(&l)) && complete => {}
            _ => tags.push((i, t.name.clone())),
        }
    }
    let containers = s
        .containers
        .iter()
        .filter(|c| !c.sound || c.layer.is_some_and(|l| !kept(&l)))
        .map(|c| c.name.clone())
        .collect();
    Plan {
        blobs: s.bad_blobs.clone(),
        layers: dropped.into_iter().collect(),
        odd_layers: s.odd_layers.clone(),
        tags,
        retag,
        containers,
        index: s.tags.is_none(),
        image_ids: s.image_ids_bad,
    }
}

/// Check the store and repair it, holding the locks of every writer of
/// tags, layers and containers throughout so the plan stays true while it
/// is carried out. Returns what the check found and what was done.
pub fn repair(store: &Store) -> Result<(Vec<Finding>, Vec<Action>), FsckError> {
    let _index = store.lock_exclusive("index")?;
    let _layers = store.lock_exclusive("layers")?;
    let _containers = store.lock_exclusive("containers")?;
    let s = survey(store)?;
    let plan = plan(&s);
    let actions = apply(store, &plan)?;
    Ok((s.findings, actions))
}

/// Carry out a plan: tags first, so that no tag ever names a layer that
/// is gone, then containers, layers and blobs.
fn apply(store: &Store, plan: &Plan) -> Result<Vec<Action>, FsckError> {
    let root = store.root();
    let mut out = Vec::new();
    if plan.index {
        let to = move_aside(root, "index.json", "index.json")?;
        refs::write_index(store, &refs::empty_index())?;
        out.push(Action::NewIndex { to });
    } else if !plan.tags.is_empty() || !plan.retag.is_empty() {
        out.extend(retag(store, plan)?);
    }
    for name in &plan.containers {
        out.push(match busy(store, name) {
            Some(why) => Action::Kept {
                id: name.clone(),
                why,
            },
            None => moved(root, Kind::Container, &format!("containers/{name}"), name)?,
        });
    }
    let layers = plan.layers.iter().map(LayerId::hex);
    for name in layers.chain(plan.odd_layers.iter().cloned()) {
        out.push(moved(root, Kind::Layer, &format!("layers/{name}"), &name)?);
    }
    for name in &plan.blobs {
        out.push(moved(
            root,
            Kind::Blob,
            &format!("blobs/sha256/{name}"),
            name,
        )?);
    }
    if plan.image_ids {
        let to = move_aside(root, ids::FILE, ids::FILE)?;
        ids::note(store);
        out.push(Action::NewImageIds { to });
    }
    Ok(out)
}

/// Drop the tags the plan drops and write the documents of those it
/// tags again, in one new `index.json`.
fn retag(store: &Store, plan: &Plan) -> Result<Vec<Action>, FsckError> {
    let mut out = Vec::new();
    let mut idx = refs::read_index(store)?;
    let list = idx["manifests"]
        .as_array_mut()
        .expect("checked by read_index");
    for (i, name, top) in &plan.retag {
        let docs = crate::image::config::write_documents(store, top)?;
        list[*i]["digest"] = docs.manifest_digest.to_string().into();
        list[*i]["size"] = docs.manifest.len().into();
        out.push(Action::Retagged(name.clone()));
    }
    let mut i = 0;
    list.retain(|_| {
        i += 1;
        !plan.tags.iter().any(|(p, _)| *p == i - 1)
    });
    refs::write_index(store, &idx)?;
    out.extend(plan.tags.iter().map(|(_, n)| Action::Untagged(n.clone())));
    Ok(out)
}

/// Why a container cannot be moved aside: it runs, or its view is mounted.
fn busy(store: &Store, name: &str) -> Option<&'static str> {
    let id = name.parse().ok()?;
    let running = store
        .read_state(&id)
        .is_ok_and(|st| matches!(st.status, Status::Running | Status::Paused));
    if running {
        return Some("it is running; stop it, then remove it with cairn rm");
    }
    let dirs = store.container_dirs(&id);
    let dev = |p: &Path| fs::metadata(p).map(|m| m.dev()).ok();
    let dir = store.container_dir(&id);
    if dev(&dirs.rootfs).is_some_and(|d| Some(d) != dev(&dir)) {
        return Some("its view is mounted; remove it with cairn rm");
    }
    None
}

fn moved(root: &Path, kind: Kind, rel: &str, id: &str) -> Result<Action, FsckError> {
    let to = move_aside(root, rel, &format!("{kind}-{id}"))?;
    let id = match kind {
        Kind::Layer | Kind::Blob => Digest::from_hex(id)
            .map(|d| d.to_string())
            .unwrap_or(id.to_string()),
        _ => id.to_string(),
    };
    Ok(Action::Moved { kind, id, to })
}

/// Rename `rel` (under the store's root) into `lost+found/` as `name`
/// (with a random suffix if that is taken); the new path, relative to the
/// root. A rename on one file system: the object is either where it was or
/// aside, never half moved.
fn move_aside(root: &Path, rel: &str, name: &str) -> Result<PathBuf, FsckError> {
    let dir = root.join(LOST_FOUND);
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir)
        .at(&dir)?;
    let mut to = Path::new(LOST_FOUND).join(name);
    if root.join(&to).exists() {
        to = Path::new(LOST_FOUND).join(format!("{name}-{}", random_hex()));
    }
    let from = root.join(rel);
    fs::rename(&from, root.join(&to)).at(&from)?;
    for d in [dir.as_path(), from.parent().unwrap_or(root)] {
        File::open(d).and_then(|f| f.sync_all()).at(d)?;
    }
    Ok(to)
}

#[cfg(test)]
mod tests {
    use super::super::survey::{ContainerEntry, LayerEntry, TagEntry};
    use super::*;

    fn id(n: u8) -> LayerId {
        LayerId(Digest::of(&[n]))
    }

    fn layer(parent: Option<u8>, sound: bool) -> LayerEntry {
        LayerEntry {
            parent: parent.map(id),
            sound,
            ..Default::default()
        }
    }

    fn tag(name: &str, layer: u8, needs: &[Digest]) -> TagEntry {
        TagEntry {
            name: name.into(),
            layer: Some(id(layer)),
            sound: true,
            needs: needs.to_vec(),
        }
    }

    #[test]
    fn a_broken_layer_takes_what_stands_on_it_and_nothing_else() {
        let mut s = Survey::default();
        s.layers.insert(id(1), layer(None, false));
        s.layers.insert(id(2), layer(Some(1), true));
        s.layers.insert(id(3), layer(Some(2), true));
        s.layers.insert(id(4), layer(None, true));
        s.layers.insert(id(5), layer(Some(9), true)); // parent missing
        s.tags = Some(vec![tag("top", 3, &[]), tag("other", 4, &[])]);
        s.containers = vec![ContainerEntry {
            name: "c".into(),
            layer: Some(id(2)),
            sound: true,
        }];
        let p = plan(&s);
        let mut want = vec![id(1), id(2), id(3), id(5)];
        want.sort();
        assert_eq!(p.layers, want);
        assert_eq!(p.tags, vec![(0, "top".to_string())]);
        assert_eq!(p.containers, vec!["c".to_string()]);
        assert!(p.blobs.is_empty() && !p.index);
    }

    #[test]
    fn a_broken_blob_goes_and_what_needs_it_unless_a_split_rebuilds_it() {
        let (kept, rebuilt) = (Digest::of(b"kept"), Digest::of(b"rebuilt"));
        let mut s = Survey {
            bad_blobs: vec![kept.hex(), rebuilt.hex()],
            ..Default::default()
        };
        let mut a = layer(None, true);
        a.needs = vec![kept];
        let mut b = layer(None, true);
        b.rebuilds = Some(rebuilt);
        s.layers.insert(id(1), a);
        s.layers.insert(id(2), b);
        s.tags = Some(vec![tag("a", 1, &[kept]), tag("b", 2, &[rebuilt])]);
        let p = plan(&s);
        assert_eq!(p.blobs, vec![kept.hex(), rebuilt.hex()]);
        assert_eq!(p.layers, vec![id(1)]);
        assert_eq!(p.tags, vec![(0, "a".to_string())]);
    }

    #[test]
    fn a_sound_image_with_an_incomplete_manifest_is_tagged_again() {
        let config = Digest::of(b"config");
        let mut s = Survey::default();
        s.missing.insert(config);
        s.layers.insert(id(1), layer(None, true));
        let mut broken = tag("b", 1, &[]);
        broken.sound = false;
        s.tags = Some(vec![tag("a", 1, &[config]), broken, tag("c", 7, &[])]);
        let p = plan(&s);
        assert!(p.layers.is_empty());
        let want = vec![(0, "a".to_string(), id(1)), (1, "b".to_string(), id(1))];
        assert_eq!(p.retag, want);
        assert_eq!(p.tags, vec![(2, "c".to_string())]);
    }

    #[test]
    fn an_unreadable_index_is_replaced_and_a_sound_survey_plans_nothing() {
        let mut s = Survey::default();
        s.layers.insert(id(1), layer(None, true));
        assert!(plan(&s).index);
        s.tags = Some(vec![tag("a", 1, &[])]);
        assert_eq!(plan(&s), Plan::default());
    }

    #[test]
    fn repair_moves_aside_and_the_store_checks_sound() {
        let (_d, st) = crate::testutil::store("fsck-repair");
        let tar = crate::testutil::tar_of(&[("a", b"1")]);
        let (a, _) = crate::testutil::layer(&st, None, &tar);
        let (b, _) = crate::testutil::layer(&st, Some(a), &crate::testutil::tar_of(&[("b", b"2")]));
        let (c, _) = crate::testutil::layer(&st, None, &crate::testutil::tar_of(&[("c", b"3")]));
        fs::write(st.layer_dir(&a).join("layer.json"), b"{}").unwrap();
        let (found, done) = repair(&st).unwrap();
        assert_eq!(found.len(), 1);
        let moved: Vec<String> = done.iter().map(ToString::to_string).collect();
        assert_eq!(moved.len(), 2, "{moved:?}");
        assert!(moved.iter().any(|m| m.contains(&b.to_string())));
        assert!(st
            .root()
            .join(LOST_FOUND)
            .join(format!("layer-{}", a.hex()))
            .is_dir());
        assert_eq!(st.layers().unwrap(), vec![c]);
        assert_eq!(crate::fsck::check(&st).unwrap(), vec![]);
    }

    #[test]
    fn a_wrong_image_id_index_is_found_and_built_again() {
        let (_d, st) = crate::testutil::store("fsck-ids");
        let (a, _) = crate::testutil::layer(&st, None, &crate::testutil::tar_of(&[("a", b"1")]));
        let (b, _) = crate::testutil::layer(&st, Some(a), &crate::testutil::tar_of(&[("b", b"2")]));
        ids::note(&st);
        assert_eq!(crate::fsck::check(&st).unwrap(), vec![]);
        let mut wrong = ids::read(&st).unwrap().unwrap();
        let right = wrong.insert(b, Digest::of(b"not it")).unwrap();
        ids::write(&st, &wrong).unwrap();
        let found = crate::fsck::check(&st).unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].kind, Kind::Index);
        assert_eq!(found[0].problem.code(), "image_id");
        let (_, done) = repair(&st).unwrap();
        assert!(matches!(done[..], [Action::NewImageIds { .. }]), "{done:?}");
        assert_eq!(ids::read(&st).unwrap().unwrap()[&b], right);
        assert_eq!(st.layers().unwrap().len(), 2);
        std::fs::write(st.root().join(ids::FILE), b"[").unwrap();
        assert_eq!(
            crate::fsck::check(&st).unwrap()[0].problem.code(),
            "unreadable"
        );
        repair(&st).unwrap();
        assert_eq!(crate::fsck::check(&st).unwrap(), vec![]);
    }
}
