//! Fixtures shared by the tests: archives written by real peers
//! (tests/peers/mkimages.sh), and one private Docker engine per test run
//! (tests/peers/dockerd.sh `serve`, which stops it when the test process is
//! gone).

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

pub const DOCKER: &str = "/usr/bin/docker"; // the 20.10 client, never /usr/local/bin/docker

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Peer-written archives (umoci, skopeo, docker save), built once per run.
pub fn peers() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("peers");
        let out = Command::new("bash")
            .arg(manifest_dir().join("tests/peers/mkimages.sh"))
            .arg(&dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "mkimages.sh failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        dir
    })
}

/// A private Docker engine, started once per test run. Commands are
/// serialised: concurrent `docker load`s of images sharing a layer race in
/// 20.10's layer store.
pub struct Docker {
    env: Vec<(String, String)>,
    lock: std::sync::Mutex<()>,
}

pub fn docker() -> &'static Docker {
    static D: OnceLock<Docker> = OnceLock::new();
    D.get_or_init(|| {
        // Short path: containerd's socket lives below it (108-byte limit).
        let work = PathBuf::from(format!("/tmp/cairn-dk.{}", std::process::id()));
        // tests run containers with --runtime cairn too
        let runtime = format!("cairn={}", crate::harness::bin("runtime").display());
        serve(
            &work,
            std::process::id(),
            &["--add-runtime", &runtime],
            None,
        )
        .1
    })
}

/// Start `dockerd.sh serve WORK WATCH ARGS` (with DOCKERD_NETNS=`netns` if
/// given): an engine that lives as long as the process `watch`. Returns
/// once it answers.
fn serve(
    work: &Path,
    watch: u32,
    args: &[&str],
    netns: Option<&str>,
) -> (std::process::Child, Docker) {
    let _ = std::fs::remove_dir_all(work);
    let mut c = Command::new("bash");
    c.arg(manifest_dir().join("tests/peers/dockerd.sh"))
        .arg("serve")
        .arg(work)
        .arg(watch.to_string())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0); // a ^C of the tests must not stop it before it cleans up
    if let Some(n) = netns {
        c.env("DOCKERD_NETNS", n);
    }
    let mut child = c.spawn().expect("running tests/peers/dockerd.sh");
    let start = Instant::now();
    loop {
        if work.join("ready").exists() {
            break;
        }
        if let Ok(f) = std::fs::read_to_string(work.join("failed")) {
            panic!("dockerd.sh could not start dockerd:\n{f}");
        }
        if let Ok(Some(st)) = child.try_wait() {
            panic!("dockerd.sh exited early: {st}");
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "dockerd did not come up in 60 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let env = std::fs::read_to_string(work.join("env"))
        .unwrap()
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let docker = Docker {
        env,
        lock: std::sync::Mutex::new(()),
    };
    (child, docker)
}

/// A second private engine, of one test, with the bridge network a stock
/// engine has: in a network namespace of its own (tests/peers/dockerd.sh,
/// DOCKERD_NETNS), its bridge `bridge` with the address `cidr`, iptables
/// rules and forwarding on as docker's defaults are, all inside that
/// namespace. Dropped, it stops and everything of it is gone.
pub struct BridgedDocker {
    pub docker: Docker,
    /// dockerd's pid: its network namespace is the engine's "host".
    pub pid: u32,
    watch: std::process::Child,
    serve: std::process::Child,
}

impl BridgedDocker {
    pub fn start(bridge: &str, cidr: &str) -> BridgedDocker {
        let work = PathBuf::from(format!("/tmp/cairn-dkb.{}", std::process::id()));
        let mut watch = Command::new("sleep").arg("3600").spawn().unwrap();
        let args = [
            "--bridge",
            bridge,
            "--iptables=true",
            "--ip-forward=true",
            "--ip-masq=true",
        ];
        let netns = format!("{bridge} {cidr}");
        let (serve, docker) = serve(&work, watch.id(), &args, Some(&netns));
        let pid = std::fs::read_to_string(work.join("docker.pid"))
            .ok()
            .and_then(|p| p.trim().parse().ok());
        let Some(pid) = pid else {
            let _ = watch.kill();
            panic!("no pid in {}/docker.pid", work.display());
        };
        BridgedDocker {
            docker,
            pid,
            watch,
            serve,
        }
    }

    /// `prog` run in the engine's network namespace: what its host sees.
    pub fn on_its_host(&self, prog: &str) -> Command {
        let mut c = Command::new("nsenter");
        c.arg(format!("--net=/proc/{}/ns/net", self.pid)).arg(prog);
        c
    }
}

impl Drop for BridgedDocker {
    fn drop(&mut self) {
        let _ = self.watch.kill();
        let _ = self.watch.wait();
        // dockerd.sh stops the engine once `watch` is gone (TERM, then
        // KILL after 15 s) and removes its directory
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(60) {
            if let Ok(Some(_)) = self.serve.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Docker {
    /// The environment the engine's client needs (DOCKER_HOST, …), for a
    /// `docker` run by other means (on a pty).
    pub fn env(&self) -> &[(String, String)] {
        &self.env
    }
    pub fn run(&self, args: &[&str]) -> std::process::Output {
        self.run_env(args, &[])
    }
    /// Run with extra environment variables.
    pub fn run_env(&self, args: &[&str], extra: &[(&str, &str)]) -> std::process::Output {
        let _serial = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        let mut c = Command::new(DOCKER);
        c.args(args).stdin(Stdio::null());
        c.env_remove("DOCKER_CONTEXT");
        for (k, v) in &self.env {
            c.env(k, v);
        }
        for (k, v) in extra {
            c.env(k, v);
        }
        c.output().unwrap()
    }
    /// Run and expect success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let o = self.run(args);
        assert!(
            o.status.success(),
            "docker {args:?} failed ({}):\n{}\n{}",
            o.status,
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).into_owned()
    }
}

/// Held while a test rewrites /etc/subuid and /etc/subgid (useradd,
/// usermod, userdel: a new file renamed over the old) and while an engine
/// starts with its own copies bound over them: a rename over a file that is
/// a mount point in another mount namespace detaches that mount, so the
/// engine read the host's files instead ("no subuid ranges found").
pub fn etc_subids() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}
