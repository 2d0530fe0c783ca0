//! `cairn-runtime` with a user namespace and uid/gid mappings, beside
//! runc and crun on the same bundle.

use crate::harness::{leftovers, Env, Output};

/// Where the container's ids 0..65535 live on the host.
const HOST_ID: u32 = 100000;

/// A busybox bundle at `env/b` whose rootfs is chowned to the mapped
/// range, with a new user namespace mapping 0..65535 to
/// `HOST_ID`.., running `script`; a root-owned host directory
/// `env/hostdir` is bound read-write on /hostdir.
fn bundle(env: &Env, script: &str) {
    let rootfs = env.path("b/rootfs");
    std::fs::create_dir_all(&rootfs).unwrap();
    env.program("tar")
        .arg("-x")
        .arg("-C")
        .arg(&rootfs)
        .stdin(crate::harness::busybox_tar())
        .ok();
    for d in ["proc", "dev", "sys", "mnt"] {
        std::fs::create_dir_all(rootfs.join(d)).unwrap();
    }
    env.program("chown")
        .args(["-R", &format!("{HOST_ID}:{HOST_ID}")])
        .arg(&rootfs)
        .ok();
    std::fs::create_dir_all(env.path("hostdir")).unwrap();
    env.cmd("runtime").args(["spec", "--bundle", "b"]).ok();
    edit(env, |c| {
        c["process"]["terminal"] = false.into();
        c["process"]["args"] = serde_json::json!(["sh", "-c", script]);
        c["linux"]["namespaces"]
            .as_array_mut()
            .unwrap()
            .push(serde_json::json!({"type": "user"}));
        let map = serde_json::json!([{"containerID": 0, "hostID": HOST_ID, "size": 65536}]);
        c["linux"]["uidMappings"] = map.clone();
        c["linux"]["gidMappings"] = map;
        c["mounts"].as_array_mut().unwrap().push(serde_json::json!({
            "destination": "/hostdir", "type": "bind",
            "source": env.path("hostdir"), "options": ["rbind", "rw"]
        }));
    });
}

fn edit(env: &Env, f: impl FnOnce(&mut serde_json::Value)) {
    let path = env.path("b/config.json");
    let mut config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    f(&mut config);
    std::fs::write(&path, config.to_string()).unwrap();
}

/// `cairn-runtime --root <env>/state …`
fn runtime(env: &Env) -> crate::harness::Cmd {
    env.cmd("runtime").arg("--root").arg(env.path("state"))
}

/// The bundle run by cairn-runtime, runc and crun (crun in a mount
/// namespace without the hybrid layout's unified hierarchy, which it
/// cannot take). Each gets a pipe on stdin: crun 1.8 chowns its stdio to
/// the container's root, and would so give the host's /dev/null away.
fn run_all(env: &Env, id: &str) -> [Output; 3] {
    let ours = runtime(env)
        .args(["run", "--bundle", "b", id])
        .stdin("")
        .run();
    let runc = env
        .program("runc")
        .args(["run", "--bundle", "b", &format!("{id}-runc")])
        .stdin("")
        .run();
    let crun = env
        .program("unshare")
        .args(["-m", "sh", "-c"])
        .arg(format!(
            "umount /sys/fs/cgroup/unified 2>/dev/null; exec crun run --bundle b {id}-crun"
        ))
        .stdin("")
        .run();
    let owner = |p: &str| std::os::unix::fs::MetadataExt::uid(&std::fs::metadata(p).unwrap());
    assert_eq!(owner("/dev/null"), 0, "the host's /dev/null changed owner");
    [ours, runc, crun]
}

/// What a container sees of its ids and files, and its mounts (sorted:
/// runtimes mount in different orders).
const SEEN: &str = "id; cat /proc/self/uid_map /proc/self/gid_map /proc/self/setgroups; \
    stat -c '%u:%g %n' / /bin/busybox /etc/passwd /hostdir; hostname; \
    grep -E '^Cap(Prm|Eff|Bnd)' /proc/self/status; \
    touch /hostdir/x 2>&1; mknod /tmp/n c 1 3 2>&1; \
    { echo x >/proc/sys/kernel/domainname; } 2>&1; chown 70000 /tmp 2>&1; \
    nsenter -S 70000 -G 70000 id 2>&1; \
    ls /sys/class/net; echo mounts:; awk '{print $5, $9}' /proc/self/mountinfo | sort; \
    echo devnull: $(stat -c %u:%g /dev/null)";

#[test]
fn a_user_namespace_maps_root_and_the_rootfs_as_under_runc_and_crun() {
    let env = Env::new("rt-userns");
    bundle(&env, SEEN);
    let [ours, runc, crun] = run_all(&env, "rt-userns");
    assert_eq!(ours.code, Some(0), "{ours}");
    let want = format!(
        "uid=0(root) gid=0(root)\n         0     {HOST_ID}      65536\n         0     {HOST_ID}      65536\nallow\n\
         0:0 /\n0:0 /bin/busybox\n0:0 /etc/passwd\n65534:65534 /hostdir\ncairn\n"
    );
    assert!(ours.stdout.starts_with(&want), "{ours}");
    for refused in [
        "touch: /hostdir/x: Permission denied",
        "mknod: /tmp/n: Operation not permitted",
        "can't create /proc/sys/kernel/domainname: Read-only file system",
        "chown: /tmp: Invalid argument",
        "nsenter: setgid: Invalid argument",
    ] {
        assert!(ours.stdout.contains(refused), "{refused}: {ours}");
    }
    assert!(ours.stdout.contains("\n/sys sysfs\n"), "{ours}");
    assert!(ours.stdout.contains("\n/dev/mqueue mqueue\n"), "{ours}");
    // the host's nodes are bound: owned by an unmapped id, as under runc
    assert!(ours.stdout.ends_with("devnull: 65534:65534\n"), "{ours}");
    assert_eq!(ours.stdout, runc.stdout, "{runc}");
    // crun makes its own /dev/null
    let head = |o: &Output| o.stdout.split("devnull:").next().unwrap().to_string();
    assert_eq!(head(&ours), head(&crun), "{crun}");
    // the host's directory is untouched
    assert_eq!(std::fs::read_dir(env.path("hostdir")).unwrap().count(), 0);
    assert!(leftovers(&env).is_empty(), "{:?}", leftovers(&env));
}

/// Acts of a container root holding every capability inside its user
/// namespace, each with its outcome.
const HOSTILE: &str = "\
    mknod /tmp/n c 1 3 2>/dev/null; echo mknod=$?; \
    mount -t proc proc /mnt; echo proc=$?; \
    umount /proc/sys; echo umount=$?; \
    { echo 3 >/proc/sys/vm/drop_caches; } 2>/dev/null; echo drop_caches=$?; \
    { echo 1 >/proc/sys/kernel/panic; } 2>/dev/null; echo panic=$?; \
    hostname other; echo hostname=$? $(hostname); \
    touch /hostdir/x 2>/dev/null; echo hostdir=$?; \
    nsenter -S 70000 -G 70000 id >/dev/null 2>&1; echo unmapped=$?; \
    insmod /nonexistent.ko 2>/dev/null; echo insmod=$?";

#[test]
fn a_root_with_every_capability_in_its_user_namespace_fails_as_under_runc() {
    let env = Env::new("rt-userns-caps");
    bundle(&env, HOSTILE);
    let caps: serde_json::Value =
        serde_json::from_str(&runtime(&env).arg("features").ok().stdout).unwrap();
    let caps = caps["linux"]["capabilities"].clone();
    edit(&env, |c| {
        for set in ["bounding", "effective", "permitted"] {
            c["process"]["capabilities"][set] = caps.clone();
        }
        c["process"]["noNewPrivileges"] = false.into();
        c["linux"]["seccomp"] = serde_json::Value::Null;
    });
    let [ours, runc, _] = run_all(&env, "rt-userns-caps");
    assert_eq!(ours.code, Some(0), "{ours}");
    assert_eq!(ours.stdout, runc.stdout, "{runc}");
    let want = "mknod=1\nproc=0\numount=0\ndrop_caches=1\npanic=1\n\
                hostname=0 other\nhostdir=1\nunmapped=1\n";
    assert!(ours.stdout.starts_with(want), "{ours}");
    assert_eq!(std::fs::read_dir(env.path("hostdir")).unwrap().count(), 0);
}

#[test]
fn create_start_and_exec_in_a_user_namespace_as_under_runc() {
    let env = Env::new("rt-userns-exec");
    bundle(&env, "sleep 100");
    edit(&env, |c| {
        c["process"]["rlimits"] =
            serde_json::json!([{"type": "RLIMIT_NOFILE", "soft": 1024, "hard": 4096}]);
        c["process"]["oomScoreAdj"] = 500.into();
    });
    let probe = "id; cat /proc/self/uid_map; ulimit -Hn; cat /proc/self/oom_score_adj; \
                 stat -c %u /proc/1/root/bin/busybox; ps -o pid,user,args";
    let mut outs = Vec::new();
    for (prog, id) in [("cairn", "rt-userns-exec"), ("runc", "rt-userns-exec-runc")] {
        let cmd = |args: &[&str]| match prog {
            "cairn" => runtime(&env).args(args),
            _ => env.program("runc").args(args),
        };
        // the created container keeps no pipe of the test's
        let mut create = match prog {
            "cairn" => {
                let mut c = std::process::Command::new(crate::harness::bin("runtime"));
                c.arg("--root").arg(env.path("state"));
                c
            }
            _ => std::process::Command::new("runc"),
        };
        let status = create
            .args(["create", "--bundle", "b", id])
            .current_dir(&env.dir)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "{prog} create");
        cmd(&["start", id]).ok();
        outs.push(cmd(&["exec", id, "sh", "-c", probe]).ok());
        cmd(&["kill", id, "KILL"]).ok();
        crate::harness::wait_for("the stop", std::time::Duration::from_secs(10), || {
            cmd(&["delete", id]).run().code == Some(0)
        });
    }
    let want =
        format!("uid=0(root) gid=0(root)\n         0     {HOST_ID}      65536\n4096\n500\n0\n");
    assert!(outs[0].stdout.starts_with(&want), "{}", outs[0]);
    assert!(
        outs[0].stdout.contains("    1 root     sleep 100"),
        "{}",
        outs[0]
    );
    let head = |o: &Output| o.stdout.lines().take(6).collect::<Vec<_>>().join("\n");
    assert_eq!(head(&outs[0]), head(&outs[1]), "{}", outs[1]);
    assert!(!env.path("state/rt-userns-exec").exists());
}

#[test]
fn mappings_cairn_cannot_use_are_refused_by_name() {
    let env = Env::new("rt-userns-refused");
    bundle(&env, "true");
    let refused = |f: &dyn Fn(&mut serde_json::Value), words: &str| {
        let saved = std::fs::read(env.path("b/config.json")).unwrap();
        edit(&env, f);
        let o = runtime(&env)
            .args(["run", "--bundle", "b", "rt-userns-refused"])
            .fails(1);
        assert_eq!(o.stderr.lines().count(), 1, "{o}");
        assert!(o.stderr.contains(words), "{words}: {o}");
        std::fs::write(env.path("b/config.json"), saved).unwrap();
    };
    let no_userns = |c: &mut serde_json::Value| {
        let ns = c["linux"]["namespaces"].as_array_mut().unwrap();
        ns.retain(|n| n["type"] != "user");
    };
    refused(
        &no_userns,
        "linux.uidMappings: mappings need a new user namespace",
    );
    refused(
        &|c| c["linux"]["gidMappings"] = serde_json::json!([]),
        "linux.gidMappings: a new user namespace needs at least one mapping",
    );
    refused(
        &|c| {
            c["linux"]["uidMappings"] =
                serde_json::json!([{"containerID": 1, "hostID": HOST_ID, "size": 10}])
        },
        "linux.uidMappings: no mapping for id 0",
    );
    refused(
        &|c| {
            let ns = c["linux"]["namespaces"].as_array_mut().unwrap();
            for n in ns.iter_mut().filter(|n| n["type"] == "user") {
                n["path"] = "/proc/1/ns/user".into();
            }
        },
        "joining a user namespace by path",
    );
    assert!(!env.path("state/rt-userns-refused").exists());
    assert!(leftovers(&env).is_empty(), "{:?}", leftovers(&env));
}

#[test]
fn containerd_runs_a_remapped_container_through_cairn_runtime_as_through_runc() {
    let env = Env::new("rt-userns-ctr");
    let archive = crate::runtime::busybox_archive(&env);
    let ctd = crate::runtime::Containerd::start(&env);
    ctd.ctr(&env).args(["images", "import"]).arg(&archive).ok();
    let image = "docker.io/library/busybox:rt";
    let ours = crate::harness::bin("runtime");
    let map = format!("0:{HOST_ID}:65536");
    let script = "id; cat /proc/self/uid_map /proc/self/gid_map; stat -c %u:%g /bin/busybox; \
                  ls /sys/class/net; mknod /tmp/n c 1 3 2>/dev/null; echo mknod=$?; exit 3";
    let run = |id: &str, runc_binary: bool| {
        let mut c = ctd
            .ctr(&env)
            .args(["run", "--rm", "--uidmap", &map, "--gidmap", &map]);
        if runc_binary {
            c = c
                .arg("--runc-binary")
                .arg(&ours)
                .arg("--runc-root")
                .arg(env.path("state"));
        }
        c.args([image, id, "sh", "-c", script]).fails(3)
    };
    let runc = run("rt-userns-ctr-runc", false);
    let o = run("rt-userns-ctr", true);
    let want = format!(
        "uid=0(root) gid=0(root) groups=0(root)\n         0     {HOST_ID}      65536\n         0     {HOST_ID}      65536\n0:0\n"
    );
    assert!(o.stdout.starts_with(&want), "{o}");
    assert!(o.stdout.ends_with("mknod=1\n"), "{o}");
    assert_eq!(o.stdout, runc.stdout, "{runc}");
    assert!(!env.path("state/rt-userns-ctr").exists());
    drop(ctd);
    assert!(leftovers(&env).is_empty(), "{:?}", leftovers(&env));
}

/// A private docker engine with `--userns-remap nobody:nogroup` (its own
/// /etc/subuid and /etc/subgid giving nobody `HOST_ID`.., seen by it
/// alone: tests/peers/dockerd.sh, DOCKERD_SUBIDS) and cairn-runtime added;
/// a busybox imported; then `script` (bash, with `$S` the probe) run and
/// the engine stopped. Returns its output.
fn remapped_docker(env: &Env, script: &str) -> Output {
    let work = format!("/tmp/cairn-dkr.{}", std::process::id());
    let peers = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers/dockerd.sh");
    let runtime = crate::harness::bin("runtime");
    let full = format!(
        "set -e; source {peers}; rm -rf {work}; mkdir -p {work}; \
         trap 'dockerd_stop; rm -rf {work}' EXIT; \
         dockerd_start {work} --userns-remap nobody:nogroup --add-runtime cairn={runtime}; \
         tar -C b/rootfs -c . | docker import - bb:remap >/dev/null; {script}",
        peers = peers.display(),
        runtime = runtime.display(),
    );
    // no useradd may rename /etc/subuid over the engine's bound copy
    let _subids = crate::fixtures::etc_subids();
    env.program("bash")
        .args(["-c", &full])
        .env("DOCKERD_SUBIDS", format!("nobody {HOST_ID} 65536"))
        .env("S", PROBE)
        .run()
}

/// What a remapped container shows of itself.
const PROBE: &str = "id; cat /proc/self/uid_map /proc/self/gid_map; \
    stat -c '%u:%g %n' /bin/busybox /etc/passwd; ls /sys/class/net; \
    mknod /tmp/n c 1 3 2>/dev/null; echo mknod=$?";

#[test]
fn docker_with_userns_remap_runs_through_cairn_runtime_as_through_runc() {
    let env = Env::new("rt-userns-docker");
    // a plain busybox root (owned by root: the engine remaps it)
    let rootfs = env.path("b/rootfs");
    std::fs::create_dir_all(&rootfs).unwrap();
    env.program("tar")
        .arg("-x")
        .arg("-C")
        .arg(&rootfs)
        .stdin(crate::harness::busybox_tar())
        .ok();
    let o = remapped_docker(
        &env,
        "for rt in runc cairn; do echo \"== $rt\"; \
           docker run --rm --network none --runtime $rt bb:remap sh -c \"$S\"; \
           id=$(docker run -d --network none --runtime $rt bb:remap sleep 100); \
           docker exec $id sh -c 'id; cat /proc/self/uid_map'; \
           docker rm -f $id >/dev/null; done",
    );
    assert_eq!(o.code, Some(0), "{o}");
    let (runc, ours) = o.stdout.split_once("== cairn\n").unwrap();
    assert_eq!(runc.strip_prefix("== runc\n"), Some(ours), "{o}");
    let maps =
        format!("         0     {HOST_ID}      65536\n         0     {HOST_ID}      65536\n");
    let seen = format!("{maps}0:0 /bin/busybox\n0:0 /etc/passwd\nlo\nmknod=1\nuid=0(root) ");
    assert!(
        ours.starts_with("uid=0(root) ") && ours.contains(&seen),
        "{o}"
    );
    assert!(
        ours.ends_with(&format!("\n         0     {HOST_ID}      65536\n")),
        "{o}"
    );
}
