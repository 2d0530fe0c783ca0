//! `cairn create` = `cairn union-mount --no-mount`: the new container's
//! record, or its bare ID on a terminal.

use cairn_cli::args::Create;
use cairn_cli::out::{Format, Out};
use cairn_cli::porcelain::{record_of, tool};
use cairn_cli::Fail;
use cairn_cli::Parser;
use libcairn::record::ContainerRecord;

fn main() {
    cairn_cli::main("cairn-create", || run(Create::parse()))
}

fn run(args: Create) -> Result<i32, Fail> {
    // A network that does not exist is refused before the container is made.
    cairn_cli::container::terminal(&args.terminal, false)?;
    let network = cairn_cli::container::check_network(&args.common, args.network.as_deref())?;
    let request =
        cairn_cli::container::network_request(&network, args.network.is_none(), &args.publish)?;
    let mut cmd = tool("union-mount");
    cmd.arg("--no-mount");
    if let Some(r) = &args.common.root {
        cmd.arg("--root").arg(r);
    }
    cmd.args(cairn_cli::container::create_flags(&args.create));
    cmd.args(cairn_cli::container::limit_flags(&args.limits));
    cmd.args(cairn_cli::container::host_flags(&args.host));
    let t = &args.terminal;
    cmd.args(cairn_cli::container::terminal_flags(
        t.interactive,
        t.tty,
        false,
    ));
    for a in &t.attach {
        cmd.args(["-a", a]);
    }
    for e in &cairn_cli::container::env(&args.config)? {
        cmd.args(["-e", e]);
    }
    if let Some(w) = &args.config.workdir {
        cmd.args(["-w", w]);
    }
    if let Some(u) = &args.config.user {
        cmd.args(["-u", u]);
    }
    cmd.arg(&args.image);
    if !args.cmd.is_empty() {
        cmd.arg("--").args(&args.cmd);
    }
    let rec: ContainerRecord = record_of(cmd)?;
    // `start` runs it on the network recorded here, with its ports.
    let store = cairn_cli::open_store(&args.common)?;
    libcairn::net::record(&store, &rec.container, &request)?;
    Out::new(Format::made(args.format)).record(&rec)?;
    Ok(0)
}
