//! The hostile corpus (tests/hostile/gen.py): every tar is refused with a
//! one-line error naming the entry, exit 1, nothing written outside the
//! store, and the store exactly as before. Its legal part (tars that look
//! hostile but containerd applies) is applied as containerd applies it.

use crate::harness::{blob_of, busybox_tar, s, Env};
use serde_json::Value;
use std::path::Path;

fn pwned_files(dir: &Path, out: &mut Vec<String>, depth: usize) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.contains("cairn-pwned") || name.contains("cairn-long") {
            out.push(e.path().display().to_string());
        }
        if depth > 0 && e.file_type().is_ok_and(|t| t.is_dir()) {
            pwned_files(&e.path(), out, depth - 1);
        }
    }
}

#[test]
fn hostile_corpus_is_refused() {
    let env = Env::new("hostile");
    let corpus = env.path("corpus");
    let gen = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hostile/gen.py");
    let st = std::process::Command::new("python3")
        .arg(&gen)
        .arg(&corpus)
        .status()
        .unwrap();
    assert!(st.success(), "gen.py failed");
    let cases: Vec<Value> =
        serde_json::from_slice(&std::fs::read(corpus.join("cases.json")).unwrap()).unwrap();
    assert!(cases.len() >= 20, "the corpus has {} cases", cases.len());

    // A parent layer, so lower-stack lookups are exercised too.
    let base = env.cmd("layer-unpack").stdin(busybox_tar()).ok().record();
    let parent = s(&base, "layer").to_string();
    // A jail as working directory: relative escapes would land next to it.
    let jail = env.path("jail/a/b/c");
    std::fs::create_dir_all(&jail).unwrap();

    let mut failures = Vec::new();
    for case in &cases {
        let file = case["file"].as_str().unwrap();
        for with_parent in [false, true] {
            let before = env.snapshot();
            let mut cmd = env.cmd("layer-unpack").arg(corpus.join(file));
            if with_parent {
                cmd = cmd.args(["--parent", &parent]);
            }
            cmd.c.current_dir(&jail);
            let o = cmd.run();
            let lines: Vec<&str> = o.stderr.lines().collect();
            let mut problems = Vec::new();
            if o.code != Some(1) {
                problems.push(format!("exit {:?}", o.code));
            }
            if lines.len() != 1 || !lines[0].starts_with("cairn-layer-unpack: error: ") {
                problems.push("stderr is not one error line".to_string());
            }
            if let Some(entry) = case["entry"].as_str() {
                if !o.stderr.contains(entry) {
                    problems.push(format!("error does not name entry {entry:?}"));
                }
            }
            if !o.stdout.is_empty() {
                problems.push("wrote a record".into());
            }
            if env.snapshot() != before {
                problems.push("store changed".into());
            }
            if !problems.is_empty() {
                failures.push(format!(
                    "{file} (parent: {with_parent}): {}\n{o}",
                    problems.join(", ")
                ));
            }
        }
    }
    let mut pwned = Vec::new();
    pwned_files(&env.dir, &mut pwned, 8);
    for d in ["/", "/tmp", "/etc", "/root"] {
        pwned_files(Path::new(d), &mut pwned, 0);
    }
    assert!(
        pwned.is_empty(),
        "files written outside the store: {pwned:?}"
    );
    assert!(
        failures.is_empty(),
        "{} of {} cases not refused as they should be:\n{}",
        failures.len(),
        cases.len() * 2,
        failures.join("\n")
    );
    // and nothing is left in the store's staging area
    assert_eq!(std::fs::read_dir(env.root.join("tmp")).unwrap().count(), 0);
}

fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    format!("{:x}", sha2::Sha256::digest(data))
}

/// What `expect` (of tests/hostile/gen.py's legal cases) says a path of a
/// layer holds, checked; the problem found, if any.
fn check_expected(diff: &Path, path: &str, want: &str) -> Option<String> {
    let p = diff.join(path);
    let Ok(m) = std::fs::symlink_metadata(&p) else {
        return Some(format!("{path}: missing"));
    };
    let ok = if want == "dir" {
        m.is_dir()
    } else if let Some(t) = want.strip_prefix("symlink:") {
        m.file_type().is_symlink() && std::fs::read_link(&p).unwrap() == Path::new(t)
    } else if let Some(c) = want.strip_prefix("file:") {
        m.is_file() && std::fs::read(&p).unwrap() == c.as_bytes()
    } else if let Some(h) = want.strip_prefix("sha256:") {
        m.is_file() && sha256_hex(&std::fs::read(&p).unwrap()) == h
    } else {
        panic!("unknown expectation {want}")
    };
    (!ok).then(|| format!("{path}: not {want}"))
}

#[test]
fn legal_corpus_is_applied_as_containerd_does() {
    let env = Env::new("hostile-legal");
    let corpus = env.path("corpus");
    let gen = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hostile/gen.py");
    let st = std::process::Command::new("python3")
        .arg(&gen)
        .arg(&corpus)
        .status()
        .unwrap();
    assert!(st.success(), "gen.py failed");
    let cases: Vec<Value> =
        serde_json::from_slice(&std::fs::read(corpus.join("legal.json")).unwrap()).unwrap();
    let shadow = std::fs::read("/etc/shadow").ok();
    let base = env.cmd("layer-unpack").stdin(busybox_tar()).ok().record();
    let parent = s(&base, "layer").to_string();
    let mut failures = Vec::new();
    for case in &cases {
        let file = case["file"].as_str().unwrap();
        let data = std::fs::read(corpus.join("legal").join(file)).unwrap();
        for with_parent in [false, true] {
            let mut cmd = env.cmd("layer-unpack").arg(corpus.join("legal").join(file));
            if with_parent {
                cmd = cmd.args(["--parent", &parent]);
            }
            let o = cmd.run();
            if o.code != Some(0) {
                failures.push(format!("{file} (parent: {with_parent}): refused\n{o}"));
                continue;
            }
            let layer = s(&o.record(), "layer").to_string();
            let diff = env.root.join("layers").join(&layer[7..]).join("diff");
            for (path, want) in case["expect"].as_object().unwrap() {
                if let Some(p) = check_expected(&diff, path, want.as_str().unwrap()) {
                    failures.push(format!("{file} (parent: {with_parent}): {p}"));
                }
            }
            // the layer's tar is rebuilt byte for byte, earlier copies of
            // a replaced path included
            env.cmd("tag").args([&layer, "legal"]).ok();
            if blob_of(&env, &layer) != data {
                failures.push(format!("{file}: the rebuilt blob differs"));
            }
        }
    }
    assert!(!Path::new("/etc/cairn-legal-abs").exists());
    assert_eq!(
        std::fs::read("/etc/shadow").ok(),
        shadow,
        "/etc/shadow changed"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A docker-archive in memory: manifest.json, a config and layer files.
fn archive(manifest: &str, files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut t = crate::harness::TarBuilder::new().file("manifest.json", 0o644, manifest.as_bytes());
    for (name, data) in files {
        t = t.file(name, 0o644, data);
    }
    t.build()
}

fn sha(data: &[u8]) -> String {
    use sha2::Digest;
    format!("sha256:{:x}", sha2::Sha256::digest(data))
}

#[test]
fn hostile_archives_are_refused() {
    let env = Env::new("hostile-archives");
    env.cmd("images").ok();
    let good = busybox_tar();
    let bad = crate::harness::TarBuilder::new()
        .file("x", 0o644, b"x")
        .build();
    let config = |ids: &[String]| {
        serde_json::json!({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": ids}})
            .to_string()
    };
    // layer 2's content does not match its diff_id: layer 1, already
    // published, must be taken back
    let wrong = config(&[sha(&good), sha(b"something else")]);
    let two_layers = r#"[{"Config":"c.json","RepoTags":["x:1"],"Layers":["l1.tar","l2.tar"]}]"#;
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "second layer's diff_id mismatch",
            archive(
                two_layers,
                &[
                    ("c.json", wrong.as_bytes()),
                    ("l1.tar", &good),
                    ("l2.tar", &bad),
                ],
            ),
        ),
        (
            "config path escapes",
            archive(r#"[{"Config":"../../etc/passwd","Layers":[]}]"#, &[]),
        ),
        (
            "layer path escapes",
            archive(
                r#"[{"Config":"c.json","Layers":["../../etc/shadow"]}]"#,
                &[("c.json", config(&[sha(&good)]).as_bytes())],
            ),
        ),
        (
            "layer count differs from diff_ids",
            archive(
                r#"[{"Config":"c.json","Layers":["l1.tar"]}]"#,
                &[("c.json", config(&[]).as_bytes()), ("l1.tar", &good)],
            ),
        ),
        (
            "manifest.json not an array",
            archive(r#"{"Config":"c.json"}"#, &[]),
        ),
        (
            "bad tag",
            archive(
                r#"[{"Config":"c.json","RepoTags":["UPPER/case"],"Layers":["l1.tar"]}]"#,
                &[
                    ("c.json", config(&[sha(&good)]).as_bytes()),
                    ("l1.tar", &good),
                ],
            ),
        ),
        (
            "rootfs type not layers",
            archive(
                r#"[{"Config":"c.json","Layers":[]}]"#,
                &[("c.json", br#"{"rootfs":{"type":"other","diff_ids":[]}}"#)],
            ),
        ),
        (
            "neither manifest nor index",
            crate::harness::TarBuilder::new()
                .file("hello", 0o644, b"hi")
                .build(),
        ),
    ];
    for (why, data) in cases {
        let before = env.snapshot();
        let o = env.cmd("load").stdin(data).run();
        assert_eq!(o.code, Some(1), "{why}: {o}");
        assert_eq!(o.stderr.lines().count(), 1, "{why}: {o}");
        assert!(o.stdout.is_empty(), "{why}: {o}");
        assert_eq!(env.snapshot(), before, "{why}: the store changed");
    }
}

/// A refused layer in an archive: load's one line names the layer, the
/// entry and why.
#[test]
fn load_says_which_entry_was_refused_and_why() {
    let env = Env::new("hostile-load-why");
    let layer = crate::harness::TarBuilder::new()
        .symlink("link", "/tmp")
        .file("link/cairn-pwned", 0o644, b"x")
        .build();
    let config = serde_json::json!({"architecture": "amd64", "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": [sha(&layer)]}})
    .to_string();
    let data = archive(
        r#"[{"Config":"c.json","RepoTags":["x:1"],"Layers":["l1.tar"]}]"#,
        &[("c.json", config.as_bytes()), ("l1.tar", &layer)],
    );
    let o = env.cmd("load").stdin(data).fails(1);
    assert!(
        o.stderr.contains("l1.tar")
            && o.stderr.contains("link/cairn-pwned")
            && o.stderr.contains("refusing to write through it"),
        "{o}"
    );
}
