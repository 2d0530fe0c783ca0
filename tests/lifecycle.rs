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

/// `--init`: pid 1 is cairn's init, which reaps orphans (without it, the
/// command as pid 1 leaves them zombies), passes SIGTERM on to the
/// command and exits with its status; as docker's docker-init.
#[test]
fn init_reaps_forwards_and_passes_the_status() {
    let env = Env::new("life-init");
    let tag = crate::interop::same_image(&env, "life-init:1");
    let orphan = "sh -c 'sleep 0.1 &'; exec sleep 5";
    let ps = "ps -o stat,comm | grep -E 'sleep|init'";
    for init in [&[][..], &["--init"][..]] {
        let args: Vec<&str> = ["run", "-d", "--network", "none"]
            .into_iter()
            .chain(init.iter().copied())
            .chain([tag.as_str(), "sh", "-c", orphan])
            .collect();
        let ours = env.cmd(args[0]).args(&args[1..]).ok().stdout;
        let ours = ours.trim();
        let theirs = docker().ok(&args);
        let theirs = theirs.trim();
        std::thread::sleep(Duration::from_millis(1000));
        let seen = env.cmd("exec").args([ours, "sh", "-c", ps]).ok().stdout;
        let dk = docker().ok(&["exec", theirs, "sh", "-c", ps]);
        assert_eq!(seen.replace("cairn-init", "docker-init"), dk, "{init:?}");
        assert_eq!(seen.contains('Z'), init.is_empty(), "{seen}");
        env.cmd("rm").args(["-f", ours]).ok();
        docker().ok(&["rm", "-f", theirs]);
    }
    // SIGTERM to pid 1 reaches the command; its status passes through
    let trap = "trap 'exit 7' TERM; while :; do sleep 0.1; done";
    let id = env
        .cmd("run")
        .args(["-d", "--network", "none", "--init", &tag, "sh", "-c", trap])
        .ok();
    let id = id.stdout.trim();
    std::thread::sleep(Duration::from_millis(500));
    env.cmd("exec").args([id, "sh", "-c", "kill -TERM 1"]).ok();
    let w = env.cmd("wait").args(["--format", "table", id]).ok().stdout;
    assert_eq!(w, "7\n");
    env.cmd("rm").arg(id).ok();
    // a command that cannot be found: 127, as without the init
    env.cmd("run")
        .args(["--rm", "--network", "none", "--init", &tag, "nosuch"])
        .fails(127);
    // kept with the container: create --init, then start
    let id = env
        .cmd("create")
        .args([
            "--network",
            "none",
            "--init",
            &tag,
            "sh",
            "-c",
            "cat /proc/1/comm",
        ])
        .ok();
    let id = id.stdout.trim();
    let o = env.cmd("start").args(["-a", id]).ok();
    assert_eq!(o.stdout, "cairn-init\n");
    env.cmd("rm").arg(id).ok();
    assert!(leftovers(&env).is_empty(), "{:?}", leftovers(&env));
}

/// `attach`: a detached container's output from now on, until its process
/// exits, and its status, as docker attach; signals go on to the
/// container (--sig-proxy); a stopped container is refused.
#[test]
fn attach_streams_the_output_and_the_status() {
    use std::process::{Command, Stdio};
    let env = Env::new("life-attach");
    let tag = crate::interop::same_image(&env, "life-attach:1");
    let script = "echo before; sleep 1.5; echo a; sleep 0.2; echo b; exit 5";
    let run = ["run", "-d", "--network", "none", &tag, "sh", "-c", script];
    let ours = env.cmd("run").args(&run[1..]).ok().stdout;
    let theirs = docker().ok(&run);
    std::thread::sleep(Duration::from_millis(500));
    let attach = |bin: std::path::PathBuf, id: &str, envs: Vec<(String, String)>| {
        Command::new(bin)
            .args(["attach", id.trim()])
            .envs(envs)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    let root = vec![("CAIRN_ROOT".to_string(), env.root.display().to_string())];
    let (cairn, dk) = std::thread::scope(|s| {
        let h = s.spawn(|| attach(crate::harness::bin("cairn"), &ours, root.clone()));
        let dk = docker().run(&["attach", theirs.trim()]);
        (h.join().unwrap(), dk)
    });
    assert_eq!(String::from_utf8_lossy(&cairn.stdout), "a\nb\n");
    assert_eq!(cairn.stdout, dk.stdout);
    assert_eq!((cairn.status.code(), dk.status.code()), (Some(5), Some(5)));
    let o = env.cmd("attach").arg(ours.trim()).fails(1);
    assert!(o.stderr.contains("not running"), "{o}");
    docker().ok(&["rm", theirs.trim()]);
    env.cmd("rm").arg(ours.trim()).ok();

    // --sig-proxy: a SIGTERM to attach reaches the container
    let trap = "trap 'echo term; exit 9' TERM; while :; do sleep 0.1; done";
    let id = env
        .cmd("run")
        .args(["-d", "--network", "none", &tag, "sh", "-c", trap])
        .ok();
    let id = id.stdout.trim().to_string();
    let child = Command::new(crate::harness::bin("attach"))
        .arg(&id)
        .env("CAIRN_ROOT", &env.root)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(700));
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "term\n");
    assert_eq!(out.status.code(), Some(9));
    wait_for("the container to exit", Duration::from_secs(5), || {
        state(&env, &id)["status"] == "exited"
    });
    env.cmd("rm").arg(&id).ok();
    assert!(leftovers(&env).is_empty(), "{:?}", leftovers(&env));
}
