//! The record protocol's schemas: `docs/<kind>.schema.json` must match the
//! record types in libcairn, and the inspect documents' theirs
//! (`CAIRN_BLESS=1 cargo test records` rewrites them), and what the real
//! tools print must validate against them.

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
    for (name, text) in libcairn::record::schemas() {
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
fn invalid(recs: &[(&str, String, Record)]) -> Vec<String> {
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

    // removals
    keep("image", "tag -d", env.records("tag", &["-d", "built:1"]));
    keep("image", "rmi", env.records("rmi", &["hi:1"]));

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
