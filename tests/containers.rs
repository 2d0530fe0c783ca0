//! Containers and running containers, on real namespaces, cgroups and
//! overlayfs, as root.

use crate::harness::{busybox_image, leftovers, ps_all, s, wait_for, Env};
use std::time::{Duration, Instant};

fn container_dir(env: &Env, id: &str) -> std::path::PathBuf {
    env.root.join("containers").join(id)
}

#[test]
fn happiness_lives_in_the_rw_layer() {
    let env = Env::new("ctr-happiness");
    busybox_image(&env);
    env.cmd("run")
        .args(["busybox", "--", "touch", "/happiness.txt"])
        .ok();
    let all = ps_all(&env);
    assert_eq!(all.len(), 1);
    let c = &all[0];
    assert_eq!(s(c, "status"), "exited");
    assert_eq!(c["exit_code"], 0);
    // nothing is running, yet the file is in the container's upper dir
    assert!(env
        .cmd("ps")
        .args(["--format", "json"])
        .ok()
        .records()
        .is_empty());
    let upper = container_dir(&env, s(c, "container")).join("upper/happiness.txt");
    assert!(upper.is_file(), "{} missing", upper.display());
    let table = env.cmd("ps").args(["-a", "--format", "table"]).ok().stdout;
    assert!(table.contains("Exited (0)"), "{table}");
    // inspect shows the container's metadata and state
    let i = env.cmd("inspect").arg(s(c, "container")).ok().record();
    assert_eq!(s(&i, "status"), "exited");
    assert_eq!(i["state"]["exit_code"], 0);
    assert_eq!(
        i["config"]["Cmd"],
        serde_json::json!(["touch", "/happiness.txt"])
    );
    assert!(i["upper"].as_str().unwrap().ends_with("/upper"));
    let by_name = env
        .cmd("inspect")
        .args(["--type", "container", s(c, "name")])
        .ok()
        .record();
    assert_eq!(by_name["container"], i["container"]);
    env.cmd("inspect")
        .args(["--type", "image", s(c, "name")])
        .fails(1);
    assert!(leftovers(&env).is_empty(), "{:?}", leftovers(&env));
}

#[test]
fn inside_a_running_container() {
    let env = Env::new("ctr-inside");
    busybox_image(&env);
    let script = r#"
        echo "pid=$$"
        echo "host=$(hostname)"
        echo "procs=$(ls /proc | grep -c '^[0-9]')"
        echo "net=$(ls /sys/class/net | tr '\n' ' ')"
        grep CapEff /proc/self/status | tr -d '\t'
        echo fds-begin; ls /proc/1/fd; echo fds-end
        (echo c > /proc/sysrq-trigger) 2>/dev/null && echo sysrq=written || echo sysrq=refused
        (echo x > /proc/sys/kernel/domainname) 2>/dev/null && echo procsys=written || echo procsys=refused
        cat /proc/kcore 2>/dev/null | head -c 1 | wc -c | sed 's/^/kcore=/'
        echo "cwd=$(pwd)"
        grep NoNewPrivs /proc/self/status | tr -d '\t'
        grep '^Seccomp:' /proc/self/status | tr -d '\t'
        unshare -U -r true 2>/dev/null && echo userns=created || echo userns=refused
    "#;
    // An extra open fd in the caller must not reach the container.
    let bin = crate::harness::bin("run");
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "exec 7</dev/null; exec '{}' busybox sh -c \"$0\"",
            bin.display()
        ))
        .arg(script)
        .env("CAIRN_ROOT", &env.root)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let get = |k: &str| {
        stdout
            .lines()
            .find_map(|l| {
                l.strip_prefix(&format!("{k}="))
                    .or_else(|| l.strip_prefix(&format!("{k}:")))
            })
            .unwrap_or_else(|| panic!("no {k} in {stdout}"))
            .trim()
            .to_string()
    };
    assert_eq!(get("pid"), "1");
    let host = nix::unistd::gethostname().unwrap().into_string().unwrap();
    assert_ne!(get("host"), host);
    let c = &ps_all(&env)[0];
    assert_eq!(get("host"), &s(c, "container")[..12]);
    // only sh and its ls: the host's processes are not visible
    let procs: usize = get("procs").parse().unwrap();
    assert!(procs <= 5, "{procs} processes visible");
    // run's default network is the bridge, as docker's
    assert_eq!(get("net"), "eth0 lo");
    assert_eq!(get("CapEff"), "00000000a80425fb");
    let fds: Vec<&str> = stdout
        .lines()
        .skip_while(|l| *l != "fds-begin")
        .skip(1)
        .take_while(|l| *l != "fds-end")
        .collect();
    assert_eq!(fds, ["0", "1", "2"], "init has fds beyond 0-2");
    assert_eq!(get("sysrq"), "refused");
    assert_eq!(get("procsys"), "refused");
    assert_eq!(get("kcore"), "0");
    assert_eq!(get("cwd"), "/");
    assert_eq!(get("NoNewPrivs"), "1");
    // seccomp: filter mode, and no new user namespace
    assert_eq!(get("Seccomp"), "2");
    assert_eq!(get("userns"), "refused");
}

#[test]
fn cpu_quota_and_signals_reach_the_container() {
    let env = Env::new("ctr-cpu-signal");
    busybox_image(&env);
    let id = detached(&env, &["--cpus", "0.5", "sleep", "100"]);
    let st = state_of(&env, &id);
    let cg = st["cgroup"].as_str().unwrap().to_string();
    let quota = ["/sys/fs/cgroup/cpu/cairn", "/sys/fs/cgroup/cairn"]
        .iter()
        .find_map(|d| {
            let d = std::path::Path::new(d).join(&cg);
            std::fs::read_to_string(d.join("cpu.cfs_quota_us"))
                .or_else(|_| std::fs::read_to_string(d.join("cpu.max")))
                .ok()
        })
        .expect("the container's cpu cgroup");
    assert!(
        quota.trim() == "50000" || quota.starts_with("50000 "),
        "{quota}"
    );
    env.cmd("rm").args(["-f", &id]).ok();
    // SIGTERM to a foreground run is passed to the container's process
    let mut child = std::process::Command::new(crate::harness::bin("run"))
        .args([
            "busybox",
            "sh",
            "-c",
            "trap 'echo got TERM; exit 42' TERM; echo ready; while :; do sleep 0.1; done",
        ])
        .env("CAIRN_ROOT", &env.root)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut buf = [0u8; 6];
    std::io::Read::read_exact(&mut out, &mut buf).unwrap();
    assert_eq!(&buf, b"ready\n");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let st = child.wait().unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut out, &mut rest).unwrap();
    assert_eq!(st.code(), Some(42), "{rest}");
    assert_eq!(rest, "got TERM\n");
}

#[test]
fn privileged_opts_out() {
    let env = Env::new("ctr-privileged");
    busybox_image(&env);
    let o = env
        .cmd("run")
        .args([
            "--privileged",
            "busybox",
            "sh",
            "-c",
            "grep CapEff /proc/self/status; grep -c kcore /proc/mounts; grep '^Seccomp:' /proc/self/status; true",
        ])
        .ok();
    assert!(!o.stdout.contains("a80425fb"), "{o}");
    assert!(o.stdout.contains("Seccomp:\t0"), "{o}");
    assert!(
        o.stdout.lines().nth(1) == Some("0"),
        "kcore still masked: {o}"
    );
}

#[test]
fn exit_statuses_pass_through() {
    let env = Env::new("ctr-exit");
    busybox_image(&env);
    env.cmd("run")
        .args(["busybox", "sh", "-c", "exit 3"])
        .fails(3);
    let o = env
        .cmd("run")
        .args(["busybox", "no-such-command"])
        .fails(127);
    assert!(o.stderr.contains("no-such-command"), "{o}");
    env.cmd("run").args(["busybox", "/etc/passwd"]).fails(126);
    // the process's stdout is plain stdout
    let o = env.cmd("run").args(["busybox", "cat", "/etc/passwd"]).ok();
    assert!(o.stdout.starts_with("root:x:0:0"), "{o}");
    // stdin passes through with -i
    let o = env
        .cmd("run")
        .args(["-i", "busybox", "tr", "a-z", "A-Z"])
        .stdin("hello\n")
        .ok();
    assert_eq!(o.stdout, "HELLO\n");
    // -t gives a terminal
    let o = env
        .cmd("run")
        .args([
            "-t",
            "busybox",
            "sh",
            "-c",
            "[ -t 0 ] && [ -t 1 ] && echo TTY",
        ])
        .stdin("")
        .ok();
    assert!(o.stdout.contains("TTY"), "{o}");
}

#[test]
fn pipeline_keeps_records_and_output_apart() {
    let env = Env::new("ctr-pipeline");
    busybox_image(&env);
    let mounted = env.cmd("union-mount").arg("busybox").ok().record();
    let rootfs = s(&mounted, "rootfs").to_string();
    assert!(
        std::path::Path::new(&rootfs).join("bin/busybox").exists(),
        "view not mounted"
    );
    let mut rec = mounted.clone();
    rec.insert("mine".into(), serde_json::json!("kept"));
    let o = env
        .cmd("isolate")
        .args([
            "--",
            "sh",
            "-c",
            "echo to-stdout; echo to-stderr >&2; exit 4",
        ])
        .stdin_records(&[rec])
        .fails(4);
    let r = o.record();
    assert_eq!(r["exit_code"], 4);
    assert_eq!(r["mine"], "kept");
    assert_eq!(s(&r, "container"), s(&mounted, "container"));
    assert!(
        o.stderr.contains("to-stdout") && o.stderr.contains("to-stderr"),
        "{o}"
    );
    // created without mounting, then started: the view is mounted only while it runs
    let c = env
        .cmd("union-mount")
        .args(["--no-mount", "busybox", "--", "true"])
        .ok()
        .record();
    assert!(c.get("rootfs").is_none());
    env.cmd("isolate").arg(s(&c, "container")).ok();
    assert!(leftovers(&env)
        .iter()
        .all(|l| !l.contains(s(&c, "container"))));
}

#[test]
fn memory_and_pids_limits() {
    let env = Env::new("ctr-limits");
    busybox_image(&env);
    // 100 MB in a 32 MB cgroup: the OOM killer ends it (137)
    env.cmd("run")
        .args([
            "--memory",
            "32m",
            "busybox",
            "dd",
            "if=/dev/zero",
            "of=/dev/null",
            "bs=100M",
            "count=1",
        ])
        .fails(137);
    // a fork loop stops at 16 processes and the host is fine
    let o = env
        .cmd("run")
        .args([
            "--pids-limit",
            "16",
            "busybox",
            "sh",
            "-c",
            "(for i in $(seq 60); do sleep 2 & done) 2>/dev/null; set -- /proc/[0-9]*; echo $#",
        ])
        .run();
    let n: usize = o.stdout.trim().parse().unwrap_or_else(|_| panic!("{o}"));
    assert!(n <= 16, "{n} processes despite --pids-limit 16\n{o}");
    assert!(std::process::Command::new("true")
        .status()
        .unwrap()
        .success());
    assert!(leftovers(&env).is_empty(), "{:?}", leftovers(&env));
}

/// What the kernel holds for the running container `id`: its memory
/// limit, memory plus swap (v2: memory plus swap.max; none where swap is
/// not accounted), pids bound and CPU quota, as cgroup files spell them.
fn kernel_limits(env: &Env, id: &str) -> [Option<String>; 4] {
    let cg = state_of(env, id)["cgroup"].as_str().unwrap().to_string();
    let read = |v1: &str, v2: &str| {
        let (ctl, file) = v1.split_once('/').unwrap();
        let one = format!("/sys/fs/cgroup/{ctl}/cairn/{cg}/{file}");
        let two = format!("/sys/fs/cgroup/cairn/{cg}/{v2}");
        std::fs::read_to_string(one)
            .or_else(|_| std::fs::read_to_string(two))
            .ok()
            .map(|t| t.trim().to_string())
    };
    let memory = read("memory/memory.limit_in_bytes", "memory.max");
    let swap = read("memory/memory.memsw.limit_in_bytes", "memory.swap.max");
    let v2 = std::path::Path::new(&format!("/sys/fs/cgroup/cairn/{cg}/memory.max")).exists();
    // v2's swap.max is swap alone: memory plus swap is the sum
    let total = match (v2, &memory, swap) {
        (true, Some(m), Some(s)) if s != "max" => {
            Some((m.parse::<u64>().unwrap() + s.parse::<u64>().unwrap()).to_string())
        }
        (_, _, s) => s,
    };
    let pids = read("pids/pids.max", "pids.max");
    let cpu = read("cpu/cpu.cfs_quota_us", "cpu.max").map(|q| q.split(' ').next().unwrap().into());
    [memory, total, pids, cpu]
}

/// The limits `create` takes are the container's: inspect shows them
/// before it ever ran, and every start applies them (start, a restart,
/// the restart policy's); isolate's own flags still win for its run.
#[test]
fn create_records_limits_every_start_applies() {
    let env = Env::new("ctr-create-limits");
    busybox_image(&env);
    #[rustfmt::skip]
    let made = env.cmd("create").args([
        "--name", "lim", "-m", "64m", "--pids-limit", "50", "--cpus", "0.5",
        "--restart", "always", "busybox", "sh", "-c", "sleep 2; exit 3",
    ]).ok();
    let id = made.id();
    // docker's default for -m alone: twice it where the kernel bounds swap
    let swap_limit = [
        "memory/memory.memsw.limit_in_bytes",
        "cairn/memory.swap.max",
    ]
    .iter()
    .any(|f| std::path::Path::new("/sys/fs/cgroup").join(f).exists());
    let swap = if swap_limit { "134217728" } else { "-1" };
    let shown = "{{.HostConfig.Memory}} {{.HostConfig.MemorySwap}} {{.HostConfig.PidsLimit}} \
                 {{.HostConfig.NanoCpus}} {{.HostConfig.CpuQuota}}";
    let want = format!("67108864 {swap} 50 500000000 0\n");
    assert_eq!(
        env.cmd("inspect").args(["-f", shown, "lim"]).ok().stdout,
        want
    );
    let kernel = |env: &Env| kernel_limits(env, &id);
    let want_kernel = [
        Some("67108864".to_string()),
        swap_limit.then(|| "134217728".into()),
        Some("50".into()),
        Some("50000".into()),
    ];
    env.cmd("start").arg("lim").ok();
    assert_eq!(kernel(&env), want_kernel, "after start");
    assert_eq!(
        env.cmd("inspect").args(["-f", shown, "lim"]).ok().stdout,
        want
    );
    // the restart policy starts it again with them
    wait_for("a restart by its policy", Duration::from_secs(30), || {
        let st = state_of(&env, &id);
        st["restart_count"].as_u64().unwrap_or(0) >= 1 && st["status"] == "running"
    });
    assert_eq!(kernel(&env), want_kernel, "after its policy's restart");
    env.cmd("restart").args(["-t", "0", "lim"]).ok();
    assert_eq!(kernel(&env), want_kernel, "after restart");
    env.cmd("stop").args(["-t", "0", "lim"]).ok();
    // isolate's own flags are for its run; what is recorded stays
    env.cmd("isolate")
        .args(["-d", "-m", "80m", "--pids-limit", "60", "lim"])
        .ok();
    let k = kernel(&env);
    assert_eq!(
        (&k[0], &k[2], &k[3]),
        (
            &Some("83886080".into()),
            &Some("60".into()),
            &Some("50000".into())
        )
    );
    assert_eq!(
        env.cmd("inspect").args(["-f", shown, "lim"]).ok().stdout,
        want
    );
    env.cmd("stop").args(["-t", "0", "lim"]).ok();
    // isolate's --memory-swap alone goes with the recorded -m
    env.cmd("isolate")
        .args(["-d", "--memory-swap", "200m", "lim"])
        .ok();
    let k = kernel(&env);
    let swap = swap_limit.then(|| (200u64 << 20).to_string());
    assert_eq!((&k[0], &k[1]), (&Some("67108864".into()), &swap));
    env.cmd("stop").args(["-t", "0", "lim"]).ok();
    let o = env
        .cmd("isolate")
        .args(["--memory-swap", "32m", "lim"])
        .fails(125);
    assert!(o.stderr.contains("at least the memory limit"), "{o}");
    env.cmd("rm").args(["-f", "lim"]).ok();
    // none asked: no field in the record, and the default bound only
    let plain = env.cmd("create").args(["busybox", "sleep", "60"]).ok().id();
    let plain = plain.as_str();
    let record =
        std::fs::read_to_string(container_dir(&env, plain).join("container.json")).unwrap();
    assert!(!record.contains("resources"), "{record}");
    env.cmd("start").arg(plain).ok();
    let k = kernel_limits(&env, plain);
    env.cmd("rm").args(["-f", plain]).ok();
    assert_eq!(k[2].as_deref(), Some("2048"));
    assert!(
        k[0].as_deref()
            .is_some_and(|m| m.parse::<u64>().is_ok_and(|m| m > 1 << 40))
            || k[0].as_deref() == Some("max"),
        "{k:?}"
    );
    // refused as docker refuses them, before a container is made
    for bad in [
        vec!["-m", "64m", "--memory-swap", "32m"],
        vec!["--memory-swap", "1g"],
        vec!["-m", "6291455"],
        vec!["--cpus", "-1"],
    ] {
        let o = env
            .cmd("create")
            .args(&bad)
            .args(["busybox", "true"])
            .fails(2);
        assert_eq!(o.stderr.lines().count(), 1, "{bad:?}: {o}");
    }
    assert_eq!(env.cmd("ps").args(["-aq"]).ok().stdout, "");
    assert!(leftovers(&env).is_empty(), "{:?}", leftovers(&env));
}

/// `--privileged`, `--log-opt` and `--rm` that `create` takes are the
/// container's, as docker's HostConfig keeps them: every start applies
/// them.
#[test]
fn create_records_privileged_log_bounds_and_rm() {
    let env = Env::new("ctr-create-host");
    busybox_image(&env);
    let made = |args: &[&str]| env.cmd("create").args(args).ok().id();
    let probe = "grep CapEff /proc/self/status; grep -c kcore /proc/mounts; true";
    let id = made(&["--privileged", "busybox", "sh", "-c", probe]);
    let privileged = |out: &str| {
        let caps = out.lines().next().unwrap_or_default();
        assert!(
            caps.starts_with("CapEff:") && !caps.ends_with("a80425fb"),
            "{out}"
        );
        assert_eq!(out.lines().nth(1), Some("0"), "kcore still masked: {out}");
    };
    for _ in 0..2 {
        privileged(&env.cmd("start").args(["-a", &id]).ok().stdout);
    }
    env.cmd("start").arg(&id).ok();
    env.cmd("wait").arg(&id).ok();
    privileged(&env.cmd("logs").args(["--tail", "2", &id]).ok().stdout);
    env.cmd("rm").arg(&id).ok();

    // the log's bounds hold at each start (unbounded: 20m, one file)
    let script = "for i in $(seq 1 24); do echo line$i; done";
    let bounds = ["--log-opt", "max-size=300", "--log-opt", "max-file=2"];
    let id = made(&[&bounds[..], &["busybox", "sh", "-c", script]].concat());
    let dir = container_dir(&env, &id);
    for round in 0..2 {
        env.cmd("start").arg(&id).ok();
        env.cmd("wait").arg(&id).ok();
        let kept = |l: &str| std::fs::metadata(dir.join(l)).map(|m| m.len());
        assert!(kept("log.1").is_ok() && kept("log.2").is_err(), "{round}");
        for l in ["log", "log.1"] {
            assert!(kept(l).unwrap() <= 300, "{l} after start {round}");
        }
        let logs = env.cmd("logs").arg(&id).ok().stdout;
        assert!(logs.ends_with("line23\nline24\n"), "{logs}");
    }
    env.cmd("rm").arg(&id).ok();

    // --rm: removed when its process exits, its anonymous volume too
    let id = made(&[
        "--rm",
        "-v",
        "/data",
        "busybox",
        "sh",
        "-c",
        "echo x > /data/f",
    ]);
    assert_eq!(env.records("volume", &["ls"]).len(), 1);
    env.cmd("start").arg(&id).ok();
    // (its volume goes after it)
    wait_for("its removal", Duration::from_secs(20), || {
        !container_dir(&env, &id).exists() && env.records("volume", &["ls"]).is_empty()
    });
    // start -a: its status, then gone; one that cannot start goes too, as
    // docker's
    for (cmd, code) in [(&["sh", "-c", "exit 3"][..], 3), (&["nosuchcmd"], 127)] {
        let id = made(&[&["--rm", "busybox"][..], cmd].concat());
        env.cmd("start").args(["-a", &id]).fails(code);
        assert!(!container_dir(&env, &id).exists(), "{cmd:?}");
    }
    // not with a restart policy, as docker's create
    let o = env
        .cmd("create")
        .args(["--rm", "--restart", "always", "busybox", "true"])
        .fails(2);
    assert_eq!(o.stderr.lines().count(), 1, "{o}");
    assert!(o.stderr.contains("--restart and --rm"), "{o}");
    assert_eq!(env.cmd("ps").args(["-aq"]).ok().stdout, "");
    assert!(leftovers(&env).is_empty(), "{:?}", leftovers(&env));
}

fn detached(env: &Env, args: &[&str]) -> String {
    // run options (--flag value) come before the image
    let mut a = vec!["-d"];
    let mut i = 0;
    while i < args.len() && args[i].starts_with("--") {
        a.push(args[i]);
        a.push(args[i + 1]);
        i += 2;
    }
    a.push("busybox");
    a.extend_from_slice(&args[i..]);
    env.cmd("run").args(&a).ok().id()
}

/// The container's state.json as written.
fn state_of(env: &Env, id: &str) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(container_dir(env, id).join("state.json")).unwrap())
        .unwrap()
}

fn log_of(env: &Env, id: &str) -> String {
    crate::harness::log_text(&container_dir(env, id).join("log"))
}

#[test]
fn pause_freezes_and_unpause_resumes() {
    let env = Env::new("ctr-pause");
    busybox_image(&env);
    let id = detached(
        &env,
        &[
            "sh",
            "-c",
            "i=0; while :; do i=$((i+1)); echo $i; sleep 0.05; done",
        ],
    );
    wait_for("the counter to count", Duration::from_secs(10), || {
        log_of(&env, &id).lines().count() >= 2
    });
    env.cmd("pause").arg(&id).ok();
    let st = &ps_all(&env)[0];
    assert_eq!(s(st, "status"), "paused");
    let a = log_of(&env, &id).lines().count();
    // Nothing to poll for: the point is that nothing happens meanwhile.
    std::thread::sleep(Duration::from_millis(500));
    let b = log_of(&env, &id).lines().count();
    assert_eq!(a, b, "the counter moved while paused");
    env.cmd("unpause").arg(&id).ok();
    wait_for("the counter to resume", Duration::from_secs(10), || {
        log_of(&env, &id).lines().count() > b
    });
    env.cmd("kill").arg(&id).ok();
    let st = &ps_all(&env)[0];
    assert_eq!(s(st, "status"), "exited");
    assert_eq!(st["exit_code"], 137);
    env.cmd("rm").arg(&id).ok();
    assert!(leftovers(&env).is_empty(), "{:?}", leftovers(&env));
}

#[test]
fn stop_is_polite_then_firm() {
    let env = Env::new("ctr-stop");
    busybox_image(&env);
    // exits on SIGTERM at once
    let polite = detached(
        &env,
        &[
            "sh",
            "-c",
            "trap 'exit 0' TERM; echo ready; while :; do sleep 0.1; done",
        ],
    );
    // ignores SIGTERM: killed after the grace period
    let stubborn = detached(
        &env,
        &[
            "sh",
            "-c",
            "trap '' TERM; echo ready; while :; do sleep 0.1; done",
        ],
    );
    for id in [&polite, &stubborn] {
        wait_for("the TERM trap", Duration::from_secs(10), || {
            log_of(&env, id).contains("ready")
        });
    }
    let t = Instant::now();
    let r = env.cmd("stop").args(["-t", "10", &polite]).ok().record();
    assert!(
        t.elapsed() < Duration::from_secs(5),
        "polite stop took {:?}",
        t.elapsed()
    );
    assert_eq!(r["exit_code"], 0);
    let t = Instant::now();
    let r = env.cmd("stop").args(["-t", "1", &stubborn]).ok().record();
    assert!(
        t.elapsed() >= Duration::from_secs(1),
        "stubborn stop took {:?}",
        t.elapsed()
    );
    assert_eq!(r["exit_code"], 137);
    assert!(env
        .cmd("ps")
        .args(["--format", "json"])
        .ok()
        .records()
        .is_empty());
    // a stopped container starts again, on the same rw layer
    env.cmd("start").arg(&polite).ok();
    assert_eq!(
        env.cmd("ps")
            .args(["--format", "json"])
            .ok()
            .records()
            .len(),
        1
    );
    env.cmd("rm").arg(&polite).fails(1);
    env.cmd("rm").args(["-f", &polite]).ok();
    env.cmd("rm").arg(&stubborn).ok();
    assert!(leftovers(&env).is_empty(), "{:?}", leftovers(&env));
}

#[test]
fn exec_joins_the_running_container() {
    let env = Env::new("ctr-exec");
    busybox_image(&env);
    let id = detached(
        &env,
        &["sh", "-c", "echo inside > /tmp/marker; exec sleep 100"],
    );
    // ready once the container's init has become the sleep
    let st = state_of(&env, &id);
    let init = st["pid"].as_i64().unwrap();
    wait_for("the container's sleep", Duration::from_secs(10), || {
        std::fs::read(format!("/proc/{init}/cmdline")).is_ok_and(|c| c.starts_with(b"sleep"))
    });
    let o = env.cmd("exec").args([&id, "cat", "/tmp/marker"]).ok();
    assert_eq!(o.stdout, "inside\n");
    // same pid namespace: pid 1 is the container's sleep
    let o = env.cmd("exec").args([&id, "cat", "/proc/1/cmdline"]).ok();
    assert!(o.stdout.starts_with("sleep"), "{o}");
    let o = env
        .cmd("exec")
        .args([&id, "sh", "-c", "grep CapEff /proc/self/status; hostname"])
        .ok();
    assert!(o.stdout.contains("00000000a80425fb"), "{o}");
    assert!(o.stdout.contains(&id[..12]), "{o}");
    env.cmd("exec").args([&id, "sh", "-c", "exit 5"]).fails(5);
    // -t gives the process a terminal, -i passes stdin
    let o = env
        .cmd("exec")
        .args(["-t", &id, "sh", "-c", "[ -t 0 ] && echo TTY"])
        .stdin("")
        .ok();
    assert!(o.stdout.contains("TTY"), "{o}");
    let o = env
        .cmd("exec")
        .args(["-i", &id, "cat"])
        .stdin("piped\n")
        .ok();
    assert_eq!(o.stdout, "piped\n");
    env.cmd("rm").args(["-f", &id]).ok();
    env.cmd("exec").args([&id, "true"]).fails(125);
}

/// An exec that races the container's exit is told the container is not
/// running, never which /proc file vanished first: two execs at a time
/// until the container's `sleep` ends, a few times over.
#[test]
fn exec_racing_the_exit_says_not_running() {
    let env = Env::new("ctr-exec-race");
    busybox_image(&env);
    for _ in 0..4 {
        let id = detached(&env, &["sleep", "0.6"]);
        std::thread::scope(|s| {
            for _ in 0..2 {
                s.spawn(|| loop {
                    let o = env.cmd("exec").args([&id, "true"]).run();
                    // 137: it ran, and was killed with the container's
                    // pid namespace when its init ended
                    if o.code == Some(0) || o.code == Some(137) {
                        continue;
                    }
                    assert_eq!(o.code, Some(125), "{o}");
                    assert!(
                        o.stderr.contains("is not running") && !o.stderr.contains("/proc"),
                        "{o}"
                    );
                    break;
                });
            }
        });
        env.cmd("rm").args(["-f", &id]).ok();
    }
}

#[test]
fn state_never_lies() {
    let env = Env::new("ctr-state");
    busybox_image(&env);
    let id = detached(&env, &["sleep", "100"]);
    let st = state_of(&env, &id);
    let supervisor = st["supervisor"].as_i64().unwrap() as i32;
    // kill the supervisor: the container is reported exited and cleaned up
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(supervisor),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    wait_for(
        "the container to be reported exited",
        Duration::from_secs(10),
        || s(&ps_all(&env)[0], "status") == "exited",
    );
    assert!(leftovers(&env).is_empty(), "{:?}", leftovers(&env));
    env.cmd("rm").arg(&id).ok();
}

/// The supervisor owns the record while it lives: a read of the state
/// between the init's exit and the supervisor's record of it (here held
/// open by stopping the supervisor) must not record an exit of its own
/// (137) over the real one.
#[test]
fn a_state_read_does_not_race_the_supervisors_record() {
    use nix::sys::signal::{kill, Signal};
    let env = Env::new("ctr-state-race");
    busybox_image(&env);
    let id = detached(&env, &["sh", "-c", "sleep 1; exit 3"]);
    let st = state_of(&env, &id);
    let supervisor = nix::unistd::Pid::from_raw(st["supervisor"].as_i64().unwrap() as i32);
    let init = st["pid"].as_i64().unwrap();
    kill(supervisor, Signal::SIGSTOP).unwrap();
    wait_for("the init to exit", Duration::from_secs(10), || {
        std::fs::read_to_string(format!("/proc/{init}/stat"))
            .map_or(true, |s| s[s.rfind(')').unwrap() + 2..].starts_with('Z'))
    });
    let seen = s(&ps_all(&env)[0], "status").to_string();
    kill(supervisor, Signal::SIGCONT).unwrap();
    assert_eq!(
        seen, "running",
        "read while the supervisor had not yet recorded"
    );
    let r = env.cmd("wait").arg(&id).ok().record();
    assert_eq!(r["exit_code"], 3);
    env.cmd("rm").arg(&id).ok();
}

/// A `--rm` container whose supervisor was killed (so it never removed
/// itself) is swept by the next `ps`, with its anonymous volume, as
/// docker's daemon removes its AutoRemove containers when it comes back.
#[test]
fn a_killed_rm_container_is_swept_by_the_next_ps() {
    let env = Env::new("ctr-rm-swept");
    busybox_image(&env);
    let id = env
        .cmd("run")
        .args(["-d", "--rm", "-v", "/data", "busybox", "sleep", "100"])
        .ok()
        .id();
    let volumes = || env.cmd("volume").args(["ls", "-q"]).ok().stdout;
    assert_ne!(volumes(), "", "an anonymous volume for /data");
    let st = state_of(&env, &id);
    let supervisor = st["supervisor"].as_i64().unwrap() as i32;
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(supervisor),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    wait_for("the container to be swept", Duration::from_secs(10), || {
        ps_all(&env).is_empty()
    });
    assert!(!container_dir(&env, &id).exists());
    assert_eq!(volumes(), "");
    assert!(leftovers(&env).is_empty(), "{:?}", leftovers(&env));
}

#[test]
fn rm_and_rmi_leave_nothing_behind() {
    let env = Env::new("ctr-rmi");
    let base = busybox_image(&env);
    // an image on top of busybox, sharing its base layer
    let top = env
        .cmd("layer-unpack")
        .args(["--parent", &base])
        .stdin(
            crate::harness::TarBuilder::new()
                .file("etc/motd", 0o644, b"hi\n")
                .build(),
        )
        .ok()
        .record();
    env.cmd("tag").args([s(&top, "layer"), "app"]).ok();
    let id = detached(&env, &["sleep", "100"]);
    // busybox is in use by a running container: refused
    let o = env.cmd("rmi").arg("busybox").fails(1);
    assert!(o.stderr.contains("container"), "{o}");
    env.cmd("rm").args(["-f", &id]).ok();
    // app goes, with its own layer; the base stays for busybox
    let out = env.cmd("rmi").arg("app").ok().records();
    assert!(
        out.iter().any(|r| r.get("deleted") == top.get("layer")),
        "{out:?}"
    );
    assert!(env.root.join("layers").join(&base[7..]).exists());
    env.cmd("rmi").arg("busybox").ok();
    assert_eq!(
        std::fs::read_dir(env.root.join("layers")).unwrap().count(),
        0
    );
    assert_eq!(
        std::fs::read_dir(env.root.join("containers"))
            .unwrap()
            .count(),
        0
    );
    assert!(leftovers(&env).is_empty(), "{:?}", leftovers(&env));
}

#[test]
fn networks() {
    let env = Env::new("ctr-net");
    busybox_image(&env);
    let o = env
        .cmd("run")
        .args(["--net", "host", "busybox", "ls", "/sys/class/net"])
        .ok();
    let host: Vec<String> = std::fs::read_dir("/sys/class/net")
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    // (veths come and go with the containers of other tests)
    for h in host.iter().filter(|h| !h.starts_with("veth")) {
        assert!(o.stdout.lines().any(|l| l == h), "{h} missing in {o}");
    }
    let ns = format!("cairn-test-{}", std::process::id());
    let ip = |args: &[&str]| {
        std::process::Command::new("ip")
            .args(args)
            .status()
            .unwrap()
            .success()
    };
    assert!(ip(&["netns", "add", &ns]));
    // the namespace goes away even when an assertion below fails
    struct DelNs(String);
    impl Drop for DelNs {
        fn drop(&mut self) {
            let _ = std::process::Command::new("ip")
                .args(["netns", "del", &self.0])
                .status();
        }
    }
    let _guard = DelNs(ns.clone());
    // mark that namespace's lo so the container can tell it is the one
    assert!(ip(&["-n", &ns, "link", "set", "lo", "mtu", "1234"]));
    let o = env
        .cmd("run")
        .args([
            "--net",
            &format!("/run/netns/{ns}"),
            "busybox",
            "cat",
            "/sys/class/net/lo/mtu",
        ])
        .run();
    assert_eq!(o.code, Some(0), "{o}");
    assert_eq!(o.stdout.trim(), "1234", "{o}");
    // the default namespace's lo is a fresh one
    let o = env
        .cmd("run")
        .args(["busybox", "cat", "/sys/class/net/lo/mtu"])
        .ok();
    assert_eq!(o.stdout.trim(), "65536", "{o}");
}
