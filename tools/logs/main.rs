//! cairn-logs: what a detached container wrote, from its log: stdout's
//! lines on stdout, stderr's on stderr.

use cairn_cli::args::Logs;
use cairn_cli::Parser;
use cairn_cli::{open_store, usage, Fail};
use libcairn::{container, logfile};
use std::io::Write;
use std::time::Duration;

fn main() {
    cairn_cli::main("cairn-logs", || run(Logs::parse()))
}

/// `--since`/`--until`'s TIME in nanoseconds since the epoch; one without
/// a zone is local time, as docker's client reads it.
fn time_arg(flag: &str, t: &Option<String>) -> Result<Option<i64>, Fail> {
    let now = now_ns();
    let local = libcairn::sys::local_offset(now / 1_000_000_000);
    t.as_deref()
        .map(|t| {
            logfile::parse_time(t, now, local).ok_or_else(|| {
                usage(format!(
                    "{flag} {t}: not a time: give a date and time (2026-12-02T10:00:00, \
                     local time without a zone, or with one: Z, +01:00), a date \
                     (2026-12-02), Unix seconds or a duration such as 10m"
                ))
            })
        })
        .transpose()
}

/// The time now, in nanoseconds since the epoch.
fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i64)
}

fn run(args: Logs) -> Result<i32, Fail> {
    let store = open_store(&args.common)?;
    let tail = match args.tail.as_str() {
        "all" => None,
        n => Some(
            n.parse::<usize>()
                .map_err(|_| usage(format!("--tail {n}: give a number of lines or `all`")))?,
        ),
    };
    let show = logfile::Show {
        timestamps: args.timestamps,
        since: time_arg("--since", &args.since)?,
        until: time_arg("--until", &args.until)?,
    };
    let c = store.resolve_container(&args.container)?;
    let path = store.container_dir(&c.id).join("log");
    let (mut out, mut err) = (std::io::stdout().lock(), std::io::stderr().lock());
    let mut follow = logfile::read(&path, tail, |r| show.write(&r, &mut out, &mut err))?;
    out.flush()?;
    if !args.follow {
        return Ok(0);
    }
    // until the container stops, or --until's time has come: what was
    // written before it is read once more after it
    loop {
        let running = container::is_running(&store, &c)?;
        let past = show.until.is_some_and(|u| now_ns() > u);
        let mut any = false;
        follow.more(&mut |r| {
            any = true;
            show.write(&r, &mut out, &mut err)
        })?;
        out.flush()?;
        if !running || past {
            return Ok(0);
        }
        if !any {
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}
