//! A running container swaps a directory of its upper layer with a symlink
//! to a host directory, and a file with a symlink to a host file
//! (renameat2 RENAME_EXCHANGE in a loop, `c/exchange.c`) while the host
//! commits it without pausing it (`cairn commit --pause=false`) or exports
//! its view. A walk that resolves paths reads the directory's file through
//! the symlink, on the host: the host's file lands in the layer. cairn reads
//! both by directory fds, never through a symlink: such a commit may fail
//! ("changed while being read") or hold the container's own files, never
//! the host's. (docker, too, pauses a container it commits unless told
//! not to.)
//!
//! The export test guards the walk of the view: overlayfs looks each path
//! of the fresh read-only view up once and keeps what it found, so a path
//! walk there happened to see one consistent state (it never leaked in
//! tries on the old code); the fd walk does not depend on that.

use super::{image_with, Tally};
use crate::harness::{blob_of, s, Env};
use std::time::{Duration, Instant};

/// How long each test attacks, and how many attempts at most.
const ATTACK: Duration = Duration::from_secs(5);
const TRIES: usize = 80;

/// A host directory holding `key` with a random marker, and a running
/// container swapping `/x/d` (its own `key`, as long as the marker) with
/// `/x/s -> <that host directory>`, and its file `/x/f` with
/// `/x/l -> <that host directory>/key`. Returns the container and the
/// marker.
pub(super) fn swapping_container(env: &Env) -> (String, String) {
    let secret = env.path("secret");
    std::fs::create_dir_all(&secret).unwrap();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let marker = format!(
        "HOST-SECRET-{:016x}-{:08x}",
        nanos as u64,
        std::process::id()
    );
    std::fs::write(secret.join("key"), format!("{marker}\n")).unwrap();
    // the container's own file, of the same length, so a path walk that
    // reads the host's file still writes a well-formed tar
    let own = format!("{:-<1$}\n", "container-file", marker.len());
    image_with(env, "exchange", &["exchange"]);
    let out = env
        .cmd("run")
        .args(["-d", "exchange", "exchange", "/x"])
        .arg(&secret)
        .args([own.as_str(), "60"])
        .ok();
    let id = out.id();
    let log = env.root.join("containers").join(&id).join("log");
    let start = Instant::now();
    while !crate::harness::log_text(&log).contains("ready") {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the exchange program never said ready: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    (id, marker)
}

pub(super) fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// Removes the container however the test ends.
pub(super) struct Remove<'a>(pub &'a Env, pub String);

impl Drop for Remove<'_> {
    fn drop(&mut self) {
        let _ = self.0.cmd("rm").args(["-f", &self.1]).run();
    }
}

#[test]
fn unpaused_commit_never_holds_a_host_file() {
    let env = Env::new("containment-commit-race");
    let (id, marker) = swapping_container(&env);
    let _rm = Remove(&env, id.clone());
    let mut t = Tally::default();
    let start = Instant::now();
    while t.tries < TRIES && start.elapsed() < ATTACK {
        let o = env.cmd("commit").args(["--pause=false", &id]).run();
        t.add(o.code, &o.stderr);
        if o.code != Some(0) {
            continue;
        }
        let layer = s(&o.record(), "layer").to_string();
        let tar = blob_of(&env, &layer);
        assert!(
            !contains(&tar, &marker),
            "try {}: the committed layer {layer} holds the host's secret file ({t:?})",
            t.tries
        );
    }
    eprintln!("commit race: {t:?}");
    t.some_ok_and_failures_say("changed while being read");
}

#[test]
fn export_of_a_running_container_never_holds_a_host_file() {
    let env = Env::new("containment-export-race");
    let (id, marker) = swapping_container(&env);
    let _rm = Remove(&env, id.clone());
    let mut t = Tally::default();
    let start = Instant::now();
    while t.tries < TRIES && start.elapsed() < ATTACK {
        let o = std::process::Command::new(crate::harness::bin("export"))
            .arg(&id)
            .env("CAIRN_ROOT", &env.root)
            .output()
            .unwrap();
        t.add(o.status.code(), &String::from_utf8_lossy(&o.stderr));
        if !o.status.success() {
            continue;
        }
        assert!(
            !contains(&o.stdout, &marker),
            "try {}: the export holds the host's secret file ({t:?})",
            t.tries
        );
    }
    eprintln!("export race: {t:?}");
    t.some_ok_and_failures_say("changed while being read");
}
