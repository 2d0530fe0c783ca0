//! save: the Docker >= 25 hybrid archive, checked byte for byte and by the
//! real peers: Debian's docker.io 20.10 engine (`docker load` + `docker
//! run`), skopeo (`docker-archive:` and `oci-archive:`), umoci, and the OCI
//! JSON schemas (Python's jsonschema).
//!
//! One private dockerd serves every test of a run (tests/peers/dockerd.sh
//! `serve`, which stops it when the test process is gone); the peer archives
//! come from tests/peers/mkimages.sh, built once.

use crate::fixtures::{docker, peers};
use crate::harness::{bin, busybox_image, s, Env, Record, TarBuilder};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const FILE: &str = "etc/cairn-save.txt";
const CONTENT: &str = "saved by cairn\n";

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Run a peer tool and expect success.
fn peer(cmd: &str, args: &[&str]) -> String {
    let o = Command::new(cmd)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("running {cmd}: {e}"));
    assert!(
        o.status.success(),
        "{cmd} {args:?} failed ({}):\n{}\n{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn skopeo(args: &[&str]) -> String {
    let mut a = vec!["--insecure-policy"];
    a.extend_from_slice(args);
    peer("skopeo", &a)
}

/// busybox:latest plus a layer with FILE, tagged `name`; returns the top.
fn image_with_file(env: &Env, name: &str, file: &str, content: &str) -> String {
    if !env.root.join("index.json").exists()
        || !std::fs::read_to_string(env.root.join("index.json"))
            .unwrap()
            .contains("busybox:latest")
    {
        busybox_image(env);
    }
    let tar = TarBuilder::new()
        .dir("etc", 0o755)
        .file(file, 0o644, content.as_bytes())
        .build();
    let r = env
        .cmd("layer-unpack")
        .args(["--parent", "busybox", "--created-by", "test: add a file"])
        .stdin(tar)
        .ok()
        .record();
    let top = s(&r, "layer").to_string();
    env.cmd("tag").args([&top, name]).ok();
    top
}

fn sha256(data: &[u8]) -> String {
    use sha2::Digest;
    let d = sha2::Sha256::digest(data);
    format!(
        "sha256:{}",
        d.iter().map(|b| format!("{b:02x}")).collect::<String>()
    )
}

/// `cairn save ARGS > stdout`, the bytes.
fn save_stdout(env: &Env, args: &[&str]) -> Vec<u8> {
    let o = Command::new(bin("save"))
        .args(args)
        .env("CAIRN_ROOT", &env.root)
        .current_dir(&env.dir)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "cairn save {args:?} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        o.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    o.stdout
}

/// `cairn save -o FILE ARGS`; returns the records.
fn save_file(env: &Env, file: &Path, args: &[&str]) -> Vec<Record> {
    env.cmd("save")
        .arg("-o")
        .arg(file)
        .args(args)
        .ok()
        .records()
}

/// One tar entry, as read back.
struct Item {
    path: String,
    kind: tar::EntryType,
    header: tar::Header,
    data: Vec<u8>,
}

fn read_tar(data: &[u8]) -> Vec<Item> {
    let mut a = tar::Archive::new(data);
    a.entries()
        .unwrap()
        .map(|e| {
            let mut e = e.unwrap();
            let mut data = Vec::new();
            std::io::Read::read_to_end(&mut e, &mut data).unwrap();
            Item {
                path: String::from_utf8(e.path_bytes().into_owned()).unwrap(),
                kind: e.header().entry_type(),
                header: e.header().clone(),
                data,
            }
        })
        .collect()
}

fn files(items: &[Item]) -> BTreeMap<String, Vec<u8>> {
    items
        .iter()
        .filter(|i| i.kind == tar::EntryType::Regular)
        .map(|i| (i.path.clone(), i.data.clone()))
        .collect()
}

fn json_of(files: &BTreeMap<String, Vec<u8>>, path: &str) -> Value {
    serde_json::from_slice(
        files
            .get(path)
            .unwrap_or_else(|| panic!("archive has no {path}")),
    )
    .unwrap()
}

fn blob<'a>(files: &'a BTreeMap<String, Vec<u8>>, digest: &str) -> &'a [u8] {
    let p = format!("blobs/sha256/{}", digest.strip_prefix("sha256:").unwrap());
    files
        .get(&p)
        .unwrap_or_else(|| panic!("archive has no {p}"))
}

/// Every structural promise of the hybrid layout, checked on the bytes.
fn check_layout(data: &[u8]) -> BTreeMap<String, Vec<u8>> {
    let items = read_tar(data);
    let paths: Vec<&str> = items.iter().map(|i| i.path.as_str()).collect();
    let mut sorted = paths.clone();
    sorted.sort();
    assert_eq!(paths, sorted, "entries are sorted");
    assert_eq!(&paths[..2], &["blobs/", "blobs/sha256/"]);
    for i in &items {
        let h = &i.header;
        assert_eq!(h.as_bytes()[257..263], *b"ustar\0", "{}: ustar", i.path);
        assert_eq!(h.mtime().unwrap(), 0, "{}", i.path);
        assert_eq!((h.uid().unwrap(), h.gid().unwrap()), (0, 0), "{}", i.path);
        let mode = h.mode().unwrap();
        match i.kind {
            tar::EntryType::Directory => assert_eq!(mode, 0o755, "{}", i.path),
            tar::EntryType::Regular => assert_eq!(mode, 0o644, "{}", i.path),
            k => panic!("{}: unexpected entry type {k:?}", i.path),
        }
    }
    let files = files(&items);
    for (p, d) in &files {
        if let Some(hex) = p.strip_prefix("blobs/sha256/") {
            assert_eq!(sha256(d), format!("sha256:{hex}"), "{p} matches its name");
        }
    }
    assert_eq!(
        json_of(&files, "oci-layout"),
        json!({"imageLayoutVersion": "1.0.0"})
    );
    let index = json_of(&files, "index.json");
    let manifest_json = json_of(&files, "manifest.json");
    let images = manifest_json.as_array().expect("manifest.json is an array");
    for item in images {
        let cfg = item["Config"].as_str().unwrap();
        assert!(cfg.starts_with("blobs/sha256/"), "{cfg}");
        assert!(files.contains_key(cfg), "{cfg}");
        for l in item["Layers"].as_array().unwrap() {
            let l = l.as_str().unwrap();
            assert!(
                l.starts_with("blobs/sha256/") && files.contains_key(l),
                "{l}"
            );
        }
        for t in item["RepoTags"].as_array().unwrap() {
            let t = t.as_str().unwrap();
            assert!(!t.starts_with("docker.io/") && t.contains(':'), "{t}");
        }
    }
    // every index descriptor points at a manifest whose config and layers
    // are those of a manifest.json entry
    for d in index["manifests"].as_array().unwrap() {
        let m: Value = serde_json::from_slice(blob(&files, d["digest"].as_str().unwrap())).unwrap();
        assert_eq!(
            d["size"],
            json!(blob(&files, d["digest"].as_str().unwrap()).len())
        );
        let cfg = m["config"]["digest"].as_str().unwrap();
        let cfg_bytes = blob(&files, cfg);
        let config: Value = serde_json::from_slice(cfg_bytes).unwrap();
        assert_eq!(d["platform"]["os"], config["os"]);
        assert_eq!(d["platform"]["architecture"], config["architecture"]);
        let entry = images
            .iter()
            .find(|i| i["Config"].as_str().unwrap().ends_with(&cfg[7..]))
            .expect("the image is in manifest.json too");
        let layers: Vec<String> = m["layers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| format!("blobs/sha256/{}", &l["digest"].as_str().unwrap()[7..]))
            .collect();
        assert_eq!(entry["Layers"], json!(layers));
        assert_eq!(
            config["rootfs"]["diff_ids"].as_array().unwrap().len(),
            layers.len()
        );
        if let Some(ann) = d.get("annotations") {
            let full = ann["io.containerd.image.name"].as_str().unwrap();
            let tag = ann["org.opencontainers.image.ref.name"].as_str().unwrap();
            assert!(full.ends_with(&format!(":{tag}")), "{full} / {tag}");
            assert!(!tag.contains(':') && !tag.contains('/'), "{tag}");
        }
    }
    files
}

/// Validate every index, manifest, config and the layout header of an
/// archive against the OCI image-spec JSON schemas (Python's jsonschema,
/// with the schemas' cross-file `$ref`s served from the local copies).
fn validate_schemas(env: &Env, files: &BTreeMap<String, Vec<u8>>, label: &str) {
    let schemas = std::env::var_os("CAIRN_OCI_SCHEMAS")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest_dir().join("tests/oci-schema"));
    assert!(
        schemas.join("config-schema.json").is_file(),
        "OCI schemas not found at {} (set CAIRN_OCI_SCHEMAS)",
        schemas.display()
    );
    let dir = env.path(&format!("schema-{label}"));
    std::fs::create_dir_all(&dir).unwrap();
    let mut args = Vec::new();
    let mut put = |kind: &str, name: &str, data: &[u8]| {
        let p = dir.join(name.replace('/', "_"));
        std::fs::write(&p, data).unwrap();
        args.push(format!("{kind}={}", p.display()));
    };
    put(
        "image-layout-schema.json",
        "oci-layout",
        &files["oci-layout"],
    );
    put(
        "image-index-schema.json",
        "index.json",
        &files["index.json"],
    );
    let index = json_of(files, "index.json");
    let mut configs = 0;
    for d in index["manifests"].as_array().unwrap() {
        let digest = d["digest"].as_str().unwrap();
        let m = blob(files, digest);
        put("image-manifest-schema.json", digest, m);
        let m: Value = serde_json::from_slice(m).unwrap();
        let c = m["config"]["digest"].as_str().unwrap();
        put("config-schema.json", c, blob(files, c));
        configs += 1;
    }
    assert!(configs > 0);
    let o = Command::new("python3")
        .arg("-c")
        .arg(VALIDATE_PY)
        .arg(&schemas)
        .args(&args)
        .output()
        .expect("python3 (with jsonschema >= 4.18) runs");
    assert!(
        o.status.success(),
        "{label}: OCI schema validation failed:\n{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

const VALIDATE_PY: &str = r#"
import json, pathlib, sys
from jsonschema import Draft4Validator
from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource
from referencing.jsonschema import DRAFT4

schemas = {p.name: json.loads(p.read_text()) for p in pathlib.Path(sys.argv[1]).glob("*.json")}

def retrieve(uri):
    # $refs like "defs.json#/..." resolve against the schemas' https ids
    name = uri.rsplit("/", 1)[-1]
    if name in schemas:
        return Resource(contents=schemas[name], specification=DRAFT4)
    raise NoSuchResource(ref=uri)

registry = Registry(retrieve=retrieve)
bad = 0
for arg in sys.argv[2:]:
    kind, path = arg.split("=", 1)
    v = Draft4Validator(schemas[kind], registry=registry,
                        format_checker=Draft4Validator.FORMAT_CHECKER)
    for e in v.iter_errors(json.loads(pathlib.Path(path).read_text())):
        print(f"{path}: {kind}: /{'/'.join(map(str, e.path))}: {e.message}")
        bad += 1
print(f"checked {len(sys.argv) - 2} documents", file=sys.stderr)
sys.exit(1 if bad else 0)
"#;

/// The manifest.json entries' config digests, in order.
fn config_digests(files: &BTreeMap<String, Vec<u8>>) -> Vec<String> {
    json_of(files, "manifest.json")
        .as_array()
        .unwrap()
        .iter()
        .map(|i| format!("sha256:{}", &i["Config"].as_str().unwrap()[13..]))
        .collect()
}

// --------------------------------------------------------------------- tests

#[test]
fn save_is_deterministic_and_round_trips() {
    let env = Env::new("save-determinism");
    let top = image_with_file(&env, "app:1", FILE, CONTENT);
    // twice, to stdout and to a file: the same bytes
    let a = save_stdout(&env, &["app:1", "busybox"]);
    let b = save_stdout(&env, &["app:1", "busybox"]);
    assert!(a == b, "two saves differ");
    let f = env.path("a.tar");
    let recs = save_file(&env, &f, &["app:1", "busybox"]);
    assert!(std::fs::read(&f).unwrap() == a, "-o and stdout differ");
    assert_eq!(recs.len(), 2);
    assert_eq!(s(&recs[0], "layer"), top);
    assert_eq!(recs[0]["tags"], json!(["app:1"]));
    assert_eq!(recs[1]["tags"], json!(["busybox:latest"]));
    let files = check_layout(&a);
    validate_schemas(&env, &files, "plain");
    let manifest_json = json_of(&files, "manifest.json");
    assert_eq!(manifest_json[0]["RepoTags"], json!(["app:1"]));
    assert_eq!(manifest_json[1]["RepoTags"], json!(["busybox:latest"]));
    assert_eq!(config_digests(&files)[0], s(&recs[0], "image_id"));
    let index = json_of(&files, "index.json");
    assert_eq!(
        index["manifests"][0]["annotations"],
        json!({"io.containerd.image.name": "docker.io/library/app:1",
               "org.opencontainers.image.ref.name": "1"})
    );
    assert_eq!(
        json_of(&files, "repositories"),
        json!({"app": {"1": &s(&recs[0], "image_id")[7..]},
               "busybox": {"latest": &s(&recs[1], "image_id")[7..]}})
    );
    // uncompressed layers: blob digest = diff_id
    let cfg: Value = serde_json::from_slice(blob(&files, s(&recs[0], "image_id"))).unwrap();
    let layers: Vec<String> = manifest_json[0]["Layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| format!("sha256:{}", &l.as_str().unwrap()[13..]))
        .collect();
    assert_eq!(cfg["rootfs"]["diff_ids"], json!(layers));

    // save → load into a fresh store → save: the same bytes
    let env2 = Env::new("save-determinism-2");
    let loaded = env2.cmd("load").arg(&f).ok().records();
    assert_eq!(s(&loaded[0], "image_id"), s(&recs[0], "image_id"));
    assert!(
        save_stdout(&env2, &["app:1", "busybox"]) == a,
        "save after load differs"
    );

    // gzip: deterministic, and round-trips the same way
    let g = env.path("g.tar");
    let grecs = save_file(&env, &g, &["--compress", "gzip", "app:1", "busybox"]);
    let gz = std::fs::read(&g).unwrap();
    assert!(save_stdout(&env, &["--compress", "gzip", "app:1", "busybox"]) == gz);
    assert_eq!(grecs[0]["image_id"], recs[0]["image_id"], "same config");
    let env3 = Env::new("save-determinism-3");
    env3.cmd("load").arg(&g).ok();
    assert!(save_stdout(&env3, &["--compress", "gzip", "app:1", "busybox"]) == gz);
    // a store holding gzip blobs saves uncompressed to the very same bytes
    // (decompressed while streaming, checked against the diff IDs)
    assert!(save_stdout(&env3, &["app:1", "busybox"]) == a);
}

#[test]
fn saved_peer_images_keep_their_image_id() {
    let env = Env::new("save-peers");
    let dir = peers();
    // docker save (uncompressed layers) and umoci (gzip layers, so saving
    // uncompressed decompresses them)
    for (archive, config, name) in [
        ("docker-save.tar", "docker-save.config.json", "docker"),
        ("oci", "oci.config.json", "umoci"),
    ] {
        let cfg_bytes = std::fs::read(dir.join(config)).unwrap();
        let image_id = sha256(&cfg_bytes);
        let loaded = env.cmd("load").arg(dir.join(archive)).ok().record();
        assert_eq!(s(&loaded, "image_id"), image_id);
        let out = env.path(&format!("{name}.tar"));
        let recs = save_file(&env, &out, &["busybox"]);
        assert_eq!(s(&recs[0], "image_id"), image_id, "{archive}");
        let data = std::fs::read(&out).unwrap();
        let files = check_layout(&data);
        assert_eq!(config_digests(&files), vec![image_id.clone()]);
        assert!(
            blob(&files, &image_id) == &cfg_bytes[..],
            "original config bytes"
        );
        let cfg: Value = serde_json::from_slice(&cfg_bytes).unwrap();
        let layers: Vec<String> = json_of(&files, "manifest.json")[0]["Layers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| format!("sha256:{}", &l.as_str().unwrap()[13..]))
            .collect();
        assert_eq!(cfg["rootfs"]["diff_ids"], json!(layers), "{archive}");
        validate_schemas(&env, &files, name);
        // the engine gives it the same ID and runs it (layer 2 has /etc/motd
        // and whites out /etc/issue)
        let d = docker();
        let tag = format!("cairn-save-peer-{name}:1");
        env.cmd("tag").args(["busybox", &tag]).ok();
        let out2 = env.path(&format!("{name}-2.tar"));
        save_file(&env, &out2, &[&tag]);
        d.ok(&["load", "-q", "-i", out2.to_str().unwrap()]);
        let id = d.ok(&["image", "inspect", "--format", "{{.Id}}", &tag]);
        assert_eq!(id.trim(), image_id);
        let motd = d.ok(&[
            "run",
            "--rm",
            "--network",
            "none",
            &tag,
            "/bin/cat",
            "/etc/motd",
        ]);
        assert_eq!(motd, "hello from layer 2\n");
        let o = d.run(&[
            "run",
            "--rm",
            "--network",
            "none",
            &tag,
            "/bin/cat",
            "/etc/issue",
        ]);
        assert!(!o.status.success(), "/etc/issue was whited out");
        env.cmd("tag").args(["-d", &tag]).ok();
    }
}

#[test]
fn docker_skopeo_and_umoci_accept_the_archive() {
    let env = Env::new("save-interop");
    let name = "cairn-save-interop:1";
    image_with_file(&env, name, FILE, CONTENT);
    let archive = env.path("interop.tar");
    let rec = save_file(&env, &archive, &[name]).remove(0);
    let image_id = s(&rec, "image_id").to_string();
    let files = check_layout(&std::fs::read(&archive).unwrap());
    validate_schemas(&env, &files, "interop");

    // the real engine (20.10 reads manifest.json)
    let d = docker();
    let out = d.ok(&["load", "-i", archive.to_str().unwrap()]);
    assert!(out.contains(&format!("Loaded image: {name}")), "{out}");
    let id = d.ok(&["image", "inspect", "--format", "{{.Id}}", name]);
    assert_eq!(
        id.trim(),
        image_id,
        "docker's image ID is the config digest"
    );
    let got = d.ok(&[
        "run",
        "--rm",
        "--network",
        "none",
        name,
        "/bin/cat",
        &format!("/{FILE}"),
    ]);
    assert_eq!(got, CONTENT);

    // skopeo, both ways in, then umoci unpacks what skopeo wrote
    let archive_s = archive.to_str().unwrap();
    for (src, dest) in [
        (format!("docker-archive:{archive_s}"), "oci-from-docker"),
        (format!("oci-archive:{archive_s}"), "oci-from-oci"),
    ] {
        let layout = env.path(dest);
        let dest_ref = format!("oci:{}:t", layout.display());
        skopeo(&["copy", "-q", &src, &dest_ref]);
        same_config(&src, &dest_ref, &image_id, &files);
        let bundle = env.path(&format!("{dest}-bundle"));
        peer(
            "umoci",
            &[
                "unpack",
                "--image",
                &format!("{}:t", layout.display()),
                bundle.to_str().unwrap(),
            ],
        );
        assert_eq!(
            std::fs::read_to_string(bundle.join("rootfs").join(FILE)).unwrap(),
            CONTENT,
            "{src}"
        );
        assert!(bundle.join("rootfs/bin/busybox").is_file());
    }
    // skopeo names the image from the OCI ref.name (the tag alone, as
    // Docker 25 writes it); cairn load from io.containerd.image.name
    let inspect: Value =
        serde_json::from_str(&skopeo(&["inspect", &format!("oci-archive:{archive_s}:1")])).unwrap();
    assert_eq!(inspect["Digest"], json!(files_manifest_digest(&files)));
    let env2 = Env::new("save-interop-load");
    let loaded = env2.cmd("load").arg(env.path("oci-from-oci")).ok().record();
    assert_eq!(s(&loaded, "image_id"), image_id);

    // an untagged image: docker loads it by ID
    let top = s(&rec, "layer");
    let untagged = env.path("untagged.tar");
    save_file(&env, &untagged, &[top]);
    let files = check_layout(&std::fs::read(&untagged).unwrap());
    let index = json_of(&files, "index.json");
    assert!(index["manifests"][0].get("annotations").is_none());
    assert_eq!(json_of(&files, "manifest.json")[0]["RepoTags"], json!([]));
    assert!(!files.contains_key("repositories"));
    validate_schemas(&env, &files, "untagged");
    let out = d.ok(&["load", "-i", untagged.to_str().unwrap()]);
    assert!(
        out.contains(&format!("Loaded image ID: {image_id}")),
        "{out}"
    );
}

/// What skopeo wrote from `src` to `dest` is the image `image_id`: the
/// same config bytes from `oci-archive:`; from `docker-archive:` skopeo
/// converts docker's manifest to OCI and re-serialises the config on the
/// way, so there the diff IDs and runtime config must match.
fn same_config(src: &str, dest: &str, image_id: &str, files: &BTreeMap<String, Vec<u8>>) {
    let got = skopeo(&["inspect", "--config", "--raw", dest]);
    if src.starts_with("oci-archive:") {
        assert_eq!(sha256(got.as_bytes()), image_id, "{src}: same config bytes");
        return;
    }
    let got: Value = serde_json::from_str(&got).unwrap();
    let want: Value = serde_json::from_slice(blob(files, image_id)).unwrap();
    assert_eq!(got["rootfs"], want["rootfs"], "{src}");
    assert_eq!(got["config"], want["config"], "{src}");
}

fn files_manifest_digest(files: &BTreeMap<String, Vec<u8>>) -> String {
    json_of(files, "index.json")["manifests"][0]["digest"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn several_images_share_their_layers() {
    let env = Env::new("save-multi");
    let a = image_with_file(&env, "cairn-save-multi-a:1", "etc/a.txt", "a\n");
    let b = image_with_file(&env, "cairn-save-multi-b:1", "etc/b.txt", "b\n");
    // one by tag, one by ID named with --tag, and the first again by ID
    let archive = env.path("multi.tar");
    let recs = env
        .cmd("save")
        .args(["-o", archive.to_str().unwrap(), "cairn-save-multi-a:1"])
        .arg(&b)
        .args(["--tag", "cairn-save-multi-b:2"])
        .ok()
        .records();
    assert_eq!(s(&recs[0], "layer"), a);
    assert_eq!(s(&recs[1], "layer"), b);
    assert_eq!(recs[1]["tags"], json!(["cairn-save-multi-b:2"]));
    let data = std::fs::read(&archive).unwrap();
    let files = check_layout(&data);
    validate_schemas(&env, &files, "multi");
    let m = json_of(&files, "manifest.json");
    let m = m.as_array().unwrap();
    assert_eq!(m.len(), 2);
    assert_eq!(m[0]["RepoTags"], json!(["cairn-save-multi-a:1"]));
    assert_eq!(m[1]["RepoTags"], json!(["cairn-save-multi-b:2"]));
    // the busybox layer is the first of both, and is in the archive once
    assert_eq!(m[0]["Layers"][0], m[1]["Layers"][0]);
    assert_ne!(m[0]["Layers"][1], m[1]["Layers"][1]);
    let base = m[0]["Layers"][0].as_str().unwrap();
    let items = read_tar(&data);
    assert_eq!(items.iter().filter(|i| i.path == base).count(), 1);
    let blobs = items.iter().filter(|i| i.kind == tar::EntryType::Regular);
    assert_eq!(
        blobs.filter(|i| i.path.starts_with("blobs/")).count(),
        3 + 2 + 2
    );
    let index = json_of(&files, "index.json");
    let names: Vec<&str> = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            d["annotations"]["io.containerd.image.name"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert_eq!(
        names,
        [
            "docker.io/library/cairn-save-multi-a:1",
            "docker.io/library/cairn-save-multi-b:2"
        ]
    );

    // skopeo picks the second with :@1
    let layout = env.path("second");
    skopeo(&[
        "copy",
        "-q",
        &format!("docker-archive:{}:@1", archive.display()),
        &format!("oci:{}:x", layout.display()),
    ]);
    let dest = format!("oci:{}:x", layout.display());
    same_config(
        "docker-archive:…:@1",
        &dest,
        s(&recs[1], "image_id"),
        &files,
    );
    // docker loads both
    let d = docker();
    let out = d.ok(&["load", "-i", archive.to_str().unwrap()]);
    assert!(out.contains("Loaded image: cairn-save-multi-a:1"), "{out}");
    assert!(out.contains("Loaded image: cairn-save-multi-b:2"), "{out}");
    let got = d.ok(&[
        "run",
        "--rm",
        "--network",
        "none",
        "cairn-save-multi-b:2",
        "/bin/cat",
        "/etc/b.txt",
    ]);
    assert_eq!(got, "b\n");
    // cairn load gives both names back
    let env2 = Env::new("save-multi-load");
    let loaded = env2.cmd("load").arg(&archive).ok().records();
    assert_eq!(loaded[0]["tags"], json!(["cairn-save-multi-a:1"]));
    assert_eq!(loaded[1]["tags"], json!(["cairn-save-multi-b:2"]));
}

#[test]
fn compressed_archives_load_back() {
    let env = Env::new("save-compress");
    let name = "cairn-save-gzip:1";
    image_with_file(&env, name, FILE, CONTENT);
    let plain = env.path("plain.tar");
    let plain_rec = save_file(&env, &plain, &[name]).remove(0);
    for (algo, media, magic) in [
        (
            "gzip",
            "application/vnd.oci.image.layer.v1.tar+gzip",
            &[0x1f, 0x8b][..],
        ),
        (
            "zstd",
            "application/vnd.oci.image.layer.v1.tar+zstd",
            &[0x28, 0xb5, 0x2f, 0xfd][..],
        ),
    ] {
        let archive = env.path(&format!("{algo}.tar"));
        let rec = save_file(&env, &archive, &["--compress", algo, name]).remove(0);
        assert_eq!(
            rec["image_id"], plain_rec["image_id"],
            "the config keeps the diff IDs"
        );
        let files = check_layout(&std::fs::read(&archive).unwrap());
        validate_schemas(&env, &files, algo);
        let m: Value = serde_json::from_slice(blob(&files, s(&rec, "manifest"))).unwrap();
        for l in m["layers"].as_array().unwrap() {
            assert_eq!(l["mediaType"], media);
            let data = blob(&files, l["digest"].as_str().unwrap());
            assert!(data.starts_with(magic), "{algo} layer");
            if algo == "gzip" {
                assert_eq!(&data[4..8], &[0, 0, 0, 0], "gzip mtime 0");
                assert_eq!(data[3] & 0x08, 0, "no file name");
            }
        }
        // cairn load: the same layers as from the uncompressed archive
        let e1 = Env::new(&format!("save-compress-{algo}-a"));
        let e2 = Env::new(&format!("save-compress-{algo}-b"));
        let a = e1.cmd("load").arg(&plain).ok().record();
        let b = e2.cmd("load").arg(&archive).ok().record();
        assert_eq!(a["layer"], b["layer"]);
        assert_eq!(a["diff_ids"], b["diff_ids"]);
        assert_eq!(
            e1.records("history", &[name]),
            e2.records("history", &[name])
        );
        // skopeo accepts it either way
        let archive_s = archive.to_str().unwrap();
        for src in [
            format!("docker-archive:{archive_s}"),
            format!("oci-archive:{archive_s}"),
        ] {
            let layout = env.path(&format!("{algo}-{}", &src[..6]));
            let dest = format!("oci:{}:t", layout.display());
            skopeo(&["copy", "-q", &src, &dest]);
            same_config(&src, &dest, s(&rec, "image_id"), &files);
        }
        // Docker 20.10 loads gzip layers (zstd only from Docker 23)
        if algo == "gzip" {
            let d = docker();
            d.ok(&["load", "-q", "-i", archive_s]);
            let got = d.ok(&[
                "run",
                "--rm",
                "--network",
                "none",
                name,
                "/bin/cat",
                &format!("/{FILE}"),
            ]);
            assert_eq!(got, CONTENT);
        }
    }
}

#[test]
fn records_in_and_out() {
    let env = Env::new("save-records");
    let top = image_with_file(&env, "x:1", FILE, CONTENT);
    // a pipeline's record, untagged, named by --tag; fields carried through
    let mut rec = Record::new();
    rec.insert("layer".into(), json!(top));
    rec.insert("mine".into(), json!({"keep": true}));
    let out = env
        .cmd("save")
        .args(["-o", "piped.tar", "--tag", "piped:7"])
        .stdin_records(&[rec])
        .ok()
        .record();
    assert_eq!(out["mine"], json!({"keep": true}));
    assert_eq!(out["tags"], json!(["piped:7"]));
    assert_eq!(s(&out, "archive"), "piped.tar");
    let files = check_layout(&std::fs::read(env.path("piped.tar")).unwrap());
    assert_eq!(
        json_of(&files, "manifest.json")[0]["RepoTags"],
        json!(["piped:7"])
    );
    // `load | save` keeps the names the records carry: the same bytes
    let env2 = Env::new("save-records-2");
    let loaded = env2.cmd("load").arg(env.path("piped.tar")).ok().records();
    let again = env2
        .cmd("save")
        .args(["-o", "again.tar"])
        .stdin_records(&loaded)
        .ok()
        .record();
    assert_eq!(again["tags"], json!(["piped:7"]));
    assert!(
        std::fs::read(env2.path("again.tar")).unwrap()
            == std::fs::read(env.path("piped.tar")).unwrap()
    );
    // and so does `tag | save`
    let tagged = env.cmd("tag").args([&top, "named:3"]).ok().record();
    let out = env
        .cmd("save")
        .args(["-o", "tagged.tar"])
        .stdin_records(&[tagged])
        .ok()
        .record();
    assert_eq!(out["tags"], json!(["named:3"]));
    // count mismatch, a name for two images, a bad name: usage errors
    let bb = s(&env.cmd("inspect").arg("busybox").ok().record(), "layer").to_string();
    env.cmd("save")
        .args(["-o", "n.tar", "--tag", "a", "--tag", "b", &top])
        .fails(2);
    env.cmd("save")
        .args(["-o", "n.tar", "--tag", "x:1", &bb, "x:1"])
        .fails(2);
    env.cmd("save")
        .args(["-o", "n.tar", "--tag", "Bad", &top])
        .fails(2);
    env.cmd("save").args(["-o", "n.tar"]).stdin("").fails(2);
    assert!(!env.path("n.tar").exists());
    env.cmd("save")
        .args(["-o", "n.tar", "no-such-image"])
        .fails(1);
    // a terminal on stdout is refused (script gives the command a pty)
    let o = Command::new("script")
        .args([
            "-qec",
            &format!("{} x:1", bin("save").display()),
            "/dev/null",
        ])
        .env("CAIRN_ROOT", &env.root)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert!(String::from_utf8_lossy(&o.stdout).contains("terminal"));
}

#[test]
fn corrupt_store_blob_fails_and_leaves_no_file() {
    let env = Env::new("save-corrupt");
    let top = image_with_file(&env, "c:1", FILE, CONTENT);
    let info: Value = serde_json::from_slice(
        &std::fs::read(env.root.join("layers").join(&top[7..]).join("info.json")).unwrap(),
    )
    .unwrap();
    let blob = env
        .root
        .join("blobs/sha256")
        .join(&info["blob"]["digest"].as_str().unwrap()[7..]);
    let mut data = std::fs::read(&blob).unwrap();
    let n = data.len() / 2;
    data[n] ^= 0xff;
    std::fs::write(&blob, &data).unwrap();
    let o = env.cmd("save").args(["-o", "c.tar", "c:1"]).fails(1);
    assert!(o.stderr.contains("corrupt"), "{o}");
    assert_eq!(o.stderr.lines().count(), 1, "{o}");
    let left: Vec<_> = std::fs::read_dir(&env.dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != "store")
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
    // with --compress the layer is checked against its diff ID before anything is written
    let o = env
        .cmd("save")
        .args(["-o", "c.tar", "--compress", "zstd", "c:1"])
        .fails(1);
    assert!(o.stderr.contains("diff_id mismatch"), "{o}");
    assert_eq!(std::fs::read_dir(env.root.join("tmp")).unwrap().count(), 0);
}
