//! `cairn-runtime`'s command line: runc's, so engines that drive runc
//! (containerd's shim, docker, podman) can drive it.

use crate::{usage, Fail};
use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use libcairn::isolate::supervise::{parse_signal, Signals};
use libcairn::runtime::{self, ExecArgs, ExecOptions, RunOptions, RuntimeError};
use std::io::Write;
use std::path::PathBuf;

/// An OCI runtime with runc's command line, running containers through
/// cairn's isolation.
///
/// A bundle is a directory holding config.json (the OCI runtime spec) and
/// the root file system it names (`cairn union-mount --bundle DIR IMAGE`
/// writes one). Errors are one line on stderr and, with --log, in that file
/// (as JSON lines with --log-format json). Exit status: the container's
/// for `run`, 1 when the runtime failed, 2 on a usage error.
#[derive(Parser, Debug)]
#[command(name = "cairn-runtime", version, verbatim_doc_comment)]
pub struct Runtime {
    /// Where container state is kept
    #[arg(long, value_name = "DIR", default_value = libcairn::runtime::DEFAULT_ROOT)]
    pub root: PathBuf,
    /// Also write errors to FILE
    #[arg(long, value_name = "FILE")]
    pub log: Option<PathBuf>,
    /// The format of --log
    #[arg(long, value_enum, value_name = "FORMAT", default_value = "text")]
    pub log_format: LogFormat,
    /// Accepted, for runc's callers; changes nothing
    #[arg(long)]
    pub debug: bool,
    /// Not supported: cgroups are made directly, never through systemd
    #[arg(long)]
    pub systemd_cgroup: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum PsFormat {
    Table,
    Json,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Write a default config.json (cairn's defaults, running `sh` in rootfs)
    Spec {
        /// The bundle to write it in
        #[arg(long, short, value_name = "DIR", default_value = ".")]
        bundle: PathBuf,
    },
    /// Print what this runtime supports, as JSON
    Features,
    /// Create a container: set up, its process waiting to be started
    Create {
        /// The bundle: config.json and its root file system
        #[arg(long, short, value_name = "DIR", default_value = ".")]
        bundle: PathBuf,
        /// Write the container's pid to FILE once it is created
        #[arg(long, value_name = "FILE")]
        pid_file: Option<PathBuf>,
        /// Send the master of the container's terminal to this unix socket
        #[arg(long, value_name = "SOCK")]
        console_socket: Option<PathBuf>,
        /// Accepted, for runc's callers: the root is always pivoted into
        #[arg(long)]
        no_pivot: bool,
        id: String,
    },
    /// Start a created container: its process executes its command
    Start { id: String },
    /// Create and start a container; in the foreground (exits with its
    /// status) unless --detach
    Run {
        /// The bundle: config.json and its root file system
        #[arg(long, short, value_name = "DIR", default_value = ".")]
        bundle: PathBuf,
        /// Write the container's pid to FILE once it runs
        #[arg(long, value_name = "FILE")]
        pid_file: Option<PathBuf>,
        /// Send the master of the container's terminal to this unix socket
        /// (with --detach)
        #[arg(long, value_name = "SOCK")]
        console_socket: Option<PathBuf>,
        /// Create and start it, and return
        #[arg(long, short)]
        detach: bool,
        /// Accepted, for runc's callers: the root is always pivoted into
        #[arg(long)]
        no_pivot: bool,
        id: String,
    },
    /// Run a process in a running container; exits with its status unless
    /// --detach
    Exec {
        /// The process (the runtime spec's `process` as JSON) instead of
        /// ARGS
        #[arg(long, short, value_name = "FILE", conflicts_with = "args")]
        process: Option<PathBuf>,
        /// Leave it running and return
        #[arg(long, short)]
        detach: bool,
        /// Give it a terminal: its master goes to --console-socket, or
        /// without one (in the foreground) is relayed to and from our stdio
        #[arg(long, short)]
        tty: bool,
        /// Write its pid to FILE once it runs
        #[arg(long, value_name = "FILE")]
        pid_file: Option<PathBuf>,
        /// Send the master of its terminal to this unix socket
        #[arg(long, value_name = "SOCK")]
        console_socket: Option<PathBuf>,
        /// Its working directory in the container
        #[arg(long, value_name = "DIR")]
        cwd: Option<String>,
        /// Add to its environment
        #[arg(long, short, value_name = "NAME=VALUE")]
        env: Vec<String>,
        /// Run it as UID[:GID]
        #[arg(long, short, value_name = "UID[:GID]")]
        user: Option<String>,
        id: String,
        /// The command and its arguments
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// List the processes of a container (`ps -ef` lines, or host pids as a
    /// JSON array with --format json)
    Ps {
        #[arg(long, short, value_enum, default_value = "table")]
        format: PsFormat,
        id: String,
        /// Options for ps(1) instead of -ef
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        ps_args: Vec<String>,
    },
    /// Freeze every process of a running container
    Pause { id: String },
    /// Thaw a paused container
    Resume { id: String },
    /// Print a container's state (the runtime spec's state JSON)
    State { id: String },
    /// Send a signal (a name or a number; default SIGTERM) to a container
    Kill {
        /// Signal every process of the container's cgroup
        #[arg(long, short)]
        all: bool,
        id: String,
        #[arg(default_value = "SIGTERM")]
        signal: String,
    },
    /// Delete a stopped container's state; --force kills a running one
    Delete {
        /// Kill it if it runs; a container that does not exist is no error
        #[arg(long, short)]
        force: bool,
        id: String,
    },
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

/// Carry out the command `args` give; its exit status.
pub fn dispatch(args: &Runtime, signals: &Signals) -> Result<i32, Fail> {
    if args.systemd_cgroup {
        return Err(usage(
            "--systemd-cgroup is not supported: cairn-runtime makes cgroups itself; leave it out",
        ));
    }
    let rt = runtime::Runtime::new(&args.root);
    let done = |r: Result<(), RuntimeError>| r.map(|()| 0).map_err(failed);
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
        Command::Create {
            bundle,
            pid_file,
            console_socket,
            id,
            ..
        }
        | Command::Run {
            bundle,
            pid_file,
            console_socket,
            id,
            detach: true,
            ..
        } => {
            let o = RunOptions {
                id,
                bundle,
                pid_file: pid_file.as_deref(),
                console_socket: console_socket.as_deref(),
            };
            rt.create(&o).map_err(failed)?;
            match &args.command {
                Command::Run { .. } => done(rt.start(id)),
                _ => Ok(0),
            }
        }
        Command::Run {
            bundle,
            pid_file,
            console_socket,
            id,
            ..
        } => {
            if console_socket.is_some() {
                return Err(usage("run --console-socket needs --detach"));
            }
            let o = RunOptions {
                id,
                bundle,
                pid_file: pid_file.as_deref(),
                console_socket: None,
            };
            rt.run(&o, signals).map_err(failed)
        }
        Command::Start { id } => done(rt.start(id)),
        Command::State { id } => json_out(serde_json::to_value(rt.state(id).map_err(failed)?)?),
        Command::Kill { all, id, signal } => {
            let sig =
                parse_signal(signal).ok_or_else(|| usage(format!("invalid signal {signal:?}")))?;
            done(rt.kill(id, sig, *all))
        }
        Command::Delete { force, id } => done(rt.delete(id, *force)),
        Command::Pause { id } => done(rt.pause(id)),
        Command::Resume { id } => done(rt.resume(id)),
        Command::Ps {
            format,
            id,
            ps_args,
        } => {
            let pids = rt.ps(id).map_err(failed)?;
            if *format == PsFormat::Json {
                return json_out(serde_json::to_value(pids)?);
            }
            let ps_args = if ps_args.is_empty() {
                vec!["-ef".to_string()]
            } else {
                ps_args.clone()
            };
            let out = std::process::Command::new("ps").args(&ps_args).output()?;
            let text = String::from_utf8_lossy(&out.stdout);
            let kept = filter_ps(&text, &pids).ok_or_else(|| usage("ps printed no PID column"))?;
            print!("{kept}");
            Ok(0)
        }
        Command::Exec {
            process,
            detach,
            tty,
            pid_file,
            console_socket,
            cwd,
            env,
            user,
            id,
            args,
        } => {
            let p = match process {
                Some(f) => runtime::read_process(f),
                None => rt.exec_process(
                    id,
                    &ExecArgs {
                        args,
                        cwd: cwd.as_deref(),
                        env,
                        user: user.as_deref(),
                        tty: *tty,
                    },
                ),
            }
            .map_err(failed)?;
            let o = ExecOptions {
                detach: *detach,
                pid_file: pid_file.as_deref(),
                console_socket: console_socket.as_deref(),
            };
            rt.exec(id, p, &o, signals).map_err(failed)
        }
    }
}

/// The lines of `ps` output `out` whose PID column holds one of `pids`,
/// under its header line (runc's `ps` table). `None` when the header has
/// no PID column.
pub fn filter_ps(out: &str, pids: &[i32]) -> Option<String> {
    let mut lines = out.lines();
    let header = lines.next()?;
    let col = header.split_whitespace().position(|c| c == "PID")?;
    let mut kept = format!("{header}\n");
    for line in lines {
        let pid = line
            .split_whitespace()
            .nth(col)
            .and_then(|p| p.parse().ok());
        if pid.is_some_and(|p| pids.contains(&p)) {
            kept.push_str(line);
            kept.push('\n');
        }
    }
    Some(kept)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ps_lines_are_those_of_the_pids() {
        let out = "UID PID PPID C STIME TTY TIME CMD\nroot 1 0 0 10:00 ? 00:00:01 init\nroot 42 1 0 10:00 ? 00:00:00 sleep 1\n";
        assert_eq!(
            filter_ps(out, &[42]).unwrap(),
            "UID PID PPID C STIME TTY TIME CMD\nroot 42 1 0 10:00 ? 00:00:00 sleep 1\n"
        );
        assert!(filter_ps("USER X\n", &[1]).is_none());
    }
}
