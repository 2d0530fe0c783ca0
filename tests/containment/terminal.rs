//! Terminal injection: a container run without `-t` from someone's shell
//! used to get that shell's terminal as its stdio and session, and
//! `ioctl(TIOCSTI)` pushed a command into the shell's input, run after
//! the container exited. Now the container is in a session of its own
//! and gets pipes where the caller has a terminal (docker does the same:
//! without -t the container sees no terminal).

use super::image_with;
use super::via::Bundle;
use crate::harness::{bin, Env};
use std::process::Command;

/// Run `cairn ARGS` in a shell on a fresh terminal (script(1)), then let
/// the shell read one line from that terminal: what it read is what the
/// container managed to inject.
fn on_a_terminal(env: &Env, args: &str) -> String {
    let cairn = format!(
        "CAIRN_ROOT={} {}",
        env.root.display(),
        bin("cairn").display()
    );
    in_a_shell(&format!("{cairn} {args}"))
}

/// [`on_a_terminal`] for any command line `cmd`.
fn in_a_shell(cmd: &str) -> String {
    let cmd = format!("{cmd}; read -t 1 line; echo \"shell-read:[$line]\"");
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
        .id();
    let shown = on_a_terminal(&env, &format!("exec {id} tiocsti '{marker}'"));
    assert!(!shown.contains(marker), "exec: {shown}");
    assert!(shown.contains("shell-read:[]"), "exec: {shown}");
    assert!(shown.contains("tty0=no tty1=no tty2=no"), "exec: {shown}");
    assert!(!shown.contains("=ok"), "exec: {shown}");
    env.cmd("rm").args(["-f", &id]).ok();
}

#[test]
fn a_container_of_the_runtime_cannot_type_into_the_callers_shell() {
    // `cairn-runtime run` without process.terminal hands the caller's
    // stdio over as runc does, terminal included; the container is in a
    // session of its own, so the terminal is not its controlling one, and
    // TIOCSTI on it needs CAP_SYS_ADMIN, which docker's caps lack.
    let env = Env::new("attack-tiocsti-runtime");
    image_with(&env, "attack", &["tiocsti"]);
    let marker = "touch /tmp/cairn-tiocsti-pwned";
    let b = Bundle::new(&env, "attack", &["tiocsti", marker]);
    let run = format!(
        "{} --root {} run --bundle {} {}",
        bin("runtime").display(),
        env.path("runtime").display(),
        b.dir.display(),
        b.id
    );
    let shown = in_a_shell(&run);
    assert!(!shown.contains(marker), "typed into the terminal: {shown}");
    assert!(shown.contains("shell-read:[]"), "{shown}");
    assert!(shown.contains("devtty="), "the attack ran: {shown}");
    assert!(!shown.contains("=ok"), "{shown}");
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
