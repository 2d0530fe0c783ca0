//! `logs`: a container's own output as docker's `docker logs` gives it,
//! stdout's lines on stdout and stderr's on stderr, from a log that keeps
//! per line its stream and time (lib/src/logfile.rs, docs/store.md).

use crate::fixtures::docker;
use crate::harness::{bin, wait_for, Env};
use std::process::{Command, Stdio};
use std::time::Duration;

/// Lines on both streams, spaced so that their order is certain.
const SCRIPT: &str = "for i in 1 2 3; do echo out$i; sleep 0.2; echo err$i >&2; sleep 0.2; done; \
                      printf 'no end'";

/// Digits as 0: the shape of a timestamped output.
fn shape(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii_digit() { '0' } else { c })
        .collect()
}

fn docker_logs(id: &str, args: &[&str]) -> (String, String) {
    let o = docker().run(&[&["logs"][..], args, &[id]].concat());
    assert!(o.status.success(), "{o:?}");
    let s = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (s(&o.stdout), s(&o.stderr))
}

/// `run -d --network none TAG sh -c SCRIPT` in cairn and in docker, each
/// waited for: the two containers' IDs.
fn ran_in_both(env: &Env, tag: &str, script: &str) -> (String, String) {
    let run = ["run", "-d", "--network", "none", tag, "sh", "-c", script];
    let ours = env.cmd("run").args(&run[1..]).ok().id();
    let theirs = docker().ok(&run).trim().to_string();
    env.cmd("wait").arg(&ours).ok();
    docker().ok(&["wait", &theirs]);
    (ours, theirs)
}

/// The same busybox command in cairn and in docker 20.10: `logs`,
/// `--tail` and `-t` split and shaped alike; `--since`/`--until` pick by
/// the times `-t` shows.
#[test]
fn logs_keep_the_streams_apart_as_docker() {
    let env = Env::new("logs-split");
    let tag = crate::interop::same_image(&env, "logs-split:1");
    let (ours, theirs) = ran_in_both(&env, &tag, SCRIPT);
    let logs = |args: &[&str]| {
        let o = env.cmd("logs").args(args).arg(&ours).ok();
        (o.stdout, o.stderr)
    };
    let all = logs(&[]);
    assert_eq!(all.0, "out1\nout2\nout3\nno end");
    assert_eq!(all.1, "err1\nerr2\nerr3\n");
    assert_eq!(all, docker_logs(&theirs, &[]));
    for n in ["0", "1", "3", "100"] {
        assert_eq!(
            logs(&["--tail", n]),
            docker_logs(&theirs, &["--tail", n]),
            "--tail {n}"
        );
    }
    let (t_out, t_err) = logs(&["-t"]);
    let (d_out, d_err) = docker_logs(&theirs, &["-t"]);
    assert_eq!(
        (shape(&t_out), shape(&t_err)),
        (shape(&d_out), shape(&d_err))
    );
    assert!(
        t_out.starts_with("20") && t_out.contains("Z out1\n"),
        "{t_out}"
    );
    // --since the time of err2: err2 and what came after it; --until it:
    // err2 and what came before (docker's bounds both take their own time)
    let err2 = t_err.lines().nth(1).unwrap().split(' ').next().unwrap();
    let since = logs(&["--since", err2]);
    assert_eq!(since, ("out3\nno end".into(), "err2\nerr3\n".into()));
    let until = logs(&["--until", err2]);
    assert_eq!(until, ("out1\nout2\n".into(), "err1\nerr2\n".into()));
    assert_eq!(logs(&["--since", "1h"]), all);
    assert_eq!(logs(&["--until", "1h"]), (String::new(), String::new()));
    let o = env
        .cmd("logs")
        .args(["--since", "yesterday", &ours])
        .fails(2);
    assert!(o.stderr.contains("--since yesterday"), "{o}");
    docker().ok(&["rm", &theirs]);
    env.cmd("rm").arg(&ours).ok();
}

/// `logs -f` goes on across rotations: what it prints is all that was
/// written, while the log keeps only its newest files.
#[test]
fn follow_goes_on_across_rotations() {
    let env = Env::new("logs-follow");
    crate::harness::busybox_image(&env);
    let script = "for i in $(seq 1 24); do echo line$i; echo oops$i >&2; sleep 0.1; done";
    let id = env
        .cmd("run")
        .args(["-d", "--log-opt", "max-size=300", "--log-opt", "max-file=2"])
        .args(["busybox", "sh", "-c", script])
        .ok()
        .id();
    let follow = Command::new(bin("logs"))
        .env("CAIRN_ROOT", &env.root)
        .args(["-f", &id])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    env.cmd("wait").arg(&id).ok();
    let f = follow.wait_with_output().unwrap();
    assert!(f.status.success());
    let lines = |w: &str| (1..=24).map(|i| format!("{w}{i}\n")).collect::<String>();
    assert_eq!(String::from_utf8_lossy(&f.stdout), lines("line"));
    assert_eq!(String::from_utf8_lossy(&f.stderr), lines("oops"));
    let dir = env.root.join("containers").join(&id);
    assert!(dir.join("log.1").exists() && !dir.join("log.2").exists());
    for l in ["log", "log.1"] {
        assert!(std::fs::metadata(dir.join(l)).unwrap().len() <= 300, "{l}");
    }
    let kept = env.cmd("logs").arg(&id).ok();
    assert!(kept.stdout.len() < lines("line").len(), "{kept}");
    assert!(lines("line").ends_with(&kept.stdout), "{kept}");
    assert!(lines("oops").ends_with(&kept.stderr), "{kept}");
    env.cmd("rm").arg(&id).ok();
}

/// A log an older cairn wrote (the raw bytes of both streams) still
/// reads, as stdout with no times; the next run's output goes to a file of
/// its own after it, its streams apart.
#[test]
fn an_older_raw_log_still_reads() {
    let env = Env::new("logs-raw");
    crate::harness::busybox_image(&env);
    let id = env
        .cmd("run")
        .args(["-d", "busybox", "sh", "-c", "echo again; echo new >&2"])
        .ok()
        .id();
    env.cmd("wait").arg(&id).ok();
    // as a store from an older cairn has it
    let dir = env.root.join("containers").join(&id);
    std::fs::write(dir.join("log.1"), "old1\nold2\n").unwrap();
    std::fs::write(dir.join("log"), "old3\nno end").unwrap();
    let o = env.cmd("logs").arg(&id).ok();
    assert_eq!(
        (o.stdout.as_str(), o.stderr.as_str()),
        ("old1\nold2\nold3\nno end", "")
    );
    let o = env.cmd("logs").args(["-t", "--tail", "1", &id]).ok();
    assert_eq!(o.stdout, "0001-01-01T00:00:00.000000000Z no end");
    env.cmd("start").arg(&id).ok();
    env.cmd("wait").arg(&id).ok();
    wait_for("the log", Duration::from_secs(5), || {
        !env.cmd("logs").arg(&id).ok().stderr.is_empty()
    });
    let o = env.cmd("logs").arg(&id).ok();
    assert_eq!(o.stdout, "old1\nold2\nold3\nno endagain\n");
    assert_eq!(o.stderr, "new\n");
    assert_eq!(std::fs::read(dir.join("log.1")).unwrap(), b"old3\nno end");
    let o = env.cmd("logs").args(["--tail", "2", &id]).ok();
    assert_eq!((o.stdout.as_str(), o.stderr.as_str()), ("again\n", "new\n"));
    env.cmd("rm").arg(&id).ok();
}

/// `--since`/`--until` with a time that names no zone read it in the
/// local zone (`TZ`), a date alone as its local midnight, as docker
/// 20.10's client does: the same lines from both for the same local
/// times; under another `TZ` the same text is another time.
#[test]
fn times_without_a_zone_are_local_as_docker() {
    use time::{format_description::well_known::Rfc3339, OffsetDateTime, UtcOffset};
    let env = Env::new("logs-local");
    let tag = crate::interop::same_image(&env, "logs-local:1");
    let (ours, theirs) = ran_in_both(&env, &tag, "echo a; sleep 2.5; echo b");
    const TZ: &str = "Asia/Kolkata"; // +05:30 all year
    let kolkata = UtcOffset::from_hms(5, 30, 0).unwrap();
    // each engine's `logs ARGS` under TZ
    let logs = |docker_too: bool, tz: &str, args: &[&str]| -> String {
        if docker_too {
            let o = docker().run_env(&[&["logs"][..], args, &[&theirs]].concat(), &[("TZ", tz)]);
            assert!(o.status.success(), "{o:?}");
            return String::from_utf8_lossy(&o.stdout).into_owned();
        }
        env.cmd("logs")
            .env("TZ", tz)
            .args(args)
            .arg(&ours)
            .ok()
            .stdout
    };
    for engine in [false, true] {
        // the whole second before b, after a: as local time in Kolkata
        let stamped = logs(engine, TZ, &["-t"]);
        let b = stamped.lines().nth(1).unwrap().split(' ').next().unwrap();
        let b = OffsetDateTime::parse(b, &Rfc3339)
            .unwrap()
            .to_offset(kolkata);
        let t = b.replace_nanosecond(0).unwrap();
        let local = format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            t.year(),
            t.month() as u8,
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        );
        let which = if engine { "docker" } else { "cairn" };
        assert_eq!(
            logs(engine, TZ, &["--since", &local]),
            "b\n",
            "{which} {local}"
        );
        assert_eq!(
            logs(engine, TZ, &["--until", &local]),
            "a\n",
            "{which} {local}"
        );
        // the same text in UTC is 5h30 later: after both lines
        assert_eq!(
            logs(engine, "UTC", &["--until", &local]),
            "a\nb\n",
            "{which}"
        );
        // a date alone: its midnight; tomorrow's is after both lines
        let tomorrow = t.date().next_day().unwrap();
        let day = format!("{tomorrow}");
        assert_eq!(logs(engine, TZ, &["--since", &day]), "", "{which} {day}");
        assert_eq!(
            logs(engine, TZ, &["--until", &day]),
            "a\nb\n",
            "{which} {day}"
        );
    }
    let o = env
        .cmd("logs")
        .args(["--since", "2026-13-02", &ours])
        .fails(2);
    assert!(o.stderr.contains("--since 2026-13-02: not a time"), "{o}");
    assert_eq!(o.stderr.lines().count(), 1, "{o}");
    let o = docker().run(&["logs", "--since", "2026-13-02", &theirs]);
    assert!(!o.status.success(), "{o:?}");
    docker().ok(&["rm", &theirs]);
    env.cmd("rm").arg(&ours).ok();
}

/// `logs -f --until T` stops following once T has come and exits 0,
/// having printed what was written before T. docker 20.10 stops at the
/// first line written after T: the same lines from a container that
/// keeps writing. (A container that writes nothing more keeps docker
/// waiting until it stops; cairn stops at T.)
#[test]
fn follow_stops_at_until() {
    use time::{format_description::well_known::Rfc3339, Duration as Span, OffsetDateTime};
    let env = Env::new("logs-until");
    let tag = crate::interop::same_image(&env, "logs-until:1");
    let chatty = "i=0; while :; do i=$((i+1)); echo l$i; sleep 0.3; done";
    let run = |script: &str| {
        let id = env
            .cmd("run")
            .args(["-d", "--network", "none", &tag, "sh", "-c", script]);
        id.ok().id()
    };
    let (ours, quiet) = (run(chatty), run("echo once; sleep 120"));
    let theirs = docker().ok(&["run", "-d", "--network", "none", &tag, "sh", "-c", chatty]);
    let theirs = theirs.trim().to_string();
    let until = |s: i64| OffsetDateTime::now_utc() + Span::seconds(s);
    let text = |t: OffsetDateTime| t.format(&Rfc3339).unwrap();
    // cairn's logs -f -t --until T: it must end by itself
    let follow = |id: &str, t: &str| {
        let mut child = Command::new(bin("logs"))
            .env("CAIRN_ROOT", &env.root)
            .args(["-f", "-t", "--until", t, id])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        wait_for("logs -f --until to end", Duration::from_secs(60), || {
            child.try_wait().unwrap().is_some()
        });
        let o = child.wait_with_output().unwrap();
        assert!(o.status.success(), "{o:?}");
        String::from_utf8(o.stdout).unwrap()
    };
    // every line before T, and one of them written while following
    let check = |who: &str, out: &str, start: OffsetDateTime, t: OffsetDateTime| {
        let stamps: Vec<OffsetDateTime> = out
            .lines()
            .map(|l| OffsetDateTime::parse(l.split(' ').next().unwrap(), &Rfc3339).unwrap())
            .collect();
        assert!(
            stamps.iter().all(|s| *s < t),
            "{who}: a line after {t}: {out}"
        );
        assert!(
            stamps.iter().any(|s| *s > start),
            "{who} did not follow: {out}"
        );
    };
    let start = OffsetDateTime::now_utc();
    let t = until(3);
    check("cairn", &follow(&ours, &text(t)), start, t);
    let start = OffsetDateTime::now_utc();
    let t = until(3);
    check(
        "docker",
        &docker().ok(&["logs", "-f", "-t", "--until", &text(t), &theirs]),
        start,
        t,
    );
    // a container that writes nothing more: cairn stops at T all the same
    let out = follow(&quiet, &text(until(2)));
    assert!(
        out.ends_with(" once\n") && out.lines().count() == 1,
        "{out}"
    );
    assert!(
        env.cmd("inspect")
            .args(["-f", "{{.State.Running}}", &quiet])
            .ok()
            .stdout
            == "true\n"
    );
    docker().ok(&["rm", "-f", &theirs]);
    env.cmd("rm").args(["-f", &ours, &quiet]).ok();
}

/// A container started with `start -a` keeps its output in the log too,
/// as docker's: `logs` after it gives what it printed, the streams apart,
/// and a second `start -a` adds its run. A plain foreground `run` writes
/// to its caller itself (docs/store.md, "The container log"): nothing.
#[test]
fn start_attached_is_logged_as_docker() {
    let env = Env::new("logs-fg");
    let tag = crate::interop::same_image(&env, "logs-fg:1");
    let script = "echo out1; sleep 0.2; echo err1 >&2; exit 3";
    let create = [
        "create",
        "--network",
        "none",
        tag.as_str(),
        "sh",
        "-c",
        script,
    ];
    env.cmd("create")
        .args(["--name", "fg"])
        .args(&create[1..])
        .ok();
    docker().run(&["rm", "-f", "logs-fg"]);
    docker().ok(&[&create[..1], &["--name", "logs-fg"], &create[1..]].concat());
    for runs in 1..=2 {
        let o = env.cmd("start").args(["-a", "fg"]).fails(3);
        assert_eq!((o.stdout.as_str(), o.stderr.as_str()), ("out1\n", "err1\n"));
        let d = docker().run(&["start", "-a", "logs-fg"]);
        assert_eq!(d.status.code(), Some(3), "{d:?}");
        let ours = env.cmd("logs").arg("fg").run();
        let mine = (ours.stdout.clone(), ours.stderr.clone());
        assert_eq!(mine, docker_logs("logs-fg", &[]));
        assert_eq!(mine, ("out1\n".repeat(runs), "err1\n".repeat(runs)));
    }
    docker().ok(&["rm", "logs-fg"]);
    env.cmd("rm").arg("fg").ok();
    let o = env
        .cmd("run")
        .args(["--name", "plain", &tag, "echo", "hi"])
        .ok();
    assert_eq!(o.stdout, "hi\n");
    assert_eq!(env.cmd("logs").arg("plain").ok().stdout, "");
}
