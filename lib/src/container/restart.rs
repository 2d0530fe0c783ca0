//! Restart policies, kept by a container's detached supervisor (there is
//! no daemon): when its process ends, the supervisor asks [`should`] and,
//! after [`Backoff`]'s delay, starts it again in the same container.
//!
//! As docker's: `on-failure` restarts after a non-zero exit, at most N
//! times with `on-failure:N`; `always` and `unless-stopped` restart after
//! any exit. A `stop` (or `rm -f`) ends every policy: it leaves a
//! [`request_stop`] mark in the container's directory before it signals,
//! the supervisor reads it after the exit, and the next start by hand
//! clears it. With no daemon to come back after a reboot, `always` and
//! `unless-stopped` behave the same.

use crate::store::container::RestartPolicy;
use crate::store::Store;
use crate::ContainerId;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// docker's first delay; each restart doubles it, up to [`MAX_DELAY`].
pub const FIRST_DELAY: Duration = Duration::from_millis(100);
pub const MAX_DELAY: Duration = Duration::from_secs(60);
/// A process that ran this long starts the backoff over.
pub const RESET_AFTER: Duration = Duration::from_secs(10);

/// Does `policy` start a process again that exited with `code`, after
/// `restarts` restarts, unless a stop was asked for (`stopped`)?
pub fn should(policy: &RestartPolicy, code: i32, restarts: u32, stopped: bool) -> bool {
    if stopped {
        return false;
    }
    match policy.name.as_str() {
        "always" | "unless-stopped" => true,
        "on-failure" => {
            code != 0 && (policy.maximum_retry_count == 0 || restarts < policy.maximum_retry_count)
        }
        _ => false,
    }
}

/// docker's restart delay: 100 ms, doubled at each restart up to a
/// minute, and back to 100 ms after a run of ten seconds or more.
#[derive(Debug, Default)]
pub struct Backoff {
    delay: Option<Duration>,
}

impl Backoff {
    /// The delay before the next start, for a process that ran `ran`.
    pub fn next(&mut self, ran: Duration) -> Duration {
        let delay = match self.delay {
            Some(d) if ran < RESET_AFTER => (d * 2).min(MAX_DELAY),
            _ => FIRST_DELAY,
        };
        self.delay = Some(delay);
        delay
    }
}

/// The mark a stop leaves for the supervisor.
fn mark(store: &Store, id: &ContainerId) -> PathBuf {
    store.container_dir(id).join("stopped")
}

/// Ask the container's supervisor not to start its process again.
pub fn request_stop(store: &Store, id: &ContainerId) -> std::io::Result<()> {
    std::fs::write(mark(store, id), b"")
}

/// The same for a restart (`cairn restart`): a `--rm` container is kept
/// to be started again, as docker's restart keeps an AutoRemove one.
pub fn request_restart(store: &Store, id: &ContainerId) -> std::io::Result<()> {
    std::fs::write(mark(store, id), RESTART)
}

/// Was the last stop a restart's, with no start since?
pub fn restart_requested(store: &Store, id: &ContainerId) -> bool {
    std::fs::read(mark(store, id)).is_ok_and(|m| m == RESTART)
}

const RESTART: &[u8] = b"restart";

/// Was a stop asked for since the last start by hand?
pub fn stop_requested(store: &Store, id: &ContainerId) -> bool {
    mark(store, id).exists()
}

/// A start by hand: the policy applies again.
pub fn clear_stop(store: &Store, id: &ContainerId) {
    let _ = std::fs::remove_file(mark(store, id));
}

/// Sleep `delay`, or less if a stop is asked for meanwhile; `true` when
/// the whole delay passed without one.
pub fn sleep_unless_stopped(store: &Store, id: &ContainerId, delay: Duration) -> bool {
    let end = Instant::now() + delay;
    loop {
        if stop_requested(store, id) {
            return false;
        }
        let now = Instant::now();
        if now >= end {
            return true;
        }
        std::thread::sleep((end - now).min(Duration::from_millis(20)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(s: &str) -> RestartPolicy {
        RestartPolicy::parse(s).unwrap()
    }

    #[test]
    fn policies_decide_as_dockers() {
        assert!(!should(&policy("no"), 1, 0, false));
        assert!(should(&policy("on-failure"), 1, 99, false));
        assert!(!should(&policy("on-failure"), 0, 0, false));
        assert!(should(&policy("on-failure:2"), 1, 1, false));
        assert!(!should(&policy("on-failure:2"), 1, 2, false));
        assert!(should(&policy("always"), 0, 5, false));
        assert!(should(&policy("unless-stopped"), 137, 0, false));
        assert!(!should(&policy("always"), 143, 0, true));
    }

    #[test]
    fn policies_parse_as_dockers() {
        assert_eq!(policy("on-failure:3").maximum_retry_count, 3);
        assert!(policy("no").is_no());
        assert!(RestartPolicy::parse("sometimes").is_err());
        assert!(RestartPolicy::parse("always:3").is_err());
        assert!(RestartPolicy::parse("on-failure:x").is_err());
    }

    #[test]
    fn the_delay_doubles_and_resets_after_a_long_run() {
        let mut b = Backoff::default();
        let short = Duration::from_secs(1);
        let ms = |d: Duration| d.as_millis();
        assert_eq!(ms(b.next(short)), 100);
        assert_eq!(ms(b.next(short)), 200);
        assert_eq!(ms(b.next(short)), 400);
        assert_eq!(ms(b.next(Duration::from_secs(10))), 100);
        for _ in 0..20 {
            b.next(short);
        }
        assert_eq!(b.next(short), MAX_DELAY);
    }
}
