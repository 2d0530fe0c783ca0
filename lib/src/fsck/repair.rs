//! `fsck --repair`: move what is broken aside, into `lost+found/`, and
//! drop what cannot stand without it. Nothing sound is touched.

use super::survey::{survey, Survey};
use super::{Finding, FsckError, Kind};
use crate::digest::{Digest, LayerId};
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
    /// Container directories to move aside.
    pub containers: Vec<String>,
    /// `index.json` is unreadable: move it aside and start an empty one.
    pub index: bool,
}

/// One thing a repair did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// An object moved aside to `to` (relative to the store's root).
    Moved { kind: Kind, id: String, to: PathBuf },
    /// A tag dropped from `index.json`.
    Untagged(String),
    /// A container left where it is, and why.
    Kept { id: String, why: &'static str },
    /// `index.json` moved aside to `to` and replaced by an empty index.
    NewIndex { to: PathBuf },
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::Moved { kind, id, to } => {
                write!(f, "moved {kind} {id} aside to {}", to.display())
            }
            Action::Untagged(name) => write!(f, "untagged {name}"),
            Action::Kept { id, why } => write!(f, "kept container {id}: {why}"),
            Action::NewIndex { to } => write!(
                f,
                "moved index.json aside to {} and started an empty one",
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
    let tags = s
        .tags
        .iter()
        .flatten()
        .enumerate()
        .filter(|(_, t)| {
            !t.sound || t.layer.is_some_and(|l| !kept(&l)) || !t.needs.iter().all(present)
        })
        .map(|(i, t)| (i, t.name.clone()))
        .collect();
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
        containers,
        index: s.tags.is_none(),
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
    } else if !plan.tags.is_empty() {
        let mut idx = refs::read_index(store)?;
        let list = idx["manifests"]
            .as_array_mut()
            .expect("checked by read_index");
        let mut i = 0;
        list.retain(|_| {
            i += 1;
            !plan.tags.iter().any(|(p, _)| *p == i - 1)
        });
        refs::write_index(store, &idx)?;
        out.extend(plan.tags.iter().map(|(_, n)| Action::Untagged(n.clone())));
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
