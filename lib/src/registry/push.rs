//! `push`: an image of the store into a registry. Its blobs are the ones
//! `save` would write (the same layer streams, compressed as asked, the
//! config byte for byte), so a pushed image keeps its image ID; each blob
//! the registry lacks is uploaded in one monolithic PUT, streamed from
//! the store, then the manifest is put under the tag.

use super::client::{Client, HttpError};
use super::{RegistryError, TlsOptions};
use crate::digest::{Digest, LayerId};
use crate::image::save::{prepare, Archive, SaveError, SaveImage, SaveOptions};
use crate::json::canonical;
use crate::layer::Compression;
use crate::reference::Remote;
use crate::store::Store;
use serde_json::json;
use std::io::Read;
use ureq::http::StatusCode;
use ureq::SendBody;

/// The OCI image manifest type.
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// Docker's schema2 manifest type.
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";

/// Which manifest to put.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ManifestFormat {
    /// An OCI image manifest (what `save` writes).
    #[default]
    Oci,
    /// Docker's schema2, which every docker pulls.
    Docker,
}

/// How to push.
#[derive(Debug, Clone)]
pub struct PushOptions {
    pub compression: Compression,
    pub format: ManifestFormat,
    pub tls: TlsOptions,
}

/// An image pushed.
#[derive(Debug, Clone)]
pub struct Pushed {
    /// The image ID (the config's digest).
    pub image_id: Digest,
    /// The manifest's digest, as the registry names it.
    pub digest: Digest,
    /// Layer blobs, bottom first.
    pub layers: Vec<Digest>,
    /// Blobs uploaded (config included); the others the registry had.
    pub uploaded: usize,
    /// Blobs the registry had already.
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

/// Push the image whose top layer is `top` to `dest`.
pub fn push(
    store: &Store,
    top: LayerId,
    dest: &Remote,
    opts: &PushOptions,
) -> Result<Pushed, PushError> {
    push_inner(store, top, dest, opts).map_err(|source| PushError {
        reference: dest.to_string(),
        source: Box::new(source),
    })
}

fn push_inner(
    store: &Store,
    top: LayerId,
    dest: &Remote,
    opts: &PushOptions,
) -> Result<Pushed, PushFault> {
    if opts.format == ManifestFormat::Docker && opts.compression == Compression::Zstd {
        return Err(PushFault::DockerZstd);
    }
    let image = SaveImage { top, names: vec![] };
    let save = SaveOptions {
        compression: opts.compression,
    };
    let archive = prepare(store, &[image], &save, &mut |_| {})?;
    let saved = archive.images()[0].clone();
    let client = Client::connect(dest.host(), &opts.tls)?;
    let name = dest.repository();
    let repo = Target {
        client: &client,
        scope: format!("repository:{name}:pull,push"),
        name,
    };
    let (mut uploaded, mut skipped) = (0, 0);
    for d in saved.layers.iter().chain([&saved.image_id]) {
        match repo.has_blob(d)? {
            true => skipped += 1,
            false => {
                repo.upload(&archive, d)?;
                uploaded += 1
            }
        }
    }
    let (media, manifest) = match opts.format {
        ManifestFormat::Oci => (OCI_MANIFEST, blob_bytes(&archive, &saved.manifest)?),
        ManifestFormat::Docker => (
            DOCKER_MANIFEST,
            docker_manifest(&archive, &saved.image_id, &saved.layers, opts.compression)?,
        ),
    };
    let digest = repo.put_manifest(dest.object(), media, manifest)?;
    Ok(Pushed {
        image_id: saved.image_id,
        digest,
        layers: saved.layers,
        uploaded,
        skipped,
    })
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

/// The repository pushed to.
struct Target<'a> {
    client: &'a Client,
    name: String,
    scope: String,
}

impl Target<'_> {
    fn fail(&self, what: &str, source: HttpError) -> RegistryError {
        RegistryError::Http {
            what: what.to_string(),
            source,
        }
    }

    /// A status other than `want`, as an error that says what to do.
    fn judge(
        &self,
        what: &str,
        url: &str,
        status: StatusCode,
        want: StatusCode,
    ) -> Result<(), RegistryError> {
        match status {
            s if s == want => Ok(()),
            s @ (StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) => Err(RegistryError::Denied {
                what: what.to_string(),
                status: s,
                host: self.client.host().to_string(),
            }),
            status => Err(self.fail(
                what,
                HttpError::Status {
                    url: url.to_string(),
                    status,
                },
            )),
        }
    }

    /// Whether the repository has blob `d` (`HEAD`).
    fn has_blob(&self, d: &Digest) -> Result<bool, RegistryError> {
        let what = format!("blob {d}");
        let url = self.client.url(&self.name, "blobs", &d.to_string());
        let resp = self
            .client
            .send("HEAD", &url, &self.scope, &[], SendBody::none())
            .map_err(|e| self.fail(&what, e))?;
        match resp.status() {
            StatusCode::NOT_FOUND => Ok(false),
            s => self.judge(&what, &url, s, StatusCode::OK).map(|_| true),
        }
    }

    /// Upload blob `d` of the archive: `POST` for an upload, then one
    /// `PUT` of the whole blob to its location, with the digest.
    fn upload(&self, archive: &Archive, d: &Digest) -> Result<(), PushFault> {
        let what = format!("blob {d}");
        let url = self.client.url(&self.name, "blobs", "uploads/");
        let resp = self
            .client
            .send("POST", &url, &self.scope, &[], SendBody::none())
            .map_err(|e| self.fail(&what, e))?;
        self.judge(&what, &url, resp.status(), StatusCode::ACCEPTED)?;
        let location = resp
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| PushFault::NoLocation { what: what.clone() })?;
        let location = self.client.absolute(location);
        let sep = if location.contains('?') { '&' } else { '?' };
        let put = format!("{location}{sep}digest={d}");
        let (size, mut reader) = archive.blob(d)?.expect("the archive holds its blobs");
        let headers = [
            ("Content-Length", size.to_string()),
            ("Content-Type", "application/octet-stream".to_string()),
        ];
        let resp = self
            .client
            .send(
                "PUT",
                &put,
                &self.scope,
                &headers,
                SendBody::from_reader(&mut reader),
            )
            .map_err(|e| self.fail(&what, e))?;
        self.judge(&what, &location, resp.status(), StatusCode::CREATED)?;
        Ok(())
    }

    /// `PUT` the manifest under `object` (a tag); its digest.
    fn put_manifest(
        &self,
        object: &str,
        media: &str,
        data: Vec<u8>,
    ) -> Result<Digest, RegistryError> {
        let what = format!("manifest {object}");
        let url = self.client.url(&self.name, "manifests", object);
        let digest = Digest::of(&data);
        let headers = [
            ("Content-Type", media.to_string()),
            ("Content-Length", data.len().to_string()),
        ];
        let mut body = &data[..];
        let resp = self
            .client
            .send(
                "PUT",
                &url,
                &self.scope,
                &headers,
                SendBody::from_reader(&mut body),
            )
            .map_err(|e| self.fail(&what, e))?;
        self.judge(&what, &url, resp.status(), StatusCode::CREATED)?;
        let named = resp
            .headers()
            .get("docker-content-digest")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<Digest>().ok());
        match named {
            Some(n) if n != digest => Err(RegistryError::Mismatch {
                what,
                expected: digest,
                actual: n,
            }),
            _ => Ok(digest),
        }
    }
}
