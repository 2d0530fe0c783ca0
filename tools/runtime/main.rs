use anyhow::Context;
use cairn_cli::runtime::{Command, LogFormat, Runtime};
use cairn_cli::{chain_message, printable, usage, Fail};
use clap::Parser;
use libcairn::isolate::supervise::{parse_signal, Signals};
use libcairn::runtime::{self, RunOptions, RuntimeError};
use std::io::Write;

fn main() {
    let args = Runtime::parse();
    // before any thread: `run` takes the signals it passes on synchronously
    let signals = Signals::block();
    let code = match run(&args, &signals) {
        Ok(code) => code,
        Err(f) => {
            let msg = printable(&chain_message(&f.error));
            eprintln!("cairn-runtime: error: {msg}");
            if let Some(log) = &args.log {
                let json = args.log_format == LogFormat::Json;
                if let Err(e) = runtime::log_error(log, json, &msg) {
                    let e = printable(&libcairn::error::one_line(&e));
                    eprintln!("cairn-runtime: error: {e}");
                }
            }
            f.code
        }
    };
    std::process::exit(code)
}

fn failed(e: RuntimeError) -> Fail {
    Fail {
        code: e.exit_code(),
        error: e.into(),
        hint: None,
    }
}

fn json_out(v: serde_json::Value) -> Result<i32, Fail> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, &v)?;
    writeln!(out)?;
    Ok(0)
}

fn run(args: &Runtime, signals: &Signals) -> Result<i32, Fail> {
    if args.systemd_cgroup {
        return Err(usage(
            "--systemd-cgroup is not supported: cairn-runtime makes cgroups itself; leave it out",
        ));
    }
    let rt = runtime::Runtime::new(&args.root);
    match &args.command {
        Command::Spec { bundle } => {
            let path = bundle.join("config.json");
            if path.exists() {
                return Err(usage(format!(
                    "{}: exists; remove it first",
                    path.display()
                )));
            }
            runtime::default_spec()
                .save(&path)
                .with_context(|| path.display().to_string())?;
            Ok(0)
        }
        Command::Features => json_out(runtime::features()),
        Command::Run {
            bundle,
            pid_file,
            console_socket,
            detach,
            id,
        } => {
            if console_socket.is_some() || *detach {
                return Err(usage(
                    "run --console-socket and --detach are not supported yet: run in the foreground",
                ));
            }
            let o = RunOptions {
                id,
                bundle,
                pid_file: pid_file.as_deref(),
            };
            rt.run(&o, signals).map_err(failed)
        }
        Command::State { id } => json_out(serde_json::to_value(rt.state(id).map_err(failed)?)?),
        Command::Kill { all, id, signal } => {
            let sig =
                parse_signal(signal).ok_or_else(|| usage(format!("invalid signal {signal:?}")))?;
            rt.kill(id, sig, *all).map_err(failed)?;
            Ok(0)
        }
        Command::Delete { force, id } => {
            rt.delete(id, *force).map_err(failed)?;
            Ok(0)
        }
    }
}
