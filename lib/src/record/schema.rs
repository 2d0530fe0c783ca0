//! JSON Schema for the record kinds, generated from their types.
//!
//! The schemas are committed as `docs/<kind>.schema.json`; a test in the
//! project fails when they differ from what [`schemas`] renders. The ID
//! types and the container status get their schemas here, beside the
//! records that use them.

use super::inspect::{ContainerInspect, ImageInspect};
use super::kinds::{
    ContainerRecord, FindingRecord, ImageRecord, Kind, LayerRecord, NetworkRecord, VolumeRecord,
};
use crate::digest::{ContainerId, Digest, LayerId};
use crate::store::container::Status;
use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use std::borrow::Cow;

impl JsonSchema for Digest {
    fn schema_name() -> Cow<'static, str> {
        "Digest".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A sha256 digest: `sha256:` and 64 lowercase hex digits.",
            "type": "string",
            "pattern": "^sha256:[0-9a-f]{64}$"
        })
    }
}

impl JsonSchema for LayerId {
    fn schema_name() -> Cow<'static, str> {
        "LayerId".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A layer ID: the sha256 digest of the layer's canonical metadata JSON.",
            "type": "string",
            "pattern": "^sha256:[0-9a-f]{64}$"
        })
    }
}

impl JsonSchema for ContainerId {
    fn schema_name() -> Cow<'static, str> {
        "ContainerId".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A container ID: 64 lowercase hex digits (random, so no `sha256:` prefix).",
            "type": "string",
            "pattern": "^[0-9a-f]{64}$"
        })
    }
}

impl JsonSchema for Status {
    fn schema_name() -> Cow<'static, str> {
        "Status".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A container's status.",
            "type": "string",
            "enum": ["created", "running", "paused", "restarting", "exited"]
        })
    }
}

fn render<K: Kind>() -> (String, String) {
    let schema = schemars::schema_for!(K);
    let mut text = serde_json::to_string_pretty(&schema).expect("a schema serializes");
    text.push('\n');
    (format!("{}.schema.json", K::NAME), text)
}

/// Every record kind's schema, and the inspect documents': (file name,
/// JSON text).
pub fn schemas() -> Vec<(String, String)> {
    vec![
        render::<LayerRecord>(),
        render::<ImageRecord>(),
        render::<ContainerRecord>(),
        render::<VolumeRecord>(),
        render::<NetworkRecord>(),
        render::<FindingRecord>(),
        render::<ImageInspect>(),
        render::<ContainerInspect>(),
    ]
}
