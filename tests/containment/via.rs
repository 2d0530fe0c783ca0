//! The two ways a container is started, so that each attack goes through
//! both: cairn's own `cairn run`, and `cairn-runtime run --bundle` (the
//! path docker, containerd and podman take) on a bundle whose config.json
//! is shaped as docker writes it: docker's default capabilities, its
//! device rules without `linux.devices`, its masked and read-only paths,
//! its seccomp profile (listing i386 and x32 beside the native ABI, as
//! docker's does on amd64, so the runtime compiles it at create rather
//! than taking cairn's precompiled program), a `cgroup` mount at
//! /sys/fs/cgroup and `cgroupsPath: /docker/<id>`.

use crate::harness::{bin, Cmd, Env};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Via {
    /// `cairn run IMAGE -- ARGS`
    Cairn,
    /// `cairn-runtime run --bundle B ID` of a docker-shaped bundle
    Runtime,
}

impl Via {
    pub const BOTH: [Via; 2] = [Via::Cairn, Via::Runtime];

    /// The command running `args` in a new container of `image`, and
    /// (through the runtime) the bundle it runs, removed when dropped.
    pub fn run<'a>(self, env: &'a Env, image: &str, args: &[&str]) -> (Cmd, Option<Bundle<'a>>) {
        self.run_as(env, false, image, args)
    }

    /// As [`Via::run`], `privileged` as `cairn run --privileged` and
    /// `docker run --privileged` make a container.
    pub fn run_as<'a>(
        self,
        env: &'a Env,
        privileged: bool,
        image: &str,
        args: &[&str],
    ) -> (Cmd, Option<Bundle<'a>>) {
        let flags: &[&str] = if privileged { &["--privileged"] } else { &[] };
        match self {
            Via::Cairn => (
                env.cmd("run").args(flags).args([image, "--"]).args(args),
                None,
            ),
            Via::Runtime => {
                let b = Bundle::with(env, privileged, image, args);
                let cmd = b.runtime().args(["run", "--bundle"]).arg(&b.dir).arg(&b.id);
                (cmd, Some(b))
            }
        }
    }
}

/// A docker-shaped bundle of a container of cairn's store (its rootfs the
/// container's union mount), and the runtime ID it runs under.
pub struct Bundle<'a> {
    env: &'a Env,
    pub dir: PathBuf,
    pub id: String,
    container: String,
}

impl<'a> Bundle<'a> {
    pub fn new(env: &'a Env, image: &str, args: &[&str]) -> Bundle<'a> {
        Bundle::with(env, false, image, args)
    }

    /// A bundle shaped as docker writes one, for `--privileged` if
    /// `privileged`.
    pub fn with(env: &'a Env, privileged: bool, image: &str, args: &[&str]) -> Bundle<'a> {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let name = env.dir.file_name().unwrap().to_string_lossy().into_owned();
        let id = format!("{name}-{n}");
        let dir = env.path(&format!("bundle-{n}"));
        let rec = env
            .cmd("union-mount")
            .arg("--bundle")
            .arg(&dir)
            .args([image, "--"])
            .args(args)
            .ok()
            .record();
        let path = dir.join("config.json");
        let mut config: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        like_docker(&mut config, &id);
        if privileged {
            like_docker_privileged(&mut config);
        }
        std::fs::write(&path, config.to_string()).unwrap();
        let container = crate::harness::s(&rec, "container").to_string();
        Bundle {
            env,
            dir,
            id,
            container,
        }
    }

    /// `cairn-runtime --root <env>/runtime`
    pub fn runtime(&self) -> Cmd {
        runtime(self.env)
    }
}

/// `cairn-runtime --root <env>/runtime`, run in the env's directory.
pub fn runtime(env: &Env) -> Cmd {
    let mut c = std::process::Command::new(bin("runtime"));
    c.arg("--root")
        .arg(env.path("runtime"))
        .current_dir(&env.dir);
    Cmd::new(c, "cairn-runtime")
}

impl Drop for Bundle<'_> {
    fn drop(&mut self) {
        // quietly: a failure here must not turn a failing test into an abort
        let quiet = |mut c: Cmd| {
            let _ = c.c.output();
        };
        quiet(self.runtime().args(["delete", "--force", &self.id]));
        quiet(self.env.cmd("rm").args(["-f", &self.container]));
    }
}

/// Reshape cairn's config.json `c` as docker 20.10 writes its own for the
/// container `id` (the fields docker writes differently; the rest, such
/// as the capabilities, device rules and masked paths, are docker's
/// already).
fn like_docker(c: &mut serde_json::Value, id: &str) {
    c["linux"]["cgroupsPath"] = format!("/docker/{id}").into();
    if cfg!(target_arch = "x86_64") {
        c["linux"]["seccomp"]["architectures"] =
            serde_json::json!(["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]);
    }
    c["mounts"].as_array_mut().unwrap().push(serde_json::json!({
        "destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
        "options": ["ro", "nosuid", "noexec", "nodev"]
    }));
}

/// Reshape docker's config.json `c` as docker 20.10 writes it for
/// `--privileged`: every capability in the bounding, effective, permitted
/// and inheritable sets, no seccomp profile, no masked or read-only
/// paths, every device allowed, a writable /sys and cgroup mount, and the
/// host's device nodes in `linux.devices` (here two that are not
/// attacked).
fn like_docker_privileged(c: &mut serde_json::Value) {
    let features = std::process::Command::new(bin("runtime"))
        .arg("features")
        .output()
        .unwrap();
    let features: serde_json::Value = serde_json::from_slice(&features.stdout).unwrap();
    let all = features["linux"]["capabilities"].clone();
    assert!(all.as_array().is_some_and(|a| a.len() > 38), "{features}");
    for set in ["bounding", "effective", "permitted", "inheritable"] {
        c["process"]["capabilities"][set] = all.clone();
    }
    c["process"]["noNewPrivileges"] = false.into();
    let linux = c["linux"].as_object_mut().unwrap();
    for gone in ["seccomp", "maskedPaths", "readonlyPaths"] {
        linux.remove(gone);
    }
    c["linux"]["resources"]["devices"] = serde_json::json!([{"allow": true, "access": "rwm"}]);
    c["linux"]["devices"] = serde_json::json!([
        {"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 0o666},
        {"path": "/dev/net/tun", "type": "c", "major": 10, "minor": 200, "fileMode": 0o666}
    ]);
    for m in c["mounts"].as_array_mut().unwrap() {
        if matches!(m["destination"].as_str(), Some("/sys" | "/sys/fs/cgroup")) {
            for o in m["options"].as_array_mut().unwrap() {
                if o == "ro" {
                    *o = "rw".into();
                }
            }
        }
    }
}
