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
    for l in lines {
        writeln!(w, "{l}")?;
    }
    Ok(0)
}
