use cairn_cli::args::Logout;
use cairn_cli::Fail;
use cairn_cli::Parser;
use libcairn::registry::login::{logout, registry_host};

fn main() {
    cairn_cli::main("cairn-logout", || run(Logout::parse()))
}

fn run(args: Logout) -> Result<i32, Fail> {
    let host = registry_host(args.registry.as_deref());
    if !logout(&host)? {
        eprintln!("cairn-logout: {host}: not logged in");
    }
    Ok(0)
}
