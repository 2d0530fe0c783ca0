//! cairn beside the real Docker engine on the same image: build history
//! and export.

use crate::commit::tar_listing;
use crate::fixtures::{docker, peers};
use crate::harness::{s, Env};
use std::collections::BTreeMap;

/// The peer busybox image, in docker and in a cairn store; returns the tag.
pub(crate) fn same_image(env: &Env, tag: &str) -> String {
    let archive = peers().join("docker-save.tar");
    env.cmd("load").arg(&archive).ok();
    env.cmd("tag").args(["busybox:latest", tag]).ok();
    docker().ok(&["load", "-i", archive.to_str().unwrap()]);
    docker().ok(&["tag", "busybox:latest", tag]);
    tag.to_string()
}

/// `diff` lists what `docker diff` lists after the same commands in the
/// same image (sorted by path, where docker keeps the file system's order).
#[test]
fn diff_lists_what_docker_diff_lists() {
    let env = Env::new("interop-diff");
    let tag = same_image(&env, "diffbase:1");
    let script = "echo me >> /etc/passwd; echo new > /etc/new; rm /bin/ls; \
                  mkdir -p /opt/app/x; touch /opt/app/x/f; touch /etc/group";
    let c = env
        .cmd("run")
        .args(["-d", &tag, "sh", "-c", script])
        .ok()
        .id();
    env.cmd("wait").arg(&c).ok();
    let ours = env.cmd("diff").arg(&c).ok().stdout;
    let id = docker().ok(&["run", "-d", "--network", "none", &tag, "sh", "-c", script]);
    let id = id.trim();
    docker().ok(&["wait", id]);
    let theirs = docker().ok(&["diff", id]);
    docker().ok(&["rm", id]);
    // docker lists a directory's entries in the order it reads them from
    // the file system; cairn sorts them
    let mut sorted: Vec<&str> = theirs.lines().collect();
    sorted.sort_by_key(|l| &l[2..]);
    assert_eq!(ours.lines().collect::<Vec<_>>(), sorted);
    assert!(ours.contains("D /bin/ls\n"), "{ours}");
}

const DOCKERFILE: &str = r#"FROM {BASE}
ARG FLAVOUR=plain
ENV APP=/srv GREETING="hello there"
WORKDIR $APP
COPY msg.txt .
COPY dir /srv/dir/
ADD arch.tar /unpacked/
RUN echo "$FLAVOUR $GREETING" > /srv/built
LABEL org.example.name=demo
EXPOSE 8080
VOLUME /data
USER root
STOPSIGNAL SIGTERM
SHELL ["/bin/sh", "-c"]
ENTRYPOINT ["/bin/sh", "-c"]
CMD ["cat /srv/msg.txt /srv/built"]
"#;

fn normalize(created_by: &str) -> String {
    // COPY/ADD name their content by a digest each builder computes its own way
    let mut out = String::new();
    let mut rest = created_by;
    while let Some(i) = rest.find(':') {
        let (head, tail) = rest.split_at(i);
        let hex: String = tail[1..]
            .chars()
            .take_while(|c| c.is_ascii_hexdigit())
            .collect();
        out.push_str(head);
        if hex.len() == 64
            && (head.ends_with("file") || head.ends_with("dir") || head.ends_with("multi"))
        {
            out.push_str(":<digest>");
            rest = &tail[1 + 64..];
        } else {
            out.push(':');
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    out
}

#[test]
fn build_history_reads_like_docker() {
    let env = Env::new("interop-build");
    let base = same_image(&env, "interop-base:1");
    let ctx = env.path("ctx");
    std::fs::create_dir_all(ctx.join("dir/sub")).unwrap();
    std::fs::write(ctx.join("Dockerfile"), DOCKERFILE.replace("{BASE}", &base)).unwrap();
    std::fs::write(ctx.join("msg.txt"), "from the context\n").unwrap();
    std::fs::write(ctx.join("dir/sub/x"), "x\n").unwrap();
    let inner = env.path("inner");
    std::fs::create_dir_all(&inner).unwrap();
    std::fs::write(inner.join("inner.txt"), "inner\n").unwrap();
    assert!(std::process::Command::new("tar")
        .arg("-C")
        .arg(&inner)
        .arg("-cf")
        .arg(ctx.join("arch.tar"))
        .arg("inner.txt")
        .status()
        .unwrap()
        .success());

    env.cmd("build").args(["-t", "interop:1"]).arg(&ctx).ok();
    let out = docker().run_env(
        &["build", "-q", "-t", "interop:1", ctx.to_str().unwrap()],
        &[("DOCKER_BUILDKIT", "0")],
    );
    assert!(
        out.status.success(),
        "docker build failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // the same rows, top first: created_by and which ones are empty
    let ours = env.records("history", &["interop:1"]);
    let theirs: Vec<serde_json::Value> = docker()
        .ok(&[
            "history",
            "--no-trunc",
            "--format",
            "{{json .}}",
            "interop:1",
        ])
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        ours.len(),
        theirs.len(),
        "ours: {ours:#?}\ntheirs: {theirs:#?}"
    );
    let mut diffs = Vec::new();
    for (o, t) in ours.iter().zip(&theirs) {
        let mine = normalize(o["created_by"].as_str().unwrap_or(""));
        let docker = normalize(t["CreatedBy"].as_str().unwrap_or(""));
        if mine != docker {
            diffs.push(format!("cairn:  {mine}\ndocker: {docker}"));
        }
        let docker_empty = t["Size"] == "0B";
        let ours_empty = o["empty_layer"] == true || o["size"] == 0;
        if docker_empty != ours_empty {
            diffs.push(format!(
                "{mine}: docker size {} vs ours {}",
                t["Size"], o["size"]
            ));
        }
    }
    assert!(
        diffs.is_empty(),
        "history differs from docker's:\n{}",
        diffs.join("\n")
    );
    // and both run to the same output
    let ours = env.cmd("run").arg("interop:1").ok().stdout;
    let theirs = docker().ok(&["run", "--rm", "--network", "none", "interop:1"]);
    assert_eq!(ours, theirs);
}

/// docker's init layer adds these to every container; cairn's adds the
/// mount points /proc, /sys and /dev.
pub(crate) fn engine_paths(p: &str) -> bool {
    matches!(
        p,
        ".dockerenv"
            | "etc/hostname"
            | "etc/hosts"
            | "etc/resolv.conf"
            | "etc/mtab"
            | "proc"
            | "sys"
            | "dev"
    ) || p.starts_with("dev/")
}

#[test]
fn export_agrees_with_docker_export() {
    let env = Env::new("interop-export");
    let tag = same_image(&env, "interop-export:1");
    let c = env
        .cmd("union-mount")
        .args(["--no-mount", &tag])
        .ok()
        .record();
    let ours = std::process::Command::new(crate::harness::bin("export"))
        .arg(s(&c, "container"))
        .env("CAIRN_ROOT", &env.root)
        .output()
        .unwrap();
    assert!(ours.status.success());
    let id = docker().ok(&["create", &tag]).trim().to_string();
    let tar = env.path("docker-export.tar");
    docker().ok(&["export", "-o", tar.to_str().unwrap(), &id]);
    docker().ok(&["rm", &id]);
    let strip = |m: BTreeMap<String, String>| -> BTreeMap<String, String> {
        m.into_iter()
            .filter(|(k, _)| !engine_paths(k.trim_start_matches("./")))
            .collect()
    };
    let a = strip(tar_listing(&ours.stdout));
    let b = strip(tar_listing(&std::fs::read(&tar).unwrap()));
    let only_ours: Vec<&String> = a.keys().filter(|k| !b.contains_key(*k)).collect();
    let only_theirs: Vec<&String> = b.keys().filter(|k| !a.contains_key(*k)).collect();
    assert!(
        only_ours.is_empty() && only_theirs.is_empty(),
        "only cairn: {only_ours:?}\nonly docker: {only_theirs:?}"
    );
    // same contents (type, mode, owner, size, data or link target)
    let differ: Vec<String> = a
        .iter()
        .filter(|(k, v)| b.get(*k) != Some(v))
        .map(|(k, v)| format!("{k}: cairn {v} / docker {}", b[k]))
        .collect();
    assert!(differ.is_empty(), "{}", differ.join("\n"));
    assert!(
        !a.contains_key("etc/issue"),
        "the whiteout of layer 2 was not applied"
    );
}

#[test]
fn committed_layer_runs_in_docker() {
    // run, modify, commit in cairn; save; docker load; docker run prints it
    let env = Env::new("interop-commit");
    crate::harness::busybox_image(&env);
    let c = env.cmd("union-mount").arg("busybox").ok().record();
    let id = s(&c, "container").to_string();
    env.cmd("isolate")
        .args([
            &id,
            "--",
            "sh",
            "-c",
            "echo committed by cairn > /etc/committed; rm /etc/group",
        ])
        .ok();
    env.cmd("commit")
        .args(["-m", "for docker", &id, "committed:1"])
        .ok();
    let archive = env.path("committed.tar");
    env.cmd("save")
        .args(["-o", archive.to_str().unwrap(), "committed:1"])
        .ok();
    docker().ok(&["load", "-i", archive.to_str().unwrap()]);
    let out = docker().ok(&[
        "run",
        "--rm",
        "--network",
        "none",
        "committed:1",
        "sh",
        "-c",
        "cat /etc/committed; ls /etc/group 2>&1 || true",
    ]);
    assert!(out.starts_with("committed by cairn\n"), "{out}");
    assert!(
        out.contains("No such file"),
        "the deletion did not reach docker: {out}"
    );
    let hist = docker().ok(&[
        "history",
        "--no-trunc",
        "--format",
        "{{.Comment}}",
        "committed:1",
    ]);
    assert_eq!(hist.lines().next(), Some("for docker"), "{hist}");
    env.cmd("rm").arg(&id).ok();
}
