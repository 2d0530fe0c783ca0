use cairn_cli::runtime::{dispatch, Command, LogFormat, Runtime};
use cairn_cli::Parser;
use cairn_cli::{chain_message, printable};
use libcairn::isolate::supervise::Signals;
use libcairn::runtime;

/// Say `msg` on stderr and, with --log, in the log file.
fn report(args: &Runtime, msg: &str) {
    eprintln!("cairn-runtime: error: {msg}");
    if let Some(log) = &args.log {
        let json = args.log_format == LogFormat::Json;
        if let Err(e) = runtime::log_error(log, json, msg) {
            eprintln!("cairn-runtime: error: {e}");
        }
    }
}

fn main() {
    let args = Runtime::parse();
    // A process that enters a container (exec; create and run, whose
    // process waits there before executing its command) must not run from
    // the host's binary, which a container with CAP_SYS_PTRACE could reach
    // through /proc/PID/exe (see libcairn::isolate::exe): start over from
    // a sealed view of it, as runc does.
    let enters = matches!(
        args.command,
        Command::Exec { .. } | Command::Create { .. } | Command::Run { .. }
    );
    if enters {
        if let Err(e) = libcairn::isolate::exe::run_sealed() {
            report(
                &args,
                &format!("re-executing from a sealed view of the binary: {e}"),
            );
            std::process::exit(1);
        }
    }
    // before any thread: `run` takes the signals it passes on synchronously
    let signals = Signals::block();
    let code = match dispatch(&args, &signals) {
        Ok(code) => code,
        Err(f) => {
            report(&args, &printable(&chain_message(&f.error)));
            f.code
        }
    };
    std::process::exit(code)
}
