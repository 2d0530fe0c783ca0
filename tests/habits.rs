//! Docker's habits at the command line: what a docker user types without
//! thinking does what docker does.

use crate::harness::{bin, busybox_image, leftovers, ps_all, s, wait_for, Env};
use std::process::{Command, Stdio};
use std::time::Duration;

/// `echo x | run -it` has no terminal to relay: refused at once, exit 1,
/// with docker's words, and no container is left behind.
#[test]
fn it_without_a_terminal_is_refused() {
    let env = Env::new("habit-it");
    busybox_image(&env);
    let o = env
        .cmd("run")
        .args(["-it", "busybox", "true"])
        .stdin("x\n")
        .fails(1);
    assert!(o.stderr.contains("the input device is not a TTY"), "{o}");
    assert!(ps_all(&env).is_empty(), "no container is made");
    // -t alone and -i alone are fine without a terminal.
    env.cmd("run").args(["--rm", "-t", "busybox", "true"]).ok();
    let o = env
        .cmd("run")
        .args(["--rm", "-i", "busybox", "cat"])
        .stdin("x\n")
        .ok();
    assert_eq!(o.stdout, "x\n");
    // exec -it too.
    let id = env.cmd("run").args(["-d", "busybox", "sleep", "30"]).ok();
    let id: &str = &id.id();
    let o = env
        .cmd("exec")
        .args(["-it", id, "true"])
        .stdin("x\n")
        .fails(1);
    assert!(o.stderr.contains("the input device is not a TTY"), "{o}");
    env.cmd("rm").args(["-f", id]).ok();
    assert!(leftovers(&env).is_empty(), "{:?}", leftovers(&env));
}

/// `run -d --rm`: the detached supervisor removes the container when its
/// process exits.
#[test]
fn detached_rm_removes_on_exit() {
    let env = Env::new("habit-drm");
    busybox_image(&env);
    let id = env
        .cmd("run")
        .args(["-d", "--rm", "busybox", "sh", "-c", "sleep 0.3"])
        .ok();
    id.id();
    wait_for(
        "the container to be removed",
        Duration::from_secs(10),
        || ps_all(&env).is_empty(),
    );
    assert!(leftovers(&env).is_empty(), "{:?}", leftovers(&env));
}

/// An image with no Cmd and no command given: refused (125, as docker's
/// "No command specified") before a container is made.
#[test]
fn run_without_a_command_makes_no_container() {
    let env = Env::new("habit-nocmd");
    busybox_image(&env);
    let o = env.cmd("run").arg("busybox").fails(125);
    assert!(o.stderr.contains("no command"), "{o}");
    assert!(ps_all(&env).is_empty(), "{:?}", ps_all(&env));
    // A missing image is still union-mount's to report.
    let o = env.cmd("run").args(["nosuch", "true"]).fails(125);
    assert!(o.stderr.contains("nosuch"), "{o}");
}

/// `rm -f` of a container that its own `run --rm` is about to remove:
/// both succeed, and nothing is left.
#[test]
fn rm_f_of_a_foreground_rm_container() {
    let env = Env::new("habit-rmf");
    busybox_image(&env);
    for _ in 0..3 {
        let run = Command::new(bin("run"))
            .env("CAIRN_ROOT", &env.root)
            .args(["--rm", "busybox", "sleep", "100"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        wait_for("the container to run", Duration::from_secs(10), || {
            ps_all(&env).iter().any(|r| s(r, "status") == "running")
        });
        let id = s(&ps_all(&env)[0], "container").to_string();
        env.cmd("rm").args(["-f", &id]).ok();
        let out = run.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(137));
        assert!(
            out.stderr.is_empty(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(ps_all(&env).is_empty(), "{:?}", ps_all(&env));
    }
    assert!(leftovers(&env).is_empty(), "{:?}", leftovers(&env));
}

/// `cairn --root DIR VERB` uses DIR's store; `cairn --help` lists the
/// verbs with what each does; a mistyped verb is answered with the
/// nearest one, as git does.
#[test]
fn the_dispatcher_takes_global_options_lists_and_suggests() {
    let env = Env::new("habit-dispatch");
    busybox_image(&env);
    let other = env.path("other-store");
    let o = env
        .cmd("cairn")
        .arg("--root")
        .arg(&other)
        .args(["images", "-q"])
        .ok();
    assert_eq!(o.stdout, "", "a fresh store has no images\n{o}");
    assert!(other.join("index.json").exists(), "{o}");
    let o = env.cmd("cairn").args(["images", "-q"]).ok();
    assert_eq!(o.stdout.lines().count(), 1, "{o}");
    let o = env.cmd("cairn").arg("--help").ok();
    assert!(
        o.stdout
            .lines()
            .any(|l| l.starts_with("  images ") && l.contains("List images")),
        "{o}"
    );
    let o = env.cmd("cairn").args(["imagse", "-a"]).fails(2);
    assert!(o.stderr.contains("did you mean `cairn images`?"), "{o}");
}

/// `tag SOURCE TARGET`, docker's order; TARGET alone names stdin's record.
#[test]
fn tag_takes_source_then_target() {
    let env = Env::new("habit-tag");
    let layer = busybox_image(&env);
    let r = env.cmd("tag").args(["busybox", "mybox:1"]).ok().record();
    assert_eq!(s(&r, "tag"), "mybox:1");
    assert_eq!(s(&r, "layer"), layer);
    let r = env.cmd("tag").args([&layer[7..19], "short"]).ok().record();
    assert_eq!(s(&r, "tag"), "short:latest");
    // The old order names an image that does not exist.
    env.cmd("tag").args(["other:1", "busybox"]).fails(1);
    env.cmd("tag").args(["busybox", "a", "b"]).fails(2);
    let names: Vec<String> = env
        .records("images", &[])
        .iter()
        .map(|r| format!("{}:{}", s(r, "repository"), s(r, "tag")))
        .collect();
    assert_eq!(names, ["busybox:latest", "mybox:1", "short:latest"]);
}

/// `-q` prints docker's 12-digit image IDs, `--no-trunc` whole ones; the
/// IMAGE column of `ps` shows an untagged image by its short image ID.
#[test]
fn quiet_ids_are_short() {
    let env = Env::new("habit-q");
    let layer = busybox_image(&env);
    let image_id = s(&env.records("images", &[])[0], "image_id").to_string();
    let hex = &image_id[7..];
    let q = env.cmd("images").arg("-q").ok().stdout;
    assert_eq!(q, format!("{}\n", &hex[..12]));
    let q = env.cmd("images").args(["-q", "--no-trunc"]).ok().stdout;
    assert_eq!(q, format!("{image_id}\n"));
    let q = env.cmd("images").args(["--format", "id"]).ok().stdout;
    assert_eq!(q, format!("{layer}\n"), "--format id stays whole");
    let by_id = env.cmd("create").args([&layer, "--", "true"]).ok();
    let by_id = by_id.id();
    env.cmd("tag").args(["busybox", "gone:1"]).ok();
    env.cmd("create")
        .args(["--name", "g", "gone:1", "--", "true"])
        .ok();
    env.cmd("tag").args(["-d", "gone:1"]).ok();
    env.cmd("create")
        .args(["--name", "n", "busybox", "--", "true"])
        .ok();
    let q = env.cmd("ps").arg("-aq").ok().stdout;
    assert!(q.lines().all(|l| l.len() == 12), "{q}");
    assert!(q.lines().any(|l| by_id.starts_with(l)), "{q}");
    let q = env.cmd("ps").args(["-aq", "--no-trunc"]).ok().stdout;
    assert!(q.lines().any(|l| l == by_id), "{q}");
    let t = env.cmd("ps").args(["-a", "--format", "table"]).ok().stdout;
    let image_of = |name: &str| {
        let line = t.lines().find(|l| l.ends_with(name)).unwrap();
        line.split_whitespace().nth(1).unwrap().to_string()
    };
    assert_eq!(image_of(" n"), "busybox", "{t}");
    assert_eq!(image_of(" g"), &hex[..12], "{t}");
    assert!(!t.contains("sha256:"), "{t}");
}

/// `wait` blocks until the container stops and prints its exit code;
/// `logs` prints what a detached container wrote, `--tail` its last
/// lines, `-f` until it stops.
#[test]
fn wait_and_logs() {
    let env = Env::new("habit-wait-logs");
    busybox_image(&env);
    // stdout and stderr come through pipes of their own and stay apart
    // in the log (tests/logs.rs has more)
    let script = "for i in 1 2 3; do echo out$i; sleep 0.2; echo err$i >&2; sleep 0.2; done; \
                  sleep 1; echo late; exit 3";
    let id = env
        .cmd("run")
        .args(["-d", "busybox", "sh", "-c", script])
        .ok();
    let id: &str = &id.id();
    let follow = Command::new(bin("logs"))
        .env("CAIRN_ROOT", &env.root)
        .args(["-f", id])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let w = env.cmd("wait").args(["--format", "table", id]).ok().stdout;
    assert_eq!(w, "3\n");
    let (out, err) = ("out1\nout2\nout3\nlate\n", "err1\nerr2\nerr3\n");
    let f = follow.wait_with_output().unwrap();
    assert!(f.status.success());
    assert_eq!(String::from_utf8_lossy(&f.stdout), out);
    assert_eq!(String::from_utf8_lossy(&f.stderr), err);
    let all = env.cmd("logs").arg(id).ok();
    assert_eq!((all.stdout.as_str(), all.stderr.as_str()), (out, err));
    let t = env.cmd("logs").args(["--tail", "2", id]).ok();
    assert_eq!((t.stdout.as_str(), t.stderr.as_str()), ("late\n", "err3\n"));
    env.cmd("logs").args(["--tail", "x", id]).fails(2);
    // Piped: a record; a stopped container answers at once.
    let r = env.cmd("wait").arg(id).ok().record();
    assert_eq!(r["exit_code"], 3);
    assert_eq!(s(&r, "status"), "exited");
    env.cmd("wait").arg("nosuch").fails(1);
    env.cmd("rm").arg(id).ok();
}

/// Run `cairn TOOL ARGS` under script(1), a pty; what the terminal showed.
pub(crate) fn on_a_pty(env: &Env, tool: &str, args: &str) -> String {
    let cmd = format!("{} {args}", bin(tool).display());
    let out = Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .env("CAIRN_ROOT", &env.root)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success(), "{cmd}: {out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// With -t the pty is the container's own: it is in the container's
/// /dev/pts, `tty` names it and it is the controlling terminal (as with
/// docker: /dev/pts/0), for run and for exec.
#[test]
fn the_tty_is_the_containers_own() {
    let env = Env::new("habit-tty");
    busybox_image(&env);
    let shown = on_a_pty(&env, "run", "--rm -t busybox tty");
    assert!(shown.contains("/dev/pts/0\r\n"), "{shown:?}");
    let shown = on_a_pty(
        &env,
        "run",
        "--rm -t busybox sh -c 'ls /dev/pts; ps -o tty,comm'",
    );
    assert!(
        shown.contains("136,0  ps"),
        "the controlling terminal: {shown:?}"
    );
    let id = env.cmd("run").args(["-d", "busybox", "sleep", "30"]).ok();
    let id: &str = &id.id();
    let shown = on_a_pty(&env, "exec", &format!("-t {id} tty"));
    assert!(shown.contains("/dev/pts/"), "{shown:?}");
    assert!(!shown.contains("not a tty"), "{shown:?}");
    env.cmd("rm").args(["-f", id]).ok();
    assert!(leftovers(&env).is_empty(), "{:?}", leftovers(&env));
}

/// `cp` both ways, as docker: where a file or a directory lands, `DIR/.`,
/// `-` for a tar on stdin or stdout, the owners, a running and a stopped
/// container, and what is written shows in the read-write layer.
#[test]
fn cp_copies_both_ways() {
    use std::os::unix::fs::{chown, MetadataExt};
    let env = Env::new("habit-cp");
    busybox_image(&env);
    std::fs::write(env.path("f.txt"), "hello\n").unwrap();
    chown(env.path("f.txt"), Some(1234), Some(1234)).unwrap();
    std::fs::create_dir_all(env.path("d/b")).unwrap();
    std::fs::write(env.path("d/a"), "A").unwrap();
    std::fs::write(env.path("d/b/c"), "C").unwrap();
    let run = env.cmd("run").args(["-d", "busybox", "sleep", "60"]).ok();
    let id = run.id();
    let cat = |path: &str| env.cmd("exec").args([id.as_str(), "cat", path]).ok().stdout;
    // a file into a directory keeps its name; onto a missing name takes it
    env.cmd("cp").args(["f.txt", &format!("{id}:/tmp")]).ok();
    assert_eq!(cat("/tmp/f.txt"), "hello\n");
    env.cmd("cp")
        .args(["f.txt", &format!("{id}:/tmp/g.txt")])
        .ok();
    assert_eq!(cat("/tmp/g.txt"), "hello\n");
    let o = env
        .cmd("exec")
        .args([&id, "stat", "-c", "%u:%g", "/tmp/f.txt"])
        .ok();
    assert_eq!(
        o.stdout.trim(),
        "1234:1234",
        "copied in: the owners kept, as docker's engine keeps them"
    );
    env.cmd("cp")
        .args(["-a", "f.txt", &format!("{id}:/tmp/h")])
        .ok();
    let o = env
        .cmd("exec")
        .args([&id, "stat", "-c", "%u:%g", "/tmp/h"])
        .ok();
    assert_eq!(o.stdout.trim(), "1234:1234", "-a with no USER: the same");
    // a missing directory named with a trailing / is an error for a file
    env.cmd("cp")
        .args(["f.txt", &format!("{id}:/nosuch/")])
        .fails(1);
    // directories: into one, onto a missing name, and DIR/.
    env.cmd("cp").args(["d", &format!("{id}:/tmp")]).ok();
    assert_eq!(cat("/tmp/d/b/c"), "C");
    env.cmd("cp").args(["d", &format!("{id}:/opt")]).ok();
    assert_eq!(
        cat("/opt/b/c"),
        "C",
        "a directory onto a missing name becomes it"
    );
    env.cmd("cp").args(["d/.", &format!("{id}:/tmp/new")]).ok();
    assert_eq!(cat("/tmp/new/a"), "A");
    env.cmd("cp").args(["d/.", &format!("{id}:/tmp/new")]).ok();
    assert_eq!(cat("/tmp/new/b/c"), "C");
    env.cmd("cp")
        .args(["d", &format!("{id}:/tmp/g.txt")])
        .fails(1);
    // out: a file, a directory, owned by the caller
    env.cmd("cp")
        .args([&format!("{id}:/tmp/h"), "out.txt"])
        .ok();
    assert_eq!(
        std::fs::read_to_string(env.path("out.txt")).unwrap(),
        "hello\n"
    );
    assert_eq!(std::fs::metadata(env.path("out.txt")).unwrap().uid(), 0);
    env.cmd("cp").args([&format!("{id}:/opt"), "outd"]).ok();
    assert_eq!(std::fs::read_to_string(env.path("outd/b/c")).unwrap(), "C");
    // the whole root of a running container: its /proc is not walked
    env.cmd("cp").args([&format!("{id}:/"), "root"]).ok();
    assert!(env.path("root/bin/busybox").exists());
    assert!(env.path("root/proc").is_dir());
    assert!(!env.path("root/proc/1").exists());
    // `-`: a tar out and a tar in
    let tar = env.cmd("cp").args([&format!("{id}:/tmp/g.txt"), "-"]).ok();
    assert!(tar.stdout.starts_with("g.txt\0"), "{tar}");
    let t = crate::harness::TarBuilder::new()
        .file("t.txt", 0o644, b"from a tar")
        .build();
    env.cmd("cp")
        .args(["-", &format!("{id}:/tmp")])
        .stdin(t)
        .ok();
    assert_eq!(cat("/tmp/t.txt"), "from a tar");
    // a stopped container: written into its read-write layer
    env.cmd("stop").args(["-t", "0", &id]).ok();
    env.cmd("cp")
        .args(["f.txt", &format!("{id}:/etc/motd")])
        .ok();
    env.cmd("cp")
        .args([&format!("{id}:/etc/motd"), "motd"])
        .ok();
    assert_eq!(
        std::fs::read_to_string(env.path("motd")).unwrap(),
        "hello\n"
    );
    let diff = env.cmd("diff").arg(&id).ok();
    assert!(diff.stdout.contains("A /etc/motd"), "{diff}");
    assert!(diff.stdout.contains("A /tmp/t.txt"), "{diff}");
    env.cmd("rm").arg(&id).ok();
    assert!(leftovers(&env).is_empty(), "{:?}", leftovers(&env));
}

/// `cp` as the attacker sees it: a container whose /x is a symlink to /etc
/// (and /y one to ../../../etc) never gets the host's /etc written or read,
/// running or stopped; a tar stream can neither climb out with `..` nor
/// write through a symlink it made.
#[test]
fn cp_never_leaves_the_container() {
    let env = Env::new("habit-cp-escape");
    busybox_image(&env);
    let run = env.cmd("run").args(["-d", "busybox", "sleep", "60"]).ok();
    let id = run.id();
    let script = "ln -s /etc /x && ln -s ../../../../etc /y && echo container-secret > /etc/shadow";
    env.cmd("exec").args([id.as_str(), "sh", "-c", script]).ok();
    let host_passwd = std::fs::read("/etc/passwd").unwrap();
    let host_shadow = std::fs::read("/etc/shadow").ok();
    std::fs::write(env.path("passwd"), "pwned\n").unwrap();
    let check_host = || {
        assert_eq!(std::fs::read("/etc/passwd").unwrap(), host_passwd);
        assert_eq!(std::fs::read("/etc/shadow").ok(), host_shadow);
        assert!(!std::path::Path::new("/etc/cairn-evil").exists());
    };
    for stopped in [false, true] {
        if stopped {
            env.cmd("stop").args(["-t", "0", &id]).ok();
        }
        for link in ["x", "y"] {
            env.cmd("cp")
                .args(["passwd", &format!("{id}:/{link}/passwd")])
                .ok();
            check_host();
            let out = format!("shadow-{link}-{stopped}");
            env.cmd("cp")
                .args([&format!("{id}:/{link}/shadow"), &out])
                .ok();
            assert_eq!(
                std::fs::read_to_string(env.path(&out)).unwrap(),
                "container-secret\n",
                "the container's /etc/shadow, not the host's"
            );
        }
        env.cmd("cp")
            .args([&format!("{id}:/etc/passwd"), "got"])
            .ok();
        assert_eq!(std::fs::read_to_string(env.path("got")).unwrap(), "pwned\n");
        // a hostile tar on stdin
        let climb = tar_climbing_out("../../../../../../etc/cairn-evil");
        let o = env
            .cmd("cp")
            .args(["-", &format!("{id}:/tmp")])
            .stdin(climb)
            .fails(1);
        assert!(o.stderr.contains("refused"), "{o}");
        let through = crate::harness::TarBuilder::new()
            .symlink("l", "/etc")
            .file("l/cairn-evil", 0o644, b"x")
            .build();
        let o = env
            .cmd("cp")
            .args(["-", &format!("{id}:/tmp")])
            .stdin(through)
            .fails(1);
        assert!(o.stderr.contains("symlink"), "{o}");
        check_host();
        // copied out, the container's symlink stays a symlink
        env.cmd("cp")
            .args([&format!("{id}:/x"), &format!("x-{stopped}")])
            .ok();
        let l = std::fs::symlink_metadata(env.path(&format!("x-{stopped}"))).unwrap();
        assert!(l.file_type().is_symlink());
    }
    env.cmd("cp")
        .args([&format!("{id}:/etc/cairn-evil"), "no"])
        .fails(1);
    env.cmd("rm").arg(&id).ok();
    assert!(leftovers(&env).is_empty(), "{:?}", leftovers(&env));
}

/// A tar whose one file is named `name` as given, `..` and all (the tar
/// crate's builder refuses such names).
fn tar_climbing_out(name: &str) -> Vec<u8> {
    let mut h = tar::Header::new_old();
    h.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
    h.set_mode(0o644);
    h.set_size(1);
    h.set_entry_type(tar::EntryType::Regular);
    h.set_cksum();
    let mut out = h.as_bytes().to_vec();
    out.extend_from_slice(b"x");
    out.resize(1024, 0);
    out.resize(2048, 0);
    out
}

/// `-e FOO` takes the caller's value, `--env-file` reads docker's format
/// (comments, blank lines, bare names), `-e` wins over it: what the
/// container sees is what docker's sees for the same flags.
#[test]
fn env_from_the_caller_and_env_files_as_docker() {
    use crate::fixtures::docker;
    let env = Env::new("habit-env");
    let tag = crate::interop::same_image(&env, "habit-env:1");
    let vars = env.path("vars");
    std::fs::write(&vars, "# a comment\nA=1\n\n  FROM_SHELL\nB=two words\n").unwrap();
    let vars = vars.to_str().unwrap();
    let flags = [
        "-e",
        "FOO",
        "-e",
        "UNSET_HERE",
        "--env-file",
        vars,
        "-e",
        "A=3",
    ];
    let caller = [("FOO", "from-shell"), ("FROM_SHELL", "fs")];
    let mut ours = env.cmd("run").args(["--rm", "--network", "none"]);
    for (k, v) in caller {
        ours = ours.env(k, v);
    }
    let ours = ours.args(flags).args([tag.as_str(), "env"]).ok().stdout;
    let mut args = vec!["run", "--rm", "--network", "none"];
    args.extend(flags);
    args.extend([tag.as_str(), "env"]);
    let theirs = docker().run_env(&args, &caller);
    assert!(theirs.status.success(), "{theirs:?}");
    let theirs = String::from_utf8_lossy(&theirs.stdout).into_owned();
    let pick = |out: &str| {
        let mut v: Vec<String> = out
            .lines()
            .filter(|l| {
                ["FOO=", "UNSET_HERE", "A=", "B=", "FROM_SHELL="]
                    .iter()
                    .any(|k| l.starts_with(k))
            })
            .map(str::to_string)
            .collect();
        v.sort();
        v
    };
    assert_eq!(
        pick(&ours),
        pick(&theirs),
        "ours:\n{ours}\ndocker's:\n{theirs}"
    );
    assert_eq!(
        pick(&ours),
        ["A=3", "B=two words", "FOO=from-shell", "FROM_SHELL=fs"]
    );
    // exec takes them too
    let id = env.cmd("run").args(["-d", "busybox", "sleep", "60"]).ok();
    let id: &str = &id.id();
    let o = env
        .cmd("exec")
        .env("FOO", "x")
        .args(["-e", "FOO", "--env-file", vars, id, "env"])
        .ok();
    assert!(
        o.stdout.contains("FOO=x\n") && o.stdout.contains("B=two words\n"),
        "{o}"
    );
    env.cmd("rm").args(["-f", id]).ok();
}

/// `--entrypoint ''` clears the image's entrypoint (the command runs
/// alone); `exec -d` returns at once and leaves its process running.
#[test]
fn entrypoint_cleared_and_exec_detached() {
    let env = Env::new("habit-ep");
    busybox_image(&env);
    let c = env.cmd("create").arg("busybox").ok();
    let c: &str = &c.id();
    let img = env
        .cmd("commit")
        .args(["--change", r#"ENTRYPOINT ["echo","from-entrypoint"]"#, c])
        .ok()
        .record();
    let layer = s(&img, "layer").to_string();
    env.cmd("tag").args([layer.as_str(), "ep:1"]).ok();
    let o = env.cmd("run").args(["--rm", "ep:1", "hi"]).ok();
    assert_eq!(o.stdout, "from-entrypoint hi\n");
    let o = env
        .cmd("run")
        .args(["--rm", "--entrypoint", "", "ep:1", "echo", "hi"])
        .ok();
    assert_eq!(o.stdout, "hi\n");
    env.cmd("rm").arg(c).ok();

    let id = env.cmd("run").args(["-d", "busybox", "sleep", "60"]).ok();
    let id = id.id();
    let t = std::time::Instant::now();
    let o = env
        .cmd("exec")
        .args(["-d", &id, "sh", "-c", "sleep 1; echo done > /tmp/d"])
        .ok();
    assert!(t.elapsed() < Duration::from_millis(900), "exec -d waited");
    assert_eq!(o.stdout, "");
    wait_for(
        "the detached process to write",
        Duration::from_secs(10),
        || {
            env.cmd("exec")
                .args([id.as_str(), "cat", "/tmp/d"])
                .run()
                .stdout
                == "done\n"
        },
    );
    env.cmd("exec").args(["-d", "-t", &id, "true"]).fails(2);
    env.cmd("rm").args(["-f", &id]).ok();
    assert!(leftovers(&env).is_empty(), "{:?}", leftovers(&env));
}

/// `rename`, `restart` and `top`, as docker's.
#[test]
fn rename_restart_top() {
    let env = Env::new("habit-rrt");
    busybox_image(&env);
    let id = env
        .cmd("run")
        .args(["-d", "--name", "first", "busybox", "sleep", "60"])
        .ok();
    let id = id.id();
    env.cmd("run")
        .args(["-d", "--name", "other", "busybox", "true"])
        .ok();
    // rename: the new name works, the old does not, names stay unique
    env.cmd("rename").args(["first", "web"]).ok();
    env.cmd("exec").args(["web", "true"]).ok();
    env.cmd("exec").args(["first", "true"]).fails(125);
    let o = env.cmd("rename").args(["web", "other"]).fails(1);
    assert!(o.stderr.contains("other"), "{o}");
    env.cmd("rename").args(["web", "bad/name"]).fails(1);
    let r = env.cmd("rename").args(["web", "web2"]).ok().record();
    assert_eq!(s(&r, "name"), "web2");
    // top: the container's processes only, with ps's header
    let o = env.cmd("top").arg("web2").ok();
    let lines: Vec<&str> = o.stdout.lines().collect();
    assert!(lines[0].contains("PID") && lines[0].contains("CMD"), "{o}");
    assert_eq!(lines.len(), 2, "{o}");
    assert!(lines[1].contains("sleep 60"), "{o}");
    let o = env.cmd("top").args(["web2", "-o", "pid,args"]).ok();
    assert!(o.stdout.lines().nth(1).unwrap().contains("sleep 60"), "{o}");
    // restart: a new init, running again; a stopped one is started
    let pid = |env: &Env| {
        let r = env.cmd("inspect").arg(&id).ok().record();
        r["state"]["pid"].as_i64()
    };
    let before = pid(&env).unwrap();
    let r = env.cmd("restart").args(["-t", "0", "web2"]).ok().record();
    assert_eq!(s(&r, "container"), id);
    let after = pid(&env).unwrap();
    assert_ne!(before, after);
    env.cmd("exec").args(["web2", "true"]).ok();
    env.cmd("stop").args(["-t", "0", "web2"]).ok();
    env.cmd("restart").arg("web2").ok();
    env.cmd("exec").args(["web2", "true"]).ok();
    env.cmd("top").arg("other").fails(1);
    env.cmd("rm").args(["-f", "web2", "other"]).ok();
    assert!(leftovers(&env).is_empty(), "{:?}", leftovers(&env));
}

/// `--cap-add`/`--cap-drop`: the sets the container's process holds are
/// docker's for the same flags; kept by `create` for `start`; a name that
/// is not a capability is refused before a container is made.
#[test]
fn capabilities_as_docker() {
    use crate::fixtures::docker;
    let env = Env::new("habit-caps");
    let tag = crate::interop::same_image(&env, "habit-caps:1");
    let status = "grep -E '^Cap(Bnd|Eff|Prm)' /proc/self/status";
    for flags in [
        &["--cap-drop", "ALL", "--cap-add", "net_raw"][..],
        &["--cap-add", "NET_ADMIN", "--cap-drop", "CAP_CHOWN"][..],
        &["--cap-add", "SYS_TIME", "--cap-drop", "NET_RAW"][..],
    ] {
        let ours = env
            .cmd("run")
            .args(["--rm", "--network", "none"])
            .args(flags)
            .args([tag.as_str(), "sh", "-c", status])
            .ok()
            .stdout;
        let mut args = vec!["run", "--rm", "--network", "none"];
        args.extend(flags);
        args.extend([tag.as_str(), "sh", "-c", status]);
        let theirs = docker().ok(&args);
        assert_eq!(ours, theirs, "{flags:?}");
    }
    // ALL (docker's engine here cannot grant every one: not compared)
    let o = env
        .cmd("run")
        .args(["--rm", "--cap-add", "ALL", "--cap-drop", "SYS_ADMIN", &tag])
        .args(["sh", "-c", "grep CapEff /proc/self/status"])
        .ok();
    let eff = u64::from_str_radix(o.stdout.split_whitespace().nth(1).unwrap(), 16).unwrap();
    assert_eq!(eff & (1 << 21), 0, "no CAP_SYS_ADMIN: {o}");
    assert_ne!(
        eff & (1 << 25),
        0,
        "CAP_SYS_TIME, beyond docker's default: {o}"
    );
    // kept with the container: create, then start
    let id = env
        .cmd("create")
        .args(["--cap-drop", "chown", &tag, "sh", "-c", "chown 1 /tmp"])
        .ok();
    let id: &str = &id.id();
    let o = env.cmd("start").args(["-a", id]).fails(1);
    assert!(o.stderr.contains("Operation not permitted"), "{o}");
    env.cmd("rm").arg(id).ok();
    let o = env
        .cmd("run")
        .args(["--rm", "--cap-add", "NOPE", &tag, "true"])
        .fails(125);
    assert!(o.stderr.contains("NOPE"), "{o}");
    assert!(ps_all(&env).is_empty());
}

/// `inspect -f` over docker's document (`.Name` has docker's slash).
#[test]
fn inspect_takes_a_go_template() {
    let env = Env::new("habit-tmpl");
    busybox_image(&env);
    let id = env
        .cmd("run")
        .args([
            "-d", "--name", "tmpl", "-e", "K=v", "busybox", "sleep", "60",
        ])
        .ok();
    let id: &str = &id.id();
    let r = env.cmd("inspect").arg(id).ok().record();
    let pid = r["state"]["pid"].as_i64().unwrap();
    let o = env
        .cmd("inspect")
        .args(["-f", "{{.State.Pid}} {{.State.Status}} {{.Name}}", "tmpl"])
        .ok();
    assert_eq!(o.stdout, format!("{pid} running /tmpl\n"));
    let o = env
        .cmd("inspect")
        .args(["-f", "{{json .Config.Env}}", "tmpl"])
        .ok();
    assert!(
        o.stdout.starts_with('[') && o.stdout.contains("\"K=v\""),
        "{o}"
    );
    let o = env
        .cmd("inspect")
        .args(["-f", "{{range .Config.Env}}", "tmpl"])
        .fails(64);
    assert!(o.stderr.contains("unexpected EOF"), "{o}");
    let o = env
        .cmd("inspect")
        .args([
            "-f",
            r#"{{range .Config.Env}}{{if eq (index (split . "=") 0) "K"}}{{.}}{{end}}{{end}}"#,
            "tmpl",
        ])
        .ok();
    assert_eq!(o.stdout, "K=v\n");
    env.cmd("rm").args(["-f", id]).ok();
}

/// On a terminal, verbs that change state print what docker prints (the
/// name given, `Untagged:`, `Deleted:`, the new image's ID, `Loaded
/// image:`, nothing for tag); piped, they print records.
#[test]
fn state_changing_verbs_speak_docker_on_a_terminal() {
    use crate::fixtures::docker;
    let env = Env::new("habit-say");
    let tag = crate::interop::same_image(&env, "habit-say:1");
    let name = format!("habit-say-{}", std::process::id());
    let start = [
        "run",
        "-d",
        "--network",
        "none",
        "--name",
        &name,
        &tag,
        "sleep",
        "60",
    ];
    env.cmd(start[0]).args(&start[1..]).ok();
    docker().ok(&start);
    let said = |args: &[&str]| {
        let ours = on_a_pty(&env, args[0], &args[1..].join(" "));
        let theirs = docker().ok(args);
        (ours.replace("\r\n", "\n"), theirs)
    };
    for verb in [
        &["pause", &name][..],
        &["unpause", &name],
        &["kill", &name],
        &["restart", "-t", "0", &name],
        &["stop", "-t", "0", &name],
    ] {
        let (ours, theirs) = said(verb);
        assert_eq!(ours, theirs, "{verb:?}");
    }
    let img = format!("{name}-img:1");
    let (ours, theirs) = said(&["commit", &name, &img]);
    for out in [&ours, &theirs] {
        assert!(
            out.starts_with("sha256:") && out.trim().len() == 71,
            "{out}"
        );
    }
    let copy = format!("{name}-img:2");
    assert_eq!(said(&["tag", &img, &copy]), (String::new(), String::new()));
    assert_eq!(
        said(&["rmi", &copy]),
        (format!("Untagged: {copy}\n"), format!("Untagged: {copy}\n"))
    );
    let (ours, theirs) = said(&["rmi", &img]);
    for out in [&ours, &theirs] {
        assert!(
            out.starts_with(&format!("Untagged: {img}\nDeleted: sha256:")),
            "{out}"
        );
    }
    assert_eq!(
        said(&["rm", &name]),
        (format!("{name}\n"), format!("{name}\n"))
    );
    // load: the tags loaded
    let archive = env.path("say.tar");
    env.cmd("save").arg("-o").arg(&archive).arg(&tag).ok();
    let fresh = Env::new("habit-say-load");
    let ours = on_a_pty(&fresh, "load", archive.to_str().unwrap());
    let theirs = docker().ok(&["load", "-i", archive.to_str().unwrap()]);
    assert!(
        ours.ends_with(&format!("Loaded image: {tag}\r\n")),
        "{ours:?}"
    );
    assert_eq!(theirs, format!("Loaded image: {tag}\n"));
    // piped: records
    let r = fresh.cmd("tag").args([&tag, "x:1"]).ok().record();
    assert_eq!(s(&r, "tag"), "x:1");
    let r = fresh.cmd("rmi").arg("x:1").ok().record();
    assert_eq!(s(&r, "untagged"), "x:1");
}

/// `top` prints docker's table: the header's columns at least 20 wide,
/// the command's words joined by one space, with ps's options too.
#[test]
fn top_prints_dockers_table() {
    let env = Env::new("habit-top");
    let tag = crate::interop::same_image(&env, "habit-top:1");
    let run = ["run", "-d", "--network", "none", &tag, "sh", "-c"];
    let script = "sleep 100 & sleep   200";
    let ours = env.cmd("run").args(&run[1..]).arg(script).ok().id();
    let theirs = crate::fixtures::docker().ok(&[&run[..], &[script]].concat());
    let (ours, theirs) = (ours.as_str(), theirs.trim());
    std::thread::sleep(std::time::Duration::from_millis(500));
    // numbers differ (pids, times, CPU): each cell where it starts, with
    // its runs of digits as N
    let mask = |t: &str| {
        let mut m = String::new();
        for (i, c) in t.char_indices() {
            match c.is_ascii_digit() {
                true if t[..i].ends_with(|p: char| p.is_ascii_digit()) => {}
                true => m.push('N'),
                false => m.push(c),
            }
        }
        m
    };
    let shape = |text: &str| -> Vec<Vec<(usize, String)>> {
        let cells = |l: &str| {
            let starts: Vec<usize> = (0..l.len())
                .filter(|&i| &l[i..i + 1] != " " && (i == 0 || l[..i].ends_with("  ")))
                .collect();
            let ends = starts.iter().skip(1).copied().chain([l.len()]);
            let cells = starts.iter().zip(ends);
            cells.map(|(&a, e)| (a, mask(l[a..e].trim_end()))).collect()
        };
        text.lines().map(cells).collect()
    };
    for ps in [&[][..], &["-o", "pid,ppid,args"][..]] {
        let mine = env.cmd("top").arg(ours).args(ps).ok().stdout;
        let dk = crate::fixtures::docker().ok(&[&["top", theirs][..], ps].concat());
        assert_eq!(shape(&mine), shape(&dk), "ours:\n{mine}\ndocker's:\n{dk}");
        assert!(mine.lines().all(|l| !l.contains("sleep   ")), "{mine}");
    }
    crate::fixtures::docker().ok(&["rm", "-f", theirs]);
    env.cmd("rm").args(["-f", ours]).ok();
}

/// `cairn ARGS` in `sh -c` with this env's store: a pipeline of real
/// processes, as a user types it.
fn in_sh(env: &Env, line: &str) -> crate::harness::Output {
    let cairn = bin("cairn").display().to_string();
    let line = line.replace("cairn ", &format!("{cairn} "));
    crate::harness::Cmd::new(Command::new("sh"), line.clone())
        .args(["-c", &line])
        .env("CAIRN_ROOT", &env.root)
        .ok()
}

/// `run -d` and `create` piped into the next tool, as the help's
/// examples: `run -d | wait`, `run -d | stop`, `create | start`, with a
/// restart policy too.
#[test]
fn run_d_and_create_feed_the_next_tool() {
    let env = Env::new("habit-made-pipe");
    busybox_image(&env);
    let o = in_sh(&env, "cairn run -d busybox sh -c 'exit 3' | cairn wait");
    assert_eq!(o.record()["exit_code"], 3, "{o}");
    let o = in_sh(&env, "cairn run -d busybox sleep 60 | cairn stop -t 1");
    let r = o.record();
    assert_eq!(s(&r, "status"), "exited", "{o}");
    // the state stop knows, none of run -d's left stale (its pid)
    assert!(r["pid"].is_null() && r["finished_at"].is_string(), "{o}");
    let policy = "cairn run -d --restart on-failure:1 busybox sleep 60";
    let o = in_sh(&env, &format!("{policy} | cairn stop -t 1"));
    assert_eq!(s(&o.record(), "status"), "exited", "{o}");
    // create | start runs it (start writes its record on); its file is in
    // its layer once it exited
    let o = in_sh(
        &env,
        "cairn create busybox sh -c 'echo hi > /made; exit 5' | cairn start | cairn wait",
    );
    assert_eq!(o.record()["exit_code"], 5, "{o}");
    let id = o.id();
    let made = env.root.join("containers").join(&id).join("upper/made");
    assert_eq!(std::fs::read_to_string(&made).unwrap(), "hi\n");
    let o = in_sh(&env, "cairn create busybox true | cairn start -a");
    assert_eq!(o.stdout, "");
    // --format table: docker's words, piped too (start names it, stop too)
    let o = in_sh(&env, &format!("cairn start --format table {id}"));
    assert_eq!(o.stdout, format!("{id}\n"));
    let o = in_sh(&env, &format!("cairn stop -t 1 --format table {id}"));
    assert_eq!(o.stdout, format!("{id}\n"));
    env.cmd("rm").args(["-f"]).args(ids(&env)).ok();
    assert!(leftovers(&env).is_empty(), "{:?}", leftovers(&env));
}

fn ids(env: &Env) -> Vec<String> {
    let all = env.cmd("ps").args(["-aq", "--no-trunc"]).ok().stdout;
    all.lines().map(String::from).collect()
}

/// What `run -d` and `create` print: piped, one container record (valid
/// for docs/container.schema.json); with `--format id` or `table`, and on
/// a terminal, the bare 64-hex ID as `docker run -d` prints it.
#[test]
fn run_d_and_create_print_records_piped_ids_on_a_terminal() {
    let env = Env::new("habit-made-shape");
    let tag = crate::interop::same_image(&env, "habit-made:1");
    let ran = env.cmd("run").args(["-d", &tag, "sleep", "60"]).ok();
    let r = ran.record();
    assert_eq!(
        (s(&r, "status"), r["pid"].as_i64().is_some()),
        ("running", true)
    );
    let restarting = ["-d", "--restart", "always", &tag, "sleep", "60"];
    let restarting = env.cmd("run").args(restarting).ok();
    assert_eq!(s(&restarting.record(), "status"), "running", "{restarting}");
    let made = env.cmd("create").args([&tag, "true"]).ok();
    let json = env
        .cmd("create")
        .args(["--format", "json", &tag, "true"])
        .ok();
    let mut recs = Vec::new();
    for (tool, o) in [("run -d", &ran), ("run -d --restart", &restarting)]
        .into_iter()
        .chain([("create", &made), ("create --format json", &json)])
    {
        o.id();
        recs.push(("container", tool.to_string(), o.record()));
    }
    let errors = crate::records::invalid(&recs);
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    // the bare ID: docker's shape, for $(…)
    let bare = |out: &str| {
        let id = out.trim_end_matches(['\r', '\n']);
        id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit()) && !id.contains('\n')
    };
    let theirs = crate::fixtures::docker().ok(&["run", "-d", &tag, "sleep", "60"]);
    assert!(bare(&theirs) && theirs.ends_with('\n'), "{theirs:?}");
    crate::fixtures::docker().ok(&["rm", "-f", theirs.trim()]);
    for f in ["id", "table"] {
        let o = env.cmd("run").args(["-d", "--format", f, &tag, "true"]);
        assert!(bare(&o.ok().stdout), "run -d --format {f}");
        let o = env.cmd("create").args(["--format", f, &tag, "true"]);
        assert!(bare(&o.ok().stdout), "create --format {f}");
    }
    for (tool, args) in [("run", "-d habit-made:1 true"), ("create", "habit-made:1")] {
        let shown = on_a_pty(&env, tool, args);
        assert!(bare(&shown) && shown.ends_with("\r\n"), "{tool}: {shown:?}");
    }
    // --format is -d's: a foreground run's stdout is the process's
    let o = env
        .cmd("run")
        .args(["--format", "id", &tag, "true"])
        .fails(2);
    assert!(o.stderr.contains("--detach"), "{o}");
    env.cmd("rm").args(["-f"]).args(ids(&env)).ok();
    assert!(leftovers(&env).is_empty(), "{:?}", leftovers(&env));
}
