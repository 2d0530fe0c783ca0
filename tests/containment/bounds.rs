//! What a container may take of the host, bounded by default: processes
//! (a fork bomb used to take the host's pid table), its detached log (it
//! grew without bound) and its life (killing a foreground `cairn run` left
//! the container running, supervised by nobody).

use super::via::Via;
use super::{image_with, within};
use crate::harness::{busybox_image, ps_all, s, wait_for, Env};
use std::time::{Duration, Instant};

#[test]
fn a_fork_bomb_stops_at_the_default_pids_limit() {
    let env = Env::new("attack-forkbomb");
    image_with(&env, "attack", &["forkbomb"]);
    // through the runtime: the limit the bundle's config.json carries
    for via in Via::BOTH {
        let (cmd, _bundle) = via.run(&env, "attack", &["forkbomb", "3000"]);
        let o = within(cmd, 120);
        assert_eq!(o.code, Some(0), "{via:?}: {o}");
        let n: usize = o
            .stdout
            .split_whitespace()
            .nth(1)
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{via:?}: {o}"));
        // podman's default: 2048 tasks, the forking process among them
        assert!(
            n < 2048,
            "{via:?}: {n} processes: no default pids limit\n{o}"
        );
        assert!(
            n > 1500,
            "{via:?}: the limit is far below the default: {n}\n{o}"
        );
    }
    // -1 lifts it (bounded here by the attack's own 2100)
    let o = within(
        env.cmd("run")
            .args(["--pids-limit", "-1", "attack", "forkbomb", "2100"]),
        120,
    );
    assert!(o.stdout.starts_with("forked 2100 "), "{o}");
    // 0 lifts it too, as docker 20.10 takes it (no limit, PidsLimit null)
    let o = within(
        env.cmd("run")
            .args(["--pids-limit", "0", "attack", "forkbomb", "2100"]),
        120,
    );
    assert!(o.stdout.starts_with("forked 2100 "), "{o}");
}

#[test]
fn a_detached_log_stays_within_its_bounds() {
    let env = Env::new("attack-log");
    busybox_image(&env);
    let dir = |id: &str| env.root.join("containers").join(id);
    let wait_exited = |id: &str| {
        wait_for("the container to exit", Duration::from_secs(60), || {
            let all = ps_all(&env);
            let c = all.iter().find(|c| s(c, "container") == id).unwrap();
            s(c, "status") == "exited"
        })
    };
    // 3 MB of numbered lines against 1 MB files, 2 kept
    let id = env
        .cmd("run")
        .args([
            "-d",
            "--log-opt",
            "max-size=1m",
            "--log-opt",
            "max-file=2",
            "busybox",
            "sh",
            "-c",
            "seq 1 400000; echo last-line",
        ])
        .ok()
        .id();
    wait_exited(&id);
    let log = crate::harness::log_text(&dir(&id).join("log"));
    let old = crate::harness::log_text(&dir(&id).join("log.1"));
    assert!(!dir(&id).join("log.2").exists());
    assert!(log.len() <= 1 << 20 && old.len() <= 1 << 20);
    assert!(
        log.ends_with("400000\nlast-line\n"),
        "the newest lines are kept"
    );
    let first_kept: u64 = old.lines().next().unwrap().parse().unwrap();
    let last_old: u64 = old.lines().last().unwrap().parse().unwrap();
    let first_new: u64 = log.lines().next().unwrap().parse().unwrap();
    assert_eq!(last_old + 1, first_new, "no line lost between the files");
    assert!(first_kept > 1, "older lines were dropped");

    // The default: docker's local driver, 5 files of 20 MB, so 110 MB of
    // output keeps at most 100 MB.
    let id = env
        .cmd("run")
        .args([
            "-d",
            "busybox",
            "sh",
            "-c",
            "yes 0123456789abcdef | head -c 110000000",
        ])
        .ok()
        .id();
    wait_exited(&id);
    let mut total = 0;
    for f in ["log", "log.1", "log.2", "log.3", "log.4"] {
        let m = std::fs::metadata(dir(&id).join(f)).unwrap();
        assert!(m.len() <= 20 << 20, "{f}: {} bytes", m.len());
        total += m.len();
    }
    assert!(!dir(&id).join("log.5").exists());
    assert!(total > 80 << 20 && total <= 100 << 20, "{total}");
    env.cmd("rm").args([&id]).ok();
    env.cmd("run")
        .args(["-d", "--log-opt", "max-files=3", "busybox", "true"])
        .fails(125);
}

#[test]
fn a_container_dies_with_its_foreground_run() {
    let env = Env::new("attack-orphan");
    busybox_image(&env);
    for rm in [false, true] {
        let mut c = env.cmd("run");
        if rm {
            c = c.arg("--rm");
        }
        let mut child = c
            .args(["busybox", "sleep", "60"])
            .c
            .stdin(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // wait until it runs, then kill `cairn run` the hard way
        let start = Instant::now();
        let (id, pid) = loop {
            let all = ps_all(&env);
            if let Some(c) = all.iter().find(|c| s(c, "status") == "running") {
                let st: serde_json::Value = serde_json::from_slice(
                    &std::fs::read(
                        env.root
                            .join("containers")
                            .join(s(c, "container"))
                            .join("state.json"),
                    )
                    .unwrap(),
                )
                .unwrap();
                break (s(c, "container").to_string(), st["pid"].as_i64().unwrap());
            }
            assert!(start.elapsed() < Duration::from_secs(20), "never ran");
            std::thread::sleep(Duration::from_millis(20));
        };
        child.kill().unwrap();
        child.wait().unwrap();
        let start = Instant::now();
        while std::path::Path::new(&format!("/proc/{pid}")).exists() {
            let zombie = std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .map(|s| s.contains(") Z "))
                .unwrap_or(true);
            if zombie {
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(5),
                "rm={rm}: the container's init {pid} outlived its cairn run"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        // recorded exited; a --rm one removed by that look, as docker
        // removes an AutoRemove container once it exited
        let all = ps_all(&env);
        match all.iter().find(|c| s(c, "container") == id) {
            Some(c) if !rm => assert_eq!(s(c, "status"), "exited", "{c:?}"),
            c => assert!(rm && c.is_none(), "rm={rm}: {c:?}"),
        }
        if !rm {
            env.cmd("rm").arg(&id).ok();
        }
    }
}

#[test]
fn a_fork_bomb_in_a_build_step_stops_at_the_default_limit() {
    let env = Env::new("attack-forkbomb-build");
    image_with(&env, "attack", &["forkbomb"]);
    let ctx = env.path("ctx");
    std::fs::create_dir_all(&ctx).unwrap();
    std::fs::write(
        ctx.join("Dockerfile"),
        "FROM attack\nRUN forkbomb 3000 > /count\n",
    )
    .unwrap();
    env.cmd("build").args(["-t", "bombed"]).arg(&ctx).ok();
    let o = env
        .cmd("run")
        .args(["--rm", "bombed", "cat", "/count"])
        .ok();
    let n: usize = o.stdout.split_whitespace().nth(1).unwrap().parse().unwrap();
    assert!(n < 2048, "a RUN step forked {n} processes\n{o}");
}
