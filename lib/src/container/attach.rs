//! `docker attach`, for a detached container's output: the bytes its
//! current run writes from now on, streamed as its supervisor keeps them
//! in the container's log, until that run ends.
//!
//! The supervisor puts the process's stdout and stderr on one pipe (as
//! docker does for a container without a terminal, they arrive in the
//! order written) and its stdin on /dev/null, so there is no input to
//! attach to yet.

use super::{state, state_err, sys, ContainerError, Problem};
use crate::isolate::supervise::Signals;
use crate::store::container::{ContainerMeta, Status};
use crate::store::Store;
use std::io::Write;
use std::time::Duration;

/// Copy what `c`'s current run writes from now on into `out` until the
/// run ends; its exit status. With `proxy`, the signals it takes
/// meanwhile go to the container's main process (docker's
/// `--sig-proxy`).
pub fn output(
    store: &Store,
    c: &ContainerMeta,
    out: &mut impl Write,
    proxy: Option<&Signals>,
) -> Result<i32, ContainerError> {
    let st = state(store, c)?;
    match st.status {
        Status::Running => {}
        Status::Paused => return Err(state_err(c, Problem::Paused)),
        _ => return Err(state_err(c, Problem::NotRunning)),
    }
    let path = store.container_dirs(&c.id).log;
    let (_, mut follow) =
        crate::logfile::read(&path, Some(0)).map_err(sys(c, "reading its log"))?;
    let write = |out: &mut dyn Write, b: &[u8]| {
        out.write_all(b)
            .and_then(|()| out.flush())
            .map_err(sys(c, "writing its output"))
    };
    loop {
        let now = store.read_state(&c.id)?;
        let this_run = now.pid == st.pid
            && matches!(now.status, Status::Running | Status::Paused)
            && super::is_running(store, c)?;
        let more = follow.more().map_err(sys(c, "reading its log"))?;
        write(out, &more)?;
        if !this_run {
            // what it wrote last, then its status
            write(out, &follow.more().map_err(sys(c, "reading its log"))?)?;
            return Ok(store.read_state(&c.id)?.exit_code.unwrap_or(0));
        }
        let tick = Duration::from_millis(50);
        match proxy {
            Some(s) => {
                if let Some(sig) = s.poll(tick) {
                    // to its main process, as docker's proxy sends it
                    let _ = super::signal_init(c, &now, sig);
                }
            }
            None => std::thread::sleep(tick),
        }
    }
}
