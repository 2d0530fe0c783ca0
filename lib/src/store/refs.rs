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
    let v: Value = serde_json::from_slice(&data).map_err(StoreError::json(&p))?;
    if !v.get("manifests").is_some_and(Value::is_array) {
        return Err(StoreError::BadIndex(p));
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
    reference: &crate::reference::Reference,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reference::Reference;
    use crate::testutil::store;

    fn r(s: &str) -> Reference {
        Reference::parse(s).unwrap()
    }

    fn id(n: u8) -> LayerId {
        LayerId(Digest::of(&[n]))
    }

    #[test]
    fn set_replaces_a_tag_and_keeps_the_index_sorted() {
        let (_d, s) = store("refs-set");
        let m = Digest::of(b"manifest");
        set(&s, &r("zeta"), &id(1), &m, 10, None).unwrap();
        set(
            &s,
            &r("alpha:2"),
            &id(2),
            &m,
            10,
            Some(&json!({"os": "linux"})),
        )
        .unwrap();
        set(
            &s,
            &r("docker.io/library/zeta:latest"),
            &id(3),
            &m,
            10,
            None,
        )
        .unwrap();
        let all = list(&s).unwrap();
        let names: Vec<&str> = all.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, vec!["alpha:2", "zeta:latest"]);
        assert_eq!(all[1].layer, id(3), "the second set replaced the tag");
        let d = &all[0].descriptor;
        assert_eq!(
            d["annotations"][ANNOTATION_CONTAINERD_NAME],
            "docker.io/library/alpha:2"
        );
        assert_eq!(d["platform"]["os"], "linux");
        assert_eq!(d["digest"], m.to_string());
        assert_eq!(find(&s, "zeta:latest").unwrap().unwrap().layer, id(3));
        assert!(
            find(&s, "zeta").unwrap().is_none(),
            "find takes the familiar form"
        );
    }

    #[test]
    fn remove_returns_the_layer_once() {
        let (_d, s) = store("refs-remove");
        let m = Digest::of(b"manifest");
        set(&s, &r("a"), &id(1), &m, 1, None).unwrap();
        set(&s, &r("b"), &id(1), &m, 1, None).unwrap();
        assert_eq!(remove(&s, "a:latest").unwrap(), Some(id(1)));
        assert_eq!(remove(&s, "a:latest").unwrap(), None);
        assert_eq!(list(&s).unwrap().len(), 1);
    }

    #[test]
    fn descriptors_without_cairn_annotations_are_kept_but_not_tags() {
        let (_d, s) = store("refs-foreign");
        let mut idx = empty_index();
        idx["manifests"] = json!([
            {"mediaType": "x", "digest": Digest::of(b"1").to_string(), "size": 1},
            {"annotations": {ANNOTATION_REF_NAME: "odd:1", ANNOTATION_LAYER: "not a digest"}},
            {"annotations": {ANNOTATION_REF_NAME: "ok:1", ANNOTATION_LAYER: id(7).to_string()}},
        ]);
        write_index(&s, &idx).unwrap();
        let tags = list(&s).unwrap();
        assert_eq!(tags.len(), 1);
        assert_eq!(tags[0].name, "ok:1");
        set(&s, &r("new"), &id(8), &Digest::of(b"m"), 1, None).unwrap();
        // the foreign descriptors survive an edit
        assert_eq!(
            read_index(&s).unwrap()["manifests"]
                .as_array()
                .unwrap()
                .len(),
            4
        );
    }

    #[test]
    fn a_damaged_index_is_an_error_not_an_empty_list() {
        let (_d, s) = store("refs-damaged");
        let p = s.root().join("index.json");
        for bad in [&b"not json"[..], b"{}", br#"{"manifests": {}}"#] {
            fs::write(&p, bad).unwrap();
            assert!(
                matches!(
                    list(&s),
                    Err(StoreError::Json { .. } | StoreError::BadIndex(_))
                ),
                "{bad:?}"
            );
            assert!(set(&s, &r("a"), &id(1), &Digest::of(b"m"), 1, None).is_err());
        }
    }
}
