//! Rootless: cairn as an ordinary user. Each test creates its own user
//! with a subordinate id range (and removes both after), then runs the
//! binaries as that user with `runuser`, the store in the user's home.

use crate::harness::{busybox_tar, s, Cmd, Output, Record, TarBuilder};
use std::io::Read;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// An ordinary user made for one test: name, home, uid, and a `bin/` in
/// the home holding the cairn binaries (hard links: the build directory
/// may not be readable by others).
struct User {
    name: String,
    home: PathBuf,
    uid: u32,
}

fn sh(cmd: &mut Command) -> std::process::Output {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

impl User {
    /// A user with a subordinate range of its own, far from anyone's.
    fn new(tag: &str) -> User {
        let u = User::add(tag, &[]);
        let start = 1_000_000 + (std::process::id() % 1000) * 65_536 * 2;
        let range = format!("{start}-{}", start + 65_535);
        let _subids = crate::fixtures::etc_subids();
        sh(Command::new("usermod").args([
            "--add-subuids",
            &range,
            "--add-subgids",
            &range,
            &u.name,
        ]));
        u
    }

    /// A user with no subordinate range (useradd gives one by default).
    fn without_range(tag: &str) -> User {
        User::add(tag, &["-K", "SUB_UID_COUNT=0", "-K", "SUB_GID_COUNT=0"])
    }

    /// `useradd -m` with `extra`, and the cairn binaries linked into its
    /// `bin/`.
    fn add(tag: &str, extra: &[&str]) -> User {
        let name = format!("cairn-{tag}-{}", std::process::id() % 100_000);
        let subids = crate::fixtures::etc_subids();
        let _ = Command::new("userdel").args(["-r", &name]).output();
        sh(Command::new("useradd")
            .args(["-m", "-s", "/bin/sh"])
            .args(extra)
            .arg(&name));
        drop(subids);
        let home = PathBuf::from(format!("/home/{name}"));
        let uid = std::fs::metadata(&home).unwrap().uid();
        let bin = home.join("bin");
        std::fs::create_dir(&bin).unwrap();
        let built = crate::harness::bin("cairn");
        for e in std::fs::read_dir(built.parent().unwrap()).unwrap() {
            let e = e.unwrap();
            let n = e.file_name().to_string_lossy().into_owned();
            let exe = e.metadata().unwrap().permissions().mode() & 0o111 != 0;
            if (n == "cairn" || n.starts_with("cairn-")) && !n.contains('.') && exe {
                let to = bin.join(&n);
                if std::fs::hard_link(e.path(), &to).is_err() {
                    std::fs::copy(e.path(), &to).unwrap();
                }
            }
        }
        User { name, home, uid }
    }

    /// Run `cairn ARGS` as the user in its home, with only HOME and PATH;
    /// a command that hangs is killed after two minutes (exit 124).
    fn cairn(&self, args: &[&str], stdin: Option<Vec<u8>>) -> Output {
        let path = format!("{}/bin:/usr/bin:/bin", self.home.display());
        let mut c = Command::new("runuser");
        c.args(["-u", &self.name, "--", "env", "-i"])
            .arg(format!("HOME={}", self.home.display()))
            .arg(format!("PATH={path}"))
            .args(["timeout", "-k", "5", "120"])
            .current_dir(&self.home);
        let label = format!("(as {}) cairn", self.name);
        let cmd = Cmd::new(c, label).arg("cairn").args(args);
        match stdin {
            Some(data) => cmd.stdin(data).run(),
            None => cmd.run(),
        }
    }

    fn ok(&self, args: &[&str], stdin: Option<Vec<u8>>) -> Output {
        let o = self.cairn(args, stdin);
        assert_eq!(o.code, Some(0), "expected success:\n{o}");
        o
    }
}

impl Drop for User {
    fn drop(&mut self) {
        // Its namespace holder and anything left running go first; the
        // mounts in its namespace go with them.
        let _ = Command::new("pkill")
            .args(["-KILL", "-u", &self.name])
            .output();
        std::thread::sleep(std::time::Duration::from_millis(200));
        let _subids = crate::fixtures::etc_subids();
        let _ = Command::new("userdel").args(["-r", &self.name]).output();
    }
}

/// The entries of the last layer of a docker archive: name, uid, gid, mode.
fn last_layer(archive: &[u8]) -> Vec<(String, u64, u64, u32)> {
    let mut files = std::collections::HashMap::new();
    let mut a = tar::Archive::new(archive);
    for e in a.entries().unwrap() {
        let mut e = e.unwrap();
        let name = e.path().unwrap().to_string_lossy().into_owned();
        let mut data = Vec::new();
        e.read_to_end(&mut data).unwrap();
        files.insert(name, data);
    }
    let manifest: serde_json::Value = serde_json::from_slice(&files["manifest.json"]).unwrap();
    let layers = manifest[0]["Layers"].as_array().unwrap();
    let last = layers.last().unwrap().as_str().unwrap();
    let mut out = Vec::new();
    for e in tar::Archive::new(&files[last][..]).entries().unwrap() {
        let e = e.unwrap();
        let h = e.header();
        out.push((
            e.path().unwrap().to_string_lossy().into_owned(),
            h.uid().unwrap(),
            h.gid().unwrap(),
            h.mode().unwrap(),
        ));
    }
    out
}

/// `save IMAGE` as the user: the entries of its top layer.
fn saved_top(u: &User, image: &str) -> Vec<(String, u64, u64, u32)> {
    let file = format!("{}.tar", image.replace(':', "-"));
    u.ok(&["save", image, "-o", &file], None);
    last_layer(&std::fs::read(u.home.join(file)).unwrap())
}

/// Files the user owns in places a rootless cairn must not write.
fn written_outside(u: &User) -> Vec<String> {
    let out = Command::new("find")
        .args([
            "/var/tmp", "/dev/shm", "/run", "/var/lib", "/etc", "-xdev", "-user",
        ])
        .arg(u.uid.to_string())
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

fn layer_of(o: &Output) -> String {
    let r: Record = o.record();
    s(&r, "layer").to_string()
}

#[test]
fn the_tour_as_an_ordinary_user_keeps_every_owner() {
    let u = User::new("tour");
    let base = layer_of(&u.ok(&["layer-unpack"], Some(busybox_tar())));
    u.ok(&["tag", &base, "busybox"], None);
    let owners = TarBuilder::new()
        .dir("home", 0o755)
        .dir("etc", 0o755)
        .dir_owned("home/u", 0o750, 1000, 1000)
        .file_owned("home/u/notes", 0o600, 1000, 1000, 1, b"mine\n")
        .file_owned("etc/rootfile", 0o644, 0, 0, 1, b"root's\n")
        .file_owned("suid", 0o4755, 0, 0, 1, b"#!/bin/sh\n")
        .device("etc/null", tar::EntryType::Char, 1, 3)
        .build();
    let top = layer_of(&u.ok(&["layer-unpack", "--parent", &base], Some(owners)));
    u.ok(&["tag", &top, "tour"], None);

    let o = u.ok(&["run", "--rm", "tour", "id", "-u"], None);
    assert_eq!(o.stdout.trim(), "0", "container root is root inside\n{o}");
    let o = u.ok(
        &[
            "run",
            "--rm",
            "tour",
            "stat",
            "-c",
            "%u:%g %a %n",
            "/home/u/notes",
            "/etc/rootfile",
            "/suid",
        ],
        None,
    );
    assert_eq!(
        o.stdout.lines().collect::<Vec<_>>(),
        [
            "1000:1000 600 /home/u/notes",
            "0:0 644 /etc/rootfile",
            "0:0 4755 /suid"
        ],
        "owners as the tar named them, seen inside\n{o}"
    );
    // A process of uid 1000 inside reads its own file and not root's.
    let o = u.ok(
        &[
            "run",
            "--rm",
            "-u",
            "1000",
            "tour",
            "sh",
            "-c",
            "cat /home/u/notes; echo x > /etc/rootfile || echo denied",
        ],
        None,
    );
    assert_eq!(o.stdout, "mine\ndenied\n", "{o}");

    u.ok(
        &[
            "run",
            "--name",
            "c1",
            "tour",
            "sh",
            "-c",
            "rm /etc/rootfile; echo n > /home/u/new; chown 1000:1000 /home/u/new; \
             rm -r /home/u/notes",
        ],
        None,
    );
    let img = layer_of(&u.ok(&["commit", "c1", "tour:2"], None));
    assert!(!img.is_empty());
    // The device node could not be made, but the layer still holds it.
    let entries = saved_top(&u, "tour");
    let null = entries.iter().find(|e| e.0 == "etc/null");
    assert!(null.is_some(), "{entries:?}");
    u.ok(&["fsck"], None);
    let entries = saved_top(&u, "tour:2");
    let find = |n: &str| {
        entries
            .iter()
            .find(|e| e.0.trim_end_matches('/') == n)
            .unwrap_or_else(|| panic!("{n} not in the committed layer: {entries:?}"))
    };
    assert_eq!(find("home/u/new").1, 1000, "{entries:?}");
    assert_eq!(find("home/u/new").2, 1000, "{entries:?}");
    assert_eq!(find("home/u").1, 1000, "{entries:?}");
    find("etc/.wh.rootfile");
    find("home/u/.wh.notes");
    assert_eq!(find("etc").1, 0, "{entries:?}");

    // Through a registry to another store of the user's, and run there.
    let env = crate::harness::Env::new("rootless-registry");
    let reg = crate::registry::Registry::start(&env, "reg", Default::default());
    let dest = format!("{}/tour:2", reg.host);
    u.ok(&["push", "tour:2", &dest], None);
    u.ok(&["--root", "other", "pull", &dest], None);
    let o = u.ok(
        &[
            "--root",
            "other",
            "run",
            "--rm",
            &dest,
            "stat",
            "-c",
            "%u",
            "/home/u/new",
        ],
        None,
    );
    assert_eq!(o.stdout.trim(), "1000", "{o}");
    // A union view one command mounts is there for the next, in the
    // store's namespace (unshare), and not in the host's.
    let view = u.ok(&["union-mount", "tour"], None).record();
    let rootfs = s(&view, "rootfs").to_string();
    let o = u.ok(
        &[
            "unshare",
            "sh",
            "-c",
            &format!("id -u; cat {rootfs}/home/u/notes"),
        ],
        None,
    );
    assert_eq!(o.stdout, "0\nmine\n", "{o}");
    assert!(
        !Path::new(&rootfs).join("home/u/notes").exists(),
        "not on the host"
    );
    let o = u.ok(&["images"], None);
    assert!(o.stdout.contains("tour"), "{o}");
    let o = u.ok(&["ps", "-a"], None);
    assert!(o.stdout.contains("c1"), "{o}");
    // The store is the user's, in its home.
    let store = u.home.join(".local/share/cairn");
    assert_eq!(std::fs::metadata(&store).unwrap().uid(), u.uid);
    assert_eq!(written_outside(&u), Vec::<String>::new());
}

/// The entries of a flat tar (export): name, uid, gid.
fn flat_entries(tar: &[u8]) -> Vec<(String, u64, u64)> {
    let mut a = tar::Archive::new(tar);
    a.entries()
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let h = e.header();
            let name = e.path().unwrap().to_string_lossy().into_owned();
            let name = name.trim_end_matches('/').to_string();
            (name, h.uid().unwrap(), h.gid().unwrap())
        })
        .collect()
}

#[test]
fn the_tour_goes_on_through_load_history_build_export_kill_and_rm() {
    let u = User::new("tour2");
    let base = layer_of(&u.ok(&["layer-unpack"], Some(busybox_tar())));
    u.ok(&["tag", &base, "busybox"], None);
    let owned = TarBuilder::new()
        .dir("home", 0o755)
        .dir_owned("home/u", 0o750, 1000, 1000)
        .file_owned("home/u/notes", 0o600, 1000, 1000, 1, b"mine\n")
        .build();
    let top = layer_of(&u.ok(&["layer-unpack", "--parent", &base], Some(owned)));
    u.ok(&["tag", &top, "owned"], None);

    // build: a RUN step (no network in a build) and a COPY with an owner.
    let ctx = u.home.join("ctx");
    std::fs::create_dir(&ctx).unwrap();
    std::fs::write(ctx.join("greeting"), "hello\n").unwrap();
    std::fs::write(
        ctx.join("Dockerfile"),
        "FROM owned\n\
         RUN echo built > /home/u/built && chown 1000:1000 /home/u/built \
         && ip -o link | wc -l > /links\n\
         COPY --chown=1000:1000 greeting /home/u/greeting\n\
         CMD [\"cat\", \"/home/u/greeting\"]\n",
    )
    .unwrap();
    let _ = Command::new("chown")
        .args(["-R", &u.name])
        .arg(&ctx)
        .output();
    u.ok(&["build", "-q", "-t", "built:1", "ctx"], None);
    let o = u.ok(&["run", "--rm", "built:1"], None);
    assert_eq!(o.stdout, "hello\n", "{o}");
    let o = u.ok(
        &[
            "run",
            "--rm",
            "built:1",
            "stat",
            "-c",
            "%u:%g %n",
            "/home/u/built",
            "/home/u/greeting",
        ],
        None,
    );
    assert_eq!(
        o.stdout, "1000:1000 /home/u/built\n1000:1000 /home/u/greeting\n",
        "{o}"
    );
    let o = u.ok(&["run", "--rm", "built:1", "cat", "/links"], None);
    assert_eq!(o.stdout.trim(), "1", "a RUN step sees only lo\n{o}");
    let o = u.ok(&["history", "built:1"], None);
    assert!(
        o.stdout.contains("COPY") && o.stdout.contains("wc -l > /links"),
        "{o}"
    );

    // save | load into another store of the user's: same owners there.
    u.ok(&["save", "built:1", "-o", "built.tar"], None);
    let entries = last_layer(&std::fs::read(u.home.join("built.tar")).unwrap());
    let greeting = entries.iter().find(|e| e.0 == "home/u/greeting");
    assert_eq!(
        greeting.map(|e| (e.1, e.2)),
        Some((1000, 1000)),
        "{entries:?}"
    );
    u.ok(&["--root", "loaded", "load", "built.tar"], None);
    let o = u.ok(
        &[
            "--root",
            "loaded",
            "run",
            "--rm",
            "built:1",
            "stat",
            "-c",
            "%u",
            "/home/u/notes",
        ],
        None,
    );
    assert_eq!(o.stdout.trim(), "1000", "{o}");
    let o = u.ok(&["--root", "loaded", "history", "built:1"], None);
    assert!(o.stdout.contains("COPY"), "{o}");

    // export: the flat view with the owners as seen inside.
    u.ok(
        &["run", "--name", "ex", "built:1", "rm", "/home/u/notes"],
        None,
    );
    u.ok(&["export", "ex", "-o", "ex.tar"], None);
    let flat = flat_entries(&std::fs::read(u.home.join("ex.tar")).unwrap());
    let find = |n: &str| flat.iter().find(|e| e.0 == n).map(|e| (e.1, e.2));
    assert_eq!(find("home/u/greeting"), Some((1000, 1000)), "{flat:?}");
    assert_eq!(find("home/u"), Some((1000, 1000)), "{flat:?}");
    assert_eq!(find("bin/busybox"), Some((0, 0)), "{flat:?}");
    assert_eq!(find("home/u/notes"), None, "removed in the container");

    // kill, then rm; rm -f of a running one.
    u.ok(
        &["run", "-d", "--name", "k", "busybox", "sleep", "60"],
        None,
    );
    u.ok(&["kill", "k"], None);
    let o = u.ok(&["ps", "-a", "--format", "json"], None);
    let k = o
        .records()
        .into_iter()
        .find(|r| r["name"] == "k")
        .unwrap_or_else(|| panic!("k not listed\n{o}"));
    assert_eq!(k["status"], "exited", "{o}");
    u.ok(&["rm", "k", "ex"], None);
    u.ok(
        &["run", "-d", "--name", "k2", "busybox", "sleep", "60"],
        None,
    );
    u.ok(&["rm", "-f", "k2"], None);
    let o = u.ok(&["ps", "-a", "-q"], None);
    assert_eq!(o.stdout.trim(), "", "{o}");
    u.ok(&["fsck"], None);
    assert_eq!(written_outside(&u), Vec::<String>::new());
}

#[test]
fn what_a_rootless_store_cannot_have_is_refused_in_one_line() {
    let u = User::new("limit");
    let base = layer_of(&u.ok(&["layer-unpack"], Some(busybox_tar())));
    u.ok(&["tag", &base, "busybox"], None);
    for flag in [
        ["--memory", "64m"],
        ["--cpus", "0.5"],
        ["--pids-limit", "10"],
    ] {
        let o = u.cairn(
            &["run", "--rm", flag[0], flag[1], "busybox", "touch", "/ran"],
            None,
        );
        assert_eq!(o.code, Some(125), "{o}");
        let err: Vec<&str> = o.stderr.lines().collect();
        assert_eq!(err.len(), 1, "one line\n{o}");
        assert!(
            err[0].contains("cgroup") && err[0].contains("rootless"),
            "{o}"
        );
    }
    let o = u.ok(&["ps", "-a", "-q"], None);
    assert_eq!(o.stdout.trim(), "", "no container was made\n{o}");
    // An owner the namespace does not map: refused, the store as it was.
    let before = crate::harness::snapshot(&u.home.join(".local/share/cairn"));
    let far = TarBuilder::new()
        .file_owned("far", 0o644, 70_000, 0, 1, b"x")
        .build();
    let o = u.cairn(&["layer-unpack"], Some(far));
    assert_ne!(o.code, Some(0), "{o}");
    assert!(
        o.stderr.contains("70000:0") && o.stderr.contains("subordinate"),
        "{o}"
    );
    let after = crate::harness::snapshot(&u.home.join(".local/share/cairn"));
    assert_eq!(before, after, "the store is as it was");
    // A bridge needs root: a clear error, while none (the default) works.
    let o = u.cairn(
        &["run", "--rm", "--network", "bridge", "busybox", "true"],
        None,
    );
    assert_ne!(o.code, Some(0), "{o}");
    assert!(o.stderr.contains("needs root"), "{o}");
    let o = u.ok(&["run", "--rm", "busybox", "ip", "-o", "link"], None);
    assert_eq!(o.stdout.lines().count(), 1, "only lo\n{o}");
    // pause needs the freezer.
    u.ok(
        &["run", "-d", "--name", "sleeper", "busybox", "sleep", "60"],
        None,
    );
    let o = u.cairn(&["pause", "sleeper"], None);
    assert_ne!(o.code, Some(0), "{o}");
    assert!(o.stderr.contains("rootless"), "{o}");
    // exec, stop (no cgroup: the signal goes to its init) and rm work.
    let o = u.ok(&["exec", "sleeper", "id", "-u"], None);
    assert_eq!(o.stdout.trim(), "0");
    // top: the processes of its pid namespace, without a cgroup
    let o = u.ok(&["top", "sleeper"], None);
    let lines: Vec<&str> = o.stdout.lines().collect();
    assert!(lines[0].contains("PID") && lines.len() == 2, "{o}");
    assert!(lines[1].ends_with("sleep 60"), "{o}");
    // stats: no cgroup, so only NET I/O is measured (none here: no network)
    let o = u.ok(
        &["stats", "--no-stream", "--format", "json", "sleeper"],
        None,
    );
    let r: serde_json::Value = serde_json::from_str(o.stdout.trim()).unwrap();
    assert_eq!(
        (r["pids"].as_u64(), r["memory"].as_u64()),
        (Some(0), Some(0)),
        "{o}"
    );
    u.ok(&["stop", "-t", "1", "sleeper"], None);
    let o = u.ok(&["ps", "-a", "--format", "json"], None);
    assert!(o.stdout.contains("\"exited\""), "{o}");
    u.ok(&["rm", "sleeper"], None);
    // The host's network: its links, and the host's /sys read-only.
    let o = u.ok(
        &[
            "run",
            "--rm",
            "--network",
            "host",
            "busybox",
            "sh",
            "-c",
            "touch /sys/x || echo ro",
        ],
        None,
    );
    assert_eq!(o.stdout.trim(), "ro", "{o}");
}

#[test]
fn without_a_subordinate_range_the_error_says_how_to_add_one() {
    let u = User::without_range("norange");
    let o = u.cairn(&["layer-unpack"], Some(busybox_tar()));
    assert_eq!(o.code, Some(1), "{o}");
    assert!(
        o.stderr.contains("subordinate") && o.stderr.contains("usermod --add-subuids"),
        "{o}"
    );
    assert_eq!(o.stderr.lines().count(), 1, "{o}");
    assert!(!Path::new(&u.home.join(".local/share/cairn/layers")).exists());
}

/// The pid of the user's namespace holder, from its store's pid file.
fn holder_pid(u: &User) -> i32 {
    let text = std::fs::read_to_string(u.home.join(".local/share/cairn/rootless.pid")).unwrap();
    text.split_whitespace().next().unwrap().parse().unwrap()
}

/// `kill -9` each of `pids`, and wait until they are gone (reaped or
/// zombies).
fn kill9(pids: &[i32]) {
    for p in pids {
        let _ = Command::new("kill").args(["-9", &p.to_string()]).output();
    }
    crate::harness::wait_for("the kill", std::time::Duration::from_secs(10), || {
        pids.iter().all(|p| {
            std::fs::read_to_string(format!("/proc/{p}/stat")).map_or(true, |s| s.contains(") Z "))
        })
    });
}

fn container_status(u: &User, name: &str) -> (String, bool) {
    let o = u.ok(&["ps", "-a", "--format", "json"], None);
    let r = o
        .records()
        .into_iter()
        .find(|r| r["name"] == name)
        .unwrap_or_else(|| panic!("{name} not listed\n{o}"));
    let status = r["status"].as_str().unwrap_or_default().to_string();
    (status, r["mounted"] == true)
}

#[test]
fn a_killed_namespace_holder_is_replaced_and_what_still_runs_is_kept() {
    let u = User::new("holder");
    let base = layer_of(&u.ok(&["layer-unpack"], Some(busybox_tar())));
    u.ok(&["tag", &base, "busybox"], None);
    // A mounted view, and a container that ran and left a change.
    let view = u
        .ok(&["union-mount", "--name", "m", "busybox"], None)
        .record();
    let rootfs = s(&view, "rootfs").to_string();
    u.ok(&["run", "--name", "done", "busybox", "touch", "/ran"], None);
    assert!(container_status(&u, "m").1, "mounted");
    let first = holder_pid(&u);

    // Killed while no container runs: the next command makes a new one.
    kill9(&[first]);
    let o = u.ok(&["ps", "-a", "--format", "json"], None);
    assert_eq!(o.records().len(), 2, "{o}");
    let second = holder_pid(&u);
    assert_ne!(first, second, "a fresh holder");
    // Its views went with it: m is not mounted, nothing shows at its
    // rootfs, and the next start mounts it again.
    assert_eq!(container_status(&u, "m"), ("created".into(), false));
    let look = format!("test -e {rootfs}/bin/busybox && echo there || echo gone");
    let o = u.ok(&["unshare", "sh", "-c", &look], None);
    assert_eq!(o.stdout, "gone\n", "{o}");
    let o = u.ok(&["isolate", "m", "--", "echo", "ran"], None);
    assert_eq!(o.stdout.lines().last(), Some("ran"), "{o}");
    // What ran in the old namespace is all there: commit it, run it.
    u.ok(&["commit", "done", "done:1"], None);
    u.ok(&["run", "--rm", "done:1", "test", "-e", "/ran"], None);
    u.ok(&["rm", "done", "m"], None);

    // A detached container, and everything of the user's killed (a logout
    // that ends every process, the OOM killer): the next command reports
    // it exited and takes it down.
    u.ok(
        &["run", "-d", "--name", "live", "busybox", "sleep", "600"],
        None,
    );
    assert_eq!(container_status(&u, "live").0, "running");
    let out = Command::new("pgrep")
        .args(["-u", &u.name])
        .output()
        .unwrap();
    let all: Vec<i32> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect();
    assert!(all.contains(&holder_pid(&u)), "{all:?}");
    kill9(&all);
    assert_eq!(container_status(&u, "live"), ("exited".into(), false));
    u.ok(&["rm", "live"], None);

    // Only the holder killed while a container runs: its supervisor is
    // still in the namespaces, so a new holder joins them and nothing is
    // lost: the view mounted before is there, exec and stop work.
    u.ok(
        &["run", "-d", "--name", "on", "busybox", "sleep", "600"],
        None,
    );
    let view = u.ok(&["union-mount", "busybox"], None).record();
    let look = format!("test -e {}/bin/busybox && echo there", s(&view, "rootfs"));
    let third = holder_pid(&u);
    kill9(&[third]);
    assert_eq!(container_status(&u, "on").0, "running");
    assert_ne!(holder_pid(&u), third, "a new holder");
    let o = u.ok(&["unshare", "sh", "-c", &look], None);
    assert_eq!(o.stdout, "there\n", "{o}");
    let o = u.ok(&["exec", "on", "id", "-u"], None);
    assert_eq!(o.stdout, "0\n", "{o}");
    u.ok(&["stop", "-t", "1", "on"], None);
    assert_eq!(container_status(&u, "on").0, "exited");
    u.ok(&["rm", "on"], None);
    let o = u.ok(&["run", "--rm", "busybox", "echo", "fine"], None);
    assert_eq!(o.stdout, "fine\n", "{o}");
    u.ok(&["fsck"], None);
    assert_eq!(written_outside(&u), Vec::<String>::new());
}

/// /dev/net/tun open to everyone, as Debian's udev leaves it (this kind of
/// machine has no udev: 0600), for one test; its mode restored after.
struct TunOpen(u32);

impl TunOpen {
    fn new() -> TunOpen {
        let tun = Path::new("/dev/net/tun");
        let mode = std::fs::metadata(tun).unwrap().permissions().mode() & 0o7777;
        std::fs::set_permissions(tun, std::fs::Permissions::from_mode(0o666)).unwrap();
        TunOpen(mode)
    }
}

impl Drop for TunOpen {
    fn drop(&mut self) {
        let p = std::fs::Permissions::from_mode(self.0);
        let _ = std::fs::set_permissions("/dev/net/tun", p);
    }
}

#[test]
fn slirp4netns_gives_a_rootless_container_a_network_but_not_the_hosts_loopback() {
    let u = User::new("slirp");
    let base = layer_of(&u.ok(&["layer-unpack"], Some(busybox_tar())));
    u.ok(&["tag", &base, "busybox"], None);
    // A page on the host's loopback only.
    let env = crate::harness::Env::new("rootless-slirp");
    std::fs::write(env.path("index.html"), "from the host\n").unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let httpd = Command::new("busybox")
        .args(["httpd", "-f", "-p", &format!("127.0.0.1:{port}"), "-h"])
        .arg(env.path(""))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _httpd = Killed(httpd);
    let _tun = TunOpen::new();
    let fetch = format!(
        "ip -o -4 addr show tap0 | grep -o 10.0.2.100/24; \
         timeout 5 wget -q -O- http://10.0.2.2:{port}/ || echo unreachable"
    );
    let o = u.ok(
        &[
            "run",
            "--rm",
            "--network",
            "slirp4netns",
            "busybox",
            "sh",
            "-c",
            &fetch,
        ],
        None,
    );
    assert_eq!(o.stdout, "10.0.2.100/24\nunreachable\n", "{o}");
    let o = u.ok(
        &[
            "run",
            "--rm",
            "--network",
            "slirp4netns:allow_host_loopback=true",
            "busybox",
            "sh",
            "-c",
            &fetch,
        ],
        None,
    );
    assert_eq!(o.stdout, "10.0.2.100/24\nfrom the host\n", "{o}");
    // A detached one, removed: its slirp4netns goes with it.
    u.ok(
        &[
            "run",
            "-d",
            "--name",
            "net",
            "--network",
            "slirp4netns",
            "busybox",
            "sleep",
            "60",
        ],
        None,
    );
    u.ok(&["rm", "-f", "net"], None);
    assert_eq!(slirps(&u), 0, "no slirp4netns left running");
}

/// How many slirp4netns processes of the user's are alive.
fn slirps(u: &User) -> usize {
    let out = Command::new("pgrep")
        .args(["-u", &u.name, "-x", "slirp4netns"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|p| {
            std::fs::read_to_string(format!("/proc/{p}/stat")).is_ok_and(|s| !s.contains(") Z "))
        })
        .count()
}

/// `GET /` from `127.0.0.1:port`, the body (None when nothing answers).
fn http_get(port: u16) -> Option<String> {
    use std::io::Write;
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let mut s =
        std::net::TcpStream::connect_timeout(&addr, std::time::Duration::from_secs(5)).ok()?;
    s.set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .ok()?;
    s.write_all(b"GET / HTTP/1.0\r\nHost: localhost\r\n\r\n")
        .ok()?;
    let mut answer = String::new();
    s.read_to_string(&mut answer).ok()?;
    Some(answer.split("\r\n\r\n").nth(1)?.to_string())
}

/// A port of the host's loopback no one listens on now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn a_port_published_through_slirp4netns_is_reached_from_the_hosts_loopback() {
    let u = User::new("ports");
    let base = layer_of(&u.ok(&["layer-unpack"], Some(busybox_tar())));
    u.ok(&["tag", &base, "busybox"], None);
    let _tun = TunOpen::new();
    let port = free_port();
    let serve = "mkdir /www && echo 'from the container' > /www/index.html && \
                 exec httpd -f -p 80 -h /www";
    u.ok(
        &[
            "run",
            "-d",
            "--name",
            "web",
            "--network",
            "slirp4netns",
            "-p",
            &format!("127.0.0.1:{port}:80"),
            "-p",
            "127.0.0.1::8080",
            "busybox",
            "sh",
            "-c",
            serve,
        ],
        None,
    );
    let mut body = None;
    crate::harness::wait_for("the page", std::time::Duration::from_secs(10), || {
        body = http_get(port);
        body.is_some()
    });
    assert_eq!(body.as_deref(), Some("from the container\n"));
    // stats: NET I/O from the container's own tap0, which carried the page
    let o = u.ok(
        &["stats", "--no-stream", "--format", "{{.NetIO}}", "web"],
        None,
    );
    let (rx, tx) = o
        .stdout
        .trim()
        .split_once(" / ")
        .unwrap_or_else(|| panic!("{o}"));
    assert!(rx != "0B" && tx != "0B" && tx.ends_with('B'), "{o}");
    let o = u.ok(&["port", "web", "--format", "table"], None);
    let lines: Vec<&str> = o.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{o}");
    assert!(
        lines.contains(&format!("80/tcp -> 127.0.0.1:{port}").as_str()),
        "{o}"
    );
    // `-p 127.0.0.1::8080`: on a free port of the loopback's.
    let free = lines
        .iter()
        .find_map(|l| l.strip_prefix("8080/tcp -> 127.0.0.1:"))
        .unwrap_or_else(|| panic!("{o}"));
    assert!(free.parse::<u16>().is_ok_and(|p| p > 0), "{o}");
    let o = u.ok(&["port", "web", "80", "--format", "table"], None);
    assert_eq!(o.stdout.trim(), format!("127.0.0.1:{port}"), "{o}");
    // A host port taken: one clear line, and the container does not run.
    let o = u.cairn(
        &[
            "run",
            "--rm",
            "--network",
            "slirp4netns",
            "-p",
            &format!("127.0.0.1:{port}:80"),
            "busybox",
            "true",
        ],
        None,
    );
    assert_eq!(o.code, Some(125), "{o}");
    assert!(o.stderr.contains("publishing 127.0.0.1:"), "{o}");
    assert_eq!(o.stderr.lines().count(), 1, "{o}");
    // Removed: the port is free again and `port` has nothing to show.
    u.ok(&["stop", "-t", "1", "web"], None);
    let o = u.ok(&["port", "web", "--format", "table"], None);
    assert_eq!(o.stdout, "", "{o}");
    assert_eq!(http_get(port), None, "nothing listens once it stopped");
    u.ok(&["rm", "web"], None);
    let o = u.ok(&["ps", "-a", "-q"], None);
    assert_eq!(o.stdout, "", "{o}");
    assert_eq!(slirps(&u), 0, "no slirp4netns left running");
    assert_eq!(written_outside(&u), Vec::<String>::new());
}

/// A child killed when the test ends, passed or not.
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
