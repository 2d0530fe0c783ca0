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
