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
//!
//! The same swap against a new file system (a `--tmpfs` asked
//! `unbindable`): its propagation is set after it is mounted, and a start
//! that finds the tmpfs again by its path can find the symlink there and
//! make the container's root unbindable instead, leaving the tmpfs as it
//! was. B prints its mountinfo; the root must never be unbindable, and
//! the tmpfs always. (Asked `shared`, the root made shared fails the
//! start at pivot_root, which refuses a shared root.)

use super::commit_race::Remove;
use super::image_with;
use crate::harness::Env;
use std::time::{Duration, Instant};

const ATTACK: Duration = Duration::from_secs(25);
const STARTS: usize = 60;

/// A running container A swapping `/m/x/d` with `/m/x/s -> /` on the
/// volume `shared` (on /m); removed when the guard is dropped.
fn swapping_on_a_volume(env: &Env) -> Remove<'_> {
    image_with(env, "exchange", &["exchange"]);
    env.cmd("volume").args(["create", "shared"]).ok();
    let a = env
        .cmd("run")
        .args(["-d", "-v", "shared:/m", "exchange"])
        .args(["exchange", "/m/x", "/", "own", "120"])
        .ok()
        .id();
    crate::harness::wait_for("the swapping", Duration::from_secs(10), || {
        crate::harness::log_text(&env.root.join("containers").join(&a).join("log"))
            .contains("ready")
    });
    Remove(env, a)
}

#[test]
fn a_read_only_bind_stays_read_only_while_its_target_is_swapped() {
    let env = Env::new("containment-mount-race");
    let host = env.path("host");
    std::fs::create_dir_all(&host).unwrap();
    let _rm = swapping_on_a_volume(&env);
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

/// The propagation tags (`shared:N`, `master:N`, ...) of the mount on
/// `point` in a mountinfo text, and its file system type; `None` when
/// nothing is mounted there.
fn mountinfo_of<'t>(text: &'t str, point: &str) -> Option<(Vec<&'t str>, &'t str)> {
    text.lines().rev().find_map(|l| {
        let f: Vec<&str> = l.split(' ').collect();
        let sep = f.iter().position(|x| *x == "-")?;
        let fs = *f.get(sep + 1)?;
        (f.get(4) == Some(&point)).then(|| (f[6..sep].to_vec(), fs))
    })
}

#[test]
fn a_new_mounts_propagation_lands_on_it_while_its_target_is_swapped() {
    let env = Env::new("containment-mount-race-tmpfs");
    let _rm = swapping_on_a_volume(&env);
    let (mut started, mut failed, mut errors) = (0, 0, Vec::<String>::new());
    let start = Instant::now();
    while started + failed < STARTS && start.elapsed() < ATTACK {
        let o = env
            .cmd("run")
            .args(["--rm", "-v", "shared:/m", "--tmpfs", "/m/x/d:unbindable"])
            .args(["exchange", "cat", "/proc/self/mountinfo"])
            .run();
        if o.code != Some(0) {
            // the tmpfs went onto what /m/x/d was at the first lookup:
            // the root itself, when it was the symlink, and sh is gone
            failed += 1;
            let line = o.stderr.trim().to_string();
            if errors.len() < 3 && !errors.contains(&line) {
                errors.push(line);
            }
            continue;
        }
        started += 1;
        let (root, _) = mountinfo_of(&o.stdout, "/").expect("a root mount");
        assert!(
            !root.contains(&"unbindable"),
            "start {}: the container's root got the tmpfs's propagation (unbindable): {root:?}\n{o}",
            started + failed
        );
        // where the tmpfs is now: under either name
        let tmpfs = ["/m/x/d", "/m/x/s"]
            .iter()
            .filter_map(|p| mountinfo_of(&o.stdout, p))
            .find(|(_, fs)| *fs == "tmpfs");
        let (tags, _) = tmpfs.unwrap_or_else(|| panic!("no tmpfs on /m/x/d or /m/x/s:\n{o}"));
        assert!(
            tags.contains(&"unbindable"),
            "start {}: the tmpfs did not get its propagation (unbindable): {tags:?}\n{o}",
            started + failed
        );
    }
    eprintln!("tmpfs propagation race: {started} started, {failed} failed: {errors:?}");
    assert!(started > 0, "no start succeeded: {errors:?}");
}
