//! `cairn foo ARGS` runs `cairn-foo ARGS`, found beside this program or on
//! PATH, exactly as git finds its commands.

use cairn_cli::args::{commands, Cairn};
use cairn_cli::porcelain::{find_tool, nearest, tools};
use cairn_cli::{usage, Fail};
use clap::{CommandFactory, FromArgMatches};
use std::ffi::OsString;
use std::os::unix::process::CommandExt;

fn main() {
    // The command's arguments pass through untouched (a `--` included): only
    // cairn's own options before the command are parsed.
    let argv: Vec<OsString> = std::env::args_os().collect();
    let args = match argv.get(1).map(|a| a.to_string_lossy().into_owned()) {
        Some(first) if !first.starts_with('-') => Cairn {
            root: None,
            command: Some(first),
            args: argv[2..].to_vec(),
            list: false,
        },
        _ => {
            let m = Cairn::command().after_help(verbs()).get_matches();
            Cairn::from_arg_matches(&m).unwrap_or_else(|e| e.exit())
        }
    };
    cairn_cli::main("cairn", || run(args))
}

/// The commands and what each does, for `cairn --help`; commands found on
/// PATH that cairn does not ship are listed by name.
fn verbs() -> String {
    let mut out = String::from("Commands:\n");
    let mut known = std::collections::BTreeSet::new();
    let mut rows: Vec<(String, String)> = commands()
        .into_iter()
        .filter_map(|c| {
            let name = c.get_name().strip_prefix("cairn-")?.to_string();
            known.insert(name.clone());
            let about = c.get_about().map(|a| a.to_string()).unwrap_or_default();
            Some((name, short(&about)))
        })
        .collect();
    rows.extend(
        tools()
            .into_iter()
            .filter(|t| !known.contains(t))
            .map(|t| (t, String::new())),
    );
    rows.sort();
    for (name, about) in rows {
        out.push_str(format!("  {name:<14} {about}").trim_end());
        out.push('\n');
    }
    out
}

/// A command's description cut to its first clause and to one line.
fn short(about: &str) -> String {
    const MAX: usize = 62;
    // up to the first `:`, `;` or `. ` outside parentheses
    let mut depth = 0i32;
    let mut end = about.len();
    let b = about.as_bytes();
    for (i, &c) in b.iter().enumerate() {
        match c {
            b'(' => depth += 1,
            b')' => depth -= 1,
            b':' | b';' if depth == 0 => end = i,
            b'.' if depth == 0 && b.get(i + 1).is_none_or(|n| *n == b' ') => end = i,
            _ => {}
        }
        if end != about.len() {
            break;
        }
    }
    let first = &about[..end];
    if first.chars().count() <= MAX {
        return first.to_string();
    }
    let cut: String = first.chars().take(MAX).collect();
    let cut = cut.rsplit_once(' ').map_or(cut.as_str(), |(head, _)| head);
    format!("{}…", cut.trim_end_matches([',', ' ']))
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
