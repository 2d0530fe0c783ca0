//! A hostile build context: a cloned repository whose symlinks point at
//! the host (`dirlink -> /home/me/.ssh`, `rel -> ../../..`,
//! `filelink -> /etc/shadow`) and a Dockerfile that COPYs through them.
//!
//! docker resolves every COPY/ADD source inside the context as if the
//! context were `/` (moby's `FollowSymlinkInScope`, BuildKit's fsutil): an
//! absolute link target lands inside the context, `..` stops at its root,
//! and the source itself is followed when it is a link. What is then not
//! in the context is refused ("COPY failed: file not found in build
//! context", BuildKit: `"/dirlink/secret": not found`); what is, is copied
//! from the context. Links met while walking a copied directory are
//! copied as links, never followed.

use crate::harness::{s, Env};
use std::os::unix::fs::symlink;
use std::path::Path;

const MARKER: &[u8] = b"HOST-SECRET-6f1d0c";

/// Does any file or link under `root` hold the host's marker?
fn holds_marker(root: &Path) -> Vec<String> {
    let mut hits = Vec::new();
    let Ok(rd) = std::fs::read_dir(root) else {
        return hits;
    };
    for e in rd.flatten() {
        let p = e.path();
        let m = std::fs::symlink_metadata(&p).unwrap();
        if m.is_dir() {
            hits.extend(holds_marker(&p));
        } else if m.is_file() {
            let data = std::fs::read(&p).unwrap_or_default();
            if data.windows(MARKER.len()).any(|w| w == MARKER) {
                hits.push(p.display().to_string());
            }
        }
    }
    hits
}

/// The host side: a directory beside the context with a secret in it.
fn host_secret(env: &Env) -> std::path::PathBuf {
    let outside = env.path("outside");
    std::fs::create_dir_all(&outside).unwrap();
    let mut secret = MARKER.to_vec();
    secret.extend_from_slice(b"\n");
    std::fs::write(outside.join("secret"), secret).unwrap();
    outside
}

fn build(env: &Env, ctx: &Path, dockerfile: &str) -> crate::harness::Output {
    std::fs::write(ctx.join("Dockerfile"), dockerfile).unwrap();
    env.cmd("build").arg("--no-cache").arg(ctx).run()
}

#[test]
fn build_context_symlinks_never_reach_the_host() {
    let env = Env::new("containment-build-context");
    let outside = host_secret(&env);
    let ctx = env.path("deep/ctx");
    std::fs::create_dir_all(ctx.join("tree")).unwrap();
    symlink(&outside, ctx.join("dirlink")).unwrap();
    symlink("../../outside", ctx.join("rel")).unwrap();
    symlink(outside.join("secret"), ctx.join("filelink")).unwrap();
    symlink("dirlink", ctx.join("chain")).unwrap();
    std::fs::create_dir_all(ctx.join("sub")).unwrap();
    symlink("../../../outside/secret", ctx.join("sub/up")).unwrap();

    // Each source reaches the host's secret if followed on the host; none
    // is in the context once resolved in it, so each build fails, with
    // one line naming the source as written.
    for src in [
        "dirlink/secret",
        "rel/secret",
        "filelink",
        "chain/secret",
        "sub/up",
        "dirlink",
        "dirlink/*",
        "rel/secre?",
        "/dirlink/../dirlink/secret",
    ] {
        let o = build(&env, &ctx, &format!("FROM scratch\nCOPY {src} /got/\n"));
        assert_eq!(o.code, Some(1), "COPY {src} must fail:\n{o}");
        let err: Vec<&str> = o.stderr.lines().filter(|l| l.contains("error")).collect();
        assert_eq!(err.len(), 1, "one error line:\n{o}");
        let shown = src.trim_start_matches('/');
        assert!(err[0].contains(shown), "the error names {shown}:\n{o}");
        assert!(
            holds_marker(&env.root).is_empty(),
            "COPY {src} put the host's secret in the store: {:?}\n{o}",
            holds_marker(&env.root)
        );
    }
    // ADD too (and ADD unpacks archives: a link to a host tar is refused).
    let o = build(&env, &ctx, "FROM scratch\nADD dirlink/secret /got\n");
    assert_eq!(o.code, Some(1), "{o}");

    // A link inside a copied directory is copied as the link it is.
    symlink(&outside, ctx.join("tree/in")).unwrap();
    symlink(outside.join("secret"), ctx.join("tree/f")).unwrap();
    let o = build(&env, &ctx, "FROM scratch\nCOPY tree /t/\n");
    assert_eq!(o.code, Some(0), "{o}");
    let diff = env
        .root
        .join("layers")
        .join(s(&o.record(), "layer").trim_start_matches("sha256:"))
        .join("diff/t");
    assert_eq!(std::fs::read_link(diff.join("in")).unwrap(), outside);
    assert_eq!(
        std::fs::read_link(diff.join("f")).unwrap(),
        outside.join("secret")
    );
    assert!(holds_marker(&env.root).is_empty(), "{o}");
}

#[test]
fn build_context_links_resolve_to_the_contexts_own_files() {
    let env = Env::new("containment-build-context-own");
    let outside = host_secret(&env);
    let ctx = env.path("ctx");
    // The context holds a file at the path the links name: docker copies
    // that one (the context is `/` while resolving).
    let mirror = ctx.join(outside.strip_prefix("/").unwrap());
    std::fs::create_dir_all(&mirror).unwrap();
    std::fs::write(mirror.join("secret"), "the context's own\n").unwrap();
    std::fs::create_dir_all(ctx.join("etc")).unwrap();
    std::fs::write(ctx.join("etc/passwd"), "ctx:x:0:0::/:/bin/sh\n").unwrap();
    symlink(&outside, ctx.join("dirlink")).unwrap();
    symlink(outside.join("secret"), ctx.join("filelink")).unwrap();
    symlink("/etc/passwd", ctx.join("pw")).unwrap();
    symlink("../../../../etc", ctx.join("up")).unwrap();
    let o = build(
        &env,
        &ctx,
        "FROM scratch\nCOPY dirlink/secret /a\nCOPY filelink /b\nCOPY pw /c\n\
         COPY up/passwd /d\nCOPY dirlink /e/\nCOPY up/pass* /f/\n",
    );
    assert_eq!(o.code, Some(0), "{o}");
    let layer = s(&o.record(), "layer")
        .trim_start_matches("sha256:")
        .to_string();
    // every step's layer is a child of the last; read the files through
    // the whole chain of diff dirs
    let read = |p: &str| -> Vec<u8> {
        for d in std::fs::read_dir(env.root.join("layers"))
            .unwrap()
            .flatten()
        {
            let f = d.path().join("diff").join(p);
            if let Ok(m) = std::fs::symlink_metadata(&f) {
                assert!(
                    m.is_file(),
                    "{p} is copied as a file (docker follows the source)"
                );
                return std::fs::read(f).unwrap();
            }
        }
        panic!("{p} is in no layer (top {layer})\n{o}");
    };
    assert_eq!(read("a"), b"the context's own\n");
    assert_eq!(read("b"), b"the context's own\n");
    assert_eq!(read("c"), b"ctx:x:0:0::/:/bin/sh\n");
    assert_eq!(read("d"), b"ctx:x:0:0::/:/bin/sh\n");
    assert_eq!(read("e/secret"), b"the context's own\n");
    assert_eq!(read("f/passwd"), b"ctx:x:0:0::/:/bin/sh\n");
    assert!(holds_marker(&env.root).is_empty());
}

/// The attacker swaps a directory of the context with a link to the host
/// (renameat2 RENAME_EXCHANGE in a loop) while the build walks it. A walk
/// by path reads `tree/sub/secret` through whichever stands there at that
/// instant; a walk by directory fds reads only what it opened. The host
/// directory holds the same names as the context's (as /etc would for a
/// context mimicking it), so a walk by path never stumbles on a missing
/// name, and the two `secret` files are the same length.
#[test]
fn build_context_swapped_during_the_walk_never_reaches_the_host() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let env = Env::new("containment-build-context-race");
    let outside = host_secret(&env);
    let ctx = env.path("ctx");
    let sub = ctx.join("tree/sub");
    std::fs::create_dir_all(&sub).unwrap();
    for i in 0..200 {
        std::fs::write(outside.join(format!("f{i:03}")), "host\n").unwrap();
        std::fs::write(sub.join(format!("f{i:03}")), "ctx!\n").unwrap();
    }
    std::fs::write(sub.join("secret"), vec![b'.'; MARKER.len() + 1]).unwrap();
    symlink(&outside, ctx.join("tree/swap")).unwrap();
    std::fs::write(ctx.join("Dockerfile"), "FROM scratch\nCOPY tree /t/\n").unwrap();

    let stop = std::sync::Arc::new(AtomicBool::new(false));
    let racer = {
        let stop = stop.clone();
        let a = std::ffi::CString::new(sub.as_os_str().as_encoded_bytes()).unwrap();
        let b =
            std::ffi::CString::new(ctx.join("tree/swap").as_os_str().as_encoded_bytes()).unwrap();
        std::thread::spawn(move || {
            let mut swaps = 0u64;
            while !stop.load(Ordering::Relaxed) {
                // SAFETY: two NUL-terminated paths that outlive the call.
                let rc = unsafe {
                    libc::renameat2(
                        libc::AT_FDCWD,
                        a.as_ptr(),
                        libc::AT_FDCWD,
                        b.as_ptr(),
                        libc::RENAME_EXCHANGE,
                    )
                };
                assert_eq!(rc, 0, "renameat2: {}", std::io::Error::last_os_error());
                swaps += 1;
            }
            swaps
        })
    };
    let start = std::time::Instant::now();
    let (mut builds, mut ok, mut leaked) = (0, 0, Vec::new());
    while builds < 16 && start.elapsed() < std::time::Duration::from_secs(5) {
        // a build may fail (what it opened changed under it); it may
        // never copy the host's file
        let o = env.cmd("build").arg("--no-cache").arg(&ctx).run();
        builds += 1;
        ok += usize::from(o.code == Some(0));
        leaked = holds_marker(&env.root);
        if !leaked.is_empty() {
            break;
        }
    }
    stop.store(true, Ordering::Relaxed);
    let swaps = racer.join().unwrap();
    assert!(
        leaked.is_empty(),
        "build {builds} (with {swaps} swaps) copied the host's secret: {leaked:?}"
    );
    eprintln!("{builds} builds ({ok} ok), {swaps} swaps: nothing of the host copied");
}
