//! Registries: pulling images over the OCI distribution API.
//!
//! A pull resolves a reference to a manifest (through an index or a
//! manifest list, for one platform), fetches the image config, then streams
//! each layer blob from the socket through its digest check and
//! decompression into the same unpack path `load` uses: layers already in
//! the store are not fetched, a failure takes back what the pull published,
//! and the config is kept byte for byte, so the image ID is the config's
//! digest as the registry has it. `push` sends an image the other way, with
//! the blobs `save` writes; `login` keeps credentials as docker does.
//! docs/registry.md tells what is supported.

mod ahead;
pub mod auth;
pub mod client;
pub mod login;
pub mod manifest;
pub mod push;
mod resume;
pub mod tls;
mod upload;

use crate::digest::{Digest, LayerId};
use crate::image::load::{self, LoadError, Source};
use crate::reference::Remote;
use crate::store::ingest::IngestError;
use crate::store::meta::RemoteManifest;
use crate::store::Store;
use client::{Client, HttpError};
use manifest::{Document, Wanted};
use oci_spec::image::ImageManifest;
use std::io::{self, Read};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use ureq::http::StatusCode;

pub use crate::reference::DOCKER_HUB;
pub use tls::TlsOptions;

/// The largest manifest or index read (distribution refuses bigger ones).
const MAX_MANIFEST: u64 = 4 << 20;
/// The largest image config read.
const MAX_CONFIG: u64 = 32 << 20;

/// What went wrong talking to a registry or bringing its image in.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("{host}: setting up TLS")]
    Tls { host: String, source: tls::TlsError },
    #[error("reading credentials")]
    Auth(#[from] auth::AuthError),
    #[error("cannot reach the registry {host}")]
    Unreachable { host: String, source: HttpError },
    #[error("{host} does not answer as a registry")]
    NotARegistry { host: String, source: HttpError },
    #[error("{what}: access denied ({status}); log in with `cairn login {host}` (or `docker login {host}`: cairn reads docker's config.json)")]
    Denied {
        what: String,
        status: StatusCode,
        host: String,
    },
    #[error("{what}: not found in the registry (no such repository, tag or digest)")]
    NotFound { what: String },
    #[error("{what}")]
    Http { what: String, source: HttpError },
    #[error("{what}")]
    Invalid {
        what: String,
        source: manifest::ManifestError,
    },
    #[error("{what}: the registry sent content whose digest is {actual}, not {expected}")]
    Mismatch {
        what: String,
        expected: Digest,
        actual: Digest,
    },
    #[error("no image for {want} in the index (it has {offered}); choose one with --platform")]
    Platform { want: Wanted, offered: String },
    #[error("{what}: transfer cut")]
    Transfer { what: String, source: io::Error },
    #[error("layer {index}, blob {blob}")]
    Layer {
        index: usize,
        blob: String,
        source: IngestError,
    },
    #[error(transparent)]
    Import(#[from] LoadError),
    #[error("image {top}: keeping its registry manifest")]
    Keep {
        top: LayerId,
        source: Box<crate::store::StoreError>,
    },
}

/// A failed pull, naming the reference.
#[derive(Debug, thiserror::Error)]
#[error("pull {reference}")]
pub struct PullError {
    pub reference: String,
    pub source: Box<RegistryError>,
}

/// What a pull reports as it goes.
#[derive(Debug, Clone, Copy)]
pub enum Progress {
    /// Downloads start: `layers` blobs the store lacks, `bytes` in all.
    Start { layers: usize, bytes: u64 },
    /// Layer `index` of the image: its blob, its size, and whether the
    /// store has the blob already (then it is not fetched). Sent for every
    /// layer after `Start`, bottom first.
    Layer {
        index: usize,
        blob: Digest,
        size: u64,
        present: bool,
    },
    /// `done` bytes of layer `index`'s blob received so far.
    Bytes { index: usize, done: u64 },
}

/// Where progress goes, from any thread.
pub type Report<'a> = Option<&'a (dyn Fn(Progress) + Sync)>;

/// How to pull.
#[derive(Default)]
pub struct PullOptions<'a> {
    /// The platform to choose from an index; default this machine's.
    pub platform: Option<Wanted>,
    pub tls: TlsOptions,
    pub progress: Report<'a>,
}

/// An image pulled.
#[derive(Debug, Clone)]
pub struct Pulled {
    pub layer: LayerId,
    pub image_id: Digest,
    /// The tag given, if the reference had one (or no digest).
    pub tag: Option<String>,
    /// What the reference resolved to: the index's digest for a
    /// multi-platform image, else the manifest's.
    pub digest: Digest,
    /// The image manifest's digest.
    pub manifest: Digest,
    /// Diff IDs, bottom first.
    pub diff_ids: Vec<Digest>,
    /// Layers in the chain (empty ones included).
    pub layers: usize,
    /// Layer blobs downloaded (the others were in the store already).
    pub fetched: usize,
}

/// Pull `reference` into the store and tag it.
pub fn pull(
    store: &Store,
    reference: &Remote,
    opts: &PullOptions<'_>,
) -> Result<Pulled, PullError> {
    pull_inner(store, reference, opts).map_err(|source| PullError {
        reference: reference.to_string(),
        source: Box::new(source),
    })
}

/// A registry's repository, with the scope its tokens are asked for.
struct Repo<'a> {
    client: &'a Client,
    name: String,
    scope: String,
}

impl Repo<'_> {
    /// GET an object of the repository; a status other than 200 is an
    /// error that says what to do.
    fn get(
        &self,
        kind: &str,
        object: &str,
        headers: &[(&str, String)],
        what: &str,
    ) -> Result<ureq::http::Response<ureq::Body>, RegistryError> {
        let url = self.client.url(&self.name, kind, object);
        let resp = self
            .client
            .get(&url, &self.scope, headers)
            .map_err(|source| RegistryError::Http {
                what: what.to_string(),
                source,
            })?;
        match resp.status() {
            StatusCode::OK | StatusCode::PARTIAL_CONTENT => Ok(resp),
            s @ (StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) => Err(RegistryError::Denied {
                what: what.to_string(),
                status: s,
                host: self.client.host().to_string(),
            }),
            StatusCode::NOT_FOUND => Err(RegistryError::NotFound {
                what: what.to_string(),
            }),
            status => Err(RegistryError::Http {
                what: what.to_string(),
                source: HttpError::Status { url, status },
            }),
        }
    }

    /// GET a small document whole, bounded, checked against `expect` (and
    /// against the digest the registry names, if it names one).
    fn document(
        &self,
        kind: &str,
        object: &str,
        accept: Option<&str>,
        expect: Option<Digest>,
        limit: u64,
        what: &str,
    ) -> Result<(Vec<u8>, Digest, String), RegistryError> {
        let headers: Vec<(&str, String)> = accept
            .map(|a| ("Accept", a.to_string()))
            .into_iter()
            .collect();
        let mut resp = self.get(kind, object, &headers, what)?;
        let header = |name: &str| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let content_type = header("content-type").unwrap_or_default();
        let named = header("docker-content-digest").and_then(|d| d.parse::<Digest>().ok());
        let data = resp
            .body_mut()
            .with_config()
            .limit(limit)
            .read_to_vec()
            .map_err(|e| RegistryError::Http {
                what: what.to_string(),
                source: HttpError::Transport {
                    url: self.client.url(&self.name, kind, object),
                    source: Box::new(e),
                },
            })?;
        let actual = Digest::of(&data);
        if let Some(expected) = expect.or(named).filter(|e| *e != actual) {
            return Err(RegistryError::Mismatch {
                what: what.to_string(),
                expected,
                actual,
            });
        }
        Ok((data, actual, content_type))
    }
}

/// The image manifest a reference names, through an index if it is one:
/// the digest the reference resolved to, the manifest's, the manifest and
/// its bytes.
fn resolve(
    repo: &Repo<'_>,
    reference: &Remote,
    want: &Wanted,
) -> Result<(Digest, Digest, ImageManifest, Vec<u8>), RegistryError> {
    let object = reference.object();
    let pinned = reference.digest.as_deref().and_then(|d| d.parse().ok());
    let what = format!("manifest {object}");
    let accept = Some(manifest::ACCEPT);
    let (data, digest, media) =
        repo.document("manifests", object, accept, pinned, MAX_MANIFEST, &what)?;
    let invalid = |what: &str, source| RegistryError::Invalid {
        what: what.to_string(),
        source,
    };
    match manifest::classify(&media, &data).map_err(|m| invalid(&what, m))? {
        Document::Manifest(m) => Ok((digest, digest, *m, data)),
        Document::Index(index) => {
            let desc = manifest::choose(&index, want).ok_or_else(|| RegistryError::Platform {
                want: want.clone(),
                offered: manifest::offered(&index),
            })?;
            let d = manifest::digest_of(desc).map_err(|m| invalid(&what, m))?;
            let what = format!("manifest {d} ({want})");
            let (data, _, media) = repo.document(
                "manifests",
                &d.to_string(),
                accept,
                Some(d),
                MAX_MANIFEST,
                &what,
            )?;
            match manifest::classify(&media, &data).map_err(|m| invalid(&what, m))? {
                Document::Manifest(m) => Ok((digest, d, *m, data)),
                Document::Index(_) => Err(invalid(&what, manifest::ManifestError::Nested)),
            }
        }
    }
}

fn pull_inner(
    store: &Store,
    reference: &Remote,
    opts: &PullOptions<'_>,
) -> Result<Pulled, RegistryError> {
    let client = Client::connect(reference.host(), &opts.tls)?;
    let name = reference.repository();
    let repo = Repo {
        client: &client,
        scope: format!("repository:{name}:pull"),
        name,
    };
    let want = opts.platform.clone().unwrap_or_else(Wanted::host);
    let (digest, manifest_digest, m, manifest_bytes) = resolve(&repo, reference, &want)?;
    let what = format!("manifest {manifest_digest}");
    let (config_digest, blobs) =
        manifest::image_parts(&m).map_err(|source| RegistryError::Invalid {
            what: what.clone(),
            source,
        })?;
    let sizes: Vec<u64> = m.layers().iter().map(|l| l.size()).collect();
    let what = format!("config {config_digest}");
    let (config, _, _) = repo.document(
        "blobs",
        &config_digest.to_string(),
        None,
        Some(config_digest),
        MAX_CONFIG,
        &what,
    )?;
    let tag = reference.tag().map(|r| r.familiar());
    let ahead = ahead::Ahead::new(store, &blobs);
    if let Some(p) = opts.progress {
        let missing = || blobs.iter().zip(&sizes).filter(|(b, _)| !store.has_blob(b));
        p(Progress::Start {
            layers: missing().count(),
            bytes: missing().map(|(_, s)| s).sum(),
        });
        for (index, (blob, size)) in blobs.iter().zip(&sizes).enumerate() {
            let present = store.has_blob(blob);
            p(Progress::Layer {
                index,
                blob: *blob,
                size: *size,
                present,
            });
        }
    }
    let src = Blobs {
        repo: &repo,
        blobs: &blobs,
        sizes: &sizes,
        ahead: &ahead,
        progress: opts.progress,
        fetched: AtomicUsize::new(0),
        failed: Mutex::new(None),
    };
    // Blobs download ahead on a few threads while the layers unpack in
    // order on this one.
    let imported = std::thread::scope(|scope| {
        for _ in 0..ahead::WORKERS.min(blobs.len()) {
            scope.spawn(|| ahead.work(store, &repo, &blobs, &sizes, opts.progress));
        }
        let imported = load::import_blobs(
            store,
            &src,
            config,
            &blobs,
            tag.iter().cloned().collect(),
            "registry",
            &mut |_, _| {},
        );
        ahead.stop.store(true, Ordering::Relaxed);
        imported
    });
    let loaded = imported.map_err(|e| src.explain(e))?;
    keep_manifest(
        store,
        &loaded.layer,
        &manifest_bytes,
        &m,
        &client,
        &repo.name,
    )?;
    Ok(Pulled {
        layer: loaded.layer,
        image_id: loaded.image_id,
        tag,
        digest,
        manifest: manifest_digest,
        diff_ids: loaded.diff_ids,
        layers: loaded.layers,
        fetched: src.fetched.load(Ordering::Relaxed),
    })
}

/// Keep the manifest an image came with (or went out as) in the store and
/// note it on the image's top layer, so a push sends the same bytes again
/// and mounts blobs from `repository`.
fn keep_manifest(
    store: &Store,
    top: &LayerId,
    data: &[u8],
    m: &ImageManifest,
    client: &Client,
    repository: &str,
) -> Result<(), RegistryError> {
    let kept = store.put_blob(data).and_then(|manifest| {
        let media_type = m
            .media_type()
            .as_ref()
            .map(|t| t.to_string())
            .unwrap_or_else(|| manifest::OCI_MANIFEST.to_string());
        let repository = format!("{}/{repository}", client.host());
        let r = RemoteManifest {
            manifest,
            media_type,
            repository,
        };
        store.note_remote(top, r)
    });
    kept.map_err(|source| RegistryError::Keep {
        top: *top,
        source: Box::new(source),
    })
}

/// The layer blobs of one image, served to the import as it asks for
/// them, straight from the registry's socket.
struct Blobs<'a> {
    repo: &'a Repo<'a>,
    /// Bottom first, as the manifest lists them.
    blobs: &'a [Digest],
    sizes: &'a [u64],
    ahead: &'a ahead::Ahead,
    progress: Report<'a>,
    fetched: AtomicUsize,
    /// Why the last blob could not be opened, told better than an io error.
    failed: Mutex<Option<RegistryError>>,
}

impl Blobs<'_> {
    /// The registry's own error for a failed import, if it has one, and
    /// the blob a failed layer came from.
    fn explain(&self, e: LoadError) -> RegistryError {
        if let Some(f) = self.failed.lock().expect("failure slot").take() {
            return f;
        }
        if let LoadError::Layer { index, .. } = &e {
            if let Some(f) = self.ahead.failure(*index) {
                return f;
            }
        }
        match e {
            LoadError::Layer {
                index,
                path,
                source,
            } => RegistryError::Layer {
                index,
                blob: self.blobs.get(index).map(|d| d.to_string()).unwrap_or(path),
                source,
            },
            e => RegistryError::Import(e),
        }
    }
}

impl Source for Blobs<'_> {
    fn open(&self, path: &str) -> io::Result<Option<(Box<dyn Read + Send + '_>, u64)>> {
        let Some(digest) = path
            .strip_prefix("blobs/sha256/")
            .and_then(|h| Digest::from_hex(h).ok())
        else {
            return Ok(None);
        };
        let index = self.blobs.iter().position(|b| *b == digest).unwrap_or(0);
        let size = self.sizes.get(index).copied().unwrap_or(0);
        self.fetched.fetch_add(1, Ordering::Relaxed);
        let fail = |e: Option<RegistryError>, msg: String| {
            if let Some(e) = e {
                *self.failed.lock().expect("failure slot") = Some(e);
            }
            Err(io::Error::other(msg))
        };
        match self.ahead.claim(index) {
            ahead::Claim::Follow(f) => return Ok(Some((Box::new(f), size))),
            ahead::Claim::Failed(e, msg) => return fail(e, msg),
            ahead::Claim::Stream => {}
        }
        let what = format!("layer {index}, blob {digest}");
        let body = match resume::Resuming::open(self.repo, digest, size, what) {
            Ok(r) => r,
            Err(e) => {
                let msg = crate::error::one_line(&e);
                return fail(Some(e), msg);
            }
        };
        let reader = Counting {
            inner: body,
            done: 0,
            index,
            progress: self.progress,
        };
        Ok(Some((Box::new(reader), size)))
    }
}

/// A reader that reports the bytes read through it.
struct Counting<'a, R> {
    inner: R,
    done: u64,
    index: usize,
    progress: Report<'a>,
}

impl<R: Read> Read for Counting<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.done += n as u64;
        if let Some(p) = self.progress {
            p(Progress::Bytes {
                index: self.index,
                done: self.done,
            });
        }
        Ok(n)
    }
}
