//! cairn-container: containers as a whole (`container prune`).

use cairn_cli::args::{ContainerCmd, ContainerCommand};
use cairn_cli::Fail;
use cairn_cli::Parser;
use libcairn::prune::Scope;

fn main() {
    cairn_cli::main("cairn-container", || run(ContainerCmd::parse()))
}

fn run(args: ContainerCmd) -> Result<i32, Fail> {
    let ContainerCommand::Prune(p) = args.command;
    cairn_cli::prune::run(&args.common, Scope::Containers, false, &p)
}
