//! Completion in a real interactive bash, zsh and fish on a pty: verbs
//! (extensions on PATH included), options, and the store's container and
//! image names where they are arguments, on `$CAIRN_ROOT` or `--root`.

use crate::harness::{bin, busybox_image, Env};
use std::path::Path;
use std::process::Command;

/// Type `lines` (TABs included) into `shell` with cairn's completion
/// loaded; each line as completion left it, and what was shown meanwhile.
fn typed(env: &Env, shell: &str, lines: &[&str]) -> Vec<(String, String)> {
    let completions = Path::new(env!("CARGO_MANIFEST_DIR")).join("completions");
    let setup = match shell {
        "bash" => format!(
            "bind 'set enable-bracketed-paste off'; PS1='$ '; source {}",
            completions.join("bash/cairn").display()
        ),
        "zsh" => format!(
            "PS1='$ '; unsetopt zle_bracketed_paste; bindkey -e; fpath=({} $fpath); \
             autoload -Uz compinit; compinit -u -D",
            completions.join("zsh").display()
        ),
        _ => format!(
            "function fish_prompt; echo '$ '; end; source {}",
            completions.join("fish/cairn.fish").display()
        ),
    };
    let path = format!(
        "{}:{}:{}",
        bin("cairn").parent().unwrap().display(),
        env.dir.join("ext").display(),
        std::env::var("PATH").unwrap()
    );
    let out = Command::new("python3")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers/complete_pty.py"))
        .arg(shell)
        .arg(setup)
        .args(lines)
        .env("PATH", path)
        .env("CAIRN_ROOT", &env.root)
        .env("HOME", &env.dir)
        .current_dir(&env.dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{shell}: {out:?}");
    let v: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    v.iter()
        .map(|r| {
            let s = |k: &str| r[k].as_str().unwrap().to_string();
            (s("line"), s("shown"))
        })
        .collect()
}

#[test]
fn names_complete_in_bash_zsh_and_fish() {
    let env = Env::new("complete");
    busybox_image(&env);
    env.cmd("create")
        .args(["--name", "web", "busybox", "true"])
        .ok();
    // a running one: verbs offer the containers they can act on
    env.cmd("run")
        .args([
            "-d",
            "--network",
            "none",
            "--name",
            "live",
            "busybox",
            "sleep",
            "60",
        ])
        .ok();
    // a second store, named by --root
    let other = env.path("other");
    let o = env.cmd("layer-unpack").arg("--root").arg(&other);
    let r = o.stdin(crate::harness::busybox_tar()).ok().record();
    let layer = crate::harness::s(&r, "layer").to_string();
    env.cmd("tag")
        .arg("--root")
        .arg(&other)
        .args([&layer, "alpine-ish:1"])
        .ok();
    env.cmd("create")
        .arg("--root")
        .arg(&other)
        .args(["--name", "elsewhere", "alpine-ish:1", "true"])
        .ok();
    // an extension on PATH is a verb
    let ext = env.dir.join("ext");
    std::fs::create_dir_all(&ext).unwrap();
    let hello = ext.join("cairn-hello");
    std::fs::write(&hello, "#!/bin/sh\necho hello\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&hello, std::fs::Permissions::from_mode(0o755)).unwrap();
    let other = other.display().to_string();
    let cases: Vec<(String, String)> = vec![
        ("cairn rm w\t".into(), "cairn rm web".into()),
        ("cairn start \t".into(), "cairn start web".into()),
        ("cairn stop \t".into(), "cairn stop live".into()),
        ("cairn attach \t".into(), "cairn attach live".into()),
        ("cairn run bu\t".into(), "cairn run busybox".into()),
        (
            "cairn run busybox:l\t".into(),
            "cairn run busybox:latest".into(),
        ),
        (
            "cairn exec -e A=1 \t".into(),
            "cairn exec -e A=1 live".into(),
        ),
        (
            "cairn tag busybox:latest b\t".into(),
            "cairn tag busybox:latest busybox".into(),
        ),
        ("cairn stop --tim\t".into(), "cairn stop --time".into()),
        (
            "cairn rm --format j\t".into(),
            "cairn rm --format json".into(),
        ),
        ("cairn netw\t".into(), "cairn network".into()),
        ("cairn hel\t".into(), "cairn hello".into()),
        (
            format!("cairn --root {other} rm \t"),
            format!("cairn --root {other} rm elsewhere"),
        ),
        (
            format!("cairn --root {other} run al\t"),
            format!("cairn --root {other} run alpine-ish:1"),
        ),
    ];
    let lines: Vec<&str> = cases.iter().map(|(l, _)| l.as_str()).collect();
    for shell in ["bash", "zsh", "fish"] {
        let got = typed(&env, shell, &lines);
        for ((typed, want), (line, shown)) in cases.iter().zip(&got) {
            assert_eq!(line, want, "{shell}: {typed:?}: {shown:?}");
        }
    }
    // `cp CONTAINER:PATH`: the name and its colon, no space after it
    for shell in ["bash", "zsh"] {
        let got = typed(&env, shell, &["cairn cp w\t", "cairn cp /etc/hostname l\t"]);
        assert_eq!(got[0].0, "cairn cp web:", "{shell}: {got:?}");
        assert_eq!(got[1].0, "cairn cp /etc/hostname live:", "{shell}: {got:?}");
    }
    // bash lists the candidates on a second TAB
    let got = typed(&env, "bash", &["cairn r\t\t", "cairn inspect \t\t"]);
    for v in ["rename", "restart", "rmi", "run"] {
        assert!(got[0].1.contains(v), "{:?}", got[0]);
    }
    for v in ["busybox:latest", "web"] {
        assert!(got[1].1.contains(v), "{:?}", got[1]);
    }
    env.cmd("rm").arg("web").ok();
    env.cmd("rm").args(["-f", "live"]).ok();
    env.cmd("rm")
        .arg("--root")
        .arg(&other)
        .arg("elsewhere")
        .ok();
}
