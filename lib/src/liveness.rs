//! Whether a process recorded earlier is still the one that was started:
//! the same pid with the same start time, and not a zombie. A pid alone
//! can be reused by an unrelated process.

use std::fs;

/// The start time of a process (clock ticks after boot), if it exists.
pub fn proc_start_time(pid: i32) -> Option<u64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces and parens: skip past the last ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    rest.split(' ').nth(19)?.parse().ok()
}

/// Is `pid` alive and the same process that started at `start`?
pub fn alive(pid: Option<i32>, start: Option<u64>) -> bool {
    match (pid, start) {
        (Some(p), Some(s)) => proc_start_time(p) == Some(s) && !is_zombie(p),
        (Some(p), None) => proc_start_time(p).is_some() && !is_zombie(p),
        _ => false,
    }
}

fn is_zombie(pid: i32) -> bool {
    fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| s.rfind(')').map(|i| s[i + 2..].starts_with('Z')))
        .unwrap_or(true)
}

/// This boot's ID (`/proc/sys/kernel/random/boot_id`): a pid, a start
/// time or any other number the kernel hands out means something only
/// within the boot that recorded it.
pub fn boot_id() -> Option<String> {
    let id = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?;
    Some(id.trim().to_string())
}
