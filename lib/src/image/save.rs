//! `save`: images out as one archive, laid out as Docker >= 25 writes it
//! (since moby 25): an OCI image layout with docker's
//! `manifest.json` and `repositories` beside it, so `docker load` (20.10
//! reads `manifest.json`), `podman load` and containerd (which read
//! `index.json`), skopeo `docker-archive:` and `oci-archive:`, umoci and
//! `cairn load` all accept the same file.
//!
//! ```text
//! blobs/                  directory entries, written explicitly
//! blobs/sha256/
//! blobs/sha256/<hex>      layers, configs, OCI manifests; each blob once
//! index.json              one descriptor per tag: annotations
//!                         io.containerd.image.name (docker.io/library/x:tag) and
//!                         org.opencontainers.image.ref.name (the tag only, as
//!                         Docker 25), plus platform; an untagged image gets one
//!                         descriptor without annotations
//! manifest.json           [{"Config","Layers","RepoTags"}]: paths blobs/sha256/<hex>,
//!                         RepoTags in familiar name:tag form, images in the order given
//! oci-layout
//! repositories            {"name":{"tag":"<image ID hex>"}}, when anything is tagged
//! ```
//!
//! **Determinism.** Entries sorted by path; mtime 0, uid/gid 0, no owner
//! names, mode 0644 files and 0755 directories; ustar headers (a PAX `size`
//! record only for a blob over 8 GiB); generated JSON is canonical (sorted
//! keys, compact). An image that came in through `load` unchanged is saved
//! with its original config bytes, so its image ID stays the one other
//! engines show. Nothing in the archive depends on cairn's layer IDs, so
//! `save`, `load` into a fresh store, `save` gives the same bytes.
//!
//! **Layers.** Uncompressed by default: the blob is the diff itself and its
//! digest is the diff ID, as Docker 25 writes. With `Compression::Gzip` or
//! `Zstd` the layers are compressed deterministically on every core
//! (gzip: level 6 in pigz's independent 128 KiB blocks, mtime 0, no file
//! name, OS byte 255; zstd: level 3, multi-threaded, with a content
//! checksum; the bytes do not depend on the number of cores); the descriptors then carry the compressed digest and media
//! type, and the config's `diff_ids` stay the uncompressed ones. A layer
//! whose blob is already stored in the requested form is written as stored
//! (a gzip layer pulled from a registry keeps its registry digest). Docker
//! before 23.0 (so Debian's 20.10) cannot load zstd layers.
//!
//! **Streaming.** A tar header holds the entry's size, and the entry's path
//! its digest, before its data, and entries are sorted by digest, so every
//! blob's size and digest are settled before the first byte is written
//! ([`prepare`]), then the archive is streamed ([`Archive::write_to`]):
//! - a blob stored as it is written (the common case) is known from the
//!   store and streamed straight from its file;
//! - a compressed blob written uncompressed is decompressed twice: once to
//!   measure it and check it against its diff ID, once into the archive.
//!   Decompressing is cheap; a temporary copy would cost as much disk as the
//!   layer;
//! - a layer to (re)compress is compressed once, into a file under the
//!   store's `tmp/` (compressing is the expensive part, and the compressed
//!   copy is the smaller one), then streamed from there.
//!
//! Every blob is hashed again while it is written and must match its digest,
//! and each uncompressed stream must match its diff ID, so a corrupt store
//! never yields an archive that claims to be something it is not (a failure
//! mid-stream ends the write with an error; [`Archive::write_file`] then
//! leaves no file). Memory does not grow with layer size.

use super::config::{config_bytes, descriptor, manifest};
use super::docker::ArchiveItem;
use crate::digest::{Digest, Hasher, HashingWriter, LayerId};
use crate::json::canonical;
use crate::layer::pgzip::ParGzEncoder;
use crate::layer::Compression;
use crate::reference::Reference;
use crate::store::{random_hex, Staging, Store, StoreError};
use oci_spec::image::{
    Descriptor, ImageConfiguration, ImageIndex, ImageIndexBuilder, MediaType, OciLayout,
    OciLayoutBuilder, Platform, PlatformBuilder,
};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// `io.containerd.image.name`: the full name (`docker.io/library/x:tag`).
pub const ANNOTATION_IMAGE_NAME: &str = "io.containerd.image.name";
/// `org.opencontainers.image.ref.name`: the tag alone, as Docker 25 writes it.
pub const ANNOTATION_REF_NAME: &str = "org.opencontainers.image.ref.name";

/// gzip level (flate2's default, Go's `gzip.DefaultCompression`).
pub const GZIP_LEVEL: u32 = 6;
/// zstd level (zstd's default).
pub const ZSTD_LEVEL: i32 = 3;

const BUF: usize = 1 << 20;
/// The largest size an ustar header holds (11 octal digits).
const USTAR_MAX_SIZE: u64 = 0o777_7777_7777;

#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Names that cannot all hold (one name for two images), no image.
    #[error("{0}")]
    Names(String),
    /// An image's stored config does not list its layers' diff IDs.
    #[error("image {top}: config {config} does not list the diff IDs of its layers; the store is corrupt")]
    ConfigLayers { top: LayerId, config: Digest },
    /// An image's stored config is not an OCI image config.
    #[error("image {top}: config {config}")]
    Config {
        top: LayerId,
        config: Digest,
        #[source]
        source: serde_json::Error,
    },
    #[error(
        "layer {layer}: {what} mismatch: expected {expected}, got {actual}; the store is corrupt"
    )]
    Mismatch {
        layer: LayerId,
        what: &'static str,
        expected: Digest,
        actual: Digest,
    },
    #[error("reading {path}")]
    Read { path: PathBuf, source: io::Error },
    #[error("{path}")]
    Output { path: PathBuf, source: io::Error },
    #[error("writing the archive")]
    Write(#[source] io::Error),
}

impl SaveError {
    /// The caller asked for something impossible (as opposed to a failing
    /// store or output).
    pub fn is_usage(&self) -> bool {
        matches!(self, SaveError::Names(_))
    }
}

fn read_err(path: &Path) -> impl FnOnce(io::Error) -> SaveError + '_ {
    move |source| SaveError::Read {
        path: path.to_path_buf(),
        source,
    }
}

/// One image to save: its top layer and the names it gets in the archive
/// (none: saved untagged).
#[derive(Debug, Clone)]
pub struct SaveImage {
    pub top: LayerId,
    pub names: Vec<Reference>,
}

#[derive(Debug, Clone, Copy)]
pub struct SaveOptions {
    /// How layers are written: `None` (the default, as Docker 25), `Gzip`
    /// or `Zstd`.
    pub compression: Compression,
}

impl Default for SaveOptions {
    fn default() -> Self {
        SaveOptions {
            compression: Compression::None,
        }
    }
}

/// An image as it is in the archive.
#[derive(Debug, Clone)]
pub struct SavedImage {
    pub top: LayerId,
    /// The config digest (the image ID).
    pub image_id: Digest,
    /// The OCI manifest digest.
    pub manifest: Digest,
    /// Familiar `name:tag`s, in the order given.
    pub names: Vec<String>,
    /// Layer blob digests, bottom first.
    pub layers: Vec<Digest>,
}

/// Where an entry's bytes come from.
#[derive(Debug)]
enum Source {
    Bytes(Vec<u8>),
    /// A file written as it is (a store blob, or a layer compressed into
    /// the staging directory).
    File(PathBuf),
    /// A compressed store blob, written decompressed.
    Decompressed(PathBuf, Compression),
}

#[derive(Debug)]
struct Blob {
    digest: Digest,
    size: u64,
    source: Source,
}

#[derive(Debug)]
enum Entry {
    Dir(String),
    File(String, Blob),
}

impl Entry {
    fn path(&self) -> &str {
        match self {
            Entry::Dir(p) | Entry::File(p, _) => p,
        }
    }
}

/// An archive whose every entry, size and digest is settled: ready to be
/// streamed. Holds the staging directory of recompressed layers.
pub struct Archive {
    entries: Vec<Entry>,
    images: Vec<SavedImage>,
    _staging: Option<Staging>,
}

/// The OCI platform of a config: its `architecture`, `os`, `os.version`,
/// `os.features` and `variant` (an empty string is no value).
fn platform_of(cfg: &ImageConfiguration) -> Platform {
    let some = |s: &Option<String>| s.clone().filter(|s| !s.is_empty());
    let mut p = PlatformBuilder::default()
        .architecture(cfg.architecture().clone())
        .os(cfg.os().clone())
        .build()
        .expect("architecture and os are set");
    p.set_os_version(some(cfg.os_version()));
    p.set_variant(some(cfg.variant()));
    p.set_os_features(cfg.os_features().clone());
    p
}

/// The OCI index of the archive.
fn index_of(manifests: Vec<Descriptor>) -> ImageIndex {
    ImageIndexBuilder::default()
        .schema_version(2u32)
        .media_type(MediaType::ImageIndex)
        .manifests(manifests)
        .build()
        .expect("every required field is set")
}

/// A JSON file of the archive: canonical, with a final newline.
fn json_entry(path: &str, v: Value) -> Entry {
    let mut bytes = canonical(&v);
    bytes.push(b'\n');
    Entry::File(
        path.to_string(),
        Blob {
            digest: Digest::of(&bytes),
            size: bytes.len() as u64,
            source: Source::Bytes(bytes),
        },
    )
}

/// `oci-layout`: the layout version.
fn oci_layout() -> OciLayout {
    OciLayoutBuilder::default()
        .image_layout_version("1.0.0")
        .build()
        .expect("every required field is set")
}

fn to_value<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).expect("serialising to a JSON value cannot fail")
}

fn blob_name(d: &Digest) -> String {
    format!("blobs/sha256/{}", d.hex())
}

/// The compression of a stored blob, by its first bytes.
fn detect(path: &Path) -> Result<Compression, SaveError> {
    let f = File::open(path).map_err(read_err(path))?;
    let mut r = BufReader::with_capacity(16, f);
    Compression::detect(&mut r).map_err(read_err(path))
}

fn open_decoded(path: &Path, c: Compression) -> Result<Box<dyn Read>, SaveError> {
    let f = File::open(path).map_err(read_err(path))?;
    c.decoder(BufReader::with_capacity(BUF, f))
        .map_err(read_err(path))
}

/// Read `r` to the end in large chunks, handing each to `f`.
fn pump(
    r: &mut dyn Read,
    path: &Path,
    buf: &mut [u8],
    mut f: impl FnMut(&[u8]) -> Result<(), SaveError>,
) -> Result<(), SaveError> {
    loop {
        let n = match r.read(buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(read_err(path)(e)),
        };
        f(&buf[..n])?;
    }
}

/// Compress `src` (a stored blob, itself compressed as `from`) into `dest`
/// as `to`; check the uncompressed stream against `diff_id`. Returns the
/// digest and size of the compressed file.
fn recompress(
    layer: LayerId,
    src: &Path,
    from: Compression,
    to: Compression,
    diff_id: Digest,
    dest: &Path,
    progress: &mut dyn FnMut(u64),
) -> Result<(Digest, u64), SaveError> {
    let out_err = |source| SaveError::Output {
        path: dest.to_path_buf(),
        source,
    };
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(dest)
        .map_err(out_err)?;
    let sink = HashingWriter::new(io::BufWriter::with_capacity(BUF, file));
    let mut enc: Box<dyn FinishWrite> = match to {
        Compression::Gzip => {
            Box::new(ParGzEncoder::new(sink, GZIP_LEVEL, threads()).map_err(out_err)?)
        }
        Compression::Zstd => {
            let mut e = zstd::stream::write::Encoder::new(sink, ZSTD_LEVEL).map_err(out_err)?;
            e.include_checksum(true).map_err(out_err)?;
            // zstd's output is the same for any number of workers >= 1
            e.multithread(threads() as u32).map_err(out_err)?;
            Box::new(e)
        }
        Compression::None => unreachable!("recompress to none"),
    };
    let mut r = open_decoded(src, from)?;
    let mut diff = Hasher::new();
    let mut buf = vec![0u8; BUF];
    pump(&mut r, src, &mut buf, |chunk| {
        diff.update(chunk);
        progress(chunk.len() as u64);
        enc.write_all(chunk).map_err(out_err)
    })?;
    let actual = diff.finish();
    if actual != diff_id {
        return Err(SaveError::Mismatch {
            layer,
            what: "diff_id",
            expected: diff_id,
            actual,
        });
    }
    let mut sink = enc.finish_write().map_err(out_err)?;
    sink.flush().map_err(out_err)?;
    let (digest, size, inner) = sink.finish();
    inner
        .into_inner()
        .map_err(|e| out_err(e.into_error()))?
        .sync_all()
        .map_err(out_err)?;
    Ok((digest, size))
}

type Sink = HashingWriter<io::BufWriter<File>>;

/// Compression threads: the cores this process may use.
fn threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// An encoder that can be finished behind a `Box`.
trait FinishWrite: Write {
    fn finish_write(self: Box<Self>) -> io::Result<Sink>;
}

impl FinishWrite for ParGzEncoder<Sink> {
    fn finish_write(self: Box<Self>) -> io::Result<Sink> {
        (*self).finish()
    }
}

impl FinishWrite for zstd::stream::write::Encoder<'static, Sink> {
    fn finish_write(self: Box<Self>) -> io::Result<Sink> {
        (*self).finish()
    }
}

/// Settle every entry of the archive of `images`: configs, manifests and
/// layer blobs (compressing into the store's `tmp/` where asked), each blob
/// once. `progress` gets the bytes of layer data read so far (only layers
/// that need a pass are read here).
///
/// Three steps: the names are checked ([`merge`], pure), each image is
/// resolved against the store (its config bytes and its layer blobs as
/// they will be written), and the archive is laid out from those alone
/// ([`layout`], pure).
pub fn prepare(
    store: &Store,
    images: &[SaveImage],
    opts: &SaveOptions,
    progress: &mut dyn FnMut(u64),
) -> Result<Archive, SaveError> {
    let merged = merge(images)?;
    let mut layers = LayerBlobs {
        store,
        want: opts.compression,
        staging: None,
        done: 0,
        settled: HashMap::new(),
        blobs: BTreeMap::new(),
    };
    let resolved = merged
        .into_iter()
        .map(|img| resolve(store, img, &mut layers, progress))
        .collect::<Result<Vec<_>, _>>()?;
    let (entries, images) = layout(resolved, layers.blobs, opts.compression)?;
    Ok(Archive {
        entries,
        images,
        _staging: layers.staging,
    })
}

/// The images to save, each once: the same image given twice is one image
/// with every name, each name once (in the order given), and a name may
/// not name two images.
fn merge(images: &[SaveImage]) -> Result<Vec<SaveImage>, SaveError> {
    if images.is_empty() {
        return Err(SaveError::Names("no image to save".into()));
    }
    let mut merged: Vec<SaveImage> = Vec::new();
    for img in images {
        match merged.iter_mut().find(|m| m.top == img.top) {
            Some(m) => m.names.extend(img.names.iter().cloned()),
            None => merged.push(img.clone()),
        }
    }
    let mut owner: HashMap<String, LayerId> = HashMap::new();
    for m in &mut merged {
        let mut seen = Vec::new();
        m.names.retain(|r| {
            let f = r.familiar();
            let fresh = !seen.contains(&f);
            seen.push(f);
            fresh
        });
        for r in &m.names {
            if let Some(other) = owner.insert(r.familiar(), m.top) {
                if other != m.top {
                    return Err(SaveError::Names(format!(
                        "{} would name two images ({} and {})",
                        r.familiar(),
                        other,
                        m.top
                    )));
                }
            }
        }
    }
    Ok(merged)
}

/// An image resolved against the store: what [`layout`] needs of it.
#[derive(Debug)]
struct Resolved {
    top: LayerId,
    names: Vec<Reference>,
    /// The config bytes (their digest is the image ID).
    config: Vec<u8>,
    /// Digest and size of each layer blob as written, bottom first.
    layers: Vec<(Digest, u64)>,
}

/// Resolve `img`: its config (the original bytes when it came in
/// unchanged), checked against its chain, and its layer blobs.
fn resolve(
    store: &Store,
    img: SaveImage,
    layers: &mut LayerBlobs<'_>,
    progress: &mut dyn FnMut(u64),
) -> Result<Resolved, SaveError> {
    let chain = store.chain(&img.top)?;
    let config = config_bytes(store, &chain)?;
    let image_id = Digest::of(&config);
    let cfg = parse_config(&img.top, &config)?;
    let wanted: Vec<Digest> = chain.iter().rev().filter_map(|(_, m)| m.diff_id).collect();
    let listed: Option<Vec<Digest>> = cfg
        .rootfs()
        .diff_ids()
        .iter()
        .map(|d| d.parse().ok())
        .collect();
    if listed.as_ref() != Some(&wanted) {
        return Err(SaveError::ConfigLayers {
            top: img.top,
            config: image_id,
        });
    }
    let blobs = chain
        .iter()
        .rev()
        .filter_map(|(id, m)| m.diff_id.map(|d| (id, d)))
        .map(|(id, diff_id)| layers.settle(id, diff_id, progress))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Resolved {
        top: img.top,
        names: img.names,
        config,
        layers: blobs,
    })
}

fn parse_config(top: &LayerId, config: &[u8]) -> Result<ImageConfiguration, SaveError> {
    serde_json::from_slice(config).map_err(|source| SaveError::Config {
        top: *top,
        config: Digest::of(config),
        source,
    })
}

/// The layer blobs of the archive, settled once each: stored blob digest
/// → what is written for it.
struct LayerBlobs<'a> {
    store: &'a Store,
    want: Compression,
    /// Where recompressed layers wait to be written.
    staging: Option<Staging>,
    /// Layer bytes read so far.
    done: u64,
    settled: HashMap<Digest, (Digest, u64)>,
    blobs: BTreeMap<Digest, Blob>,
}

impl LayerBlobs<'_> {
    /// The digest and size of layer `id`'s blob as written, settling it the
    /// first time: as stored, decompressed (measured and checked against
    /// its diff ID) or recompressed into the staging directory.
    fn settle(
        &mut self,
        id: &LayerId,
        diff_id: Digest,
        progress: &mut dyn FnMut(u64),
    ) -> Result<(Digest, u64), SaveError> {
        let (stored, path) = self.store.layer_blob(id)?.ok_or(StoreError::NoBlob(*id))?;
        if let Some(x) = self.settled.get(&stored.digest) {
            return Ok(*x);
        }
        let have = detect(&path)?;
        let want = self.want;
        let blob = if have == want {
            let size = fs::metadata(&path).map_err(read_err(&path))?.len();
            if have == Compression::None && stored.digest != diff_id {
                return Err(SaveError::Mismatch {
                    layer: *id,
                    what: "uncompressed blob digest",
                    expected: diff_id,
                    actual: stored.digest,
                });
            }
            Blob {
                digest: stored.digest,
                size,
                source: Source::File(path),
            }
        } else if want == Compression::None {
            self.measure(id, diff_id, path, have, progress)?
        } else {
            if self.staging.is_none() {
                self.staging = Some(self.store.stage("save")?);
            }
            let dir = self.staging.as_ref().expect("just made").path();
            let tmp = dir.join(format!("{}.{}", stored.digest.hex(), want.name()));
            let done = &mut self.done;
            let mut p = |n: u64| {
                *done += n;
                progress(*done)
            };
            let (digest, size) = recompress(*id, &path, have, want, diff_id, &tmp, &mut p)?;
            Blob {
                digest,
                size,
                source: Source::File(tmp),
            }
        };
        let key = (blob.digest, blob.size);
        self.settled.insert(stored.digest, key);
        self.blobs.entry(blob.digest).or_insert(blob);
        Ok(key)
    }

    /// A compressed blob to write decompressed: decompress it once to
    /// measure it and check it against its diff ID.
    fn measure(
        &mut self,
        id: &LayerId,
        diff_id: Digest,
        path: PathBuf,
        have: Compression,
        progress: &mut dyn FnMut(u64),
    ) -> Result<Blob, SaveError> {
        let mut r = open_decoded(&path, have)?;
        let mut h = Hasher::new();
        let mut buf = vec![0u8; BUF];
        pump(&mut r, &path, &mut buf, |c| {
            h.update(c);
            self.done += c.len() as u64;
            progress(self.done);
            Ok(())
        })?;
        let size = h.len();
        let actual = h.finish();
        if actual != diff_id {
            return Err(SaveError::Mismatch {
                layer: *id,
                what: "diff_id",
                expected: diff_id,
                actual,
            });
        }
        Ok(Blob {
            digest: diff_id,
            size,
            source: Source::Decompressed(path, have),
        })
    }
}

/// Lay the archive out from resolved images and their settled layer
/// blobs: each image's manifest, the index (one descriptor per name, or
/// one bare for an untagged image), docker's `manifest.json` and
/// `repositories`, `oci-layout`; every entry sorted by path, each blob
/// once. Pure: the same images give the same entries.
fn layout(
    images: Vec<Resolved>,
    mut blobs: BTreeMap<Digest, Blob>,
    compression: Compression,
) -> Result<(Vec<Entry>, Vec<SavedImage>), SaveError> {
    let media_layer = MediaType::from(compression.media_type());
    let mut saved = Vec::new();
    let mut index = Vec::new();
    let mut docker = Vec::new();
    let mut repositories: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for img in images {
        let image_id = Digest::of(&img.config);
        let cfg = parse_config(&img.top, &img.config)?;
        let manifest = canonical(&manifest(
            descriptor(MediaType::ImageConfig, &image_id, img.config.len() as u64),
            img.layers
                .iter()
                .map(|(d, s)| descriptor(media_layer.clone(), d, *s))
                .collect(),
        ));
        let manifest_digest = Digest::of(&manifest);
        let mut desc = descriptor(
            MediaType::ImageManifest,
            &manifest_digest,
            manifest.len() as u64,
        );
        desc.set_platform(Some(platform_of(&cfg)));
        if img.names.is_empty() {
            index.push(desc.clone());
        }
        for r in &img.names {
            let mut d = desc.clone();
            d.set_annotations(Some(
                [
                    (ANNOTATION_IMAGE_NAME.to_string(), r.full()),
                    (ANNOTATION_REF_NAME.to_string(), r.tag.clone()),
                ]
                .into(),
            ));
            index.push(d);
            repositories
                .entry(r.repository())
                .or_default()
                .insert(r.tag.clone(), image_id.hex());
        }
        let names: Vec<String> = img.names.iter().map(Reference::familiar).collect();
        docker.push(ArchiveItem {
            config: blob_name(&image_id),
            repo_tags: names.clone(),
            layers: img.layers.iter().map(|(d, _)| blob_name(d)).collect(),
        });
        for (digest, bytes) in [(image_id, img.config), (manifest_digest, manifest)] {
            blobs.entry(digest).or_insert(Blob {
                digest,
                size: bytes.len() as u64,
                source: Source::Bytes(bytes),
            });
        }
        saved.push(SavedImage {
            top: img.top,
            image_id,
            manifest: manifest_digest,
            names,
            layers: img.layers.into_iter().map(|(d, _)| d).collect(),
        });
    }

    let mut entries = vec![
        Entry::Dir("blobs/".into()),
        Entry::Dir("blobs/sha256/".into()),
    ];
    entries.extend(
        blobs
            .into_values()
            .map(|b| Entry::File(blob_name(&b.digest), b)),
    );
    entries.push(json_entry("index.json", to_value(&index_of(index))));
    entries.push(json_entry("manifest.json", to_value(&docker)));
    entries.push(json_entry("oci-layout", to_value(&oci_layout())));
    if !repositories.is_empty() {
        entries.push(json_entry("repositories", to_value(&repositories)));
    }
    debug_assert!(entries.windows(2).all(|w| w[0].path() < w[1].path()));
    Ok((entries, saved))
}

/// One tar header block for `path` (a directory when it ends in `/`).
fn ustar(path: &str, kind: tar::EntryType, size: u64) -> [u8; 512] {
    let mut h = tar::Header::new_ustar();
    let name = path.as_bytes();
    assert!(name.len() <= 100, "archive path {path:?} too long");
    h.as_ustar_mut().expect("ustar header").name[..name.len()].copy_from_slice(name);
    h.set_entry_type(kind);
    h.set_mode(if kind == tar::EntryType::Directory {
        0o755
    } else {
        0o644
    });
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(0);
    h.set_size(size);
    h.set_cksum();
    *h.as_bytes()
}

/// A PAX record: `"<len> key=value\n"`, the length counting itself.
fn pax_record(key: &str, value: &str) -> Vec<u8> {
    let rest = key.len() + value.len() + 3; // ' ', '=', '\n'
    let mut len = rest + 1;
    while len != rest + len.to_string().len() {
        len = rest + len.to_string().len();
    }
    format!("{len} {key}={value}\n").into_bytes()
}

fn padding(n: u64) -> usize {
    ((512 - n % 512) % 512) as usize
}

/// The header blocks of an entry: a PAX header carrying the size first
/// when it does not fit the ustar field.
fn headers(entry: &Entry) -> Vec<u8> {
    match entry {
        Entry::Dir(p) => ustar(p, tar::EntryType::Directory, 0).to_vec(),
        Entry::File(p, b) if b.size <= USTAR_MAX_SIZE => {
            ustar(p, tar::EntryType::Regular, b.size).to_vec()
        }
        Entry::File(p, b) => {
            let (dir, base) = p.rsplit_once('/').unwrap_or(("", p));
            let pax_name = if dir.is_empty() {
                format!("PaxHeaders.0/{base}")
            } else {
                format!("{dir}/PaxHeaders.0/{base}")
            };
            let rec = pax_record("size", &b.size.to_string());
            let mut out = ustar(&pax_name, tar::EntryType::XHeader, rec.len() as u64).to_vec();
            out.extend_from_slice(&rec);
            out.resize(out.len() + padding(rec.len() as u64), 0);
            out.extend_from_slice(&ustar(p, tar::EntryType::Regular, 0));
            out
        }
    }
}

/// A blob's size and a reader of its bytes.
pub type SizedReader<'a> = (u64, Box<dyn Read + 'a>);

impl Archive {
    /// The images, in the order first given.
    pub fn images(&self) -> &[SavedImage] {
        &self.images
    }

    /// The exact size of the archive in bytes.
    pub fn size(&self) -> u64 {
        let mut n = 1024; // end-of-archive marker
        for e in &self.entries {
            n += headers(e).len() as u64;
            if let Entry::File(_, b) = e {
                n += b.size + padding(b.size) as u64;
            }
        }
        n
    }

    /// A blob of the archive, by digest: its size and a reader of its bytes
    /// as the archive holds them (not checked here: whoever takes them
    /// checks the digest, as a registry does).
    pub fn blob(&self, digest: &Digest) -> Result<Option<SizedReader<'_>>, SaveError> {
        let Some(blob) = self.entries.iter().find_map(|e| match e {
            Entry::File(_, b) if b.digest == *digest => Some(b),
            _ => None,
        }) else {
            return Ok(None);
        };
        let reader: Box<dyn Read> = match &blob.source {
            Source::Bytes(b) => Box::new(&b[..]),
            Source::File(p) => Box::new(BufReader::with_capacity(
                BUF,
                File::open(p).map_err(read_err(p))?,
            )),
            Source::Decompressed(p, c) => open_decoded(p, *c)?,
        };
        Ok(Some((blob.size, reader)))
    }

    /// The entry paths, in archive order.
    pub fn paths(&self) -> Vec<&str> {
        self.entries.iter().map(Entry::path).collect()
    }

    /// Stream the archive into `out`. Every blob is hashed as it is written
    /// and checked against its digest (and size); `progress` gets the bytes
    /// written so far.
    pub fn write_to(
        &self,
        out: &mut dyn Write,
        progress: &mut dyn FnMut(u64),
    ) -> Result<(), SaveError> {
        let mut buf = vec![0u8; BUF];
        let mut written = 0u64;
        let zeros = [0u8; 1024];
        for e in &self.entries {
            let h = headers(e);
            out.write_all(&h).map_err(SaveError::Write)?;
            written += h.len() as u64;
            let Entry::File(path, blob) = e else {
                continue;
            };
            let (mut reader, origin): (Box<dyn Read>, PathBuf) = match &blob.source {
                Source::Bytes(b) => (Box::new(&b[..]), PathBuf::from(path)),
                Source::File(p) => (Box::new(File::open(p).map_err(read_err(p))?), p.clone()),
                Source::Decompressed(p, c) => (open_decoded(p, *c)?, p.clone()),
            };
            let mut hasher = Hasher::new();
            let mut left = blob.size;
            while left > 0 {
                let want = buf.len().min(left.min(usize::MAX as u64) as usize);
                let n = match reader.read(&mut buf[..want]) {
                    Ok(0) => {
                        return Err(read_err(&origin)(io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            format!(
                                "blob {} ends after {} of its {} bytes; the store changed or is corrupt",
                                blob.digest,
                                blob.size - left,
                                blob.size
                            ),
                        )))
                    }
                    Ok(n) => n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(read_err(&origin)(e)),
                };
                hasher.update(&buf[..n]);
                out.write_all(&buf[..n]).map_err(SaveError::Write)?;
                left -= n as u64;
                written += n as u64;
                progress(written);
            }
            let more = loop {
                match reader.read(&mut buf[..1]) {
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    r => break r.map_err(read_err(&origin))?,
                }
            };
            let actual = hasher.finish();
            if more != 0 || actual != blob.digest {
                return Err(read_err(&origin)(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "blob {} changed while it was written (got {}{}); the store is corrupt",
                        blob.digest,
                        actual,
                        if more != 0 { ", and more bytes" } else { "" }
                    ),
                )));
            }
            let pad = padding(blob.size);
            out.write_all(&zeros[..pad]).map_err(SaveError::Write)?;
            written += pad as u64;
        }
        out.write_all(&zeros).map_err(SaveError::Write)?;
        out.flush().map_err(SaveError::Write)?;
        progress(written + zeros.len() as u64);
        Ok(())
    }

    /// Write the archive to `path` atomically: a temporary file beside it,
    /// fsync, rename. On any failure nothing is left at `path` (an existing
    /// file there stays as it was).
    pub fn write_file(&self, path: &Path, progress: &mut dyn FnMut(u64)) -> Result<(), SaveError> {
        let out_err = |p: &Path| {
            let p = p.to_path_buf();
            move |source| SaveError::Output { path: p, source }
        };
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = path
            .file_name()
            .ok_or_else(|| SaveError::Names(format!("{}: not a file name", path.display())))?;
        let tmp = dir.join(format!(
            ".{}.tmp-{}-{}",
            name.to_string_lossy(),
            std::process::id(),
            random_hex()
        ));
        let mut guard = TmpFile(Some(tmp.clone()));
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o666)
            .open(&tmp)
            .map_err(out_err(path))?;
        self.write_to(&mut f, progress)?;
        f.sync_all().map_err(out_err(path))?;
        drop(f);
        fs::rename(&tmp, path).map_err(out_err(path))?;
        guard.0 = None;
        File::open(&dir)
            .and_then(|d| d.sync_all())
            .map_err(out_err(&dir))
    }
}

/// Removes a temporary file unless disarmed.
struct TmpFile(Option<PathBuf>);

impl Drop for TmpFile {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = fs::remove_file(p);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What keeps a zstd layer's digest stable across machines: zstd's
    /// multi-threaded output does not depend on the number of workers
    /// (24 MiB: three of its 8 MiB jobs at level 3).
    #[test]
    fn zstd_bytes_do_not_depend_on_workers() {
        let data: Vec<u8> = (0..24u32 << 20)
            .map(|i| (i.wrapping_mul(2654435761) >> 24) as u8 & 0x3f)
            .collect();
        let zst = |workers: u32| {
            let mut e = zstd::stream::write::Encoder::new(Vec::new(), ZSTD_LEVEL).unwrap();
            e.include_checksum(true).unwrap();
            e.multithread(workers).unwrap();
            for c in data.chunks(100_000) {
                e.write_all(c).unwrap();
            }
            e.finish().unwrap()
        };
        let one = zst(1);
        assert_eq!(zst(2), one);
        assert_eq!(zst(5), one);
    }

    #[test]
    fn pax_record_length_counts_itself() {
        for (k, v) in [
            ("size", "9"),
            ("size", "8589934592"),
            ("path", &"x".repeat(95)),
        ] {
            let r = pax_record(k, v);
            let s = String::from_utf8(r.clone()).unwrap();
            let (len, _) = s.split_once(' ').unwrap();
            assert_eq!(len.parse::<usize>().unwrap(), r.len(), "{s:?}");
        }
    }

    #[test]
    fn headers_are_deterministic_ustar() {
        let h = ustar("blobs/sha256/", tar::EntryType::Directory, 0);
        let hdr = tar::Header::from_byte_slice(&h);
        assert_eq!(&h[257..263], b"ustar\0");
        assert_eq!(hdr.path_bytes().as_ref(), b"blobs/sha256/");
        assert_eq!(hdr.mode().unwrap(), 0o755);
        assert_eq!(hdr.mtime().unwrap(), 0);
        assert_eq!(hdr.uid().unwrap(), 0);
        assert_eq!(hdr.username_bytes(), Some(&b""[..]));
        let f = ustar("index.json", tar::EntryType::Regular, 10);
        assert_eq!(tar::Header::from_byte_slice(&f).mode().unwrap(), 0o644);
    }

    #[test]
    fn huge_blob_gets_a_pax_size() {
        let size = USTAR_MAX_SIZE + 1;
        let e = Entry::File(
            format!("blobs/sha256/{}", "a".repeat(64)),
            Blob {
                digest: Digest::of(b""),
                size,
                source: Source::Bytes(Vec::new()),
            },
        );
        let h = headers(&e);
        assert_eq!(h.len(), 3 * 512);
        // Read back with the tar crate: the PAX size wins.
        let mut data = h.clone();
        data.extend_from_slice(&[0u8; 1024]);
        let mut a = tar::Archive::new(&data[..]);
        let entry = a.entries().unwrap().next().unwrap().unwrap();
        assert_eq!(entry.size(), size);
        assert_eq!(
            entry.path().unwrap().to_str().unwrap(),
            format!("blobs/sha256/{}", "a".repeat(64))
        );
    }
}

#[cfg(test)]
mod naming_and_plan {
    use super::*;
    use crate::testutil::{layer, store, tar_of};
    use serde_json::json;

    fn r(s: &str) -> Reference {
        Reference::parse(s).unwrap()
    }

    fn img(top: LayerId, names: &[&str]) -> SaveImage {
        SaveImage {
            top,
            names: names.iter().map(|n| r(n)).collect(),
        }
    }

    fn plan(s: &Store, images: &[SaveImage], c: Compression) -> Result<Archive, SaveError> {
        prepare(s, images, &SaveOptions { compression: c }, &mut |_| {})
    }

    fn bytes(a: &Archive) -> Vec<u8> {
        let mut out = Vec::new();
        a.write_to(&mut out, &mut |_| {}).unwrap();
        assert_eq!(out.len() as u64, a.size(), "size() is exact");
        out
    }

    fn file(tar: &[u8], path: &str) -> Value {
        let mut a = tar::Archive::new(tar);
        for e in a.entries().unwrap() {
            let mut e = e.unwrap();
            if e.path().unwrap().to_str() == Some(path) {
                let mut v = Vec::new();
                e.read_to_end(&mut v).unwrap();
                return serde_json::from_slice(&v).unwrap();
            }
        }
        panic!("{path} not in the archive");
    }

    #[test]
    fn names_must_each_name_one_image() {
        let (_d, s) = store("save-names");
        let (a, _) = layer(&s, None, &tar_of(&[("a", b"1")]));
        let (b, _) = layer(&s, None, &tar_of(&[("b", b"2")]));
        let e = plan(&s, &[], Compression::None).err().unwrap();
        assert!(e.is_usage(), "{e}");
        let e = plan(
            &s,
            &[img(a, &["x:1"]), img(b, &["docker.io/library/x:1"])],
            Compression::None,
        )
        .err()
        .unwrap();
        assert!(
            e.is_usage() && e.to_string().contains("x:1 would name two images"),
            "{e}"
        );
        // the same image given twice is one image with both names, once each
        let p = plan(
            &s,
            &[img(a, &["x:1", "x:2"]), img(b, &[]), img(a, &["x:1", "y"])],
            Compression::None,
        )
        .unwrap();
        let names: Vec<Vec<String>> = p.images().iter().map(|i| i.names.clone()).collect();
        assert_eq!(names, vec![vec!["x:1", "x:2", "y:latest"], vec![]]);
    }

    #[test]
    fn the_plan_is_sorted_and_each_blob_is_written_once() {
        let (_d, s) = store("save-plan");
        let (base, _) = layer(&s, None, &tar_of(&[("a", b"1")]));
        let (top, _) = layer(&s, Some(base), &tar_of(&[("b", b"2")]));
        let p = plan(
            &s,
            &[img(top, &["app:1"]), img(base, &[])],
            Compression::None,
        )
        .unwrap();
        let paths = p.paths();
        assert!(paths.windows(2).all(|w| w[0] < w[1]), "{paths:?}");
        assert_eq!(&paths[..2], ["blobs/", "blobs/sha256/"]);
        assert_eq!(
            &paths[paths.len() - 4..],
            ["index.json", "manifest.json", "oci-layout", "repositories"]
        );
        // 2 layers (shared), 2 configs, 2 manifests
        assert_eq!(paths.len(), 2 + 6 + 4);
        let tar = bytes(&p);
        let index = file(&tar, "index.json");
        let m = index["manifests"].as_array().unwrap();
        assert_eq!(m.len(), 2);
        assert_eq!(
            m[0]["annotations"][ANNOTATION_IMAGE_NAME],
            "docker.io/library/app:1"
        );
        assert_eq!(m[0]["annotations"][ANNOTATION_REF_NAME], "1");
        assert!(
            m[1].get("annotations").is_none(),
            "untagged: no annotations"
        );
        let docker = file(&tar, "manifest.json");
        assert_eq!(docker[0]["RepoTags"], json!(["app:1"]));
        assert_eq!(docker[1]["RepoTags"], json!([]));
        assert_eq!(docker[0]["Layers"].as_array().unwrap().len(), 2);
        assert_eq!(
            file(&tar, "repositories"),
            json!({"app": {"1": p.images()[0].image_id.hex()}})
        );
        // nothing tagged: no repositories file
        let p = plan(&s, &[img(base, &[])], Compression::None).unwrap();
        assert!(!p.paths().contains(&"repositories"));
    }

    /// A resolved image with a config of `diff_ids` and layer blobs of
    /// the same digests.
    fn resolved(names: &[&str], layers: &[&[u8]]) -> (Resolved, Vec<Blob>) {
        let diff_ids: Vec<String> = layers.iter().map(|l| Digest::of(l).to_string()).collect();
        let config = serde_json::to_vec(&json!({
            "architecture": "arm64", "os": "linux", "variant": "v8", "os.version": "",
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
        }))
        .unwrap();
        let blobs: Vec<Blob> = layers
            .iter()
            .map(|l| Blob {
                digest: Digest::of(l),
                size: l.len() as u64,
                source: Source::Bytes(l.to_vec()),
            })
            .collect();
        let r = Resolved {
            top: LayerId(Digest::of(names.join(",").as_bytes())),
            names: names.iter().map(|n| Reference::parse(n).unwrap()).collect(),
            config,
            layers: blobs.iter().map(|b| (b.digest, b.size)).collect(),
        };
        (r, blobs)
    }

    fn json_of(e: &Entry) -> Value {
        match e {
            Entry::File(
                _,
                Blob {
                    source: Source::Bytes(b),
                    ..
                },
            ) => serde_json::from_slice(b).unwrap(),
            _ => panic!("{} is not a document", e.path()),
        }
    }

    #[test]
    fn the_layout_is_pure_data_in_path_order() {
        let plan = || {
            let (a, mut blobs) = resolved(&["app:1", "team/app:2"], &[b"base", b"top"]);
            let (b, more) = resolved(&[], &[b"base"]);
            blobs.extend(more);
            let blobs = blobs.into_iter().map(|b| (b.digest, b)).collect();
            layout(vec![a, b], blobs, Compression::Gzip).unwrap()
        };
        let (entries, saved) = plan();
        let paths: Vec<&str> = entries.iter().map(Entry::path).collect();
        assert!(paths.windows(2).all(|w| w[0] < w[1]), "{paths:?}");
        // 2 layers (one shared), 2 configs, 2 manifests
        assert_eq!(paths.len(), 2 + 6 + 4);
        let doc = |p: &str| json_of(entries.iter().find(|e| e.path() == p).unwrap());
        let index = doc("index.json");
        assert_eq!(
            index["mediaType"],
            "application/vnd.oci.image.index.v1+json"
        );
        let m = index["manifests"].as_array().unwrap();
        let names: Vec<&Value> = m
            .iter()
            .map(|d| &d["annotations"][ANNOTATION_IMAGE_NAME])
            .collect();
        assert_eq!(
            names,
            [
                &json!("docker.io/library/app:1"),
                &json!("docker.io/team/app:2"),
                &Value::Null
            ]
        );
        assert_eq!(
            m[0]["platform"],
            json!({"architecture": "arm64", "os": "linux", "variant": "v8"})
        );
        assert_eq!(m[0]["digest"], m[1]["digest"]);
        assert_eq!(
            doc("manifest.json"),
            json!([
                {"Config": blob_name(&saved[0].image_id), "RepoTags": ["app:1", "team/app:2"],
                 "Layers": [blob_name(&Digest::of(b"base")), blob_name(&Digest::of(b"top"))]},
                {"Config": blob_name(&saved[1].image_id), "RepoTags": [],
                 "Layers": [blob_name(&Digest::of(b"base"))]},
            ])
        );
        assert_eq!(
            doc("repositories"),
            json!({"app": {"1": saved[0].image_id.hex()}, "team/app": {"2": saved[0].image_id.hex()}})
        );
        let manifest = doc(&blob_name(&saved[0].manifest));
        assert_eq!(
            manifest["layers"][1]["mediaType"],
            Compression::Gzip.media_type()
        );
        assert_eq!(manifest["config"]["digest"], saved[0].image_id.to_string());
        // the same images, the same archive
        let (again, _) = plan();
        let bytes = |e: &[Entry]| -> Vec<(String, Option<Vec<u8>>)> {
            e.iter()
                .map(|e| match e {
                    Entry::File(
                        p,
                        Blob {
                            source: Source::Bytes(b),
                            ..
                        },
                    ) => (p.clone(), Some(b.clone())),
                    e => (e.path().to_string(), None),
                })
                .collect()
        };
        assert_eq!(bytes(&entries), bytes(&again));
    }

    #[test]
    fn merging_keeps_the_order_given() {
        let (_d, s) = store("save-merge");
        let (a, _) = layer(&s, None, &tar_of(&[("a", b"1")]));
        let (b, _) = layer(&s, None, &tar_of(&[("b", b"2")]));
        let m = merge(&[img(b, &["y"]), img(a, &["x:1"]), img(b, &["y:latest", "z"])]).unwrap();
        let got: Vec<(LayerId, Vec<String>)> = m
            .iter()
            .map(|i| (i.top, i.names.iter().map(Reference::familiar).collect()))
            .collect();
        assert_eq!(
            got,
            vec![
                (b, vec!["y:latest".into(), "z:latest".into()]),
                (a, vec!["x:1".into()])
            ]
        );
    }

    #[test]
    fn saving_is_deterministic_and_loads_back_to_the_same_ids() {
        let (_d, s) = store("save-roundtrip");
        let (base, _) = layer(&s, None, &tar_of(&[("a", b"1")]));
        let (top, _) = layer(&s, Some(base), &tar_of(&[("b", b"2")]));
        for c in [Compression::None, Compression::Gzip, Compression::Zstd] {
            let p = plan(&s, &[img(top, &["app:1"])], c).unwrap();
            let one = bytes(&p);
            let two = bytes(&plan(&s, &[img(top, &["app:1"])], c).unwrap());
            assert_eq!(one, two, "{c:?}: same bytes twice");
            let saved = &p.images()[0];
            let (d2, s2) = store("save-roundtrip-load");
            let path = d2.path().join("a.tar");
            fs::write(&path, &one).unwrap();
            let src = super::super::load::TarSource::new(File::open(&path).unwrap()).unwrap();
            let got = super::super::load::load(&s2, &src, &mut |_, _, _| {}).unwrap();
            assert_eq!(got[0].image_id, saved.image_id, "{c:?}");
            assert_eq!(got[0].tags, vec!["app:1"]);
            let m = file(&one, &format!("blobs/sha256/{}", saved.manifest.hex()));
            assert_eq!(m["layers"][0]["mediaType"], c.media_type(), "{c:?}");
            // and saved again from the new store, the same archive
            let again = bytes(&plan(&s2, &[img(got[0].layer, &["app:1"])], c).unwrap());
            assert_eq!(again, one, "{c:?}: save, load, save");
        }
    }

    #[test]
    fn a_damaged_blob_stops_the_stream() {
        let (_d, s) = store("save-damaged");
        let (top, _) = layer(&s, None, &tar_of(&[("a", b"1")]));
        let p = plan(&s, &[img(top, &[])], Compression::None).unwrap();
        let (blob, path) = s.layer_blob(&top).unwrap().unwrap();
        let mut data = fs::read(&path).unwrap();
        data[600] ^= 1;
        fs::write(&path, &data).unwrap();
        let e = crate::error::one_line(&p.write_to(&mut io::sink(), &mut |_| {}).unwrap_err());
        assert!(e.contains(&blob.digest.to_string()), "{e}");
    }
}
