//! A hostile image (or a container rewriting its own files) makes the
//! user database the runtime reads a trap: /etc/passwd a fifo hung
//! `cairn run --user` and `cairn exec` forever; a passwd over 1 MiB was
//! silently cut short. Now the runtime never blocks on the container's
//! files and refuses what is not a small regular file, naming it.

use super::within;
use crate::harness::{busybox_tar, s, Env, TarBuilder};

/// busybox with `etc/passwd` replaced by what `layer` adds.
fn image(env: &Env, tag: &str, layer: Vec<u8>) {
    let base = env.cmd("layer-unpack").stdin(busybox_tar()).ok().record();
    let top = env
        .cmd("layer-unpack")
        .args(["--parent", s(&base, "layer")])
        .stdin(layer)
        .ok()
        .record();
    env.cmd("tag").args([s(&top, "layer"), tag]).ok();
}

#[test]
fn a_fifo_passwd_never_hangs_run() {
    let env = Env::new("attack-passwd-fifo");
    // an image whose /etc/passwd is a fifo
    let layer = TarBuilder::new()
        .dir("etc", 0o755)
        .device("etc/passwd", tar::EntryType::Fifo, 0, 0)
        .build();
    image(&env, "trap", layer);
    for user in ["nobody", "0", ""] {
        let mut args = vec!["run"];
        if !user.is_empty() {
            args.extend(["--user", user]);
        }
        args.extend(["trap", "--", "true"]);
        let o = within(env.cmd("cairn").args(&args), 20);
        assert_eq!(o.code, Some(125), "{o}");
        assert!(
            o.stderr.contains("/etc/passwd") && o.stderr.contains("not a regular file"),
            "the error names the file: {o}"
        );
        assert_eq!(o.stderr.trim().lines().count(), 1, "one line: {o}");
    }
}

#[test]
fn a_big_passwd_is_refused_not_truncated() {
    let env = Env::new("attack-passwd-big");
    // 1.5 MiB of padding, then the user the container asks for: a
    // truncated read would not find it, a full read would.
    let mut big = b"root:x:0:0:root:/root:/bin/sh\n".to_vec();
    while big.len() < 3 << 19 {
        big.extend_from_slice(b"# padding padding padding padding padding padding\n");
    }
    big.extend_from_slice(b"late:x:4242:4242::/:/bin/sh\n");
    let layer = TarBuilder::new()
        .dir("etc", 0o755)
        .file("etc/passwd", 0o644, &big)
        .build();
    image(&env, "big", layer);
    let o = within(
        env.cmd("cairn")
            .args(["run", "--user", "late", "big", "--", "id", "-u"]),
        20,
    );
    assert_eq!(o.code, Some(125), "{o}");
    assert!(
        o.stderr.contains("/etc/passwd") && o.stderr.contains("larger than"),
        "{o}"
    );
}

#[test]
fn a_container_cannot_trap_exec_with_its_own_passwd() {
    let env = Env::new("attack-passwd-exec");
    crate::harness::busybox_image(&env);
    // The container turns its own /etc/passwd into a fifo, then waits for
    // an administrator's `cairn exec --user`.
    let id = env
        .cmd("run")
        .args([
            "-d",
            "busybox",
            "sh",
            "-c",
            "rm /etc/passwd && mkfifo /etc/passwd && touch /ready && exec sleep 60",
        ])
        .ok()
        .id();
    let ready = env.root.join("containers").join(&id).join("upper/ready");
    crate::harness::wait_for(
        "the container to get ready",
        std::time::Duration::from_secs(10),
        || ready.exists(),
    );
    let o = within(
        env.cmd("exec")
            .args(["--user", "nobody", &id, "--", "true"]),
        20,
    );
    assert_eq!(o.code, Some(125), "{o}");
    assert!(o.stderr.contains("/etc/passwd"), "{o}");
    env.cmd("rm").args(["-f", &id]).ok();
}

#[test]
fn build_reads_the_images_passwd_as_the_runtime_does() {
    // COPY --chown=NAME resolves NAME in the image's passwd on the host:
    // the same bounds as in the container.
    let env = Env::new("attack-passwd-build");
    let mut big = b"root:x:0:0:root:/root:/bin/sh\n".to_vec();
    big.resize(3 << 19, b'#');
    big.extend_from_slice(b"\nlate:x:4242:4242::/:/bin/sh\n");
    image(
        &env,
        "big",
        TarBuilder::new()
            .dir("etc", 0o755)
            .file("etc/passwd", 0o644, &big)
            .build(),
    );
    let ctx = env.path("ctx");
    std::fs::create_dir_all(&ctx).unwrap();
    std::fs::write(ctx.join("f"), "x").unwrap();
    std::fs::write(ctx.join("Dockerfile"), "FROM big\nCOPY --chown=late f /f\n").unwrap();
    let o = within(env.cmd("build").arg(&ctx), 60);
    assert_eq!(o.code, Some(1), "{o}");
    assert!(
        o.stderr.contains("/etc/passwd") && o.stderr.contains("larger than"),
        "{o}"
    );
}
