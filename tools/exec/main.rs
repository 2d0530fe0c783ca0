use cairn_cli::args::Exec;
use cairn_cli::{open_store, Fail};
use clap::Parser;
use libcairn::container::{self, ExecOptions};
use nix::sys::signal::{SigSet, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use std::os::fd::IntoRawFd;

fn main() {
    // The process that enters the container must not run from the host's
    // binary (see libcairn::isolate::exe): start over from a sealed copy.
    if let Err(e) = libcairn::isolate::exe::run_sealed() {
        eprintln!("cairn-exec: error: re-executing from a sealed copy of the binary: {e}");
        std::process::exit(125);
    }
    cairn_cli::main("cairn-exec", || run(Exec::parse()))
}

fn run(args: Exec) -> Result<i32, Fail> {
    let store = open_store(&args.common).map_err(|f| Fail { code: 125, ..f })?;
    let c = store.resolve_container(&args.container).map_err(|e| Fail {
        code: 125,
        error: e.into(),
        hint: None,
    })?;
    let pty = if args.process.tty {
        Some(nix::pty::openpty(None, None).map_err(Fail::from)?)
    } else {
        None
    };
    let stdin = if let Some(p) = &pty {
        use std::os::fd::AsRawFd;
        Some(p.slave.as_raw_fd())
    } else if args.process.interactive {
        None
    } else {
        Some(
            std::fs::File::open("/dev/null")
                .map_err(Fail::from)
                .map(|f| f.into_raw_fd())?,
        )
    };
    let forwarded = [
        Signal::SIGINT,
        Signal::SIGTERM,
        Signal::SIGHUP,
        Signal::SIGQUIT,
        Signal::SIGUSR1,
        Signal::SIGUSR2,
    ];
    let mut set = SigSet::empty();
    for s in forwarded {
        set.add(s);
    }
    set.add(Signal::SIGCHLD);
    let _ = set.thread_block();
    // Without -t the container gets pipes, never our terminal.
    let pipes = match &pty {
        Some(_) => None,
        None => Some(cairn_cli::pty::TermPipes::new(&[stdin, None, None]).map_err(Fail::from)?),
    };
    let joined = container::exec(
        &store,
        &c,
        &ExecOptions {
            argv: args.cmd.clone(),
            env: args.process.config.env.clone(),
            workdir: args.process.config.workdir.clone(),
            user: args.process.config.user.clone(),
            privileged: args.process.privileged,
            stdio: match &pipes {
                None => [stdin, stdin, stdin],
                Some(p) => p.stdio([stdin, None, None]),
            },
            tty: pty.is_some(),
        },
    )
    .map_err(|e| Fail {
        code: e.exit_code(),
        error: e.into(),
        hint: None,
    })?;
    let master = pty.map(|p| {
        drop(p.slave);
        // SAFETY: the master fd is ours; PtyMaster takes ownership.
        unsafe { nix::pty::PtyMaster::from_owned_fd(p.master) }
    });
    let mut relay = master
        .as_ref()
        .map(|m| cairn_cli::pty::start_relay(m, false));
    let mut piped = pipes.map(|p| p.start());
    loop {
        match waitpid(joined.helper, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::StillAlive) => {}
            Ok(st) => {
                if let Some(code) = container::exit_code(st) {
                    if let Some(r) = relay.take() {
                        r.finish();
                    }
                    if let Some(r) = piped.take() {
                        r.finish();
                    }
                    return Ok(code);
                }
            }
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(Fail::from(e)),
        }
        match set.wait() {
            Ok(Signal::SIGCHLD) | Err(_) => {}
            Ok(sig) => {
                let _ = nix::sys::signal::kill(joined.pid, sig);
            }
        }
    }
}
