//! CVE-2019-5736 against `--init`: the container's pid 1 is cairn's init,
//! a process of the runtime binary that lives as long as the container. A
//! container given CAP_SYS_PTRACE can open `/proc/1/exe`; it cannot write
//! the binary while the init keeps it busy, so it hands an O_PATH fd of it
//! to an accomplice that outlives it (a second container sharing a
//! volume), which writes the binary once nothing runs it. The test starts
//! the first container with a private copy of cairn-isolate, so an attack
//! that gets through spoils only the copy, and checks the copy afterwards.

use super::image_with;
use crate::harness::{bin, wait_for, Env};
use std::time::Duration;

#[test]
fn an_init_container_cannot_hand_out_the_host_binary() {
    let env = Env::new("attack-init-exe");
    image_with(&env, "attack", &["init_exe"]);
    let share = env.path("share");
    std::fs::create_dir_all(&share).unwrap();
    let vol = format!("{}:/x", share.display());
    // The accomplice: waits for the fd, then for the binary to be idle.
    let b = env
        .cmd("run")
        .args(["-d", "--network", "none", "-v", &vol, "attack"])
        .args([
            "init_exe",
            "recv",
            "/x/sock",
            "20",
            "PWNED-BY-THE-CONTAINER",
        ])
        .ok()
        .id();
    let log = env.root.join("containers").join(&b).join("log");
    let read = || crate::harness::log_text(&log);
    wait_for("the accomplice to listen", Duration::from_secs(30), || {
        read().contains("ready")
    });
    let copy = env.path("cairn-isolate");
    std::fs::copy(bin("isolate"), &copy).unwrap();
    let before = std::fs::read(&copy).unwrap();
    let a = env
        .cmd("create")
        .args(["--init", "--cap-add", "SYS_PTRACE", "--network", "none"])
        .args(["-v", &vol, "attack", "init_exe", "send", "/x/sock"])
        .ok()
        .id();
    let o = std::process::Command::new(&copy)
        .env("CAIRN_ROOT", &env.root)
        .current_dir(&env.dir)
        .arg(&a)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let sent = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        o.status.success() && sent.starts_with("sent "),
        "the init container did not run as the attacker wants: {o:?}"
    );
    let mut report = String::new();
    wait_for("the accomplice to finish", Duration::from_secs(40), || {
        report = read();
        report.contains("done")
    });
    env.cmd("rm").args(["-f", &b]).ok();
    let after = std::fs::read(&copy).unwrap();
    assert!(
        before == after && report.contains("refused"),
        "a container wrote the host's binary through the init's /proc/1/exe ({sent}):\n{report}"
    );
}
