//! commit and export: the upper dir becomes exactly the expected changeset,
//! and the flat export matches the mounted view.

use crate::harness::{blob_of, busybox_tar, s, wait_for, Env, TarBuilder};
use std::collections::BTreeMap;
use std::io::Read;
use std::time::Duration;

/// A listing of a tar: name → "type mode uid:gid size link/content-digest xattrs".
pub fn tar_listing(data: &[u8]) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut a = tar::Archive::new(data);
    for e in a.entries().unwrap() {
        let mut e = e.unwrap();
        let name = String::from_utf8_lossy(&e.path_bytes())
            .trim_end_matches('/')
            .to_string();
        let h = e.header().clone();
        let mut xattrs = Vec::new();
        if let Some(pax) = e.pax_extensions().unwrap() {
            for x in pax {
                let x = x.unwrap();
                if let Ok(k) = x.key() {
                    if k.starts_with("SCHILY.xattr.") {
                        xattrs.push(format!("{k}={}", String::from_utf8_lossy(x.value_bytes())));
                    }
                }
            }
        }
        let link = e
            .link_name_bytes()
            .map(|l| String::from_utf8_lossy(&l).into_owned())
            .unwrap_or_default();
        let mut data = Vec::new();
        e.read_to_end(&mut data).unwrap();
        let digest = {
            use sha2::Digest;
            format!("{:x}", sha2::Sha256::digest(&data))[..12].to_string()
        };
        out.insert(
            name,
            format!(
                "{:?} {:o} {}:{} {} {} {}",
                h.entry_type(),
                h.mode().unwrap() & 0o7777,
                h.uid().unwrap(),
                h.gid().unwrap(),
                data.len(),
                if link.is_empty() { digest } else { link },
                xattrs.join(",")
            ),
        );
    }
    out
}

fn base_image(env: &Env) -> String {
    let b = env.cmd("layer-unpack").stdin(busybox_tar()).ok().record();
    let t = TarBuilder::new()
        .dir("etc", 0o755)
        .file("etc/keep", 0o644, b"keep\n")
        .file("etc/change", 0o644, b"before\n")
        .file("etc/delete", 0o644, b"bye\n")
        .dir("olddir", 0o755)
        .file("olddir/a", 0o644, b"a\n")
        .file("olddir/b", 0o644, b"b\n")
        .dir("olddir/sub", 0o755)
        .file("olddir/sub/c", 0o644, b"c\n")
        .file("file2dir", 0o644, b"i was a file\n")
        .dir("deldir", 0o755)
        .file("deldir/x", 0o644, b"x\n")
        .file("touched", 0o644, b"same\n")
        .build();
    let top = env
        .cmd("layer-unpack")
        .args(["--parent", s(&b, "layer")])
        .stdin(t)
        .ok()
        .record();
    env.cmd("tag").args([s(&top, "layer"), "base"]).ok();
    s(&top, "layer").to_string()
}

fn export(env: &Env, subject: &str) -> Vec<u8> {
    let out = std::process::Command::new(crate::harness::bin("export"))
        .arg(subject)
        .env("CAIRN_ROOT", &env.root)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

#[test]
fn commit_writes_exactly_the_changes() {
    let env = Env::new("commit-exact");
    base_image(&env);
    let c = env.cmd("union-mount").arg("base").ok().record();
    let id = s(&c, "container").to_string();
    // an xattr, set through the mounted view from the host
    let rootfs = std::path::PathBuf::from(s(&c, "rootfs"));
    std::fs::write(rootfs.join("xattr-file"), b"x\n").unwrap();
    let p = std::ffi::CString::new(rootfs.join("xattr-file").to_str().unwrap()).unwrap();
    // SAFETY: valid C strings and buffer.
    let rc = unsafe {
        libc::lsetxattr(
            p.as_ptr(),
            c"user.cairn".as_ptr(),
            b"yes".as_ptr().cast(),
            3,
            0,
        )
    };
    assert_eq!(
        rc,
        0,
        "setting an xattr: {}",
        std::io::Error::last_os_error()
    );
    let script = "echo changed > /etc/change; rm /etc/delete; \
                  rm -rf /olddir; mkdir /olddir; echo new > /olddir/n; \
                  rm /file2dir; mkdir /file2dir; echo inside > /file2dir/f; \
                  rm -rf /deldir; echo new > /newfile; ln /newfile /newlink; \
                  mkdir -p /newdir/deep; echo d > /newdir/deep/f; \
                  : >> /touched; touch /ghost; rm /ghost";
    env.cmd("isolate")
        .args([&id, "--", "sh", "-c", script])
        .ok();
    let before = export(&env, &id);
    let r = env
        .cmd("commit")
        .args(["-m", "the changes", &id])
        .ok()
        .record();
    let layer = s(&r, "layer").to_string();
    let listing = tar_listing(&blob_of(&env, &layer));
    let names: Vec<&str> = listing.keys().map(String::as_str).collect();
    let mut expected = vec![
        ".wh.deldir",
        "etc",
        "etc/.wh.delete",
        "etc/change",
        "file2dir",
        "file2dir/f",
        "newdir",
        "newdir/deep",
        "newdir/deep/f",
        "newfile",
        "newlink",
        "olddir",
        "olddir/.wh.a",
        "olddir/.wh.b",
        "olddir/.wh.sub",
        "olddir/n",
        "xattr-file",
    ];
    expected.sort();
    assert_eq!(names, expected, "{listing:#?}");
    assert!(
        listing["newlink"].starts_with("Link"),
        "{}",
        listing["newlink"]
    );
    assert!(
        listing["xattr-file"].contains("SCHILY.xattr.user.cairn=yes"),
        "{}",
        listing["xattr-file"]
    );
    // history: the new layer sits on the image, with the message
    let h = env.records("history", &[&layer]);
    assert_eq!(h[0]["comment"], "the changes");
    assert_eq!(s(&h[0], "parent"), s(&c, "layer"));
    // a container on the new layer sees the same union view
    let c2 = env
        .cmd("union-mount")
        .args(["--no-mount", &layer])
        .ok()
        .record();
    let after = export(&env, s(&c2, "container"));
    let (a, b) = (tar_listing(&before), tar_listing(&after));
    for k in a.keys().chain(b.keys()) {
        assert_eq!(
            a.get(k),
            b.get(k),
            "{k} differs between the container and its commit"
        );
    }
    // the container keeps its layer and commits again to the same changes
    let again = env
        .cmd("commit")
        .args(["-m", "the changes", &id])
        .ok()
        .record();
    assert_eq!(again["diff_id"], r["diff_id"]);
}

#[test]
fn commit_changes_config_and_clamps_time() {
    let env = Env::new("commit-config");
    base_image(&env);
    let c = env
        .cmd("union-mount")
        .args(["--no-mount", "base", "--", "true"])
        .ok()
        .record();
    let id = s(&c, "container").to_string();
    env.cmd("isolate").arg(&id).ok();
    let r = env
        .cmd("commit")
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .args([
            "--change",
            "CMD [\"cat\", \"/etc/keep\"]",
            "--change",
            "ENV A=1",
            "-a",
            "me",
            &id,
            "app:1",
        ])
        .ok()
        .record();
    assert_eq!(r["tag"], "app:1");
    let i = env.records("inspect", &["app:1"]);
    assert_eq!(i[0]["created"], "2023-11-14T22:13:20Z");
    assert_eq!(i[0]["author"], "me");
    assert_eq!(
        i[0]["effective_config"]["Cmd"],
        serde_json::json!(["cat", "/etc/keep"])
    );
    let o = env.cmd("run").arg("app:1").ok();
    assert_eq!(o.stdout, "keep\n");
    // SOURCE_DATE_EPOCH makes the commit reproducible
    let again = env
        .cmd("commit")
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .args([
            "--change",
            "CMD [\"cat\", \"/etc/keep\"]",
            "--change",
            "ENV A=1",
            "-a",
            "me",
            &id,
        ])
        .ok()
        .record();
    assert_eq!(again["layer"], r["layer"]);
    env.cmd("commit")
        .args(["--change", "RUN rm -rf /", &id])
        .fails(1);
}

#[test]
fn commit_a_running_container() {
    let env = Env::new("commit-running");
    base_image(&env);
    let id = env
        .cmd("run")
        .args([
            "-d",
            "base",
            "sh",
            "-c",
            "i=0; while :; do i=$((i+1)); echo $i > /count; sleep 0.02; done",
        ])
        .ok()
        .id();
    let upper = env.root.join("containers").join(&id).join("upper");
    wait_for("the counter file", Duration::from_secs(10), || {
        upper.join("count").exists()
    });
    let r = env.cmd("commit").arg(&id).ok().record();
    let listing = tar_listing(&blob_of(&env, s(&r, "layer")));
    assert!(listing.contains_key("count"), "{listing:?}");
    // still running after the commit
    let ps = env.cmd("ps").args(["--format", "json"]).ok().records();
    assert_eq!(ps.len(), 1);
    assert_eq!(s(&ps[0], "status"), "running");
    env.cmd("rm").args(["-f", &id]).ok();
}

#[test]
fn export_matches_the_mounted_view() {
    let env = Env::new("export-view");
    base_image(&env);
    let c = env.cmd("union-mount").arg("base").ok().record();
    let root = std::path::PathBuf::from(s(&c, "rootfs"));
    std::fs::write(root.join("etc/change"), b"after\n").unwrap();
    std::fs::remove_file(root.join("etc/delete")).unwrap();
    let tar = export(&env, s(&c, "container"));
    // same bytes twice
    assert_eq!(tar, export(&env, s(&c, "container")));
    let listing = tar_listing(&tar);
    // every path of the mounted view is in the tar, with its mode and contents
    let mut seen = 0;
    let mut stack = vec![root.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            let rel = p
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let m = std::fs::symlink_metadata(&p).unwrap();
            let entry = listing
                .get(&rel)
                .unwrap_or_else(|| panic!("{rel} missing from export"));
            use std::os::unix::fs::MetadataExt;
            assert!(
                entry.contains(&format!(" {:o} ", m.mode() & 0o7777)),
                "{rel}: {entry}"
            );
            if m.is_file() {
                let data = std::fs::read(&p).unwrap();
                use sha2::Digest;
                let d = format!("{:x}", sha2::Sha256::digest(&data))[..12].to_string();
                assert!(
                    entry.contains(&d) || entry.starts_with("Link"),
                    "{rel}: {entry}"
                );
            }
            if m.is_dir() {
                stack.push(p);
            }
            seen += 1;
        }
    }
    assert_eq!(seen, listing.len());
    assert!(!listing.contains_key("etc/delete"));
    // an image exports too, and a terminal is refused
    let img = export(&env, "base");
    assert!(tar_listing(&img).contains_key("etc/delete"));
    env.cmd("union-mount")
        .args(["--unmount", s(&c, "container")])
        .ok();
}
