//! Completion answered by cairn itself, for every shell: the shell runs
//! `cairn __complete WORD...` with the words of the command line up to the
//! cursor (the last one is the word being completed, maybe empty) and
//! offers what it prints, one candidate a line. The last line says what
//! the shell adds when nothing matched: `:files` (file names) or `:none`.
//!
//! The words are read against the clap definitions of the verb, so options
//! that take a value, subcommands and trailing commands are known; an
//! argument named CONTAINER completes the store's container names (and IDs
//! when a prefix is typed), one named IMAGE the store's tags. The store is
//! the one the command would use (`--root`, else `$CAIRN_ROOT`, else the
//! default), and a store that does not exist is not created.

use clap::{Arg, Command};
use libcairn::store::container::Status;
use std::path::PathBuf;

/// What the shell should offer.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Answer {
    pub words: Vec<String>,
    /// File names when nothing else matched.
    pub files: bool,
}

impl Answer {
    fn files() -> Answer {
        Answer {
            words: Vec::new(),
            files: true,
        }
    }

    fn of(words: impl IntoIterator<Item = String>, cur: &str) -> Answer {
        let mut words: Vec<String> = words.into_iter().filter(|w| w.starts_with(cur)).collect();
        words.sort();
        words.dedup();
        Answer {
            words,
            files: false,
        }
    }

    /// The lines `cairn __complete` prints.
    pub fn render(&self) -> String {
        let mut out: String = self.words.iter().map(|w| format!("{w}\n")).collect();
        out.push_str(if self.files { ":files\n" } else { ":none\n" });
        out
    }
}

/// Candidates for the last of `words` (`words[0]` is `cairn` or
/// `cairn-VERB`).
pub fn complete(words: &[String]) -> Answer {
    let Some((cur, before)) = words.split_last() else {
        return Answer::default();
    };
    let Some(first) = before.first() else {
        return Answer::default();
    };
    let mut root = None;
    let prog = first.rsplit('/').next().unwrap_or(first);
    let (verb, rest) = match prog.strip_prefix("cairn-") {
        Some(v) => (v.to_string(), &before[1..]),
        None => {
            let mut i = 1;
            while i < before.len() && before[i].starts_with('-') {
                if before[i] == "--root" {
                    root = before.get(i + 1).map(PathBuf::from);
                    i += 1;
                } else if let Some(r) = before[i].strip_prefix("--root=") {
                    root = Some(PathBuf::from(r));
                }
                i += 1;
            }
            match before.get(i) {
                Some(v) => (v.clone(), &before[i + 1..]),
                None if before.last().is_some_and(|w| w == "--root") => return Answer::files(),
                None if cur.starts_with('-') => return options(&crate::args::commands()[0], cur),
                None => return Answer::of(crate::porcelain::tools(), cur),
            }
        }
    };
    let Some(mut cmd) = crate::args::commands()
        .into_iter()
        .find(|c| c.get_name() == format!("cairn-{verb}"))
    else {
        return Answer::files();
    };
    cmd.build();
    in_command(&cmd, rest, cur, root)
}

/// Where the words after the verb leave the cursor: an option's value, an
/// option, a subcommand or the Nth positional argument.
fn in_command(cmd: &Command, rest: &[String], cur: &str, mut root: Option<PathBuf>) -> Answer {
    let mut cmd = cmd.clone();
    let mut pending: Option<Arg> = None;
    let mut positional = 0;
    let mut sub_chosen = false;
    for w in rest {
        if let Some(arg) = pending.take() {
            if arg.get_id() == "root" {
                root = Some(PathBuf::from(w));
            }
            continue;
        }
        if w == "--" {
            return Answer::files();
        }
        if w.starts_with('-') && w.len() > 1 {
            if let Some(r) = w.strip_prefix("--root=") {
                root = Some(PathBuf::from(r));
            }
            pending = takes_value_next(&cmd, w);
            continue;
        }
        if !sub_chosen && cmd.has_subcommands() {
            match cmd.find_subcommand(w) {
                Some(sub) => {
                    cmd = sub.clone();
                    sub_chosen = true;
                    continue;
                }
                None => return Answer::files(),
            }
        }
        if positional_at(&cmd, positional).is_some_and(trailing) {
            return Answer::files();
        }
        positional += 1;
    }
    if let Some(arg) = pending {
        return value_of(&arg, cur);
    }
    if cur.starts_with('-') {
        return options(&cmd, cur);
    }
    if !sub_chosen && cmd.has_subcommands() {
        let subs = cmd.get_subcommands().filter(|s| !s.is_hide_set());
        return Answer::of(subs.map(|s| s.get_name().to_string()), cur);
    }
    match positional_at(&cmd, positional) {
        Some(arg) if !trailing(arg) => names(cmd.get_name(), arg, cur, root),
        _ => Answer::files(),
    }
}

/// The option a word names when its value is the next word.
fn takes_value_next(cmd: &Command, word: &str) -> Option<Arg> {
    let takes = |a: &&Arg| a.get_action().takes_values();
    if let Some(long) = word.strip_prefix("--") {
        if long.contains('=') {
            return None;
        }
        return cmd
            .get_arguments()
            .find(|a| {
                a.get_long() == Some(long) || a.get_all_aliases().is_some_and(|v| v.contains(&long))
            })
            .filter(takes)
            .cloned();
    }
    // `-it`, `-p80`, `-p 80`: the first short that takes a value takes the
    // rest of the word, or the next word when it is last
    let chars: Vec<char> = word[1..].chars().collect();
    for (i, c) in chars.iter().enumerate() {
        let arg = cmd.get_arguments().find(|a| a.get_short() == Some(*c))?;
        if arg.get_action().takes_values() {
            return (i + 1 == chars.len()).then(|| arg.clone());
        }
    }
    None
}

fn positional_at(cmd: &Command, n: usize) -> Option<&Arg> {
    let all: Vec<&Arg> = cmd.get_positionals().filter(|a| !a.is_hide_set()).collect();
    all.get(n).copied().or_else(|| {
        all.last()
            .copied()
            .filter(|a| a.get_num_args().is_some_and(|r| r.max_values() > 1))
    })
}

/// A command and its arguments: what follows is not cairn's to complete.
fn trailing(arg: &Arg) -> bool {
    arg.is_trailing_var_arg_set() || arg.is_last_set()
}

fn options(cmd: &Command, cur: &str) -> Answer {
    let mut words = Vec::new();
    for a in cmd.get_arguments().filter(|a| !a.is_hide_set()) {
        words.extend(a.get_long().map(|l| format!("--{l}")));
        words.extend(a.get_short().map(|s| format!("-{s}")));
    }
    Answer::of(words, cur)
}

/// An option's value: its possible values, names where it names them,
/// else files.
fn value_of(arg: &Arg, cur: &str) -> Answer {
    let possible: Vec<String> = arg
        .get_possible_values()
        .iter()
        .filter(|p| !p.is_hide_set())
        .map(|p| p.get_name().to_string())
        .collect();
    match possible.is_empty() {
        false => Answer::of(possible, cur),
        true => Answer::files(),
    }
}

/// Whether an argument names containers, images, or both: by its value
/// name, and for the few whose name says less, by the command.
fn kinds(cmd: &str, arg: &Arg) -> (bool, bool) {
    let name = arg
        .get_value_names()
        .and_then(|v| v.first())
        .map(|s| s.to_string())
        .unwrap_or_default();
    match (cmd, name.as_str()) {
        ("cairn-tag", "NAME") | ("cairn-images", "REPOSITORY[:TAG]") => (false, true),
        ("cairn-inspect", "NAME") => (true, true),
        (_, n) => (n.contains("CONTAINER"), n.contains("IMAGE")),
    }
}

/// What names the store has for an argument that names containers or
/// images; else as any value.
fn names(cmd: &str, arg: &Arg, cur: &str, root: Option<PathBuf>) -> Answer {
    let (containers, images) = kinds(cmd, arg);
    let copy = cmd == "cairn-cp";
    if copy && cur.contains(':') {
        // a path in the container: not the host's files
        return Answer::default();
    }
    if !containers && !images && !copy {
        return value_of(arg, cur);
    }
    let env = std::env::var_os("CAIRN_ROOT").filter(|r| !r.is_empty());
    let root = crate::store_root(&root.or(env.map(PathBuf::from)));
    // without a store, cp still names a host path
    let none = || match copy {
        true => Answer::files(),
        false => Answer::default(),
    };
    if !root.join("containers").is_dir() {
        return none();
    }
    let Ok(store) = libcairn::Store::open(&root) else {
        return none();
    };
    let mut words = Vec::new();
    if copy {
        // `CONTAINER:PATH`, or a host path
        let with_colon = container_names(&store, cur, None).into_iter();
        let mut a = Answer::of(with_colon.map(|n| format!("{n}:")), cur);
        a.files = true;
        return a;
    }
    if containers {
        words.extend(container_names(&store, cur, wanted(cmd)));
    }
    if images {
        words.extend(image_names(&store));
    }
    Answer::of(words, cur)
}

/// The containers a verb can act on, by status, as docker's completion
/// offers them (`None`: every one).
fn wanted(cmd: &str) -> Option<fn(Status) -> bool> {
    let running: fn(Status) -> bool = |s| s == Status::Running;
    match cmd {
        "cairn-start" => {
            Some(|s| !matches!(s, Status::Running | Status::Paused | Status::Restarting))
        }
        "cairn-stop" | "cairn-attach" | "cairn-exec" | "cairn-pause" | "cairn-kill" => {
            Some(running)
        }
        "cairn-unpause" => Some(|s| s == Status::Paused),
        _ => None,
    }
}

/// Every container's name (of those `wanted` takes); its short ID too
/// once a hex prefix is typed (as docker's completion).
fn container_names(
    store: &libcairn::Store,
    cur: &str,
    wanted: Option<fn(Status) -> bool>,
) -> Vec<String> {
    let hex = !cur.is_empty() && cur.chars().all(|c| c.is_ascii_hexdigit());
    let mut out = Vec::new();
    for c in store.containers().unwrap_or_default() {
        if let Some(keep) = wanted {
            let st = libcairn::container::state(store, &c);
            if !st.is_ok_and(|st| keep(st.status)) {
                continue;
            }
        }
        if hex {
            out.push(c.id.short());
        }
        out.push(c.name);
    }
    out
}

/// Every tag as `name:tag`, and `name` alone for `:latest`.
fn image_names(store: &libcairn::Store) -> Vec<String> {
    let mut out = Vec::new();
    for r in libcairn::store::refs::list(store).unwrap_or_default() {
        if let Some(repo) = r.name.strip_suffix(":latest") {
            out.push(repo.to_string());
        }
        out.push(r.name);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> Vec<String> {
        let mut w: Vec<String> = line.split_whitespace().map(String::from).collect();
        if line.ends_with(' ') {
            w.push(String::new());
        }
        w
    }

    #[test]
    fn options_values_and_subcommands() {
        let a = complete(&words("cairn rm --fo"));
        assert_eq!(a.words, ["--force", "--format"]);
        let a = complete(&words("cairn rm --format "));
        assert_eq!(a.words, ["id", "json", "table"]);
        let a = complete(&words("cairn --root /x rm --format t"));
        assert_eq!(a.words, ["table"]);
        let a = complete(&words("cairn network "));
        assert!(a.words.contains(&"create".to_string()), "{a:?}");
        assert!(complete(&words("cairn --root ")).files);
        assert!(complete(&words("cairn-rm --fo"))
            .words
            .contains(&"--force".to_string()));
    }

    #[test]
    fn a_trailing_command_completes_files() {
        let a = complete(&words("cairn run -it busybox "));
        assert!(a.files && a.words.is_empty(), "{a:?}");
        let a = complete(&words("cairn run -e A=1 busybox sh -"));
        assert!(a.files && a.words.is_empty(), "{a:?}");
        let a = complete(&words("cairn cp "));
        assert!(a.files, "{a:?}");
    }
}
