//! The documents a registry serves for a reference: docker schema2
//! manifests and lists, OCI manifests and indexes; and which manifest of
//! an index is this machine's.

use crate::digest::Digest;
use oci_spec::image::{Descriptor, ImageIndex, ImageManifest, Platform};

pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";

/// Every type cairn reads. A registry serves an OCI document only when it
/// is asked for, and distribution converts a schema2 manifest fetched
/// without this list to schema1 (another digest): always send all four.
pub const ACCEPT: &str = "application/vnd.oci.image.index.v1+json, \
application/vnd.oci.image.manifest.v1+json, \
application/vnd.docker.distribution.manifest.list.v2+json, \
application/vnd.docker.distribution.manifest.v2+json";

/// Config media types of container images (others are artifacts).
const IMAGE_CONFIGS: [&str; 2] = [
    "application/vnd.oci.image.config.v1+json",
    "application/vnd.docker.container.image.v1+json",
];

/// Layer media types whose blobs are tar, tar+gzip or tar+zstd.
const LAYERS: [&str; 6] = [
    "application/vnd.oci.image.layer.v1.tar",
    "application/vnd.oci.image.layer.v1.tar+gzip",
    "application/vnd.oci.image.layer.v1.tar+zstd",
    "application/vnd.docker.image.rootfs.diff.tar.gzip",
    "application/vnd.docker.image.rootfs.diff.tar",
    "application/vnd.docker.image.rootfs.diff.tar.zstd",
];

/// A platform as `--platform` gives it: `os/arch[/variant]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wanted {
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
}

impl std::fmt::Display for Wanted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        match &self.variant {
            Some(v) => write!(f, "/{v}"),
            None => Ok(()),
        }
    }
}

impl Wanted {
    /// This machine's platform.
    pub fn host() -> Wanted {
        let p = crate::image::config::host_platform();
        Wanted {
            os: p.os().to_string(),
            architecture: p.architecture().to_string(),
            variant: None,
        }
    }

    /// Parse `os/arch[/variant]`.
    pub fn parse(s: &str) -> Option<Wanted> {
        let parts: Vec<&str> = s.split('/').collect();
        if parts.iter().any(|p| p.is_empty()) || !(2..=3).contains(&parts.len()) {
            return None;
        }
        Some(Wanted {
            os: parts[0].to_string(),
            architecture: parts[1].to_string(),
            variant: parts.get(2).map(|v| v.to_string()),
        })
    }

    fn matches(&self, p: &Platform) -> bool {
        p.os().to_string() == self.os
            && p.architecture().to_string() == self.architecture
            && match &self.variant {
                Some(v) => p.variant().as_deref() == Some(v.as_str()),
                None => true,
            }
    }
}

/// Why a manifest or index cannot be pulled.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("invalid {kind}")]
    Json {
        kind: &'static str,
        source: serde_json::Error,
    },
    #[error("a docker schema1 manifest: not supported (push it again with a current docker, skopeo or cairn)")]
    Schema1,
    #[error("unsupported manifest type {0:?}")]
    MediaType(String),
    #[error("an index inside an index")]
    Nested,
    #[error("descriptor {digest}")]
    Digest {
        digest: String,
        source: crate::digest::DigestError,
    },
    #[error("not a container image (config type {0:?}): an artifact cairn cannot run")]
    Artifact(String),
    #[error("layer {digest}: unsupported media type {media_type:?}")]
    LayerType { digest: String, media_type: String },
}

/// What a manifest endpoint served.
pub enum Document {
    Index(Box<ImageIndex>),
    Manifest(Box<ImageManifest>),
}

/// Whether `media_type` (from Content-Type, else the document's own
/// field) is an index, a manifest, or something cairn cannot pull.
pub fn classify(media_type: &str, data: &[u8]) -> Result<Document, ManifestError> {
    let declared = serde_json::from_slice::<serde_json::Value>(data)
        .ok()
        .and_then(|v| v.get("mediaType")?.as_str().map(str::to_string));
    let header = media_type.split(';').next().unwrap_or("").trim();
    let kind = match header {
        OCI_INDEX | DOCKER_LIST | OCI_MANIFEST | DOCKER_MANIFEST => header.to_string(),
        _ => declared.unwrap_or_else(|| header.to_string()),
    };
    match kind.as_str() {
        OCI_INDEX | DOCKER_LIST => serde_json::from_slice(data)
            .map(|i| Document::Index(Box::new(i)))
            .map_err(|source| ManifestError::Json {
                kind: "index",
                source,
            }),
        OCI_MANIFEST | DOCKER_MANIFEST => serde_json::from_slice(data)
            .map(|m| Document::Manifest(Box::new(m)))
            .map_err(|source| ManifestError::Json {
                kind: "manifest",
                source,
            }),
        t if t.contains("manifest.v1") => Err(ManifestError::Schema1),
        t => Err(ManifestError::MediaType(t.to_string())),
    }
}

/// The manifest of `index` for `want`.
pub fn choose<'a>(index: &'a ImageIndex, want: &Wanted) -> Option<&'a Descriptor> {
    index
        .manifests()
        .iter()
        .find(|d| d.platform().as_ref().is_some_and(|p| want.matches(p)))
}

/// The platforms an index offers, for an error message.
pub fn offered(index: &ImageIndex) -> String {
    let mut v: Vec<String> = index
        .manifests()
        .iter()
        .filter_map(|d| d.platform().as_ref())
        .map(|p| {
            let mut s = format!("{}/{}", p.os(), p.architecture());
            if let Some(v) = p.variant() {
                s = format!("{s}/{v}");
            }
            s
        })
        .collect();
    v.dedup();
    v.join(", ")
}

/// A descriptor's digest, sha256 only.
pub fn digest_of(d: &Descriptor) -> Result<Digest, ManifestError> {
    d.digest()
        .as_ref()
        .parse()
        .map_err(|source| ManifestError::Digest {
            digest: d.digest().to_string(),
            source,
        })
}

/// Check that a manifest is a container image cairn can unpack; its
/// config and layer digests.
pub fn image_parts(m: &ImageManifest) -> Result<(Digest, Vec<Digest>), ManifestError> {
    let cfg = m.config().media_type().to_string();
    if !IMAGE_CONFIGS.contains(&cfg.as_str()) {
        return Err(ManifestError::Artifact(cfg));
    }
    let mut layers = Vec::new();
    for l in m.layers() {
        let t = l.media_type().to_string();
        if !LAYERS.contains(&t.as_str()) {
            return Err(ManifestError::LayerType {
                digest: l.digest().to_string(),
                media_type: t,
            });
        }
        layers.push(digest_of(l)?);
    }
    Ok((digest_of(m.config())?, layers))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn index() -> ImageIndex {
        let d = |os: &str, arch: &str, variant: Option<&str>, n: u8| {
            let mut p = json!({"os": os, "architecture": arch});
            if let Some(v) = variant {
                p["variant"] = json!(v);
            }
            json!({"mediaType": OCI_MANIFEST, "size": 1, "platform": p,
                   "digest": Digest::of(&[n]).to_string()})
        };
        serde_json::from_value(json!({"schemaVersion": 2, "manifests": [
            d("unknown", "unknown", None, 0),
            d("linux", "arm", Some("v6"), 1),
            d("linux", "arm", Some("v7"), 2),
            d("linux", "amd64", None, 3),
        ]}))
        .unwrap()
    }

    #[test]
    fn the_platform_asked_for_is_chosen() {
        let i = index();
        let pick = |s: &str| choose(&i, &Wanted::parse(s).unwrap()).map(|d| digest_of(d).unwrap());
        assert_eq!(pick("linux/amd64"), Some(Digest::of(&[3])));
        assert_eq!(pick("linux/arm/v7"), Some(Digest::of(&[2])));
        assert_eq!(
            pick("linux/arm"),
            Some(Digest::of(&[1])),
            "any variant, first wins"
        );
        assert_eq!(pick("linux/s390x"), None);
        assert_eq!(
            offered(&i),
            "unknown/unknown, linux/arm/v6, linux/arm/v7, linux/amd64"
        );
        for bad in ["linux", "linux/", "/amd64", "a/b/c/d"] {
            assert!(Wanted::parse(bad).is_none(), "{bad}");
        }
        assert_eq!(
            Wanted::parse("linux/arm/v7").unwrap().to_string(),
            "linux/arm/v7"
        );
    }

    #[test]
    fn documents_are_told_apart_by_type() {
        let m = json!({"schemaVersion": 2, "mediaType": DOCKER_MANIFEST,
            "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 1,
                       "digest": Digest::of(b"c").to_string()},
            "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": 1,
                        "digest": Digest::of(b"l").to_string()}]});
        let data = serde_json::to_vec(&m).unwrap();
        let Ok(Document::Manifest(parsed)) = classify(DOCKER_MANIFEST, &data) else {
            panic!("a schema2 manifest")
        };
        let (cfg, layers) = image_parts(&parsed).unwrap();
        assert_eq!((cfg, layers), (Digest::of(b"c"), vec![Digest::of(b"l")]));
        // no Content-Type: the document's own mediaType
        assert!(matches!(classify("", &data), Ok(Document::Manifest(_))));
        let idx = serde_json::to_vec(&index()).unwrap();
        assert!(matches!(classify(OCI_INDEX, &idx), Ok(Document::Index(_))));
        let e = classify(
            "application/vnd.docker.distribution.manifest.v1+prettyjws",
            b"{}",
        );
        assert!(matches!(e, Err(ManifestError::Schema1)));
        // an artifact is refused by its config type
        let mut art = m.clone();
        art["config"]["mediaType"] = json!("application/vnd.cncf.helm.config.v1+json");
        let art: ImageManifest = serde_json::from_value(art).unwrap();
        assert!(matches!(image_parts(&art), Err(ManifestError::Artifact(_))));
        let mut foreign = m;
        foreign["layers"][0]["mediaType"] =
            json!("application/vnd.docker.image.rootfs.foreign.diff.tar.gzip");
        let foreign: ImageManifest = serde_json::from_value(foreign).unwrap();
        assert!(matches!(
            image_parts(&foreign),
            Err(ManifestError::LayerType { .. })
        ));
    }
}
