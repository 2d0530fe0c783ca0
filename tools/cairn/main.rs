//! `cairn foo ARGS` runs `cairn-foo ARGS`, found beside this program or on
//! PATH, exactly as git finds its commands.

use cairn_cli::args::Cairn;
use cairn_cli::porcelain::{find_tool, nearest, tools, verbs};
use cairn_cli::{usage, Fail};
use clap::{CommandFactory, FromArgMatches};
use std::ffi::OsString;
use std::os::unix::process::CommandExt;

fn main() {
    // The command's arguments pass through untouched (a `--` included): only
    // cairn's own options before the command are parsed.
    let argv: Vec<OsString> = std::env::args_os().collect();
    if argv.get(1).is_some_and(|a| a == "__complete") {
        // the shells' completion scripts ask here (hidden; see complete.rs)
        let words: Vec<String> = argv[2..]
            .iter()
            .map(|w| w.to_string_lossy().into_owned())
            .collect();
        print!("{}", cairn_cli::complete::complete(&words).render());
        return;
    }
    let args = match argv.get(1).map(|a| a.to_string_lossy().into_owned()) {
        Some(first) if !first.starts_with('-') => Cairn {
            root: None,
            command: Some(first),
            args: argv[2..].to_vec(),
            list: false,
        },
        _ => {
            let m = Cairn::command().after_help(verbs()).try_get_matches();
            let m = m.unwrap_or_else(|e| cairn_cli::usage::exit(e, "cairn"));
            Cairn::from_arg_matches(&m).unwrap_or_else(|e| e.exit())
        }
    };
    cairn_cli::main("cairn", || run(args))
}

fn run(args: Cairn) -> Result<i32, Fail> {
    if args.list {
        for c in tools() {
            println!("{c}");
        }
        return Ok(0);
    }
    let Some(mut command) = args.command else {
        let cmds: Vec<String> = tools().into_iter().collect();
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
                let cmds: Vec<String> = tools().into_iter().collect();
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
    let Some(path) = find_tool(&command) else {
        let all = tools();
        let hint = match nearest(&command, &all) {
            Some(near) => format!("did you mean `cairn {near}`?"),
            None => format!(
                "commands: {}",
                all.into_iter().collect::<Vec<_>>().join(", ")
            ),
        };
        return Err(usage(format!(
            "{command:?} is not a cairn command (no cairn-{command} beside cairn or on PATH)"
        ))
        .hint_msg(hint));
    };
    let mut cmd = std::process::Command::new(&path);
    if let Some(root) = &args.root {
        cmd.env("CAIRN_ROOT", root);
    }
    let err = cmd.arg0(format!("cairn-{command}")).args(rest).exec();
    Err(Fail {
        code: 126,
        error: anyhow::anyhow!("running {}: {err}", path.display()),
        hint: None,
    })
}
