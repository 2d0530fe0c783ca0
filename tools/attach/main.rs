//! cairn-attach: a running detached container's output, streamed until
//! its process exits (see `cairn attach --help`).

use cairn_cli::args::Attach;
use cairn_cli::{open_store, Fail};
use clap::Parser;
use libcairn::container::attach;
use libcairn::isolate::supervise::Signals;

fn main() {
    cairn_cli::main("cairn-attach", || run(Attach::parse()))
}

fn run(args: Attach) -> Result<i32, Fail> {
    // blocked before anything else, so attach takes them to pass on
    let proxy = args.sig_proxy.then(Signals::block);
    let store = open_store(&args.common)?;
    let c = store.resolve_container(&args.container)?;
    let mut stdout = std::io::stdout().lock();
    Ok(attach::output(&store, &c, &mut stdout, proxy.as_ref())?)
}
