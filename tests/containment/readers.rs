//! The host-side readers of what a container controls: `diff` (its
//! read-write layer), `top` and `stats` (its processes, by /proc and its
//! cgroup), `logs` (what it wrote) and its attach socket. Each test is the
//! container attacking the reader: swapping its files with symlinks to a
//! host directory while `diff` walks them, leaving fifos and device nodes
//! for the walk to open, lying about its processes' names and arguments
//! while forking and exiting fast, writing what looks like the log's own
//! framing, and looking for the log and the socket from inside.

use super::commit_race::{swapping_container, Remove};
use super::{image_with, within, Tally};
use crate::harness::{bin, log_text, wait_for, Cmd, Env};
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::process::Command;
use std::time::{Duration, Instant};

const ATTACK: Duration = Duration::from_secs(5);
const TRIES: usize = 60;

/// `diff` of a container swapping `/x/d` with `/x/s -> <host dir>` (and a
/// file with a symlink to a host file): a walk that resolves paths lists
/// the host directory's entries; cairn's walks by directory fds and lists
/// the symlink as a symlink. The host directory holds a file named with
/// the marker: no diff may name it.
#[test]
fn diff_of_a_swapping_container_never_lists_the_host() {
    let env = Env::new("containment-diff-race");
    let (id, marker) = swapping_container(&env);
    let _rm = Remove(&env, id.clone());
    std::fs::write(env.path("secret").join(&marker), "").unwrap();
    let mut t = Tally::default();
    let start = Instant::now();
    while t.tries < TRIES && start.elapsed() < ATTACK {
        let o = env.cmd("diff").arg(&id).run();
        t.add(o.code, &o.stderr);
        assert!(
            !o.stdout.contains(&marker),
            "try {}: diff listed a host file ({t:?}):\n{o}",
            t.tries
        );
        if o.code == Some(0) {
            assert!(o.stdout.contains("A /x\n"), "{o}");
        }
    }
    eprintln!("diff race: {t:?}");
    t.some_ok_and_failures_say("changed while being read");
}

/// What the container leaves in its layer for the walk to open: a fifo (an
/// open for reading waits for a writer: the diff would hang), device nodes
/// (`mknod` is a default capability; opened on the host, `c 1 1` is the
/// host's memory), one with the largest major and minor, a char device
/// 0/1 next to overlayfs's whiteout 0/0, a block device, a hard link and a
/// symlink to a host path. `diff` must list them as docker 20.10 does,
/// open none of them but through `O_PATH` (traced with strace), and never
/// hang.
#[test]
fn diff_names_fifos_devices_and_links_without_opening_them() {
    use crate::fixtures::{docker, peers};
    const NODES: [&str; 6] = ["fifo", "mem", "odd", "blk", "notwh", "abs"];
    let script = "mkdir /x && cd /x && mkfifo fifo && mknod mem c 1 1 \
        && mknod odd c 4095 1048575 && mknod blk b 7 0 && mknod notwh c 0 1 \
        && echo a > a && ln a hard && ln -s /etc/shadow abs && rm /etc/group";
    let env = Env::new("containment-diff-nodes");
    let archive = peers().join("docker-save.tar");
    env.cmd("load").arg(&archive).ok();
    // loaded first: the engine must never look for it in a registry
    docker().ok(&["load", "-i", archive.to_str().unwrap()]);
    let name = format!("cairn-diff-nodes-{}", std::process::id());
    env.cmd("run")
        .args(["--name", &name, "busybox:latest", "sh", "-c", script])
        .ok();
    let trace = env.path("diff.strace");
    let traced = Cmd::new(Command::new("strace"), "strace cairn-diff")
        .args(["-f", "-qq", "-e", "trace=open,openat,openat2", "-o"])
        .arg(&trace)
        .arg(bin("diff"))
        .arg(&name)
        .env("CAIRN_ROOT", &env.root);
    let o = within(traced, 60);
    assert_eq!(o.code, Some(0), "{o}");
    let ours: std::collections::BTreeSet<&str> = o.stdout.lines().collect();
    let text = std::fs::read_to_string(&trace).unwrap();
    for l in text.lines() {
        let opens_node = NODES.iter().any(|n| l.contains(&format!("\"{n}\"")));
        assert!(
            !opens_node || l.contains("O_PATH"),
            "diff opened a node of the container's for more than a handle: {l}"
        );
    }
    docker().ok(&[
        "run",
        "--name",
        &name,
        "--network",
        "none",
        "busybox:latest",
    ]
    .iter()
    .copied()
    .chain(["sh", "-c", script])
    .collect::<Vec<_>>());
    let theirs = docker().ok(&["diff", &name]);
    docker().ok(&["rm", &name]);
    let theirs: std::collections::BTreeSet<&str> = theirs.lines().collect();
    assert_eq!(ours, theirs, "cairn diff against docker diff");
}

/// No byte of `text` a terminal would act on: control characters other
/// than the newline, and DEL.
fn assert_printable(text: &str, what: &str) {
    let bad = text.chars().find(|c| c.is_control() && *c != '\n');
    assert!(
        bad.is_none(),
        "{what} printed a control character {bad:?}:\n{text}"
    );
}

/// `top` and `stats` of a container whose processes name themselves and
/// their arguments with newlines, terminal escapes and lines shaped like
/// `ps -ef` lines of the host's init (pid 1) and of a pid 4242, 64 KiB
/// long, while it forks children that exit at once. Every attempt
/// succeeds or fails in one line; what is printed holds no control
/// character, and only lines of the container's processes: never one for
/// pid 1 or 4242 (the host's pid 1 is not in the container, and a pid
/// 4242 there would be a coincidence the test rules out). Then it is
/// killed while they read.
#[test]
fn top_and_stats_show_a_lying_container_as_it_is() {
    let env = Env::new("containment-top-liar");
    image_with(&env, "liar", &["liar"]);
    let id = env.cmd("run").args(["-d", "liar", "liar", "60"]).ok().id();
    let _rm = Remove(&env, id.clone());
    let log = env.root.join("containers").join(&id).join("log");
    wait_for("the liar", Duration::from_secs(10), || {
        log_text(&log).contains("ready")
    });
    let mut t = Tally::default();
    let start = Instant::now();
    while t.tries < TRIES && start.elapsed() < ATTACK {
        for ps in [&["-ef"][..], &["-o", "pid,comm,args"][..]] {
            let o = env.cmd("top").arg(&id).args(ps).run();
            t.add(o.code, &o.stderr);
            if o.code != Some(0) {
                continue;
            }
            assert_printable(&o.stdout, "top");
            let mut lines = o.stdout.lines();
            let header = lines.next().unwrap_or_default();
            let col = header.split_whitespace().position(|h| h == "PID");
            let col = col.unwrap_or_else(|| panic!("no PID column:\n{o}"));
            let pids: Vec<&str> = lines
                .map(|l| l.split_whitespace().nth(col).unwrap_or_default())
                .collect();
            assert!(
                !pids.is_empty(),
                "top listed none of the liar's processes:\n{o}"
            );
            assert!(
                !pids.iter().any(|p| *p == "1" || *p == "4242"),
                "top listed a forged line: {pids:?}\n{o}"
            );
        }
        let o = env.cmd("stats").args(["--no-stream", &id]).run();
        t.add(o.code, &o.stderr);
        if o.code == Some(0) {
            // not a terminal: one JSON line per container
            assert_printable(&o.stdout, "stats");
            assert_eq!(o.stdout.lines().count(), 1, "stats: the liar alone:\n{o}");
            let v: serde_json::Value = serde_json::from_str(o.stdout.trim()).unwrap();
            assert_eq!(v["container"], id.as_str(), "{o}");
            assert!(v["pids"].as_u64().unwrap_or(0) >= 1, "{o}");
        }
    }
    eprintln!("top and stats of the liar: {t:?}");
    t.some_ok();
    // and as it exits, killed while they read: each still succeeds or
    // fails in one line
    let kill = Cmd::new(Command::new(bin("kill")), "kill")
        .arg(&id)
        .env("CAIRN_ROOT", &env.root);
    let killer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        kill.run()
    });
    let mut t = Tally::default();
    while !killer.is_finished() || t.tries < 6 {
        let o = env.cmd("top").arg(&id).run();
        t.add(o.code, &o.stderr);
        assert_printable(&o.stdout, "top");
        let o = env.cmd("stats").args(["--no-stream", &id]).run();
        t.add(o.code, &o.stderr);
        assert_printable(&o.stdout, "stats");
    }
    assert_eq!(killer.join().unwrap().code, Some(0));
    eprintln!("top and stats of the liar as it exits: {t:?}");
}

/// The framed log's first bytes and a record head claiming stream 2
/// (stderr) for 5 bytes, with a time of printable bytes.
const FORGED: &str = "\0cairn-log 1\n\x02\0\0\0\0\0\0\x05AAAAAAAAevil\n";

/// A container writes the log's own framing (its magic line, then a
/// record head saying stderr) on its stdout, then looks for its log from
/// inside: through /proc/self/fd and /proc/1/fd (truncating what it finds,
/// and a symlink to it in its layer named `log`). `logs` must give back
/// the forged bytes as stdout, as they were written, and nothing on
/// stderr but what went there; the log in the store stays a framed log.
#[test]
fn logs_hold_what_the_container_wrote_never_a_record_it_forged() {
    let env = Env::new("containment-logs-forge");
    image_with(&env, "liar", &[]);
    let forge = FORGED.replace('\0', "\\0").replace('\x02', "\\2");
    let forge = forge.replace('\x05', "\\5").replace('\n', "\\n");
    let script = format!(
        "printf '{forge}'; \
         for f in /proc/self/fd/1 /proc/self/fd/2 /proc/1/fd/1 /proc/1/fd/2; do \
         : > $f; echo reached $f >&2; done; \
         ln -s /proc/1/fd/1 /log; echo end >> /log; echo last"
    );
    let id = env
        .cmd("run")
        .args(["-d", "liar", "sh", "-c", &script])
        .ok()
        .id();
    let _rm = Remove(&env, id.clone());
    wait_for("the forger to end", Duration::from_secs(20), || {
        !env.cmd("ps").args(["-q"]).ok().stdout.contains(&id[..12])
    });
    let o = env.cmd("logs").arg(&id).ok();
    assert_eq!(o.stdout, format!("{FORGED}end\nlast\n"), "{o}");
    let reached: Vec<&str> = o.stderr.lines().collect();
    assert_eq!(reached.len(), 4, "{o}");
    assert!(reached.iter().all(|l| l.starts_with("reached ")), "{o}");
    // the forged bytes sit inside the records of a framed log
    let log = env.root.join("containers").join(&id).join("log");
    assert!(std::fs::read(&log).unwrap().starts_with(b"\0cairn-log 1\n"));
    assert!(log_text(&log).contains(FORGED), "{:?}", log_text(&log));
}

/// The attach socket of a detached container is the store owner's: made by
/// a caller whose umask lets anyone write (0), it is still connectable by
/// its owner alone (a socket is connected to by whoever may write it).
#[test]
fn the_attach_socket_is_the_store_owners_alone() {
    let env = Env::new("containment-attach-sock");
    image_with(&env, "liar", &[]);
    let run = format!(
        "umask 0; exec {} run -d liar sleep 30",
        bin("cairn").display()
    );
    let o = Cmd::new(Command::new("sh"), "umask 0; cairn run -d")
        .args(["-c", &run])
        .env("CAIRN_ROOT", &env.root)
        .ok();
    let id = o.id();
    let _rm = Remove(&env, id.clone());
    let sock = env.root.join("containers").join(&id).join("attach.sock");
    wait_for("the attach socket", Duration::from_secs(10), || {
        sock.exists()
    });
    let m = std::fs::metadata(&sock).unwrap();
    assert!(m.file_type().is_socket());
    let store = std::fs::metadata(&env.root).unwrap();
    assert_eq!((m.uid(), m.gid()), (store.uid(), store.gid()), "owner");
    assert_eq!(
        m.permissions().mode() & 0o077,
        0,
        "attach.sock is {:o}",
        m.permissions().mode()
    );
}

/// A container nests directories deeper than any path could name
/// (`c/deep.c`: mkdir and chdir by the name `d`, level after level). The
/// walks of its layer and view (`diff`, `commit`, `export`, `cp` out)
/// recursed once a level and aborted on a stack overflow at about 2000
/// levels. Now a tree as deep as a path can reach (2040 levels) is walked,
/// and a deeper one refused in one line naming the limit.
#[test]
fn walks_of_a_tree_nested_without_end_end_in_one_line() {
    // what an earlier run left is too deep for the test's own
    // remove_dir_all (it recurses on a test thread's stack): rm -rf first
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("t/containment-deep");
    Command::new("rm").arg("-rf").arg(&dir).status().unwrap();
    let env = Env::new("containment-deep");
    image_with(&env, "deep", &["deep"]);
    for (levels, fine) in [(2040, true), (2300, false)] {
        let name = format!("deep-{levels}");
        let made = env
            .cmd("run")
            .args(["--name", &name, "deep", "deep", "/n", &levels.to_string()])
            .ok();
        assert_eq!(made.stdout.trim(), format!("made {levels}"), "{made}");
        let from = format!("{name}:/n");
        let walks = [
            env.cmd("diff").arg(&name),
            env.cmd("commit").arg(&name),
            env.cmd("export")
                .arg(&name)
                .arg("-o")
                .arg(env.path("x.tar")),
            env.cmd("cp").arg(&from).arg(env.path(&name)),
        ];
        for walk in walks {
            // (run, not within: diff prints 8 MB of names, more than a
            // pipe holds until the end)
            let o = walk.run();
            match fine {
                true => assert_eq!(o.code, Some(0), "{o}"),
                false => {
                    assert_eq!(o.code, Some(1), "{o}");
                    let line = o.stderr.trim();
                    assert!(
                        line.contains("more than 2048 directories deep") && !line.contains('\n'),
                        "{o}"
                    );
                }
            }
        }
        if fine {
            let o = env.cmd("diff").arg(&name).ok();
            // /n and its 2040 levels
            assert_eq!(o.stdout.lines().count(), levels + 1, "diff lists them all");
        }
        env.cmd("rm").arg(&name).ok();
        Command::new("rm")
            .arg("-rf")
            .arg(env.path(&name))
            .status()
            .unwrap();
    }
}
