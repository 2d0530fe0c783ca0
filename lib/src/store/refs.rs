//! Tags, kept in the store's `index.json` so that the store is a valid OCI
//! image layout (skopeo and umoci can read `oci:$CAIRN_ROOT:busybox:latest`).
//!
//! Each tag is one manifest descriptor whose annotations are
//! `org.opencontainers.image.ref.name` (the familiar `name:tag`),
//! `io.containerd.image.name` (the full name) and `io.cairn.layer` (the
//! image's top layer ID).

use super::{write_atomic, IoContext, Result, Store, StoreError};
use crate::digest::{Digest, LayerId};
use serde_json::{json, Value};
use std::fs;

pub const ANNOTATION_REF_NAME: &str = "org.opencontainers.image.ref.name";
pub const ANNOTATION_CONTAINERD_NAME: &str = "io.containerd.image.name";
pub const ANNOTATION_LAYER: &str = "io.cairn.layer";

/// One tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ref {
    /// Familiar `name:tag`.
    pub name: String,
    pub layer: LayerId,
    /// The OCI manifest descriptor in index.json.
    pub descriptor: Value,
}

pub fn empty_index() -> Value {
    json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [],
    })
}

pub fn read_index(store: &Store) -> Result<Value> {
    let p = store.root().join("index.json");
    let data = fs::read(&p).at(&p)?;
    let v: Value = serde_json::from_slice(&data)
        .map_err(|e| StoreError::Invalid(format!("{}: {e}", p.display())))?;
    if !v.get("manifests").is_some_and(Value::is_array) {
        return Err(StoreError::Invalid(format!(
            "{}: no manifests array",
            p.display()
        )));
    }
    Ok(v)
}

pub fn write_index(store: &Store, index: &Value) -> Result<()> {
    let mut bytes = serde_json::to_vec_pretty(index).expect("index serialises");
    bytes.push(b'\n');
    write_atomic(&store.root().join("index.json"), &bytes)
}

fn parse(desc: &Value) -> Option<Ref> {
    let ann = desc.get("annotations")?;
    Some(Ref {
        name: ann.get(ANNOTATION_REF_NAME)?.as_str()?.to_string(),
        layer: ann.get(ANNOTATION_LAYER)?.as_str()?.parse().ok()?,
        descriptor: desc.clone(),
    })
}

/// Every tag, in index order.
pub fn list(store: &Store) -> Result<Vec<Ref>> {
    let idx = read_index(store)?;
    Ok(idx["manifests"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(parse)
        .collect())
}

pub fn find(store: &Store, familiar: &str) -> Result<Option<Ref>> {
    Ok(list(store)?.into_iter().find(|r| r.name == familiar))
}

/// Point tag `reference` at `layer`, whose image manifest is the blob
/// `manifest` (`size` bytes). Replaces the tag if it exists.
pub fn set(
    store: &Store,
    reference: &crate::image::reference::Reference,
    layer: &LayerId,
    manifest: &Digest,
    size: u64,
    platform: Option<&Value>,
) -> Result<()> {
    let _l = store.lock_exclusive("index")?;
    let mut idx = read_index(store)?;
    let name = reference.familiar();
    let list = idx["manifests"]
        .as_array_mut()
        .expect("checked by read_index");
    list.retain(|d| parse(d).is_none_or(|r| r.name != name));
    let mut desc = json!({
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": manifest.to_string(),
        "size": size,
        "annotations": {
            ANNOTATION_REF_NAME: name,
            ANNOTATION_CONTAINERD_NAME: reference.full(),
            ANNOTATION_LAYER: layer.to_string(),
        },
    });
    if let Some(p) = platform {
        desc["platform"] = p.clone();
    }
    list.push(desc);
    list.sort_by(|a, b| {
        let n = |d: &Value| {
            d["annotations"][ANNOTATION_REF_NAME]
                .as_str()
                .unwrap_or("")
                .to_string()
        };
        n(a).cmp(&n(b))
    });
    write_index(store, &idx)
}

/// Remove tag `familiar`; returns the layer it pointed at.
pub fn remove(store: &Store, familiar: &str) -> Result<Option<LayerId>> {
    let _l = store.lock_exclusive("index")?;
    let mut idx = read_index(store)?;
    let list = idx["manifests"]
        .as_array_mut()
        .expect("checked by read_index");
    let found = list
        .iter()
        .filter_map(parse)
        .find(|r| r.name == familiar)
        .map(|r| r.layer);
    if found.is_some() {
        list.retain(|d| parse(d).is_none_or(|r| r.name != familiar));
        write_index(store, &idx)?;
    }
    Ok(found)
}
