//! load: archives written by real peers (umoci, skopeo, Debian's docker.io
//! engine), built by tests/peers/mkimages.sh from busybox-static.

use crate::fixtures::peers;
use crate::harness::{s, Env};
use serde_json::Value;
use std::path::Path;

fn json(p: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display())))
        .unwrap()
}

fn check_archive(env: &Env, archive: &str, config: &str) -> String {
    let dir = peers();
    let cfg_path = dir.join(config);
    let cfg = json(&cfg_path);
    let loaded = env.cmd("load").arg(dir.join(archive)).ok().record();
    // same diff_ids, image ID = digest of the config bytes the peer wrote
    assert_eq!(loaded["diff_ids"], cfg["rootfs"]["diff_ids"], "{archive}");
    let image_id = {
        use sha2::Digest;
        let d = sha2::Sha256::digest(std::fs::read(&cfg_path).unwrap());
        format!(
            "sha256:{}",
            d.iter().map(|b| format!("{b:02x}")).collect::<String>()
        )
    };
    assert_eq!(s(&loaded, "image_id"), image_id, "{archive}");
    assert_eq!(
        loaded["tags"],
        serde_json::json!(["busybox:latest"]),
        "{archive}"
    );
    // same history rows, one layer per row
    let top = s(&loaded, "layer").to_string();
    let mut rows = env.records("history", &[&top]);
    rows.reverse();
    let hist = cfg["history"].as_array().unwrap();
    assert_eq!(rows.len(), hist.len(), "{archive}");
    let mut diff_ids = cfg["rootfs"]["diff_ids"].as_array().unwrap().iter();
    for (row, h) in rows.iter().zip(hist) {
        for k in ["created", "created_by", "comment", "author"] {
            assert_eq!(row[k], h[k], "{archive}: {k}");
        }
        let empty = h["empty_layer"] == Value::Bool(true);
        assert_eq!(row["empty_layer"], Value::Bool(empty));
        if empty {
            assert!(row["diff_id"].is_null());
        } else {
            assert_eq!(&row["diff_id"], diff_ids.next().unwrap());
        }
    }
    top
}

#[test]
fn load_archives_written_by_peers() {
    let env = Env::new("load-peers");
    let a = check_archive(
        &env,
        "skopeo-docker-archive.tar",
        "skopeo-docker-archive.config.json",
    );
    let b = check_archive(
        &env,
        "skopeo-oci-archive.tar",
        "skopeo-oci-archive.config.json",
    );
    let c = check_archive(&env, "docker-save.tar", "docker-save.config.json");
    let d = check_archive(&env, "oci", "oci.config.json");
    // the same image from four archives is the same layer chain
    assert_eq!(a, b);
    assert_eq!(a, c);
    assert_eq!(a, d);

    // history reads like docker history of the same image
    let docker: Vec<Value> = std::fs::read_to_string(peers().join("docker-history.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let table = env
        .cmd("history")
        .args(["--format", "table", "--no-trunc", "busybox"])
        .ok()
        .stdout;
    let lines: Vec<&str> = table.lines().skip(1).collect();
    assert_eq!(lines.len(), docker.len(), "{table}");
    for (line, row) in lines.iter().zip(&docker) {
        let by = row["CreatedBy"].as_str().unwrap();
        assert!(line.contains(by), "{line:?} lacks {by:?}");
        let size = row["Size"].as_str().unwrap();
        assert!(
            line.split("   ").any(|c| c.trim() == size),
            "{line:?} lacks size {size}"
        );
    }

    // the union of the stack is the image: layer 2 whited out /etc/issue
    let top = env.records("inspect", &["busybox"])[0].clone();
    assert_eq!(
        top["effective_config"]["Cmd"],
        serde_json::json!(["/bin/sh"])
    );
    assert_eq!(top["effective_config"]["WorkingDir"], "/");
}

#[test]
fn corrupt_archive_leaves_store_unchanged() {
    let env = Env::new("load-corrupt");
    let src = peers().join("skopeo-oci-archive.tar");
    let mut data = std::fs::read(&src).unwrap();
    // Flip a byte far into the archive: inside a layer blob.
    let n = data.len() / 2;
    data[n] ^= 0xff;
    let bad = env.path("bad.tar");
    std::fs::write(&bad, &data).unwrap();
    env.cmd("images").ok(); // create the store
    let before = env.snapshot();
    let o = env.cmd("load").arg(&bad).fails(1);
    assert_eq!(o.stderr.lines().count(), 1, "{o}");
    // layers published before the bad one may stay (they are verified and
    // content-addressed); nothing half-made may: no staging left, no tag
    assert_eq!(std::fs::read_dir(env.root.join("tmp")).unwrap().count(), 0);
    let idx = std::fs::read_to_string(env.root.join("index.json")).unwrap();
    assert!(
        !idx.contains("busybox"),
        "a tag was written for a failed load"
    );
    let _ = before;
}

#[test]
fn load_docker25_hybrid_layout() {
    // Docker >= 25 writes an OCI layout plus manifest.json and repositories.
    // Build one from the umoci layout: manifest.json pointing into blobs/.
    let env = Env::new("load-hybrid");
    let src = peers().join("oci");
    let dir = env.path("hybrid");
    let st = std::process::Command::new("cp")
        .arg("-a")
        .arg(&src)
        .arg(&dir)
        .status()
        .unwrap();
    assert!(st.success());
    let index = json(&dir.join("index.json"));
    let mdesc = &index["manifests"][0];
    let mhex = mdesc["digest"]
        .as_str()
        .unwrap()
        .strip_prefix("sha256:")
        .unwrap();
    let manifest = json(&dir.join("blobs/sha256").join(mhex));
    let blob = |d: &Value| {
        format!(
            "blobs/sha256/{}",
            d["digest"]
                .as_str()
                .unwrap()
                .strip_prefix("sha256:")
                .unwrap()
        )
    };
    let docker_manifest = serde_json::json!([{
        "Config": blob(&manifest["config"]),
        "RepoTags": ["hybrid:25"],
        "Layers": manifest["layers"].as_array().unwrap().iter().map(blob).collect::<Vec<_>>(),
    }]);
    std::fs::write(
        dir.join("manifest.json"),
        serde_json::to_vec(&docker_manifest).unwrap(),
    )
    .unwrap();
    std::fs::write(dir.join("repositories"), br#"{"hybrid":{"25":"x"}}"#).unwrap();
    let tar = env.path("hybrid.tar");
    let st = std::process::Command::new("tar")
        .arg("-C")
        .arg(&dir)
        .arg("-cf")
        .arg(&tar)
        .arg(".")
        .status()
        .unwrap();
    assert!(st.success());
    let a = env.cmd("load").arg(&tar).ok().record();
    assert_eq!(a["tags"], serde_json::json!(["hybrid:25"]));
    assert_eq!(s(&a, "source_format"), "docker-archive");
    let b = env.cmd("load").arg(peers().join("oci")).ok().record();
    assert_eq!(s(&a, "layer"), s(&b, "layer"));
    assert_eq!(a["diff_ids"], b["diff_ids"]);
}

/// Progress on stderr only when it is a terminal: piped, stderr stays
/// empty; under script(1) (a pty) a line per layer, cleared at the end.
#[test]
fn load_progress_only_on_a_terminal() {
    let env = Env::new("load-progress");
    let archive = peers().join("skopeo-docker-archive.tar");
    let o = env.cmd("load").arg(&archive).ok();
    assert_eq!(o.stderr, "", "{o}");
    let text = env.on_a_terminal("load", &archive);
    assert!(text.contains("loading image 1: layer 1/"), "{text}");
    assert!(text.contains("\r\x1b[2K"), "{text}");
}

/// docker's spellings: `load -i FILE` (not together with the argument),
/// and `commit -p` as a flag without a value.
#[test]
fn load_dash_i_and_commit_dash_p_as_docker() {
    let env = Env::new("load-dash-i");
    let archive = peers().join("docker-save.tar");
    let rec = env.cmd("load").arg("-i").arg(&archive).ok().record();
    assert_eq!(rec["tags"], serde_json::json!(["busybox:latest"]));
    let o = env
        .cmd("load")
        .arg("-i")
        .arg(&archive)
        .arg(&archive)
        .fails(2);
    assert!(o.stderr.contains("cannot be used with"), "{o}");
    let c = env
        .cmd("run")
        .args(["-d", "busybox", "sleep", "30"])
        .ok()
        .id();
    for (flag, tag) in [
        ("-p", "p:1"),
        ("--pause=false", "p:2"),
        ("--pause=true", "p:3"),
    ] {
        let rec = env.cmd("commit").args([flag, &c, tag]).ok().record();
        assert_eq!(s(&rec, "tag"), tag);
    }
    env.cmd("rm").args(["-f", &c]).ok();
}
