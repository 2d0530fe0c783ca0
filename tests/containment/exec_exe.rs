//! CVE-2019-5736 against `cairn exec`: a process in the container watches
//! /proc for the process that enters it, grabs `/proc/PID/exe` (the host's
//! cairn-exec) and its fds, and writes the binary once it is idle. The
//! test runs a private copy of cairn-exec, so an attack that gets through
//! spoils only the copy, and checks the copy afterwards. The same attack
//! goes against `cairn-runtime exec` (the very attack on runc), the
//! container started by `cairn-runtime run --detach` of a docker-shaped
//! bundle.

use super::image_with;
use super::via::{Bundle, Via};
use crate::harness::{bin, wait_for, Env};
use std::path::Path;
use std::time::{Duration, Instant};

/// The attacker's output in `log` once it printed "done".
fn attacker_report(log: &Path) -> String {
    let mut s = String::new();
    wait_for("the attacker to finish", Duration::from_secs(30), || {
        s = crate::harness::log_text(log);
        s.contains("done")
    });
    s
}

/// The attacker's command: it watches for 6 s, the loop of [`enter`]
/// enters for 3.5 s (on a loaded machine starting a detached container may
/// take a second or more).
const ATTACKER: [&str; 3] = ["exe_grab", "6", "PWNED-BY-THE-CONTAINER"];

/// Enter the container again and again for 3.5 s while the attacker
/// watches, each time running `copy` (a private copy of the entering
/// binary) with `args`, then `true` in the container.
fn enter(copy: &Path, env: &Env, args: &[&str]) {
    let start = Instant::now();
    let mut n = 0;
    while start.elapsed() < Duration::from_millis(3500) {
        // Its stdio are pipes: a file given as the process's own stdout
        // is the process's to use (as with `cairn run … > out`), so it is
        // no finding of the attacker's.
        let o = std::process::Command::new(copy)
            .env("CAIRN_ROOT", &env.root)
            .current_dir(&env.dir)
            .args(args)
            .arg("true")
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        assert!(o.status.success(), "exec #{n}: {o:?}");
        n += 1;
    }
    assert!(n >= 10, "only {n} execs in 3.5 s");
}

/// The attack through `via`: the attacker's report, and the entering
/// binary's copy before and after.
fn attack(env: &Env, via: Via, privileged: bool) -> (String, Vec<u8>, Vec<u8>) {
    image_with(env, "attack", &["exe_grab"]);
    let tool = if via == Via::Cairn { "exec" } else { "runtime" };
    let copy = env.path(&format!("cairn-{tool}"));
    std::fs::copy(bin(tool), &copy).unwrap();
    let before = std::fs::read(&copy).unwrap();
    let report = match via {
        Via::Cairn => {
            let mut args = vec!["-d"];
            if privileged {
                args.push("--privileged");
            }
            args.push("attack");
            args.extend(ATTACKER);
            let id = env.cmd("run").args(&args).ok().id();
            let flags: &[&str] = if privileged { &["--privileged"] } else { &[] };
            enter(&copy, env, &[flags, &[id.as_str(), "--"]].concat());
            let log = env.root.join("containers").join(&id).join("log");
            let report = attacker_report(&log);
            env.cmd("rm").args(["-f", &id]).ok();
            report
        }
        Via::Runtime => {
            let b = Bundle::with(env, privileged, "attack", &ATTACKER);
            // the detached container keeps the stdio of the run call
            let log = env.path("attacker.log");
            let st = b
                .runtime()
                .c
                .args(["run", "--detach", "--bundle"])
                .arg(&b.dir)
                .arg(&b.id)
                .stdin(std::process::Stdio::null())
                .stdout(std::fs::File::create(&log).unwrap())
                .status()
                .unwrap();
            assert!(st.success(), "cairn-runtime run --detach: {st}");
            let root = env.path("runtime").display().to_string();
            enter(&copy, env, &["--root", &root, "exec", &b.id]);
            attacker_report(&log)
        }
    };
    let after = std::fs::read(&copy).unwrap();
    (report, before, after)
}

#[test]
fn exec_exposes_no_host_binary_and_no_host_fd() {
    let env = Env::new("attack-exec-exe");
    for via in Via::BOTH {
        let (report, before, after) = attack(&env, via, false);
        assert!(
            before == after,
            "{via:?}: the container wrote the host's binary:\n{report}"
        );
        for l in report.lines() {
            assert!(
                !(l.starts_with("exe ") || l.starts_with("fd ") || l.starts_with("wrote ")),
                "{via:?}: the container reached into the entering process: {l:?}\n{report}"
            );
        }
    }
}

#[test]
fn even_a_privileged_container_cannot_write_the_binary() {
    // A privileged container has CAP_SYS_PTRACE, so /proc/PID/exe of the
    // entering process is open to it: what it finds must be the sealed
    // copy, never the host's file.
    let env = Env::new("attack-exec-exe-priv");
    for via in Via::BOTH {
        let (report, before, after) = attack(&env, via, true);
        assert!(
            before == after,
            "{via:?}: the container wrote the host's binary:\n{report}"
        );
        assert!(!report.contains("wrote "), "{via:?}: {report}");
    }
}
