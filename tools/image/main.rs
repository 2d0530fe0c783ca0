//! cairn-image: images as a whole (`image prune`).

use cairn_cli::args::{ImageCmd, ImageCommand};
use cairn_cli::Fail;
use cairn_cli::Parser;
use libcairn::prune::Scope;

fn main() {
    cairn_cli::main("cairn-image", || run(ImageCmd::parse()))
}

fn run(args: ImageCmd) -> Result<i32, Fail> {
    let ImageCommand::Prune(p) = args.command;
    cairn_cli::prune::run(&args.common, Scope::Images, p.all, &p.opts)
}
