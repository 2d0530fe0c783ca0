//! Fixtures shared by the tests: archives written by real peers
//! (tests/peers/mkimages.sh), and one private Docker engine per test run
//! (tests/peers/dockerd.sh `serve`, which stops it when the test process is
//! gone).

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const DOCKER: &str = "/usr/bin/docker"; // the 20.10 client, never /usr/local/bin/docker

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
        let _ = std::fs::remove_dir_all(&work);
        let mut child = Command::new("bash")
            .arg(manifest_dir().join("tests/peers/dockerd.sh"))
            .arg("serve")
            .arg(&work)
            .arg(std::process::id().to_string())
            // tests run containers with --runtime cairn too
            .arg("--add-runtime")
            .arg(format!(
                "cairn={}",
                crate::harness::bin("runtime").display()
            ))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0) // a ^C of the tests must not stop it before it cleans up
            .spawn()
            .expect("running tests/peers/dockerd.sh");
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
        Docker {
            env,
            lock: std::sync::Mutex::new(()),
        }
    })
}

impl Docker {
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
