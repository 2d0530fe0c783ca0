//! cairn-rename: a container's new name, as docker rename.

use cairn_cli::args::Rename;
use cairn_cli::out::Out;
use cairn_cli::Parser;
use cairn_cli::{open_store, Fail};
use libcairn::container;
use libcairn::record::ContainerRecord;

fn main() {
    cairn_cli::main("cairn-rename", || run(Rename::parse()))
}

fn run(args: Rename) -> Result<i32, Fail> {
    let store = open_store(&args.common)?;
    let c = store.resolve_container(&args.container)?;
    let meta = container::rename(&store, &c, &args.name)?;
    let rec = ContainerRecord {
        name: Some(meta.name),
        ..ContainerRecord::new(meta.id)
    };
    // docker prints nothing; a pipeline gets the record
    Out::verb(args.format).done(&rec, &[])?;
    Ok(0)
}
