//! cairn-isolate: a container's union view plus an isolated process space
//! (`cairn isolate --help`: how output and records are kept apart).

use cairn_cli::args::Isolate;
use cairn_cli::container::{detached, fail125, keeps_a_process_inside, run_failure, run_options};
use cairn_cli::out::{Format, Out};
use cairn_cli::Parser;
use cairn_cli::{each_subject, open_store, Fail, Subject};
use libcairn::container::{self, RunOptions};
use libcairn::isolate::supervise::Signals;
use libcairn::isolate::tty::Attach;
use libcairn::record::{ContainerRecord, Kind};
use libcairn::store::container::{ContainerMeta, Status};
use libcairn::Store;

fn main() {
    let a = Isolate::parse();
    cairn_cli::sealed_main_if("cairn-isolate", keeps_a_process_inside(&a), || run(a))
}

/// Every subject in turn; one that isolate cannot run is reported and the
/// others go on. The status: isolate's own failure code (125, 126, 127) if
/// it failed for any subject, else the status of the last process that did
/// not exit 0, else 0; with one subject, that process's status.
fn run(args: Isolate) -> Result<i32, Fail> {
    if !args.run.detach {
        libcairn::isolate::tty::check_input(args.process.interactive, args.process.tty)?;
    }
    let store = open_store(&args.common).map_err(fail125)?;
    let given: Vec<String> = args.container.iter().cloned().collect();
    // Subjects: the argument, or the records on stdin (a pipeline).
    let subjects = cairn_cli::subjects::<ContainerRecord>(&given)
        .map_err(|f| fail125(f).hint_msg("cairn union-mount IMAGE | cairn isolate -- CMD"))?;
    // Bad options fail once, before any subject.
    run_options(&args.cmd, &args.entrypoint, &args.process, &args.run).map_err(fail125)?;
    let mut out = Out::new(Format::resolve(args.format, false));
    let (mut own, mut last) = (None, 0);
    each_subject(subjects, |s| {
        let code = one(&store, &args, s, &mut out).inspect_err(|f| own = Some(f.code))?;
        if code != 0 {
            last = code;
        }
        Ok(())
    })?;
    Ok(own.unwrap_or(last))
}

/// Run one container (detached with -d); the status of its process (0
/// when detached).
fn one(
    store: &Store,
    args: &Isolate,
    s: Subject<ContainerRecord>,
    out: &mut Out,
) -> Result<i32, Fail> {
    let c = store.resolve_container(&s.name).map_err(fail125)?;
    let opts =
        run_options(&args.cmd, &args.entrypoint, &args.process, &args.run).map_err(fail125)?;
    let opts = cairn_cli::container::for_container(opts, &args.run, store, &c).map_err(fail125)?;
    let d = detached(args, &c).map_err(fail125)?;
    let removed = cairn_cli::container::auto_remove(store, &c, &d)?;
    if args.run.detach {
        let (pid, _) = container::start_detached(store, &c, opts, d)
            .map_err(run_failure)
            .inspect_err(&removed)?;
        let started = ContainerRecord {
            status: Some(Status::Running),
            pid: Some(Some(pid.as_raw())),
            ..ContainerRecord::new(c.id)
        };
        out.record(&started.over(s.record))?;
        return Ok(0);
    }
    // A container named by an argument owns stdout: no record then.
    let from_records = s.record.is_some();
    if !from_records && (opts.tty || d.interactive || args.log) {
        return cairn_cli::container::attached(store, &c, opts, d, args);
    }
    let rm = d.remove_on_exit;
    let (code, rec) = foreground(store, &c, opts, args, from_records, rm).inspect_err(&removed)?;
    if from_records {
        out.record(&rec.over(s.record))?;
    }
    Ok(code)
}

/// Run the container attached to us (removed after with `rm`); its exit
/// status and the record of it.
fn foreground(
    store: &Store,
    c: &ContainerMeta,
    opts: RunOptions,
    args: &Isolate,
    from_records: bool,
    rm: bool,
) -> Result<(i32, ContainerRecord), Fail> {
    let signals = Signals::block();
    // In a pipeline stdout carries records: the process writes to stderr.
    let attach =
        Attach::new(args.process.tty, args.process.interactive, from_records).map_err(fail125)?;
    let opts = RunOptions {
        stdio: attach.stdio(),
        console: attach.console(),
        ..opts
    };
    let running = container::start(store, c, &opts).map_err(run_failure)?;
    let term = attach.start();
    let code = signals
        .wait_for(running.pid, running.pid, Some(&term))
        .unwrap_or(125);
    term.finish();
    let st = container::finish_run(store, &running, code, rm).map_err(run_failure)?;
    let rec = ContainerRecord {
        status: Some(st.status),
        exit_code: Some(st.exit_code),
        oom_killed: st.oom_killed.then_some(true),
        ..ContainerRecord::new(c.id)
    };
    Ok((code, rec))
}
