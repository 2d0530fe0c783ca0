use cairn_cli::args::Stats;
use cairn_cli::out::{Format, FormatArg, Out};
use cairn_cli::system::{stats_headers, stats_row, Layout, Report, STATS_TABLE};
use cairn_cli::Parser;
use cairn_cli::{open_store, Fail};
use libcairn::container;
use libcairn::store::container::Status;
use std::io::IsTerminal;
use std::time::Duration;

fn main() {
    cairn_cli::main("cairn-stats", || run(Stats::parse()))
}

fn run(args: Stats) -> Result<i32, Fail> {
    let store = open_store(&args.common)?;
    let mut containers = Vec::new();
    if !args.containers.is_empty() {
        for name in &args.containers {
            containers.push(store.resolve_container(name)?);
        }
    } else {
        for c in store.containers()? {
            let st = container::state(&store, &c)?.status;
            if args.all || matches!(st, Status::Running | Status::Paused) {
                containers.push(c);
            }
        }
    }
    // a screen redrawn each round, as docker's
    let redraw = !args.no_stream
        && std::io::stdout().is_terminal()
        && FormatArg::fixed(&args.format) != Some(Format::Json);
    loop {
        let stats = libcairn::system::stats(&store, &containers, Duration::from_secs(1))?;
        let mut out = Out::new(Format::Json);
        if redraw {
            out.raw("\x1b[2J\x1b[H")?;
        }
        Report {
            asked: &args.format,
            docs: stats
                .iter()
                .map(serde_json::to_value)
                .collect::<Result<_, _>>()?,
            tdocs: stats.iter().map(|s| stats_row(s, args.no_trunc)).collect(),
            layout: Layout::Table(STATS_TABLE, stats_headers()),
        }
        .print(&mut out)?;
        if args.no_stream {
            return Ok(0);
        }
    }
}
