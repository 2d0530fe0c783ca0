use cairn_cli::runtime::{dispatch, LogFormat, Runtime};
use cairn_cli::{chain_message, printable};
use clap::Parser;
use libcairn::isolate::supervise::Signals;
use libcairn::runtime;

fn main() {
    let args = Runtime::parse();
    // before any thread: `run` takes the signals it passes on synchronously
    let signals = Signals::block();
    let code = match dispatch(&args, &signals) {
        Ok(code) => code,
        Err(f) => {
            let msg = printable(&chain_message(&f.error));
            eprintln!("cairn-runtime: error: {msg}");
            if let Some(log) = &args.log {
                let json = args.log_format == LogFormat::Json;
                if let Err(e) = runtime::log_error(log, json, &msg) {
                    eprintln!("cairn-runtime: error: {e}");
                }
            }
            f.code
        }
    };
    std::process::exit(code)
}
