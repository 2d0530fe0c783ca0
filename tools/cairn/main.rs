//! `cairn foo ARGS` runs `cairn-foo ARGS`, found beside this program or on
//! PATH, exactly as git finds its commands.

use cairn_cli::args::Cairn;
use cairn_cli::{usage, Fail};
use clap::Parser;
use std::collections::BTreeSet;
use std::ffi::OsString;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};

fn main() {
    // The command's arguments pass through untouched (a `--` included): only
    // cairn's own options before the command are parsed.
    let argv: Vec<OsString> = std::env::args_os().collect();
    let args = match argv.get(1).map(|a| a.to_string_lossy().into_owned()) {
        Some(first) if !first.starts_with('-') => Cairn {
            command: Some(first),
            args: argv[2..].to_vec(),
            list: false,
        },
        _ => Cairn::parse(),
    };
    cairn_cli::main("cairn", || run(args))
}

/// Directories searched: the one holding this program, then PATH.
fn search_path() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(d) = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(Path::to_path_buf))
    {
        dirs.push(d);
    }
    if let Some(p) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&p));
    }
    dirs
}

fn is_executable(p: &Path) -> bool {
    p.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

fn find(command: &str) -> Option<PathBuf> {
    search_path()
        .into_iter()
        .map(|d| d.join(format!("cairn-{command}")))
        .find(|p| is_executable(p))
}

fn list() -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for d in search_path() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if let Some(cmd) = name.strip_prefix("cairn-") {
                if !cmd.is_empty() && !cmd.contains('.') && is_executable(&e.path()) {
                    out.insert(cmd.to_string());
                }
            }
        }
    }
    out
}

fn run(args: Cairn) -> Result<i32, Fail> {
    if args.list {
        for c in list() {
            println!("{c}");
        }
        return Ok(0);
    }
    let Some(mut command) = args.command else {
        let cmds: Vec<String> = list().into_iter().collect();
        return Err(usage("no command given").hint_msg(format!("commands: {}", cmds.join(", "))));
    };
    let mut rest: Vec<OsString> = args.args;
    if command == "help" {
        // `cairn help foo` = `cairn-foo --help`
        match rest.first() {
            Some(c) => {
                command = c.to_string_lossy().into_owned();
                rest = vec!["--help".into()];
            }
            None => {
                let cmds: Vec<String> = list().into_iter().collect();
                println!(
                    "usage: cairn COMMAND [ARGS...]\n\ncommands: {}",
                    cmds.join(", ")
                );
                return Ok(0);
            }
        }
    }
    if command.contains('/') || command.is_empty() {
        return Err(usage(format!("{command:?} is not a command name")));
    }
    let Some(path) = find(&command) else {
        let cmds: Vec<String> = list().into_iter().collect();
        return Err(usage(format!(
            "{command:?} is not a cairn command (no cairn-{command} beside cairn or on PATH)"
        ))
        .hint_msg(format!("commands: {}", cmds.join(", "))));
    };
    let err = std::process::Command::new(&path)
        .arg0(format!("cairn-{command}"))
        .args(rest)
        .exec();
    Err(Fail {
        code: 126,
        error: anyhow::anyhow!("running {}: {err}", path.display()),
        hint: None,
    })
}
