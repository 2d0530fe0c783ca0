//! `cairn-runtime`'s command line: runc's, so engines that drive runc
//! (containerd's shim, docker, podman) can drive it.

use clap::{Parser, Subcommand, ValueEnum};
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
#[command(name = "cairn-runtime", version)]
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
    /// Create and run a container in the foreground; exits with its status
    Run {
        /// The bundle: config.json and its root file system
        #[arg(long, short, value_name = "DIR", default_value = ".")]
        bundle: PathBuf,
        /// Write the container's pid to FILE once it runs
        #[arg(long, value_name = "FILE")]
        pid_file: Option<PathBuf>,
        /// Not supported yet: the container's stdio is the caller's
        #[arg(long, short, value_name = "SOCK")]
        console_socket: Option<PathBuf>,
        /// Not supported yet: run only detached through create and start
        #[arg(long, short)]
        detach: bool,
        id: String,
    },
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
