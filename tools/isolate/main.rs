//! cairn-isolate: a container's union view plus an isolated process space.
//! See `cairn isolate --help` for how output and records are kept apart.

use cairn_cli::args::Isolate;
use cairn_cli::container::{limits, log_bounds, overrides, parse_net};
use cairn_cli::out::{Format, Out};
use cairn_cli::pty::{copy_winsize, start_relay, TermPipes};
use cairn_cli::{open_store, Fail};
use clap::Parser;
use libcairn::container::{self, RunOptions, Running};
use libcairn::record::{self, ContainerRecord, Kind, Record};
use libcairn::store::container::{ContainerMeta, Status};
use libcairn::Store;
use nix::sys::signal::{SigSet, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::{getpid, ForkResult, Pid};
use std::fs::{File, OpenOptions};
use std::io::{self, IsTerminal, Read, Write};
use std::os::fd::{AsRawFd, IntoRawFd};

fn main() {
    cairn_cli::main("cairn-isolate", || run(Isolate::parse()))
}

/// isolate's own failures exit 125 (126/127 when the command cannot run).
fn fail125(e: impl Into<anyhow::Error>) -> Fail {
    Fail {
        code: 125,
        error: e.into(),
        hint: None,
    }
}

fn container_fail(e: container::ContainerError) -> Fail {
    Fail {
        code: e.exit_code(),
        error: e.into(),
        hint: None,
    }
}

const FORWARDED: [Signal; 7] = [
    Signal::SIGINT,
    Signal::SIGTERM,
    Signal::SIGHUP,
    Signal::SIGQUIT,
    Signal::SIGUSR1,
    Signal::SIGUSR2,
    Signal::SIGWINCH,
];

fn run(args: Isolate) -> Result<i32, Fail> {
    let store = open_store(&args.common).map_err(|f| Fail { code: 125, ..f })?;
    // Subjects: the argument, or the records on stdin (a pipeline).
    let (subjects, from_records) = match &args.container {
        Some(c) => (vec![(c.clone(), Record::new())], false),
        None => {
            if io::stdin().is_terminal() {
                return Err(Fail {
                    code: 125,
                    ..cairn_cli::usage("no container given")
                        .hint_msg("cairn union-mount IMAGE | cairn isolate -- CMD")
                });
            }
            let mut v = Vec::new();
            for r in record::read_records(io::stdin().lock()) {
                let r = r.map_err(fail125)?;
                let name = record::field(&r, "container")
                    .ok_or_else(|| {
                        fail125(anyhow::anyhow!("stdin record has no \"container\" field"))
                    })?
                    .to_string();
                v.push((name, r));
            }
            if v.is_empty() {
                return Err(fail125(anyhow::anyhow!(
                    "no container given: no argument and no record on stdin"
                )));
            }
            (v, true)
        }
    };
    if args.process.tty && args.run.detach {
        return Err(Fail {
            code: 125,
            ..cairn_cli::usage("-t and -d do not go together (no terminal to attach later)")
        });
    }
    let mut out = Out::new(Format::resolve(args.format, false));
    let mut last = 0;
    for (name, rec) in subjects {
        let c = store.resolve_container(&name).map_err(fail125)?;
        let code = if args.run.detach {
            detach(&store, &c, &args, rec, &mut out)?
        } else {
            foreground(&store, &c, &args, rec, from_records, &mut out)?
        };
        last = code;
    }
    Ok(last)
}

fn options(
    args: &Isolate,
    stdio: [Option<i32>; 3],
    tty: bool,
    supervisor: Pid,
) -> Result<RunOptions, Fail> {
    Ok(RunOptions {
        overrides: overrides(&args.cmd, &args.entrypoint, &args.process),
        net: parse_net(&args.run.net),
        limits: limits(&args.run).map_err(|f| Fail { code: 125, ..f })?,
        privileged: args.process.privileged,
        stdio,
        tty,
        supervisor,
    })
}

/// Wait for the container's init, forwarding signals; returns its status.
fn supervise(r: &Running, pty: Option<&nix::pty::PtyMaster>) -> i32 {
    let mut set = SigSet::empty();
    for s in FORWARDED {
        set.add(s);
    }
    set.add(Signal::SIGCHLD);
    loop {
        match waitpid(r.pid, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::StillAlive) => {}
            Ok(st) => {
                if let Some(code) = container::exit_code(st) {
                    return code;
                }
            }
            Err(nix::errno::Errno::EINTR) => continue,
            Err(_) => return 125,
        }
        match set.wait() {
            Ok(Signal::SIGCHLD) => {}
            Ok(Signal::SIGWINCH) => {
                if let Some(m) = pty {
                    copy_winsize(m);
                }
            }
            Ok(sig) => {
                let _ = nix::sys::signal::kill(r.pid, sig);
            }
            Err(_) => {}
        }
    }
}

fn block_signals() {
    let mut set = SigSet::empty();
    for s in FORWARDED {
        set.add(s);
    }
    set.add(Signal::SIGCHLD);
    let _ = set.thread_block();
}

fn finish_record(rec: Record, c: &ContainerMeta, st: &libcairn::store::container::State) -> Record {
    ContainerRecord {
        status: Some(st.status),
        exit_code: Some(st.exit_code),
        oom_killed: st.oom_killed.then_some(true),
        ..ContainerRecord::new(c.id)
    }
    .over(rec)
}

fn foreground(
    store: &Store,
    c: &ContainerMeta,
    args: &Isolate,
    rec: Record,
    from_records: bool,
    out: &mut Out,
) -> Result<i32, Fail> {
    block_signals();
    let me = getpid();
    // In a pipeline stdout carries records: the process writes to stderr.
    let stdout_fd = if from_records { Some(2) } else { None };
    let mut term_pipes = None;
    let (running, pty) = if args.process.tty {
        let pty = nix::pty::openpty(None, None).map_err(fail125)?;
        let slave = pty.slave.as_raw_fd();
        let opts = options(args, [Some(slave), Some(slave), Some(slave)], true, me)?;
        let r = container::start(store, c, &opts).map_err(container_fail)?;
        drop(pty.slave);
        // SAFETY: the master fd is ours; PtyMaster takes ownership.
        let master = unsafe { nix::pty::PtyMaster::from_owned_fd(pty.master) };
        (r, Some(master))
    } else {
        let stdin = if args.process.interactive {
            None
        } else {
            Some(dev_null()?)
        };
        let stdio = [stdin, stdout_fd, None];
        let pipes = TermPipes::new(&stdio).map_err(fail125)?;
        let opts = options(args, pipes.stdio(stdio), false, me)?;
        let r = container::start(store, c, &opts).map_err(container_fail)?;
        term_pipes = Some(pipes.start());
        (r, None)
    };
    let relay = pty.as_ref().map(|m| start_relay(m, from_records));
    let code = supervise(&running, pty.as_ref());
    if let Some(r) = relay {
        r.finish();
    }
    if let Some(r) = term_pipes {
        r.finish();
    }
    let st = container::finish(store, &running, code).map_err(container_fail)?;
    if from_records {
        out.record(&finish_record(rec, c, &st), "container")?;
    }
    Ok(code)
}

fn dev_null() -> Result<i32, Fail> {
    let f = File::open("/dev/null").map_err(fail125)?;
    Ok(f.into_raw_fd())
}

/// `-d`: a supervisor process stays behind, reaps the container's init,
/// keeps its output in the container's log and records its exit.
fn detach(
    store: &Store,
    c: &ContainerMeta,
    args: &Isolate,
    rec: Record,
    out: &mut Out,
) -> Result<i32, Fail> {
    let (r, w) = nix::unistd::pipe().map_err(fail125)?;
    let log_path = store.container_dir(&c.id).join("log");
    let bounds = log_bounds(&args.run).map_err(|f| Fail { code: 125, ..f })?;
    // SAFETY: single-threaded here; the child runs the supervisor and exits.
    match unsafe { nix::unistd::fork() }.map_err(fail125)? {
        ForkResult::Child => {
            drop(r);
            let mut w = File::from(w);
            let code = (|| -> Result<i32, String> {
                nix::unistd::setsid().map_err(|e| e.to_string())?;
                let null = OpenOptions::new()
                    .read(true)
                    .write(true)
                    .open("/dev/null")
                    .map_err(|e| e.to_string())?;
                for fd in 0..3 {
                    // SAFETY: dup2 of an open fd onto a standard slot.
                    unsafe { libc::dup2(null.as_raw_fd(), fd) };
                }
                // The container writes into a pipe; this supervisor keeps
                // what comes out in a log of bounded size.
                let mut log = libcairn::logfile::Rotating::open(&log_path, bounds)
                    .map_err(|e| format!("{}: {e}", log_path.display()))?;
                let (log_r, log_w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)
                    .map_err(|e| format!("pipe: {e}"))?;
                block_signals();
                let opts = options(
                    args,
                    [
                        Some(null.as_raw_fd()),
                        Some(log_w.as_raw_fd()),
                        Some(log_w.as_raw_fd()),
                    ],
                    false,
                    getpid(),
                )
                .map_err(|f| f.error.to_string())?;
                let running = match container::start(store, c, &opts) {
                    Ok(r) => r,
                    Err(e) => {
                        let _ = write!(w, "E{} {e}", e.exit_code());
                        return Ok(e.exit_code());
                    }
                };
                let _ = write!(w, "P{}", running.pid);
                drop(w);
                drop(log_w);
                let logger = std::thread::spawn(move || log.copy_from(File::from(log_r)));
                let code = supervise(&running, None);
                // The pipe ends when the last process of the container is
                // gone (all die with its init); wait for what it still holds.
                let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
                while !logger.is_finished() && std::time::Instant::now() < deadline {
                    std::thread::sleep(std::time::Duration::from_millis(5));
                }
                let _ = container::finish(store, &running, code);
                Ok(code)
            })();
            let code = code.unwrap_or(125);
            // SAFETY: leave the supervisor without unwinding into the parent's state.
            unsafe { libc::_exit(code) }
        }
        ForkResult::Parent { .. } => {
            drop(w);
            let mut msg = String::new();
            File::from(r).read_to_string(&mut msg).map_err(fail125)?;
            if let Some(pid) = msg.strip_prefix('P') {
                let started = ContainerRecord {
                    status: Some(Status::Running),
                    pid: Some(Some(pid.parse::<i32>().unwrap_or(0))),
                    ..ContainerRecord::new(c.id)
                };
                out.record(&started.over(rec), "container")?;
                return Ok(0);
            }
            let (code, text) = msg
                .strip_prefix('E')
                .and_then(|m| m.split_once(' '))
                .map(|(c, t)| (c.parse().unwrap_or(125), t.to_string()))
                .unwrap_or((125, "the supervisor failed to start".into()));
            Err(Fail {
                code,
                error: anyhow::anyhow!("{text}"),
                hint: None,
            })
        }
    }
}
