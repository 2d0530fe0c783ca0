//! Layers and builds that docker and containerd accept though they look
//! odd, applied as they apply them: a symlink of a lower layer followed
//! inside the stack (merged /usr), absolute names, `a/../b`, a path given
//! twice; and
//! COPY through the image's symlinks. Checked by running the image, and
//! against a real docker engine on the same tars and the same Dockerfile.

use crate::commit::tar_listing;
use crate::fixtures::docker;
use crate::harness::{busybox_image, s, Env, TarBuilder};
use crate::interop::engine_paths;
use std::collections::BTreeMap;
use tar::EntryType;

const F: EntryType = EntryType::Regular;

/// A tar of (name, type, content) entries, names written as given:
/// absolute ones and repeated ones too (the tar crate's builder refuses
/// the first).
fn raw_tar(entries: &[(&str, EntryType, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for &(name, kind, data) in entries {
        let mut h = tar::Header::new_gnu();
        h.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
        h.set_entry_type(kind);
        h.set_mode(if kind == EntryType::Directory {
            0o755
        } else {
            0o644
        });
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(1_700_000_000);
        h.set_size(data.len() as u64);
        h.set_cksum();
        b.append(&h, data).unwrap();
    }
    b.into_inner().unwrap()
}

fn unpack(env: &Env, tar: Vec<u8>, parent: &str) -> String {
    let r = env
        .cmd("layer-unpack")
        .args(["--parent", parent])
        .stdin(tar)
        .ok()
        .record();
    s(&r, "layer").to_string()
}

/// busybox; a merged-/usr layer (`lib -> usr/lib`, `abs -> /usr/lib`,
/// `usr/share/old`); then a layer written as if `lib` and `abs` were
/// directories, with an absolute name, `usr/share` whited out and made
/// again, and (`all`) a path given twice and a file in a directory
/// the layer does not give. Tagged `tag`; the layers, bottom first.
fn merged_usr(env: &Env, tag: &str, all: bool) -> Vec<String> {
    let base = busybox_image(env);
    let usr = TarBuilder::new()
        .dir("usr", 0o755)
        .dir("usr/lib", 0o755)
        .symlink("lib", "usr/lib")
        .symlink("abs", "/usr/lib")
        .dir("usr/share", 0o755)
        .file("usr/share/old", 0o644, b"old\n")
        .build();
    let l1 = unpack(env, usr, &base);
    let mut entries: Vec<(&str, EntryType, &[u8])> = vec![
        ("lib/x", F, b"through the link\n"),
        ("/abs/y", F, b"absolute, through an absolute link\n"),
        ("etc/dup", F, b"first\n"),
        // cleaned lexically, as docker does: etc/dotdot
        ("etc/gone/../dotdot", F, b"cleaned\n"),
        // whited out, then made again: nothing of the old one shows
        ("usr/.wh.share", F, b""),
        ("usr/share/", EntryType::Directory, b""),
        ("usr/share/new", F, b"new\n"),
    ];
    if all {
        entries.push(("etc/dup", F, b"second\n"));
        entries.push(("lib/sub/z", F, b"in a new directory\n"));
    }
    let odd = raw_tar(&entries);
    let l2 = unpack(env, odd, &l1);
    env.cmd("tag").args([&l2, tag]).ok();
    vec![base, l1, l2]
}

/// The files the merged-/usr image must show, and what they hold.
const SHOWN: &[(&str, &str)] = &[
    ("/usr/lib/x", "through the link\n"),
    ("/usr/lib/y", "absolute, through an absolute link\n"),
    ("/usr/lib/sub/z", "in a new directory\n"),
    ("/etc/dup", "second\n"),
    ("/etc/dotdot", "cleaned\n"),
];

#[test]
fn links_below_are_followed_into_the_stack() {
    let env = Env::new("compat-merged-usr");
    let layers = merged_usr(&env, "merged:1", true);
    // the odd layer holds its files where the union shows them
    let diff = env.root.join("layers").join(&layers[2][7..]).join("diff");
    for (path, content) in SHOWN {
        let got = std::fs::read_to_string(diff.join(&path[1..])).unwrap();
        assert_eq!(got, *content, "{path}");
    }
    for hidden in ["lib", "abs"] {
        assert!(
            std::fs::symlink_metadata(diff.join(hidden)).is_err(),
            "{hidden}"
        );
    }
    // and the container sees them, through the links too
    let o = env
        .cmd("run")
        .args([
            "merged:1",
            "sh",
            "-c",
            "cat /usr/lib/x /lib/x /abs/y /etc/dup /lib/sub/z; readlink /lib; readlink /abs; \
             ls /usr/share",
        ])
        .ok();
    assert_eq!(
        o.stdout,
        "through the link\nthrough the link\nabsolute, through an absolute link\n\
         second\nin a new directory\nusr/lib\n/usr/lib\nnew\n"
    );
}

/// A container's flat view as a listing, without what each engine adds
/// to every container.
fn view(tar: &[u8]) -> BTreeMap<String, String> {
    tar_listing(tar)
        .into_iter()
        .map(|(k, v)| (k.trim_start_matches("./").to_string(), v))
        .filter(|(k, _)| !k.is_empty() && !engine_paths(k))
        .collect()
}

fn cairn_view(env: &Env, tag: &str) -> BTreeMap<String, String> {
    let c = env
        .cmd("union-mount")
        .args(["--no-mount", tag])
        .ok()
        .record();
    let out = std::process::Command::new(crate::harness::bin("export"))
        .arg(s(&c, "container"))
        .env("CAIRN_ROOT", &env.root)
        .output()
        .unwrap();
    assert!(out.status.success(), "cairn export failed");
    view(&out.stdout)
}

fn docker_view(env: &Env, tag: &str) -> BTreeMap<String, String> {
    let id = docker().ok(&["create", tag, "true"]).trim().to_string();
    let tar = env.path("docker-export.tar");
    docker().ok(&["export", "-o", tar.to_str().unwrap(), &id]);
    docker().ok(&["rm", &id]);
    view(&std::fs::read(&tar).unwrap())
}

fn assert_same(ours: &BTreeMap<String, String>, theirs: &BTreeMap<String, String>) {
    let differ: Vec<String> = ours
        .keys()
        .chain(theirs.keys())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .filter(|k| ours.get(*k) != theirs.get(*k))
        .map(|k| format!("{k}: cairn {:?} / docker {:?}", ours.get(k), theirs.get(k)))
        .collect();
    assert!(differ.is_empty(), "{}", differ.join("\n"));
}

/// The same layers in docker's engine: the same tree. Without the path
/// given twice: dockerd's layer store records a tar-split of every layer
/// and refuses a tar with two entries of one path ("duplicates of file
/// paths not supported"); containerd's applier takes the last one, as
/// cairn does. And without a file in a directory the layer does not give:
/// dockerd makes such a directory with mode 0600, cairn with the mode the
/// layers below give it, else 0755.
#[test]
fn docker_applies_the_same_layers_the_same_way() {
    let env = Env::new("compat-docker-layers");
    merged_usr(&env, "compat-merged:1", false);
    let archive = env.path("merged.tar");
    env.cmd("save")
        .args(["-o", archive.to_str().unwrap(), "compat-merged:1"])
        .ok();
    docker().ok(&["load", "-i", archive.to_str().unwrap()]);
    let ours = cairn_view(&env, "compat-merged:1");
    assert!(ours.contains_key("usr/lib/x"));
    assert_same(&ours, &docker_view(&env, "compat-merged:1"));
}

#[test]
fn copy_follows_the_image_links_as_docker_does() {
    let env = Env::new("compat-copy");
    merged_usr(&env, "compat-copy-base:1", false);
    let archive = env.path("base.tar");
    env.cmd("save")
        .args(["-o", archive.to_str().unwrap(), "compat-copy-base:1"])
        .ok();
    let ctx = env.path("ctx");
    std::fs::create_dir_all(ctx.join("d")).unwrap();
    std::fs::write(ctx.join("lib.so"), "a library\n").unwrap();
    std::fs::write(ctx.join("f"), "f\n").unwrap();
    std::fs::write(ctx.join("d/inside"), "inside d\n").unwrap();
    std::fs::write(
        ctx.join("Dockerfile"),
        "FROM compat-copy-base:1\n\
         COPY lib.so /lib/\n\
         RUN ln -s /usr/lib /x\n\
         COPY f /x/y\n\
         COPY d /x/\n",
    )
    .unwrap();
    env.cmd("build")
        .args(["-t", "compat-copy:1"])
        .arg(&ctx)
        .ok();
    let o = env
        .cmd("run")
        .args([
            "compat-copy:1",
            "sh",
            "-c",
            "cat /usr/lib/lib.so /usr/lib/y /usr/lib/inside; readlink /lib; readlink /x",
        ])
        .ok();
    assert_eq!(o.stdout, "a library\nf\ninside d\nusr/lib\n/usr/lib\n");

    docker().ok(&["load", "-i", archive.to_str().unwrap()]);
    let out = docker().run_env(
        &["build", "-q", "-t", "compat-copy:1", ctx.to_str().unwrap()],
        &[("DOCKER_BUILDKIT", "0")],
    );
    assert!(
        out.status.success(),
        "docker build failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let keep = |m: BTreeMap<String, String>| -> BTreeMap<String, String> {
        // what COPY and RUN wrote, and the links they went through
        m.into_iter()
            .filter(|(k, _)| k.starts_with("usr") || ["lib", "x", "abs"].contains(&k.as_str()))
            .collect()
    };
    assert_same(
        &keep(cairn_view(&env, "compat-copy:1")),
        &keep(docker_view(&env, "compat-copy:1")),
    );
}
