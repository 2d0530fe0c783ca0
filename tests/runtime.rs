//! OCI bundles and `cairn-runtime`: what cairn writes runs under runc and
//! crun, and what runc and crun run runs under cairn-runtime.

use crate::harness::{busybox_image, leftovers, s, Env};

/// A busybox bundle at `env/b` for a container whose command is `script`
/// (given to union-mount as the container's command); returns the
/// container's record.
fn bundle(env: &Env, script: &str) -> crate::harness::Record {
    busybox_image(env);
    env.cmd("union-mount")
        .args(["--bundle", "b", "busybox", "--", "sh", "-c", script])
        .ok()
        .record()
}

#[test]
fn union_mount_writes_a_bundle_runc_and_crun_run() {
    let env = Env::new("rt-bundle");
    let c = bundle(
        &env,
        "echo hello from $HOSTNAME; cat /etc/hostname >/dev/null; exit 0",
    );
    assert_eq!(s(&c, "rootfs"), env.path("b/rootfs").display().to_string());
    let config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(env.path("b/config.json")).unwrap()).unwrap();
    assert_eq!(config["root"]["path"], "rootfs");
    assert_eq!(config["process"]["args"][0], "sh");
    let runc = env
        .program("runc")
        .args(["run", "--bundle", "b", "rt-bundle-runc"])
        .ok();
    assert!(runc.stdout.starts_with("hello from "), "{runc}");
    // crun wants cgroup v2 alone: give it a mount namespace without the
    // hybrid layout's unified hierarchy
    let crun = env
        .program("unshare")
        .args(["-m", "sh", "-c"])
        .arg("umount /sys/fs/cgroup/unified 2>/dev/null; exec crun run --bundle b rt-bundle-crun")
        .ok();
    assert_eq!(crun.stdout, runc.stdout, "{crun}");
    env.cmd("rm").arg(s(&c, "container")).ok();
    assert!(!std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .contains(&env.path("b/rootfs").display().to_string()));
    assert!(leftovers(&env).is_empty(), "{:?}", leftovers(&env));
}

#[test]
fn a_bundle_keeps_the_exit_status() {
    let env = Env::new("rt-bundle-status");
    let c = bundle(&env, "echo out; exit 3");
    let o = env
        .program("runc")
        .args(["run", "--bundle", "b", "rt-bundle-status"])
        .fails(3);
    assert_eq!(o.stdout, "out\n");
    env.cmd("rm").arg(s(&c, "container")).ok();
}

/// `cairn-runtime --root <env>/state …`
fn runtime(env: &Env) -> crate::harness::Cmd {
    env.cmd("runtime").arg("--root").arg(env.path("state"))
}

#[test]
fn cairn_runtime_runs_a_bundle_as_runc_does() {
    let env = Env::new("rt-run");
    let c = bundle(&env, "echo hello; echo err >&2; exit 0");
    let ours = runtime(&env).args(["run", "--bundle", "b", "rt-run"]).ok();
    let runc = env
        .program("runc")
        .args(["run", "--bundle", "b", "rt-run-runc"])
        .ok();
    assert_eq!(ours.stdout, "hello\n", "{ours}");
    assert_eq!(
        (ours.stdout.as_str(), ours.stderr.as_str()),
        (runc.stdout.as_str(), runc.stderr.as_str())
    );
    // the state is gone with the container
    assert!(!env.path("state/rt-run").exists());
    env.cmd("rm").arg(s(&c, "container")).ok();
    assert!(leftovers(&env).is_empty(), "{:?}", leftovers(&env));

    let env = Env::new("rt-run-status");
    let c = bundle(&env, "exit 7");
    runtime(&env)
        .args(["run", "--bundle", "b", "rt-run-status"])
        .fails(7);
    env.program("runc")
        .args(["run", "--bundle", "b", "rt-run-status-runc"])
        .fails(7);
    env.cmd("rm").arg(s(&c, "container")).ok();
}

#[test]
fn cairn_runtime_spec_is_a_config_runc_runs() {
    let env = Env::new("rt-spec");
    runtime(&env).args(["spec", "--bundle", "."]).ok();
    // a second spec would overwrite it: refused
    runtime(&env).args(["spec", "--bundle", "."]).fails(2);
    let rootfs = env.path("rootfs");
    std::fs::create_dir(&rootfs).unwrap();
    env.program("tar")
        .arg("-x")
        .arg("-C")
        .arg(&rootfs)
        .stdin(crate::harness::busybox_tar())
        .ok();
    // `sh` reading its script from stdin, under runc and under us
    let runc = env
        .program("runc")
        .args(["run", "rt-spec-runc"])
        .stdin("echo from-sh\n")
        .ok();
    let o = runtime(&env)
        .args(["run", "rt-spec"])
        .stdin("echo from-sh\n")
        .ok();
    assert_eq!(
        (o.stdout.as_str(), runc.stdout.as_str()),
        ("from-sh\n", "from-sh\n"),
        "{o}"
    );
    let features: serde_json::Value =
        serde_json::from_str(&runtime(&env).arg("features").ok().stdout).unwrap();
    assert_eq!(features["linux"]["cgroup"]["systemd"], false);
    let seccomp = &features["linux"]["seccomp"];
    assert!(seccomp["actions"].to_string().contains("SCMP_ACT_ERRNO"));
    assert!(!seccomp["actions"].to_string().contains("SCMP_ACT_NOTIFY"));
}

#[test]
fn state_kill_and_delete_of_a_running_container() {
    let env = Env::new("rt-state");
    let c = bundle(&env, "exec sleep 600");
    let run = std::process::Command::new(crate::harness::bin("runtime"))
        .arg("--root")
        .arg(env.path("state"))
        .args(["run", "--bundle"])
        .arg(env.path("b"))
        .arg("--pid-file")
        .arg(env.path("pid"))
        .arg("rt-state")
        .spawn()
        .unwrap();
    crate::harness::wait_for("the pid file", std::time::Duration::from_secs(10), || {
        env.path("pid").exists()
    });
    let st: serde_json::Value =
        serde_json::from_str(&runtime(&env).args(["state", "rt-state"]).ok().stdout).unwrap();
    assert_eq!(st["status"], "running");
    assert_eq!(st["id"], "rt-state");
    assert_eq!(st["ociVersion"], "1.0.2");
    assert_eq!(st["bundle"], env.path("b").display().to_string());
    let pid = std::fs::read_to_string(env.path("pid")).unwrap();
    assert_eq!(st["pid"].to_string(), pid);
    // a running container is not deleted without --force
    runtime(&env).args(["delete", "rt-state"]).fails(1);
    runtime(&env).args(["kill", "rt-state", "nope"]).fails(2);
    runtime(&env).args(["kill", "rt-state", "9"]).ok();
    let out = run.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(137));
    runtime(&env).args(["state", "rt-state"]).fails(1);
    runtime(&env).args(["kill", "rt-state", "KILL"]).fails(1);
    // docker deletes twice, the second with --force: both fine
    runtime(&env).args(["delete", "--force", "rt-state"]).ok();
    env.cmd("rm").arg(s(&c, "container")).ok();
    assert!(leftovers(&env).is_empty(), "{:?}", leftovers(&env));
}

#[test]
fn a_refused_field_is_one_line_and_lands_in_the_json_log() {
    let env = Env::new("rt-refused");
    let c = bundle(&env, "true");
    let path = env.path("b/config.json");
    let mut config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    config["linux"]["intelRdt"] = serde_json::json!({"closID": "x"});
    std::fs::write(&path, config.to_string()).unwrap();
    let o = runtime(&env)
        .args(["--log", "log.json", "--log-format", "json"])
        .args(["run", "--bundle", "b", "rt-refused"])
        .fails(1);
    assert_eq!(o.stderr.lines().count(), 1, "{o}");
    assert!(o.stderr.contains("linux.intelRdt"), "{o}");
    let log = std::fs::read_to_string(env.path("log.json")).unwrap();
    let line: serde_json::Value = serde_json::from_str(log.trim()).unwrap();
    assert_eq!(line["level"], "error");
    assert!(line["msg"].as_str().unwrap().contains("intelRdt"), "{log}");
    assert!(line["time"].is_string());
    assert!(!env.path("state/rt-refused").exists());
    // --systemd-cgroup: one line saying so, whatever the command
    for args in [&["state", "x"][..], &["run", "--bundle", "b", "rt-refused"]] {
        let o = runtime(&env).arg("--systemd-cgroup").args(args).fails(2);
        assert_eq!(o.stderr.lines().count(), 1, "{o}");
        assert!(
            o.stderr.contains("--systemd-cgroup is not supported"),
            "{o}"
        );
    }
    env.cmd("rm").arg(s(&c, "container")).ok();
    assert!(leftovers(&env).is_empty(), "{:?}", leftovers(&env));
}

/// `cairn-runtime --root <env>/state ARGS…` with the container's stdio
/// (inherited by a created container) in the files `out` and `err`, so
/// that no pipe of the test's is held by it; returns the exit status and
/// what the runtime itself wrote on stderr.
fn detached(env: &Env, args: &[&str]) -> (Option<i32>, String) {
    let file = |name: &str| {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(env.path(name))
            .unwrap()
    };
    let before = std::fs::read_to_string(env.path("err")).unwrap_or_default();
    let status = std::process::Command::new(crate::harness::bin("runtime"))
        .arg("--root")
        .arg(env.path("state"))
        .args(args)
        .current_dir(&env.dir)
        .stdin(std::process::Stdio::null())
        .stdout(file("out"))
        .stderr(file("err"))
        .status()
        .unwrap();
    let after = std::fs::read_to_string(env.path("err")).unwrap_or_default();
    (status.code(), after[before.len()..].to_string())
}

fn config_of(env: &Env) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(env.path("b/config.json")).unwrap()).unwrap()
}

fn status_of(env: &Env, id: &str) -> serde_json::Value {
    serde_json::from_str(&runtime(env).args(["state", id]).ok().stdout).unwrap()
}

fn exe_of(pid: &str) -> String {
    std::fs::read_link(format!("/proc/{}/exe", pid.trim()))
        .map(|p| p.display().to_string())
        .unwrap_or_default()
}

#[test]
fn create_then_start_as_runcs_callers_do() {
    let env = Env::new("rt-create");
    let c = bundle(&env, "echo started; exec sleep 600");
    let id = "rt-create";
    let (code, err) = detached(&env, &["create", "--bundle", "b", "--pid-file", "pid", id]);
    assert_eq!(code, Some(0), "{err}");
    let pid = std::fs::read_to_string(env.path("pid")).unwrap();
    let st = status_of(&env, id);
    assert_eq!(st["status"], "created", "{st}");
    assert_eq!(st["pid"].to_string(), pid);
    // pid 1 waits at the gate: alive, and not yet busybox
    assert!(std::path::Path::new(&format!("/proc/{pid}")).exists());
    assert!(!exe_of(&pid).ends_with("busybox"), "{}", exe_of(&pid));
    assert!(env.path("state/rt-create/exec.fifo").exists());
    assert_eq!(std::fs::read_to_string(env.path("out")).unwrap(), "");
    // the same ID again: refused, the first left alone
    let (code, err) = detached(&env, &["create", "--bundle", "b", id]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("already exists"), "{err}");
    assert_eq!(status_of(&env, id)["status"], "created");

    runtime(&env).args(["start", id]).ok();
    crate::harness::wait_for("the command", std::time::Duration::from_secs(10), || {
        exe_of(&pid).ends_with("busybox")
    });
    assert_eq!(status_of(&env, id)["status"], "running");
    assert!(!env.path("state/rt-create/exec.fifo").exists());
    crate::harness::wait_for("its output", std::time::Duration::from_secs(10), || {
        std::fs::read_to_string(env.path("out")).unwrap() == "started\n"
    });
    // started once only
    let o = runtime(&env).args(["start", id]).fails(1);
    assert!(o.stderr.contains("running, not created"), "{o}");
    let pids: Vec<i32> = serde_json::from_str(
        &runtime(&env)
            .args(["ps", "--format", "json", id])
            .ok()
            .stdout,
    )
    .unwrap();
    assert_eq!(pids, [pid.trim().parse::<i32>().unwrap()]);
    runtime(&env).args(["kill", id, "KILL"]).ok();
    crate::harness::wait_for("the stop", std::time::Duration::from_secs(10), || {
        status_of(&env, id)["status"] == "stopped"
    });
    runtime(&env).args(["delete", id]).ok();
    runtime(&env).args(["state", id]).fails(1);
    env.cmd("rm").arg(s(&c, "container")).ok();
    assert!(leftovers(&env).is_empty(), "{:?}", leftovers(&env));
}

#[test]
fn a_created_container_is_deleted_and_a_missing_command_fails_create() {
    let env = Env::new("rt-create-delete");
    let c = bundle(&env, "echo never");
    let id = "rt-create-delete";
    let (code, err) = detached(&env, &["create", "--bundle", "b", "--pid-file", "pid", id]);
    assert_eq!(code, Some(0), "{err}");
    let pid = std::fs::read_to_string(env.path("pid")).unwrap();
    runtime(&env).args(["delete", "--force", id]).ok();
    crate::harness::wait_for("pid 1 to die", std::time::Duration::from_secs(10), || {
        std::fs::read_to_string(format!("/proc/{}/stat", pid.trim()))
            .map_or(true, |s| s.contains(") Z"))
    });
    runtime(&env).args(["state", id]).fails(1);
    // and without --force: a created container is not running
    let (code, err) = detached(&env, &["create", "--bundle", "b", id]);
    assert_eq!(code, Some(0), "{err}");
    runtime(&env).args(["delete", id]).ok();
    assert!(!env.path("state").join(id).exists());
    assert_eq!(std::fs::read_to_string(env.path("out")).unwrap(), "");

    // a command that is not there fails create, as runc's does
    let path = env.path("b/config.json");
    let mut config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    config["process"]["args"] = serde_json::json!(["/no/such"]);
    std::fs::write(&path, config.to_string()).unwrap();
    let (code, err) = detached(&env, &["create", "--bundle", "b", id]);
    assert_eq!((code, err.lines().count()), (Some(127), 1), "{err}");
    assert!(err.contains("/no/such"), "{err}");
    assert!(!env.path("state").join(id).exists());
    env.cmd("rm").arg(s(&c, "container")).ok();
    assert!(leftovers(&env).is_empty(), "{:?}", leftovers(&env));
}

#[test]
fn exec_ps_pause_and_resume_in_a_detached_run() {
    let env = Env::new("rt-exec");
    let c = bundle(&env, "exec sleep 600");
    let id = "rt-exec";
    let (code, err) = detached(
        &env,
        &["run", "--detach", "--bundle", "b", "--pid-file", "pid", id],
    );
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(status_of(&env, id)["status"], "running");
    let o = runtime(&env)
        .args(["exec", id, "sh", "-c", "echo $$ $(hostname); exit 5"])
        .fails(5);
    let hostname = config_of(&env)["hostname"].as_str().unwrap().to_string();
    assert!(o.stdout.ends_with(&format!(" {hostname}\n")), "{o}");
    let o = runtime(&env)
        .args(["exec", "--env", "X=from-env", "--cwd", "/tmp", id])
        .args(["sh", "-c", "echo $X $PWD"])
        .ok();
    assert_eq!(o.stdout, "from-env /tmp\n");
    // the process as runc's callers give it
    std::fs::write(
        env.path("process.json"),
        r#"{"args":["sh","-c","echo from-process $(id -u)"],"cwd":"/","env":["PATH=/bin"],"user":{"uid":7,"gid":7}}"#,
    )
    .unwrap();
    let o = runtime(&env)
        .args(["exec", "--process", "process.json", id])
        .ok();
    assert_eq!(o.stdout, "from-process 7\n");
    // detached: it stays, in the container's cgroup, once exec is gone
    let (code, err) = detached(
        &env,
        &[
            "exec",
            "--detach",
            "--pid-file",
            "exec.pid",
            id,
            "sleep",
            "500",
        ],
    );
    assert_eq!(code, Some(0), "{err}");
    let exec_pid: i32 = std::fs::read_to_string(env.path("exec.pid"))
        .unwrap()
        .parse()
        .unwrap();
    let init: i32 = std::fs::read_to_string(env.path("pid"))
        .unwrap()
        .parse()
        .unwrap();
    let pids: Vec<i32> = serde_json::from_str(
        &runtime(&env)
            .args(["ps", "--format", "json", id])
            .ok()
            .stdout,
    )
    .unwrap();
    let mut want = vec![init, exec_pid];
    want.sort();
    assert_eq!(pids, want);
    let table = runtime(&env).args(["ps", id]).ok().stdout;
    assert!(table.starts_with("UID"), "{table}");
    assert_eq!(table.lines().count(), 3, "{table}");
    // pause and resume: the freezer
    runtime(&env).args(["resume", id]).fails(1);
    runtime(&env).args(["pause", id]).ok();
    assert_eq!(status_of(&env, id)["status"], "paused");
    let stat = std::fs::read_to_string(format!("/proc/{exec_pid}/stat")).unwrap();
    assert!(stat.contains(") S") || stat.contains(") D"), "{stat}");
    runtime(&env).args(["pause", id]).fails(1);
    runtime(&env).args(["resume", id]).ok();
    assert_eq!(status_of(&env, id)["status"], "running");
    runtime(&env).args(["kill", "--all", id, "9"]).ok();
    crate::harness::wait_for("the stop", std::time::Duration::from_secs(10), || {
        status_of(&env, id)["status"] == "stopped"
    });
    runtime(&env).args(["exec", id, "true"]).fails(1);
    runtime(&env).args(["delete", id]).ok();
    env.cmd("rm").arg(s(&c, "container")).ok();
    assert!(leftovers(&env).is_empty(), "{:?}", leftovers(&env));
}

/// Accept one connection on `sock` and receive the fd it sends (runc's
/// console socket protocol: one SCM_RIGHTS message, one fd).
fn receive_fd(listener: std::os::unix::net::UnixListener) -> std::os::fd::OwnedFd {
    use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags, UnixAddr};
    use std::os::fd::{AsRawFd, FromRawFd};
    let (conn, _) = listener.accept().unwrap();
    let mut name = [0u8; 4096];
    let mut iov = [std::io::IoSliceMut::new(&mut name)];
    let mut space = nix::cmsg_space!([std::os::fd::RawFd; 1]);
    let msg = recvmsg::<UnixAddr>(
        conn.as_raw_fd(),
        &mut iov,
        Some(&mut space),
        MsgFlags::empty(),
    )
    .unwrap();
    assert!(msg.bytes > 0);
    let fds: Vec<_> = msg
        .cmsgs()
        .unwrap()
        .filter_map(|c| match c {
            ControlMessageOwned::ScmRights(fds) => Some(fds),
            _ => None,
        })
        .flatten()
        .collect();
    assert_eq!(fds.len(), 1, "one fd");
    // SAFETY: the fd just received is ours.
    unsafe { std::os::fd::OwnedFd::from_raw_fd(fds[0]) }
}

#[test]
fn a_console_socket_gets_the_terminal() {
    let env = Env::new("rt-console");
    let c = bundle(&env, "true");
    let path = env.path("b/config.json");
    let mut config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    config["process"]["args"] = serde_json::json!(["sh"]);
    config["process"]["terminal"] = serde_json::json!(true);
    config["process"]["consoleSize"] = serde_json::json!({"height": 33, "width": 111});
    std::fs::write(&path, config.to_string()).unwrap();
    let id = "rt-console";
    // a terminal needs a console socket when detached
    let (code, err) = detached(&env, &["create", "--bundle", "b", id]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("--console-socket"), "{err}");
    let sock = env.path("console.sock");
    let listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    let receiver = std::thread::spawn(move || receive_fd(listener));
    let (code, err) = detached(
        &env,
        &[
            "create",
            "--bundle",
            "b",
            "--console-socket",
            "console.sock",
            id,
        ],
    );
    assert_eq!(code, Some(0), "{err}");
    let master = std::fs::File::from(receiver.join().unwrap());
    runtime(&env).args(["start", id]).ok();
    let mut w = master.try_clone().unwrap();
    std::io::Write::write_all(&mut w, b"tty; stty size; echo hi-$((40+2)); exit 3\n").unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut all = Vec::new();
        let mut buf = [0u8; 1024];
        let mut r = master;
        while let Ok(n) = std::io::Read::read(&mut r, &mut buf) {
            if n == 0 {
                break;
            }
            all.extend_from_slice(&buf[..n]);
            if String::from_utf8_lossy(&all).contains("hi-42") {
                break;
            }
        }
        let _ = tx.send(String::from_utf8_lossy(&all).into_owned());
    });
    let out = rx.recv_timeout(std::time::Duration::from_secs(10)).unwrap();
    assert!(out.contains("/dev/pts/0"), "{out}");
    assert!(out.contains("33 111"), "process.consoleSize: {out}");
    assert!(out.contains("hi-42"), "{out}");
    crate::harness::wait_for("the stop", std::time::Duration::from_secs(10), || {
        status_of(&env, id)["status"] == "stopped"
    });
    runtime(&env).args(["delete", id]).ok();
    env.cmd("rm").arg(s(&c, "container")).ok();
    assert!(leftovers(&env).is_empty(), "{:?}", leftovers(&env));
}

/// A private containerd (Debian's 1.6, the engine under Kubernetes) with
/// its root, state and socket in the env, stopped when dropped.
pub(crate) struct Containerd {
    child: std::process::Child,
    dir: std::path::PathBuf,
}

impl Containerd {
    pub(crate) fn start(env: &Env) -> Containerd {
        let dir = env.path("ctd");
        std::fs::create_dir_all(&dir).unwrap();
        let d = dir.display();
        std::fs::write(
            dir.join("config.toml"),
            format!(
                "version = 2\nroot = \"{d}/root\"\nstate = \"{d}/state\"\n\
                 disabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n\
                 [grpc]\n  address = \"{d}/c.sock\"\n[ttrpc]\n  address = \"{d}/c.sock.ttrpc\"\n"
            ),
        )
        .unwrap();
        let child = std::process::Command::new("containerd")
            .arg("--config")
            .arg(dir.join("config.toml"))
            .env("TMPDIR", &dir)
            .stdin(std::process::Stdio::null())
            .stdout(std::fs::File::create(dir.join("log")).unwrap())
            .stderr(std::fs::File::create(dir.join("err")).unwrap())
            .spawn()
            .unwrap();
        let c = Containerd { child, dir };
        crate::harness::wait_for("containerd", std::time::Duration::from_secs(30), || {
            c.ctr(env).arg("version").run().code == Some(0)
        });
        c
    }

    pub(crate) fn ctr(&self, env: &Env) -> crate::harness::Cmd {
        env.program("ctr")
            .arg("--address")
            .arg(self.dir.join("c.sock"))
    }
}

impl Drop for Containerd {
    fn drop(&mut self) {
        // its tasks and their shims outlive it: take them down first
        let ctr = |args: &[&str]| {
            std::process::Command::new("ctr")
                .arg("--address")
                .arg(self.dir.join("c.sock"))
                .args(args)
                .output()
        };
        if let Ok(o) = ctr(&["task", "ls", "-q"]) {
            for id in String::from_utf8_lossy(&o.stdout).lines() {
                let _ = ctr(&["task", "kill", "-a", "-s", "SIGKILL", id]);
                let _ = ctr(&["task", "delete", "-f", id]);
                let _ = ctr(&["containers", "rm", id]);
            }
        }
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        let _ = self.child.wait();
        // whatever it left mounted below its root, deepest first
        let dir = format!("{}/", self.dir.display());
        let mut left: Vec<String> = std::fs::read_to_string("/proc/self/mountinfo")
            .unwrap()
            .lines()
            .filter_map(|l| l.split(' ').nth(4).map(String::from))
            .filter(|m| m.starts_with(&dir))
            .collect();
        left.sort_by(|a, b| b.cmp(a));
        for m in left {
            let _ = nix::mount::umount2(m.as_str(), nix::mount::MntFlags::MNT_DETACH);
        }
    }
}

/// busybox with the mount points containerd's spec names, as a
/// docker-archive containerd imports as `docker.io/library/busybox:rt`.
pub(crate) fn busybox_archive(env: &Env) -> std::path::PathBuf {
    let rootfs = env.path("bb");
    std::fs::create_dir_all(&rootfs).unwrap();
    env.program("tar")
        .arg("-x")
        .arg("-C")
        .arg(&rootfs)
        .stdin(crate::harness::busybox_tar())
        .ok();
    for d in ["proc", "dev", "sys", "run"] {
        std::fs::create_dir_all(rootfs.join(d)).unwrap();
    }
    let tar = env.path("bb.tar");
    env.program("tar")
        .arg("-cf")
        .arg(&tar)
        .arg("-C")
        .arg(&rootfs)
        .arg(".")
        .ok();
    let layer = env.cmd("layer-unpack").arg(&tar).ok().record();
    let archive = env.path("busybox.tar");
    env.cmd("save")
        .args(["--tag", "busybox:rt", "-o"])
        .arg(&archive)
        .arg(s(&layer, "layer"))
        .ok();
    archive
}

#[test]
fn containerd_runs_busybox_through_cairn_runtime_as_through_runc() {
    let env = Env::new("rt-ctr");
    let archive = busybox_archive(&env);
    let ctd = Containerd::start(&env);
    ctd.ctr(&env).args(["images", "import"]).arg(&archive).ok();
    let image = "docker.io/library/busybox:rt";
    let ours = crate::harness::bin("runtime");
    let state = env.path("state");
    let script = "echo hi; ulimit -n; hostname; exit 3";
    // the same container under runc and under cairn-runtime
    let runc = ctd
        .ctr(&env)
        .args(["run", "--rm", image, "rt-ctr-runc", "sh", "-c", script])
        .fails(3);
    let o = ctd
        .ctr(&env)
        .args(["run", "--rm", "--runc-binary"])
        .arg(&ours)
        .arg("--runc-root")
        .arg(&state)
        .args([image, "rt-ctr", "sh", "-c", script])
        .fails(3);
    assert!(o.stdout.starts_with("hi\n1024\n"), "{o}");
    assert_eq!(o.stdout, runc.stdout);
    // containerd's own seccomp profile (`--seccomp`), as under runc
    let probe = "unshare -U true 2>/dev/null; echo unshare=$?; mkdir /tmp/d; echo mkdir=$?";
    let runc = ctd
        .ctr(&env)
        .args([
            "run",
            "--rm",
            "--seccomp",
            image,
            "rt-ctr-sc-runc",
            "sh",
            "-c",
            probe,
        ])
        .ok();
    let o = ctd
        .ctr(&env)
        .args(["run", "--rm", "--seccomp", "--runc-binary"])
        .arg(&ours)
        .arg("--runc-root")
        .arg(&state)
        .args([image, "rt-ctr-sc", "sh", "-c", probe])
        .ok();
    assert_eq!(o.stdout, "unshare=1\nmkdir=0\n", "{o}");
    assert_eq!(o.stdout, runc.stdout);

    // detached, with exec, ps, pause/resume and a kill the process traps
    let trap = "trap 'echo term; exit 7' TERM; echo up; while true; do sleep 0.1; done";
    ctd.ctr(&env)
        .args(["run", "-d", "--runc-binary"])
        .arg(&ours)
        .arg("--runc-root")
        .arg(&state)
        .args([image, "rt-ctr-d", "sh", "-c", trap])
        .ok();
    let task = |args: &[&str]| ctd.ctr(&env).arg("task").args(args);
    let exec = task(&[
        "exec",
        "--exec-id",
        "e1",
        "rt-ctr-d",
        "sh",
        "-c",
        "echo in; exit 4",
    ])
    .fails(4);
    assert_eq!(exec.stdout, "in\n");
    let ps = task(&["ps", "rt-ctr-d"]).ok().stdout;
    assert!(ps.starts_with("PID") && ps.lines().count() >= 2, "{ps}");
    task(&["pause", "rt-ctr-d"]).ok();
    assert!(task(&["ls"]).ok().stdout.contains("PAUSED"));
    task(&["resume", "rt-ctr-d"]).ok();
    assert!(task(&["ls"]).ok().stdout.contains("RUNNING"));
    task(&["kill", "rt-ctr-d"]).ok();
    crate::harness::wait_for("the stop", std::time::Duration::from_secs(10), || {
        task(&["ls"]).ok().stdout.contains("STOPPED")
    });
    task(&["delete", "rt-ctr-d"]).ok();
    ctd.ctr(&env).args(["containers", "rm", "rt-ctr-d"]).ok();
    assert!(!state.join("rt-ctr-d").exists());
    assert!(!state.join("rt-ctr").exists());
    assert!(!state.join("rt-ctr-sc").exists());
    drop(ctd);
    assert!(leftovers(&env).is_empty(), "{:?}", leftovers(&env));
    for id in ["rt-ctr", "rt-ctr-d", "rt-ctr-sc"] {
        assert!(cgroups_of(id).is_empty(), "{:?}", cgroups_of(id));
    }
}

/// The cgroup directories called `name` up to three levels below each
/// hierarchy's root: those cairn-runtime made for the container `name`
/// wherever its cgroupsPath put it (containerd: `/<namespace>/<id>`).
fn cgroups_of(name: &str) -> Vec<std::path::PathBuf> {
    fn walk(dir: &std::path::Path, name: &str, depth: u32, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            if !e.file_type().is_ok_and(|t| t.is_dir()) {
                continue;
            }
            if e.file_name() == name {
                out.push(e.path());
            } else if depth > 1 {
                walk(&e.path(), name, depth - 1, out);
            }
        }
    }
    let mut dirs = Vec::new();
    walk(std::path::Path::new("/sys/fs/cgroup"), name, 4, &mut dirs);
    dirs
}

#[test]
fn hooks_sysctls_rlimits_and_a_cgroup_mount_as_docker_sends_them() {
    let env = Env::new("rt-docker-spec");
    let c = bundle(
        &env,
        "cat /proc/sys/net/ipv4/ping_group_range; ulimit -n; cat /proc/self/oom_score_adj; \
         cat /sys/fs/cgroup/pids/pids.max; touch /sys/fs/cgroup/x 2>/dev/null || echo ro",
    );
    let path = env.path("b/config.json");
    let mut config = config_of(&env);
    let hook = |name: &str| {
        let script = format!("cat > {}/{name}.json", env.dir.display());
        serde_json::json!([{"path": "/bin/sh", "args": ["sh", "-c", script]}])
    };
    config["hooks"] = serde_json::json!({
        "prestart": hook("prestart"), "poststart": hook("poststart"), "poststop": hook("poststop")
    });
    config["linux"]["sysctl"] = serde_json::json!({"net.ipv4.ping_group_range": "0 2147483647"});
    config["process"]["rlimits"] =
        serde_json::json!([{"type": "RLIMIT_NOFILE", "soft": 777, "hard": 777}]);
    config["process"]["oomScoreAdj"] = serde_json::json!(123);
    config["mounts"].as_array_mut().unwrap().push(serde_json::json!(
        {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["ro", "nosuid", "noexec", "nodev"]}
    ));
    std::fs::write(&path, config.to_string()).unwrap();
    let o = runtime(&env)
        .args(["run", "--bundle", "b", "rt-docker-spec"])
        .ok();
    assert_eq!(o.stdout, "0\t2147483647\n777\n123\n2048\nro\n", "{o}");
    // a foreground run with hooks cleans up after itself as one without
    assert!(!env.path("state/rt-docker-spec").exists());
    for (name, status) in [
        ("prestart", "created"),
        ("poststart", "running"),
        ("poststop", "stopped"),
    ] {
        let st: serde_json::Value =
            serde_json::from_slice(&std::fs::read(env.path(&format!("{name}.json"))).unwrap())
                .unwrap();
        assert_eq!(
            (st["id"].as_str(), st["status"].as_str()),
            (Some("rt-docker-spec"), Some(status))
        );
        assert!(st["pid"].as_i64().unwrap() > 0);
    }
    // a sysctl of the host's is refused before anything starts
    config["linux"]["sysctl"] = serde_json::json!({"kernel.core_pattern": "|/x"});
    std::fs::write(&path, config.to_string()).unwrap();
    let o = runtime(&env)
        .args(["run", "--bundle", "b", "rt-docker-spec"])
        .fails(1);
    assert!(o.stderr.contains("kernel.core_pattern"), "{o}");
    assert!(!env.path("state/rt-docker-spec").exists());
    env.cmd("rm").arg(s(&c, "container")).ok();
    assert!(leftovers(&env).is_empty(), "{:?}", leftovers(&env));
}

/// The createContainer and startContainer hooks of a bundle run by
/// `runtime` (`cairn` or `runc`) as container `id`: what the container
/// printed, and what the createContainer hook saw (its state, its
/// directory, whether it was in the host's mount namespace, whether the
/// host's files were there).
fn inside_hooks(env: &Env, runtime_: &str, id: &str) -> (String, String) {
    let seen = env.path(&format!("{id}.cc"));
    let host_ns = std::fs::read_link("/proc/self/ns/mnt").unwrap();
    let cc = format!(
        "read -r st; echo \"$st\" > {seen}; pwd >> {seen}; \
         [ \"$(readlink /proc/self/ns/mnt)\" = {host} ] && echo host-ns >> {seen}; \
         [ -e {b}/config.json ] && echo host-files >> {seen}; exit 0",
        seen = seen.display(),
        host = host_ns.display(),
        b = env.path("b").display(),
    );
    edit_config(env, |c| {
        c["hooks"] = serde_json::json!({
            "createContainer": [{"path": "/bin/sh", "args": ["sh", "-c", cc]}],
            "startContainer": [{"path": "/bin/sh", "args": ["sh", "-c",
                "read -r st; echo \"$st\" > /dev/shm/started; id -u >> /dev/shm/started; \
                 grep CapEff /proc/self/status >> /dev/shm/started"]}],
        });
    });
    let o = match runtime_ {
        "cairn" => runtime(env).args(["run", "--bundle", "b", id]).ok(),
        _ => env
            .program(runtime_)
            .args(["run", "--bundle", "b", id])
            .ok(),
    };
    (o.stdout, std::fs::read_to_string(&seen).unwrap())
}

#[test]
fn create_and_start_container_hooks_run_inside_as_runc_runs_them() {
    let env = Env::new("rt-inside-hooks");
    let c = bundle(&env, "cat /dev/shm/started");
    edit_config(&env, |c| {
        c["process"]["user"] = serde_json::json!({"uid": 1000, "gid": 1000});
    });
    let (ours, ours_cc) = inside_hooks(&env, "cairn", "rt-inside-hooks");
    let (runc, runc_cc) = inside_hooks(&env, "runc", "rt-inside-hooks-runc");
    // startContainer: inside, as the container's user with its
    // capabilities, with the state "created" and pid 1
    let state = |text: &str| -> serde_json::Value {
        serde_json::from_str(text.lines().next().unwrap()).unwrap()
    };
    let (o, r) = (state(&ours), state(&runc));
    assert_eq!(o["id"], "rt-inside-hooks", "{ours}");
    assert_eq!((&o["status"], &o["pid"]), (&r["status"], &r["pid"]));
    assert_eq!(
        (o["status"].as_str(), o["pid"].as_i64()),
        (Some("created"), Some(1))
    );
    assert_eq!(o["bundle"], r["bundle"]);
    let rest = |text: &str| text.lines().skip(1).collect::<Vec<_>>().join("\n");
    assert_eq!(rest(&ours), rest(&runc));
    assert!(rest(&ours).starts_with("1000\nCapEff:"), "{ours}");
    // createContainer: in the container's mount namespace, in the root
    // file system's directory, the host's files still there, "creating"
    let (o, r) = (state(&ours_cc), state(&runc_cc));
    assert_eq!(
        (o["status"].as_str(), o["pid"].as_i64()),
        (Some("creating"), Some(1))
    );
    assert_eq!((&o["status"], &o["pid"]), (&r["status"], &r["pid"]));
    assert_eq!(rest(&ours_cc), rest(&runc_cc));
    let rootfs = env.path("b/rootfs").canonicalize().unwrap();
    assert_eq!(rest(&ours_cc), format!("{}\nhost-files", rootfs.display()));

    // a failing hook fails create (runc's status, 1), nothing left; the
    // error names the stage and says what the hook said
    let failing =
        serde_json::json!([{"path": "/bin/sh", "args": ["sh", "-c", "echo nope >&2; exit 3"]}]);
    edit_config(&env, |c| {
        c["hooks"] = serde_json::json!({"createContainer": failing})
    });
    let (code, err) = detached(&env, &["create", "--bundle", "b", "rt-inside-fail"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("createContainer hook /bin/sh") && err.contains("nope"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(!env.path("state/rt-inside-fail").exists());
    let runc = env
        .program("runc")
        .args(["run", "--bundle", "b", "rt-inside-fail-runc"])
        .fails(1);
    assert!(runc.stderr.contains("nope"), "{runc}");
    // a hook past its timeout is killed and fails create
    edit_config(&env, |c| {
        c["hooks"] = serde_json::json!({"createContainer":
            [{"path": "/bin/sleep", "args": ["sleep", "30"], "timeout": 1}]})
    });
    let t = std::time::Instant::now();
    let (code, err) = detached(&env, &["create", "--bundle", "b", "rt-inside-slow"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("timed out after 1s"), "{err}");
    assert!(t.elapsed() < std::time::Duration::from_secs(20));
    // a failing startContainer hook: create and start succeed, as runc's,
    // and the container ends with status 1, the error on its stderr
    edit_config(&env, |c| {
        c["hooks"] = serde_json::json!({"startContainer": failing})
    });
    let id = "rt-inside-start";
    let (code, err) = detached(&env, &["create", "--bundle", "b", id]);
    assert_eq!(code, Some(0), "{err}");
    runtime(&env).args(["start", id]).ok();
    crate::harness::wait_for("the stop", std::time::Duration::from_secs(10), || {
        status_of(&env, id)["status"] == "stopped"
    });
    let err = std::fs::read_to_string(env.path("err")).unwrap();
    assert!(
        err.contains("startContainer hook /bin/sh") && err.contains("nope"),
        "{err}"
    );
    runtime(&env).args(["delete", id]).ok();
    let o = runtime(&env).args(["run", "--bundle", "b", id]).fails(1);
    assert!(o.stderr.contains("nope"), "{o}");
    env.program("runc")
        .args(["run", "--bundle", "b", "rt-inside-start-runc"])
        .fails(1);
    env.cmd("rm").arg(s(&c, "container")).ok();
    assert!(leftovers(&env).is_empty(), "{:?}", leftovers(&env));
}

/// `docker run --rm` of busybox:rt with `args` under `runtime`: exit
/// status, stdout and stderr.
fn docker_run(runtime: &str, args: &[&str]) -> (Option<i32>, String, String) {
    // docker's seccomp profile included: cairn-runtime compiles it
    let mut all = vec!["run", "--rm", "--runtime", runtime, "--network", "none"];
    all.extend(args);
    let o = crate::fixtures::docker().run(&all);
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (o.status.code(), text(&o.stdout), text(&o.stderr))
}

#[test]
fn docker_runs_containers_through_cairn_runtime_as_through_runc() {
    let env = Env::new("rt-docker");
    let d = crate::fixtures::docker();
    let archive = busybox_archive(&env);
    d.ok(&["load", "-i", archive.to_str().unwrap()]);
    let vol = env.path("vol");
    std::fs::create_dir_all(&vol).unwrap();
    let rw = format!("{}:/data", vol.display());
    let ro = format!("{}:/ro:ro", vol.display());
    let cases: Vec<Vec<&str>> = vec![
        vec![
            "busybox:rt",
            "sh",
            "-c",
            "echo hi; hostname >/dev/null; exit 3",
        ],
        vec![
            "--user",
            "1000:1000",
            "--cap-drop",
            "ALL",
            "--read-only",
            "busybox:rt",
            "sh",
            "-c",
            "id; touch /x 2>/dev/null || echo ro; grep CapEff /proc/self/status",
        ],
        vec![
            "--memory",
            "32m",
            "busybox:rt",
            "sh",
            "-c",
            "x=$(head -c 100000000 /dev/zero | tr '\\0' a); echo survived",
        ],
        vec![
            "--pids-limit",
            "5",
            "busybox:rt",
            "sh",
            "-c",
            "for i in 1 2 3 4 5 6; do sleep 1 & done 2>/dev/null; wait; echo done",
        ],
        vec![
            "-v",
            &rw,
            "-v",
            &ro,
            "busybox:rt",
            "sh",
            "-c",
            "echo w > /data/f; cat /ro/f; touch /ro/g 2>/dev/null || echo ro",
        ],
    ];
    for args in &cases {
        let runc = docker_run("runc", args);
        let ours = docker_run("cairn", args);
        assert_eq!((ours.0, &ours.1), (runc.0, &runc.1), "{args:?}: {}", ours.2);
    }
    // detached, with exec, top, pause, a stop the process traps, logs
    let trap = "trap 'echo term; exit 7' TERM; echo up; while true; do sleep 0.1; done";
    let id = d.ok(&[
        "run",
        "-d",
        "--runtime",
        "cairn",
        "--network",
        "none",
        "busybox:rt",
        "sh",
        "-c",
        trap,
    ]);
    let id = id.trim();
    let exec = d.run(&["exec", id, "sh", "-c", "echo in-exec; exit 4"]);
    assert_eq!(
        (exec.status.code(), exec.stdout.as_slice()),
        (Some(4), &b"in-exec\n"[..])
    );
    assert!(d.ok(&["top", id]).contains("sleep"));
    d.ok(&["pause", id]);
    assert!(d
        .ok(&["inspect", "-f", "{{.State.Status}}", id])
        .contains("paused"));
    d.ok(&["unpause", id]);
    d.ok(&["stop", id]);
    assert_eq!(d.ok(&["wait", id]).trim(), "7");
    assert_eq!(d.ok(&["logs", id]), "up\nterm\n");
    d.ok(&["rm", id]);
}

/// A profile of the container's own, as a user would write it: every call
/// allowed but `mkdir`/`mkdirat` (EACCES) and `personality(PER_LINUX32)`
/// (EPERM), checked by an argument rule.
fn own_profile() -> serde_json::Value {
    serde_json::json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [
            {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13},
            {"names": ["personality"], "action": "SCMP_ACT_ERRNO",
             "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]}
        ]
    })
}

/// What the container tries under [`own_profile`].
const OWN_PROFILE_SCRIPT: &str = "mkdir /tmp/x; echo mkdir=$?; linux32 true; echo linux32=$?; \
     linux64 true; echo linux64=$?; touch /tmp/f && echo touch";

#[test]
fn a_seccomp_profile_of_the_containers_own_is_compiled_at_create() {
    let env = Env::new("rt-seccomp");
    let c = bundle(&env, OWN_PROFILE_SCRIPT);
    let mut config = config_of(&env);
    config["linux"]["seccomp"] = own_profile();
    let path = env.path("b/config.json");
    std::fs::write(&path, config.to_string()).unwrap();
    let ours = runtime(&env)
        .args(["run", "--bundle", "b", "rt-seccomp"])
        .ok();
    let runc = env
        .program("runc")
        .args(["run", "--bundle", "b", "rt-seccomp-runc"])
        .ok();
    assert!(
        ours.stdout
            .starts_with("mkdir=1\nlinux32=1\nlinux64=0\ntouch\n"),
        "{ours}"
    );
    assert!(ours.stderr.contains("Permission denied"), "{ours}");
    assert!(ours.stderr.contains("Operation not permitted"), "{ours}");
    assert_eq!(
        (ours.stdout.as_str(), ours.stderr.as_str()),
        (runc.stdout.as_str(), runc.stderr.as_str())
    );
    // what cairn cannot do is one line naming it, before anything starts
    config["linux"]["seccomp"] = serde_json::json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]
    });
    std::fs::write(&path, config.to_string()).unwrap();
    let o = runtime(&env)
        .args(["run", "--bundle", "b", "rt-seccomp-notify"])
        .fails(1);
    assert!(o.stderr.contains("SCMP_ACT_NOTIFY"), "{o}");
    assert_eq!(o.stderr.trim().lines().count(), 1, "{o}");
    assert!(!env.path("state/rt-seccomp-notify").exists());
    env.cmd("rm").arg(s(&c, "container")).ok();
    assert!(leftovers(&env).is_empty(), "{:?}", leftovers(&env));
}

#[test]
fn docker_seccomp_profiles_through_cairn_runtime_as_through_runc() {
    let env = Env::new("rt-docker-seccomp");
    let d = crate::fixtures::docker();
    let archive = busybox_archive(&env);
    d.ok(&["load", "-i", archive.to_str().unwrap()]);
    let profile = env.path("profile.json");
    std::fs::write(&profile, own_profile().to_string()).unwrap();
    let own = format!("seccomp={}", profile.display());
    let run = |runtime: &str, opt: Option<&str>, script: &str| {
        let mut args = vec!["run", "--rm", "--runtime", runtime, "--network", "none"];
        if let Some(opt) = opt {
            args.extend(["--security-opt", opt]);
        }
        args.extend(["busybox:rt", "sh", "-c", script]);
        let o = d.run(&args);
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        (o.status.code(), text(&o.stdout), text(&o.stderr))
    };
    // docker's default profile (as this docker writes it), unconfined, and
    // a file of the user's
    let probe = "unshare -U true 2>/dev/null; echo unshare=$?; mkdir /tmp/x; echo mkdir=$?";
    for (opt, script) in [
        (None, probe),
        (Some("seccomp=unconfined"), probe),
        (Some(own.as_str()), OWN_PROFILE_SCRIPT),
    ] {
        let runc = run("runc", opt, script);
        let ours = run("cairn", opt, script);
        assert_eq!(ours, runc, "{opt:?}");
    }
    // the default profile refuses unshare without CAP_SYS_ADMIN, where
    // the kernel would make a user namespace
    assert_eq!(run("cairn", None, probe).1, "unshare=1\nmkdir=0\n");
    let unconfined = run("cairn", Some("seccomp=unconfined"), probe).1;
    assert_eq!(unconfined, "unshare=0\nmkdir=0\n");
    let (_, out, err) = run("cairn", Some(&own), OWN_PROFILE_SCRIPT);
    assert!(out.starts_with("mkdir=1\nlinux32=1\n"), "{out}");
    assert!(err.contains("Permission denied"), "{err}");
}

/// Debian's podman with its own root and run root below `dir`, cgroupfs,
/// file events, and `runtime` as its OCI runtime: the output of `args`.
fn podman(dir: &std::path::Path, runtime: &str, args: &[&str]) -> std::process::Output {
    std::process::Command::new("podman")
        .arg("--root")
        .arg(dir.join("root"))
        .arg("--runroot")
        .arg(dir.join("run"))
        .args(["--cgroup-manager", "cgroupfs", "--events-backend", "file"])
        .args(["--storage-driver", "overlay", "--runtime", runtime])
        .args(args)
        .env("TMPDIR", dir)
        .output()
        .unwrap()
}

#[test]
fn podman_runs_containers_through_cairn_runtime_as_through_runc() {
    let env = Env::new("rt-podman");
    let archive = busybox_archive(&env);
    // short: conmon's sockets live below the run root
    let dir = std::path::PathBuf::from(format!("/tmp/cairn-pd.{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ours = crate::harness::bin("runtime").display().to_string();
    let pod = |runtime: &str, args: &[&str]| {
        let o = podman(&dir, runtime, args);
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        (o.status.code(), text(&o.stdout), text(&o.stderr))
    };
    let ok = |runtime: &str, args: &[&str]| {
        let o = pod(runtime, args);
        assert_eq!(o.0, Some(0), "podman {args:?}: {}", o.2);
        o.1
    };
    ok("runc", &["load", "-i", archive.to_str().unwrap()]);
    // podman's default rlimits (1048576 files and processes) are above
    // this machine's hard limits: under runc too
    let run = [
        "run",
        "--rm",
        "--network",
        "none",
        "--ulimit",
        "nofile=1024:1024",
        "--ulimit",
        "nproc=1024:1024",
    ];
    let script = "echo hi; id -u; mkdir /tmp/d && echo made; exit 3";
    fn with<'a>(run: &[&'a str], extra: &[&'a str]) -> Vec<&'a str> {
        [run, extra].concat()
    }
    for runtime in ["runc", ours.as_str()] {
        let (code, out, err) = pod(runtime, &with(&run, &["busybox:rt", "sh", "-c", script]));
        assert_eq!(
            (code, out.as_str()),
            (Some(3), "hi\n0\nmade\n"),
            "{runtime}: {err}"
        );
    }
    // podman's own seccomp profile, compiled by cairn-runtime: what it
    // allows and refuses, as under runc
    let probe = "unshare -U true 2>/dev/null; echo $?; linux32 true; echo $?";
    let probe = with(&run, &["busybox:rt", "sh", "-c", probe]);
    assert_eq!(pod(&ours, &probe), pod("runc", &probe));
    // detached, exec, stop of a TERM-trapping process, its status and logs
    let trap = "trap 'echo term; exit 7' TERM; echo up; while true; do sleep 0.1; done";
    let detached: Vec<&str> = run[1..]
        .iter()
        .map(|a| if *a == "--rm" { "-d" } else { a })
        .collect();
    let mut args = vec!["run"];
    args.extend(&detached);
    args.extend(["busybox:rt", "sh", "-c", trap]);
    let id = ok(&ours, &args);
    let id = id.trim();
    let exec = pod(&ours, &["exec", id, "sh", "-c", "echo in-exec; exit 4"]);
    assert_eq!(
        (exec.0, exec.1.as_str()),
        (Some(4), "in-exec\n"),
        "{}",
        exec.2
    );
    ok(&ours, &["pause", id]);
    assert_eq!(
        ok(&ours, &["inspect", "-f", "{{.State.Status}}", id]),
        "paused\n"
    );
    ok(&ours, &["unpause", id]);
    ok(&ours, &["stop", id]);
    assert_eq!(ok(&ours, &["wait", id]).trim(), "7");
    assert_eq!(ok(&ours, &["logs", id]), "up\nterm\n");
    ok(&ours, &["rm", id]);
    // Podman keeps its file events in /run/libpod/events whatever its run
    // root, shared with every podman of the other tests: reset, which
    // removes that directory, fails when one writes there meanwhile.
    for tries in 1.. {
        let o = pod(&ours, &["system", "reset", "--force"]);
        if o.0 == Some(0) || tries == 5 || !o.2.contains("/run/libpod/events") {
            assert_eq!(o.0, Some(0), "podman system reset: {}", o.2);
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    // the last container's cleanup (conmon's exit command) may still be
    // unmounting its root
    for _ in 0..50 {
        if std::fs::remove_dir_all(&dir).is_ok() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(!dir.exists(), "{} is left", dir.display());
}

/// The cgroup controllers cairn-runtime puts a container in on v1.
const V1_CONTROLLERS: [&str; 7] = [
    "memory", "pids", "cpu", "cpuacct", "freezer", "devices", "blkio",
];

/// Where `/proc/PID/cgroup` puts `pid`: (controllers, path) per line.
fn cgroups_of_pid(pid: &str) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(format!("/proc/{}/cgroup", pid.trim())).unwrap();
    text.lines()
        .filter_map(|l| {
            let mut f = l.splitn(3, ':');
            let (_, ctl, path) = (f.next()?, f.next()?, f.next()?);
            Some((ctl.to_string(), path.to_string()))
        })
        .collect()
}

#[test]
fn cgroups_path_is_honoured_in_full() {
    let env = Env::new("rt-cgroups-path");
    let c = bundle(&env, "exec sleep 600");
    let path = env.path("b/config.json");
    let config = config_of(&env);
    let with = |p: &str| {
        let mut c = config.clone();
        c["linux"]["cgroupsPath"] = p.into();
        std::fs::write(&path, c.to_string()).unwrap();
    };
    let id = "rt-cgroups-path";
    for (given, want) in [
        (format!("/docker/{id}"), format!("/docker/{id}")),
        (format!("nest/a/{id}"), format!("/cairn/nest/a/{id}")),
    ] {
        with(&given);
        let (code, err) = detached(&env, &["run", "-d", "-b", "b", "--pid-file", "pid", id]);
        assert_eq!(code, Some(0), "{given}: {err}");
        let pid = std::fs::read_to_string(env.path("pid")).unwrap();
        let lines = cgroups_of_pid(&pid);
        // v1: every controller the runtime uses; v2 alone: the one line
        let v1: Vec<&(String, String)> = lines
            .iter()
            .filter(|(ctl, _)| ctl.split(',').any(|c| V1_CONTROLLERS.contains(&c)))
            .collect();
        let checked: Vec<&(String, String)> = if v1.is_empty() {
            lines.iter().filter(|(ctl, _)| ctl.is_empty()).collect()
        } else {
            v1
        };
        assert!(!checked.is_empty(), "{lines:?}");
        for (ctl, at) in &checked {
            assert_eq!(at, &want, "{given}: controller {ctl:?}: {lines:?}");
            let mount = std::path::Path::new("/sys/fs/cgroup").join(if ctl.is_empty() {
                ""
            } else {
                ctl.as_str()
            });
            let procs = mount.join(&want[1..]).join("cgroup.procs");
            let procs = std::fs::read_to_string(&procs).unwrap_or_default();
            assert!(procs.lines().any(|p| p == pid.trim()), "{ctl}: {procs:?}");
        }
        let ps: Vec<i32> =
            serde_json::from_str(&runtime(&env).args(["ps", "-f", "json", id]).ok().stdout)
                .unwrap();
        assert_eq!(ps, [pid.trim().parse::<i32>().unwrap()]);
        runtime(&env).args(["delete", "--force", id]).ok();
        for (ctl, _) in &checked {
            let dir = std::path::Path::new("/sys/fs/cgroup")
                .join(ctl)
                .join(&want[1..]);
            assert!(!dir.exists(), "{} is left", dir.display());
            // the parents made for the test only
            if given.starts_with("nest") {
                let _ = std::fs::remove_dir(dir.parent().unwrap());
                let _ = std::fs::remove_dir(dir.parent().unwrap().parent().unwrap());
            }
        }
    }
    // systemd's form, and a path out of the hierarchy: one line, nothing made
    for (given, says) in [
        (format!("system.slice:docker:{id}"), "--systemd-cgroup"),
        ("/docker/../../x".to_string(), "invalid cgroup path"),
    ] {
        with(&given);
        let o = runtime(&env).args(["run", "-b", "b", id]).fails(1);
        assert!(o.stderr.contains(says), "{given}: {o}");
        assert_eq!(o.stderr.trim().lines().count(), 1, "{o}");
        assert!(!env.path("state").join(id).exists());
    }
    env.cmd("rm").arg(s(&c, "container")).ok();
    assert!(leftovers(&env).is_empty(), "{:?}", leftovers(&env));
}

/// `text` holds each of `parts` after the one before: a terminal's echo of
/// the input may land anywhere, even inside a line of the output (seen in
/// CI: "piin-tty\nped").
fn in_order(text: &str, parts: &[&str], who: &str) {
    let mut rest = text;
    for p in parts {
        let at = rest
            .find(p)
            .unwrap_or_else(|| panic!("{who}: no {p:?} in order in {text:?}"));
        rest = &rest[at + p.len()..];
    }
}

#[test]
fn a_foreground_run_or_exec_with_a_terminal_relays_its_pty_as_runc_does() {
    let env = Env::new("rt-run-tty");
    let c = bundle(&env, "");
    let mut config = config_of(&env);
    config["process"]["terminal"] = true.into();
    config["process"]["args"] = serde_json::json!([
        "sh",
        "-c",
        "tty; test -t 0 && echo in-tty; read line; echo got:$line; exit 3"
    ]);
    std::fs::write(env.path("b/config.json"), config.to_string()).unwrap();
    // on a terminal of script(1)'s, what is typed on it fed from our pipe
    let on_a_terminal = |cmd: String| {
        let mut child = std::process::Command::new("script")
            .args(["-qec", &cmd, "/dev/null"])
            .current_dir(&env.dir)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child.stdin.take().unwrap().write_all(b"hello\n").unwrap();
        let o = child.wait_with_output().unwrap();
        let text = String::from_utf8_lossy(&o.stdout).replace('\r', "");
        (o.status.code(), text)
    };
    let ours = on_a_terminal(format!(
        "{} --root state run --bundle b rt-run-tty",
        crate::harness::bin("runtime").display()
    ));
    let runc = on_a_terminal("runc run --bundle b rt-run-tty-runc".into());
    for (who, (code, text)) in [("cairn-runtime", &ours), ("runc", &runc)] {
        assert_eq!(*code, Some(3), "{who}: {text}");
        // the container's own pty (its devpts), input relayed to it (the
        // terminals' echoes of it fall anywhere)
        in_order(text, &["/dev/pts/0\n", "in-tty\n", "got:hello\n"], who);
    }
    assert!(!env.path("state/rt-run-tty").exists());
    // without a terminal of ours the pty is still made and relayed
    let o = runtime(&env)
        .args(["run", "--bundle", "b", "rt-run-tty"])
        .stdin("piped\n")
        .fails(3);
    let text = o.stdout.replace('\r', "");
    in_order(
        &text,
        &["/dev/pts/0\n", "in-tty\n", "got:piped\n"],
        "cairn-runtime",
    );
    // and `exec -t` in the foreground, into a detached container
    config["process"]["terminal"] = false.into();
    config["process"]["args"] = serde_json::json!(["sleep", "600"]);
    std::fs::write(env.path("b/config.json"), config.to_string()).unwrap();
    let (code, err) = detached(&env, &["run", "-d", "-b", "b", "rt-run-tty"]);
    assert_eq!(code, Some(0), "{err}");
    let (code, text) = on_a_terminal(format!(
        "{} --root state exec -t rt-run-tty sh -c 'tty; read l; echo got:$l; exit 4'",
        crate::harness::bin("runtime").display()
    ));
    let lines: Vec<&str> = text.lines().filter(|l| *l != "hello").collect();
    assert_eq!(
        (code, lines),
        (Some(4), vec!["/dev/pts/0", "got:hello"]),
        "{text:?}"
    );
    runtime(&env).args(["delete", "-f", "rt-run-tty"]).ok();
    env.cmd("rm").arg(s(&c, "container")).ok();
    assert!(leftovers(&env).is_empty(), "{:?}", leftovers(&env));
}

/// `env/b/config.json` changed by `f`.
fn edit_config(env: &Env, f: impl FnOnce(&mut serde_json::Value)) {
    let mut config = config_of(env);
    f(&mut config);
    std::fs::write(env.path("b/config.json"), config.to_string()).unwrap();
}

#[test]
fn domainname_personality_propagation_and_device_nodes_as_runc_makes_them() {
    let env = Env::new("rt-fields");
    let c = bundle(
        &env,
        "cat /proc/sys/kernel/domainname; uname -m; \
         awk '$5 == \"/\" {print $7}' /proc/self/mountinfo | sed 's/[0-9]//g'; \
         stat -c '%A %u %g %t %T %n' /dev/fuse /dev/net/tun /dev/null",
    );
    edit_config(&env, |c| {
        c["hostname"] = "h".into();
        c["domainname"] = "example.org".into();
        c["linux"]["personality"] = serde_json::json!({"domain": "LINUX32"});
        c["linux"]["rootfsPropagation"] = "rprivate".into();
        c["linux"]["devices"] = serde_json::json!([
            {"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229,
             "fileMode": 0o640, "uid": 0, "gid": 5},
            {"path": "/dev/net/tun", "type": "c", "major": 10, "minor": 200},
            {"path": "/dev/null", "type": "c", "major": 1, "minor": 3}
        ]);
    });
    let ours = runtime(&env)
        .args(["run", "--bundle", "b", "rt-fields"])
        .ok();
    let runc = env
        .program("runc")
        .args(["run", "--bundle", "b", "rt-fields-runc"])
        .ok();
    let lines: Vec<&str> = ours.stdout.lines().collect();
    assert_eq!(&lines[..3], ["example.org", "i686", "-"], "{ours}");
    assert!(
        lines[3].starts_with("crw-r----- 0 5 a e5 /dev/fuse"),
        "{ours}"
    );
    assert!(
        lines[4].starts_with("crw-rw-rw- 0 0 a c8 /dev/net/tun"),
        "{ours}"
    );
    // Debian's runc 1.1 leaves domainname and personality out without a
    // word (runc 1.2 sets both); the rest is the same
    let rest = |o: &str| o.lines().skip(2).collect::<Vec<_>>().join("\n");
    assert_eq!(
        rest(&ours.stdout),
        rest(&runc.stdout),
        "beside runc: {runc}"
    );

    // rshared: / shares its mounts within the container (and is still a
    // slave of the host's, which never sees the container's)
    edit_config(&env, |c| c["linux"]["rootfsPropagation"] = "rshared".into());
    let o = runtime(&env)
        .args(["run", "--bundle", "b", "rt-fields"])
        .ok();
    assert_eq!(o.stdout.lines().nth(2), Some("shared:"), "{o}");

    // what is refused is refused by name, before anything runs
    let refused = [
        (serde_json::json!({"cpu": {"idle": 1}}), "cpu.idle"),
        (
            serde_json::json!({"memory": {"disableOOMKiller": true}}),
            "memory.disableOOMKiller",
        ),
    ];
    for (resources, what) in refused {
        edit_config(&env, |c| c["linux"]["resources"] = resources.clone());
        let o = runtime(&env)
            .args(["run", "--bundle", "b", "rt-fields"])
            .fails(1);
        assert!(o.stderr.contains(what), "{what}: {o}");
        assert_eq!(o.stderr.lines().count(), 1, "{o}");
    }
    // CPU shares are set in the container's cgroup (v1 cpu.shares, v2
    // cpu.weight), as runc sets them
    edit_config(&env, |c| {
        c["linux"]["resources"] = serde_json::json!({"cpu": {"shares": 512}});
        c["process"]["args"] = serde_json::json!([
            "sh",
            "-c",
            "cat /sys/fs/cgroup/cpu,cpuacct/cpu.shares /sys/fs/cgroup/cpu/cpu.shares \
             /sys/fs/cgroup/cpu.weight 2>/dev/null | head -1"
        ]);
        c["mounts"].as_array_mut().unwrap().push(serde_json::json!(
            {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["ro"]}
        ));
    });
    let o = runtime(&env)
        .args(["run", "--bundle", "b", "rt-fields"])
        .ok();
    let v2 = std::path::Path::new("/sys/fs/cgroup/cgroup.controllers").exists();
    assert_eq!(o.stdout.trim(), if v2 { "20" } else { "512" }, "{o}");
    // docker's zero shares and weight are its defaults: tolerated
    edit_config(&env, |c| {
        c["linux"]["resources"] =
            serde_json::json!({"cpu": {"shares": 0}, "blockIO": {"weight": 0}});
        c["linux"]["personality"] = serde_json::json!({"domain": "LINUX", "flags": ["x"]});
    });
    let o = runtime(&env)
        .args(["run", "--bundle", "b", "rt-fields"])
        .fails(1);
    assert!(o.stderr.contains("linux.personality: flags"), "{o}");
    edit_config(&env, |c| {
        c["linux"]["personality"] = serde_json::Value::Null;
        c["linux"]["rootfsPropagation"] = "sideways".into();
    });
    let o = runtime(&env)
        .args(["run", "--bundle", "b", "rt-fields"])
        .fails(1);
    assert!(o.stderr.contains("rootfsPropagation \"sideways\""), "{o}");
    assert!(!env.path("state/rt-fields").exists());
    env.cmd("rm").arg(s(&c, "container")).ok();
    assert!(leftovers(&env).is_empty(), "{:?}", leftovers(&env));
}

/// Whether the process `pid` is gone (or a zombie: it runs no more).
fn gone(pid: i64) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(") ")
            .is_some_and(|(_, r)| r.starts_with('Z')),
    }
}

#[test]
fn a_killed_foreground_run_takes_its_container_down_and_delete_force_cleans_up() {
    let env = Env::new("rt-killed");
    let c = bundle(&env, "sleep 1000 & sleep 1000");
    for hooked in [false, true] {
        let id = format!("rt-killed-{hooked}");
        let post = env.path(&format!("poststop-{hooked}.json"));
        edit_config(&env, |c| {
            c["hooks"] = match hooked {
                false => serde_json::Value::Null,
                true => serde_json::json!({"poststop": [{"path": "/bin/sh",
                    "args": ["sh", "-c", format!("cat > {}", post.display())]}]}),
            }
        });
        let mut run = std::process::Command::new(crate::harness::bin("runtime"))
            .arg("--root")
            .arg(env.path("state"))
            .args(["run", "--bundle", "b", &id])
            .current_dir(&env.dir)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let mut pids = Vec::new();
        crate::harness::wait_for("the container", std::time::Duration::from_secs(20), || {
            let o = runtime(&env).args(["ps", "--format", "json", &id]).run();
            pids = serde_json::from_str::<Vec<i64>>(&o.stdout).unwrap_or_default();
            // sh and both sleeps, or the last in sh's place
            pids.len() >= 2
        });
        // SIGKILL: cairn-runtime cannot pass anything on
        run.kill().unwrap();
        run.wait().unwrap();
        crate::harness::wait_for("its processes", std::time::Duration::from_secs(10), || {
            pids.iter().all(|p| gone(*p))
        });
        assert_eq!(status_of(&env, &id)["status"], "stopped", "hooks: {hooked}");
        assert!(!post.exists());
        runtime(&env).args(["delete", "--force", &id]).ok();
        assert!(!env.path(&format!("state/{id}")).exists());
        if hooked {
            let st: serde_json::Value =
                serde_json::from_slice(&std::fs::read(&post).unwrap()).unwrap();
            assert_eq!(st["status"], "stopped", "{st}");
        }
        assert!(cgroups_of(&id).is_empty(), "{:?}", cgroups_of(&id));
    }
    env.cmd("rm").arg(s(&c, "container")).ok();
    assert!(leftovers(&env).is_empty(), "{:?}", leftovers(&env));
}

/// The program `c/<name>.c` of the containment tests built without libc
/// with `flags` (`-m32` for i386), copied to `/bin/<name>` in the rootfs
/// of the bundle at `env/b`.
fn abi_program(env: &Env, name: &str, flags: &[&str]) {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/containment/c")
        .join(format!("{name}.c"));
    env.program("cc")
        .args(flags)
        .args([
            "-static",
            "-nostdlib",
            "-ffreestanding",
            "-fno-pic",
            "-O1",
            "-o",
        ])
        .arg(env.path(&format!("b/rootfs/bin/{name}")))
        .arg(&src)
        .ok();
}

#[test]
fn a_profile_naming_i386_and_x32_judges_their_calls_as_runc_does() {
    let env = Env::new("rt-abi");
    let c = bundle(
        &env,
        "rmdir /tmp/abi32 /tmp/abix32 2>/dev/null; /bin/abi32; echo i386=$?; /bin/abix32; echo x32=$?",
    );
    // no 32-bit libc is needed: the programs make their calls themselves
    abi_program(&env, "abi32", &["-m32"]);
    abi_program(&env, "abix32", &[]);
    let mut profile = own_profile();
    profile["architectures"] =
        serde_json::json!(["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]);
    edit_config(&env, |c| c["linux"]["seccomp"] = profile.clone());
    let ours = runtime(&env).args(["run", "--bundle", "b", "rt-abi"]).ok();
    let runc = env
        .program("runc")
        .args(["run", "--bundle", "b", "rt-abi-runc"])
        .ok();
    // mkdir is denied with the rule's EACCES in every ABI, getpid
    // allowed (the kernel may not serve x32: ENOSYS), personality(8)
    // denied by its argument rule
    let lines: Vec<&str> = ours.stdout.lines().collect();
    assert_eq!(
        lines[0], "i386 mkdir=-13 getpid=ok personality8=-1",
        "{ours}"
    );
    assert!(lines[2].starts_with("x32 mkdir=-13 getpid="), "{ours}");
    assert_eq!(ours.stdout, runc.stdout, "cairn-runtime beside runc");
    // docker's own profile, as docker sends it
    let mut docker = config_of(&env);
    docker["linux"]["seccomp"] =
        serde_json::to_value(libcairn::isolate::seccomp::default_spec_here()).unwrap();
    docker["linux"]["seccomp"]["architectures"] = profile["architectures"].clone();
    edit_config(&env, |c| *c = docker);
    let ours = runtime(&env).args(["run", "--bundle", "b", "rt-abi"]).ok();
    let runc = env
        .program("runc")
        .args(["run", "--bundle", "b", "rt-abi-runc"])
        .ok();
    assert!(ours.stdout.starts_with("i386 mkdir=0 getpid=ok"), "{ours}");
    assert_eq!(ours.stdout, runc.stdout, "cairn-runtime beside runc");
    // an ABI the profile does not list: every call fails with EPERM
    profile["architectures"] = serde_json::json!(["SCMP_ARCH_X86_64"]);
    edit_config(&env, |c| c["linux"]["seccomp"] = profile.clone());
    let ours = runtime(&env).args(["run", "--bundle", "b", "rt-abi"]).ok();
    assert!(!ours.stdout.contains("i386 mkdir"), "{ours}");
    assert!(ours.stdout.contains("x32 mkdir=-1 getpid=-1"), "{ours}");
    env.cmd("rm").arg(s(&c, "container")).ok();
    assert!(leftovers(&env).is_empty(), "{:?}", leftovers(&env));
}

#[test]
fn a_container_joins_anothers_ipc_uts_and_pid_namespaces_as_in_a_pod() {
    let env = Env::new("rt-join");
    busybox_image(&env);
    let a = env
        .cmd("union-mount")
        .args(["--bundle", "a", "busybox", "--", "sleep", "1000"])
        .ok()
        .record();
    let (code, err) = detached(&env, &["run", "--detach", "--bundle", "a", "rt-join-a"]);
    assert_eq!(code, Some(0), "{err}");
    let pid = status_of(&env, "rt-join-a")["pid"].as_i64().unwrap();
    let c = bundle(
        &env,
        "hostname; for n in ipc uts pid; do readlink /proc/self/ns/$n; done; \
         ps -o comm | grep -c '^sleep'",
    );
    let joined = ["ipc", "uts", "pid"];
    edit_config(&env, |c| {
        c.as_object_mut().unwrap().remove("hostname");
        for ns in c["linux"]["namespaces"].as_array_mut().unwrap() {
            if let Some(t) = ns["type"].as_str().filter(|t| joined.contains(t)) {
                ns["path"] = format!("/proc/{pid}/ns/{t}").into();
            }
        }
    });
    let host: Vec<String> = joined
        .iter()
        .map(|t| {
            let l = std::fs::read_link(format!("/proc/{pid}/ns/{t}")).unwrap();
            l.display().to_string()
        })
        .collect();
    let hostname = std::fs::read_to_string(env.path("a/config.json")).unwrap();
    let hostname: serde_json::Value = serde_json::from_str(&hostname).unwrap();
    let want = format!(
        "{}\n{}\n1\n",
        hostname["hostname"].as_str().unwrap(),
        host.join("\n")
    );
    let ours = runtime(&env)
        .args(["run", "--bundle", "b", "rt-join-b"])
        .ok();
    assert_eq!(ours.stdout, want, "{ours}");
    let runc = env
        .program("runc")
        .args(["run", "--bundle", "b", "rt-join-runc"])
        .ok();
    assert_eq!(ours.stdout, runc.stdout, "beside runc");
    // a mount namespace is not joined: refused by name
    edit_config(&env, |c| {
        for ns in c["linux"]["namespaces"].as_array_mut().unwrap() {
            if ns["type"] == "mount" {
                ns["path"] = format!("/proc/{pid}/ns/mnt").into();
            }
        }
    });
    let o = runtime(&env)
        .args(["run", "--bundle", "b", "rt-join-b"])
        .fails(1);
    assert!(o.stderr.contains("mount namespace"), "{o}");
    runtime(&env).args(["delete", "--force", "rt-join-a"]).ok();
    env.cmd("rm").arg(s(&c, "container")).ok();
    env.cmd("rm").arg(s(&a, "container")).ok();
    assert!(leftovers(&env).is_empty(), "{:?}", leftovers(&env));
}

#[test]
fn a_bundle_runs_init_under_the_hosts_static_init_as_docker_gives_runc() {
    // cairn's own init is the process that sets the container up, which a
    // bundle's runtime replaces: as docker does for runc, the host's
    // static init is bound read-only at /sbin/docker-init and runs the
    // command
    let env = Env::new("rt-bundle-init");
    busybox_image(&env);
    let script = "ps -o pid,args; echo x >/sbin/docker-init || echo ro; exit 4";
    let c = env
        .cmd("union-mount")
        .args([
            "--init", "--bundle", "b", "busybox", "--", "sh", "-c", script,
        ])
        .ok()
        .record();
    let config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(env.path("b/config.json")).unwrap()).unwrap();
    assert_eq!(config["process"]["args"][0], "/sbin/docker-init");
    assert_eq!(config["process"]["args"][1], "--");
    let runc = env
        .program("runc")
        .args(["run", "--bundle", "b", "rt-bundle-init"])
        .fails(4);
    let pid1 = runc.stdout.lines().nth(1).unwrap_or_default().trim();
    assert_eq!(
        pid1,
        format!("1 /sbin/docker-init -- sh -c {script}"),
        "{runc}"
    );
    assert!(runc.stdout.ends_with("ro\n"), "{runc}");
    assert!(runc.stderr.contains("Read-only file system"), "{runc}");
    env.cmd("rm").arg(s(&c, "container")).ok();
    assert!(leftovers(&env).is_empty(), "{:?}", leftovers(&env));
}

#[test]
fn a_bundle_with_init_and_no_static_init_is_refused_in_one_line() {
    let env = Env::new("rt-bundle-noinit");
    busybox_image(&env);
    // no docker-init on PATH at all, then one that needs a dynamic loader
    let dynamic = env.path("bin");
    std::fs::create_dir_all(&dynamic).unwrap();
    std::fs::copy("/bin/true", dynamic.join("docker-init")).unwrap();
    for (path, says) in [
        (env.path("nothing"), "there is none of"),
        (dynamic, "is not a statically linked program"),
    ] {
        let o = env
            .cmd("union-mount")
            .env("PATH", &path)
            .args(["--init", "--bundle", "b", "busybox", "--", "true"])
            .fails(1);
        assert!(
            o.stderr.contains("asks for --init") && o.stderr.contains(says),
            "{o}"
        );
        assert_eq!(o.stderr.lines().count(), 1, "{o}");
        assert!(!env.path("b/config.json").exists());
        let ps = env.cmd("ps").args(["-aq"]).ok();
        assert_eq!(ps.stdout, "", "the container is not kept");
    }
    assert!(leftovers(&env).is_empty(), "{:?}", leftovers(&env));
}

/// The cgroup files of the container `id` (found by its directory's
/// name in every hierarchy) named in `files` (`controller/file`), each
/// as `controller/file: content`.
fn cgroup_files(id: &str, files: &[&str]) -> Vec<String> {
    let dirs = cgroups_of(id);
    files
        .iter()
        .map(|f| {
            let (controller, file) = f.split_once('/').unwrap();
            let dir = dirs
                .iter()
                .find(|d| d.starts_with(format!("/sys/fs/cgroup/{controller}")))
                .unwrap_or_else(|| panic!("{id} has no {controller} cgroup: {dirs:?}"));
            let text = std::fs::read_to_string(dir.join(file)).unwrap_or_else(|e| e.to_string());
            // in the order the rules were written, which is no one's concern
            let mut lines: Vec<&str> = text.trim().lines().collect();
            lines.sort_unstable();
            format!("{f}: {}", lines.join("\n"))
        })
        .collect()
}

#[test]
fn docker_resources_and_devices_through_cairn_runtime_as_through_runc() {
    let env = Env::new("rt-docker-res");
    let d = crate::fixtures::docker();
    let archive = busybox_archive(&env);
    d.ok(&["load", "-i", archive.to_str().unwrap()]);
    // the block device of the root file system, as a path for docker
    let node = std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .find_map(|l| {
            let (mount, fs) = l.split_once(" - ")?;
            let source = fs.split(' ').nth(1)?;
            (mount.split(' ').nth(4) == Some("/")).then(|| source.to_string())
        })
        .filter(|n| n.starts_with("/dev/"))
        .expect("the root file system's block device");
    let throttles = [
        format!("{node}:1mb"),
        format!("{node}:2mb"),
        format!("{node}:50"),
        format!("{node}:100"),
    ];
    let files = [
        "blkio/blkio.throttle.read_bps_device",
        "blkio/blkio.throttle.write_bps_device",
        "blkio/blkio.throttle.read_iops_device",
        "blkio/blkio.throttle.write_iops_device",
        "cpuset/cpuset.cpus",
        "cpuset/cpuset.mems",
        "memory/memory.soft_limit_in_bytes",
        "memory/memory.swappiness",
        "memory/memory.limit_in_bytes",
        // docker sends memory.swap (twice the limit): applied as runc does
        "memory/memory.memsw.limit_in_bytes",
        "devices/devices.list",
    ];
    let cpu = if std::thread::available_parallelism().map_or(1, |n| n.get()) > 1 {
        "1"
    } else {
        "0"
    };
    let seen = |runtime: &str| {
        #[rustfmt::skip]
        let args = [
            "run", "-d", "--runtime", runtime, "--network", "none",
            "--device-read-bps", &throttles[0], "--device-write-bps", &throttles[1],
            "--device-read-iops", &throttles[2], "--device-write-iops", &throttles[3],
            "--cpuset-cpus", cpu, "--cpuset-mems", "0",
            "--memory", "64m", "--memory-reservation", "32m", "--memory-swappiness", "10",
            "--device", "/dev/fuse", "--device", "/dev/net/tun:/dev/tun0:r",
            "--device-cgroup-rule", "c 42:* rmw", "--device-cgroup-rule", "b 7:* r",
            "busybox:rt", "sleep", "600",
        ];
        let id = d.ok(&args).trim().to_string();
        let mut got = cgroup_files(&id, &files);
        let inside = d.ok(&[
            "exec",
            &id,
            "sh",
            "-c",
            "stat -c '%A %t %T %n' /dev/fuse /dev/tun0; grep _allowed_list /proc/self/status",
        ]);
        got.extend(inside.lines().map(String::from));
        d.ok(&["rm", "-f", &id]);
        assert!(
            cgroups_of(&id).is_empty(),
            "{runtime}: {:?}",
            cgroups_of(&id)
        );
        got
    };
    let (runc, ours) = (seen("runc"), seen("cairn"));
    // runc 1.1 allows /dev/net/tun (10:200 rwm) in every container; cairn
    // allows what docker asks for it (r), as runc 1.2 does
    let tun = |v: &[String]| -> Vec<String> {
        v.iter()
            .map(|l| l.replace("c 10:200 rwm\n", "").replace("c 10:200 r\n", ""))
            .collect()
    };
    assert_eq!(tun(&ours), tun(&runc));
    let list = ours.iter().find(|l| l.starts_with("devices/")).unwrap();
    for rule in ["c 10:200 r", "c 10:229 rwm", "c 42:* rwm", "b 7:* r"] {
        assert!(list.lines().any(|l| l == rule), "{rule}: {list}");
    }
    assert!(
        ours.contains(&"cpuset/cpuset.cpus: 1".to_string()) || cpu == "0",
        "{ours:?}"
    );
    assert!(
        ours.iter().any(|l| l == "memory/memory.swappiness: 10"),
        "{ours:?}"
    );
}

#[test]
fn docker_privileged_through_cairn_runtime_has_the_hosts_devices() {
    let env = Env::new("rt-docker-priv");
    let d = crate::fixtures::docker();
    let archive = busybox_archive(&env);
    d.ok(&["load", "-i", archive.to_str().unwrap()]);
    // runc fails --privileged on a host whose bounding set lacks a
    // capability docker asks for (as the test machine's may); cairn
    // grants what it holds. So the nodes are compared with the host's.
    let id = d
        .ok(&[
            "run",
            "-d",
            "--runtime",
            "cairn",
            "--network",
            "none",
            "--privileged",
            "busybox:rt",
            "sleep",
            "600",
        ])
        .trim()
        .to_string();
    let listing = d.ok(&[
        "exec",
        &id,
        "sh",
        "-c",
        "find /dev -type c -o -type b | grep -v '^/dev/pts/' | xargs stat -c '%n %F %a %t %T'",
    ]);
    let list = cgroup_files(&id, &["devices/devices.list"]);
    d.ok(&["rm", "-f", &id]);
    assert_eq!(list, ["devices/devices.list: a *:* rwm"]);
    let mut nodes = Vec::new();
    for line in listing.lines() {
        let (path, rest) = line.split_once(' ').unwrap();
        let host = env
            .program("stat")
            .args(["-c", "%F %a %t %T", path])
            .ok()
            .stdout;
        // a fresh /dev's own nodes keep their 0666
        if ![
            "/dev/null",
            "/dev/zero",
            "/dev/full",
            "/dev/random",
            "/dev/urandom",
            "/dev/tty",
        ]
        .contains(&path)
        {
            assert_eq!(rest, host.trim(), "{path}");
        }
        nodes.push(path.to_string());
    }
    // every node of the host's but its console and ptmx (docker passes
    // neither: the container's /dev/ptmx is its devpts')
    let host = env
        .program("sh")
        .args(["-c", "find /dev -type c -o -type b | grep -v '^/dev/pts/'"])
        .ok()
        .stdout;
    let mut host: Vec<&str> = host
        .lines()
        .filter(|p| !["/dev/console", "/dev/ptmx"].contains(p))
        .collect();
    host.sort_unstable();
    nodes.sort_unstable();
    assert!(nodes.len() > 20, "{listing}");
    assert_eq!(nodes, host, "{listing}");
}

#[test]
fn resources_this_kernel_lacks_are_refused_by_name_as_runc_fails() {
    let env = Env::new("rt-res-refused");
    let c = bundle(&env, "true");
    let base = config_of(&env);
    // whether the kernel takes each is the machine's: what is compared is
    // that cairn-runtime fails where runc fails, in one line naming it
    let cases = [
        (
            serde_json::json!({"blockIO": {"weight": 300}}),
            "blockIO.weight",
        ),
        (
            serde_json::json!({"blockIO": {"weightDevice": [{"major": 1, "minor": 3, "weight": 200}]}}),
            "blockIO.weightDevice",
        ),
        (
            serde_json::json!({"hugepageLimits": [{"pageSize": "2MB", "limit": 4194304}]}),
            "hugepageLimits",
        ),
        (
            serde_json::json!({"cpu": {"realtimeRuntime": 1000}}),
            "cpu.realtimeRuntime",
        ),
    ];
    let mut failed = 0;
    for (resources, field) in cases {
        let mut config = base.clone();
        for (k, v) in resources.as_object().unwrap() {
            config["linux"]["resources"][k] = v.clone();
        }
        std::fs::write(env.path("b/config.json"), config.to_string()).unwrap();
        let runc = env
            .program("runc")
            .args(["run", "--bundle", "b", "rt-res-refused-runc"])
            .run();
        let o = runtime(&env)
            .args(["run", "--bundle", "b", "rt-res-refused"])
            .run();
        assert_eq!(o.code, runc.code, "{field}: {o}\n{runc}");
        if o.code != Some(0) {
            failed += 1;
            assert_eq!(o.code, Some(1), "{o}");
            assert_eq!(o.stderr.lines().count(), 1, "{o}");
            assert!(
                o.stderr.contains(&format!("linux.resources.{field}")),
                "{o}"
            );
        }
        assert!(!env.path("state/rt-res-refused").exists());
    }
    // this machine has no hugetlb controller, nor realtime time to hand out
    assert!(failed > 0);
    env.cmd("rm").arg(s(&c, "container")).ok();
    assert!(leftovers(&env).is_empty(), "{:?}", leftovers(&env));
}
