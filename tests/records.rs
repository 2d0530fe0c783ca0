//! The record protocol's schemas: `docs/<kind>.schema.json` must match the
//! record types in libcairn, and the inspect documents' theirs
//! (`CAIRN_BLESS=1 cargo test records` rewrites them), and what the real
//! tools print must validate against them.

use crate::fixtures::{docker, peers};
use crate::harness::{busybox_tar, leftovers, s, Env, Record};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn docs() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("docs")
}

#[test]
fn schemas_are_fresh() {
    let bless = std::env::var_os("CAIRN_BLESS").is_some();
    let mut stale = Vec::new();
    let mut reports = libcairn::system::schemas();
    reports.extend(libcairn::inspect::schemas());
    for (name, text) in libcairn::record::schemas().into_iter().chain(reports) {
        let p = docs().join(&name);
        if std::fs::read_to_string(&p).ok().as_deref() != Some(&text[..]) {
            if bless {
                std::fs::write(&p, &text).unwrap();
            } else {
                stale.push(name);
            }
        }
    }
    assert!(
        stale.is_empty(),
        "stale schemas in docs/ (run CAIRN_BLESS=1 cargo test records): {stale:?}"
    );
}

/// Validates `(kind, record)` pairs against `docs/<kind>.schema.json`
/// (Python's jsonschema, as the OCI checks of tests/save.rs); returns one
/// line per error.
pub(crate) fn invalid(recs: &[(&str, String, Record)]) -> Vec<String> {
    let mut input = String::new();
    for (kind, tool, rec) in recs {
        input.push_str(&format!(
            "{kind}\t{tool}\t{}\n",
            serde_json::to_string(rec).unwrap()
        ));
    }
    let mut child = Command::new("python3")
        .arg("-c")
        .arg(VALIDATE_PY)
        .arg(docs())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 (with jsonschema >= 4.18) runs");
    let mut w = child.stdin.take().unwrap();
    let feeder = std::thread::spawn(move || w.write_all(input.as_bytes()));
    let o = child.wait_with_output().unwrap();
    feeder.join().unwrap().unwrap();
    assert!(
        o.status.success(),
        "the schema validator failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

const VALIDATE_PY: &str = r#"
import json, pathlib, sys
from jsonschema import Draft202012Validator

docs = pathlib.Path(sys.argv[1])
validators = {}
for line in sys.stdin:
    kind, tool, rec = line.rstrip("\n").split("\t", 2)
    if kind not in validators:
        schema = json.loads((docs / f"{kind}.schema.json").read_text())
        Draft202012Validator.check_schema(schema)
        validators[kind] = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    for e in validators[kind].iter_errors(json.loads(rec)):
        print(f"{tool}: {kind} record /{'/'.join(map(str, e.path))}: {e.message}")
"#;

/// Every tool that prints records, run in pipelines over a busybox image;
/// each record it prints must be valid for the kind it writes.
#[test]
fn every_tool_writes_valid_records() {
    let env = Env::new("records-valid");
    let mut got: Vec<(&str, String, Record)> = Vec::new();
    let mut keep = |kind: &'static str, tool: &str, recs: Vec<Record>| -> Vec<Record> {
        assert!(!recs.is_empty(), "{tool} printed no record");
        for r in &recs {
            got.push((kind, tool.to_string(), r.clone()));
        }
        recs
    };

    // layers and images
    let base = keep(
        "layer",
        "layer-unpack",
        env.cmd("layer-unpack").stdin(busybox_tar()).ok().records(),
    )
    .remove(0);
    let tagged = keep(
        "image",
        "tag",
        env.cmd("tag")
            .arg("bb:1")
            .stdin_records(std::slice::from_ref(&base))
            .ok()
            .records(),
    );
    keep("layer", "history", env.records("history", &["bb:1"]));
    keep(
        "inspect-image",
        "inspect",
        env.records("inspect", &["bb:1"]),
    );
    keep(
        "inspect-image",
        "inspect (a record)",
        env.cmd("inspect").stdin_records(&tagged).ok().records(),
    );
    keep(
        "image",
        "images",
        env.records("images", &["-a", "--format", "json"]),
    );

    // a container, run in a pipeline, committed, saved and loaded
    let made = keep(
        "container",
        "union-mount",
        env.cmd("union-mount")
            .stdin_records(&tagged)
            .args(["--", "/bin/sh", "-c", "echo hi > /hi; exit 3"])
            .ok()
            .records(),
    );
    let ran = keep(
        "container",
        "isolate",
        env.cmd("isolate").stdin_records(&made).fails(3).records(),
    );
    let committed = keep(
        "layer",
        "commit",
        env.cmd("commit")
            .args(["-m", "hi", s(&ran[0], "container"), "hi:1"])
            .ok()
            .records(),
    );
    keep(
        "container",
        "union-mount --unmount",
        env.cmd("union-mount")
            .arg("--unmount")
            .stdin_records(&ran)
            .ok()
            .records(),
    );
    let archive = env.path("hi.tar");
    keep(
        "image",
        "save",
        env.cmd("save")
            .arg("-o")
            .arg(&archive)
            .stdin_records(&committed)
            .ok()
            .records(),
    );
    keep(
        "image",
        "load",
        env.cmd("load").arg(&archive).ok().records(),
    );
    let ctx = env.path("ctx");
    std::fs::create_dir_all(&ctx).unwrap();
    std::fs::write(ctx.join("Dockerfile"), "FROM bb:1\nENV A=1\n").unwrap();
    keep(
        "image",
        "build",
        env.cmd("build")
            .args(["-q", "-t", "built:1"])
            .arg(&ctx)
            .ok()
            .records(),
    );

    // a detached container through its lifecycle
    let made = env
        .cmd("union-mount")
        .args(["bb:1", "--", "/bin/sleep", "100"])
        .ok()
        .records();
    let up = keep(
        "container",
        "isolate -d",
        env.cmd("isolate")
            .arg("-d")
            .stdin_records(&made)
            .ok()
            .records(),
    );
    keep(
        "container",
        "ps",
        env.records("ps", &["-a", "--format", "json"]),
    );
    keep(
        "inspect-container",
        "inspect",
        env.cmd("inspect").stdin_records(&up).ok().records(),
    );
    keep(
        "container",
        "pause",
        env.cmd("pause").stdin_records(&up).ok().records(),
    );
    keep(
        "container",
        "unpause",
        env.cmd("unpause").stdin_records(&up).ok().records(),
    );
    keep(
        "container",
        "kill",
        env.cmd("kill").stdin_records(&up).ok().records(),
    );
    keep(
        "container",
        "stop",
        env.cmd("stop").stdin_records(&up).ok().records(),
    );
    keep(
        "container",
        "rm",
        env.cmd("rm").stdin_records(&up).ok().records(),
    );
    for r in [&made[0], &ran[0]] {
        env.cmd("rm").args(["-f", s(r, "container")]).run();
    }

    // volumes
    let vol = keep(
        "volume",
        "volume create",
        env.records("volume", &["create", "v1"]),
    );
    keep(
        "volume",
        "volume ls",
        env.records("volume", &["ls", "--format", "json"]),
    );
    keep(
        "volume",
        "volume inspect",
        env.cmd("volume")
            .arg("inspect")
            .stdin_records(&vol)
            .ok()
            .records(),
    );
    keep(
        "volume",
        "volume rm",
        env.cmd("volume")
            .arg("rm")
            .stdin_records(&vol)
            .ok()
            .records(),
    );

    // removals
    keep("image", "tag -d", env.records("tag", &["-d", "built:1"]));
    keep("image", "rmi", env.records("rmi", &["hi:1"]));

    // what info, version, system df [-v] and stats print piped
    keep("info", "info", env.records("info", &[]));
    keep("version", "version", env.records("version", &[]));
    keep("df", "system df", env.records("system", &["df"]));
    let sleeper = env.cmd("run").args(["-d", "bb:1", "sleep", "60"]).ok().id();
    keep(
        "df-verbose",
        "system df -v",
        env.records("system", &["df", "-v"]),
    );
    keep(
        "stats",
        "stats",
        env.records("stats", &["--no-stream", &sleeper]),
    );
    env.cmd("rm").args(["-f", &sleeper]).ok();

    assert!(leftovers(&env).is_empty(), "{:?}", leftovers(&env));
    let errors = invalid(&got);
    assert!(
        errors.is_empty(),
        "records do not match their schemas:\n{}",
        errors.join("\n")
    );

    // and the check can fail: a wrongly typed field, a malformed ID
    let mut bad = got
        .iter()
        .find(|(_, tool, _)| tool == "isolate")
        .cloned()
        .unwrap();
    bad.2.insert("exit_code".into(), serde_json::json!("3"));
    let mut short = got[0].clone();
    short
        .2
        .insert("layer".into(), serde_json::json!("sha256:abc"));
    let errors = invalid(&[bad, short]);
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(errors[0].contains("exit_code"), "{errors:?}");
}

/// An image docker 20.10 built with a key of every kind in its config
/// (HEALTHCHECK, ONBUILD, SHELL, the `null`s of what is unset): saved by
/// docker and loaded, `cairn inspect` prints its config as `docker image
/// inspect` does, and that config, and a container's made from it,
/// validate against the typed runtime config of the schemas.
#[test]
fn a_config_docker_built_is_typed_by_the_schemas() {
    let env = Env::new("records-docker-config");
    let base = peers().join("docker-save.tar");
    docker().ok(&["load", "-i", base.to_str().unwrap()]);
    let ctx = env.path("ctx");
    std::fs::create_dir_all(&ctx).unwrap();
    std::fs::write(
        ctx.join("Dockerfile"),
        "FROM busybox:latest\nENV A=1\nLABEL org.example.name=demo\nEXPOSE 8080\n\
         VOLUME /data\nWORKDIR /srv\nUSER root\nSTOPSIGNAL SIGTERM\nSHELL [\"/bin/sh\", \"-c\"]\n\
         ONBUILD RUN true\n\
         HEALTHCHECK --interval=5s --timeout=3s --start-period=1s --retries=2 CMD true\n\
         CMD [\"echo hi\"]\n",
    )
    .unwrap();
    let tag = "records-docker-config:1";
    let out = docker().run_env(
        &["build", "-q", "-t", tag, ctx.to_str().unwrap()],
        &[("DOCKER_BUILDKIT", "0")],
    );
    assert!(
        out.status.success(),
        "docker build failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let archive = env.path("built.tar");
    docker().ok(&["save", "-o", archive.to_str().unwrap(), tag]);
    let theirs = docker().ok(&["image", "inspect", "--format", "{{json .Config}}", tag]);
    let theirs: serde_json::Value = serde_json::from_str(&theirs).unwrap();
    docker().ok(&["rmi", tag]);
    env.cmd("load").arg(&archive).ok();

    let image = env.records("inspect", &[tag]);
    assert_eq!(image[0]["effective_config"], theirs);
    assert!(theirs["Healthcheck"]["Interval"].is_u64(), "{theirs}");
    let made = env.cmd("union-mount").arg(tag).ok().records();
    let container = env.cmd("inspect").stdin_records(&made).ok().records();
    env.cmd("rm").args(["-f", s(&made[0], "container")]).run();
    let mut recs = vec![
        ("inspect-image", "inspect".to_string(), image[0].clone()),
        (
            "inspect-container",
            "inspect".to_string(),
            container[0].clone(),
        ),
    ];
    assert_eq!(invalid(&recs), Vec::<String>::new());

    // and a key of the wrong type is caught
    recs[0].2["effective_config"]["Tty"] = serde_json::json!("no");
    recs[1].2["config"]["Env"] = serde_json::json!("A=1");
    let errors = invalid(&recs);
    assert_eq!(errors.len(), 2, "{errors:?}");
}
