//! `load`: docker-archive (legacy v1.2 and the Docker >= 25 hybrid) and OCI
//! image layouts (directory or tar) into layer chains.
//!
//! Every digest is verified: each config against its descriptor (OCI) and
//! as the image ID, each layer blob as received against its descriptor, and
//! each uncompressed layer against the config's `rootfs.diff_ids`. Paths
//! named inside an archive are resolved inside it and nowhere else.

use super::docker::ArchiveItem;
use crate::digest::{Digest, LayerId};
use crate::layer::Compression;
use crate::reference::Reference;
use crate::store::ingest::{empty_layer, ingest_layer, IngestError, IngestOptions};
use crate::store::meta::LayerMeta;
use crate::store::{IoContext, Staging, Store, StoreError};
use oci_spec::image::{
    Descriptor, ImageConfiguration, ImageIndex, ImageManifest, MediaType, Platform,
};
use serde::de::DeserializeOwned;
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
    #[error("layer {index} ({path})")]
    Layer {
        index: usize,
        path: String,
        source: IngestError,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("reading archive")]
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
        let meta = std::fs::metadata(p)?;
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

/// Read a JSON document of the archive, bounded; `Ok(None)` when absent.
fn read_doc(src: &dyn Source, path: &str) -> Result<Option<Vec<u8>>, LoadError> {
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
    Ok(Some(data))
}

/// Parse a document strictly into its type.
fn parse<T: DeserializeOwned>(data: &[u8], what: &str) -> Result<T, LoadError> {
    serde_json::from_slice(data).map_err(|e| bad(format!("{what}: invalid: {e}")))
}

/// Read and parse a JSON document of the archive; `Ok(None)` when absent.
fn read_json<T: DeserializeOwned>(
    src: &dyn Source,
    path: &str,
) -> Result<Option<(Vec<u8>, T)>, LoadError> {
    let Some(data) = read_doc(src, path)? else {
        return Ok(None);
    };
    let v = parse(&data, path)?;
    Ok(Some((data, v)))
}

fn blob_path(d: &Digest) -> String {
    format!("blobs/sha256/{}", d.hex())
}

/// cairn's digest of an OCI descriptor's (sha256 only).
fn digest_of(d: &oci_spec::image::Digest, what: &str) -> Result<Digest, LoadError> {
    d.as_ref().parse().map_err(|e| bad(format!("{what}: {e}")))
}

/// Read a content-addressed blob and check its digest and size; its bytes
/// as they are (an ID may depend on them).
fn read_blob(src: &dyn Source, desc: &Descriptor, what: &str) -> Result<Vec<u8>, LoadError> {
    let digest = digest_of(desc.digest(), what)?;
    let data = read_doc(src, &blob_path(&digest))?
        .ok_or_else(|| bad(format!("{what} blob {digest} is missing")))?;
    let actual = Digest::of(&data);
    if actual != digest {
        return Err(bad(format!(
            "{what} blob {digest} does not match its digest (got {actual})"
        )));
    }
    if desc.size() != data.len() as u64 {
        return Err(bad(format!(
            "{what} blob {digest}: size {} but the descriptor says {}",
            data.len(),
            desc.size()
        )));
    }
    Ok(data)
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
#[derive(Debug, Clone)]
struct LayerSrc {
    path: String,
    blob: Option<Digest>,
}

/// An image as an archive describes it, before anything is checked.
struct ImageSrc {
    /// The config exactly as it came: its digest is the image ID.
    config: Vec<u8>,
    layers: Vec<LayerSrc>,
    tags: Vec<String>,
    format: &'static str,
}

/// Called before each layer with (image index, layer index, layer count).
pub type Progress<'a> = &'a mut dyn FnMut(usize, usize, usize);

/// Load every image of an archive or layout.
pub fn load(
    store: &Store,
    src: &dyn Source,
    progress: Progress<'_>,
) -> Result<Vec<Loaded>, LoadError> {
    let images = if let Some((_, items)) = read_json(src, "manifest.json")? {
        docker_images(src, items)?
    } else if let Some((_, index)) = read_json(src, "index.json")? {
        oci_images(src, &index)?
    } else {
        return Err(bad(
            "neither manifest.json nor index.json found: not a docker-archive or an OCI image layout",
        ));
    };
    let mut out = Vec::new();
    for (i, image) in images.into_iter().enumerate() {
        let mut p = |l: usize, n: usize| progress(i, l, n);
        out.push(import(store, src, image, &mut p)?);
    }
    Ok(out)
}

/// The images of a docker-archive's `manifest.json`.
fn docker_images(src: &dyn Source, items: Vec<ArchiveItem>) -> Result<Vec<ImageSrc>, LoadError> {
    if items.is_empty() {
        return Err(bad("manifest.json lists no image"));
    }
    items
        .into_iter()
        .map(|item| {
            let config = read_doc(src, &item.config)?
                .ok_or_else(|| bad(format!("config {} is missing", item.config)))?;
            let layers = item
                .layers
                .into_iter()
                .map(|path| LayerSrc { path, blob: None })
                .collect();
            Ok(ImageSrc {
                config,
                layers,
                tags: item.repo_tags,
                format: "docker-archive",
            })
        })
        .collect()
}

fn names_from_annotations(desc: &Descriptor) -> Vec<String> {
    let Some(ann) = desc.annotations() else {
        return vec![];
    };
    if let Some(n) = ann.get("io.containerd.image.name") {
        return vec![n.to_string()];
    }
    match ann.get("org.opencontainers.image.ref.name") {
        // A bare tag ("latest") names no repository: leave the image untagged.
        Some(n) if n.contains(':') || n.contains('/') => vec![n.to_string()],
        _ => vec![],
    }
}

/// Whether a descriptor points at an index (OCI's or docker's manifest list).
fn is_index(desc: &Descriptor) -> bool {
    *desc.media_type() == MediaType::ImageIndex
        || desc
            .media_type()
            .as_ref()
            .ends_with("manifest.list.v2+json")
}

/// Whether `platform` is this machine's.
fn is_host(platform: Option<&Platform>) -> bool {
    let host = super::config::host_platform();
    platform.is_some_and(|p| p.architecture() == host.architecture() && p.os() == host.os())
}

/// The images of an OCI layout's `index.json`: each manifest once, with
/// every name its descriptors give; a nested index gives this machine's
/// platform only.
fn oci_images(src: &dyn Source, index: &ImageIndex) -> Result<Vec<ImageSrc>, LoadError> {
    let mut by_digest: Vec<(Descriptor, Vec<String>)> = Vec::new();
    let mut stack: Vec<(Descriptor, Vec<String>)> = index
        .manifests()
        .iter()
        .map(|d| (d.clone(), names_from_annotations(d)))
        .collect();
    stack.reverse();
    while let Some((desc, names)) = stack.pop() {
        if is_index(&desc) {
            let nested: ImageIndex = parse(&read_blob(src, &desc, "index")?, "index")?;
            if let Some(d) = nested
                .manifests()
                .iter()
                .find(|d| is_host(d.platform().as_ref()))
            {
                stack.push((d.clone(), names));
            }
            continue;
        }
        match by_digest
            .iter_mut()
            .find(|(d, _)| d.digest() == desc.digest())
        {
            Some((_, n)) => n.extend(names),
            None => by_digest.push((desc, names)),
        }
    }
    if by_digest.is_empty() {
        return Err(bad("index.json lists no image manifest"));
    }
    by_digest
        .into_iter()
        .map(|(desc, tags)| {
            let manifest: ImageManifest = parse(&read_blob(src, &desc, "manifest")?, "manifest")?;
            let config = read_blob(src, manifest.config(), "config")?;
            let layers = manifest
                .layers()
                .iter()
                .map(|l| {
                    let d = digest_of(l.digest(), "layer descriptor")?;
                    Ok(LayerSrc {
                        path: blob_path(&d),
                        blob: Some(d),
                    })
                })
                .collect::<Result<Vec<_>, LoadError>>()?;
            Ok(ImageSrc {
                config,
                layers,
                tags,
                format: "oci",
            })
        })
        .collect()
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
        let in_use = store
            .containers_on(id)
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

/// What an import publishes, worked out from the config alone before
/// anything is written.
#[derive(Debug, Clone, PartialEq)]
struct Plan {
    image_id: Digest,
    /// Bottom first.
    diff_ids: Vec<Digest>,
    refs: Vec<Reference>,
    /// One per layer of the chain, bottom first: its metadata (no parent
    /// yet) and, for a layer with content, the index of its diff ID. The
    /// last carries the image's runtime config, platform and config digest.
    steps: Vec<(LayerMeta, Option<usize>)>,
}

/// Check a config against the archive's layers and plan the chain: the
/// config's history, then bare entries for layers the history does not
/// describe. The runtime config is kept as it came (docker keys OCI's
/// type does not know, as Healthcheck or Shell, pass through); the
/// typed config checks it parses.
fn plan(config: &[u8], layers: usize, tags: &[String]) -> Result<Plan, LoadError> {
    let image_id = Digest::of(config);
    let what = format!("config {image_id}");
    let cfg: ImageConfiguration = parse(config, &what)?;
    if cfg.rootfs().typ() != "layers" {
        return Err(bad(format!("{what}: rootfs.type is not \"layers\"")));
    }
    let diff_ids = cfg
        .rootfs()
        .diff_ids()
        .iter()
        .map(|d| d.parse::<Digest>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(format!("{what}: {e}")))?;
    if diff_ids.len() != layers {
        return Err(bad(format!(
            "image {image_id}: {layers} layers but the config lists {} diff_ids",
            diff_ids.len()
        )));
    }
    let refs = tags
        .iter()
        .map(|t| Reference::parse(t).map_err(|e| bad(e.to_string())))
        .collect::<Result<Vec<_>, _>>()?;
    let history = cfg.history().clone().unwrap_or_default();
    let non_empty = history
        .iter()
        .filter(|h| h.empty_layer() != Some(true))
        .count();
    if non_empty > diff_ids.len() {
        return Err(bad(format!(
            "{what}: {non_empty} non-empty history entries but only {} layers",
            diff_ids.len()
        )));
    }
    let mut next = 0;
    let mut steps: Vec<(LayerMeta, Option<usize>)> = history
        .iter()
        .map(|h| {
            let meta = LayerMeta {
                created: h.created().clone(),
                created_by: h.created_by().clone(),
                author: h.author().clone(),
                comment: h.comment().clone(),
                ..Default::default()
            };
            let layer = (h.empty_layer() != Some(true)).then(|| {
                next += 1;
                next - 1
            });
            (meta, layer)
        })
        .collect();
    steps.extend((non_empty..diff_ids.len()).map(|i| (LayerMeta::default(), Some(i))));
    if steps.is_empty() {
        steps.push((LayerMeta::default(), None));
    }
    let raw: Value = parse(config, &what)?;
    let mut platform = serde_json::Map::new();
    for k in ["architecture", "os", "variant"] {
        if let Some(v) = raw.get(k).filter(|v| v.is_string()) {
            platform.insert(k.into(), v.clone());
        }
    }
    let (top, _) = steps.last_mut().expect("at least one step");
    top.config = Some(
        raw.get("config")
            .filter(|c| c.is_object())
            .cloned()
            .unwrap_or_else(|| json!({})),
    );
    top.platform = Some(Value::Object(platform));
    top.image_config = Some(image_id);
    Ok(Plan {
        image_id,
        diff_ids,
        refs,
        steps,
    })
}

/// Publish the chain of `plan`, bottom first, reusing layers the store
/// already has. On failure the layers this call published are taken back:
/// a bad archive leaves the store as it was.
fn apply(
    store: &Store,
    src: &dyn Source,
    plan: &Plan,
    layers: &[LayerSrc],
    progress: &mut dyn FnMut(usize, usize),
) -> Result<LayerId, LoadError> {
    let mut created: Vec<LayerId> = Vec::new();
    let mut publish = |parent: Option<LayerId>,
                       meta: &LayerMeta,
                       layer: Option<usize>|
     -> Result<LayerId, LoadError> {
        let mut meta = LayerMeta {
            parent,
            ..meta.clone()
        };
        let Some(i) = layer else {
            let existed = store.has_layer(&meta.id());
            let id = empty_layer(store, meta)?;
            if !existed {
                created.push(id);
            }
            return Ok(id);
        };
        let (diff_id, l) = (plan.diff_ids[i], &layers[i]);
        progress(i, plan.diff_ids.len());
        meta.diff_id = Some(diff_id);
        let predicted = meta.id();
        if store.has_layer(&predicted) {
            return Ok(predicted);
        }
        let (reader, _) = src.open(&l.path)?.ok_or_else(|| {
            bad(format!(
                "layer {i} ({}) is missing from the archive",
                l.path
            ))
        })?;
        let options = IngestOptions {
            meta,
            expect_diff_id: Some(diff_id),
            expect_blob: l.blob,
            progress: None,
            // The image is tagged: its blobs are needed now.
            split: false,
        };
        let got = ingest_layer(store, reader, options).map_err(|source| LoadError::Layer {
            index: i,
            path: l.path.clone(),
            source,
        })?;
        created.push(got.id);
        Ok(got.id)
    };
    let mut parent = None;
    for (meta, layer) in &plan.steps {
        match publish(parent, meta, *layer) {
            Ok(id) => parent = Some(id),
            Err(e) => {
                rollback(store, &created);
                return Err(e);
            }
        }
    }
    Ok(parent.expect("a plan has at least one step"))
}

/// Bring one image in: plan it, publish its chain, keep its config bytes
/// and tag it.
fn import(
    store: &Store,
    src: &dyn Source,
    image: ImageSrc,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Loaded, LoadError> {
    let plan = plan(&image.config, image.layers.len(), &image.tags)?;
    let top = apply(store, src, &plan, &image.layers, progress)?;
    store.put_blob(&image.config)?;
    let mut names = Vec::new();
    for r in &plan.refs {
        super::config::tag(store, r, &top)?;
        names.push(r.familiar());
    }
    names.dedup();
    Ok(Loaded {
        layer: top,
        image_id: plan.image_id,
        tags: names,
        diff_ids: plan.diff_ids,
        layers: plan.steps.len(),
        format: image.format,
    })
}

/// Bring in one image whose parts come from elsewhere (a registry): its
/// config exactly as received, and its layer blobs, bottom first, which
/// `src` serves at `blobs/sha256/<hex>` and which are verified as they
/// stream in. The same plan, reuse of layers already in the store and
/// rollback on failure as for an archive.
pub fn import_blobs(
    store: &Store,
    src: &dyn Source,
    config: Vec<u8>,
    blobs: &[Digest],
    tags: Vec<String>,
    format: &'static str,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Loaded, LoadError> {
    let layers = blobs
        .iter()
        .map(|d| LayerSrc {
            path: blob_path(d),
            blob: Some(*d),
        })
        .collect();
    let image = ImageSrc {
        config,
        layers,
        tags,
        format,
    };
    import(store, src, image, progress)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::refs;
    use crate::testutil::{store, tar_of, TempDir};
    use std::fs;

    #[test]
    fn clean_keeps_paths_inside_the_archive() {
        assert_eq!(clean("a/b").as_deref(), Some("a/b"));
        assert_eq!(clean("./a//b/").as_deref(), Some("a/b"));
        assert_eq!(clean("a/x/../b").as_deref(), Some("a/b"));
        for bad in [
            "",
            ".",
            "/",
            "/etc/passwd",
            "../x",
            "a/../../x",
            "a/..",
            "./..",
        ] {
            assert_eq!(clean(bad), None, "{bad:?}");
        }
    }

    fn entry(
        b: &mut tar::Builder<Vec<u8>>,
        kind: tar::EntryType,
        path: &str,
        link: &str,
        data: &[u8],
    ) {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        h.set_mode(0o644);
        h.set_size(data.len() as u64);
        // set_path refuses `..`: write the raw name
        let name = &mut h.as_gnu_mut().unwrap().name;
        name[..path.len()].copy_from_slice(path.as_bytes());
        if !link.is_empty() {
            h.set_link_name(link).unwrap();
        }
        h.set_cksum();
        b.append(&h, data).unwrap();
    }

    fn tar_source(
        d: &TempDir,
        build: impl FnOnce(&mut tar::Builder<Vec<u8>>),
    ) -> Result<TarSource, LoadError> {
        let mut b = tar::Builder::new(Vec::new());
        build(&mut b);
        let p = d.path().join("a.tar");
        fs::write(&p, b.into_inner().unwrap()).unwrap();
        TarSource::new(File::open(&p).unwrap())
    }

    fn read(src: &dyn Source, path: &str) -> Option<Vec<u8>> {
        let (mut r, size) = src.open(path).unwrap()?;
        let mut v = Vec::new();
        r.read_to_end(&mut v).unwrap();
        assert_eq!(v.len() as u64, size);
        Some(v)
    }

    #[test]
    fn tar_source_follows_links_inside_and_nothing_else() {
        use tar::EntryType::*;
        let d = TempDir::new("load-tar");
        let src = tar_source(&d, |b| {
            entry(b, Regular, "dir/file", "", b"data");
            entry(b, Symlink, "dir/rel", "file", b"");
            entry(b, Symlink, "up", "dir/rel", b"");
            entry(b, Link, "hard", "dir/file", b"");
            entry(b, Symlink, "abs", "/etc/passwd", b"");
            entry(b, Symlink, "out", "../../etc/passwd", b"");
            entry(b, Symlink, "loop1", "loop2", b"");
            entry(b, Symlink, "loop2", "loop1", b"");
            entry(b, Regular, "../escape", "", b"evil");
            entry(b, Directory, "d/", "", b"");
        })
        .unwrap();
        assert_eq!(read(&src, "dir/file").unwrap(), b"data");
        assert_eq!(read(&src, "./dir//file").unwrap(), b"data");
        assert_eq!(read(&src, "dir/rel").unwrap(), b"data");
        assert_eq!(read(&src, "up").unwrap(), b"data");
        assert_eq!(read(&src, "hard").unwrap(), b"data");
        for none in [
            "abs",
            "out",
            "loop1",
            "escape",
            "../escape",
            "d",
            "missing",
            "/dir/file",
        ] {
            assert!(read(&src, none).is_none(), "{none}");
        }
    }

    #[test]
    fn tar_source_refuses_a_name_twice_and_garbage() {
        let d = TempDir::new("load-tar-dup");
        let e = tar_source(&d, |b| {
            entry(b, tar::EntryType::Regular, "manifest.json", "", b"[]");
            entry(b, tar::EntryType::Regular, "./manifest.json", "", b"[1]");
        })
        .err()
        .unwrap();
        assert!(e.to_string().contains("twice"), "{e}");
        let p = d.path().join("junk");
        fs::write(&p, vec![0x55u8; 2048]).unwrap();
        assert!(TarSource::new(File::open(&p).unwrap()).is_err());
    }

    #[test]
    fn dir_source_stays_inside_its_root() {
        let d = TempDir::new("load-dir");
        let root = d.path().join("layout");
        fs::create_dir_all(root.join("blobs")).unwrap();
        fs::write(root.join("blobs/x"), b"x").unwrap();
        fs::write(d.path().join("secret"), b"host").unwrap();
        std::os::unix::fs::symlink("../secret", root.join("leak")).unwrap();
        std::os::unix::fs::symlink("blobs/x", root.join("ok")).unwrap();
        let src = DirSource::new(&root).unwrap();
        assert_eq!(read(&src, "blobs/x").unwrap(), b"x");
        assert_eq!(read(&src, "ok").unwrap(), b"x");
        assert!(src.open("leak").is_err());
        assert!(read(&src, "../secret").is_none());
        assert!(read(&src, "/etc/passwd").is_none());
        assert!(read(&src, "blobs").is_none(), "a directory is not a file");
        assert!(read(&src, "nope").is_none());
    }

    /// A source that claims a huge file without holding it.
    struct Huge;
    impl Source for Huge {
        fn open(&self, _: &str) -> io::Result<Option<(Box<dyn Read + Send + '_>, u64)>> {
            Ok(Some((Box::new(io::repeat(b' ')), u64::MAX)))
        }
    }

    #[test]
    fn json_documents_are_bounded_and_checked() {
        let e = read_json::<Value>(&Huge, "manifest.json").unwrap_err();
        assert!(e.to_string().contains("too large"), "{e}");
        let d = TempDir::new("load-json");
        fs::write(d.path().join("manifest.json"), b"[{").unwrap();
        let src = DirSource::new(d.path()).unwrap();
        let e = read_json::<Value>(&src, "manifest.json").unwrap_err();
        assert!(e.to_string().contains("invalid"), "{e}");
        assert!(read_json::<Value>(&src, "index.json").unwrap().is_none());
        // parsed strictly into its type
        fs::write(d.path().join("index.json"), b"{}").unwrap();
        let e = read_json::<ImageIndex>(&src, "index.json").unwrap_err();
        assert!(e.to_string().contains("missing field"), "{e}");
    }

    #[test]
    fn blobs_must_match_their_descriptor() {
        let d = TempDir::new("load-blob");
        fs::create_dir_all(d.path().join("blobs/sha256")).unwrap();
        let data = br#"{"a":1}"#;
        let digest = Digest::of(data);
        fs::write(d.path().join(blob_path(&digest)), data).unwrap();
        let src = DirSource::new(d.path()).unwrap();
        let desc = |digest: &str, size: u64| -> Descriptor {
            serde_json::from_value(
                json!({"mediaType": MediaType::ImageConfig, "digest": digest, "size": size}),
            )
            .unwrap()
        };
        let ok = desc(&digest.to_string(), data.len() as u64);
        assert_eq!(read_blob(&src, &ok, "config").unwrap(), data);
        let other = Digest::of(b"other").to_string();
        let md5 = format!("md5:{}", "0".repeat(32));
        let cases = [
            (desc(&md5, 7), "config"),
            (
                desc(&digest.to_string(), 8),
                "size 7 but the descriptor says 8",
            ),
            (desc(&other, 7), "missing"),
        ];
        for (desc, want) in cases {
            let e = read_blob(&src, &desc, "config").unwrap_err();
            assert!(e.to_string().contains(want), "{desc:?}: {e}");
        }
        // a blob whose content is not what its name says
        let liar = Digest::of(b"liar");
        fs::write(d.path().join(blob_path(&liar)), data).unwrap();
        let e = read_blob(&src, &desc(&liar.to_string(), 7), "manifest").unwrap_err();
        assert!(e.to_string().contains("does not match its digest"), "{e}");
    }

    #[test]
    fn names_come_from_containerd_or_a_full_ref_name() {
        let desc = |a: Option<Value>| -> Descriptor {
            let mut d = json!({"mediaType": MediaType::ImageManifest, "size": 1,
                "digest": Digest::of(b"m").to_string()});
            if let Some(a) = a {
                d["annotations"] = a;
            }
            serde_json::from_value(d).unwrap()
        };
        let n = |a: Value| names_from_annotations(&desc(Some(a)));
        assert_eq!(
            n(
                json!({"io.containerd.image.name": "docker.io/library/a:1", "org.opencontainers.image.ref.name": "1"})
            ),
            vec!["docker.io/library/a:1"]
        );
        assert_eq!(
            n(json!({"org.opencontainers.image.ref.name": "a:1"})),
            vec!["a:1"]
        );
        assert_eq!(
            n(json!({"org.opencontainers.image.ref.name": "team/app"})),
            vec!["team/app"]
        );
        assert!(n(json!({"org.opencontainers.image.ref.name": "latest"})).is_empty());
        assert!(names_from_annotations(&desc(None)).is_empty());
    }

    #[test]
    fn a_plan_is_the_history_then_bare_layers_with_the_config_on_top() {
        let layers = vec![tar_of(&[("a", b"1")]), tar_of(&[("b", b"2")])];
        let mut cfg = config_for(&layers);
        cfg["config"]["Healthcheck"] = json!({"Test": ["NONE"]});
        cfg["history"] = json!([{"created_by": "ADD a", "author": "me"}, {"created_by": "CMD", "empty_layer": true}]);
        let bytes = serde_json::to_vec(&cfg).unwrap();
        let p = plan(&bytes, 2, &["x:1".into()]).unwrap();
        assert_eq!(p.image_id, Digest::of(&bytes));
        assert_eq!(p.refs, vec![Reference::parse("x:1").unwrap()]);
        let shape: Vec<(Option<&str>, Option<usize>)> = p
            .steps
            .iter()
            .map(|(m, l)| (m.created_by.as_deref(), *l))
            .collect();
        assert_eq!(
            shape,
            [
                (Some("ADD a"), Some(0)),
                (Some("CMD"), None),
                (None, Some(1))
            ]
        );
        assert_eq!(p.steps[0].0.author.as_deref(), Some("me"));
        let top = &p.steps[2].0;
        assert_eq!(top.image_config, Some(p.image_id));
        assert_eq!(
            top.config.as_ref().unwrap()["Healthcheck"],
            json!({"Test": ["NONE"]}),
            "docker keys OCI does not type pass through"
        );
        assert_eq!(
            top.platform,
            Some(json!({"architecture": "amd64", "os": "linux"}))
        );
        assert!(p.steps[..2].iter().all(|(m, _)| m.config.is_none()));
        // no layers, no history: one empty layer carries the config
        let bare = serde_json::to_vec(&config_for(&[])).unwrap();
        let mut c: Value = serde_json::from_slice(&bare).unwrap();
        c["history"] = json!([]);
        let p = plan(&serde_json::to_vec(&c).unwrap(), 0, &[]).unwrap();
        assert_eq!(p.steps.len(), 1);
        assert_eq!(p.steps[0].1, None);
        // the runtime config is typed-checked
        c["config"] = json!({"Labels": {"k": 1}});
        let e = plan(&serde_json::to_vec(&c).unwrap(), 0, &[]).unwrap_err();
        assert!(e.to_string().contains("invalid"), "{e}");
    }

    /// A docker-archive directory of one image whose layers are `layers`.
    fn docker_archive(d: &Path, layers: &[Vec<u8>], config: Value, tags: Value) {
        let mut paths = Vec::new();
        for (i, l) in layers.iter().enumerate() {
            let p = format!("l{i}/layer.tar");
            fs::create_dir_all(d.join(format!("l{i}"))).unwrap();
            fs::write(d.join(&p), l).unwrap();
            paths.push(p);
        }
        fs::write(d.join("config.json"), serde_json::to_vec(&config).unwrap()).unwrap();
        let m = json!([{"Config": "config.json", "Layers": paths, "RepoTags": tags}]);
        fs::write(d.join("manifest.json"), serde_json::to_vec(&m).unwrap()).unwrap();
    }

    fn config_for(layers: &[Vec<u8>]) -> Value {
        let diff_ids: Vec<String> = layers.iter().map(|l| Digest::of(l).to_string()).collect();
        json!({
            "architecture": "amd64", "os": "linux",
            "config": {"Cmd": ["sh"]},
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
            "history": [{"created_by": "ADD a"}, {"created_by": "CMD", "empty_layer": true}, {"created_by": "ADD b"}],
        })
    }

    fn run_load(s: &Store, dir: &Path) -> Result<Vec<Loaded>, LoadError> {
        let src = DirSource::new(dir).unwrap();
        load(s, &src, &mut |_, _, _| {})
    }

    #[test]
    fn a_docker_archive_loads_into_a_chain_twice_the_same() {
        let (d, s) = store("load-docker");
        let layers = vec![tar_of(&[("a", b"1")]), tar_of(&[("b", b"2")])];
        let dir = d.path().join("archive");
        docker_archive(
            &dir,
            &layers,
            config_for(&layers),
            json!(["busybox:1", "docker.io/library/busybox:1"]),
        );
        let got = run_load(&s, &dir).unwrap();
        assert_eq!(got.len(), 1);
        let img = &got[0];
        assert_eq!(img.format, "docker-archive");
        assert_eq!(
            img.tags,
            vec!["busybox:1"],
            "the same name twice is one tag"
        );
        assert_eq!(img.layers, 3, "two layers and the empty CMD step");
        assert_eq!(
            img.diff_ids,
            layers.iter().map(|l| Digest::of(l)).collect::<Vec<_>>()
        );
        assert_eq!(
            img.image_id,
            Digest::of(&fs::read(dir.join("config.json")).unwrap())
        );
        let chain = s.chain(&img.layer).unwrap();
        let by: Vec<Option<&str>> = chain.iter().map(|(_, m)| m.created_by.as_deref()).collect();
        assert_eq!(by, vec![Some("ADD b"), Some("CMD"), Some("ADD a")]);
        assert_eq!(chain[0].1.config, Some(json!({"Cmd": ["sh"]})));
        assert_eq!(chain[0].1.image_config, Some(img.image_id));
        assert_eq!(s.resolve("busybox:1").unwrap(), img.layer);
        // again: the same IDs, nothing new
        let before = s.layers().unwrap();
        let again = run_load(&s, &dir).unwrap();
        assert_eq!(again[0].layer, img.layer);
        assert_eq!(s.layers().unwrap(), before);
    }

    #[test]
    fn a_bad_archive_is_refused_and_leaves_the_store_as_it_was() {
        let (d, s) = store("load-bad");
        let layers = vec![tar_of(&[("a", b"1")]), tar_of(&[("b", b"2")])];
        type Make = Box<dyn Fn(&Path)>;
        let cases: Vec<(&str, Make)> = vec![
            (
                "neither manifest.json nor index.json",
                Box::new(|_: &Path| {}),
            ),
            (
                "invalid type: map, expected a sequence",
                Box::new(|p: &Path| fs::write(p.join("manifest.json"), b"{}").unwrap()),
            ),
            (
                "lists no image",
                Box::new(|p: &Path| fs::write(p.join("manifest.json"), b"[]").unwrap()),
            ),
            (
                "missing field `Config`",
                Box::new(|p: &Path| fs::write(p.join("manifest.json"), b"[{}]").unwrap()),
            ),
            (
                "config ../config.json is missing",
                Box::new(|p: &Path| {
                    fs::write(
                        p.join("manifest.json"),
                        br#"[{"Config":"../config.json","Layers":[]}]"#,
                    )
                    .unwrap()
                }),
            ),
            ("2 layers but the config lists 1 diff_ids", {
                let layers = layers.clone();
                Box::new(move |p: &Path| {
                    docker_archive(p, &layers, config_for(&layers[..1]), json!([]))
                })
            }),
            ("rootfs.type", {
                let layers = layers.clone();
                Box::new(move |p: &Path| {
                    let mut c = config_for(&layers);
                    c["rootfs"]["type"] = json!("squashfs");
                    docker_archive(p, &layers, c, json!([]))
                })
            }),
            ("invalid image name", {
                let layers = layers.clone();
                Box::new(move |p: &Path| {
                    docker_archive(p, &layers, config_for(&layers), json!(["UPPER:1"]))
                })
            }),
            ("3 non-empty history entries but only 2 layers", {
                let layers = layers.clone();
                Box::new(move |p: &Path| {
                    let mut c = config_for(&layers);
                    c["history"][1]["empty_layer"] = json!(false);
                    docker_archive(p, &layers, c, json!([]))
                })
            }),
            // the second layer is not what the config says: the first,
            // already published, is taken back
            ("diff_id mismatch", {
                let layers = layers.clone();
                Box::new(move |p: &Path| {
                    let mut c = config_for(&layers);
                    c["rootfs"]["diff_ids"][1] = json!(Digest::of(b"other").to_string());
                    docker_archive(p, &layers, c, json!(["x:1"]))
                })
            }),
            ("is missing from the archive", {
                let layers = layers.clone();
                Box::new(move |p: &Path| {
                    docker_archive(p, &layers, config_for(&layers), json!([]));
                    fs::remove_file(p.join("l1/layer.tar")).unwrap();
                })
            }),
        ];
        let empty_layers = s.layers().unwrap();
        let empty_index = refs::read_index(&s).unwrap();
        for (i, (want, make)) in cases.iter().enumerate() {
            let dir = d.path().join(format!("case{i}"));
            fs::create_dir_all(&dir).unwrap();
            make(&dir);
            let e = crate::error::one_line(&run_load(&s, &dir).unwrap_err());
            assert!(e.contains(want), "{want}: {e}");
            assert_eq!(
                s.layers().unwrap(),
                empty_layers,
                "{want}: layers left behind"
            );
            assert_eq!(refs::read_index(&s).unwrap(), empty_index, "{want}");
        }
    }

    /// An OCI layout of one image; `index` gets the manifest descriptor.
    fn oci_layout(d: &Path, layers: &[Vec<u8>], index: impl Fn(Value) -> Value) -> Digest {
        fs::create_dir_all(d.join("blobs/sha256")).unwrap();
        let put = |data: &[u8], media: MediaType| {
            let dg = Digest::of(data);
            fs::write(d.join(blob_path(&dg)), data).unwrap();
            json!({"mediaType": media, "digest": dg.to_string(), "size": data.len()})
        };
        let cfg = serde_json::to_vec(&config_for(layers)).unwrap();
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": put(&cfg, MediaType::ImageConfig),
            "layers": layers.iter().map(|l| put(l, MediaType::ImageLayer)).collect::<Vec<_>>(),
        });
        let desc = put(
            &serde_json::to_vec(&manifest).unwrap(),
            MediaType::ImageManifest,
        );
        let idx = index(desc);
        fs::write(d.join("index.json"), serde_json::to_vec(&idx).unwrap()).unwrap();
        Digest::of(&cfg)
    }

    #[test]
    fn an_oci_layout_imports_each_manifest_once_with_every_name() {
        let (d, s) = store("load-oci");
        let layers = vec![tar_of(&[("a", b"1")]), tar_of(&[("b", b"2")])];
        let dir = d.path().join("layout");
        let id = oci_layout(&dir, &layers, |desc| {
            let mut a = desc.clone();
            a["annotations"] = json!({"org.opencontainers.image.ref.name": "app:1"});
            let mut b = desc.clone();
            b["annotations"] = json!({"io.containerd.image.name": "docker.io/library/app:2"});
            let mut bare = desc;
            bare["annotations"] = json!({"org.opencontainers.image.ref.name": "latest"});
            json!({"schemaVersion": 2, "manifests": [a, b, bare]})
        });
        let got = run_load(&s, &dir).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].format, "oci");
        assert_eq!(got[0].image_id, id);
        assert_eq!(got[0].tags, vec!["app:1", "app:2"]);
    }

    #[test]
    fn a_nested_index_gives_this_machines_platform_only() {
        let (d, s) = store("load-nested");
        let layers = vec![tar_of(&[("a", b"1")]), tar_of(&[("b", b"2")])];
        let dir = d.path().join("layout");
        let host = serde_json::to_value(super::super::config::host_platform()).unwrap();
        oci_layout(&dir, &layers, |desc| {
            let mut mine = desc.clone();
            mine["platform"] = host.clone();
            let mut other = desc;
            other["platform"] = json!({"architecture": "s390x", "os": "plan9"});
            other["digest"] = json!(Digest::of(b"not stored").to_string());
            let nested = json!({"schemaVersion": 2, "manifests": [other, mine]});
            let bytes = serde_json::to_vec(&nested).unwrap();
            let dg = Digest::of(&bytes);
            fs::write(dir.join(blob_path(&dg)), &bytes).unwrap();
            json!({"schemaVersion": 2, "manifests": [{
                "mediaType": "application/vnd.oci.image.index.v1+json",
                "digest": dg.to_string(), "size": bytes.len(),
                "annotations": {"io.containerd.image.name": "docker.io/library/multi:1"},
            }]})
        });
        let got = run_load(&s, &dir).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].tags, vec!["multi:1"]);
        // an index with no manifest for this machine
        let dir2 = d.path().join("layout2");
        oci_layout(
            &dir2,
            &layers,
            |_| json!({"schemaVersion": 2, "manifests": []}),
        );
        let e = run_load(&s, &dir2).unwrap_err();
        assert!(e.to_string().contains("lists no image manifest"), "{e}");
        fs::write(dir2.join("index.json"), b"{}").unwrap();
        let e = run_load(&s, &dir2).unwrap_err();
        assert!(
            e.to_string().contains("missing field `schemaVersion`"),
            "{e}"
        );
    }
}
