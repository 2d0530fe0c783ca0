//! The tools are adapters: argument parsing, a call into libcairn, records
//! out, and no `unsafe`. Over several subjects they all fail the same way.

use crate::harness::{busybox_image, ps_all, s, Env};
use std::path::Path;

/// The longest a `tools/<verb>/main.rs` may be: what is longer holds logic
/// that belongs in libcairn (or in tools/cli, when it is about the
/// command line).
const MAX_LINES: usize = 120;

/// Every `.rs` file under `dir`, recursively.
fn sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn tools_are_short_and_safe() {
    let tools = Path::new(env!("CARGO_MANIFEST_DIR")).join("tools");
    let mut files = Vec::new();
    sources(&tools, &mut files);
    let mut bad = Vec::new();
    let mut mains = 0;
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let lines = text.lines().count();
        if file.ends_with("main.rs") {
            mains += 1;
            if lines > MAX_LINES {
                bad.push(format!(
                    "{}: {lines} lines (at most {MAX_LINES})",
                    file.display()
                ));
            }
        }
        for (i, l) in text.lines().enumerate() {
            if l.split(|c: char| !c.is_alphanumeric() && c != '_')
                .any(|w| w == "unsafe")
            {
                bad.push(format!(
                    "{}:{}: unsafe (it belongs in libcairn)",
                    file.display(),
                    i + 1
                ));
            }
        }
    }
    assert!(
        mains > 20,
        "found only {mains} tools under {}",
        tools.display()
    );
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn rm_goes_on_past_a_failed_subject() {
    let env = Env::new("adapters-rm");
    busybox_image(&env);
    let make = || {
        let r = env
            .cmd("union-mount")
            .args(["--no-mount", "busybox"])
            .ok()
            .record();
        s(&r, "container").to_string()
    };
    let (good, good2) = (make(), make());
    let o = env.cmd("rm").args([&good, "missing", &good2]).fails(1);
    let errors: Vec<&str> = o.stderr.lines().collect();
    assert_eq!(errors.len(), 1, "{o}");
    assert!(errors[0].starts_with("cairn-rm: error: "), "{o}");
    assert!(errors[0].contains("missing"), "{o}");
    let removed = o.records();
    assert_eq!(removed.len(), 2, "{o}");
    assert_eq!(s(&removed[0], "container"), good);
    assert_eq!(s(&removed[1], "container"), good2);
    assert!(ps_all(&env).is_empty());
}

#[test]
fn exit_statuses_follow_one_policy() {
    // lib/src/record.rs "Diagnostics and exit status" is the policy.
    let env = Env::new("exit-policy");
    busybox_image(&env);
    let one_line = |o: &crate::harness::Output| {
        assert_eq!(o.stderr.trim().lines().count(), 1, "{o}");
    };
    // run-like tools: their own failures are 125, as docker's
    let o = env.cmd("run").args(["nosuchimage", "true"]).fails(125);
    assert!(o.stderr.contains("no such image"), "{o}");
    one_line(
        &env.cmd("run")
            .args(["-m", "lots", "busybox", "true"])
            .fails(125),
    );
    one_line(&env.cmd("start").arg("nosuch").fails(125));
    one_line(&env.cmd("exec").args(["nosuch", "true"]).fails(125));
    env.cmd("run").args(["busybox", "/no/such/cmd"]).fails(127);
    // an unknown flag, a bad value, a missing argument: a usage error, in
    // one line that names the tool and its --help (clap prints a block)
    for (tool, args) in [
        ("run", &["--bogus", "busybox", "true"][..]),
        ("create", &["--cpus", "-1", "busybox"]),
        ("create", &[]),
        ("network", &["create", "--bogus", "n"]),
        ("images", &["--format"]),
    ] {
        let o = env.cmd(tool).args(args).fails(2);
        one_line(&o);
        let help = format!("see 'cairn-{tool}");
        assert!(
            o.stderr.starts_with(&format!("cairn-{tool}: error: ")),
            "{o}"
        );
        assert!(o.stderr.contains(&help), "{o}");
    }
    // a porcelain's errors carry its name, also those of the plumbing it
    // runs (run and create run union-mount, start runs isolate)
    for (tool, args) in [
        ("run", &["nosuchimage", "true"][..]),
        ("run", &["-d", "nosuchimage"]),
        ("create", &["nosuchimage"]),
        ("start", &["nosuch"]),
    ] {
        let o = env.cmd(tool).args(args).run();
        assert_ne!(o.code, Some(0), "{o}");
        one_line(&o);
        assert!(
            o.stderr.starts_with(&format!("cairn-{tool}: error: ")),
            "{o}"
        );
    }
    // the dispatcher's own options too
    let o = env.cmd("cairn").arg("--bogus").fails(2);
    one_line(&o);
    assert!(o.stderr.contains("see 'cairn --help'"), "{o}");
    // the other tools: 1
    let o = env.cmd("stop").arg("nosuch").fails(1);
    assert!(o.stderr.contains("no such container: nosuch"), "{o}");
    one_line(&o);
    env.cmd("rmi").arg("nosuchimage").fails(1);
}

#[test]
fn isolate_goes_on_past_a_failed_subject() {
    // lib/src/record.rs, "isolate: the child's output and the record":
    // every subject runs; isolate's own failure wins the status, else the
    // last process that did not exit 0.
    let env = Env::new("adapters-isolate");
    busybox_image(&env);
    let make = |code: &str| {
        env.cmd("union-mount")
            .args(["--no-mount", "busybox", "--", "sh", "-c"])
            .arg(format!("exit {code}"))
            .ok()
            .record()
    };
    let (three, zero) = (make("3"), make("0"));
    let mut missing = crate::harness::Record::new();
    missing.insert("container".into(), "0".repeat(64).into());
    let o = env
        .cmd("isolate")
        .stdin_records(&[three.clone(), missing, zero.clone()])
        .fails(125);
    let errors: Vec<&str> = o.stderr.lines().collect();
    assert_eq!(errors.len(), 1, "{o}");
    assert!(errors[0].starts_with("cairn-isolate: error: "), "{o}");
    let ran = o.records();
    assert_eq!(ran.len(), 2, "{o}");
    assert_eq!(s(&ran[0], "container"), s(&three, "container"));
    assert_eq!(ran[0]["exit_code"], 3);
    assert_eq!(s(&ran[1], "container"), s(&zero, "container"));
    assert_eq!(ran[1]["exit_code"], 0);
    // no failure of isolate's own: the last process that failed
    let o = env
        .cmd("isolate")
        .stdin_records(&[three.clone(), zero.clone()])
        .fails(3);
    assert_eq!(o.records().len(), 2, "{o}");
    env.cmd("isolate")
        .stdin_records(&[zero.clone(), zero.clone()])
        .ok();
    for r in [&three, &zero] {
        env.cmd("rm").args(["-f", s(r, "container")]).ok();
    }
    assert!(crate::harness::leftovers(&env).is_empty());
}
