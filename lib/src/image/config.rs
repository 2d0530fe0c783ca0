//! An image's documents for a layer chain: its OCI config (the document
//! whose digest is the image ID), its manifest and its platform. The
//! runtime config inside the config document (`Cmd`, `Env`, …) is
//! [`super::runtime_config`]'s. Tagging an image writes these documents
//! and points the tag at the manifest.

use super::runtime_config::effective_config;
use crate::digest::{Digest, LayerId};
use crate::json::canonical;
use crate::reference::Reference;
use crate::store::meta::LayerMeta;
use crate::store::{refs, Result, Store, StoreError};
use oci_spec::image::{
    Arch, Descriptor, History, ImageManifest, ImageManifestBuilder, MediaType, Os, Platform,
    PlatformBuilder, RootFs,
};
use serde_json::{json, Map, Value};

/// The OCI form of a digest.
pub fn oci_digest(d: &Digest) -> oci_spec::image::Digest {
    d.to_string()
        .parse()
        .expect("a sha256 digest is a valid OCI digest")
}

/// A descriptor of the blob `digest` of `size` bytes.
pub fn descriptor(media_type: MediaType, digest: &Digest, size: u64) -> Descriptor {
    Descriptor::new(media_type, size, oci_digest(digest))
}

/// The OCI manifest of a config and its layers (bottom first).
pub fn manifest(config: Descriptor, layers: Vec<Descriptor>) -> ImageManifest {
    ImageManifestBuilder::default()
        .schema_version(2u32)
        .media_type(MediaType::ImageManifest)
        .config(config)
        .layers(layers)
        .build()
        .expect("every required field is set")
}

/// The platform of this machine, as OCI names it.
pub fn host_platform() -> Platform {
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" => "ppc64le",
        other => other,
    };
    PlatformBuilder::default()
        .architecture(Arch::from(arch))
        .os(Os::Linux)
        .build()
        .expect("architecture and os are set")
}

pub fn effective_platform(chain: &[(LayerId, LayerMeta)]) -> Value {
    chain
        .iter()
        .find_map(|(_, m)| m.platform.clone())
        .unwrap_or_else(|| serde_json::to_value(host_platform()).expect("a platform serialises"))
}

/// An image's config and manifest, as bytes and digests.
#[derive(Debug, Clone)]
pub struct Documents {
    pub config: Vec<u8>,
    pub config_digest: Digest,
    pub manifest: Vec<u8>,
    pub manifest_digest: Digest,
    pub platform: Value,
    /// The diff IDs, bottom first.
    pub diff_ids: Vec<Digest>,
}

/// The OCI config of the image whose top is `top`: the original bytes when
/// the image came in unchanged, else generated canonically from the chain
/// (history and rootfs through OCI's types; the platform and the runtime
/// config as stored, so docker's extra keys stay).
pub fn config_bytes(store: &Store, chain: &[(LayerId, LayerMeta)]) -> Result<Vec<u8>> {
    let (_, top) = chain.first().ok_or(StoreError::EmptyChain)?;
    if let Some(d) = &top.image_config {
        if store.has_blob(d) {
            return store.read_blob(d);
        }
    }
    let bottom_first: Vec<&LayerMeta> = chain.iter().rev().map(|(_, m)| m).collect();
    let diff_ids: Vec<String> = bottom_first
        .iter()
        .filter_map(|m| m.diff_id.map(|d| d.to_string()))
        .collect();
    let history: Vec<History> = bottom_first
        .iter()
        .map(|m| {
            let mut h = History::default();
            h.set_created(m.created.clone());
            h.set_created_by(m.created_by.clone());
            h.set_author(m.author.clone());
            h.set_comment(m.comment.clone());
            h.set_empty_layer(m.is_empty_layer().then_some(true));
            h
        })
        .collect();
    let mut rootfs = RootFs::default();
    rootfs.set_diff_ids(diff_ids);
    let platform = effective_platform(chain);
    let mut cfg = Map::new();
    if let Value::Object(p) = &platform {
        for (k, v) in p {
            cfg.insert(k.clone(), v.clone());
        }
    }
    if let Some(c) = chain.iter().find_map(|(_, m)| m.created.clone()) {
        cfg.insert("created".into(), json!(c));
    }
    if let Some(a) = &top.author {
        cfg.insert("author".into(), json!(a));
    }
    cfg.insert("config".into(), effective_config(chain));
    cfg.insert("rootfs".into(), typed(&rootfs));
    cfg.insert("history".into(), typed(&history));
    Ok(canonical(&Value::Object(cfg)))
}

fn typed<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).expect("an OCI type serialises")
}

/// The image ID of the image whose top is `top`: its config's digest, as
/// docker names images. Nothing is written.
pub fn image_id(store: &Store, top: &LayerId) -> Result<Digest> {
    Ok(Digest::of(&config_bytes(store, &store.chain(top)?)?))
}

/// The image `name` names: a tag, a layer ID or a unique prefix of one
/// (as [`Store::resolve`] reads them), or docker's image ID, the digest of
/// the image's config, whole or a unique prefix of at least 4 hex digits,
/// so the IDs `images` shows and `load` and `tag` print work everywhere.
/// A prefix that names two different images is ambiguous, whichever kind
/// of ID each matched. Image IDs are read from the store's index of them
/// ([`super::ids`]), so a prefix costs no config generation per layer.
pub fn resolve(store: &Store, name: &str) -> Result<LayerId> {
    let hex = name.strip_prefix("sha256:").unwrap_or(name);
    let is_hex = (4..=64).contains(&hex.len())
        && hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    let by_store = store.resolve(name);
    if !is_hex || is_tag(store, name)? || (hex.len() == 64 && by_store.is_ok()) {
        return by_store;
    }
    let mut tops = match by_store {
        Ok(id) => vec![id],
        Err(StoreError::NotFound(_)) => vec![],
        Err(e) => return Err(e),
    };
    for (id, image) in super::ids::all(store)? {
        if !tops.contains(&id) && image.hex().starts_with(hex) {
            tops.push(id);
        }
    }
    match tops.len() {
        0 => Err(StoreError::NotFound(name.to_string())),
        1 => Ok(tops[0]),
        count => Err(StoreError::Ambiguous {
            name: name.to_string(),
            count,
        }),
    }
}

fn is_tag(store: &Store, name: &str) -> Result<bool> {
    Ok(match Reference::parse(name) {
        Ok(r) => refs::find(store, &r.familiar())?.is_some(),
        Err(_) => false,
    })
}

/// Config and manifest for the image whose top is `top`, written to the
/// store's blobs.
pub fn write_documents(store: &Store, top: &LayerId) -> Result<Documents> {
    let chain = store.chain(top)?;
    let config = config_bytes(store, &chain)?;
    // Layer blobs first: one that cannot be rebuilt stops the build before
    // anything is written.
    let mut layers = Vec::new();
    let mut diff_ids = Vec::new();
    for (id, m) in chain.iter().rev() {
        let Some(diff_id) = m.diff_id else { continue };
        let (blob, _) = store.layer_blob(id)?.ok_or(StoreError::NoBlob(*id))?;
        layers.push(descriptor(
            MediaType::from(blob.media_type.as_str()),
            &blob.digest,
            blob.size,
        ));
        diff_ids.push(diff_id);
    }
    let config_digest = store.put_blob(&config)?;
    let manifest = canonical(&manifest(
        descriptor(MediaType::ImageConfig, &config_digest, config.len() as u64),
        layers,
    ));
    let manifest_digest = store.put_blob(&manifest)?;
    Ok(Documents {
        config,
        config_digest,
        manifest,
        manifest_digest,
        platform: effective_platform(&chain),
        diff_ids,
    })
}

/// Tag the image whose top is `top` as `reference` in the store's index.
pub fn tag(store: &Store, reference: &Reference, top: &LayerId) -> Result<Documents> {
    let docs = write_documents(store, top)?;
    refs::set(
        store,
        reference,
        top,
        &docs.manifest_digest,
        docs.manifest.len() as u64,
        Some(&docs.platform),
    )?;
    Ok(docs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::ingest::empty_layer;
    use crate::testutil::{layer, store, tar_of};

    fn meta(parent: Option<LayerId>, by: &str) -> LayerMeta {
        LayerMeta {
            parent,
            created_by: Some(by.into()),
            created: Some("2024-01-01T00:00:00Z".into()),
            ..Default::default()
        }
    }

    #[test]
    fn the_nearest_config_and_platform_win() {
        let m = |config: Option<Value>, platform: Option<Value>| {
            (
                LayerId(Digest::of(b"x")),
                LayerMeta {
                    config,
                    platform,
                    ..Default::default()
                },
            )
        };
        let chain = vec![
            m(None, None),
            m(Some(json!({"Cmd": ["top"]})), None),
            m(
                Some(json!({"Cmd": ["base"]})),
                Some(json!({"os": "linux", "architecture": "arm64"})),
            ),
        ];
        assert_eq!(effective_config(&chain), json!({"Cmd": ["top"]}));
        assert_eq!(effective_platform(&chain)["architecture"], "arm64");
        assert_eq!(effective_config(&chain[..1]), json!({}));
        assert_eq!(
            effective_platform(&[]),
            serde_json::to_value(host_platform()).unwrap()
        );
        assert_eq!(effective_platform(&[])["os"], "linux");
        if cfg!(target_arch = "x86_64") {
            assert_eq!(effective_platform(&[])["architecture"], "amd64");
        }
    }

    #[test]
    fn a_generated_config_describes_the_chain_canonically() {
        let (_d, s) = store("config-gen");
        let (base, base_diff) = layer(&s, None, &tar_of(&[("a", b"1")]));
        let mut m = meta(Some(base), "CMD [\"sh\"]");
        m.config = Some(json!({"Cmd": ["sh"]}));
        m.author = Some("me".into());
        let top = empty_layer(&s, m).unwrap();
        let chain = s.chain(&top).unwrap();
        let bytes = config_bytes(&s, &chain).unwrap();
        let cfg: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(bytes, crate::json::canonical(&cfg), "canonical bytes");
        assert_eq!(
            cfg["rootfs"],
            json!({"type": "layers", "diff_ids": [base_diff.to_string()]})
        );
        assert_eq!(
            cfg["history"][1],
            json!({"created": "2024-01-01T00:00:00Z", "created_by": "CMD [\"sh\"]", "author": "me", "empty_layer": true})
        );
        assert!(cfg["history"][0].get("empty_layer").is_none());
        assert_eq!(cfg["config"], json!({"Cmd": ["sh"]}));
        assert_eq!(cfg["author"], "me");
        assert_eq!(cfg["os"], "linux");
        assert!(config_bytes(&s, &[]).is_err());
    }

    #[test]
    fn images_are_named_by_image_id_layer_id_prefix_or_tag() {
        let (_d, s) = store("config-resolve");
        let (base, _) = layer(&s, None, &tar_of(&[("a", b"1")]));
        let top = empty_layer(&s, meta(Some(base), "CMD [\"sh\"]")).unwrap();
        tag(&s, &Reference::parse("app:1").unwrap(), &top).unwrap();
        let id = image_id(&s, &top).unwrap();
        for name in [
            id.to_string(),
            id.hex(),
            id.hex()[..12].to_string(),
            top.to_string(),
            top.hex()[..12].to_string(),
            "app:1".to_string(),
        ] {
            assert_eq!(resolve(&s, &name).unwrap(), top, "{name}");
        }
        assert_eq!(
            resolve(&s, &image_id(&s, &base).unwrap().hex()[..12]).unwrap(),
            base
        );
        assert!(matches!(
            resolve(&s, "nope:1"),
            Err(StoreError::NotFound(_))
        ));
        let none = Digest::of(b"none");
        assert!(matches!(
            resolve(&s, &none.to_string()),
            Err(StoreError::NotFound(_))
        ));
    }

    /// A store of 500 images (50 chains of 10 layers): an image ID
    /// prefix resolves from the index, generating no config. With every
    /// other layer's metadata gone, generating any would fail.
    #[test]
    fn an_image_id_prefix_resolves_from_the_index_among_many_images() {
        let (_d, s) = store("config-many");
        let mut tops = Vec::new();
        for chain in 0..50 {
            let mut parent = None;
            for step in 0..10 {
                let by = format!("RUN step {chain}.{step}");
                parent = Some(empty_layer(&s, meta(parent, &by)).unwrap());
            }
            tops.push(parent.unwrap());
        }
        crate::image::ids::note(&s);
        let (want, far) = (tops[42], tops[7]);
        let keep: Vec<LayerId> = s.chain(&want).unwrap().iter().map(|(l, _)| *l).collect();
        let id = image_id(&s, &want).unwrap();
        let far_id = image_id(&s, &far).unwrap();
        for l in s.layers().unwrap() {
            if !keep.contains(&l) {
                std::fs::remove_file(s.layer_dir(&l).join("layer.json")).unwrap();
            }
        }
        assert!(image_id(&s, &far).is_err());
        assert_eq!(resolve(&s, &id.hex()[..12]).unwrap(), want);
        assert_eq!(resolve(&s, &id.to_string()).unwrap(), want);
        assert_eq!(resolve(&s, &far_id.hex()[..16]).unwrap(), far);
    }

    #[test]
    fn original_config_bytes_are_kept_while_their_blob_is_there() {
        let (_d, s) = store("config-orig");
        let original = br#"{ "rootfs": {"type": "layers", "diff_ids": []}, "odd spacing": true }"#;
        let digest = s.put_blob(original).unwrap();
        let m = LayerMeta {
            image_config: Some(digest),
            ..meta(None, "x")
        };
        let top = empty_layer(&s, m).unwrap();
        let chain = s.chain(&top).unwrap();
        assert_eq!(config_bytes(&s, &chain).unwrap(), original);
        std::fs::remove_file(s.blob_path(&digest)).unwrap();
        let generated = config_bytes(&s, &chain).unwrap();
        assert_ne!(generated, original);
        assert_eq!(
            generated,
            crate::json::canonical(&serde_json::from_slice::<Value>(&generated).unwrap())
        );
    }

    #[test]
    fn write_documents_writes_config_and_manifest_blobs_and_tag_points_at_them() {
        let (_d, s) = store("config-build");
        let (top, diff) = layer(&s, None, &tar_of(&[("a", b"1")]));
        let docs = tag(&s, &Reference::parse("x:1").unwrap(), &top).unwrap();
        assert_eq!(docs.diff_ids, vec![diff]);
        assert_eq!(s.read_blob(&docs.config_digest).unwrap(), docs.config);
        let manifest: Value =
            serde_json::from_slice(&s.read_blob(&docs.manifest_digest).unwrap()).unwrap();
        assert_eq!(manifest["config"]["digest"], docs.config_digest.to_string());
        assert_eq!(manifest["layers"].as_array().unwrap().len(), 1);
        let t = refs::find(&s, "x:1").unwrap().unwrap();
        assert_eq!(t.layer, top);
        assert_eq!(t.descriptor["digest"], docs.manifest_digest.to_string());
        // the same image twice: the same digests
        assert_eq!(
            write_documents(&s, &top).unwrap().manifest_digest,
            docs.manifest_digest
        );
    }
}
