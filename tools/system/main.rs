use cairn_cli::args::{System, SystemCommand};
use cairn_cli::Fail;
use clap::Parser;
use libcairn::prune::Scope;

fn main() {
    cairn_cli::main("cairn-system", || run(System::parse()))
}

fn run(args: System) -> Result<i32, Fail> {
    let SystemCommand::Prune(p) = args.command;
    cairn_cli::prune::run(&args.common, Scope::System, p.all, &p.opts)
}
