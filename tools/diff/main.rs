//! cairn-diff: what a container changed against its image, as docker diff.

use cairn_cli::args::Diff;
use cairn_cli::Parser;
use cairn_cli::{open_store, Fail};
use libcairn::container;
use std::io::Write;

fn main() {
    cairn_cli::main("cairn-diff", || run(Diff::parse()))
}

fn run(args: Diff) -> Result<i32, Fail> {
    let store = open_store(&args.common)?;
    let c = store.resolve_container(&args.container)?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for ch in container::diff(&store, &c)? {
        write!(out, "{} ", ch.kind.letter())?;
        out.write_all(&ch.path)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(0)
}
