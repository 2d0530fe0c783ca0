//! Terminal injection: a container run without `-t` from someone's shell
//! used to get that shell's terminal as its stdio and session, and
//! `ioctl(TIOCSTI)` pushed a command into the shell's input, run after
//! the container exited. Now the container is in a session of its own
//! and gets pipes where the caller has a terminal (docker does the same:
//! without -t the container sees no terminal).

use super::image_with;
use crate::harness::{bin, Env};
use std::process::Command;

/// Run `cairn ARGS` in a shell on a fresh terminal (script(1)), then let
/// the shell read one line from that terminal: what it read is what the
/// container managed to inject.
fn on_a_terminal(env: &Env, args: &str) -> String {
    let cmd = format!(
        "CAIRN_ROOT={} {} {args}; read -t 1 line; echo \"shell-read:[$line]\"",
        env.root.display(),
        bin("cairn").display()
    );
    let out = Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).replace('\r', "")
}

#[test]
fn a_container_cannot_type_into_the_callers_shell() {
    let env = Env::new("attack-tiocsti");
    image_with(&env, "attack", &["tiocsti"]);
    let marker = "touch /tmp/cairn-tiocsti-pwned";
    for run in [
        format!("run attack tiocsti '{marker}'"),
        format!("run -i attack tiocsti '{marker}'"),
    ] {
        let shown = on_a_terminal(&env, &run);
        // Injected bytes land in the terminal's input queue, where the
        // terminal echoes them and the shell reads them.
        assert!(
            !shown.contains(marker),
            "{run}: the container typed into the terminal: {shown}"
        );
        assert!(shown.contains("shell-read:[]"), "{run}: {shown}");
        assert!(
            !shown.contains(&format!("shell-read:[{marker}")),
            "{run}: the container typed into the shell: {shown}"
        );
        // what the container saw: pipes, no terminal, no /dev/tty
        assert!(
            shown.contains("tty0=no tty1=no tty2=no"),
            "{run}: the container got a terminal: {shown}"
        );
        assert!(!shown.contains("=ok"), "{run}: {shown}");
    }
    // and `exec` into a running container, the same way
    let id = env
        .cmd("run")
        .args(["-d", "attack", "sleep", "30"])
        .ok()
        .stdout
        .trim()
        .to_string();
    let shown = on_a_terminal(&env, &format!("exec {id} tiocsti '{marker}'"));
    assert!(!shown.contains(marker), "exec: {shown}");
    assert!(shown.contains("shell-read:[]"), "exec: {shown}");
    assert!(shown.contains("tty0=no tty1=no tty2=no"), "exec: {shown}");
    assert!(!shown.contains("=ok"), "exec: {shown}");
    env.cmd("rm").args(["-f", &id]).ok();
}

#[test]
fn files_and_pipes_are_still_handed_over() {
    // Only terminals are replaced: a file given as stdout is the
    // container's own stdout (zero-copy), as before.
    let env = Env::new("attack-tiocsti-file");
    crate::harness::busybox_image(&env);
    let out = env.path("out");
    let f = std::fs::File::create(&out).unwrap();
    let st = env
        .cmd("run")
        .c
        .args([
            "busybox",
            "sh",
            "-c",
            "test -f /proc/self/fd/1 && echo a-file || echo not-a-file",
        ])
        .stdout(f)
        .status()
        .unwrap();
    assert!(st.success());
    let said = std::fs::read_to_string(&out).unwrap();
    assert_eq!(said.trim(), "a-file", "stdout is the file itself");
}
