//! docker-archive's `manifest.json`, the one image document with no OCI
//! type: a JSON array with one item per image.

use serde::{Deserialize, Serialize};

/// One image of a docker-archive `manifest.json`. Paths are relative to
/// the archive's root; other keys docker writes (`LayerSources`) are
/// ignored when read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ArchiveItem {
    /// The config file (its digest is the image ID).
    pub config: String,
    /// Familiar `name:tag`s; docker writes `null` for an untagged image.
    #[serde(default, deserialize_with = "null_is_empty")]
    pub repo_tags: Vec<String>,
    /// The layer files, bottom first, in the order of the config's
    /// `rootfs.diff_ids`.
    pub layers: Vec<String>,
}

fn null_is_empty<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(Option::<Vec<String>>::deserialize(d)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_docker_writes_and_writes_the_same_keys() {
        let items: Vec<ArchiveItem> = serde_json::from_str(
            r#"[{"Config":"c.json","RepoTags":null,"Layers":["l/layer.tar"],"LayerSources":{}},
                {"Config":"d.json","Layers":[]}]"#,
        )
        .unwrap();
        assert!(items[0].repo_tags.is_empty() && items[1].repo_tags.is_empty());
        assert_eq!(items[0].layers, ["l/layer.tar"]);
        let v = serde_json::to_value(&items[1]).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"Config": "d.json", "RepoTags": [], "Layers": []})
        );
        let e = serde_json::from_str::<Vec<ArchiveItem>>(r#"[{}]"#).unwrap_err();
        assert!(e.to_string().contains("missing field `Config`"), "{e}");
    }
}
