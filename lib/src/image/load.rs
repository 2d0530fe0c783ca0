//! `load`: docker-archive (legacy v1.2 and the Docker >= 25 hybrid) and OCI
//! image layouts (directory or tar) into layer chains.
//!
//! Every digest is verified: each config against its descriptor (OCI) and
//! as the image ID, each layer blob as received against its descriptor, and
//! each uncompressed layer against the config's `rootfs.diff_ids`. Paths
//! named inside an archive are resolved inside it and nowhere else.

use super::reference::Reference;
use crate::digest::{Digest, LayerId};
use crate::layer::Compression;
use crate::store::ingest::{empty_layer, ingest_layer, IngestError, IngestOptions};
use crate::store::meta::LayerMeta;
use crate::store::{IoContext, Staging, Store, StoreError};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// The largest JSON document (manifest.json, index.json, a manifest, a
/// config) read into memory.
const MAX_JSON: u64 = 32 << 20;

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{0}")]
    Format(String),
    #[error("layer {index} ({path}): {source}")]
    Layer {
        index: usize,
        path: String,
        source: IngestError,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("reading archive: {0}")]
    Io(#[from] io::Error),
}

fn bad(msg: impl Into<String>) -> LoadError {
    LoadError::Format(msg.into())
}

/// Normalise a path named inside an archive: relative, no `..`.
fn clean(path: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for c in path.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            c => parts.push(c),
        }
    }
    if path.starts_with('/') || parts.is_empty() {
        return None;
    }
    Some(parts.join("/"))
}

/// Where the files of an archive come from.
pub trait Source {
    /// Open a file of the archive; `Ok(None)` when it does not exist.
    fn open(&self, path: &str) -> io::Result<Option<(Box<dyn Read + Send + '_>, u64)>>;
}

/// An unpacked archive or OCI layout in a directory.
pub struct DirSource {
    root: PathBuf,
}

impl DirSource {
    pub fn new(root: &Path) -> io::Result<DirSource> {
        Ok(DirSource {
            root: root.canonicalize()?,
        })
    }
}

impl Source for DirSource {
    fn open(&self, path: &str) -> io::Result<Option<(Box<dyn Read + Send + '_>, u64)>> {
        let Some(rel) = clean(path) else {
            return Ok(None);
        };
        let p = match self.root.join(rel).canonicalize() {
            Ok(p) => p,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        if !p.starts_with(&self.root) {
            return Err(io::Error::other(format!(
                "{path:?} points outside the layout"
            )));
        }
        let f = File::open(&p)?;
        let m = f.metadata()?;
        if !m.is_file() {
            return Ok(None);
        }
        Ok(Some((Box::new(f), m.len())))
    }
}

#[derive(Debug, Clone)]
enum TarItem {
    File { offset: u64, size: u64 },
    Symlink(String),
    Hardlink(String),
}

/// An uncompressed tar file, indexed once and read at offsets.
pub struct TarSource {
    file: File,
    items: HashMap<String, TarItem>,
}

impl TarSource {
    pub fn new(file: File) -> Result<TarSource, LoadError> {
        let mut items = HashMap::new();
        {
            let mut archive = tar::Archive::new(&file);
            let entries = archive
                .entries_with_seek()
                .map_err(|e| bad(format!("not a tar archive: {e}")))?;
            for entry in entries {
                let entry = entry.map_err(|e| bad(format!("corrupt archive: {e}")))?;
                let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
                let Some(name) = clean(&raw) else { continue };
                let link = || {
                    entry
                        .link_name_bytes()
                        .map(|l| String::from_utf8_lossy(&l).into_owned())
                        .unwrap_or_default()
                };
                let item = match entry.header().entry_type() {
                    tar::EntryType::Regular | tar::EntryType::Continuous => TarItem::File {
                        offset: entry.raw_file_position(),
                        size: entry.size(),
                    },
                    tar::EntryType::Symlink => TarItem::Symlink(link()),
                    tar::EntryType::Link => TarItem::Hardlink(link()),
                    _ => continue,
                };
                if items.insert(name.clone(), item).is_some() {
                    return Err(bad(format!("archive has {name:?} twice")));
                }
            }
        }
        Ok(TarSource { file, items })
    }

    fn resolve(&self, path: &str) -> Option<(u64, u64)> {
        let mut cur = clean(path)?;
        for _ in 0..16 {
            match self.items.get(&cur)? {
                TarItem::File { offset, size } => return Some((*offset, *size)),
                TarItem::Hardlink(t) => cur = clean(t)?,
                TarItem::Symlink(t) => {
                    if t.starts_with('/') {
                        return None;
                    }
                    cur = match cur.rsplit_once('/') {
                        Some((dir, _)) => clean(&format!("{dir}/{t}"))?,
                        None => clean(t)?,
                    };
                }
            }
        }
        None
    }
}

/// Reads a range of a file with `pread`, so many readers can share it.
struct RangeReader<'a> {
    file: &'a File,
    pos: u64,
    end: u64,
}

impl Read for RangeReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.end - self.pos;
        if left == 0 {
            return Ok(0);
        }
        let want = buf.len().min(left as usize);
        let n = self.file.read_at(&mut buf[..want], self.pos)?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "archive truncated",
            ));
        }
        self.pos += n as u64;
        Ok(n)
    }
}

impl Source for TarSource {
    fn open(&self, path: &str) -> io::Result<Option<(Box<dyn Read + Send + '_>, u64)>> {
        Ok(self.resolve(path).map(|(offset, size)| {
            let r: Box<dyn Read + Send + '_> = Box::new(RangeReader {
                file: &self.file,
                pos: offset,
                end: offset + size,
            });
            (r, size)
        }))
    }
}

/// Open an archive given as a path (`-` for stdin). Compressed archives
/// and stdin are first written, uncompressed, to a staging file in the
/// store, which lives as long as the returned guard.
pub fn open_source(
    store: &Store,
    input: &str,
) -> Result<(Box<dyn Source>, Option<Staging>), LoadError> {
    if input != "-" {
        let p = Path::new(input);
        let meta = std::fs::metadata(p).map_err(|e| bad(format!("{input}: {e}")))?;
        if meta.is_dir() {
            return Ok((Box::new(DirSource::new(p)?), None));
        }
        let mut f = BufReader::new(File::open(p)?);
        if Compression::detect(&mut f)? == Compression::None {
            return Ok((Box::new(TarSource::new(File::open(p)?)?), None));
        }
        return spool(store, f);
    }
    spool(store, BufReader::new(io::stdin().lock()))
}

fn spool<R: io::BufRead>(
    store: &Store,
    mut input: R,
) -> Result<(Box<dyn Source>, Option<Staging>), LoadError> {
    let staging = store.stage("load")?;
    let p = staging.path().join("archive.tar");
    let compression = Compression::detect(&mut input)?;
    let mut out = File::create(&p).at(&p)?;
    let mut dec = compression.decoder(input)?;
    io::copy(&mut dec, &mut out).map_err(|e| bad(format!("reading the archive: {e}")))?;
    let f = File::open(&p).at(&p)?;
    Ok((Box::new(TarSource::new(f)?), Some(staging)))
}

fn read_json(src: &dyn Source, path: &str) -> Result<Option<(Vec<u8>, Value)>, LoadError> {
    let Some((r, size)) = src.open(path)? else {
        return Ok(None);
    };
    if size > MAX_JSON {
        return Err(bad(format!(
            "{path}: {size} bytes is too large for a JSON document"
        )));
    }
    let mut data = Vec::with_capacity(size as usize);
    r.take(MAX_JSON).read_to_end(&mut data)?;
    let v =
        serde_json::from_slice(&data).map_err(|e| bad(format!("{path}: not valid JSON: {e}")))?;
    Ok(Some((data, v)))
}

fn blob_path(d: &Digest) -> String {
    format!("blobs/sha256/{}", d.hex())
}

/// Read a content-addressed blob and check its digest and size.
fn read_blob(
    src: &dyn Source,
    desc: &Value,
    what: &str,
) -> Result<(Vec<u8>, Value, Digest), LoadError> {
    let digest: Digest = desc["digest"]
        .as_str()
        .ok_or_else(|| bad(format!("{what} descriptor has no digest")))?
        .parse()
        .map_err(|e| bad(format!("{what}: {e}")))?;
    let (data, v) = read_json(src, &blob_path(&digest))?
        .ok_or_else(|| bad(format!("{what} blob {digest} is missing")))?;
    let actual = Digest::of(&data);
    if actual != digest {
        return Err(bad(format!(
            "{what} blob {digest} does not match its digest (got {actual})"
        )));
    }
    if let Some(size) = desc["size"].as_u64() {
        if size != data.len() as u64 {
            return Err(bad(format!(
                "{what} blob {digest}: size {} but the descriptor says {size}",
                data.len()
            )));
        }
    }
    Ok((data, v, digest))
}

/// One image brought in.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub layer: LayerId,
    pub image_id: Digest,
    pub tags: Vec<String>,
    /// Diff IDs, bottom first.
    pub diff_ids: Vec<Digest>,
    pub layers: usize,
    /// The archive format it came from (`docker-archive` or `oci`).
    pub format: &'static str,
}

/// A layer of an image to bring in: where it is and its blob digest, if the
/// archive names one.
struct LayerSrc {
    path: String,
    blob: Option<Digest>,
}

/// Called before each layer with (image index, layer index, layer count).
pub type Progress<'a> = &'a mut dyn FnMut(usize, usize, usize);

/// Load every image of an archive or layout.
pub fn load(
    store: &Store,
    src: &dyn Source,
    progress: Progress<'_>,
) -> Result<Vec<Loaded>, LoadError> {
    if let Some((_, manifest)) = read_json(src, "manifest.json")? {
        return load_docker(store, src, &manifest, progress);
    }
    if let Some((_, index)) = read_json(src, "index.json")? {
        return load_oci(store, src, &index, progress);
    }
    Err(bad(
        "neither manifest.json nor index.json found: not a docker-archive or an OCI image layout",
    ))
}

fn load_docker(
    store: &Store,
    src: &dyn Source,
    manifest: &Value,
    progress: Progress<'_>,
) -> Result<Vec<Loaded>, LoadError> {
    let items = manifest
        .as_array()
        .ok_or_else(|| bad("manifest.json is not a JSON array"))?;
    if items.is_empty() {
        return Err(bad("manifest.json lists no image"));
    }
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let cfg_path = item["Config"]
            .as_str()
            .ok_or_else(|| bad(format!("manifest.json item {i} has no Config")))?;
        let (cfg_bytes, cfg) = read_json(src, cfg_path)?
            .ok_or_else(|| bad(format!("config {cfg_path} is missing")))?;
        let layers = item["Layers"]
            .as_array()
            .ok_or_else(|| bad(format!("manifest.json item {i} has no Layers")))?
            .iter()
            .map(|l| {
                l.as_str()
                    .map(|p| LayerSrc {
                        path: p.to_string(),
                        blob: None,
                    })
                    .ok_or_else(|| bad("a Layers entry is not a string"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let tags = item["RepoTags"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|t| t.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        let mut p = |l: usize, n: usize| progress(i, l, n);
        out.push(import(
            store,
            src,
            &cfg_bytes,
            &cfg,
            &layers,
            tags,
            "docker-archive",
            &mut p,
        )?);
    }
    Ok(out)
}

fn names_from_annotations(desc: &Value) -> Vec<String> {
    let ann = &desc["annotations"];
    if let Some(n) = ann["io.containerd.image.name"].as_str() {
        return vec![n.to_string()];
    }
    match ann["org.opencontainers.image.ref.name"].as_str() {
        // A bare tag ("latest") names no repository: leave the image untagged.
        Some(n) if n.contains(':') || n.contains('/') => vec![n.to_string()],
        _ => vec![],
    }
}

fn load_oci(
    store: &Store,
    src: &dyn Source,
    index: &Value,
    progress: Progress<'_>,
) -> Result<Vec<Loaded>, LoadError> {
    let manifests = index["manifests"]
        .as_array()
        .ok_or_else(|| bad("index.json has no manifests array"))?;
    // Several descriptors (tags) may share one manifest: import it once.
    let mut by_digest: Vec<(String, Value, Vec<String>)> = Vec::new();
    let mut stack: Vec<(Value, Vec<String>)> = manifests
        .iter()
        .map(|d| (d.clone(), names_from_annotations(d)))
        .collect();
    stack.reverse();
    while let Some((desc, names)) = stack.pop() {
        let mt = desc["mediaType"].as_str().unwrap_or("");
        let digest = desc["digest"].as_str().unwrap_or("").to_string();
        if mt.ends_with("image.index.v1+json") || mt.ends_with("manifest.list.v2+json") {
            let (_, nested, _) = read_blob(src, &desc, "index")?;
            let host = super::config::host_platform();
            let list = nested["manifests"].as_array().cloned().unwrap_or_default();
            // Only the manifest for this machine's platform.
            if let Some(d) = list.iter().find(|d| {
                d["platform"]["architecture"] == host["architecture"]
                    && d["platform"]["os"] == host["os"]
            }) {
                stack.push((d.clone(), names));
            }
            continue;
        }
        match by_digest.iter_mut().find(|(d, _, _)| *d == digest) {
            Some((_, _, n)) => n.extend(names),
            None => by_digest.push((digest, desc, names)),
        }
    }
    if by_digest.is_empty() {
        return Err(bad("index.json lists no image manifest"));
    }
    let mut out = Vec::new();
    for (i, (_, desc, names)) in by_digest.iter().enumerate() {
        let (_, manifest, _) = read_blob(src, desc, "manifest")?;
        let (cfg_bytes, cfg, _) = read_blob(src, &manifest["config"], "config")?;
        let layers = manifest["layers"]
            .as_array()
            .ok_or_else(|| bad("manifest has no layers array"))?
            .iter()
            .map(|l| {
                let d: Digest = l["digest"]
                    .as_str()
                    .unwrap_or("")
                    .parse()
                    .map_err(|e| bad(format!("layer descriptor: {e}")))?;
                Ok(LayerSrc {
                    path: blob_path(&d),
                    blob: Some(d),
                })
            })
            .collect::<Result<Vec<_>, LoadError>>()?;
        let mut p = |l: usize, n: usize| progress(i, l, n);
        out.push(import(
            store,
            src,
            &cfg_bytes,
            &cfg,
            &layers,
            names.clone(),
            "oci",
            &mut p,
        )?);
    }
    Ok(out)
}

/// Take back the layers a failed import published (newest first), and
/// their blobs unless another layer uses them. A layer that something else
/// took up meanwhile (a tag, a child layer, a container: another process
/// loading the same image) stays.
fn rollback(store: &Store, created: &[LayerId]) {
    let tagged: Vec<LayerId> = crate::store::refs::list(store)
        .map(|r| r.into_iter().map(|t| t.layer).collect())
        .unwrap_or_default();
    for id in created.iter().rev() {
        let has_child = store
            .layers()
            .unwrap_or_default()
            .iter()
            .any(|l| store.layer(l).ok().and_then(|m| m.parent) == Some(*id));
        let in_use = crate::container::users_of(store, id)
            .map(|u| !u.is_empty())
            .unwrap_or(true);
        if tagged.contains(id) || has_child || in_use {
            continue;
        }
        let blob = store.layer_info(id).ok().and_then(|i| i.blob);
        let _ = store.trash(&store.layer_dir(id));
        if let Some(b) = blob {
            if !super::remove::blob_in_use(store, &b.digest).unwrap_or(true) {
                let _ = std::fs::remove_file(store.blob_path(&b.digest));
            }
        }
    }
}

fn opt_str(v: &Value, k: &str) -> Option<String> {
    v.get(k).and_then(Value::as_str).map(String::from)
}

#[allow(clippy::too_many_arguments)]
fn import(
    store: &Store,
    src: &dyn Source,
    cfg_bytes: &[u8],
    cfg: &Value,
    layers: &[LayerSrc],
    tags: Vec<String>,
    format: &'static str,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Loaded, LoadError> {
    let image_id = Digest::of(cfg_bytes);
    if cfg["rootfs"]["type"].as_str() != Some("layers") {
        return Err(bad(format!(
            "config {image_id}: rootfs.type is not \"layers\""
        )));
    }
    let diff_ids: Vec<Digest> = cfg["rootfs"]["diff_ids"]
        .as_array()
        .ok_or_else(|| bad(format!("config {image_id}: no rootfs.diff_ids")))?
        .iter()
        .map(|d| d.as_str().unwrap_or("").parse::<Digest>())
        .collect::<Result<_, _>>()
        .map_err(|e| bad(format!("config {image_id}: {e}")))?;
    if diff_ids.len() != layers.len() {
        return Err(bad(format!(
            "image {image_id}: {} layers but the config lists {} diff_ids",
            layers.len(),
            diff_ids.len()
        )));
    }
    let refs = tags
        .iter()
        .map(|t| Reference::parse(t).map_err(|e| bad(e.to_string())))
        .collect::<Result<Vec<_>, _>>()?;
    let history: Vec<Value> = cfg["history"].as_array().cloned().unwrap_or_default();
    let non_empty = history
        .iter()
        .filter(|h| h["empty_layer"] != json!(true))
        .count();
    if non_empty > diff_ids.len() {
        return Err(bad(format!(
            "config {image_id}: {non_empty} non-empty history entries but only {} layers",
            diff_ids.len()
        )));
    }
    // One entry per layer of the chain: the history, then bare entries for
    // layers the history does not describe.
    let mut entries: Vec<(Value, bool)> = history
        .iter()
        .map(|h| (h.clone(), h["empty_layer"] == json!(true)))
        .collect();
    for _ in non_empty..diff_ids.len() {
        entries.push((json!({}), false));
    }
    if entries.is_empty() {
        entries.push((json!({}), true));
    }
    let mut platform = serde_json::Map::new();
    for k in ["architecture", "os", "variant"] {
        if let Some(v) = cfg.get(k).filter(|v| v.is_string()) {
            platform.insert(k.into(), v.clone());
        }
    }
    // Layers this import publishes, so a failure can take them back: a
    // bad archive leaves the store as it was.
    let mut created: Vec<LayerId> = Vec::new();
    let chain = (|| -> Result<LayerId, LoadError> {
        let mut parent: Option<LayerId> = None;
        let mut di = 0;
        let last = entries.len() - 1;
        for (k, (h, empty)) in entries.iter().enumerate() {
            let mut meta = LayerMeta {
                parent,
                created: opt_str(h, "created"),
                created_by: opt_str(h, "created_by"),
                author: opt_str(h, "author"),
                comment: opt_str(h, "comment"),
                ..Default::default()
            };
            if k == last {
                meta.config = Some(
                    cfg.get("config")
                        .filter(|c| c.is_object())
                        .cloned()
                        .unwrap_or_else(|| json!({})),
                );
                meta.platform = Some(Value::Object(platform.clone()));
                meta.image_config = Some(image_id);
            }
            let id = if *empty {
                let existed = store.has_layer(&meta.id());
                let id = empty_layer(store, meta)?;
                if !existed {
                    created.push(id);
                }
                id
            } else {
                let diff_id = diff_ids[di];
                let l = &layers[di];
                progress(di, diff_ids.len());
                meta.diff_id = Some(diff_id);
                let predicted = meta.id();
                let id = if store.has_layer(&predicted) {
                    predicted
                } else {
                    let (reader, _) = src.open(&l.path)?.ok_or_else(|| {
                        bad(format!(
                            "layer {} ({}) is missing from the archive",
                            di, l.path
                        ))
                    })?;
                    let got = ingest_layer(
                        store,
                        reader,
                        IngestOptions {
                            meta,
                            expect_diff_id: Some(diff_id),
                            expect_blob: l.blob,
                            progress: None,
                            // The image is tagged: its blobs are needed now.
                            split: false,
                        },
                    )
                    .map_err(|source| LoadError::Layer {
                        index: di,
                        path: l.path.clone(),
                        source,
                    })?;
                    created.push(got.id);
                    got.id
                };
                di += 1;
                id
            };
            parent = Some(id);
        }
        Ok(parent.expect("at least one entry"))
    })();
    let top = match chain {
        Ok(top) => top,
        Err(e) => {
            rollback(store, &created);
            return Err(e);
        }
    };
    store.put_blob(cfg_bytes)?;
    let mut names = Vec::new();
    for r in &refs {
        super::config::tag(store, r, &top)?;
        names.push(r.familiar());
    }
    names.dedup();
    Ok(Loaded {
        layer: top,
        image_id,
        tags: names,
        diff_ids,
        layers: entries.len(),
        format,
    })
}
