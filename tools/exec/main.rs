use cairn_cli::args::Exec;
use cairn_cli::container::{fail125, run_failure};
use cairn_cli::{open_store, Fail};
use clap::Parser;
use libcairn::container::{self, ExecOptions};
use libcairn::isolate::supervise::Signals;
use libcairn::isolate::tty::Attach;

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
    libcairn::isolate::tty::check_input(args.process.interactive, args.process.tty)?;
    let store = open_store(&args.common).map_err(fail125)?;
    let c = store.resolve_container(&args.container).map_err(fail125)?;
    let attach = Attach::new(args.process.tty, args.process.interactive, false)?;
    let signals = Signals::block();
    let joined = container::exec(
        &store,
        &c,
        &ExecOptions {
            argv: args.cmd.clone(),
            env: args.process.config.env.clone(),
            workdir: args.process.config.workdir.clone(),
            user: args.process.config.user.clone(),
            privileged: args.process.privileged,
            stdio: attach.stdio(),
            tty: attach.is_tty(),
            console: attach.console(),
        },
    )
    .map_err(run_failure)?;
    let term = attach.start();
    let code = signals.wait_for(joined.helper, joined.pid, Some(&term));
    term.finish();
    Ok(code?)
}
