//! What a process started in a container holds of the host (runc's
//! CVE-2016-9962 and CVE-2024-21626, "leaky vessels"): an fd of the host's,
//! or a host directory as the working directory, is a way out of the root
//! (`fchdir` to it, or `/proc/self/fd/N/..`). `c/fds.c` lists its fds and
//! its cwd from inside: as a container's process (`run`), as an entering
//! one (`exec`, with `--workdir` a symlink out of the root), and as the
//! createContainer and startContainer hooks of a bundle. The caller starts
//! each from the host directory, with that directory open as an fd it did
//! not mark close-on-exec, as a careless parent would.

use super::commit_race::Remove;
use super::{image_with, program};
use crate::harness::{Cmd, Env};
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::path::Path;

const MARKER: &str = "HOST-FILE-leaks";

/// `cmd` run from `dir`, with `dir` open as fd 9 (inherited).
fn from_host_dir(mut cmd: Cmd, dir: &Path) -> Cmd {
    let f = std::fs::File::open(dir).unwrap();
    let raw = f.as_raw_fd();
    cmd.c.current_dir(dir);
    // SAFETY: only dup2 between fork and exec; `f` outlives the spawn
    // (it is moved into the closure, which the Command keeps).
    unsafe {
        cmd.c.pre_exec(move || {
            let _keep = &f;
            if libc::dup2(raw, 9) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    cmd
}

/// `fds`'s report holds no fd but 0-2, the working directory `cwd`, and
/// no entry of the host directory.
fn holds_nothing(report: &str, cwd: &str, what: &str) {
    assert!(
        report.starts_with("cwd "),
        "{what}: no report from fds: {report:?}"
    );
    for l in report.lines() {
        if let Some(rest) = l.strip_prefix("fd ") {
            let n: u32 = rest.split(' ').next().unwrap().parse().unwrap();
            assert!(n <= 2, "{what}: an fd of the host leaked in: {l}\n{report}");
        }
    }
    assert!(
        report.lines().any(|l| l == format!("cwd {cwd}")),
        "{what}: working directory is not {cwd}:\n{report}"
    );
    assert!(
        !report.contains(MARKER),
        "{what}: the working directory is the host's:\n{report}"
    );
}

fn host_dir(env: &Env) -> String {
    let dir = env.path("host");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(MARKER), "x").unwrap();
    dir.display().to_string()
}

#[test]
fn run_and_exec_hold_no_fd_or_directory_of_the_host() {
    let env = Env::new("containment-leaks");
    let host = host_dir(&env);
    image_with(&env, "fds", &["fds"]);
    let o = from_host_dir(
        env.cmd("run").args(["--rm", "fds", "fds"]),
        Path::new(&host),
    )
    .ok();
    holds_nothing(&o.stdout, "/", "run");
    let o = from_host_dir(
        env.cmd("run").args(["--rm", "-w", "/w", "fds", "fds"]),
        Path::new(&host),
    )
    .ok();
    holds_nothing(&o.stdout, "/w", "run -w");
    // links out of the root: by the host directory's absolute path, and by
    // enough `..` to climb out of it on the host
    let up = format!("../../../../../../../../../..{host}");
    let script = format!(
        "mkdir -p {host} && ln -s {host} /abs && ln -s /nowhere /gone && ln -s {up} /up && sleep 60"
    );
    let id = env
        .cmd("run")
        .args(["-d", "fds", "sh", "-c", &script])
        .ok()
        .id();
    let _rm = Remove(&env, id.clone());
    crate::harness::wait_for("the links", std::time::Duration::from_secs(10), || {
        env.cmd("exec").args([&id, "test", "-L", "/up"]).run().code == Some(0)
    });
    let o = from_host_dir(env.cmd("exec").args([&id, "fds"]), Path::new(&host)).ok();
    holds_nothing(&o.stdout, "/", "exec");
    for link in ["/abs", "/up"] {
        let o = from_host_dir(
            env.cmd("exec").args(["-w", link, &id, "fds"]),
            Path::new(&host),
        )
        .ok();
        // the link leads to the container's own directory of that name
        holds_nothing(&o.stdout, &host, &format!("exec -w {link}"));
    }
    // a link to nothing: refused in one line that says so (mkdir said
    // "File exists"), and nothing made at its target
    let o = env.cmd("exec").args(["-w", "/gone", &id, "true"]).run();
    assert_ne!(o.code, Some(0));
    assert_eq!(o.stderr.lines().count(), 1, "{}", o.stderr);
    assert!(
        o.stderr
            .contains("/gone: a symlink to /nowhere, which is not a directory"),
        "{}",
        o.stderr
    );
    let o = env.cmd("exec").args([&id, "ls", "/nowhere"]).run();
    assert_ne!(o.code, Some(0));
}

#[test]
fn runtime_hooks_hold_no_fd_of_the_host() {
    let env = Env::new("containment-leaks-hooks");
    let host = host_dir(&env);
    image_with(&env, "fds", &["fds"]);
    env.cmd("union-mount")
        .args(["--bundle", "b", "fds", "--", "cat", "/dev/shm/started"])
        .ok();
    let created = env.path("created");
    let config = env.path("b/config.json");
    let mut c: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&config).unwrap()).unwrap();
    let fds = program("fds").display().to_string();
    c["hooks"] = serde_json::json!({
        "createContainer": [{"path": fds, "args": ["fds", created.display().to_string()]}],
        "startContainer": [{"path": "/bin/fds", "args": ["fds", "/dev/shm/started"]}],
    });
    std::fs::write(&config, c.to_string()).unwrap();
    let rt = env
        .cmd("runtime")
        .arg("--root")
        .arg(env.path("state"))
        .args(["run", "--bundle"])
        .arg(env.path("b"))
        .arg("leaks-hooks");
    let o = from_host_dir(rt, Path::new(&host)).ok();
    // startContainer runs in the container, in its working directory
    holds_nothing(&o.stdout, "/", "startContainer hook");
    // createContainer runs in the container's mount namespace before the
    // root is entered, in the root file system's directory (as runc)
    let report = std::fs::read_to_string(&created).unwrap();
    let rootfs = env.path("b/rootfs").canonicalize().unwrap();
    holds_nothing(
        &report,
        &rootfs.display().to_string(),
        "createContainer hook",
    );
}
