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

/// A restart keeps an `--rm` container, as docker's (its daemon clears
/// AutoRemove while it stops it): running again, still AutoRemove, and
/// the stop after that removes it. It was removed by its own exit.
#[test]
fn restart_keeps_an_rm_container_as_docker() {
    let env = Env::new("life-restart-rm");
    let tag = crate::interop::same_image(&env, "life-restart-rm:1");
    // docker's names are its engine's: one no other test takes
    let name = "life-restart-rm";
    let run = ["run", "-d", "--rm", "--network", "none", "--name", name];
    env.cmd("run")
        .args(&run[1..])
        .args([&tag, "sleep", "60"])
        .ok();
    docker().ok(&[&run[..], &[&tag, "sleep", "60"]].concat());
    let pid = state(&env, name)["pid"].as_i64();
    env.cmd("restart").args(["-t", "1", name]).ok();
    docker().ok(&["restart", "-t", "1", name]);
    let shown = "{{.State.Status}} {{.HostConfig.AutoRemove}}";
    let ours = env.cmd("inspect").args(["-f", shown, name]).ok().stdout;
    assert_eq!(ours.trim(), "running true");
    assert_eq!(ours, docker().ok(&["inspect", "-f", shown, name]));
    assert_ne!(state(&env, name)["pid"].as_i64(), pid, "a new process");
    env.cmd("stop").args(["-t", "1", name]).ok();
    docker().ok(&["stop", "-t", "1", name]);
    wait_for("both removed", Duration::from_secs(10), || {
        let theirs = docker().run(&["inspect", name]);
        ps_all(&env).is_empty() && !theirs.status.success()
    });
    assert!(leftovers(&env).is_empty(), "{:?}", leftovers(&env));
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
        o.id()
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
        let ours = env.cmd(args[0]).args(&args[1..]).ok().id();
        let ours = ours.as_str();
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
    let id: &str = &id.id();
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
    let id: &str = &id.id();
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
    // "a" waits for a file the test makes once both attaches had time to
    // connect: a fixed sleep in the container lost "a" under load
    let script =
        "echo before; until [ -e /go ]; do sleep 0.1; done; echo a; sleep 0.2; echo b; exit 5";
    let run = ["run", "-d", "--network", "none", &tag, "sh", "-c", script];
    let ours = env.cmd("run").args(&run[1..]).ok().id();
    let theirs = docker().ok(&run);
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
        // not through docker().run: its lock would hold the exec below
        let d = s.spawn(|| {
            attach(
                crate::fixtures::DOCKER.into(),
                &theirs,
                docker().env().to_vec(),
            )
        });
        std::thread::sleep(Duration::from_secs(2));
        env.cmd("exec").args([ours.trim(), "sh", "-c", ">/go"]).ok();
        docker().ok(&["exec", theirs.trim(), "sh", "-c", ">/go"]);
        (h.join().unwrap(), d.join().unwrap())
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
    let id = id.id();
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

/// `argv` on a pty of its own, typed into as `steps` say
/// (tests/peers/attach_pty.py): what the terminal showed and the status.
fn on_pty(argv: &[String], envs: &[(String, String)], steps: &[&str]) -> (String, Option<i64>) {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers/attach_pty.py");
    let o = std::process::Command::new("python3")
        .arg(script)
        .arg(serde_json::to_string(argv).unwrap())
        .args(steps)
        .envs(envs.iter().cloned())
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stderr)));
    (
        v["shown"].as_str().unwrap_or("").to_string(),
        v["status"].as_i64(),
    )
}

/// `attach` with input, as docker's: a `-it` container's terminal on a
/// real pty (what is typed echoes through it; ctrl-p ctrl-q detaches with
/// "read escape sequence" and status 1, the container running on; its
/// exit status ends a second attach), a `-i` container's stdin from a
/// pipe with its stdout and stderr kept apart, and a terminal refused to
/// a stdin that is not one.
#[test]
fn attach_gives_input_a_terminal_and_detach_keys() {
    use std::process::Stdio;
    let env = Env::new("life-attach-tty");
    let tag = crate::interop::same_image(&env, "life-attach-tty:1");
    let root = vec![("CAIRN_ROOT".to_string(), env.root.display().to_string())];
    let cairn = crate::harness::bin("cairn").display().to_string();
    let run = ["run", "-dit", "--network", "none", &tag, "sh"];
    let ours = env.cmd("run").args(&run[1..]).ok().id();
    let theirs = docker().ok(&run).trim().to_string();
    let both = |steps: &[&str]| {
        let mine = on_pty(
            &[cairn.clone(), "attach".into(), ours.clone()],
            &root,
            steps,
        );
        let dk = [
            "/usr/bin/docker".to_string(),
            "attach".into(),
            theirs.clone(),
        ];
        (mine, on_pty(&dk, docker().env(), steps))
    };
    let typed = r#"type:"echo hi-$((6*7))\r""#;
    let (mine, dk) = both(&["wait:0.8", typed, "wait:0.8", r#"type:"\u0010\u0011""#]);
    for (shown, status) in [&mine, &dk] {
        assert!(shown.contains("hi-42"), "{shown:?}");
        assert!(shown.contains("read escape sequence"), "{shown:?}");
        assert_eq!(*status, Some(1), "{shown:?}");
    }
    assert_eq!(state(&env, &ours)["status"], "running");
    let (mine, dk) = both(&["wait:0.5", r#"type:"tty; exit 4\r""#]);
    assert!(mine.0.contains("/dev/pts/0"), "{mine:?}");
    assert_eq!((mine.1, dk.1), (Some(4), Some(4)), "{mine:?} {dk:?}");
    // a terminal's input from a pipe is refused
    let o = env.cmd("run").args(&run[1..]).ok();
    let id: &str = &o.id();
    let o = env.cmd("attach").arg(id).stdin(b"x\n".to_vec()).fails(1);
    assert!(o.stderr.contains("the input device is not a TTY"), "{o}");
    env.cmd("rm").args(["-f", id]).ok();
    docker().ok(&["rm", &theirs]);
    env.cmd("rm").arg(&ours).ok();

    // -i without -t: input from a pipe, stdout and stderr apart
    let run = ["run", "-di", "--network", "none", &tag, "sh"];
    let ours = env.cmd("run").args(&run[1..]).ok().id();
    let theirs = docker().ok(&run).trim().to_string();
    let feed = "echo out; echo err >&2; sleep 1; exit 6";
    let attach = |argv: &[&str], envs: &[(String, String)]| {
        let mut c = std::process::Command::new(argv[0]);
        c.args(&argv[1..]).envs(envs.iter().cloned());
        let mut child = c
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        std::io::Write::write_all(&mut stdin, format!("{feed}\n").as_bytes()).unwrap();
        let o = child.wait_with_output().unwrap();
        drop(stdin);
        o
    };
    let mine = attach(&[&cairn, "attach", &ours], &root);
    let dk = attach(&["/usr/bin/docker", "attach", &theirs], docker().env());
    for o in [&mine, &dk] {
        assert_eq!(String::from_utf8_lossy(&o.stdout), "out\n");
        assert_eq!(String::from_utf8_lossy(&o.stderr), "err\n");
        assert_eq!(o.status.code(), Some(6));
    }
    docker().ok(&["rm", &theirs]);
    env.cmd("rm").arg(&ours).ok();
    assert!(leftovers(&env).is_empty(), "{:?}", leftovers(&env));
}

/// What `create` and `run` record of `-i`, `-t` and the streams, as
/// docker's inspect shows them in `.Config` (Attach*, Tty, OpenStdin,
/// StdinOnce): `create`, `create -it`, `create -a stdout`, `run -d`,
/// `run -dit`, a foreground `run -i`.
#[test]
fn create_and_run_record_the_terminal_as_docker() {
    let env = Env::new("life-term-rec");
    let tag = crate::interop::same_image(&env, "life-term-rec:1");
    let keys = "{{.Config.AttachStdin}} {{.Config.AttachStdout}} {{.Config.AttachStderr}} \
                {{.Config.Tty}} {{.Config.OpenStdin}} {{.Config.StdinOnce}}";
    let cases: [&[&str]; 6] = [
        &["create"],
        &["create", "-it"],
        &["create", "-a", "stdout"],
        &["run", "-d"],
        &["run", "-dit"],
        &["run", "-i"],
    ];
    for (i, args) in cases.into_iter().enumerate() {
        let argv = [args, &["--network", "none", &tag, "true"][..]].concat();
        let o = env.cmd(argv[0]).args(&argv[1..]).stdin("").ok();
        let ours = match argv[0] {
            "run" if !args.contains(&"-i") => o.id(),
            // a foreground run prints nothing: the only container
            "run" => env.cmd("ps").args(["-aq", "--no-trunc"]).ok().stdout,
            _ => o.id(),
        };
        let ours = ours.trim();
        let mine = env.cmd("inspect").args(["-f", keys, ours]).ok().stdout;
        // named: a foreground run prints nothing, and the newest of the
        // shared daemon's containers may be another test's
        let theirs = format!("life-term-rec-{}-{i}", std::process::id());
        docker().run(&[&[argv[0], "--name", &theirs][..], &argv[1..]].concat());
        let dk = docker().ok(&["inspect", "-f", keys, &theirs]);
        assert_eq!(mine, dk, "{args:?}");
        docker().ok(&["rm", "-f", &theirs]);
        env.cmd("rm").args(["-f", ours]).ok();
    }
    let o = env.cmd("create").args(["-a", "stdfoo", &tag]).fails(2);
    assert!(
        o.stderr
            .contains("valid streams are STDIN, STDOUT and STDERR"),
        "{o}"
    );
    assert!(ps_all(&env).is_empty(), "no container is made");
    assert!(leftovers(&env).is_empty(), "{:?}", leftovers(&env));
}

/// A container made with `-it` gets its terminal at every start, as
/// docker's: `start` leaves it waiting on it, `attach` types into it;
/// `start -ai` attaches from its start (and to it when it runs already);
/// the detach keys (ctrl-p ctrl-q, or `--detach-keys`) leave it running,
/// for a foreground `run -it` too, and a later attach ends it.
#[test]
fn create_it_start_and_run_it_detach_as_docker() {
    let env = Env::new("life-term-start");
    let tag = crate::interop::same_image(&env, "life-term-start:1");
    let root = vec![("CAIRN_ROOT".to_string(), env.root.display().to_string())];
    let cairn = crate::harness::bin("cairn").display().to_string();
    let both = |args: &[&str], ours: &str, theirs: &str, steps: &[&str]| {
        let argv = |bin: &str, c: &str| {
            let mut v = vec![bin.to_string()];
            v.extend(args.iter().map(|a| a.to_string()));
            v.push(c.to_string());
            v
        };
        let mine = on_pty(&argv(&cairn, ours), &root, steps);
        let dk = on_pty(&argv("/usr/bin/docker", theirs), docker().env(), steps);
        (mine, dk)
    };
    let status = |theirs: &str| docker().ok(&["inspect", "-f", "{{.State.Status}}", theirs]);
    let detach = r#"type:"\u0010\u0011""#;
    let typed = r#"type:"echo hi-$((6*7))\r""#;
    // create -it, start: it waits on its terminal; attach types into it
    let create = ["create", "-it", "--network", "none", &tag, "sh"];
    let ours = env.cmd("create").args(&create[1..]).ok().id();
    let theirs = docker().ok(&create).trim().to_string();
    env.cmd("start").arg(&ours).ok();
    docker().ok(&["start", &theirs]);
    std::thread::sleep(Duration::from_millis(800));
    assert_eq!(state(&env, &ours)["status"], "running");
    assert_eq!(status(&theirs).trim(), "running");
    // a second start of a running one: its name again, exit 0, as docker's
    let again = env.cmd("start").args(["--format", "table", &ours]).ok();
    assert_eq!(again.stdout.trim(), ours, "{again}");
    assert_eq!(docker().ok(&["start", &theirs]).trim(), theirs);
    let (mine, dk) = both(
        &["attach"],
        &ours,
        &theirs,
        &["wait:0.5", r#"type:"tty; exit 5\r""#],
    );
    assert!(mine.0.contains("/dev/pts/0"), "{mine:?}");
    assert_eq!((mine.1, dk.1), (Some(5), Some(5)), "{mine:?} {dk:?}");
    // start -ai: from its start; the detach keys leave it running
    let steps = ["wait:1", typed, "wait:0.8", detach];
    let (mine, dk) = both(&["start", "-ai"], &ours, &theirs, &steps);
    // docker 20.10's start -a ends with 0 and says nothing on them
    for (shown, st) in [&mine, &dk] {
        assert!(shown.contains("hi-42"), "{mine:?} {dk:?}");
        assert!(!shown.contains("read escape sequence"), "{mine:?} {dk:?}");
        assert_eq!(*st, Some(0), "{mine:?} {dk:?}");
    }
    assert_eq!(state(&env, &ours)["status"], "running");
    // start -ai of one running: attached, with other detach keys
    let keys = ["start", "-ai", "--detach-keys", "ctrl-x,x"];
    let steps = [
        "wait:0.5",
        r#"type:"echo again\r""#,
        "wait:0.8",
        r#"type:"\u0018x""#,
    ];
    let (mine, dk) = both(&keys, &ours, &theirs, &steps);
    for (shown, st) in [&mine, &dk] {
        assert!(shown.contains("again"), "{mine:?} {dk:?}");
        assert_eq!(*st, Some(0), "{mine:?} {dk:?}");
    }
    let (mine, dk) = both(
        &["attach"],
        &ours,
        &theirs,
        &["wait:0.5", r#"type:"exit 6\r""#],
    );
    assert_eq!((mine.1, dk.1), (Some(6), Some(6)), "{mine:?} {dk:?}");
    docker().ok(&["rm", &theirs]);
    env.cmd("rm").arg(&ours).ok();

    // run -it in the foreground: the detach keys leave it running
    let name = "life-term-run";
    let run = |bin: &str| {
        let v = [
            bin,
            "run",
            "--name",
            name,
            "-it",
            "--network",
            "none",
            &tag,
            "sh",
        ];
        v.map(String::from).to_vec()
    };
    // its terminal has the size of ours
    let sized = r#"type:"stty size\r""#;
    let steps = ["wait:1", typed, sized, "wait:0.8", detach];
    let size = ("PTY_SIZE".to_string(), "33,101".to_string());
    let mine = on_pty(
        &run(&cairn),
        &[root.clone(), vec![size.clone()]].concat(),
        &steps,
    );
    let dk_env = [docker().env(), &[size]].concat();
    let dk = on_pty(&run("/usr/bin/docker"), &dk_env, &steps);
    for (shown, _) in [&mine, &dk] {
        assert!(shown.contains("hi-42"), "{mine:?} {dk:?}");
    }
    // (docker 20.10 sizes it only after its start: under load its shell
    // may read no size yet, so only ours is asked)
    assert!(mine.0.contains("33 101"), "{mine:?}");
    assert_eq!(mine.1, dk.1, "{mine:?} {dk:?}");
    let detached = dk.1;
    assert_eq!(
        mine.0.contains("read escape sequence"),
        dk.0.contains("read escape sequence"),
        "{mine:?} {dk:?}"
    );
    assert_eq!(state(&env, name)["status"], "running");
    assert_eq!(status(name).trim(), "running");
    let (mine, dk) = both(&["attach"], name, name, &["wait:0.5", r#"type:"exit 7\r""#]);
    assert_eq!((mine.1, dk.1), (Some(7), Some(7)), "{mine:?} {dk:?}");
    docker().ok(&["rm", name]);
    env.cmd("rm").arg(name).ok();
    // ctrl-c on its terminal interrupts it, not the client
    let trap = "trap 'echo got-int; exit 9' INT; while :; do sleep 0.1; done";
    let run = |bin: &str| {
        let v = [
            bin,
            "run",
            "--rm",
            "-it",
            "--network",
            "none",
            &tag,
            "sh",
            "-c",
            trap,
        ];
        v.map(String::from).to_vec()
    };
    let steps = ["wait:1", r#"type:"\u0003""#];
    let mine = on_pty(&run(&cairn), &root, &steps);
    let dk = on_pty(&run("/usr/bin/docker"), docker().env(), &steps);
    for (shown, st) in [&mine, &dk] {
        assert!(shown.contains("got-int"), "{mine:?} {dk:?}");
        assert_eq!(*st, Some(9), "{mine:?} {dk:?}");
    }
    // run --rm -it: removed once it exits after the detach
    let v = [
        &cairn,
        "run",
        "--rm",
        "-it",
        "--network",
        "none",
        &tag,
        "sh",
    ];
    let mine = on_pty(&v.map(String::from), &root, &["wait:1", detach]);
    assert_eq!(mine.1, detached, "{mine:?}");
    let id = env.cmd("ps").args(["-q", "--no-trunc"]).ok().stdout;
    let (shown, st) = on_pty(
        &[cairn.clone(), "attach".into(), id.trim().into()],
        &root,
        &["wait:0.5", r#"type:"exit 3\r""#],
    );
    assert_eq!(st, Some(3), "{shown:?}");
    wait_for("its removal", Duration::from_secs(5), || {
        ps_all(&env).is_empty()
    });
    assert!(leftovers(&env).is_empty(), "{:?}", leftovers(&env));
}

/// `run --restart` in the foreground, as docker's: the first run's output
/// (stdout's and stderr's each on its own) and status, the policy's
/// restarts going on in the background.
#[test]
fn a_foreground_run_restarts_in_the_background() {
    let env = Env::new("life-fg-restart");
    let tag = crate::interop::same_image(&env, "life-fg-restart:1");
    let run = [
        "run",
        "--network",
        "none",
        "--restart",
        "on-failure:2",
        &tag,
        "sh",
        "-c",
        "echo hi; echo oops >&2; exit 3",
    ];
    let ours = env.cmd("run").args(&run[1..]).fails(3);
    let theirs = docker().run(&[&["run", "--name", "life-fg-restart"][..], &run[1..]].concat());
    assert_eq!(
        (ours.stdout.as_str(), ours.stderr.as_str()),
        ("hi\n", "oops\n")
    );
    assert_eq!(String::from_utf8_lossy(&theirs.stdout), "hi\n");
    assert_eq!(String::from_utf8_lossy(&theirs.stderr), "oops\n");
    assert_eq!(theirs.status.code(), Some(3));
    let id = env.cmd("ps").args(["-aq", "--no-trunc"]).ok().stdout;
    let id = id.trim();
    wait_for("three runs", Duration::from_secs(20), || {
        let st = state(&env, id);
        st["status"] == "exited" && restarts(&st) == 2
    });
    wait_for("docker's three runs", Duration::from_secs(20), || {
        docker()
            .ok(&[
                "inspect",
                "-f",
                "{{.State.Status}} {{.RestartCount}}",
                "life-fg-restart",
            ])
            .trim()
            == "exited 2"
    });
    let logs = env.cmd("logs").arg(id).ok();
    let theirs = docker().run(&["logs", "life-fg-restart"]);
    assert_eq!(logs.stdout, String::from_utf8_lossy(&theirs.stdout));
    assert_eq!(logs.stderr, String::from_utf8_lossy(&theirs.stderr));
    assert_eq!(
        (logs.stdout.as_str(), logs.stderr.as_str()),
        ("hi\nhi\nhi\n", "oops\n".repeat(3).as_str())
    );
    docker().ok(&["rm", "life-fg-restart"]);
    env.cmd("rm").arg(id).ok();
    assert!(leftovers(&env).is_empty(), "{:?}", leftovers(&env));
}
