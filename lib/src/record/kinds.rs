//! The record kinds: one struct per kind, naming every field a tool writes.
//!
//! A struct describes the fields its tools set; it is not the whole record.
//! A tool writes its struct *over* the record it was given
//! ([`Kind::over`]): its fields replace upstream ones of the same name,
//! every other upstream field passes through untouched. So a record on a
//! pipe is one of these kinds plus whatever came before it, and the
//! schemas allow unknown fields.
//!
//! Field presence is part of the protocol. A plain `Option` field is
//! absent when `None`; a [`Nullable`] field is absent when the tool does not
//! set it and `null` when it sets it to "unknown" (as `history` writes
//! `"created": null` for a layer with no creation time).

use super::Record;
use crate::digest::{ContainerId, Digest, LayerId};
use crate::store::container::{State, Status};
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};
use std::path::PathBuf;

/// A field a tool may leave out (`None`), set (`Some(Some(v))`) or set to
/// `null` (`Some(None)`).
pub type Nullable<T> = Option<Option<T>>;

/// Reads a present field (even `null`) as `Some`, so that `null` and
/// absent stay apart.
fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Nullable<T>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// A record kind: its name (the schema file is `docs/<NAME>.schema.json`),
/// the field that names its subject, and how it is written over an
/// upstream record.
///
/// The inspect documents are kinds too: they have a schema, a subject and
/// upstream fields, though their shape is the store's, not the protocol's.
pub trait Kind: Serialize + DeserializeOwned + JsonSchema {
    /// The kind's name: `layer`, `image`, `container`, …
    const NAME: &'static str;
    /// The field that names the record's subject: `layer` or `container`.
    const SUBJECT: &'static str;

    /// The bare ID `--format id` prints for this record (empty when it has
    /// none).
    fn id(&self) -> String;

    /// The upstream fields carried through.
    fn extra_mut(&mut self) -> &mut Record;

    /// This record over `upstream` (another record, typed or not; `None`
    /// or `null` for none): every upstream field passes through except
    /// those this record sets, which it replaces.
    fn over(mut self, upstream: impl Serialize) -> Self {
        let mut up = match serde_json::to_value(upstream) {
            Ok(serde_json::Value::Object(m)) => m,
            Ok(serde_json::Value::Null) => Record::new(),
            // Records are structs and maps: they serialize to objects.
            other => unreachable!("upstream of a {} record: {other:?}", Self::NAME),
        };
        let own = self.to_record();
        up.retain(|k, _| !own.contains_key(k));
        self.extra_mut().extend(up);
        self
    }

    /// The record as a JSON object, its keys in sorted order.
    fn to_record(&self) -> Record {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(fields)) => fields,
            // A struct of strings, numbers and IDs always serializes to an object.
            other => unreachable!("record kind {} serialized as {other:?}", Self::NAME),
        }
    }
}

/// A layer: what `layer-unpack` and `commit` make and what `history`
/// lists, one record per layer.
///
/// Written by `cairn layer-unpack`, `cairn commit` and `cairn history`.
/// Read (its `layer`) by every tool that takes an image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "cairn layer record", extend("additionalProperties" = true))]
pub struct LayerRecord {
    /// The layer ID: the digest of the layer's canonical metadata. For an
    /// image, its top layer.
    pub layer: LayerId,
    /// The layer below, or `null` at the bottom of a stack.
    pub parent: Option<LayerId>,
    /// Digest of the uncompressed changeset tar; `null` for an empty layer
    /// (one that changes only metadata).
    pub diff_id: Option<Digest>,
    /// Bytes of file data in the changeset (docker's layer SIZE).
    pub size: u64,
    /// `layer-unpack`: digest of the changeset blob as it was received
    /// (compressed or not).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blob: Option<Digest>,
    /// `layer-unpack`: the OCI media type of that blob.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// `history`: when the layer was made (RFC 3339), `null` if unknown.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "nullable"
    )]
    pub created: Nullable<String>,
    /// `history`: the command that made the layer, `null` if unknown.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "nullable"
    )]
    pub created_by: Nullable<String>,
    /// `history`: who made the layer, `null` if unknown.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "nullable"
    )]
    pub author: Nullable<String>,
    /// `history`: the layer's comment (`commit -m`), `null` if none.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "nullable"
    )]
    pub comment: Nullable<String>,
    /// `history`: true for a layer that changes only metadata (no
    /// changeset), as OCI history's `empty_layer`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub empty_layer: Option<bool>,
    /// `commit`: the container whose read-write layer became this layer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<ContainerId>,
    /// `commit --tag`: the tag (`name:tag`) now pointing at the layer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// Every other field of the record, carried through from upstream.
    #[serde(flatten)]
    pub extra: Record,
}

impl LayerRecord {
    /// A record of `layer` with only the fields every layer record has.
    pub fn new(
        layer: LayerId,
        parent: Option<LayerId>,
        diff_id: Option<Digest>,
        size: u64,
    ) -> LayerRecord {
        LayerRecord {
            layer,
            parent,
            diff_id,
            size,
            blob: None,
            media_type: None,
            created: None,
            created_by: None,
            author: None,
            comment: None,
            empty_layer: None,
            container: None,
            tag: None,
            extra: Record::new(),
        }
    }
}

impl Kind for LayerRecord {
    const NAME: &'static str = "layer";
    const SUBJECT: &'static str = "layer";
    fn id(&self) -> String {
        self.layer.to_string()
    }
    fn extra_mut(&mut self) -> &mut Record {
        &mut self.extra
    }
}

/// An image: a named (or nameable) top layer, as the image tools see it.
///
/// Written by `cairn load`, `cairn save -o`, `cairn build`, `cairn tag`
/// (and `tag -d`), `cairn images` and `cairn rmi`. Each sets the fields
/// named for it below. Read (its `layer`, and for `save` its `tag` and
/// `tags`) by the tools that take an image.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "cairn image record", extend("additionalProperties" = true))]
pub struct ImageRecord {
    /// The image's top layer. Absent only in the `rmi` record of a removed
    /// tag when the image was named by argument.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer: Option<LayerId>,
    /// `load`, `pull`, `save`, `tag`, `images`: the digest of the image's OCI
    /// config (the image ID other engines show, and `images` shows).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_id: Option<Digest>,
    /// `tag`, `pull`: the tag made; `images`: the tag part of this row's name
    /// (`<none>` for an untagged layer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// `load`, `save`, `build`: the `name:tag`s given to the image;
    /// `images`: every tag pointing at the layer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
    /// `images`: the repository part of this row's name (`<none>` for an
    /// untagged layer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    /// `images`: when the image was made (RFC 3339), `null` if unknown.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "nullable"
    )]
    pub created: Nullable<String>,
    /// `images`: bytes of file data in the whole stack (docker's virtual
    /// size).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// `load`, `pull`: the diff IDs of the image's layers, bottom first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diff_ids: Option<Vec<Digest>>,
    /// `load`, `pull`: how many layers the image has.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layers: Option<usize>,
    /// `load`: the archive format it came from (`docker-archive`, `oci`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_format: Option<String>,
    /// `save -o`, `pull`: the digest of the image's manifest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifest: Option<Digest>,
    /// `pull`: the digest the reference resolved to in the registry (an
    /// index's for a multi-platform image, else the manifest's), so that
    /// `NAME@DIGEST` names the same content again; `push`: the digest of
    /// the manifest put.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<Digest>,
    /// `push`: the registry reference pushed to (`HOST/NAME:TAG`).
    #[serde(rename = "ref", default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// `save -o`: the archive written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archive: Option<PathBuf>,
    /// `build`: the Dockerfile steps run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub steps: Option<usize>,
    /// `build`: how many of them came from the build cache.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cached: Option<usize>,
    /// `tag -d`, `rmi`: a tag that was removed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub untagged: Option<String>,
    /// `rmi`: a layer that was deleted (also its `layer`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted: Option<LayerId>,
    /// `image prune`, `system prune`: bytes of disk the deleted layer
    /// freed (its directory, and its changeset blob when that went too).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reclaimed_bytes: Option<u64>,
    /// Every other field of the record, carried through from upstream.
    #[serde(flatten)]
    pub extra: Record,
}

impl ImageRecord {
    /// The names this record gives its layer: its `tag`, then its `tags`.
    pub fn names(&self) -> Vec<&str> {
        let tags = self.tags.iter().flatten();
        self.tag.iter().chain(tags).map(String::as_str).collect()
    }
}

impl Kind for ImageRecord {
    const NAME: &'static str = "image";
    const SUBJECT: &'static str = "layer";
    fn id(&self) -> String {
        self.layer.map(|l| l.to_string()).unwrap_or_default()
    }
    fn extra_mut(&mut self) -> &mut Record {
        &mut self.extra
    }
}

/// A container: a read-write layer on an image, and what runs in it.
///
/// Written by `cairn union-mount` (and `create`), `cairn isolate` (and
/// `run -d`), `cairn ps`, `cairn start`, `cairn stop`, `cairn wait`, `cairn
/// kill`, `cairn pause`, `cairn unpause` and `cairn rm`. Read (its `container`) by every tool that takes a
/// container.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "cairn container record", extend("additionalProperties" = true))]
pub struct ContainerRecord {
    /// The container ID: 64 hex digits, no `sha256:` prefix.
    pub container: ContainerId,
    /// `union-mount`, `ps`: the container's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `ps`: the image as the person named it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// `union-mount`, `ps`: the image's top layer, below the container's
    /// read-write layer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer: Option<LayerId>,
    /// `union-mount` (unless `--no-mount`): where the union view is
    /// mounted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rootfs: Option<PathBuf>,
    /// `union-mount --unmount` (false), `ps`: whether the union view is mounted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mounted: Option<bool>,
    /// `ps`: the command line the container runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<Vec<String>>,
    /// `ps`: when the container was made (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// `isolate`, `ps`, `start`, `stop`, `wait`, `pause`, `unpause`: the
    /// container's status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
    /// `isolate`, `ps`, `start`, `stop`, `wait`: the exit status of the container's init
    /// (128+N when signal N killed it), `null` while it has none.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "nullable"
    )]
    pub exit_code: Nullable<i32>,
    /// `isolate`: present (true) only when the kernel's OOM killer killed a
    /// process of the container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oom_killed: Option<bool>,
    /// `isolate -d`, `ps`, `start`, `stop`, `wait`: the host pid of the container's init, `null`
    /// when it is not running.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "nullable"
    )]
    pub pid: Nullable<i32>,
    /// `ps`, `stop`, `wait`: when the container last started (RFC 3339),
    /// `null` if never.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "nullable"
    )]
    pub started_at: Nullable<String>,
    /// `ps`, `stop`, `wait`: when it last exited (RFC 3339), `null` if it
    /// has not.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "nullable"
    )]
    pub finished_at: Nullable<String>,
    /// `kill`: the signal sent (`SIGKILL`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signal: Option<String>,
    /// `rm`, `container prune`, `system prune`: true, the container is
    /// gone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub removed: Option<bool>,
    /// `container prune`, `system prune`: bytes of disk its removal freed
    /// (its read-write layer and its state).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reclaimed_bytes: Option<u64>,
    /// `port`: where its ports are published on the host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ports: Option<Vec<PublishedPort>>,
    /// Every other field of the record, carried through from upstream.
    #[serde(flatten)]
    pub extra: Record,
}

/// One published port of a container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PublishedPort {
    /// The container's side: `80/tcp`.
    pub container_port: String,
    /// The host address it is published on, `0.0.0.0` for every one.
    pub host_ip: String,
    pub host_port: u16,
}

impl ContainerRecord {
    /// A record of `container` with no other field set.
    pub fn new(container: ContainerId) -> ContainerRecord {
        ContainerRecord {
            container,
            name: None,
            image: None,
            layer: None,
            rootfs: None,
            mounted: None,
            command: None,
            created: None,
            status: None,
            exit_code: None,
            oom_killed: None,
            pid: None,
            started_at: None,
            finished_at: None,
            signal: None,
            removed: None,
            reclaimed_bytes: None,
            ports: None,
            extra: Record::new(),
        }
    }

    /// A record of `container` in state `st`: its status, exit code, pid
    /// (`null` unless it runs) and when it last started and exited, so
    /// that none of them stays stale from the upstream record.
    pub fn of_state(container: ContainerId, st: &State) -> ContainerRecord {
        let running = matches!(st.status, Status::Running | Status::Paused);
        ContainerRecord {
            status: Some(st.status),
            exit_code: Some(st.exit_code),
            pid: Some(if running { st.pid } else { None }),
            started_at: Some(st.started_at.clone()),
            finished_at: Some(st.finished_at.clone()),
            ..ContainerRecord::new(container)
        }
    }
}

impl Kind for ContainerRecord {
    const NAME: &'static str = "container";
    const SUBJECT: &'static str = "container";
    fn id(&self) -> String {
        self.container.to_string()
    }
    fn extra_mut(&mut self) -> &mut Record {
        &mut self.extra
    }
}

/// A volume. Written by `cairn volume` (create, ls, inspect, rm, prune).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "cairn volume record", extend("additionalProperties" = true))]
pub struct VolumeRecord {
    /// The volume's name (64 hex digits for an anonymous one).
    pub volume: String,
    /// `create`, `ls`, `inspect`: when it was made (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// `create`, `ls`, `inspect`: made for one container, removed with it
    /// by `rm -v`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anonymous: Option<bool>,
    /// `create`, `ls`, `inspect`: where its content is on the host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mountpoint: Option<PathBuf>,
    /// `inspect`: the containers that mount it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub containers: Option<Vec<ContainerId>>,
    /// `rm`, `prune`: it was removed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub removed: Option<bool>,
    /// Upstream fields, passed through.
    #[serde(flatten)]
    pub extra: Record,
}

impl Kind for VolumeRecord {
    const NAME: &'static str = "volume";
    const SUBJECT: &'static str = "volume";
    fn id(&self) -> String {
        self.volume.clone()
    }
    fn extra_mut(&mut self) -> &mut Record {
        &mut self.extra
    }
}

/// A network. Written by `cairn network` (create, ls, rm, prune).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "cairn network record", extend("additionalProperties" = true))]
pub struct NetworkRecord {
    /// The network's name.
    pub network: String,
    /// `create`, `ls`: its ID, 64 hex digits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `create`, `ls`: `bridge`, `host` or `null`, as docker names them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driver: Option<String>,
    /// `create`, `ls`: its bridge device.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bridge: Option<String>,
    /// `create`, `ls`: its IPv4 subnet (`10.89.0.0/16`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subnet: Option<String>,
    /// `create`, `ls`: the bridge's address, the containers' gateway.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway: Option<String>,
    /// `create`, `ls`: when it was made (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// `rm`, `prune`: it was removed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub removed: Option<bool>,
    /// Upstream fields, passed through.
    #[serde(flatten)]
    pub extra: Record,
}

impl NetworkRecord {
    /// The record of a network the store keeps.
    pub fn of(n: &crate::net::Network) -> NetworkRecord {
        let known = n.subnet.prefix != 0;
        NetworkRecord {
            network: n.name.clone(),
            id: Some(n.id.clone()),
            driver: Some("bridge".into()),
            bridge: Some(n.bridge.clone()),
            subnet: known.then(|| n.subnet.to_string()),
            gateway: known.then(|| n.subnet.gateway().to_string()),
            created: Some(n.created.clone()),
            ..Default::default()
        }
    }
}

impl Kind for NetworkRecord {
    const NAME: &'static str = "network";
    const SUBJECT: &'static str = "network";
    fn id(&self) -> String {
        self.network.clone()
    }
    fn extra_mut(&mut self) -> &mut Record {
        &mut self.extra
    }
}

/// A damaged object of the store. Written by `cairn fsck --format json`,
/// one record per damaged object, none on a sound store.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "cairn finding record", extend("additionalProperties" = true))]
pub struct FindingRecord {
    /// What the object is: `blob`, `layer`, `tag`, `container` or `index`.
    pub kind: String,
    /// The object's ID: a digest, a layer or container ID, a tag's name,
    /// or a file name for what has none.
    pub id: String,
    /// What is wrong, as a stable word: `content`, `name`, `missing`,
    /// `no_meta`, `meta_hash`, `unreadable`, `parent_missing`,
    /// `no_changeset`, `diff_id`, `rebuild`, `files`, `no_blob`,
    /// `layer_missing` or `image_id`.
    pub problem: String,
    /// What is wrong, in words for people (the text `fsck` prints after
    /// `KIND ID:`).
    pub detail: String,
    /// `--repair`: the object is mended or moved aside (`false`: still
    /// damaged).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repaired: Option<bool>,
    /// Upstream fields, passed through.
    #[serde(flatten)]
    pub extra: Record,
}

impl Kind for FindingRecord {
    const NAME: &'static str = "finding";
    const SUBJECT: &'static str = "id";
    fn id(&self) -> String {
        self.id.clone()
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
    fn over_replaces_own_fields_and_keeps_the_rest() {
        let id = ContainerId([7; 32]);
        let upstream: Record = serde_json::from_value(json!({
            "container": "old", "mine": [1], "exit_code": 3
        }))
        .unwrap();
        let rec = ContainerRecord {
            status: Some(Status::Exited),
            exit_code: Some(None),
            ..ContainerRecord::new(id)
        }
        .over(upstream);
        assert_eq!(
            serde_json::Value::Object(rec.to_record()),
            json!({"container": id.to_string(), "mine": [1], "status": "exited", "exit_code": null})
        );
    }

    #[test]
    fn null_and_absent_stay_apart() {
        let r: ContainerRecord =
            serde_json::from_value(json!({"container": "07".repeat(32), "pid": null})).unwrap();
        assert_eq!(r.pid, Some(None));
        assert_eq!(r.exit_code, None);
        assert_eq!(
            serde_json::to_value(&r).unwrap(),
            json!({"container": "07".repeat(32), "pid": null})
        );
    }

    #[test]
    fn unknown_fields_survive_a_typed_read() {
        let layer = format!("sha256:{}", "ab".repeat(32));
        let line = json!({"layer": layer, "mine": {"keep": [1]}, "tags": ["a:1"], "size": 5});
        let up: ImageRecord = serde_json::from_value(line.clone()).unwrap();
        assert_eq!(up.names(), ["a:1"]);
        assert_eq!(serde_json::to_value(&up).unwrap(), line);
        // carried into another kind: what the new record sets wins, the rest passes
        let rec = LayerRecord::new(up.layer.unwrap(), None, None, 9).over(Some(&up));
        let out = serde_json::Value::Object(rec.to_record());
        assert_eq!(out["size"], 9);
        assert_eq!(out["mine"], json!({"keep": [1]}));
        assert_eq!(out["tags"], json!(["a:1"]));
        assert_eq!(out["parent"], json!(null));
    }
}
