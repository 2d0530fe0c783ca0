//! cairn-top: `ps` for the processes of a container, as docker top.

use cairn_cli::args::Top;
use cairn_cli::Parser;
use cairn_cli::{open_store, Fail};
use libcairn::container;
use std::io::Write;

fn main() {
    cairn_cli::main("cairn-top", || run(Top::parse()))
}

fn run(args: Top) -> Result<i32, Fail> {
    let store = open_store(&args.common)?;
    let c = store.resolve_container(&args.container)?;
    let pids = container::processes(&store, &c)?;
    let ps_args = if args.ps_args.is_empty() {
        vec!["-ef".to_string()]
    } else {
        args.ps_args.clone()
    };
    let out = std::process::Command::new("ps")
        .args(&ps_args)
        .output()
        .map_err(|e| anyhow::anyhow!("running ps: {e}"))?;
    if !out.status.success() {
        return Err(anyhow::anyhow!(
            "ps {}: {}",
            ps_args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )
        .into());
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let lines = container::ps_lines(&text, &pids)
        .map_err(|e| anyhow::anyhow!("ps {}: {e}", ps_args.join(" ")))?;
    let mut w = std::io::stdout().lock();
    write!(w, "{}", table(&lines))?;
    Ok(0)
}

/// docker top's table: each line cut into the header's columns, the last
/// taking the rest of the line with its words joined by one space (as
/// docker's daemon cuts `ps` output), padded as docker's client pads them.
fn table(lines: &[&str]) -> String {
    let n = lines
        .first()
        .map_or(1, |h| h.split_ascii_whitespace().count());
    let mut text = String::new();
    for l in lines {
        let f: Vec<&str> = l.split_ascii_whitespace().collect();
        let cut = f.len().min(n.max(1) - 1);
        let mut cells: Vec<String> = f[..cut].iter().map(|c| c.to_string()).collect();
        cells.push(f[cut..].join(" "));
        text.push_str(&cells.join("\t"));
        text.push('\n');
    }
    libcairn::template::align_min(&text, 20)
}
