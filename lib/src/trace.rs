//! Phase stamps for finding where a command's time goes: with
//! `CAIRN_TRACE` set (to anything but empty), [`mark`] notes a label and
//! the time on `CLOCK_MONOTONIC`, and [`take`] hands the marks over for a
//! tool to print on stderr when it ends. `CLOCK_MONOTONIC` is one clock
//! for every process on the machine, so the marks of `cairn run` and of
//! the `cairn-isolate` it runs line up with each other and with
//! `strace -ttt`'s. Unset, a mark costs one load of a flag.
//!
//! The marks are wall time, and so depend on what else the machine runs;
//! they say which phase a difference lies in, not how big it is on a
//! quiet machine.

use std::sync::Mutex;
use std::sync::OnceLock;

/// The variable that turns the marks on.
pub const ENV: &str = "CAIRN_TRACE";

static ON: OnceLock<bool> = OnceLock::new();
static MARKS: Mutex<Vec<(u64, &'static str)>> = Mutex::new(Vec::new());

/// Whether [`ENV`] asks for marks.
pub fn on() -> bool {
    *ON.get_or_init(|| std::env::var_os(ENV).is_some_and(|v| !v.is_empty()))
}

/// Note that the phase `label` begins now.
pub fn mark(label: &'static str) {
    if on() {
        let at = now_ns();
        if let Ok(mut m) = MARKS.lock() {
            m.push((at, label));
        }
    }
}

/// The marks so far, oldest first (nanoseconds on `CLOCK_MONOTONIC`), and
/// none kept.
pub fn take() -> Vec<(u64, &'static str)> {
    MARKS
        .lock()
        .map(|mut m| std::mem::take(&mut *m))
        .unwrap_or_default()
}

fn now_ns() -> u64 {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec, which `t` is.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut t) };
    t.tv_sec as u64 * 1_000_000_000 + t.tv_nsec as u64
}

#[cfg(test)]
mod tests {
    #[test]
    fn marks_are_taken_once_in_order() {
        // the flag is read once per process: set it before the first mark
        let _ = super::ON.set(true);
        super::mark("a");
        super::mark("b");
        let m = super::take();
        let labels: Vec<_> = m.iter().map(|(_, l)| *l).collect();
        assert_eq!(labels, ["a", "b"]);
        assert!(m[0].0 <= m[1].0);
        assert!(super::take().is_empty());
    }
}
