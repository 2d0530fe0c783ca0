//! `cairn rm` of a container whose read-write layer holds symlinks to a
//! host directory and to a host file (by absolute path, and by enough
//! `..` to climb out of the layer on the host), stopped, or running and
//! swapping them with its own directory (`c/exchange.c`) as it is removed
//! with `-f`. Deleting the layer must delete the links, never what they
//! point at.

use super::commit_race::{swapping_container, Remove};
use crate::harness::Env;
use std::path::Path;

fn intact(dir: &Path, what: &str) {
    let names: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{what}: the host directory is gone: {e}"))
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["key"], "{what}: the host directory lost files");
}

#[test]
fn rm_deletes_links_to_the_host_never_their_targets() {
    let env = Env::new("containment-rm-links");
    let (id, _marker) = swapping_container(&env);
    let guard = Remove(&env, id.clone());
    let secret = env.path("secret");
    let host = secret.display().to_string();
    let up = format!("../../../../../../../../../../../..{host}");
    let script = format!(
        "ln -s {host} /abs && ln -s {up} /up && ln -s {host}/key /file && \
         mkdir -p /deep/er && ln -s {host} /deep/er/abs && ln -s {up} /deep/up"
    );
    let stopped = env
        .cmd("run")
        .args(["-d", "exchange", "sh", "-c", &script])
        .ok()
        .id();
    env.cmd("wait").arg(&stopped).ok();
    env.cmd("rm").arg(&stopped).ok();
    intact(&secret, "rm of a stopped container");
    // the running one, swapping, removed by force
    env.cmd("rm").args(["-f", &id]).ok();
    drop(guard);
    intact(&secret, "rm -f of a running container");
}
