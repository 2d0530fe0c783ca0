//! One pass over the store: every object checked, and what needs what
//! noted for the repair.

use super::{tree, Finding, FsckError, Kind, Problem};
use crate::digest::{Digest, HashingWriter, LayerId};
use crate::error::one_line;
use crate::image::config::image_id;
use crate::image::ids;
use crate::layer::{split, Compression};
use crate::store::meta::LayerMeta;
use crate::store::{refs, Store};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File};
use std::io::{self, BufReader};
use std::path::Path;

/// What the check found, and what each object needs.
#[derive(Debug, Default)]
pub struct Survey {
    /// Each damaged object once, in the order found.
    pub findings: Vec<Finding>,
    /// Blobs whose bytes hash to their name.
    pub(super) good_blobs: BTreeSet<Digest>,
    /// Files under `blobs/sha256/` that are not the blob they are named
    /// after (or not named after a digest at all).
    pub(super) bad_blobs: Vec<String>,
    /// Blobs something needs that are not in the store.
    pub(super) missing: BTreeSet<Digest>,
    pub(super) layers: BTreeMap<LayerId, LayerEntry>,
    /// Directories under `layers/` that are not named after a digest.
    pub(super) odd_layers: Vec<String>,
    /// `None` when `index.json` itself is unreadable.
    pub(super) tags: Option<Vec<TagEntry>>,
    pub(super) containers: Vec<ContainerEntry>,
    /// The index of image IDs is unreadable or gives a wrong ID.
    pub(super) image_ids_bad: bool,
}

/// A layer, as far as it could be read.
#[derive(Debug, Default, Clone)]
pub(super) struct LayerEntry {
    pub parent: Option<LayerId>,
    /// No damage of its own (its parent may still be damaged).
    pub sound: bool,
    /// Blobs it cannot do without: its changeset's blob when no tar-split
    /// can rebuild it.
    pub needs: Vec<Digest>,
    /// The blob its sound tar-split rebuilds, present or not.
    pub rebuilds: Option<Digest>,
}

/// One descriptor of `index.json`.
#[derive(Debug, Default, Clone)]
pub(super) struct TagEntry {
    /// The tag's name, or the manifest digest of an untagged descriptor.
    pub name: String,
    pub layer: Option<LayerId>,
    pub sound: bool,
    /// Its manifest and every blob the manifest names.
    pub needs: Vec<Digest>,
}

/// One container directory.
#[derive(Debug, Default, Clone)]
pub(super) struct ContainerEntry {
    /// The directory's name (the container ID).
    pub name: String,
    pub layer: Option<LayerId>,
    pub sound: bool,
}

/// Check the store; the findings, each damaged object once.
pub fn check(store: &Store) -> Result<Vec<Finding>, FsckError> {
    Ok(survey(store)?.findings)
}

/// Check the store and note what needs what.
pub fn survey(store: &Store) -> Result<Survey, FsckError> {
    let mut s = Survey::default();
    scan_blobs(store, &mut s)?;
    scan_layers(store, &mut s)?;
    scan_index(store, &mut s);
    scan_containers(store, &mut s)?;
    missing_parents(store, &mut s);
    missing_blobs(store, &mut s);
    scan_image_ids(store, &mut s);
    Ok(s)
}

fn finding(kind: Kind, id: impl ToString, problem: Problem) -> Finding {
    Finding {
        kind,
        id: id.to_string(),
        problem,
    }
}

/// The names in a directory of the store, sorted.
fn names(dir: &Path) -> Result<Vec<String>, FsckError> {
    let io = |source| FsckError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut out = Vec::new();
    for e in fs::read_dir(dir).map_err(io)? {
        out.push(e.map_err(io)?.file_name().to_string_lossy().into_owned());
    }
    out.sort();
    Ok(out)
}

/// The sha256 of what `r` yields, read in a fixed-size buffer.
fn hash_reader(mut r: impl io::Read) -> io::Result<Digest> {
    let mut w = HashingWriter::new(io::sink());
    io::copy(&mut r, &mut w)?;
    Ok(w.finish().0)
}

/// The sha256 of a file's bytes, streamed.
pub(super) fn hash_file(path: &Path) -> io::Result<Digest> {
    hash_reader(BufReader::with_capacity(1 << 20, File::open(path)?))
}

/// The diff ID of a layer blob: the digest of its decompressed stream.
fn diff_id_of_blob(path: &Path) -> io::Result<Digest> {
    let mut r = BufReader::with_capacity(1 << 20, File::open(path)?);
    let c = Compression::detect(&mut r)?;
    hash_reader(c.decoder(r)?)
}

fn scan_blobs(store: &Store, s: &mut Survey) -> Result<(), FsckError> {
    let dir = store.root().join("blobs/sha256");
    for name in names(&dir)? {
        let Ok(d) = Digest::from_hex(&name) else {
            s.findings.push(finding(Kind::Blob, &name, Problem::Name));
            s.bad_blobs.push(name);
            continue;
        };
        match hash_file(&dir.join(&name)) {
            Ok(got) if got == d => {
                s.good_blobs.insert(d);
            }
            // Removed since it was listed (rmi): not damage.
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            res => {
                let problem = match res {
                    Ok(got) => Problem::Content { got },
                    Err(e) => Problem::Unreadable(e.to_string()),
                };
                s.findings.push(finding(Kind::Blob, d, problem));
                s.bad_blobs.push(name);
            }
        }
    }
    Ok(())
}

fn scan_layers(store: &Store, s: &mut Survey) -> Result<(), FsckError> {
    for name in names(&store.root().join("layers"))? {
        let Ok(d) = Digest::from_hex(&name) else {
            s.findings.push(finding(Kind::Layer, &name, Problem::Name));
            s.odd_layers.push(name);
            continue;
        };
        let id = LayerId(d);
        let mut entry = LayerEntry::default();
        match check_layer(store, &id, s, &mut entry) {
            Ok(()) => entry.sound = true,
            // Removed since it was listed (rmi), before or while it was
            // read: not damage.
            Err(None) => continue,
            Err(Some(_)) if !store.layer_dir(&id).exists() => continue,
            Err(Some(problem)) => s.findings.push(finding(Kind::Layer, id, problem)),
        }
        s.layers.insert(id, entry);
    }
    Ok(())
}

/// One layer's own damage (`Err(None)`: it is gone).
fn check_layer(
    store: &Store,
    id: &LayerId,
    s: &Survey,
    entry: &mut LayerEntry,
) -> Result<(), Option<Problem>> {
    let dir = store.layer_dir(id);
    let data = match fs::read(dir.join("layer.json")) {
        Ok(d) => d,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(dir.exists().then_some(Problem::NoMeta));
        }
        Err(e) => return Err(Some(Problem::Unreadable(format!("layer.json: {e}")))),
    };
    let got = Digest::of(&data);
    if got != id.0 {
        return Err(Some(Problem::MetaHash { got }));
    }
    let meta: LayerMeta = serde_json::from_slice(&data)
        .map_err(|e| Problem::Unreadable(format!("layer.json: {e}")))?;
    // Its `image_config` blob is not needed: without it the config is
    // generated from the chain again.
    entry.parent = meta.parent;
    let info = store
        .layer_info(id)
        .map_err(|e| Problem::Unreadable(one_line(&e)))?;
    let Some(want) = meta.diff_id else {
        return Ok(());
    };
    let diff = store.diff_dir(id);
    if !diff.is_dir() {
        return Err(Some(Problem::NoChangeset));
    }
    let split_path = dir.join(split::FILE_NAME);
    if split_path.is_file() {
        let mut w = HashingWriter::new(io::sink());
        split::reassemble(&diff, &split_path, &mut w)
            .map_err(|e| Problem::Rebuild(one_line(&e)))?;
        let got = w.finish().0;
        if got != want {
            return Err(Some(Problem::DiffId { got, want }));
        }
        entry.rebuilds = info.blob.map(|b| b.digest);
        return Ok(());
    }
    let blob = info.blob.ok_or(Problem::NoBlob)?;
    entry.needs.push(blob.digest);
    if s.good_blobs.contains(&blob.digest) {
        let got = diff_id_of_blob(&store.blob_path(&blob.digest))
            .map_err(|e| Problem::Unreadable(format!("its blob {}: {e}", blob.digest)))?;
        if got != want {
            return Err(Some(Problem::DiffId { got, want }));
        }
        check_files(store, id, meta.parent, &store.blob_path(&blob.digest))?;
    }
    Ok(())
}

/// The files of a changeset kept with its blob: what the blob unpacks to,
/// over the same layers, file by file. A layer below that cannot be read
/// is reported as itself.
fn check_files(
    store: &Store,
    id: &LayerId,
    parent: Option<LayerId>,
    blob: &Path,
) -> Result<(), Problem> {
    let lower = match parent.map(|p| store.stack(&p)) {
        None => crate::layer::Stack::default(),
        Some(Ok(stack)) => stack,
        Some(Err(_)) => return Ok(()),
    };
    let staging = store
        .stage("fsck")
        .map_err(|e| Problem::Unreadable(one_line(&e)))?;
    let fresh = staging.path().join("diff");
    fs::create_dir(&fresh).map_err(|e| Problem::Unreadable(format!("store tmp/: {e}")))?;
    tree::unpack_blob(blob, &lower, &fresh)?;
    match tree::first_difference(&store.diff_dir(id), &fresh) {
        Ok(None) => Ok(()),
        Ok(Some(path)) => Err(Problem::Files { path }),
        Err(e) => Err(Problem::Unreadable(format!("diff/: {e}"))),
    }
}

/// The digests a manifest (or a nested index) names.
pub fn manifest_needs(doc: &Value) -> Vec<Digest> {
    let one = |v: &Value| v.get("digest")?.as_str()?.parse::<Digest>().ok();
    let many = |k: &str| {
        doc.get(k)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(one)
            .collect::<Vec<_>>()
    };
    let mut out: Vec<Digest> = doc.get("config").and_then(one).into_iter().collect();
    out.extend(many("layers"));
    out.extend(many("manifests"));
    out
}

fn scan_index(store: &Store, s: &mut Survey) {
    let idx = match refs::read_index(store) {
        Ok(idx) => idx,
        Err(e) => {
            let problem = Problem::Unreadable(one_line(&e));
            s.findings.push(finding(Kind::Index, "index.json", problem));
            return;
        }
    };
    let mut tags = Vec::new();
    for (i, desc) in idx["manifests"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        let (mut t, problem) = check_tag(store, s, desc, i);
        if let Some(problem) = problem {
            t.sound = false;
            s.findings.push(finding(Kind::Tag, &t.name, problem));
        }
        tags.push(t);
    }
    s.tags = Some(tags);
}

/// One descriptor of `index.json` (the `i`th) and its own damage.
fn check_tag(store: &Store, s: &Survey, desc: &Value, i: usize) -> (TagEntry, Option<Problem>) {
    let ann = &desc["annotations"];
    let digest = desc["digest"]
        .as_str()
        .and_then(|d| d.parse::<Digest>().ok());
    let name = ann[refs::ANNOTATION_REF_NAME]
        .as_str()
        .map(String::from)
        .or(digest.map(|d| d.to_string()))
        .unwrap_or_else(|| format!("manifests[{i}]"));
    let mut t = TagEntry {
        name,
        layer: ann[refs::ANNOTATION_LAYER]
            .as_str()
            .and_then(|l| l.parse().ok()),
        sound: true,
        needs: Vec::new(),
    };
    let Some(d) = digest else {
        let problem = Problem::Unreadable("its descriptor has no valid digest".into());
        return (t, Some(problem));
    };
    t.needs.push(d);
    if s.good_blobs.contains(&d) {
        let doc = fs::read(store.blob_path(&d))
            .map_err(|e| e.to_string())
            .and_then(|b| serde_json::from_slice::<Value>(&b).map_err(|e| e.to_string()));
        match doc {
            Ok(doc) => t.needs.extend(manifest_needs(&doc)),
            Err(e) => return (t, Some(Problem::Unreadable(format!("manifest {d}: {e}")))),
        }
    }
    // A layer published since the layers were listed is there.
    let problem = t
        .layer
        .filter(|l| !s.layers.contains_key(l) && !store.has_layer(l))
        .map(Problem::LayerMissing);
    (t, problem)
}

fn scan_containers(store: &Store, s: &mut Survey) -> Result<(), FsckError> {
    for name in names(&store.root().join("containers"))? {
        let Ok(id) = name.parse() else { continue };
        let mut c = ContainerEntry {
            name: name.clone(),
            ..Default::default()
        };
        let problem = match store.container(&id) {
            Ok(m) => {
                c.layer = Some(m.layer);
                let gone = !s.layers.contains_key(&m.layer) && !store.has_layer(&m.layer);
                gone.then_some(Problem::LayerMissing(m.layer))
            }
            Err(crate::store::StoreError::NoContainer(_)) if !store.container_dir(&id).exists() => {
                continue
            }
            Err(e) => Some(Problem::Unreadable(one_line(&e))),
        };
        c.sound = problem.is_none();
        if let Some(problem) = problem {
            s.findings.push(finding(Kind::Container, name, problem));
        }
        s.containers.push(c);
    }
    Ok(())
}

/// A sound layer whose parent is not in the store at all (and that is
/// itself still there: `rmi` removes a layer before its parent).
/// The index of image IDs, when there is one: each entry of a layer whose
/// whole chain is sound gives the image ID that chain makes. Entries of
/// layers that are gone are no damage: the index is a cache, and the next
/// writer drops them. Reported once, at the first wrong entry.
fn scan_image_ids(store: &Store, s: &mut Survey) {
    let ids = match ids::read(store) {
        Ok(Some(ids)) => ids,
        Ok(None) => return,
        Err(e) => {
            s.image_ids_bad = true;
            let problem = Problem::Unreadable(one_line(&e));
            s.findings.push(finding(Kind::Index, ids::FILE, problem));
            return;
        }
    };
    for (layer, got) in ids {
        if !sound_chain(s, &layer) {
            continue;
        }
        // Removed since it was listed: no damage.
        let Ok(want) = image_id(store, &layer) else {
            continue;
        };
        if want != got {
            s.image_ids_bad = true;
            let problem = Problem::ImageId { layer, got, want };
            s.findings.push(finding(Kind::Index, ids::FILE, problem));
            return;
        }
    }
}

/// Whether `top` and every layer below it were found sound.
fn sound_chain(s: &Survey, top: &LayerId) -> bool {
    let mut cur = Some(*top);
    for _ in 0..=s.layers.len() {
        match cur {
            None => return true,
            Some(id) => match s.layers.get(&id) {
                Some(e) if e.sound => cur = e.parent,
                _ => return false,
            },
        }
    }
    false
}

fn missing_parents(store: &Store, s: &mut Survey) {
    let gone: Vec<(LayerId, LayerId)> = s
        .layers
        .iter()
        .filter(|(_, e)| e.sound)
        .filter_map(|(id, e)| Some((*id, e.parent?)))
        .filter(|(id, p)| !s.layers.contains_key(p) && store.has_layer(id))
        .collect();
    for (id, p) in gone {
        s.layers.get_mut(&id).expect("listed").sound = false;
        s.findings
            .push(finding(Kind::Layer, id, Problem::ParentMissing(p)));
    }
}

/// Each blob that something needs and that is not in the store, once,
/// naming the first that needs it. A blob a sound tar-split rebuilds is
/// not missing: the store rebuilds it when it is next needed. Nor is one
/// published since the blobs were listed (a `load` or `tag` meanwhile):
/// it is checked now.
fn missing_blobs(store: &Store, s: &mut Survey) {
    let rebuilt: BTreeSet<Digest> = s.layers.values().filter_map(|e| e.rebuilds).collect();
    let bad: BTreeSet<String> = s.bad_blobs.iter().cloned().collect();
    let needers = s
        .layers
        .iter()
        .flat_map(|(id, e)| e.needs.iter().map(move |d| (format!("layer {id}"), *d)))
        .chain(
            s.tags
                .iter()
                .flatten()
                .flat_map(|t| t.needs.iter().map(move |d| (format!("tag {}", t.name), *d))),
        )
        .collect::<Vec<_>>();
    for (needed_by, d) in needers {
        if s.good_blobs.contains(&d) || bad.contains(&d.hex()) || rebuilt.contains(&d) {
            continue;
        }
        if hash_file(&store.blob_path(&d)).is_ok_and(|got| got == d) {
            s.good_blobs.insert(d);
            continue;
        }
        if s.missing.insert(d) {
            s.findings
                .push(finding(Kind::Blob, d, Problem::Missing { needed_by }));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reference::Reference;
    use crate::store::ingest::{ingest_layer, IngestOptions};
    use crate::testutil::{layer, store, tar_of};

    fn tag(s: &Store, name: &str, top: &LayerId) {
        crate::image::config::tag(s, &Reference::parse(name).unwrap(), top).unwrap();
    }

    /// A layer kept with a tar-split, not as a blob.
    fn split_layer(s: &Store, parent: Option<LayerId>, tar: &[u8]) -> LayerId {
        let meta = LayerMeta {
            parent,
            ..Default::default()
        };
        let opts = IngestOptions {
            meta,
            split: true,
            ..Default::default()
        };
        ingest_layer(s, tar, opts).unwrap().id
    }

    fn only(s: &Store) -> Finding {
        let mut f = check(s).unwrap();
        assert_eq!(f.len(), 1, "{f:?}");
        f.remove(0)
    }

    #[test]
    fn a_sound_store_has_no_findings() {
        let (_d, s) = store("fsck-sound");
        let (a, _) = layer(&s, None, &tar_of(&[("a", b"1")]));
        let b = split_layer(&s, Some(a), &tar_of(&[("b", b"2")]));
        tag(&s, "t", &b);
        assert_eq!(check(&s).unwrap(), vec![]);
    }

    #[test]
    fn edited_layer_json_is_the_one_finding_not_the_layers_above() {
        let (_d, s) = store("fsck-meta");
        let (a, _) = layer(&s, None, &tar_of(&[("a", b"1")]));
        let (b, _) = layer(&s, Some(a), &tar_of(&[("b", b"2")]));
        tag(&s, "t", &b);
        let p = s.layer_dir(&a).join("layer.json");
        let mut data = fs::read(&p).unwrap();
        data.push(b'\n');
        fs::write(&p, &data).unwrap();
        let f = only(&s);
        assert_eq!((f.kind, f.id), (Kind::Layer, a.to_string()));
        assert_eq!(
            f.problem,
            Problem::MetaHash {
                got: Digest::of(&data)
            }
        );
    }

    #[test]
    fn a_changed_file_under_a_split_fails_its_diff_id() {
        let (_d, s) = store("fsck-split");
        let a = split_layer(&s, None, &tar_of(&[("a", b"one")]));
        fs::write(s.diff_dir(&a).join("a"), b"two").unwrap();
        let f = only(&s);
        assert_eq!(f.id, a.to_string());
        assert!(matches!(f.problem, Problem::DiffId { .. }), "{f}");
        // a file gone cannot be rebuilt at all
        fs::remove_file(s.diff_dir(&a).join("a")).unwrap();
        assert!(matches!(only(&s).problem, Problem::Rebuild(_)));
    }

    #[test]
    fn a_changed_file_under_a_kept_blob_is_named() {
        use std::os::unix::fs::PermissionsExt;
        let (_d, s) = store("fsck-files");
        let (a, _) = layer(&s, None, &tar_of(&[("a", b"1")]));
        let (b, _) = layer(&s, Some(a), &tar_of(&[("d/b", b"2"), ("d/c", b"3")]));
        tag(&s, "t", &b);
        assert_eq!(check(&s).unwrap(), vec![]);
        let c = s.diff_dir(&b).join("d/c");
        fs::write(&c, b"4").unwrap();
        let f = only(&s);
        assert_eq!(f.id, b.to_string());
        assert_eq!(f.problem, Problem::Files { path: "d/c".into() });
        assert_eq!(f.problem.code(), "files");
        fs::write(&c, b"3").unwrap();
        // the same bytes, but not the time the tar gives
        assert_eq!(only(&s).problem, Problem::Files { path: "d/c".into() });
        fs::remove_file(&c).unwrap();
        // (the directory's time changed with it)
        assert_eq!(only(&s).problem, Problem::Files { path: "d".into() });
        let a_file = s.diff_dir(&a).join("a");
        fs::set_permissions(&a_file, fs::Permissions::from_mode(0o600)).unwrap();
        let f = check(&s).unwrap();
        assert!(f.contains(&Finding {
            kind: Kind::Layer,
            id: a.to_string(),
            problem: Problem::Files { path: "a".into() },
        }));
    }

    #[test]
    fn blobs_are_hashed_and_missing_ones_named_once() {
        let (_d, s) = store("fsck-blobs");
        let (a, _) = layer(&s, None, &tar_of(&[("a", b"1")]));
        tag(&s, "t", &a);
        tag(&s, "u", &a);
        let blob = s.layer_info(&a).unwrap().blob.unwrap().digest;
        let p = s.blob_path(&blob);
        fs::write(&p, b"not the tar").unwrap();
        let f = only(&s);
        assert_eq!(
            f.to_string(),
            format!(
                "blob {blob}: content hashes to {}",
                Digest::of(b"not the tar")
            )
        );
        fs::remove_file(&p).unwrap();
        let f = only(&s);
        assert_eq!(
            f.to_string(),
            format!("blob {blob}: missing (needed by layer {a})")
        );
    }

    #[test]
    fn a_stray_file_among_the_blobs_is_named() {
        let (_d, s) = store("fsck-stray");
        fs::write(s.root().join("blobs/sha256/junk"), b"x").unwrap();
        assert_eq!(
            only(&s).to_string(),
            "blob junk: its name is not a sha256 digest"
        );
    }
}
