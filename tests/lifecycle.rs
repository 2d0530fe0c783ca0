//! A container's life under its supervisor, as docker's: restart
//! policies, `--init`, `attach`, and `inspect` in docker's shape, each
//! compared with docker 20.10 where the behaviour is docker's.

use crate::fixtures::docker;
use crate::harness::{leftovers, ps_all, wait_for, Env};
use serde_json::Value;
use std::time::Duration;

/// The container's state record, from `inspect`.
fn state(env: &Env, id: &str) -> Value {
    let r = env.cmd("inspect").arg(id).ok().record();
    r["state"].clone()
}

fn restarts(st: &Value) -> u64 {
    st["restart_count"].as_u64().unwrap_or(0)
}

/// on-failure:2 runs a failing process three times in all (docker's
/// RestartCount 2, its output three times in the log); always brings a
/// killed process back; stop ends every policy, also between two runs.
#[test]
fn restart_policies_as_docker() {
    let env = Env::new("life-restart");
    let tag = crate::interop::same_image(&env, "life-restart:1");
    let run = |policy: &str, cmd: &[&str]| {
        let o = env
            .cmd("run")
            .args(["-d", "--network", "none", "--restart", policy, &tag])
            .args(cmd)
            .ok();
        o.stdout.trim().to_string()
    };
    let failing = ["sh", "-c", "echo hi; exit 1"];
    let id = run("on-failure:2", &failing);
    wait_for("three runs", Duration::from_secs(20), || {
        let st = state(&env, &id);
        st["status"] == "exited" && restarts(&st) == 2
    });
    std::thread::sleep(Duration::from_millis(800));
    let st = state(&env, &id);
    assert_eq!((st["status"].as_str(), restarts(&st)), (Some("exited"), 2));
    assert_eq!(st["exit_code"], 1);
    let ours = env.cmd("logs").arg(&id).ok().stdout;
    let theirs = docker().ok(&[
        "run",
        "-d",
        "--network",
        "none",
        "--restart",
        "on-failure:2",
        &tag,
        "sh",
        "-c",
        "echo hi; exit 1",
    ]);
    let theirs = theirs.trim();
    let dk_done = || {
        docker().ok(&[
            "inspect",
            "-f",
            "{{.State.Status}} {{.RestartCount}}",
            theirs,
        ])
    };
    wait_for("docker's three runs", Duration::from_secs(20), || {
        dk_done().trim() == "exited 2"
    });
    assert_eq!(ours, docker().ok(&["logs", theirs]));
    docker().ok(&["rm", theirs]);
    env.cmd("rm").arg(&id).ok();

    // always: a killed process comes back, in the same container
    let id = run("always", &["sleep", "60"]);
    let pid = state(&env, &id)["pid"].as_i64().unwrap();
    env.cmd("kill").arg(&id).ok();
    wait_for("the restart", Duration::from_secs(10), || {
        let st = state(&env, &id);
        st["status"] == "running" && st["pid"].as_i64() != Some(pid)
    });
    assert_eq!(restarts(&state(&env, &id)), 1);
    // stop ends it, for good
    env.cmd("stop").args(["-t", "1", &id]).ok();
    std::thread::sleep(Duration::from_millis(600));
    let st = state(&env, &id);
    assert_eq!(st["status"], "exited", "{st}");
    // a start by hand starts the count again and the policy applies again
    env.cmd("start").arg(&id).ok();
    let st = state(&env, &id);
    assert_eq!((st["status"].as_str(), restarts(&st)), (Some("running"), 0));
    env.cmd("rm").args(["-f", &id]).ok();

    // unless-stopped, a process that ends at once: stopped while it is
    // between two runs
    let id = run("unless-stopped", &["sh", "-c", "exit 3"]);
    wait_for("a few restarts", Duration::from_secs(20), || {
        restarts(&state(&env, &id)) >= 3
    });
    env.cmd("stop").arg(&id).ok();
    let st = state(&env, &id);
    assert_eq!(st["status"], "exited", "{st}");
    std::thread::sleep(Duration::from_millis(1000));
    let n = restarts(&state(&env, &id));
    std::thread::sleep(Duration::from_millis(1000));
    assert_eq!(restarts(&state(&env, &id)), n, "no restart after stop");
    env.cmd("rm").arg(&id).ok();

    // as docker: --rm and --restart do not go together; a bad policy is
    // refused before a container is made
    let o = env
        .cmd("run")
        .args(["--rm", "--restart", "always", &tag, "true"])
        .fails(125);
    assert!(o.stderr.contains("--restart and --rm"), "{o}");
    let o = env
        .cmd("run")
        .args(["-d", "--restart", "sometimes", &tag, "true"])
        .fails(125);
    assert!(o.stderr.contains("sometimes"), "{o}");
    assert!(ps_all(&env).is_empty(), "{:?}", ps_all(&env));
    assert!(leftovers(&env).is_empty(), "{:?}", leftovers(&env));
}
