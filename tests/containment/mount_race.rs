//! A mount target swapped while a container starts (runc's
//! CVE-2021-30465): container A shares a volume with B and, in it, swaps a
//! directory `d` with a symlink `s -> /` (renameat2 RENAME_EXCHANGE in a
//! loop, `c/exchange.c`), while B starts again and again with that volume
//! on /m and a host directory bound read-only on /m/x/d. A bind mount stays
//! on the directory it was made on wherever the directory moves, so a start
//! that finds the mount again by its path after binding (to make it
//! read-only) can find the symlink there and remount something else: the
//! host directory stays writable in B. B tries to write into it through
//! both names; the host directory must stay empty of B's files.

use super::commit_race::Remove;
use super::image_with;
use crate::harness::Env;
use std::time::{Duration, Instant};

const ATTACK: Duration = Duration::from_secs(25);
const STARTS: usize = 60;

#[test]
fn a_read_only_bind_stays_read_only_while_its_target_is_swapped() {
    let env = Env::new("containment-mount-race");
    let host = env.path("host");
    std::fs::create_dir_all(&host).unwrap();
    image_with(&env, "exchange", &["exchange"]);
    env.cmd("volume").args(["create", "shared"]).ok();
    let a = env
        .cmd("run")
        .args(["-d", "-v", "shared:/m", "exchange"])
        .args(["exchange", "/m/x", "/", "own", "120"])
        .ok()
        .stdout
        .trim()
        .to_string();
    let _rm = Remove(&env, a.clone());
    crate::harness::wait_for("the swapping", Duration::from_secs(10), || {
        crate::harness::log_text(&env.root.join("containers").join(&a).join("log"))
            .contains("ready")
    });
    let bind = format!("{}:/m/x/d:ro", host.display());
    let write =
        "for n in d s; do echo pwned > /m/x/$n/pwned-$n 2>/dev/null && echo wrote $n; done; true";
    let (mut started, mut failed, mut errors) = (0, 0, Vec::<String>::new());
    let start = Instant::now();
    while started + failed < STARTS && start.elapsed() < ATTACK {
        let o = env
            .cmd("run")
            .args(["--rm", "-v", "shared:/m", "-v", &bind, "exchange"])
            .args(["sh", "-c", write])
            .run();
        if o.code == Some(0) {
            started += 1;
        } else {
            failed += 1;
            let line = o.stderr.trim().to_string();
            if errors.len() < 3 && !errors.contains(&line) {
                errors.push(line);
            }
        }
        let written: Vec<_> = std::fs::read_dir(&host).unwrap().flatten().collect();
        assert!(
            written.is_empty(),
            "start {}: the read-only host directory was written: {written:?}\n{o}",
            started + failed
        );
    }
    eprintln!("mount race: {started} started, {failed} failed: {errors:?}");
    assert!(started > 0, "no start succeeded: {errors:?}");
}
