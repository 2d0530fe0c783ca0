//! CVE-2019-5736 against `cairn exec`: a process in the container watches
//! /proc for the process that enters it, grabs `/proc/PID/exe` (the host's
//! cairn-exec) and its fds, and writes the binary once it is idle. The
//! test runs a private copy of cairn-exec, so an attack that gets through
//! spoils only the copy, and checks the copy afterwards.

use super::image_with;
use crate::harness::{bin, wait_for, Env};
use std::time::{Duration, Instant};

/// The container's log once the attacker printed "done".
fn attacker_report(env: &Env, id: &str) -> String {
    let log = env.root.join("containers").join(id).join("log");
    let mut s = String::new();
    wait_for("the attacker to finish", Duration::from_secs(30), || {
        s = std::fs::read_to_string(&log).unwrap_or_default();
        s.contains("done")
    });
    s
}

fn attack(env: &Env, privileged: bool) -> (String, Vec<u8>, Vec<u8>) {
    image_with(env, "attack", &["exe_grab"]);
    let copy = env.path("cairn-exec");
    std::fs::copy(bin("exec"), &copy).unwrap();
    let before = std::fs::read(&copy).unwrap();
    let mut args = vec!["-d"];
    if privileged {
        args.push("--privileged");
    }
    // The attacker watches for 6 s, the loop below enters for 3.5 s: on a
    // loaded machine `run -d` may return a second or more after it started.
    args.extend(["attack", "exe_grab", "6", "PWNED-BY-THE-CONTAINER"]);
    let id = env.cmd("run").args(&args).ok().stdout.trim().to_string();
    // Enter the container again and again while the attacker watches.
    let start = Instant::now();
    let mut n = 0;
    while start.elapsed() < Duration::from_millis(3500) {
        let mut c = std::process::Command::new(&copy);
        c.env("CAIRN_ROOT", &env.root);
        if privileged {
            c.arg("--privileged");
        }
        // Its stdio are pipes: a file given as the process's own stdout
        // is the process's to use (as with `cairn run … > out`), so it is
        // no finding of the attacker's.
        let o = c
            .args([&id, "--", "true"])
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        assert!(o.status.success(), "exec #{n}: {o:?}");
        n += 1;
    }
    assert!(n >= 10, "only {n} execs in 3.5 s");
    let report = attacker_report(env, &id);
    let after = std::fs::read(&copy).unwrap();
    env.cmd("rm").args(["-f", &id]).ok();
    (report, before, after)
}

#[test]
fn exec_exposes_no_host_binary_and_no_host_fd() {
    let env = Env::new("attack-exec-exe");
    let (report, before, after) = attack(&env, false);
    assert!(
        before == after,
        "the container wrote the host's cairn-exec:\n{report}"
    );
    for l in report.lines() {
        assert!(
            !(l.starts_with("exe ") || l.starts_with("fd ") || l.starts_with("wrote ")),
            "the container reached into the entering process: {l:?}\n{report}"
        );
    }
}

#[test]
fn even_a_privileged_container_cannot_write_the_binary() {
    // A privileged container has CAP_SYS_PTRACE, so /proc/PID/exe of the
    // entering process is open to it: what it finds must be the sealed
    // copy, never the host's file.
    let env = Env::new("attack-exec-exe-priv");
    let (report, before, after) = attack(&env, true);
    assert!(
        before == after,
        "the container wrote the host's cairn-exec:\n{report}"
    );
    assert!(!report.contains("wrote "), "{report}");
}
