//! `push`: an image of the store into a registry.
//!
//! What goes out is one of two things. An image that came from a registry
//! (or went to one) keeps the manifests it was pulled with or pushed as
//! (`info.json` of its top layer): when one fits the options and every
//! blob it lists is in the store, those exact bytes go out again, so the
//! manifest digest stays the one the registry had. Otherwise the blobs are
//! the ones `save` would write (the same layer streams, compressed as
//! asked, the config byte for byte), so the image ID stays, and the
//! manifest is made here. The upload itself is in [`super::upload`].

use super::client::Client;
use super::manifest::{DOCKER_MANIFEST, OCI_MANIFEST};
pub use super::upload::Sent;
use super::upload::Target;
use super::{RegistryError, TlsOptions};
use crate::digest::{Digest, LayerId};
use crate::image::save::{prepare, Archive, SaveError, SaveImage, SaveOptions};
use crate::json::canonical;
use crate::layer::Compression;
use crate::reference::Remote;
use crate::store::meta::RemoteManifest;
use crate::store::{Store, StoreError};
use oci_spec::image::ImageManifest;
use serde_json::json;
use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, Read};

/// Which manifest to put.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ManifestFormat {
    /// An OCI image manifest (what `save` writes).
    #[default]
    Oci,
    /// Docker's schema2, which every docker pulls.
    Docker,
}

impl ManifestFormat {
    fn media_type(self) -> &'static str {
        match self {
            ManifestFormat::Oci => OCI_MANIFEST,
            ManifestFormat::Docker => DOCKER_MANIFEST,
        }
    }
}

/// How to push. `None` for the compression or the format means: as a
/// manifest the image is known by has it, else gzip and OCI.
#[derive(Debug, Clone, Default)]
pub struct PushOptions {
    pub compression: Option<Compression>,
    pub format: Option<ManifestFormat>,
    pub tls: TlsOptions,
    /// Blobs larger than this go up in `PATCH` chunks of this size; 0
    /// sends each blob in one `PUT`.
    pub chunk_size: u64,
}

/// What `--chunk-size` is by default: 64 MiB.
pub const DEFAULT_CHUNK: u64 = 64 << 20;

/// An image pushed.
#[derive(Debug, Clone)]
pub struct Pushed {
    /// The image ID (the config's digest).
    pub image_id: Digest,
    /// The manifest's digest, as the registry names it.
    pub digest: Digest,
    /// The manifest's media type.
    pub media_type: String,
    /// Whether the manifest is one the image was known by already (its
    /// bytes sent again), not one made for this push.
    pub kept: bool,
    /// Layer blobs, bottom first.
    pub layers: Vec<Digest>,
    /// Blobs uploaded (config included).
    pub uploaded: usize,
    /// Blobs mounted from another repository of the same registry.
    pub mounted: usize,
    /// Blobs the repository had already.
    pub skipped: usize,
}

/// A failed push, naming the destination.
#[derive(Debug, thiserror::Error)]
#[error("push {reference}")]
pub struct PushError {
    pub reference: String,
    pub source: Box<PushFault>,
}

/// What went wrong in a push.
#[derive(Debug, thiserror::Error)]
pub enum PushFault {
    #[error(transparent)]
    Registry(Box<RegistryError>),
    #[error("reading the image")]
    Save(#[source] Box<SaveError>),
    #[error("reading the image")]
    Store(#[source] Box<StoreError>),
    #[error("{what}: the registry opened an upload without a Location to send it to")]
    NoLocation { what: String },
    #[error("reading blob {digest} from the store")]
    Read {
        digest: Digest,
        source: std::io::Error,
    },
    #[error("a docker schema2 manifest cannot list zstd layers; use --compress gzip, or the OCI manifest")]
    DockerZstd,
}

impl From<RegistryError> for PushFault {
    fn from(e: RegistryError) -> Self {
        PushFault::Registry(Box::new(e))
    }
}

impl From<SaveError> for PushFault {
    fn from(e: SaveError) -> Self {
        PushFault::Save(Box::new(e))
    }
}

impl From<StoreError> for PushFault {
    fn from(e: StoreError) -> Self {
        PushFault::Store(Box::new(e))
    }
}

/// What a push reports as it goes, for each layer blob (bottom first; the
/// config is not reported).
#[derive(Debug, Clone, Copy)]
pub enum PushProgress {
    /// Layer `index`'s blob is to be sent (reported for every layer first).
    Layer { index: usize, blob: Digest },
    /// `done` of `size` bytes of layer `index`'s blob sent so far.
    Bytes { index: usize, done: u64, size: u64 },
    /// Layer `index`'s blob is in the repository now.
    Done { index: usize, sent: Sent },
}

/// Where push progress goes.
pub type PushReport<'a> = Option<&'a dyn Fn(PushProgress)>;

/// Push the image whose top layer is `top` to `dest`, reporting progress
/// to `progress`.
pub fn push(
    store: &Store,
    top: LayerId,
    dest: &Remote,
    opts: &PushOptions,
    progress: PushReport<'_>,
) -> Result<Pushed, PushError> {
    push_inner(store, top, dest, opts, progress).map_err(|source| PushError {
        reference: dest.to_string(),
        source: Box::new(source),
    })
}

/// Where the blobs of a push are read from.
pub enum Blobs {
    /// The store's own blobs (a kept manifest's).
    Store,
    /// An archive `save` prepared.
    Archive(Archive),
}

impl Blobs {
    /// Blob `d`'s size and a reader of its bytes.
    pub fn open<'a>(
        &'a self,
        store: &Store,
        d: &Digest,
    ) -> Result<(u64, Box<dyn Read + 'a>), PushFault> {
        match self {
            Blobs::Archive(a) => Ok(a.blob(d)?.expect("the archive holds its blobs")),
            Blobs::Store => {
                let p = store.blob_path(d);
                let read = |source| PushFault::Read { digest: *d, source };
                let f = File::open(&p).map_err(read)?;
                let size = f.metadata().map_err(read)?.len();
                Ok((size, Box::new(BufReader::with_capacity(1 << 20, f))))
            }
        }
    }
}

/// An image ready to go: its manifest and where its blobs are.
struct Plan {
    image_id: Digest,
    manifest: Vec<u8>,
    media_type: String,
    layers: Vec<Digest>,
    blobs: Blobs,
    kept: bool,
}

fn push_inner(
    store: &Store,
    top: LayerId,
    dest: &Remote,
    opts: &PushOptions,
    progress: PushReport<'_>,
) -> Result<Pushed, PushFault> {
    let docker = opts.format == Some(ManifestFormat::Docker);
    if docker && opts.compression == Some(Compression::Zstd) {
        return Err(PushFault::DockerZstd);
    }
    let plan = match kept(store, &top, opts)? {
        Some(p) => p,
        None => generated(store, top, opts)?,
    };
    let client = Client::connect(dest.host(), &opts.tls)?;
    let name = dest.repository();
    let repo = Target {
        client: &client,
        scope: format!("repository:{name}:pull,push"),
        name,
        chunk: opts.chunk_size,
    };
    let sources = mount_sources(store, &top, dest)?;
    let report = |p| {
        if let Some(f) = progress {
            f(p)
        }
    };
    for (index, blob) in plan.layers.iter().enumerate() {
        report(PushProgress::Layer { index, blob: *blob });
    }
    let mut counts = [0usize; 3];
    for (index, d) in plan.layers.iter().chain([&plan.image_id]).enumerate() {
        let from = sources.get(d).map(String::as_str);
        let layer = index < plan.layers.len();
        let bytes = |done, size| {
            if layer {
                report(PushProgress::Bytes { index, done, size })
            }
        };
        let sent = repo.send_blob(store, &plan.blobs, d, from, &bytes)?;
        if layer {
            report(PushProgress::Done { index, sent });
        }
        counts[sent as usize] += 1;
    }
    let digest = repo.put_manifest(dest.object(), &plan.media_type, &plan.manifest)?;
    // Known now: a later push sends the same bytes, or mounts from here.
    let noted = store.put_blob(&plan.manifest).and_then(|manifest| {
        let repository = format!("{}/{}", client.host(), repo.name);
        let media_type = plan.media_type.clone();
        store.note_remote(
            &top,
            RemoteManifest {
                manifest,
                media_type,
                repository,
            },
        )
    });
    noted?;
    Ok(Pushed {
        image_id: plan.image_id,
        digest,
        media_type: plan.media_type,
        kept: plan.kept,
        layers: plan.layers,
        uploaded: counts[Sent::Uploaded as usize],
        mounted: counts[Sent::Mounted as usize],
        skipped: counts[Sent::Present as usize],
    })
}

/// The compression a layer media type names.
fn compression_of(media_type: &str) -> Compression {
    if media_type.ends_with("gzip") {
        Compression::Gzip
    } else if media_type.ends_with("zstd") {
        Compression::Zstd
    } else {
        Compression::None
    }
}

/// The newest manifest the image is known by that fits `opts`, whose
/// blobs are all in the store: the image goes out as it came in.
fn kept(store: &Store, top: &LayerId, opts: &PushOptions) -> Result<Option<Plan>, PushFault> {
    let Some(config) = store.layer(top)?.image_config else {
        return Ok(None);
    };
    let info = store.layer_info(top)?;
    for r in info.remote.iter().rev() {
        if opts.format.is_some_and(|f| f.media_type() != r.media_type) {
            continue;
        }
        let Ok(data) = store.read_blob(&r.manifest) else {
            continue;
        };
        let Ok(m) = serde_json::from_slice::<ImageManifest>(&data) else {
            continue;
        };
        let digests: Option<Vec<Digest>> = m
            .layers()
            .iter()
            .map(|l| l.digest().to_string().parse().ok())
            .collect();
        let Some(layers) = digests else { continue };
        let fits = m.config().digest().to_string() == config.to_string()
            && store.has_blob(&config)
            && layers.iter().all(|d| store.has_blob(d))
            && m.layers().iter().all(|l| {
                let c = compression_of(l.media_type().as_ref());
                opts.compression.is_none_or(|want| want == c)
            });
        if fits {
            return Ok(Some(Plan {
                image_id: config,
                manifest: data,
                media_type: r.media_type.clone(),
                layers,
                blobs: Blobs::Store,
                kept: true,
            }));
        }
    }
    Ok(None)
}

/// The image as `save` writes it, with the manifest asked for.
fn generated(store: &Store, top: LayerId, opts: &PushOptions) -> Result<Plan, PushFault> {
    let compression = opts.compression.unwrap_or(Compression::Gzip);
    let image = SaveImage { top, names: vec![] };
    let save = SaveOptions { compression };
    let archive = prepare(store, &[image], &save, &mut |_| {})?;
    let saved = archive.images()[0].clone();
    let format = opts.format.unwrap_or_default();
    let manifest = match format {
        ManifestFormat::Oci => blob_bytes(&archive, &saved.manifest)?,
        ManifestFormat::Docker => {
            docker_manifest(&archive, &saved.image_id, &saved.layers, compression)?
        }
    };
    Ok(Plan {
        image_id: saved.image_id,
        manifest,
        media_type: format.media_type().to_string(),
        layers: saved.layers,
        blobs: Blobs::Archive(archive),
        kept: false,
    })
}

/// Blobs another repository of `dest`'s registry has, by what the store
/// knows of the image's chain: blob → repository to mount it from.
fn mount_sources(
    store: &Store,
    top: &LayerId,
    dest: &Remote,
) -> Result<HashMap<Digest, String>, PushFault> {
    let host = format!("{}/", dest.host());
    let here = format!("{host}{}", dest.repository());
    let mut out = HashMap::new();
    for (id, _) in store.chain(top)? {
        for r in store.layer_info(&id)?.remote.iter().rev() {
            let Some(from) = r.repository.strip_prefix(&host) else {
                continue;
            };
            if r.repository == here {
                continue;
            }
            let Ok(data) = store.read_blob(&r.manifest) else {
                continue;
            };
            let Ok(m) = serde_json::from_slice::<ImageManifest>(&data) else {
                continue;
            };
            for desc in m.layers().iter().chain([m.config()]) {
                if let Ok(d) = desc.digest().to_string().parse::<Digest>() {
                    out.entry(d).or_insert_with(|| from.to_string());
                }
            }
        }
    }
    Ok(out)
}

/// A blob of the archive, whole (a config or a manifest: small).
fn blob_bytes(archive: &Archive, d: &Digest) -> Result<Vec<u8>, PushFault> {
    let (_, mut r) = archive.blob(d)?.expect("the archive holds its own blobs");
    let mut data = Vec::new();
    r.read_to_end(&mut data)
        .map_err(|source| PushFault::Read { digest: *d, source })?;
    Ok(data)
}

/// Docker's schema2 manifest of the same blobs.
fn docker_manifest(
    archive: &Archive,
    config: &Digest,
    layers: &[Digest],
    compression: Compression,
) -> Result<Vec<u8>, PushFault> {
    let layer_type = match compression {
        Compression::Gzip => "application/vnd.docker.image.rootfs.diff.tar.gzip",
        _ => "application/vnd.docker.image.rootfs.diff.tar",
    };
    let size = |d: &Digest| -> Result<u64, PushFault> {
        Ok(archive.blob(d)?.expect("the archive holds its blobs").0)
    };
    let mut descs = Vec::new();
    for d in layers {
        descs.push(json!({"mediaType": layer_type, "size": size(d)?, "digest": d.to_string()}));
    }
    let m = json!({
        "schemaVersion": 2,
        "mediaType": DOCKER_MANIFEST,
        "config": {
            "mediaType": "application/vnd.docker.container.image.v1+json",
            "size": size(config)?,
            "digest": config.to_string(),
        },
        "layers": descs,
    });
    Ok(canonical(&m))
}
