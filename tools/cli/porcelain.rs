//! Porcelain commands are compositions of the plumbing: they run the
//! plumbing binaries found beside themselves (or on PATH), pass records
//! between them and hand over stdio and the exit status.

use crate::Fail;
use libcairn::record::Kind;
use std::collections::BTreeSet;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The plumbing binary `cairn-<tool>`: beside this program, else on PATH.
pub fn tool(name: &str) -> Command {
    let file = format!("cairn-{name}");
    let beside = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(|d| d.join(&file)))
        .filter(|p| p.is_file());
    let mut cmd = Command::new(beside.unwrap_or_else(|| PathBuf::from(&file)));
    cmd.env(crate::ERRORS_AS, crate::error_name());
    cmd
}

/// Run a plumbing command and return its one output record, of kind `K`;
/// its stderr is passed through, a failure keeps its exit status.
pub fn record_of<K: Kind>(mut cmd: Command) -> Result<K, Fail> {
    let out = cmd
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| Fail::from(anyhow::anyhow!("running {:?}: {e}", cmd.get_program())))?;
    if !out.status.success() {
        return Err(Fail {
            code: out.status.code().unwrap_or(1),
            error: anyhow::anyhow!("{:?} failed", cmd.get_program()),
            hint: None,
        }
        .silent());
    }
    let line = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(line.lines().next().unwrap_or("")).map_err(|e| {
        Fail::from(anyhow::anyhow!(
            "{:?} printed no {} record: {e}",
            cmd.get_program(),
            K::NAME
        ))
    })
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

/// `cairn-<command>`, beside this program or on PATH, as git finds its
/// commands.
pub fn find_tool(command: &str) -> Option<PathBuf> {
    search_path()
        .into_iter()
        .map(|d| d.join(format!("cairn-{command}")))
        .find(|p| is_executable(p))
}

/// The commands found (`cairn-<command>`), beside this program or on PATH.
pub fn tools() -> BTreeSet<String> {
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

/// The commands and what each does, for `cairn --help`; commands found on
/// PATH that cairn does not ship are listed by name.
pub fn verbs() -> String {
    let mut out = String::from("Commands:\n");
    let mut known = std::collections::BTreeSet::new();
    let mut rows: Vec<(String, String)> = crate::args::commands()
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

/// The command nearest to a mistyped `name`, as git's "did you mean":
/// within two edits (a swap of neighbours counts one), the closest first,
/// then the one of the same length (`imagse` is `images`, not `image`).
pub fn nearest(name: &str, commands: &BTreeSet<String>) -> Option<String> {
    let limit = if name.len() <= 3 { 1 } else { 2 };
    commands
        .iter()
        .map(|c| (edits(name, c), name.len().abs_diff(c.len()), c))
        .filter(|(d, _, _)| *d <= limit)
        .min()
        .map(|(_, _, c)| c.clone())
}

/// Edits from `a` to `b`: insertions, deletions, substitutions and swaps of
/// neighbours (optimal string alignment distance).
fn edits(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mistyped_command_finds_its_nearest() {
        let all: BTreeSet<String> = ["image", "images", "inspect", "run", "rm", "rmi"]
            .into_iter()
            .map(String::from)
            .collect();
        assert_eq!(nearest("imagse", &all).as_deref(), Some("images"));
        assert_eq!(nearest("imges", &all).as_deref(), Some("images"));
        assert_eq!(nearest("rnu", &all).as_deref(), Some("run"));
        assert_eq!(nearest("frobnicate", &all), None);
        assert_eq!(edits("abc", "abc"), 0);
        assert_eq!(edits("ab", "ba"), 1);
    }
}
