use cairn_cli::args::Exec;
use cairn_cli::container::{fail125, run_failure};
use cairn_cli::Parser;
use cairn_cli::{open_store, Fail};
use libcairn::container::{self, ExecOptions};
use libcairn::isolate::supervise::Signals;
use libcairn::isolate::tty::Attach;
use std::os::fd::AsRawFd;

fn main() {
    cairn_cli::sealed_main("cairn-exec", || run(Exec::parse()))
}

fn run(args: Exec) -> Result<i32, Fail> {
    libcairn::isolate::tty::check_input(args.process.interactive, args.process.tty)?;
    let store = open_store(&args.common).map_err(fail125)?;
    let c = store.resolve_container(&args.container).map_err(fail125)?;
    let mut o = ExecOptions {
        argv: args.cmd.clone(),
        env: cairn_cli::container::env(&args.process.config).map_err(fail125)?,
        workdir: args.process.config.workdir.clone(),
        user: args.process.config.user.clone(),
        privileged: args.process.privileged,
        stdio: [None; 3],
        tty: false,
        console: None,
    };
    if args.detach {
        // as docker's exec -d: nothing in, nothing out, back at once
        let null = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/null")
            .map_err(fail125)?;
        o.stdio = [Some(null.as_raw_fd()); 3];
        container::exec_detached(&store, &c, &o).map_err(run_failure)?;
        return Ok(0);
    }
    let attach = Attach::new(args.process.tty, args.process.interactive, false)?;
    o.stdio = attach.stdio();
    o.tty = attach.is_tty();
    o.console = attach.console();
    let signals = Signals::block();
    let joined = container::exec(&store, &c, &o).map_err(run_failure)?;
    let term = attach.start();
    let code = signals.wait_for(joined.helper, joined.pid, Some(&term));
    term.finish();
    Ok(code?)
}
