//! cairn-logs: what a detached container wrote, from its log.

use cairn_cli::args::Logs;
use cairn_cli::{open_store, usage, Fail};
use clap::Parser;
use libcairn::{container, logfile};
use std::io::Write;
use std::time::Duration;

fn main() {
    cairn_cli::main("cairn-logs", || run(Logs::parse()))
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
    let c = store.resolve_container(&args.container)?;
    let path = store.container_dir(&c.id).join("log");
    let (past, mut follow) = logfile::read(&path, tail)?;
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(&past)?;
    stdout.flush()?;
    if !args.follow {
        return Ok(0);
    }
    loop {
        let running = container::is_running(&store, &c)?;
        let more = follow.more()?;
        stdout.write_all(&more)?;
        stdout.flush()?;
        if !running {
            return Ok(0);
        }
        if more.is_empty() {
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}
