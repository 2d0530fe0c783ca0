//! Volumes, bind mounts, tmpfs, a read-only root and the /etc files cairn
//! owns, on real overlayfs and mount namespaces, as root.

use crate::harness::{busybox_image, leftovers, ps_all, s, Env, TarBuilder};

/// busybox with `/data/seed` (a file the image has at a volume's mount
/// point) and whatever `extra` adds; tagged `TAG`.
fn image_with(env: &Env, tag: &str, extra: impl FnOnce(TarBuilder) -> TarBuilder) {
    let base = busybox_image(env);
    let t = extra(TarBuilder::new().dir("data", 0o750).file(
        "data/seed",
        0o640,
        b"from the image\n",
    ))
    .build();
    let r = env
        .cmd("layer-unpack")
        .args(["--parent", &base])
        .stdin(t)
        .ok()
        .record();
    env.cmd("tag").args([s(&r, "layer"), tag]).ok();
}

fn run(env: &Env, args: &[&str]) -> String {
    env.cmd("run").args(args).ok().stdout
}

fn mounted_anywhere(env: &Env) -> Vec<String> {
    let root = env.root.display().to_string();
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .filter(|l| l.contains(&root) || l.contains(env.dir.to_str().unwrap()))
        .map(str::to_string)
        .collect()
}

#[test]
fn binds_read_write_and_read_only() {
    let env = Env::new("vol-bind");
    busybox_image(&env);
    let host = env.path("host");
    std::fs::create_dir_all(&host).unwrap();
    std::fs::write(host.join("f"), "from the host\n").unwrap();
    let rw = format!("{}:/h", host.display());
    let out = run(
        &env,
        &[
            "--rm",
            "-v",
            &rw,
            "busybox",
            "sh",
            "-c",
            "cat /h/f; echo back > /h/g",
        ],
    );
    assert_eq!(out, "from the host\n");
    assert_eq!(std::fs::read_to_string(host.join("g")).unwrap(), "back\n");
    // read-only: a write fails, the host's file is untouched
    let ro = format!("{}:/h:ro", host.display());
    let o = env
        .cmd("run")
        .args(["--rm", "-v", &ro, "busybox", "sh", "-c", "echo x > /h/f"])
        .fails(1);
    assert!(o.stderr.contains("Read-only file system"), "{}", o.stderr);
    assert_eq!(
        std::fs::read_to_string(host.join("f")).unwrap(),
        "from the host\n"
    );
    let m = format!("type=bind,source={},target=/m,readonly", host.display());
    let o = env
        .cmd("run")
        .args(["--rm", "--mount", &m, "busybox", "touch", "/m/x"])
        .fails(1);
    assert!(o.stderr.contains("Read-only"), "{}", o.stderr);
    // -v makes a missing host path; --mount refuses it, as docker
    let made = env.path("made/here");
    let v = format!("{}:/n", made.display());
    run(&env, &["--rm", "-v", &v, "busybox", "touch", "/n/x"]);
    assert!(made.join("x").is_file());
    let missing = format!("type=bind,src={},dst=/x", env.path("nothing").display());
    let o = env
        .cmd("run")
        .args(["--rm", "--mount", &missing, "busybox", "true"])
        .fails(125);
    assert!(
        o.stderr.contains("bind source path does not exist"),
        "{}",
        o.stderr
    );
    assert!(!env.path("nothing").exists());
    // a file bound on a file
    let file = format!("{}:/etc/motd:ro", host.join("f").display());
    assert_eq!(
        run(&env, &["--rm", "-v", &file, "busybox", "cat", "/etc/motd"]),
        "from the host\n"
    );
    assert!(ps_all(&env).is_empty());
    assert!(
        mounted_anywhere(&env).is_empty(),
        "{:?}",
        mounted_anywhere(&env)
    );
}

#[test]
fn a_named_volume_is_seeded_from_the_image_and_outlives_its_containers() {
    let env = Env::new("vol-named");
    image_with(&env, "seeded", |t| t);
    let out = run(
        &env,
        &[
            "-v",
            "store1:/data",
            "--name",
            "first",
            "seeded",
            "sh",
            "-c",
            "cat /data/seed; stat -c '%a' /data /data/seed; echo kept > /data/new",
        ],
    );
    assert_eq!(out, "from the image\n750\n640\n");
    let data = env.root.join("volumes/store1/_data");
    assert_eq!(std::fs::read_to_string(data.join("new")).unwrap(), "kept\n");
    // in use, even stopped: refused, naming the container
    let first = s(&ps_all(&env)[0], "container").to_string();
    let o = env.cmd("volume").args(["rm", "store1"]).fails(1);
    assert!(o.stderr.contains(&first[..12]), "{}", o.stderr);
    env.cmd("rm").args(["-v", "first"]).ok();
    // the data outlives it, and is not seeded again
    let out = run(
        &env,
        &[
            "--rm",
            "-v",
            "store1:/data",
            "busybox",
            "cat",
            "/data/new",
            "/data/seed",
        ],
    );
    assert_eq!(out, "kept\nfrom the image\n");
    // the same volume by --mount, read-only there
    let o = env
        .cmd("run")
        .args([
            "--rm",
            "--mount",
            "type=volume,source=store1,target=/v,readonly",
        ])
        .args(["busybox", "sh", "-c", "cat /v/new; touch /v/x"])
        .run();
    assert_eq!(o.stdout, "kept\n", "{o}");
    assert_ne!(o.code, Some(0), "{o}");
    assert!(!data.join("x").exists());
    let ls = env.records("volume", &["ls"]);
    assert_eq!(ls.len(), 1);
    assert_eq!(s(&ls[0], "volume"), "store1");
    assert_eq!(ls[0]["anonymous"], false);
    let i = env.cmd("volume").args(["inspect", "store1"]).ok().record();
    assert_eq!(s(&i, "mountpoint"), data.to_str().unwrap());
    assert_eq!(i["containers"], serde_json::json!([]));
    let rm = env.cmd("volume").args(["rm", "store1"]).ok().record();
    assert_eq!(rm["removed"], true);
    assert!(!data.exists());
    env.cmd("volume").args(["rm", "store1"]).fails(1);
    env.cmd("volume").args(["rm", "-f", "store1"]).ok();
    assert!(leftovers(&env).is_empty(), "{:?}", leftovers(&env));
}

#[test]
fn anonymous_volumes_go_with_rm_v_and_prune_takes_the_unused() {
    let env = Env::new("vol-anon");
    image_with(&env, "seeded", |t| t);
    // an image whose config has VOLUME /data
    let c = env
        .cmd("union-mount")
        .args(["--no-mount", "seeded"])
        .ok()
        .record();
    let img = env
        .cmd("commit")
        .args([
            "--change",
            "VOLUME [\"/data\"]",
            s(&c, "container"),
            "withvol",
        ])
        .ok()
        .record();
    assert!(img["layer"].is_string());
    env.cmd("rm").arg(s(&c, "container")).ok();
    let out = run(
        &env,
        &[
            "--name",
            "a",
            "withvol",
            "sh",
            "-c",
            "cat /data/seed; echo w > /data/w",
        ],
    );
    assert_eq!(out, "from the image\n");
    let vols = env.records("volume", &["ls"]);
    assert_eq!(vols.len(), 1);
    assert_eq!(vols[0]["anonymous"], true);
    let name = s(&vols[0], "volume").to_string();
    let i = env.cmd("inspect").arg("a").ok().record();
    assert_eq!(i["host"]["mounts"][0]["source"], name.as_str());
    assert_eq!(i["host"]["mounts"][0]["target"], "/data");
    // rm keeps it, rm -v does not; run --rm takes its own
    env.cmd("rm").args(["-v", "a"]).ok();
    assert!(env.records("volume", &["ls"]).is_empty());
    run(&env, &["--rm", "-v", "/scratch", "withvol", "true"]);
    assert!(env.records("volume", &["ls"]).is_empty());
    env.cmd("volume").args(["create", "keep"]).ok();
    env.cmd("volume").args(["create", "gone"]).ok();
    run(&env, &["--name", "b", "-v", "keep:/k", "busybox", "true"]);
    let pruned = env.records("volume", &["prune"]);
    let names: Vec<&str> = pruned.iter().map(|r| s(r, "volume")).collect();
    assert_eq!(names, ["gone"]);
    let id = env
        .cmd("volume")
        .args(["create", "--format", "id", "x1"])
        .ok()
        .stdout;
    assert_eq!(id, "x1\n");
    env.cmd("volume").args(["create", "a/b"]).fails(1);
}

#[test]
fn tmpfs_and_a_read_only_root() {
    let env = Env::new("vol-ro-root");
    busybox_image(&env);
    let script = "touch /x 2>/dev/null && echo root-writable; \
        touch /run/t && echo tmpfs; touch /v/t && echo volume; \
        echo > /etc/hosts 2>/dev/null || echo etc-read-only; \
        grep ' /run ' /proc/mounts";
    let out = run(
        &env,
        &[
            "--rm",
            "--read-only",
            "--tmpfs",
            "/run:size=1m",
            "-v",
            "vv:/v",
            "busybox",
            "sh",
            "-c",
            script,
        ],
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[..3], ["tmpfs", "volume", "etc-read-only"], "{out}");
    assert!(
        lines[3].starts_with("tmpfs /run tmpfs rw,nosuid,nodev,noexec"),
        "{out}"
    );
    assert!(lines[3].contains("size=1024k"), "{out}");
    let m = run(
        &env,
        &[
            "--rm",
            "--mount",
            "type=tmpfs,dst=/t,tmpfs-mode=1770",
            "busybox",
            "stat",
            "-c",
            "%a",
            "/t",
        ],
    );
    assert_eq!(m, "1770\n");
    assert!(
        mounted_anywhere(&env).is_empty(),
        "{:?}",
        mounted_anywhere(&env)
    );
}

/// The attacker's image: /evil/data is a symlink to /etc, /evil/up one to
/// ../../../../../etc, /evil/out one to a directory of the host that does
/// not exist in the container. Every mount lands inside the container's
/// root; nothing is made or mounted on the host.
#[test]
fn a_symlinked_target_never_mounts_outside_the_root() {
    let env = Env::new("vol-symlink");
    let outside = env.path("outside");
    std::fs::create_dir_all(&outside).unwrap();
    let out_target = outside.display().to_string();
    image_with(&env, "evil", |t| {
        t.dir("evil", 0o755)
            .symlink("evil/data", "/etc")
            .symlink("evil/up", "../../../../../../etc")
            .symlink("evil/out", &out_target)
    });
    let host = env.path("host");
    std::fs::create_dir_all(&host).unwrap();
    std::fs::write(host.join("marker"), "planted\n").unwrap();
    let v = format!("{}:/evil/data", host.display());
    let out = run(&env, &["--rm", "-v", &v, "evil", "cat", "/etc/marker"]);
    assert_eq!(out, "planted\n", "mounted on the container's own /etc");
    let v = format!("{}:/evil/up/sub", host.display());
    let out = run(&env, &["--rm", "-v", &v, "evil", "cat", "/etc/sub/marker"]);
    assert_eq!(out, "planted\n");
    assert!(!std::path::Path::new("/etc/sub").exists());
    // a link to a path only the host has: made inside the root, as runc
    // does; nothing made or mounted on the host's
    let v = format!("{}:/evil/out/made", host.display());
    let script = format!("cat {out_target}/made/marker; touch /evil/out/t; ls {out_target}");
    let out = run(&env, &["--rm", "-v", &v, "evil", "sh", "-c", &script]);
    assert_eq!(out, "planted\nmade\nt\n");
    let out = run(
        &env,
        &[
            "--rm",
            "--tmpfs",
            "/evil/out",
            "evil",
            "sh",
            "-c",
            &format!("grep -c ' {out_target} tmpfs' /proc/mounts"),
        ],
    );
    assert_eq!(out, "1\n");
    assert!(std::fs::read_dir(&outside).unwrap().next().is_none());
    // a link in a loop: refused
    let looped = |t: TarBuilder| t.symlink("l1", "l2").symlink("l2", "/l1");
    image_with(&env, "looped", looped);
    let o = env
        .cmd("run")
        .args(["--rm", "--tmpfs", "/l1", "looped", "true"])
        .fails(125);
    assert!(o.stderr.contains("mount target /l1"), "{}", o.stderr);
    assert!(
        mounted_anywhere(&env).is_empty(),
        "{:?}",
        mounted_anywhere(&env)
    );
}

/// The attacker's image makes /etc/hosts, /etc/hostname and
/// /etc/resolv.conf symlinks out of its root (an absolute host path that
/// exists, a climb with `..`, a host path that does not exist): the files
/// cairn binds over them land inside the container's root, and the host's
/// files are neither written nor mounted over.
#[test]
fn symlinked_etc_files_never_reach_the_host() {
    let env = Env::new("vol-etc-links");
    let outside = env.path("outside");
    std::fs::create_dir_all(&outside).unwrap();
    let victim = outside.join("victim");
    std::fs::write(&victim, "the host's\n").unwrap();
    let climb = format!("../../../../../..{}", outside.join("climbed").display());
    let missing = outside.join("made").display().to_string();
    let victim_s = victim.display().to_string();
    image_with(&env, "evil-etc", |t| {
        t.dir("etc", 0o755)
            .symlink("etc/hosts", &victim_s)
            .symlink("etc/hostname", &climb)
            .symlink("etc/resolv.conf", &missing)
    });
    let out = run(
        &env,
        &[
            "--rm",
            "--network",
            "none",
            "--hostname",
            "web",
            "evil-etc",
            "sh",
            "-c",
            "head -1 /etc/hosts; cat /etc/hostname; echo x > /etc/hosts; echo $?",
        ],
    );
    assert_eq!(out, "127.0.0.1\tlocalhost\nweb\n0\n");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "the host's\n");
    let names: Vec<_> = std::fs::read_dir(&outside)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["victim"], "nothing made on the host");
    assert!(
        mounted_anywhere(&env).is_empty(),
        "{:?}",
        mounted_anywhere(&env)
    );
}

#[test]
fn the_etc_files_are_cairns() {
    let env = Env::new("vol-etc");
    busybox_image(&env);
    let id = env
        .cmd("run")
        .args(["-d", "busybox", "sleep", "30"])
        .ok()
        .id();
    let cat = |f: &str| env.cmd("exec").args([&id, "cat", f]).ok().stdout;
    assert_eq!(cat("/etc/hostname"), format!("{}\n", &id[..12]));
    // on the default bridge, the container's own address and name last,
    // as docker writes it
    let addr = env.cmd("exec").args([&id, "hostname", "-i"]).ok().stdout;
    assert_eq!(
        cat("/etc/hosts"),
        format!(
            "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n\
             fe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\n\
             ff02::2\tip6-allrouters\n{}\t{}\n",
            addr.trim(),
            &id[..12]
        )
    );
    // the host's resolvers but those on loopback; docker's when none is left
    let resolv = cat("/etc/resolv.conf");
    let host = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
    let servers = |t: &str| -> Vec<String> {
        t.lines()
            .filter_map(|l| l.strip_prefix("nameserver "))
            .map(|n| n.trim().to_string())
            .collect()
    };
    let want: Vec<String> = servers(&host)
        .into_iter()
        .filter(|n| !n.starts_with("127.") && n != "::1")
        .collect();
    let want = if want.is_empty() {
        vec!["8.8.8.8".to_string(), "8.8.4.4".to_string()]
    } else {
        want
    };
    assert_eq!(servers(&resolv), want, "{resolv}");
    env.cmd("kill").arg(&id).ok();
    let out = run(
        &env,
        &[
            "--rm",
            "--hostname",
            "web.example",
            "busybox",
            "sh",
            "-c",
            "hostname; cat /etc/hostname; echo $HOSTNAME",
        ],
    );
    assert_eq!(out, "web.example\nweb.example\nweb.example\n");
    env.cmd("run")
        .args(["--rm", "--hostname", "bad_name", "busybox", "true"])
        .fails(125);
    // --network host: the host's files
    let out = run(
        &env,
        &["--rm", "--net", "host", "busybox", "cat", "/etc/hosts"],
    );
    assert_eq!(out, std::fs::read_to_string("/etc/hosts").unwrap());
    env.cmd("rm").arg(&id).ok();
    assert!(leftovers(&env).is_empty(), "{:?}", leftovers(&env));
}

#[test]
fn commit_never_holds_volumes_or_the_etc_files() {
    let env = Env::new("vol-commit");
    image_with(&env, "seeded", |t| t);
    let host = env.path("host");
    std::fs::create_dir_all(&host).unwrap();
    let b = format!("{}:/bound", host.display());
    let script = "echo v > /data/in-volume; echo b > /bound/in-bind; echo t > /run/in-tmpfs; \
        echo kept > /kept; echo changed > /etc/hosts; echo x > /etc/hostname";
    run(
        &env,
        &[
            "--name",
            "c",
            "-v",
            "vol:/data",
            "-v",
            &b,
            "--tmpfs",
            "/run",
            "seeded",
            "sh",
            "-c",
            script,
        ],
    );
    let upper = env
        .root
        .join("containers")
        .join(s(&ps_all(&env)[0], "container"))
        .join("upper");
    let mut found = Vec::new();
    for p in [
        "data/in-volume",
        "bound/in-bind",
        "run/in-tmpfs",
        "etc/hosts",
        "etc/hostname",
    ] {
        if upper.join(p).exists() {
            found.push(p);
        }
    }
    assert!(found.is_empty(), "in the read-write layer: {found:?}");
    env.cmd("commit").args(["c", "committed"]).ok();
    let out = run(
        &env,
        &[
            "--rm",
            "committed",
            "sh",
            "-c",
            "cat /kept; ls /data; test -e /bound/in-bind || test -e /run/in-tmpfs || echo none; \
         grep -c localhost /etc/hosts",
        ],
    );
    assert_eq!(out, "kept\nseed\nnone\n2\n");
    // the export has the empty files docker's init layer has too
    let tar_path = env.path("c.tar");
    env.cmd("export").arg("-o").arg(&tar_path).arg("c").ok();
    let tar = std::fs::read(&tar_path).unwrap();
    let mut a = tar::Archive::new(&tar[..]);
    for e in a.entries().unwrap() {
        let e = e.unwrap();
        let p = e.path().unwrap().display().to_string();
        if p.trim_start_matches("./").starts_with("etc/host") {
            assert_eq!(e.header().size().unwrap(), 0, "{p}");
        }
    }
    env.cmd("rm").args(["-v", "c"]).ok();
    assert!(
        mounted_anywhere(&env).is_empty(),
        "{:?}",
        mounted_anywhere(&env)
    );
}

/// The same commands on docker 20.10 and on cairn, with the same busybox:
/// the same output.
#[test]
fn agrees_with_docker() {
    use crate::fixtures::{docker, peers};
    let env = Env::new("vol-docker");
    let archive = peers().join("docker-save.tar");
    env.cmd("load").arg(&archive).ok();
    docker().ok(&["load", "-i", archive.to_str().unwrap()]);
    let host = env.path("host");
    std::fs::create_dir_all(&host).unwrap();
    std::fs::write(host.join("f"), "from the host\n").unwrap();
    let ro = format!("{}:/h:ro", host.display());
    let vol = format!("cairn-compat-{}:/var", std::process::id());
    let cases: Vec<(Vec<&str>, Vec<&str>)> = vec![
        (vec![], vec!["cat", "/etc/hosts"]),
        (
            vec!["-v", &ro],
            vec!["sh", "-c", "cat /h/f; echo x > /h/f; echo $?"],
        ),
        (vec!["--read-only"], vec!["sh", "-c", "touch /x; echo $?"]),
        (
            vec!["--tmpfs", "/run"],
            vec!["busybox", "grep", " /run ", "/proc/mounts"],
        ),
        (
            vec!["--hostname", "web"],
            vec!["sh", "-c", "hostname; cat /etc/hostname"],
        ),
        (
            vec!["-v", &vol],
            vec!["sh", "-c", "find /var | sort; echo kept > /var/new"],
        ),
        (vec!["-v", &vol], vec!["cat", "/var/new"]),
    ];
    for (opts, cmd) in cases {
        // the test engine has no bridge: both on `none`
        let mut d = vec!["run", "--rm", "--network", "none"];
        d.extend(&opts);
        d.push("busybox:latest");
        d.extend(&cmd);
        let o = docker().run(&d);
        let theirs =
            String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr);
        let mut c = vec!["--rm", "--network", "none"];
        c.extend(&opts);
        c.push("busybox:latest");
        c.extend(&cmd);
        let o = env.cmd("run").args(&c).run();
        let ours = o.stdout.clone() + &o.stderr;
        assert_eq!(ours, theirs, "{opts:?} {cmd:?}");
    }
    docker().run(&["volume", "rm", vol.split(':').next().unwrap()]);
}

/// Takes down the mounts a test made on the host, innermost first.
struct Unmount(Vec<std::path::PathBuf>);

impl Drop for Unmount {
    fn drop(&mut self) {
        for p in self.0.iter().rev() {
            let _ = nix::mount::umount2(p, nix::mount::MntFlags::MNT_DETACH);
        }
    }
}

/// The optional fields (`shared:N`, `master:N`) of the mount at `target`
/// in process `pid`'s mount table; empty for a private mount.
fn optional_fields(pid: &str, target: &str) -> String {
    let table = std::fs::read_to_string(format!("/proc/{}/mountinfo", pid.trim())).unwrap();
    let line = (table.lines())
        .rfind(|l| l.split(' ').nth(4) == Some(target))
        .unwrap_or_else(|| panic!("no {target} in\n{table}"));
    let (fields, _) = line.split_once(" - ").unwrap();
    fields.split(' ').skip(6).collect::<Vec<_>>().join(" ")
}

/// A bind's propagation is what inspect says, in the container's own
/// mount table and in what it sees: with both host sources shared, the
/// bind that holds the store is a slave (docker's rslave: a mount taken
/// down on the host goes from the container too) and the other private
/// (docker's default rprivate: nothing made on the host reaches it).
#[test]
fn a_binds_propagation_is_what_inspect_says() {
    use nix::mount::{mount, MsFlags};
    let env = Env::new("vol-propagation");
    let shared = env.dir.join("shared");
    let mut made = Unmount(Vec::new());
    for d in [&env.root, &shared] {
        std::fs::create_dir_all(d).unwrap();
        mount(
            Some("tmpfs"),
            d,
            Some("tmpfs"),
            MsFlags::empty(),
            None::<&str>,
        )
        .unwrap();
        made.0.push(d.clone());
        mount(
            None::<&str>,
            d,
            None::<&str>,
            MsFlags::MS_SHARED,
            None::<&str>,
        )
        .unwrap();
    }
    busybox_image(&env);
    let (store, other) = (env.root.display().to_string(), shared.display().to_string());
    #[rustfmt::skip]
    let id = env.cmd("run").args([
        "-d", "-v", &format!("{store}:/s"), "-v", &format!("{other}:/p"),
        "busybox", "sleep", "60",
    ]).ok().id();
    let id = id.as_str();
    let shown = "{{range .Mounts}}{{.Destination}}={{.Propagation}} {{end}}";
    let o = env.cmd("inspect").args(["-f", shown, id]).ok().stdout;
    let mut got: Vec<&str> = o.split_whitespace().collect();
    got.sort_unstable();
    assert_eq!(got, ["/p=rprivate", "/s=rslave"]);
    let pid = env
        .cmd("inspect")
        .args(["-f", "{{.State.Pid}}", id])
        .ok()
        .stdout;
    let s = optional_fields(&pid, "/s");
    assert!(
        s.starts_with("master:") && !s.contains("shared"),
        "/s: {s:?}"
    );
    assert_eq!(optional_fields(&pid, "/p"), "", "/p");
    // a mount made on the host now reaches the slave only
    for d in [&env.root, &shared] {
        let late = d.join("late");
        std::fs::create_dir_all(&late).unwrap();
        mount(
            Some("tmpfs"),
            &late,
            Some("tmpfs"),
            MsFlags::empty(),
            None::<&str>,
        )
        .unwrap();
        made.0.push(late.clone());
        std::fs::write(late.join("here"), "x").unwrap();
    }
    let o = env
        .cmd("exec")
        .args([id, "sh", "-c", "ls /s/late; echo -; ls /p/late"])
        .run();
    assert_eq!(o.stdout, "here\n-\n", "{o}");
    env.cmd("rm").args(["-f", id]).ok();
    drop(made);
    assert!(leftovers(&env).is_empty(), "{:?}", leftovers(&env));
}
