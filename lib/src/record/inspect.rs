//! The documents `cairn inspect` prints: a layer's or a container's stored
//! metadata and state, with the fields computed from the store.
//!
//! They are not records of the protocol (their shape follows the store's
//! files: `layers/<hex>/layer.json`, `containers/<id>/container.json` and
//! `state.json`, as `docs/store.md` describes them), but they are written
//! the same way: over the upstream record, with `layer` or `container` set,
//! so they still feed other tools; and each has a JSON Schema beside the
//! record kinds' (`docs/inspect-image.schema.json`,
//! `docs/inspect-container.schema.json`).

use super::kinds::Kind;
use super::Record;
use crate::digest::{ContainerId, LayerId};
use crate::net::NetworkSettings;
use crate::store::container::{ContainerMeta, State, Status};
use crate::store::meta::{BlobRef, LayerMeta};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::path::PathBuf;

/// What `cairn inspect` prints for an image: its top layer's metadata,
/// with the fields computed from the layer's stack.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(
    title = "cairn inspect document of an image",
    extend("additionalProperties" = true)
)]
pub struct ImageInspect {
    /// The layer inspected: the image's top layer.
    pub layer: LayerId,
    /// The layer's stored metadata (`layer.json`), whose digest is its ID.
    #[serde(flatten)]
    pub meta: LayerMeta,
    /// True for a layer that changes only metadata (no changeset).
    pub empty_layer: bool,
    /// Bytes of file data in the layer's changeset.
    pub size: u64,
    /// The changeset tar as it was received (or made), `null` for an empty
    /// layer.
    pub blob: Option<BlobRef>,
    /// How many layers the stack has, this one included.
    pub depth: usize,
    /// The runtime config in effect at this layer (docker keys: `Env`,
    /// `Cmd`, …): the nearest layer's own, or `{}`.
    #[schemars(with = "crate::store::schema::ConfigSchema")]
    pub effective_config: Value,
    /// Every tag pointing at the layer.
    pub tags: Vec<String>,
    /// The layer's directory in the store.
    pub path: PathBuf,
    /// Every other field of the record, carried through from upstream.
    #[serde(flatten)]
    pub extra: Record,
}

impl Kind for ImageInspect {
    const NAME: &'static str = "inspect-image";
    const SUBJECT: &'static str = "layer";
    fn id(&self) -> String {
        self.layer.to_string()
    }
    fn extra_mut(&mut self) -> &mut Record {
        &mut self.extra
    }
}

/// What `cairn inspect` prints for a container: what it is
/// (`container.json`), what it is doing (`state.json`) and where it lives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(
    title = "cairn inspect document of a container",
    extend("additionalProperties" = true)
)]
pub struct ContainerInspect {
    /// The container inspected (also its `id`).
    pub container: ContainerId,
    /// What the container is, as stored at its creation.
    #[serde(flatten)]
    pub meta: ContainerMeta,
    /// What it is doing, as stored and then checked against the host
    /// (a recorded process that is gone reads as exited).
    pub state: State,
    /// `state.status`, at the top level as the container records have it.
    pub status: Status,
    /// Whether the union view is mounted.
    pub mounted: bool,
    /// Where the union view is mounted (or would be).
    pub rootfs: PathBuf,
    /// The container's read-write layer.
    pub upper: PathBuf,
    /// The container's directory in the store.
    pub path: PathBuf,
    /// Its network, the way docker's inspect shows it (docker's keys):
    /// `IPAddress`, `Gateway`, `MacAddress` while it runs on a bridge
    /// network, and `Networks` by name.
    pub network_settings: NetworkSettings,
    /// Every other field of the record, carried through from upstream.
    #[serde(flatten)]
    pub extra: Record,
}

impl Kind for ContainerInspect {
    const NAME: &'static str = "inspect-container";
    const SUBJECT: &'static str = "container";
    fn id(&self) -> String {
        self.container.to_string()
    }
    fn extra_mut(&mut self) -> &mut Record {
        &mut self.extra
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn stored_fields_and_upstream_ones_stay_apart() {
        let layer = format!("sha256:{}", "ab".repeat(32));
        let doc = json!({
            "layer": layer, "parent": null, "diff_id": null, "created": "2024-01-01T00:00:00Z",
            "empty_layer": true, "size": 0, "blob": null, "depth": 1, "effective_config": {},
            "tags": [], "path": "/s/layers/ab", "mine": [1]
        });
        let read: ImageInspect = serde_json::from_value(doc.clone()).unwrap();
        assert_eq!(read.meta.created.as_deref(), Some("2024-01-01T00:00:00Z"));
        assert_eq!(read.extra.keys().collect::<Vec<_>>(), ["mine"]);
        assert_eq!(serde_json::Value::Object(read.to_record()), doc);
    }
}
