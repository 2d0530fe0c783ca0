//! `version`, `info`, `system df`, `stats` and `import` as docker's,
//! compared with Docker 20.10 where the host is what they report.

use crate::fixtures::docker;
use crate::harness::{busybox_image, s, Env};
use crate::interop::same_image;

/// `version`: a record piped, docker's layout with `--format table`,
/// docker's `{{.Client.Version}}`.
#[test]
fn version_as_docker() {
    let env = Env::new("sys-version");
    let r = env.cmd("version").ok().record();
    assert_eq!(s(&r, "version"), env!("CARGO_PKG_VERSION"));
    assert!(s(&r, "rust_version").starts_with("rustc 1."), "{r:?}");
    assert_eq!(s(&r, "os"), "linux");
    let o = env.cmd("version").args(["--format", "table"]).ok();
    assert!(o.stdout.starts_with("Client: cairn\n Version:  "), "{o}");
    assert!(o.stdout.contains("\n OS/Arch:           linux/"), "{o}");
    let o = env.cmd("version").args(["-f", "{{.Client.Version}}"]).ok();
    assert_eq!(o.stdout, format!("{}\n", env!("CARGO_PKG_VERSION")));
}

/// `info`: the store's counts, and what it says of the host is what
/// docker's engine says, through docker's own template.
#[test]
fn info_as_docker() {
    let env = Env::new("sys-info");
    busybox_image(&env);
    let id = env.cmd("run").args(["-d", "busybox", "sleep", "30"]).ok();
    let id: &str = &id.id();
    env.cmd("create").args(["busybox", "true"]).ok();
    let r = env.cmd("info").ok().record();
    assert_eq!(r["containers"], 2);
    assert_eq!(r["running"], 1);
    assert_eq!(r["stopped"], 1);
    assert_eq!(r["images"], 1);
    assert_eq!(s(&r, "root"), env.root.to_str().unwrap());
    assert_eq!(s(&r, "storage_driver"), "overlay");
    let host = "{{.KernelVersion}}|{{.OSType}}|{{.Architecture}}|{{.NCPU}}|{{.MemTotal}}|\
                {{.OperatingSystem}}|{{.Name}}|{{.CgroupVersion}}";
    let ours = env.cmd("info").args(["--format", host]).ok().stdout;
    assert_eq!(ours, docker().ok(&["info", "--format", host]));
    let o = env.cmd("info").args(["--format", "table"]).ok();
    assert!(
        o.stdout
            .starts_with("Containers: 2\n Running: 1\n Paused: 0\n Stopped: 1\n"),
        "{o}"
    );
    assert!(
        o.stdout
            .contains(&format!("Cairn Root Dir: {}\n", env.root.display())),
        "{o}"
    );
    let o = env.cmd("info").args(["-f", "{{.DockerRootDir}}"]).ok();
    assert_eq!(o.stdout.trim(), env.root.to_str().unwrap());
    env.cmd("rm").args(["-f", id]).ok();
}

/// `system df`: docker's rows and titles; what a prune could free.
#[test]
fn system_df_as_docker() {
    let env = Env::new("sys-df");
    busybox_image(&env);
    let id = env
        .cmd("run")
        .args([
            "-d",
            "busybox",
            "sh",
            "-c",
            "head -c 100000 /dev/zero > /big; sleep 30",
        ])
        .ok();
    let id: &str = &id.id();
    env.cmd("run").args(["busybox", "touch", "/x"]).ok();
    env.cmd("volume").args(["create", "dfvol"]).ok();
    let rows = env.cmd("system").arg("df").ok().records();
    let row = |t: &str| rows.iter().find(|r| r["type"] == t).unwrap().clone();
    let images = row("Images");
    assert_eq!(
        (images["total"].as_u64(), images["active"].as_u64()),
        (Some(1), Some(1))
    );
    assert!(images["size"].as_u64().unwrap() > 100_000, "{images:?}");
    assert_eq!(images["reclaimable"], 0, "a container stands on it");
    let containers = row("Containers");
    assert_eq!(
        (containers["total"].as_u64(), containers["active"].as_u64()),
        (Some(2), Some(1))
    );
    crate::harness::wait_for("/big written", std::time::Duration::from_secs(10), || {
        let rows = env.cmd("system").arg("df").ok().records();
        rows[1]["size"].as_u64().unwrap() >= 100_000
    });
    assert_eq!(row("Local Volumes")["total"], 1);
    assert_eq!(row("Local Volumes")["active"], 0);
    assert_eq!(row("Build Cache")["total"], 0);
    let ours = env
        .cmd("system")
        .args(["df", "--format", "table"])
        .ok()
        .stdout;
    let theirs = docker().ok(&["system", "df"]);
    let first = |s: &str| s.lines().next().unwrap().to_string();
    let column = |s: &str| {
        s.lines()
            .map(|l| l.split("  ").next().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(first(&ours), first(&theirs), "{ours}\n{theirs}");
    assert_eq!(column(&ours), column(&theirs));
    let o = env
        .cmd("system")
        .args(["df", "--format", "{{.Type}}={{.TotalCount}}"])
        .ok();
    assert_eq!(
        o.stdout,
        "Images=1\nContainers=2\nLocal Volumes=1\nBuild Cache=0\n"
    );
    // -v: each image, container and volume
    let lines = env.cmd("system").args(["df", "-v"]).ok().records();
    let of = |t: &str| {
        lines
            .iter()
            .filter(|r| r["type"] == t)
            .cloned()
            .collect::<Vec<_>>()
    };
    let (images, containers, volumes) = (of("image"), of("container"), of("volume"));
    assert_eq!(images.len(), 1, "{lines:?}");
    assert_eq!(images[0]["containers"], 2);
    assert_eq!(images[0]["shared_size"], 0);
    assert_eq!(images[0]["tags"], serde_json::json!(["busybox:latest"]));
    assert_eq!(containers.len(), 2);
    let big = containers.iter().find(|c| c["container"] == id).unwrap();
    assert!(big["size"].as_u64().unwrap() >= 100_000, "{big:?}");
    assert_eq!(volumes[0]["name"], "dfvol");
    assert_eq!(volumes[0]["links"], 0);
    // docker's sections and column titles
    let ours = env
        .cmd("system")
        .args(["df", "-v", "--format", "table"])
        .ok()
        .stdout;
    let theirs = docker().ok(&["system", "df", "-v"]);
    let titles = |s: &str| {
        s.lines()
            .filter(|l| {
                l.ends_with(':')
                    || l.starts_with("Build cache")
                    || ["REPOSITORY ", "CONTAINER ID ", "VOLUME NAME ", "CACHE ID "]
                        .iter()
                        .any(|h| l.starts_with(h))
            })
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect::<Vec<_>>()
    };
    assert_eq!(titles(&ours), titles(&theirs), "{ours}\n{theirs}");
    let row = ours.lines().find(|l| l.starts_with("busybox ")).unwrap();
    let words: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(
        words[words.len() - 3..],
        ["0B", words[words.len() - 4], "2"],
        "{row}"
    );
    let row = ours.lines().find(|l| l.starts_with(&id[..12])).unwrap();
    assert!(row.contains("100kB") && row.contains("Up "), "{row}");
    assert!(ours.contains("\ndfvol "), "{ours}");
    env.cmd("rm").args(["-f", id]).ok();
}

/// `stats --no-stream`: CPU, memory against the limit and processes from
/// the container's cgroup; docker's columns.
#[test]
fn stats_from_the_cgroup() {
    let env = Env::new("sys-stats");
    busybox_image(&env);
    let busy = env
        .cmd("run")
        .args([
            "-d",
            "--name",
            "busy",
            "busybox",
            "sh",
            "-c",
            "while :; do :; done",
        ])
        .ok();
    let mem = env
        .cmd("run")
        .args([
            "-d",
            "--name",
            "mem",
            "--memory",
            "64m",
            "busybox",
            "sh",
            "-c",
            "head -c 20000000 /dev/zero > /dev/shm/x; sleep 60",
        ])
        .ok();
    crate::harness::wait_for(
        "/dev/shm/x written",
        std::time::Duration::from_secs(10),
        || {
            let r = env.cmd("stats").args(["--no-stream", "mem"]).ok().record();
            r["memory"].as_u64().unwrap() >= 20_000_000
        },
    );
    let rows = env.cmd("stats").arg("--no-stream").ok().records();
    assert_eq!(rows.len(), 2, "{rows:?}");
    let row = |n: &str| rows.iter().find(|r| r["name"] == n).unwrap().clone();
    assert!(
        row("busy")["cpu_percent"].as_f64().unwrap() > 1.0,
        "{rows:?}"
    );
    let m = row("mem");
    assert_eq!(m["memory_limit"], 64 * 1024 * 1024);
    let pct = m["memory_percent"].as_f64().unwrap();
    assert!(pct > 25.0 && pct <= 100.0, "{m:?}");
    assert_eq!(m["pids"], 1, "sh execs its last command: {m:?}");
    let o = env
        .cmd("stats")
        .args(["--no-stream", "--format", "table", "mem"])
        .ok();
    let words = |s: &str| {
        s.lines()
            .next()
            .unwrap()
            .split("  ")
            .filter(|w| !w.is_empty())
            .map(|w| w.trim().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        words(&o.stdout),
        [
            "CONTAINER ID",
            "NAME",
            "CPU %",
            "MEM USAGE / LIMIT",
            "MEM %",
            "NET I/O",
            "BLOCK I/O",
            "PIDS"
        ]
    );
    assert!(o.stdout.contains("MiB / 64MiB"), "{o}");
    let o = env
        .cmd("stats")
        .args(["--no-stream", "--format", "{{.Name}} {{.PIDs}}", "busy"])
        .ok();
    assert!(o.stdout.starts_with("busy "), "{o}");
    env.cmd("rm").args(["-f", &busy.id(), &mem.id()]).ok();
}

/// `stats` NET I/O from the container's own interfaces and BLOCK I/O from
/// its cgroup, in docker's units; a container with no network of its own
/// reads 0B / 0B, as docker's does; block I/O is counted where docker's
/// engine counts it on this host.
#[test]
fn stats_net_and_block_io() {
    let env = Env::new("sys-stats-io");
    let tag = same_image(&env, "sys-stats-io:1");
    let job = "gw=$(ip route | sed -n 's/^default via \\([0-9.]*\\).*/\\1/p'); \
               ping -c 3 -W 1 $gw; sleep 60";
    let net = env
        .cmd("run")
        .args(["-d", "--name", "net", &tag, "sh", "-c", job])
        .ok();
    let dd = "dd if=/dev/zero of=/x bs=1M count=8 oflag=direct; sync; sleep 60";
    let none = env
        .cmd("run")
        .args(["-d", "--name", "none", "--network", "none", &tag])
        .args(["sh", "-c", dd])
        .ok();
    crate::harness::wait_for("the pings sent", std::time::Duration::from_secs(20), || {
        let r = env.cmd("stats").args(["--no-stream", "net"]).ok().record();
        r["net_tx"].as_u64().unwrap() >= 3 * 98
    });
    let io = |name: &str| {
        let o = env
            .cmd("stats")
            .args(["--no-stream", "--format", "{{.NetIO}}|{{.BlockIO}}", name])
            .ok();
        o.stdout.trim().to_string()
    };
    let (net_io, _) = io("net")
        .split_once('|')
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .unwrap();
    let units = |s: &str| {
        s.split(" / ").all(|v| {
            let n = v.trim_end_matches(|c: char| c.is_ascii_alphabetic());
            n.parse::<f64>().is_ok() && ["B", "kB", "MB", "GB"].contains(&&v[n.len()..])
        })
    };
    assert!(units(&net_io) && net_io != "0B / 0B", "{net_io}");
    // the same container in docker's engine: what it reports, we report
    let dk = docker().ok(&["run", "-d", "--network", "none", &tag, "sh", "-c", dd]);
    let dk = dk.trim();
    std::thread::sleep(std::time::Duration::from_secs(3));
    let theirs = docker().ok(&[
        "stats",
        "--no-stream",
        "--format",
        "{{.NetIO}}|{{.BlockIO}}",
        dk,
    ]);
    docker().ok(&["rm", "-f", dk]);
    let ours = io("none");
    let (o_net, o_block) = ours.split_once('|').unwrap();
    let (t_net, t_block) = theirs.trim().split_once('|').unwrap();
    assert_eq!(o_net, t_net, "{ours} vs docker's {theirs}");
    assert!(units(o_block), "{ours}");
    let wrote = |b: &str| !b.ends_with(" / 0B");
    assert_eq!(
        wrote(o_block),
        wrote(t_block),
        "{ours} vs docker's {theirs}"
    );
    env.cmd("rm").args(["-f", &net.id(), &none.id()]).ok();
}

/// `import`: a file-system tar becomes a one-layer image with an empty
/// config, its ID printed; its layer is the one docker's import makes.
#[test]
fn import_as_docker() {
    let env = Env::new("sys-import");
    let tag = same_image(&env, "sys-import:base");
    let tar = env.path("rootfs.tar");
    env.cmd("export")
        .args(["-o", tar.to_str().unwrap(), &tag])
        .ok();
    let r = env
        .cmd("import")
        .args([tar.to_str().unwrap(), "imported:1"])
        .ok()
        .record();
    assert_eq!(s(&r, "tag"), "imported:1");
    let o = env
        .cmd("import")
        .args(["--format", "table", tar.to_str().unwrap(), "imported:2"])
        .ok();
    assert!(
        o.stdout.starts_with("sha256:") && o.stdout.trim().len() == 71,
        "{o}"
    );
    let ours = env.cmd("inspect").arg("imported:1").ok().record();
    assert_eq!(ours["depth"], 1, "one layer");
    // an empty config: no command of its own
    env.cmd("run")
        .args(["--rm", "--network", "none", "imported:1"])
        .fails(125);
    let o = env
        .cmd("run")
        .args([
            "--rm",
            "--network",
            "none",
            "imported:1",
            "/bin/cat",
            "/etc/hostname",
        ])
        .ok();
    assert!(!o.stdout.is_empty());
    // from stdin, with a message
    let data = std::fs::read(&tar).unwrap();
    let r = env
        .cmd("import")
        .args(["-m", "hello", "-"])
        .stdin(data)
        .ok()
        .record();
    let h = env
        .cmd("history")
        .args(["--format", "json", s(&r, "layer")])
        .ok()
        .record();
    assert_eq!(s(&h, "comment"), "hello");
    // docker's import of the same tar: the same layer
    let dk = docker().ok(&["import", tar.to_str().unwrap(), "sys-imported:1"]);
    assert!(dk.starts_with("sha256:"));
    let theirs = docker().ok(&[
        "image",
        "inspect",
        "-f",
        "{{index .RootFS.Layers 0}} {{len .RootFS.Layers}} {{json .Config.Cmd}}",
        "sys-imported:1",
    ]);
    let diff_id = s(&ours, "diff_id").to_string();
    assert_eq!(theirs.trim(), format!("{diff_id} 1 null"));
    docker().ok(&["rmi", "sys-imported:1"]);
    env.cmd("import").args(["/nonexistent.tar"]).fails(2);
}

/// `import -c`: the config docker's `import --change` gives the same tar;
/// without a tag the image ID (the config digest) is printed, as docker
/// prints it; a change that is not a config instruction is refused.
#[test]
fn import_changes_as_docker() {
    let env = Env::new("sys-import-c");
    busybox_image(&env);
    let tar = env.path("rootfs.tar");
    env.cmd("export")
        .args(["-o", tar.to_str().unwrap(), "busybox"])
        .ok();
    let changes = [
        "CMD echo hi",
        r#"ENTRYPOINT ["/bin/env"]"#,
        "ENV A=1 B=\"two words\"",
        "EXPOSE 80 53/udp",
        "LABEL k=v",
        "USER 1000:1000",
        "WORKDIR /tmp",
        "VOLUME /data",
    ];
    let mut args: Vec<&str> = changes.iter().flat_map(|c| ["-c", c]).collect();
    args.push(tar.to_str().unwrap());
    let r = env.cmd("import").args(&args).ok().record();
    let image_id = s(&r, "image_id").to_string();
    assert!(r.get("tag").is_none(), "{r:?}");
    assert!(image_id.starts_with("sha256:") && image_id.len() == 71);
    // on a terminal, the bare image ID (a new one: `created` is now)
    let o = env
        .cmd("import")
        .args(["--format", "table"])
        .args(&args)
        .ok();
    assert!(
        o.stdout.starts_with("sha256:") && o.stdout.len() == 72,
        "{o}"
    );
    let ours = env.cmd("inspect").arg(s(&r, "layer")).ok().record();
    let cfg = &ours["effective_config"];
    let keys = [
        "Cmd",
        "Entrypoint",
        "Env",
        "ExposedPorts",
        "Labels",
        "User",
        "WorkingDir",
        "Volumes",
    ];
    let dk_args: Vec<&str> = changes.iter().flat_map(|c| ["-c", c]).collect();
    let dk_id = docker().ok(&[&["import"][..], &dk_args, &[tar.to_str().unwrap()]].concat());
    assert!(dk_id.starts_with("sha256:"), "{dk_id}");
    for k in keys {
        let theirs = docker().ok(&[
            "image",
            "inspect",
            "-f",
            &format!("{{{{json .Config.{k}}}}}"),
            dk_id.trim(),
        ]);
        let theirs: serde_json::Value = serde_json::from_str(theirs.trim()).unwrap();
        assert_eq!(cfg[k], theirs, "{k}: {cfg:?}");
    }
    docker().ok(&["rmi", dk_id.trim()]);
    // a change that is not one is refused before anything is stored
    let before = env
        .cmd("images")
        .args(["-a", "--format", "json"])
        .ok()
        .records();
    for bad in ["ONBUILD RUN true", "RUN true", "FROM busybox", "WORKDIR"] {
        let o = env
            .cmd("import")
            .args(["-c", bad, tar.to_str().unwrap()])
            .fails(2);
        assert!(o.stderr.contains("change"), "{o}");
    }
    let after = env
        .cmd("images")
        .args(["-a", "--format", "json"])
        .ok()
        .records();
    assert_eq!(before, after);
}

/// On a terminal, docker's layouts; the same commands piped print records
/// (the tests above).
#[test]
fn layouts_on_a_terminal() {
    use crate::habits::on_a_pty;
    let env = Env::new("sys-pty");
    busybox_image(&env);
    let tar = env.path("rootfs.tar");
    env.cmd("export")
        .args(["-o", tar.to_str().unwrap(), "busybox"])
        .ok();
    let out = on_a_pty(&env, "version", "");
    assert!(out.starts_with("Client: cairn\r\n Version: "), "{out:?}");
    let out = on_a_pty(&env, "info", "");
    assert!(
        out.starts_with("Containers: 0\r\n Running: 0\r\n"),
        "{out:?}"
    );
    let out = on_a_pty(&env, "system", "df");
    assert!(out.starts_with("TYPE            TOTAL     ACTIVE    SIZE      RECLAIMABLE\r\nImages          1         0"), "{out:?}");
    let out = on_a_pty(&env, "stats", "--no-stream");
    assert!(out.starts_with("CONTAINER ID   NAME      CPU %"), "{out:?}");
    let out = on_a_pty(&env, "import", &format!("{} imp:1", tar.display()));
    assert!(
        out.starts_with("sha256:") && out.trim().len() == 71,
        "{out:?}"
    );
}
