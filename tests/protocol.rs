//! The pipe protocol across tools: unknown fields survive, empty input is a
//! usage error, `--format id`, the dispatcher, a closed stdout.

use crate::harness::{busybox_tar, s, Env, Record, TarBuilder};
use serde_json::json;

#[test]
fn unknown_fields_survive_and_formats_work() {
    let env = Env::new("protocol-fields");
    let base = env.cmd("layer-unpack").stdin(busybox_tar()).ok().record();
    let mut rec: Record = base.clone();
    rec.insert("mine".into(), json!({"keep": [1, 2, 3]}));
    // layer-unpack with the parent from stdin carries the record through
    let tar = env.path("l2.tar");
    std::fs::write(&tar, TarBuilder::new().file("x", 0o644, b"x").build()).unwrap();
    let top = env
        .cmd("layer-unpack")
        .arg(&tar)
        .stdin_records(std::slice::from_ref(&rec))
        .ok()
        .record();
    assert_eq!(top["mine"], rec["mine"]);
    assert_eq!(s(&top, "parent"), s(&base, "layer"));
    // history, inspect and tag carry it too
    for tool in ["history", "inspect"] {
        let out = env
            .cmd(tool)
            .stdin_records(std::slice::from_ref(&top))
            .ok()
            .records();
        assert!(
            out.iter().all(|r| r["mine"] == rec["mine"]),
            "{tool} dropped a field"
        );
    }
    let tagged = env
        .cmd("tag")
        .arg("mine:v1")
        .stdin_records(std::slice::from_ref(&top))
        .ok()
        .record();
    assert_eq!(tagged["mine"], rec["mine"]);
    // --format id prints bare IDs, one per layer
    let ids = env
        .cmd("history")
        .args(["--format", "id", "mine:v1"])
        .ok()
        .stdout;
    assert_eq!(
        ids,
        format!("{}\n{}\n", s(&top, "layer"), s(&base, "layer"))
    );
    // -q: docker's 12 digits; with --no-trunc, whole.
    let q = env.cmd("history").args(["-q", "mine:v1"]).ok().stdout;
    let short = |r: &crate::harness::Record| s(r, "layer")[7..19].to_string();
    assert_eq!(q, format!("{}\n{}\n", short(&top), short(&base)));
    let q = env
        .cmd("history")
        .args(["-q", "--no-trunc", "mine:v1"])
        .ok()
        .stdout;
    assert_eq!(q, ids);
    // table on request
    let t = env
        .cmd("history")
        .args(["--format", "table", "mine:v1"])
        .ok()
        .stdout;
    assert!(t.starts_with("IMAGE"), "{t}");
    assert!(t.contains(&s(&top, "layer")["sha256:".len().."sha256:".len() + 12]));
}

#[test]
fn no_subject_is_a_usage_error() {
    let env = Env::new("protocol-empty");
    for tool in ["history", "inspect"] {
        let o = env.cmd(tool).stdin("").fails(2);
        assert!(o.stderr.contains("no subject"), "{o}");
        let o = env.cmd(tool).stdin("not json\n").fails(2);
        assert!(o.stderr.contains("line 1"), "{o}");
        // a field of the wrong type for its kind is unusable input too
        let o = env.cmd(tool).stdin("{\"layer\":\"sha256:abc\"}\n").fails(2);
        assert!(o.stderr.contains("line 1"), "{o}");
    }
    let o = env.cmd("layer-unpack").stdin("").fails(1);
    assert!(o.stderr.contains("empty input"), "{o}");
    let o = env.cmd("history").arg("nosuch:tag").fails(1);
    assert!(o.stderr.contains("nosuch:tag"), "{o}");
    assert_eq!(o.stderr.lines().count(), 1, "{o}");
}

#[test]
fn dispatcher_finds_tools_and_path_commands() {
    let env = Env::new("protocol-dispatch");
    let list = env.cmd("cairn").arg("--list").ok().stdout;
    for t in [
        "layer-unpack",
        "load",
        "history",
        "images",
        "inspect",
        "tag",
    ] {
        assert!(list.lines().any(|l| l == t), "{t} missing from {list}");
    }
    // a cairn-foo on PATH becomes `cairn foo`
    let bindir = env.path("bin");
    std::fs::create_dir(&bindir).unwrap();
    let script = bindir.join("cairn-hello");
    std::fs::write(&script, "#!/bin/sh\necho \"hello $*\"\n").unwrap();
    std::os::unix::fs::PermissionsExt::set_mode(
        &mut std::fs::metadata(&script).unwrap().permissions(),
        0o755,
    );
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let path = format!("{}:{}", bindir.display(), std::env::var("PATH").unwrap());
    let o = env
        .cmd("cairn")
        .args(["hello", "a", "--b"])
        .env("PATH", &path)
        .ok();
    assert_eq!(o.stdout, "hello a --b\n");
    let o = env.cmd("cairn").arg("nosuch").fails(2);
    assert!(o.stderr.contains("nosuch"), "{o}");
}

#[test]
fn tags_images_and_untag() {
    let env = Env::new("protocol-tags");
    let base = env.cmd("layer-unpack").stdin(busybox_tar()).ok().record();
    let id = s(&base, "layer");
    env.cmd("tag").args([id, "box"]).ok();
    env.cmd("tag")
        .args([&id[7..19], "docker.io/library/box:2"])
        .ok();
    let imgs = env.records("images", &[]);
    let names: Vec<String> = imgs
        .iter()
        .map(|r| format!("{}:{}", s(r, "repository"), s(r, "tag")))
        .collect();
    assert_eq!(names, vec!["box:2", "box:latest"]);
    assert!(imgs.iter().all(|r| s(r, "layer") == id));
    // the store is an OCI layout other tools read
    let idx: serde_json::Value =
        serde_json::from_slice(&std::fs::read(env.root.join("index.json")).unwrap()).unwrap();
    assert_eq!(idx["manifests"].as_array().unwrap().len(), 2);
    assert_eq!(env.records("inspect", &["box:2"])[0]["layer"], json!(id));
    env.cmd("tag").args(["-d", "box:2"]).ok();
    assert_eq!(env.records("images", &[]).len(), 1);
    env.cmd("tag").args(["-d", "box:2"]).fails(1);
    // images -a lists every layer
    env.cmd("layer-unpack")
        .args(["--parent", id])
        .stdin(TarBuilder::new().file("f", 0o644, b"1").build())
        .ok();
    let all = env.records("images", &["-a"]);
    assert_eq!(all.len(), 2);
    // bad names are usage errors
    env.cmd("tag").args([id, "Bad:Name"]).fails(2);
}

#[test]
fn closed_stdout_is_quiet() {
    let env = Env::new("protocol-pipe");
    let mut last = env.cmd("layer-unpack").stdin(busybox_tar()).ok().record();
    for i in 0..40 {
        let tar = TarBuilder::new()
            .file(&format!("f{i}"), 0o644, b"x")
            .build();
        last = env
            .cmd("layer-unpack")
            .args(["--parent", s(&last, "layer")])
            .stdin(tar)
            .ok()
            .record();
    }
    let bin = crate::harness::bin("history");
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "'{}' '{}' | head -c 10 >/dev/null; echo \"${{PIPESTATUS:-}}\"",
            bin.display(),
            s(&last, "layer")
        ))
        .env("CAIRN_ROOT", &env.root)
        .output()
        .unwrap();
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
