//! cairn-rename: a container's new name, as docker rename.

use cairn_cli::args::Rename;
use cairn_cli::out::{Format, Out};
use cairn_cli::{open_store, Fail};
use clap::Parser;
use libcairn::container;
use libcairn::record::ContainerRecord;
use std::io::IsTerminal;

fn main() {
    cairn_cli::main("cairn-rename", || run(Rename::parse()))
}

fn run(args: Rename) -> Result<i32, Fail> {
    let store = open_store(&args.common)?;
    let c = store.resolve_container(&args.container)?;
    let meta = container::rename(&store, &c, &args.name)?;
    // docker prints nothing; a pipeline gets the record
    if args.format.is_some() || !std::io::stdout().is_terminal() {
        let mut out = Out::new(Format::resolve(args.format, false));
        let rec = ContainerRecord {
            name: Some(meta.name),
            ..ContainerRecord::new(meta.id)
        };
        out.record(&rec)?;
    }
    Ok(0)
}
