//! cairn-isolate: a container's union view plus an isolated process space.
//! See `cairn isolate --help` for how output and records are kept apart.

use cairn_cli::args::Isolate;
use cairn_cli::container::{log_bounds, run_options};
use cairn_cli::out::{Format, Out};
use cairn_cli::{open_store, Fail};
use clap::Parser;
use libcairn::container::{self, RunOptions};
use libcairn::isolate::supervise::Signals;
use libcairn::isolate::tty::Attach;
use libcairn::record::{ContainerRecord, Kind, Record};
use libcairn::store::container::{ContainerMeta, Status};
use libcairn::Store;

fn main() {
    cairn_cli::main("cairn-isolate", || run(Isolate::parse()))
}

/// isolate's own failures exit 125 (126/127 when the command cannot run).
fn fail125(e: impl Into<Fail>) -> Fail {
    Fail {
        code: 125,
        ..e.into()
    }
}

fn container_fail(e: container::ContainerError) -> Fail {
    Fail {
        code: e.exit_code(),
        ..e.into()
    }
}

fn run(args: Isolate) -> Result<i32, Fail> {
    let store = open_store(&args.common).map_err(fail125)?;
    let given: Vec<String> = args.container.iter().cloned().collect();
    // Subjects: the argument, or the records on stdin (a pipeline).
    let subjects = cairn_cli::subjects(&given, "container")
        .map_err(|f| fail125(f).hint_msg("cairn union-mount IMAGE | cairn isolate -- CMD"))?;
    if args.process.tty && args.run.detach {
        return Err(fail125(cairn_cli::usage(
            "-t and -d do not go together (no terminal to attach later)",
        )));
    }
    let mut out = Out::new(Format::resolve(args.format, false));
    let mut last = 0;
    for s in subjects {
        let c = store.resolve_container(&s.name).map_err(fail125)?;
        let opts =
            run_options(&args.cmd, &args.entrypoint, &args.process, &args.run).map_err(fail125)?;
        let rec = if args.run.detach {
            let bounds = log_bounds(&args.run).map_err(fail125)?;
            let pid =
                container::start_detached(&store, &c, opts, bounds).map_err(container_fail)?;
            let started = ContainerRecord {
                status: Some(Status::Running),
                pid: Some(Some(pid.as_raw())),
                ..ContainerRecord::new(c.id)
            };
            last = 0;
            Some(started.over(s.record))
        } else {
            let from_records = given.is_empty();
            let (code, rec) = foreground(&store, &c, opts, &args, from_records, s.record)?;
            last = code;
            from_records.then_some(rec)
        };
        if let Some(rec) = rec {
            out.record(&rec, "container")?;
        }
    }
    Ok(last)
}

/// Run the container attached to us; its exit status and the record of it.
fn foreground(
    store: &Store,
    c: &ContainerMeta,
    opts: RunOptions,
    args: &Isolate,
    from_records: bool,
    upstream: Record,
) -> Result<(i32, Record), Fail> {
    let signals = Signals::block();
    // In a pipeline stdout carries records: the process writes to stderr.
    let attach =
        Attach::new(args.process.tty, args.process.interactive, from_records).map_err(fail125)?;
    let opts = RunOptions {
        stdio: attach.stdio(),
        ..opts
    };
    let running = container::start(store, c, &opts).map_err(container_fail)?;
    let term = attach.start();
    let code = signals
        .wait_for(running.pid, running.pid, Some(&term))
        .unwrap_or(125);
    term.finish();
    let st = container::finish(store, &running, code).map_err(container_fail)?;
    let rec = ContainerRecord {
        status: Some(st.status),
        exit_code: Some(st.exit_code),
        oom_killed: st.oom_killed.then_some(true),
        ..ContainerRecord::new(c.id)
    };
    Ok((code, rec.over(upstream)))
}
