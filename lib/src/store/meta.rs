//! Layer metadata: the canonical JSON whose digest is the layer ID, and the
//! sidecar facts about a layer that are not part of its identity.

use crate::digest::{Digest, LayerId};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What a layer *is*. Its canonical JSON (sorted keys, compact) is stored
/// as `layers/<hex>/layer.json`, and the sha256 of those bytes is the layer
/// ID, so an ID pins the whole stack below it, like a git commit.
///
/// Same changeset + same parent + same metadata = same ID.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LayerMeta {
    /// The layer below, or `None` at the bottom of a stack.
    pub parent: Option<LayerId>,
    /// Digest of the uncompressed changeset tar; `None` for an empty layer
    /// (one that changes only metadata, OCI history `empty_layer: true`).
    pub diff_id: Option<Digest>,
    /// When the layer was made (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// The command that made it (OCI history's `created_by`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    /// Who made it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// Its comment (`commit -m`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// The runtime config (OCI `config.config`: `Env`, `Cmd`, `Entrypoint`,
    /// `WorkingDir`, `User`, `Labels`, `ExposedPorts`, `Volumes`,
    /// `StopSignal`, …) of the image whose top is this layer. Layers above
    /// inherit it until one sets its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "super::schema::ConfigSchema")]
    pub config: Option<Value>,
    /// `{"architecture", "os", "variant"?}` of the image, where known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "super::schema::PlatformSchema")]
    pub platform: Option<Value>,
    /// The digest of the image config this layer tops, when it came from an
    /// archive (`load`): `save` writes those exact bytes again, so the image
    /// ID is the one other engines show.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_config: Option<Digest>,
}

impl LayerMeta {
    /// The canonical bytes, whose digest is the ID.
    pub fn canonical(&self) -> Vec<u8> {
        crate::json::canonical(self)
    }

    pub fn id(&self) -> LayerId {
        LayerId(Digest::of(&self.canonical()))
    }

    pub fn is_empty_layer(&self) -> bool {
        self.diff_id.is_none()
    }
}

/// How a layer's changeset blob is stored under `blobs/sha256/`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct BlobRef {
    pub digest: Digest,
    pub size: u64,
    pub media_type: String,
}

/// Facts about a layer that are not part of its identity
/// (`layers/<hex>/info.json`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerInfo {
    /// Bytes of file data in the changeset (docker's layer SIZE).
    pub size: u64,
    /// The changeset tar as it was received (or produced).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blob: Option<BlobRef>,
    /// For the top layer of an image: registry manifests known to name
    /// this image, oldest first (the ones it was pulled with and pushed
    /// as), so a push sends the same manifest again and can mount blobs
    /// from a repository that has them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remote: Vec<RemoteManifest>,
}

/// A manifest of an image as a registry has it. Its bytes are the blob
/// `manifest` of the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoteManifest {
    pub manifest: Digest,
    pub media_type: String,
    /// `HOST/REPOSITORY` that holds it, as the registry was addressed.
    pub repository: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_is_deterministic_and_covers_parent() {
        let a = LayerMeta {
            diff_id: Some(Digest::of(b"x")),
            ..Default::default()
        };
        assert_eq!(a.id(), a.clone().id());
        let b = LayerMeta {
            parent: Some(a.id()),
            ..a.clone()
        };
        assert_ne!(a.id(), b.id());
        // parent and diff_id are always present, even when null
        let s = String::from_utf8(LayerMeta::default().canonical()).unwrap();
        assert_eq!(s, r#"{"diff_id":null,"parent":null}"#);
    }
}
