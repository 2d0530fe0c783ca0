//! cairn-attach: a running detached container's output, and input when it
//! was started with -i (see `cairn attach --help`).

use cairn_cli::args::Attach;
use cairn_cli::Parser;
use cairn_cli::{open_store, Fail};
use libcairn::container::attach;
use libcairn::isolate::supervise::Signals;

fn main() {
    cairn_cli::main("cairn-attach", || run(Attach::parse()))
}

fn run(args: Attach) -> Result<i32, Fail> {
    // blocked before anything else, so attach takes them to pass on
    let signals = Signals::block();
    let keys = cairn_cli::container::detach_keys(Some(&args.detach_keys))?;
    let store = open_store(&args.common)?;
    let c = store.resolve_container(&args.container)?;
    let o = attach::Options {
        stdin: !args.no_stdin,
        detach_keys: keys,
        signals: &signals,
        proxy: args.sig_proxy,
    };
    let (mut out, mut err) = (std::io::stdout(), std::io::stderr());
    let ended = attach::attach(&store, &c, o, &mut out, &mut err)?;
    Ok(cairn_cli::container::attach_status(ended, true))
}
