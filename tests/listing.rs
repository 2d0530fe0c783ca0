//! `ps` and `images` as docker users type them: `--format` with Go
//! templates, `--filter`, `images REPOSITORY[:TAG]`, and `-l` labels;
//! each compared with Docker 20.10 given the same image and commands.

use crate::fixtures::docker;
use crate::harness::{busybox_image, Env};
use crate::interop::same_image;
use std::collections::BTreeSet;

/// Containers made the same way in cairn and in docker: `a` running with
/// labels, `b` exited, `c` created; names prefixed so the shared engine's
/// other containers are filtered out.
fn three_containers(env: &Env, tag: &str, p: &str) -> Vec<String> {
    let mut dk = Vec::new();
    let runs: [Vec<String>; 3] = [
        [
            "run",
            "-d",
            "--name",
            &format!("{p}a"),
            "-l",
            "app=web",
            "-l",
            "tier",
        ]
        .map(String::from)
        .into(),
        ["run", "-d", "--name", &format!("{p}b"), "--label", "app=db"]
            .map(String::from)
            .into(),
        ["create", "--name", &format!("{p}c")]
            .map(String::from)
            .into(),
    ];
    for (i, args) in runs.iter().enumerate() {
        let mut a: Vec<&str> = args.iter().map(String::as_str).collect();
        a.extend(["--network", "none", tag]);
        match i {
            0 => a.extend(["sleep", "60"]),
            1 => a.extend(["sh", "-c", "exit 3"]),
            _ => a.extend(["true"]),
        }
        env.cmd(a[0]).args(&a[1..]).ok();
        dk.push(docker().ok(&a).trim().to_string());
    }
    env.cmd("wait").arg(format!("{p}b")).ok();
    docker().run(&["wait", &format!("{p}b")]);
    dk
}

fn lines(s: &str) -> BTreeSet<String> {
    s.lines().map(str::to_string).collect()
}

/// `ps --format` and `--filter` print what docker's print.
#[test]
fn ps_formats_and_filters_as_docker() {
    let env = Env::new("list-ps");
    let tag = same_image(&env, "list-ps:1");
    let p = "lsps-";
    let dk = three_containers(&env, &tag, p);
    let name = format!("name={p}");
    let both = |args: &[&str]| {
        let ours = env.cmd("ps").args(args).ok().stdout;
        let theirs = docker().ok(&[&["ps"], args].concat());
        (ours, theirs)
    };
    // Go template functions and blocks, as docker's
    let funcs = r#"{{.Label "app"}}|{{upper .Names}}|{{.State | title}}|{{if eq .State "running"}}up{{else}}down{{end}}|{{printf "%-8s|" .Image}}{{range split .Names "-"}}<{{.}}>{{end}}|{{join (split .Names "-") "+"}}|{{len .Names}}|{{lower "AB"}}"#;
    for args in [
        vec!["-a", "--filter", &name, "--format", funcs],
        vec![
            "--filter",
            &name,
            "--format",
            "{{.Names}} {{.Image}} {{.State}}",
        ],
        vec![
            "-a",
            "--filter",
            &name,
            "--format",
            "{{.Names}}\\t{{.State}}",
        ],
        vec![
            "-f",
            &name,
            "-f",
            "status=exited",
            "--format",
            "{{.Names}} {{.State}}",
        ],
        vec![
            "-a",
            "-f",
            &name,
            "-f",
            "status=created",
            "-f",
            "status=running",
            "--format",
            "{{.Names}}",
        ],
        vec![
            "-a",
            "-f",
            &name,
            "-f",
            "label=app",
            "--format",
            "{{.Names}}",
        ],
        vec![
            "-a",
            "-f",
            &name,
            "-f",
            "label=app=db",
            "--format",
            "{{.Names}}",
        ],
        vec![
            "-a",
            "-f",
            &name,
            "-f",
            "label=app=web",
            "-f",
            "label=tier",
            "--format",
            "{{.Names}}",
        ],
        vec![
            "-a",
            "-f",
            &name,
            "-f",
            &format!("ancestor={tag}"),
            "--format",
            "{{.Names}}",
        ],
        vec![
            "-a",
            "-f",
            &format!("name=^{p}b$"),
            "--format",
            "{{.Names}} {{.Command}}",
        ],
    ] {
        let (ours, theirs) = both(&args);
        assert_eq!(lines(&ours), lines(&theirs), "ps {args:?}");
        assert!(!ours.is_empty(), "ps {args:?} lists something");
    }
    // a table: docker's titles and tabwriter padding (one row: no order)
    let f = format!("name={p}a");
    let (ours, theirs) = both(&[
        "-f",
        &f,
        "--format",
        "table {{.Names}}\\t{{.Image}}\\t{{.State}}",
    ]);
    assert_eq!(ours, theirs);
    let o = env
        .cmd("ps")
        .args(["-f", "status=exited", "--format", "{{.Status}}"])
        .ok();
    assert!(
        o.stdout.starts_with("Exited (3) ") && o.stdout.ends_with(" ago\n"),
        "{o}"
    );
    // .Labels: the same set (docker's order is a Go map's)
    let set = |s: String| {
        s.trim()
            .split(',')
            .map(str::to_string)
            .collect::<BTreeSet<_>>()
    };
    let (ours, theirs) = both(&["-f", &f, "--format", "{{.Labels}}"]);
    assert_eq!(set(ours), set(theirs));
    // {{json .}}: docker's keys
    let keys = |s: &str| -> Vec<String> {
        let v: serde_json::Value = serde_json::from_str(s.lines().next().unwrap()).unwrap();
        v.as_object().unwrap().keys().cloned().collect()
    };
    let (ours, theirs) = both(&["-f", &f, "--format", "{{json .}}"]);
    assert_eq!(keys(&ours), keys(&theirs));
    // id= takes a prefix; -q with a filter
    let ours_id = env.cmd("ps").args(["-q", "-f", &f]).ok().stdout;
    let o = env
        .cmd("ps")
        .args(["-a", "-q", "-f", &format!("id={}", &ours_id[..6])])
        .ok();
    assert_eq!(o.stdout, ours_id);
    // a template wins over -q, as docker's
    let (ours, theirs) = both(&["-q", "-f", &f, "--format", "{{.Names}}"]);
    assert_eq!((ours.as_str(), theirs.as_str()), ("lsps-a\n", "lsps-a\n"));
    // exited=, before=, since=, network=: the same containers as docker's
    for (filter, want) in [
        ("exited=3", "b"),
        ("exited=0", ""),
        ("since=lsps-a", "b c"),
        ("before=lsps-c", "a b"),
        ("before=lsps-b", "a"),
        ("network=none", "a b c"),
        ("network=nope", ""),
    ] {
        let args = ["-a", "-f", &name, "-f", filter, "--format", "{{.Names}}"];
        let (ours, theirs) = both(&args);
        assert_eq!(lines(&ours), lines(&theirs), "ps {args:?}");
        let want: BTreeSet<String> = want.split_whitespace().map(|n| format!("{p}{n}")).collect();
        assert_eq!(lines(&ours), want, "ps {args:?}");
    }
    let o = env.cmd("ps").args(["-a", "-f", "since=nope"]).fails(1);
    assert!(o.stderr.contains("nope"), "{o}");
    env.cmd("ps").args(["-a", "-f", "exited=x"]).fails(2);
    let o = env
        .cmd("ps")
        .args(["-a", "-f", &name, "-f", "volume=/nope", "-q"])
        .ok();
    assert_eq!(o.stdout, "");
    // an unknown key: docker's words, and the keys there are
    let o = env.cmd("ps").args(["-f", "colour=red"]).fails(2);
    assert!(
        o.stderr.contains("invalid filter 'colour'")
            && o.stderr
                .contains("status, label, name, id, ancestor, before, since"),
        "{o}"
    );
    for id in dk {
        docker().ok(&["rm", "-f", &id]);
    }
    env.cmd("rm")
        .args(["-f", &format!("{p}a"), &format!("{p}b"), &format!("{p}c")])
        .ok();
}

/// `images --format`, `--filter` and `images REPOSITORY[:TAG]` as docker's.
#[test]
fn images_formats_and_filters_as_docker() {
    let env = Env::new("list-img");
    let tag = same_image(&env, "list-img:1");
    for t in ["list-img:2", "list-img-other:1"] {
        env.cmd("tag").args([tag.as_str(), t]).ok();
        docker().ok(&["tag", &tag, t]);
    }
    let both = |args: &[&str]| {
        let ours = env.cmd("images").args(args).ok().stdout;
        let theirs = docker().ok(&[&["images"], args].concat());
        (ours, theirs)
    };
    for args in [
        vec!["list-img", "--format", "{{.Repository}}:{{.Tag}}"],
        vec![
            "list-img:2",
            "--format",
            "{{.Repository}} {{.Tag}} {{.Size}} {{.VirtualSize}}",
        ],
        vec![
            "--filter",
            "reference=list-img*",
            "--format",
            "{{.Repository}}:{{.Tag}}",
        ],
        vec![
            "-f",
            "reference=list-img*:1",
            "--format",
            "{{.Repository}}:{{.Tag}}",
        ],
        vec![
            "-f",
            "reference=list-img*",
            "-f",
            "dangling=false",
            "--format",
            "{{.Tag}}",
        ],
        vec!["list-img", "-f", "label=nope", "--format", "{{.Tag}}"],
    ] {
        let (ours, theirs) = both(&args);
        assert_eq!(lines(&ours), lines(&theirs), "images {args:?}");
    }
    let (ours, theirs) = both(&[
        "list-img:1",
        "--format",
        "table {{.Repository}}\\t{{.Tag}}\\t{{.Size}}",
    ]);
    assert_eq!(ours, theirs);
    let (ours, theirs) = both(&["list-img:1", "--format", "{{json .}}"]);
    let keys = |s: &str| -> Vec<String> {
        let v: serde_json::Value = serde_json::from_str(s.trim()).unwrap();
        v.as_object().unwrap().keys().cloned().collect()
    };
    assert_eq!(keys(&ours), keys(&theirs));
    // the row's own JSON, `<none>` escaped as json.Marshal does
    assert_eq!(ours, theirs);
    // dangling: an untagged image nothing stands on
    let r = env
        .cmd("layer-unpack")
        .args(["--parent", &tag])
        .stdin(crate::harness::busybox_tar())
        .ok()
        .record();
    let o = env
        .cmd("images")
        .args(["--format", "id", "-f", "dangling=true"])
        .ok();
    assert_eq!(o.stdout.trim(), crate::harness::s(&r, "layer"));
    let o = env
        .cmd("images")
        .args([
            "-f",
            "dangling=true",
            "--format",
            "{{.Repository}}:{{.Tag}}",
        ])
        .ok();
    assert_eq!(o.stdout, "<none>:<none>\n");
    env.cmd("images").args(["-f", "dangling=maybe"]).fails(2);
    env.cmd("images").args(["--format", "nonsense"]).fails(2);
    // before= and since=: by when each image was made
    let c = env.cmd("create").args([&tag, "true"]).ok().id();
    env.cmd("commit").args([&c, "list-img-new:1"]).ok();
    let names = |f: &str| {
        let args = [
            "-f",
            f,
            "-f",
            "reference=list-img*",
            "--format",
            "{{.Repository}}:{{.Tag}}",
        ];
        lines(&env.cmd("images").args(args).ok().stdout)
    };
    let old: BTreeSet<String> = ["list-img:1", "list-img:2", "list-img-other:1"]
        .map(String::from)
        .into();
    assert_eq!(
        names("since=list-img:1"),
        ["list-img-new:1".to_string()].into()
    );
    assert_eq!(names("before=list-img-new:1"), old);
    assert!(names("before=list-img:1").is_empty());
    env.cmd("images").args(["-f", "since=nope:1"]).fails(1);
}

/// `images` shows docker's image ID (the config's digest): the same as
/// `docker images` after loading the same archive, `<none>` for a digest
/// no registry gave. Every command that takes an image takes that ID, its
/// 12-digit prefix, a layer ID or a tag.
#[test]
fn image_ids_are_dockers_and_accepted_everywhere() {
    let env = Env::new("lsimgid");
    let tag = same_image(&env, "lsimgid:1");
    let both = |args: &[&str]| {
        let ours = env.cmd("images").args(args).ok().stdout;
        let theirs = docker().ok(&[&["images"], args].concat());
        (ours, theirs)
    };
    for args in [
        vec![tag.as_str(), "--format", "{{.ID}} {{.Digest}}"],
        vec![tag.as_str(), "-q"],
        vec![tag.as_str(), "-q", "--no-trunc"],
        vec![tag.as_str(), "--digests", "--format", "table"],
    ] {
        let (ours, theirs) = both(&args);
        assert_eq!(ours, theirs, "images {args:?}");
    }
    let id = env.cmd("images").args([&tag, "-q"]).ok().stdout;
    let id = id.trim();
    let full = env
        .cmd("images")
        .args([&tag, "-q", "--no-trunc"])
        .ok()
        .stdout;
    let full = full.trim();
    let layer = crate::harness::s(&env.records("images", &[&tag])[0], "layer").to_string();
    for name in [id, full, &full[7..], &layer, &layer[7..19], &tag] {
        let o = env.cmd("inspect").args(["--type", "image", name]).ok();
        assert!(o.stdout.contains(&layer), "{name}: {o}");
        env.cmd("history").arg(name).ok();
        let c = env.cmd("create").args([name, "true"]).ok().id();
        env.cmd("rm").arg(&c).ok();
        env.cmd("tag").args([name, "lsimgid:x"]).ok();
        env.cmd("save").arg(name).ok();
        env.cmd("rmi").arg("lsimgid:x").ok();
    }
    // ps names an image given by its ID as docker's: 12 digits when 12
    // or more were given, else as typed; --no-trunc as given
    for (n, name) in [full, &full[7..], id, &full[7..15]].iter().enumerate() {
        let c = format!("lsimgid-{n}");
        env.cmd("create").args(["--name", &c, name, "true"]).ok();
        docker().ok(&["create", "--name", &c, name, "true"]);
        for trunc in [&[][..], &["--no-trunc"][..]] {
            let f = format!("name=^{c}$");
            let ps = [
                &["ps", "-a", "--filter", &f, "--format", "{{.Image}}"][..],
                trunc,
            ];
            let ps = ps.concat();
            let ours = env.cmd("ps").args(&ps[1..]).ok().stdout;
            assert_eq!(ours, docker().ok(&ps), "{name} {trunc:?}");
        }
        env.cmd("rm").arg(&c).ok();
        docker().ok(&["rm", &c]);
    }
    // two tags: removing by ID is refused, as docker refuses it
    env.cmd("tag").args([id, "lsimgid:2"]).ok();
    env.cmd("rmi").arg(id).fails(1);
    env.cmd("images").args(["-q", "nope"]).ok();
    env.cmd("inspect")
        .args(["--type", "image", "0000dead"])
        .fails(1);
}

/// ps `{{.Ports}}` and `{{.Size}}` (and `-s`) as docker's after the same
/// commands: published ports as `127.0.0.1:8080->80/tcp`, the size as
/// `1kB (virtual 1.98MB)`.
#[test]
fn ps_ports_and_size_as_docker() {
    let env = Env::new("lsport");
    let tag = same_image(&env, "lsport:1");
    let (ours_port, theirs_port) = (free_port(), free_port());
    let run = |port: u16, name: &str| {
        let p = format!("127.0.0.1:{port}:80");
        vec!["run", "-d", "--name", name, "-p", &p, &tag, "sleep", "60"]
            .into_iter()
            .map(String::from)
            .collect::<Vec<_>>()
    };
    let a = run(ours_port, "lsport-a");
    env.cmd("run").args(&a[1..]).ok();
    let d = run(theirs_port, "lsport-a");
    docker().ok(&d.iter().map(String::as_str).collect::<Vec<_>>());
    let write = "head -c 1000 /dev/zero > /f";
    let args = [
        "run",
        "--name",
        "lsport-b",
        "--network",
        "none",
        &tag,
        "sh",
        "-c",
        write,
    ];
    env.cmd("run").args(&args[1..]).ok();
    docker().ok(&args);
    let both = |args: &[&str]| {
        let ours = env.cmd("ps").args(args).ok().stdout;
        let theirs = docker().ok(&[&["ps"], args].concat());
        (ours, theirs)
    };
    let (ours, theirs) = both(&["-f", "name=lsport-a", "--format", "{{.Names}} {{.Ports}}"]);
    // The test engine runs with --bridge none, so its containers publish
    // nothing and list no ports: docker's format is written down here
    // instead. On a bridge docker lists the image's exposed port too.
    assert_eq!(
        ours,
        format!("lsport-a 8080/tcp, 127.0.0.1:{ours_port}->80/tcp\n")
    );
    assert_eq!(theirs, "lsport-a \n", "{theirs_port}");
    let (ours, theirs) = both(&[
        "-a",
        "-f",
        "name=lsport-b",
        "--format",
        "{{.Ports}}|{{.Size}}",
    ]);
    assert_eq!(ours, theirs);
    let (ours, theirs) = both(&["-a", "-s", "-f", "name=lsport-b", "--format", "{{.Size}}"]);
    assert_eq!(ours, theirs);
    let t = env
        .cmd("ps")
        .args(["-a", "-s", "--format", "table", "-f", "name=lsport-b"])
        .ok();
    let head = t.stdout.lines().next().unwrap_or_default().to_string();
    assert!(
        head.starts_with("CONTAINER ID   IMAGE")
            && head.ends_with(" SIZE")
            && head.contains(" NAMES "),
        "{t}"
    );
    docker().ok(&["rm", "-f", "lsport-a", "lsport-b"]);
    env.cmd("rm").args(["-f", "lsport-a", "lsport-b"]).ok();
}

/// A TCP port nothing listens on now.
fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// `-l` labels are kept with the container: inspect's `.Config.Labels`
/// (over the image's) and `--format` through inspect as `-f`.
#[test]
fn labels_are_kept_and_inspect_takes_format() {
    let env = Env::new("list-label");
    busybox_image(&env);
    env.cmd("create")
        .args([
            "--name", "lab", "-l", "a=1", "--label", "b", "busybox", "true",
        ])
        .ok();
    let o = env
        .cmd("inspect")
        .args(["--format", "{{json .Config.Labels}}", "lab"])
        .ok();
    assert_eq!(o.stdout, "{\"a\":\"1\",\"b\":\"\"}\n");
    let o = env
        .cmd("inspect")
        .args(["--format", "{{index .Config.Labels \"a\"}}", "lab"])
        .ok();
    assert_eq!(o.stdout, "1\n");
    let o = env.cmd("ps").args(["-a", "-q", "-f", "label=a=1"]).ok();
    assert_eq!(o.stdout.trim().len(), 12, "{o}");
    let o = env.cmd("ps").args(["-a", "-q", "-f", "label=a=2"]).ok();
    assert_eq!(o.stdout, "");
    env.cmd("rm").arg("lab").ok();
}
