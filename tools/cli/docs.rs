//! Completions (bash, zsh, fish) and man pages, generated from the clap
//! definitions into `completions/`. `cairn`'s own completion is the
//! scripts in `shell/`, which ask `cairn __complete` (complete.rs), so verbs
//! and the store's names complete too. A test fails when the files there are
//! stale; `CAIRN_BLESS=1 cargo test docs` rewrites them.
//!
//! A man page is clap_mangen's title, name, synopsis, options and
//! subcommands, with cairn's own sections around them: the description
//! in paragraphs, EXAMPLES one per line (the doc comments are verbatim,
//! so `--help` keeps them one per line too), EXIT STATUS, SEE ALSO, and in
//! cairn.1 the list of every command.

use clap::Command;
use clap_complete::{generate, Shell};
use std::io::{self, Write};
use std::path::PathBuf;

/// Every generated file: its path under `completions/` and its bytes.
pub fn render() -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let all = crate::args::commands();
    for cmd in &all {
        let mut cmd = cmd.clone();
        let name = cmd.get_name().to_string();
        for (shell, dir, file) in [
            (Shell::Bash, "bash", name.clone()),
            (Shell::Zsh, "zsh", format!("_{name}")),
            (Shell::Fish, "fish", format!("{name}.fish")),
        ] {
            let buf = match (name.as_str(), shell) {
                ("cairn", Shell::Bash) => include_bytes!("shell/cairn.bash").to_vec(),
                ("cairn", Shell::Zsh) => include_bytes!("shell/cairn.zsh").to_vec(),
                ("cairn", Shell::Fish) => include_bytes!("shell/cairn.fish").to_vec(),
                _ => {
                    let mut buf = Vec::new();
                    generate(shell, &mut cmd, name.clone(), &mut buf);
                    buf
                }
            };
            out.push((PathBuf::from(dir).join(file), buf));
        }
        let mut buf = Vec::new();
        man_page(&cmd, &all, &mut buf).expect("rendering a man page into memory cannot fail");
        out.push((
            PathBuf::from("man").join(format!("{name}.1")),
            once_preamble(buf),
        ));
    }
    out
}

fn man_page(cmd: &Command, all: &[Command], w: &mut Vec<u8>) -> io::Result<()> {
    let man = clap_mangen::Man::new(cmd.clone()).date("");
    man.render_title(w)?;
    man.render_name_section(w)?;
    man.render_synopsis_section(w)?;
    description(cmd, w)?;
    man.render_options_section(w)?;
    if cmd.has_subcommands() {
        man.render_subcommands_section(w)?;
    }
    if cmd.get_name() == "cairn" {
        commands(all, w)?;
    }
    exit_status(cmd.get_name(), w)?;
    see_also(cmd.get_name(), all, w)?;
    man.render_version_section(w)
}

/// The page with clap_mangen's preamble (each section it renders starts
/// with it) kept only at the top.
fn once_preamble(page: Vec<u8>) -> Vec<u8> {
    const PREAMBLE: &str = ".ie \\n(.g .ds Aq \\(aq\n.el .ds Aq '\n";
    let text = String::from_utf8(page).expect("man pages are UTF-8");
    let rest = text.strip_prefix(PREAMBLE).unwrap_or(&text);
    format!("{PREAMBLE}{}", rest.replace(PREAMBLE, "")).into_bytes()
}

/// Text for roff: backslashes and dashes escaped, no line starting as a
/// request.
fn roff(text: &str) -> String {
    let t = text.replace('\\', "\\e").replace('-', "\\-");
    match t.starts_with(['.', '\'']) {
        true => format!("\\&{t}"),
        false => t,
    }
}

/// The long description in paragraphs; the `EXAMPLES:` paragraph as a
/// section of its own, a line per example.
fn description(cmd: &Command, w: &mut Vec<u8>) -> io::Result<()> {
    let text = cmd
        .get_long_about()
        .or(cmd.get_about())
        .map(|t| t.to_string())
        .unwrap_or_default();
    let mut examples = Vec::new();
    writeln!(w, ".SH DESCRIPTION")?;
    for para in text.split("\n\n").filter(|p| !p.trim().is_empty()) {
        if let Some(rest) = para.trim_start().strip_prefix("EXAMPLES:") {
            examples.extend(rest.lines().map(str::trim).filter(|l| !l.is_empty()));
            continue;
        }
        let joined: Vec<&str> = para.lines().map(str::trim).collect();
        writeln!(w, ".PP\n{}", roff(&joined.join(" ")))?;
    }
    if !examples.is_empty() {
        writeln!(w, ".SH EXAMPLES\n.nf")?;
        for e in examples {
            writeln!(w, "{}", roff(e))?;
        }
        writeln!(w, ".fi")?;
    }
    Ok(())
}

/// Every command of the suite, with what it does (cairn.1).
fn commands(all: &[Command], w: &mut Vec<u8>) -> io::Result<()> {
    writeln!(w, ".SH COMMANDS")?;
    for c in all.iter().filter(|c| c.get_name() != "cairn") {
        let about = c.get_about().map(|a| a.to_string()).unwrap_or_default();
        let verb = c.get_name().trim_start_matches("cairn-");
        writeln!(w, ".TP\n\\fBcairn {}\\fR\n{}", roff(verb), roff(&about))?;
    }
    Ok(())
}

/// What a command's exit status means.
fn exit_status(name: &str, w: &mut Vec<u8>) -> io::Result<()> {
    let text = match name {
        "cairn" => "The exit status of the command run. 2 for a command that is not \
                    found (cairn names the nearest one) or bad usage."
            .to_string(),
        "cairn-run" | "cairn-exec" | "cairn-isolate" | "cairn-start" => {
            "The exit status of the container's process when it ran (a process \
             killed by signal N gives 128+N). 125 when cairn itself failed (no such \
             image or container, bad options, the container could not be set up), 126 \
             when the command could not be invoked, 127 when it was not found."
                .to_string()
        }
        _ => "0 on success. 1 when the operation failed; given several subjects, \
              the others are still done and the status is 1 at the end. 2 for bad \
              usage or unusable input."
            .to_string(),
    };
    writeln!(w, ".SH \"EXIT STATUS\"\n{}", roff(&text))
}

/// Commands that go together: a page's SEE ALSO lists the others of
/// every group it is in.
const RELATED: &[&[&str]] = &[
    &["layer-unpack", "union-mount", "isolate", "commit"],
    &[
        "load", "save", "pull", "push", "tag", "images", "image", "rmi", "history", "inspect",
    ],
    &["login", "logout", "pull", "push"],
    &[
        "create",
        "run",
        "start",
        "stop",
        "kill",
        "restart",
        "pause",
        "unpause",
        "wait",
        "rm",
        "ps",
        "container",
        "rename",
    ],
    &[
        "exec", "attach", "top", "logs", "cp", "diff", "export", "port", "inspect",
    ],
    &["build", "commit", "history"],
    &["network", "port", "volume", "run"],
    &["fsck", "system"],
    &["runtime", "isolate", "union-mount"],
    &["unshare", "system"],
];

/// cairn(1) and the commands [`RELATED`] to this one that exist.
fn see_also(name: &str, all: &[Command], w: &mut Vec<u8>) -> io::Result<()> {
    let verb = name.trim_start_matches("cairn-");
    let exists = |v: &str| all.iter().any(|c| c.get_name() == format!("cairn-{v}"));
    let mut refs: Vec<&str> = RELATED
        .iter()
        .filter(|g| g.contains(&verb))
        .flat_map(|g| g.iter().copied())
        .filter(|v| *v != verb && exists(v))
        .collect();
    refs.sort_unstable();
    refs.dedup();
    let mut names: Vec<String> = Vec::new();
    match name {
        "cairn" => names.extend(["run", "layer-unpack"].map(|v| format!("cairn-{v}"))),
        _ => names.push("cairn".into()),
    }
    names.extend(refs.iter().map(|v| format!("cairn-{v}")));
    let names: Vec<String> = names
        .iter()
        .map(|n| format!("\\fB{}\\fR(1)", roff(n)))
        .collect();
    writeln!(w, ".SH \"SEE ALSO\"\n{}", names.join(", "))
}
