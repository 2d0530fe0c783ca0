//! layer-unpack: formats, attributes, whiteouts, determinism, parents.

use crate::harness::{busybox_tar, s, Env, TarBuilder};
use std::os::unix::fs::{FileTypeExt, MetadataExt};

fn write(env: &Env, name: &str, data: &[u8]) -> String {
    let p = env.path(name);
    std::fs::write(&p, data).unwrap();
    p.display().to_string()
}

#[test]
fn same_tar_twice_gives_same_layer() {
    let env = Env::new("unpack-twice");
    let tar = write(&env, "bb.tar", &busybox_tar());
    let a = env.cmd("layer-unpack").arg(&tar).ok().record();
    let b = env.cmd("layer-unpack").arg(&tar).ok().record();
    assert_eq!(s(&a, "layer"), s(&b, "layer"));
    assert!(a["parent"].is_null());
    // and through stdin, and through the dispatcher
    let c = env
        .cmd("cairn")
        .arg("layer-unpack")
        .stdin(busybox_tar())
        .ok()
        .record();
    assert_eq!(s(&a, "layer"), s(&c, "layer"));
    // the diff_id is the sha256 of the tar
    let want = {
        use sha2::Digest;
        let d = sha2::Sha256::digest(std::fs::read(&tar).unwrap());
        format!(
            "sha256:{}",
            d.iter().map(|b| format!("{b:02x}")).collect::<String>()
        )
    };
    assert_eq!(s(&a, "diff_id"), want);
    // metadata flags change the ID
    let d = env
        .cmd("layer-unpack")
        .arg(&tar)
        .args(["--created-by", "ADD rootfs"])
        .ok()
        .record();
    assert_ne!(s(&a, "layer"), s(&d, "layer"));
}

#[test]
fn gzip_and_zstd_give_the_same_layer() {
    let env = Env::new("unpack-compressed");
    let raw = busybox_tar();
    let plain = env.cmd("layer-unpack").stdin(raw.clone()).ok().record();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, &raw).unwrap();
    let gz = gz.finish().unwrap();
    let g = env.cmd("layer-unpack").stdin(gz.clone()).ok().record();
    let z = env
        .cmd("layer-unpack")
        .stdin(zstd::encode_all(&raw[..], 3).unwrap())
        .ok()
        .record();
    assert_eq!(s(&plain, "layer"), s(&g, "layer"));
    assert_eq!(s(&plain, "layer"), s(&z, "layer"));
    assert_eq!(
        s(&g, "media_type"),
        "application/vnd.oci.image.layer.v1.tar+gzip"
    );
    assert_eq!(
        s(&z, "media_type"),
        "application/vnd.oci.image.layer.v1.tar+zstd"
    );
    // the blob is kept as received
    let blob = s(&g, "blob").strip_prefix("sha256:").unwrap().to_string();
    assert_eq!(
        std::fs::read(env.root.join("blobs/sha256").join(blob)).unwrap(),
        gz
    );
    // --diff-id is checked
    let diff = s(&plain, "diff_id").to_string();
    env.cmd("layer-unpack")
        .stdin(raw.clone())
        .args(["--diff-id", &diff])
        .ok();
    let wrong = format!("sha256:{}", "0".repeat(64));
    let before = env.snapshot();
    let o = env
        .cmd("layer-unpack")
        .stdin(raw)
        .args(["--diff-id", &wrong])
        .fails(1);
    assert!(o.stderr.contains("diff_id mismatch"), "{o}");
    assert_eq!(before, env.snapshot());
}

#[test]
fn attributes_are_preserved() {
    let env = Env::new("unpack-attrs");
    let long = format!("d/{}", "n".repeat(200));
    let pax_long = format!("p/{}/{}", "a".repeat(120), "b".repeat(120));
    // Files of 64 KiB and up are written on a thread of their own, their
    // metadata set after their content: a write would clear
    // security.capability (even for root) and, for others, set-id bits.
    let big: Vec<u8> = (0..9 * 1024 * 1024 + 777)
        .map(|i| (i % 251) as u8)
        .collect();
    let mid = &big[..200 * 1024];
    // cap_net_bind_service, permitted and effective (VFS_CAP_REVISION_2)
    let cap: &[u8] = &[1, 0, 0, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    let tar = TarBuilder::new()
        .file_owned("big/suid", 0o4750, 1000, 1001, 1_600_000_000, &big)
        .file_owned("big/mid", 0o2640, 7, 8, 1_600_000_001, mid)
        .pax_file("big/cap", &[("SCHILY.xattr.security.capability", cap)], mid)
        .pax_file(
            "big/cap-small",
            &[("SCHILY.xattr.security.capability", cap)],
            b"small",
        )
        .dir("d", 0o750)
        .file_owned("d/suid", 0o4755, 1000, 1001, 1_600_000_000, b"x")
        .file_owned("d/plain", 0o600, 0, 0, 1_500_000_000, b"hello")
        .hardlink("d/hard", "d/plain")
        .symlink("d/sym", "/etc/passwd")
        .device("d/null", tar::EntryType::Char, 1, 3)
        .device("d/blk", tar::EntryType::Block, 7, 0)
        .device("d/fifo", tar::EntryType::Fifo, 0, 0)
        .file(&long, 0o644, b"gnu long name")
        // a set-group-ID directory: new files inherit its group, unless
        // the tar says otherwise
        .dir_owned("g", 0o2775, 0, 50)
        .file_owned("g/root", 0o644, 0, 0, 1_500_000_000, b"")
        .file_owned("g/staff", 0o644, 0, 50, 1_500_000_000, b"")
        .file_owned("g/sub/other", 0o644, 7, 50, 1_500_000_000, b"")
        .file_owned("g/sub/mine", 0o644, 0, 0, 1_500_000_000, b"")
        .pax_file(
            &pax_long,
            &[
                ("SCHILY.xattr.user.cairn", &b"yes"[..]),
                ("path", pax_long.as_bytes()),
                ("mtime", &b"1700000000.25"[..]),
            ],
            b"pax",
        )
        .build();
    let r = env.cmd("layer-unpack").stdin(tar).ok().record();
    let diff = env
        .root
        .join("layers")
        .join(s(&r, "layer").strip_prefix("sha256:").unwrap())
        .join("diff");
    let m = |p: &str| std::fs::symlink_metadata(diff.join(p)).unwrap();
    assert_eq!(m("d").mode() & 0o7777, 0o750);
    assert_eq!(m("d/suid").mode() & 0o7777, 0o4755);
    assert_eq!((m("d/suid").uid(), m("d/suid").gid()), (1000, 1001));
    assert_eq!(m("d/suid").mtime(), 1_600_000_000);
    assert_eq!(m("d/plain").mode() & 0o7777, 0o600);
    assert_eq!(m("d/plain").ino(), m("d/hard").ino());
    assert_eq!(
        std::fs::read_link(diff.join("d/sym")).unwrap().to_str(),
        Some("/etc/passwd")
    );
    assert!(m("d/null").file_type().is_char_device());
    assert_eq!(m("d/null").rdev(), libc::makedev(1, 3));
    assert!(m("d/blk").file_type().is_block_device());
    assert!(m("d/fifo").file_type().is_fifo());
    assert_eq!(std::fs::read(diff.join(&long)).unwrap(), b"gnu long name");
    let pm = m(&pax_long);
    assert_eq!((pm.mtime(), pm.mtime_nsec()), (1_700_000_000, 250_000_000));
    let x = libcairn::sys::lgetxattr(&diff.join(&pax_long), "user.cairn").unwrap();
    assert_eq!(x.as_deref(), Some(&b"yes"[..]));
    let owner = |p: &str| (m(p).uid(), m(p).gid());
    assert_eq!(m("g").mode() & 0o7777, 0o2775);
    assert_eq!(owner("g"), (0, 50));
    assert_eq!(owner("g/root"), (0, 0));
    assert_eq!(owner("g/staff"), (0, 50));
    assert_eq!(owner("g/sub"), (0, 0)); // implicit: default attributes
    assert_eq!(owner("g/sub/other"), (7, 50));
    assert_eq!(owner("g/sub/mine"), (0, 0));
    // a directory's mtime is set after its children were created
    assert_eq!(m("d").mtime(), 1_700_000_000);
    assert_eq!(std::fs::read(diff.join("big/suid")).unwrap(), big);
    assert_eq!(m("big/suid").mode() & 0o7777, 0o4750);
    assert_eq!(owner("big/suid"), (1000, 1001));
    assert_eq!(m("big/suid").mtime(), 1_600_000_000);
    assert_eq!(std::fs::read(diff.join("big/mid")).unwrap(), mid);
    assert_eq!(m("big/mid").mode() & 0o7777, 0o2640);
    assert_eq!(owner("big/mid"), (7, 8));
    assert_eq!(m("big/mid").mtime(), 1_600_000_001);
    for f in ["big/cap", "big/cap-small"] {
        let x = libcairn::sys::lgetxattr(&diff.join(f), "security.capability").unwrap();
        assert_eq!(x.as_deref(), Some(cap), "{f}");
    }
    assert_eq!(std::fs::read(diff.join("big/cap")).unwrap(), mid);
    let sizes = 1 + 5 + 13 + 3 + big.len() + 2 * mid.len() + 5;
    assert_eq!(r["size"], sizes as u64);
}

#[test]
fn whiteouts_become_overlay_whiteouts() {
    let env = Env::new("unpack-whiteouts");
    let base = env
        .cmd("layer-unpack")
        .stdin(
            TarBuilder::new()
                .dir("etc", 0o711)
                .file("etc/a", 0o644, b"a")
                .file("etc/b", 0o644, b"b")
                .dir("opq", 0o755)
                .file("opq/old", 0o644, b"old")
                .build(),
        )
        .ok()
        .record();
    let top = env
        .cmd("layer-unpack")
        .args(["--parent", s(&base, "layer")])
        .stdin(
            TarBuilder::new()
                .file("etc/.wh.a", 0o644, b"")
                .file("opq/.wh..wh..opq", 0o644, b"")
                .file("opq/new", 0o644, b"new")
                .build(),
        )
        .ok()
        .record();
    assert_eq!(s(&top, "parent"), s(&base, "layer"));
    let diff = env
        .root
        .join("layers")
        .join(s(&top, "layer").strip_prefix("sha256:").unwrap())
        .join("diff");
    let wh = std::fs::symlink_metadata(diff.join("etc/a")).unwrap();
    assert!(wh.file_type().is_char_device() && wh.rdev() == 0);
    assert!(!diff.join("etc/.wh.a").exists());
    assert!(!diff.join("opq/.wh..wh..opq").exists());
    let opq = libcairn::sys::lgetxattr(&diff.join("opq"), "trusted.overlay.opaque").unwrap();
    assert_eq!(opq.as_deref(), Some(&b"y"[..]));
    // the implicit parent "etc" copies its attributes from the layer below
    assert_eq!(
        std::fs::metadata(diff.join("etc")).unwrap().mode() & 0o7777,
        0o711
    );

    // history shows both, top first
    let h = env.records("history", &[s(&top, "layer")]);
    assert_eq!(h.len(), 2);
    assert_eq!(s(&h[0], "layer"), s(&top, "layer"));
    assert_eq!(s(&h[1], "layer"), s(&base, "layer"));
    assert_eq!(s(&h[0], "parent"), s(&base, "layer"));
    assert!(h[1]["parent"].is_null());

    // the parent can also come from the record on stdin
    let tar2 = env.path("top.tar");
    std::fs::write(
        &tar2,
        TarBuilder::new()
            .file("etc/.wh.a", 0o644, b"")
            .file("opq/.wh..wh..opq", 0o644, b"")
            .file("opq/new", 0o644, b"new")
            .build(),
    )
    .unwrap();
    let piped = env
        .cmd("layer-unpack")
        .arg(&tar2)
        .stdin_records(std::slice::from_ref(&base))
        .ok()
        .record();
    assert_eq!(s(&piped, "layer"), s(&top, "layer"));
}

#[test]
fn mounted_stack_shows_the_union() {
    // The layers are stored in overlay form: one mount shows the image.
    let env = Env::new("unpack-mount");
    let base = env.cmd("layer-unpack").stdin(busybox_tar()).ok().record();
    let top = env
        .cmd("layer-unpack")
        .args(["--parent", s(&base, "layer")])
        .stdin(
            TarBuilder::new()
                .file("etc/.wh.group", 0o644, b"")
                .file("etc/motd", 0o644, b"hi\n")
                .build(),
        )
        .ok()
        .record();
    let d = |r: &crate::harness::Record| {
        env.root
            .join("layers")
            .join(s(r, "layer").strip_prefix("sha256:").unwrap())
            .join("diff")
    };
    let mnt = env.path("mnt");
    std::fs::create_dir(&mnt).unwrap();
    let opts = format!("lowerdir={}:{}", d(&top).display(), d(&base).display());
    let st = std::process::Command::new("mount")
        .args(["-t", "overlay", "overlay", "-o", &opts])
        .arg(&mnt)
        .status()
        .unwrap();
    assert!(st.success());
    let motd = std::fs::read_to_string(mnt.join("etc/motd"));
    let group = mnt.join("etc/group").exists();
    let passwd = mnt.join("etc/passwd").exists();
    let sh = std::fs::read_link(mnt.join("bin/sh"));
    std::process::Command::new("umount")
        .arg(&mnt)
        .status()
        .unwrap();
    assert_eq!(motd.unwrap(), "hi\n");
    assert!(!group, "whiteout hides etc/group");
    assert!(passwd);
    assert_eq!(sh.unwrap().to_str(), Some("busybox"));
}

#[test]
fn concurrent_unpacks_agree() {
    // Several writers at once: one layer, no staging left behind.
    let env = Env::new("unpack-concurrent");
    let tar = env.path("bb.tar");
    std::fs::write(&tar, busybox_tar()).unwrap();
    let children: Vec<_> = (0..6)
        .map(|_| {
            std::process::Command::new(crate::harness::bin("layer-unpack"))
                .arg(&tar)
                .env("CAIRN_ROOT", &env.root)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut ids = std::collections::BTreeSet::new();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        ids.insert(r["layer"].as_str().unwrap().to_string());
    }
    assert_eq!(ids.len(), 1);
    assert_eq!(
        std::fs::read_dir(env.root.join("layers")).unwrap().count(),
        1
    );
    // a plain tar keeps a split, not a second copy
    assert_eq!(
        std::fs::read_dir(env.root.join("blobs/sha256"))
            .unwrap()
            .count(),
        0
    );
    let id = ids.first().unwrap().strip_prefix("sha256:").unwrap();
    assert!(env.root.join("layers").join(id).join("tar-split").is_file());
    assert_eq!(std::fs::read_dir(env.root.join("tmp")).unwrap().count(), 0);
}

#[test]
fn crashed_writers_leave_nothing_for_long() {
    let env = Env::new("unpack-stale");
    env.cmd("images").ok();
    // a staging dir of a writer that no longer exists (pid 0 never runs a writer)
    let stale = env.root.join("tmp/layer-999999999-deadbeef");
    std::fs::create_dir_all(stale.join("diff")).unwrap();
    let trash = env.root.join("trash/0123456789abcdef");
    std::fs::create_dir_all(&trash).unwrap();
    env.cmd("images").ok();
    assert!(!stale.exists());
    assert!(!trash.exists());
}

/// A tar with everything a split must carry: PAX and GNU long names, PAX
/// xattrs, hard links, devices, a fifo, empty and multi-MiB files, a
/// whiteout and an opaque marker that have content, and bytes after the
/// end-of-archive marker.
fn exotic_tar(env: &Env) -> Vec<u8> {
    let out = env.path("exotic.tar");
    let py = r#"
import io, os, sys, tarfile
buf = io.BytesIO()
t = tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT)
def add(name, kind=tarfile.REGTYPE, data=b"", **kw):
    i = tarfile.TarInfo(name); i.type = kind; i.mtime = 1700000000; i.mode = 0o644
    for k, v in kw.items(): setattr(i, k, v)
    if kind == tarfile.REGTYPE: i.size = len(data)
    t.addfile(i, io.BytesIO(data) if kind == tarfile.REGTYPE else None)
add("x", tarfile.DIRTYPE, mode=0o755)
add("x/" + "long" * 40 + "/f", data=b"pax long name\n")
add("x/xattr", data=b"x", pax_headers={"SCHILY.xattr.user.k": "v"})
add("x/empty")
add("x/big", data=os.urandom(3 * 1024 * 1024 + 17))
add("x/hard", tarfile.LNKTYPE, linkname="x/xattr")
add("x/link", tarfile.SYMTYPE, linkname="../nowhere")
add("x/null", tarfile.CHRTYPE, devmajor=1, devminor=3)
add("x/fifo", tarfile.FIFOTYPE)
add("x/.wh.gone", data=b"a whiteout with content\n")
add("y", tarfile.DIRTYPE, mode=0o755)
add("y/.wh..wh..opq", data=b"opaque, with content\n")
t.close()
g = io.BytesIO()
gt = tarfile.open(fileobj=g, mode="w", format=tarfile.GNU_FORMAT)
i = tarfile.TarInfo("z/" + "gnu" * 50); i.size = 5; i.mtime = 1700000000
gt.addfile(i, io.BytesIO(b"gnu!\n"))
gt.close()
# one stream: the PAX part without its end marker, then the GNU part,
# then junk after the end-of-archive marker
pax = buf.getvalue().rstrip(b"\0")
pax += b"\0" * (-len(pax) % 512)
open(sys.argv[1], "wb").write(pax + g.getvalue() + b"trailing junk\n")
"#;
    let st = std::process::Command::new("python3")
        .args(["-c", py, out.to_str().unwrap()])
        .status()
        .unwrap();
    assert!(st.success());
    std::fs::read(out).unwrap()
}

/// A GNU tar with a sparse file (its stream is not the file's bytes).
fn sparse_tar(env: &Env) -> Vec<u8> {
    let dir = env.path("sparse-src");
    std::fs::create_dir_all(&dir).unwrap();
    let f = std::fs::File::create(dir.join("holes")).unwrap();
    f.set_len(8 << 20).unwrap();
    std::os::unix::fs::FileExt::write_at(&f, b"middle", 4 << 20).unwrap();
    let out = env.path("sparse.tar");
    let st = std::process::Command::new("tar")
        .args(["--sparse", "--format=gnu", "-C"])
        .arg(&dir)
        .arg("-cf")
        .arg(&out)
        .arg("holes")
        .status()
        .unwrap();
    assert!(st.success());
    std::fs::read(out).unwrap()
}

fn blob_file(env: &Env, digest: &str) -> std::path::PathBuf {
    env.root
        .join("blobs/sha256")
        .join(digest.strip_prefix("sha256:").unwrap())
}

#[test]
fn plain_layers_keep_a_split_and_rebuild_the_exact_blob() {
    let env = Env::new("unpack-split");
    let base = env.cmd("layer-unpack").stdin(busybox_tar()).ok().record();
    let mut top = s(&base, "layer").to_string();
    let mut tars = vec![(top.clone(), busybox_tar())];
    for tar in [exotic_tar(&env), sparse_tar(&env)] {
        let path = write(&env, "in.tar", &tar);
        let r = env
            .cmd("layer-unpack")
            .arg(&path)
            .args(["--parent", &top])
            .ok()
            .record();
        top = s(&r, "layer").to_string();
        tars.push((top.clone(), tar));
    }
    for (id, tar) in &tars {
        let layer = env.root.join("layers").join(&id[7..]);
        let diff_id = s(&env.cmd("inspect").arg(id).ok().record(), "diff_id").to_string();
        // No second copy of a plain tar, a split instead.
        assert!(!blob_file(&env, &diff_id).exists(), "{id}");
        assert!(layer.join("tar-split").is_file(), "{id}");
        let split = std::fs::metadata(layer.join("tar-split")).unwrap().len();
        assert!(
            split < tar.len() as u64 / 4 + 4096,
            "split of {split} bytes"
        );
    }
    // An image needs its blobs: tagging rebuilds them, byte for byte.
    env.cmd("tag").args([&top, "exotic"]).ok();
    for (id, tar) in &tars {
        let diff_id = s(&env.cmd("inspect").arg(id).ok().record(), "diff_id").to_string();
        let blob = std::fs::read(blob_file(&env, &diff_id)).unwrap();
        assert!(
            blob == *tar,
            "layer {id}: rebuilt blob differs from the tar"
        );
    }
    // and save carries them
    let saved = env.path("saved.tar");
    env.cmd("save")
        .args(["-o", saved.to_str().unwrap(), "exotic"])
        .ok();
    let mut a = tar::Archive::new(std::fs::File::open(&saved).unwrap());
    let mut found = std::collections::BTreeSet::new();
    for e in a.entries().unwrap() {
        let mut e = e.unwrap();
        let mut data = Vec::new();
        std::io::Read::read_to_end(&mut e, &mut data).unwrap();
        found.extend(tars.iter().filter(|(_, t)| *t == data).map(|(id, _)| id));
    }
    assert_eq!(
        found.len(),
        tars.len(),
        "every layer tar in the saved archive"
    );
    // The exotic layer unpacked as it should: a hard link, a whiteout.
    let exotic = env.root.join("layers").join(&tars[1].0[7..]).join("diff/x");
    assert_eq!(
        std::fs::metadata(exotic.join("hard")).unwrap().ino(),
        std::fs::metadata(exotic.join("xattr")).unwrap().ino()
    );
    let holes = std::fs::read(
        env.root
            .join("layers")
            .join(&tars[2].0[7..])
            .join("diff/holes"),
    )
    .unwrap();
    assert_eq!(holes.len(), 8 << 20);
    assert_eq!(&holes[4 << 20..(4 << 20) + 6], b"middle");
    assert!(std::fs::symlink_metadata(exotic.join("gone"))
        .unwrap()
        .file_type()
        .is_char_device());
}

#[test]
fn a_changed_layer_is_not_rebuilt_into_a_blob() {
    let env = Env::new("unpack-split-tamper");
    let r = env.cmd("layer-unpack").stdin(busybox_tar()).ok().record();
    let id = s(&r, "layer").to_string();
    let passwd = env
        .root
        .join("layers")
        .join(&id[7..])
        .join("diff/etc/passwd");
    let orig = std::fs::read(&passwd).unwrap();

    // Same size, other bytes: caught by the digest.
    let mut evil = orig.clone();
    evil[0] ^= 1;
    std::fs::write(&passwd, &evil).unwrap();
    let before = env.snapshot();
    let o = env.cmd("tag").args([&id, "bb"]).fails(1);
    assert!(o.stderr.contains("no longer rebuilds"), "{o}");
    assert_eq!(o.stderr.trim().lines().count(), 1, "{o}");
    assert_eq!(before, env.snapshot());

    // Another size, or a symlink out of the layer: caught before reading.
    std::fs::write(&passwd, b"short").unwrap();
    let o = env.cmd("tag").args([&id, "bb"]).fails(1);
    assert!(
        o.stderr.contains("etc/passwd") && o.stderr.contains("changed"),
        "{o}"
    );
    std::fs::remove_file(&passwd).unwrap();
    let outside = env.path("outside");
    std::fs::write(&outside, &orig).unwrap();
    std::os::unix::fs::symlink(&outside, &passwd).unwrap();
    let o = env.cmd("tag").args([&id, "bb"]).fails(1);
    assert!(
        o.stderr.contains("etc/passwd") && o.stderr.contains("cannot open"),
        "{o}"
    );

    // Put back, it rebuilds.
    std::fs::remove_file(&passwd).unwrap();
    std::fs::write(&passwd, &orig).unwrap();
    env.cmd("tag").args([&id, "bb"]).ok();
}

#[test]
fn progress_only_on_a_terminal() {
    let env = Env::new("unpack-progress");
    let tar = write(&env, "bb.tar", &busybox_tar());
    // piped: nothing on stderr but errors
    let o = env.cmd("layer-unpack").arg(&tar).ok();
    assert_eq!(o.stderr, "", "{o}");
    // on a terminal: a progress line, cleared at the end
    let text = env.on_a_terminal("layer-unpack", std::path::Path::new(&tar));
    assert!(
        text.contains("unpacking ") && text.contains(" MB"),
        "{text}"
    );
    assert!(text.contains("\r\x1b[2K"), "{text}");
}

/// A full disk in the middle of a file: written by the writer thread (a
/// file over 1 MiB) or by the extracting thread (a smaller one). Either way
/// one line naming the entry, exit 1, and the store as it was.
#[test]
fn a_full_disk_fails_cleanly() {
    let env = Env::new("unpack-enospc");
    std::fs::create_dir_all(&env.root).unwrap();
    let st = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=6m", "tmpfs"])
        .arg(&env.root)
        .status()
        .unwrap();
    assert!(st.success(), "mount tmpfs");
    struct Unmount<'a>(&'a std::path::Path);
    impl Drop for Unmount<'_> {
        fn drop(&mut self) {
            let _ = std::process::Command::new("umount")
                .arg("-l")
                .arg(self.0)
                .status();
        }
    }
    let _u = Unmount(&env.root);
    env.cmd("layer-unpack")
        .stdin(TarBuilder::new().file("a", 0o644, b"a").build())
        .ok();
    let before = env.snapshot();
    let big = vec![7u8; 9 << 20];
    let mid = vec![9u8; 700 << 10];
    let mut many = TarBuilder::new().dir("m", 0o755);
    for i in 0..12 {
        many = many.file(&format!("m/f{i:02}"), 0o644, &mid);
    }
    for (tar, entry) in [
        (
            TarBuilder::new().file("big/file", 0o644, &big).build(),
            "big/file",
        ),
        (many.build(), "m/f"),
    ] {
        let o = env.cmd("layer-unpack").stdin(tar).fails(1);
        let err = o.stderr.trim_end();
        assert_eq!(err.lines().count(), 1, "one line: {err}");
        assert!(
            err.contains(entry) && err.contains("No space left"),
            "names the entry and the cause: {err}"
        );
        assert_eq!(env.snapshot(), before, "the store changed");
    }
}

/// A plain layer given as a file is read through a mapping of it. If the
/// file shrinks under the unpack, touching the lost pages raises SIGBUS:
/// the unpack must still end with a one-line error and an exit status,
/// not die of the signal, and publish nothing.
#[test]
fn a_layer_file_that_shrinks_while_read_fails_with_a_word() {
    let env = Env::new("unpack-shrink");
    env.cmd("images").ok();
    let before = env.snapshot();
    let content = vec![5u8; 32 << 10];
    let mut tar = TarBuilder::new().dir("d", 0o755);
    for i in 0..2048 {
        tar = tar.file(&format!("d/f{i:04}"), 0o644, &content);
    }
    let path = write(&env, "shrinks.tar", &tar.build());
    let child = env
        .cmd("layer-unpack")
        .arg(&path)
        .c
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Once the first files are out, the reading thread is at most the
    // pool's 16 MiB ahead of them: cut the 64 MiB file there.
    let started = std::time::Instant::now();
    let extracting = || {
        std::fs::read_dir(env.root.join("tmp"))
            .into_iter()
            .flatten()
            .flatten()
            .any(|e| e.path().join("diff/d/f0001").exists())
    };
    while !extracting() {
        assert!(started.elapsed().as_secs() < 60, "the unpack never started");
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    std::fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(0)
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "an exit status, not a signal: {err}"
    );
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert!(err.contains("shrank while it was read"), "says why: {err}");
    // what is left in tmp/ is swept by the next command, as after a kill
    env.cmd("images").ok();
    assert_eq!(env.snapshot(), before, "nothing was published");
}
