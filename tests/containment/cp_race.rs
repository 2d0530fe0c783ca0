//! `cairn cp` against a running container that swaps its paths with
//! symlinks to a host directory (`c/exchange.c`, as in `commit_race`):
//! docker's CVE-2018-15664, where `docker cp` resolved the container's
//! path on the host and so followed a symlink the container had swapped in
//! between the check and the use. Both directions, files, directories and
//! tar streams, and a hostile tar stream copied in.
//!
//! Inside the container the symlinks point at the host directory's path,
//! which does not exist there: resolved in the container's root (as cairn
//! resolves), they lead nowhere, so a copy may fail with ENOENT. Resolved
//! on the host (`/proc/PID/root/x/s` walked by the host's kernel, as docker
//! once did), they lead to the host's files. A copy out must never hold the
//! host's secret; a copy in must never write into the host directory.

use super::commit_race::{contains, swapping_container, Remove};
use super::{image_with, Tally};
use crate::harness::{bin, Env, TarBuilder};

use std::path::Path;
use std::time::{Duration, Instant};

const ATTACK: Duration = Duration::from_secs(6);

/// A tar of (name, type, link target) entries, names written as given
/// (the tar crate's builder refuses `..` and absolute names); each file
/// holds `X`.
fn raw_tar(entries: &[(&str, tar::EntryType, &str)]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for &(name, kind, link) in entries {
        let mut h = tar::Header::new_gnu();
        assert!(
            name.len() < 100 && link.len() < 100,
            "{name} {link}: too long"
        );
        h.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
        h.as_old_mut().linkname[..link.len()].copy_from_slice(link.as_bytes());
        h.set_entry_type(kind);
        h.set_mode(0o755);
        h.set_uid(0);
        h.set_gid(0);
        let data: &[u8] = if kind == tar::EntryType::Regular {
            b"X"
        } else {
            b""
        };
        h.set_size(data.len() as u64);
        h.set_mtime(1_700_000_000);
        h.set_cksum();
        b.append(&h, data).unwrap();
    }
    b.into_inner().unwrap()
}

/// Every regular file's bytes below `p` (symlinks not followed).
fn all_bytes(p: &Path) -> Vec<u8> {
    let m = std::fs::symlink_metadata(p).unwrap();
    if m.is_file() {
        return std::fs::read(p).unwrap();
    }
    let mut out = Vec::new();
    if m.is_dir() {
        for e in std::fs::read_dir(p).unwrap() {
            out.extend(all_bytes(&e.unwrap().path()));
        }
    }
    out
}

/// The host directory as it must stay: only `key`, with the marker.
fn untouched(secret: &Path, marker: &str, what: &str) {
    let mut names: Vec<String> = std::fs::read_dir(secret)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["key"], "{what}: wrote into the host directory");
    let key = std::fs::read_to_string(secret.join("key")).unwrap();
    assert_eq!(key, format!("{marker}\n"), "{what}: wrote the host's file");
}

#[test]
fn cp_out_of_a_swapping_container_never_reads_the_host() {
    let env = Env::new("containment-cp-out-race");
    let (id, marker) = swapping_container(&env);
    let _rm = Remove(&env, id.clone());
    // the plain CVE-2018-15664 case first: a symlink standing still
    for src in ["/x/s/key", "/x/l"] {
        let out = env.path("still");
        let o = env
            .cmd("cp")
            .args(["-L", &format!("{id}:{src}")])
            .arg(&out)
            .run();
        if out.exists() {
            assert!(!contains(&all_bytes(&out), &marker), "cp -L {src}: {o}");
            let _ = std::fs::remove_dir_all(&out).or_else(|_| std::fs::remove_file(&out));
        }
    }
    let sources = ["/x/d/key", "/x/d", "/x/f", "/x/", "/x/d/."];
    let mut t = Tally::default();
    let start = Instant::now();
    while start.elapsed() < ATTACK {
        for (i, src) in sources.iter().enumerate() {
            let out = env.path(&format!("out-{}-{i}", t.tries));
            let mut c = env.cmd("cp");
            if i % 2 == 0 {
                c = c.arg("-L");
            }
            let o = c.arg(format!("{id}:{src}")).arg(&out).run();
            t.add(o.code, &o.stderr);
            if out.exists() {
                assert!(
                    !contains(&all_bytes(&out), &marker),
                    "cp {src}: the copy holds the host's secret ({t:?})"
                );
                let _ = std::fs::remove_dir_all(&out).or_else(|_| std::fs::remove_file(&out));
            }
            // and as a tar stream on stdout
            let o = std::process::Command::new(bin("cp"))
                .args([&format!("{id}:{src}"), "-"])
                .env("CAIRN_ROOT", &env.root)
                .output()
                .unwrap();
            t.add(o.status.code(), &String::from_utf8_lossy(&o.stderr));
            assert!(
                !contains(&o.stdout, &marker),
                "cp {src} -: the tar holds the host's secret ({t:?})"
            );
        }
    }
    eprintln!("cp out race: {t:?}");
    t.some_ok();
}

#[test]
fn cp_into_a_swapping_container_never_writes_the_host() {
    let env = Env::new("containment-cp-in-race");
    let (id, marker) = swapping_container(&env);
    let _rm = Remove(&env, id.clone());
    let secret = env.path("secret");
    let src = env.path("payload");
    std::fs::write(&src, "PAYLOAD\n").unwrap();
    let srcdir = env.path("pdir");
    std::fs::create_dir_all(&srcdir).unwrap();
    std::fs::write(srcdir.join("key"), "PAYLOAD\n").unwrap();
    let tar = TarBuilder::new()
        .file("key", 0o644, b"PAYLOAD\n")
        .file("new", 0o644, b"PAYLOAD\n")
        .build();
    let dests = ["/x/d/", "/x/s/", "/x/d/key", "/x/s/key", "/x/l", "/x/f"];
    let mut t = Tally::default();
    let start = Instant::now();
    while start.elapsed() < ATTACK {
        for dest in dests {
            let to = format!("{id}:{dest}");
            for from in [&src, &srcdir] {
                let o = env.cmd("cp").arg(from).arg(&to).run();
                t.add(o.code, &o.stderr);
            }
            if dest.ends_with('/') {
                let o = env.cmd("cp").args(["-", &to]).stdin(tar.clone()).run();
                t.add(o.code, &o.stderr);
            }
            untouched(&secret, &marker, &format!("cp to {dest} ({t:?})"));
        }
    }
    eprintln!("cp in race: {t:?}");
    t.some_ok();
}

/// A tar stream copied in whose entries try to leave the directory it is
/// extracted into: `..`, a symlink of its own to the host directory (by
/// its absolute path and by enough `..`) and then a file through it, a
/// hard link to a host file, a directory over a symlink. Each either lands
/// inside the container or is refused in one line; the host directory
/// stays as it was.
#[test]
fn hostile_tar_copied_in_stays_in_the_container() {
    let env = Env::new("containment-cp-hostile-tar");
    let secret = env.path("secret");
    std::fs::create_dir_all(&secret).unwrap();
    let marker = "HOST-SECRET-cp-hostile-tar";
    std::fs::write(secret.join("key"), format!("{marker}\n")).unwrap();
    image_with(&env, "plain", &[]);
    let id = env
        .cmd("run")
        .args(["-d", "plain", "sh", "-c", "mkdir /x && sleep 60"])
        .ok()
        .id();
    let _rm = Remove(&env, id.clone());
    crate::harness::wait_for("/x", Duration::from_secs(10), || {
        env.cmd("exec").args([&id, "test", "-d", "/x"]).run().code == Some(0)
    });
    let host = secret.display().to_string();
    let up = format!("../../../../../..{host}");
    use tar::EntryType::{Directory as D, Link as H, Regular as F, Symlink as L};
    let abs = format!("{host}/abs");
    let key = format!("{host}/key");
    let upkey = format!("{up}/key");
    let tars: Vec<(&str, Vec<u8>)> = vec![
        ("dotdot", raw_tar(&[("../../escape", F, "")])),
        ("absolute", raw_tar(&[(&abs, F, "")])),
        (
            "symlink then file",
            raw_tar(&[("ln", L, &host), ("ln/through", F, "")]),
        ),
        (
            "relative symlink then file",
            raw_tar(&[("up", L, &up), ("up/through", F, "")]),
        ),
        (
            "symlink then directory",
            raw_tar(&[("ln2", L, &host), ("ln2", D, "")]),
        ),
        (
            "symlink to a file, then the file",
            raw_tar(&[("k", L, &key), ("k", F, "")]),
        ),
        ("hard link to the host file", raw_tar(&[("hl", H, &key)])),
        ("hard link up", raw_tar(&[("hl2", H, &upkey)])),
    ];
    let mut t = Tally::default();
    for (what, tar) in &tars {
        let o = env
            .cmd("cp")
            .args(["-", &format!("{id}:/x")])
            .stdin(tar.clone())
            .run();
        t.add(o.code, &o.stderr);
        untouched(&secret, marker, &format!("{what}: {o}"));
        if *what == "dotdot" {
            assert_ne!(o.code, Some(0), "{what} is refused: {o}");
        }
    }
    eprintln!("hostile tar: {t:?}");
    // what did land, landed in the container
    let o = env
        .cmd("exec")
        .args([&id, "cat", &format!("/x{abs}"), "/x/k"])
        .ok();
    assert_eq!(o.stdout, "XX", "{o}");
}
