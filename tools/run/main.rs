//! `cairn run` = `cairn union-mount --no-mount IMAGE -- CMD`, then
//! `cairn isolate CONTAINER` (and `cairn rm` with --rm).

use cairn_cli::args::Run;
use cairn_cli::container::fail125;
use cairn_cli::porcelain::{record_of, tool};
use cairn_cli::Fail;
use cairn_cli::Parser;
use libcairn::record::ContainerRecord;
use std::os::unix::process::CommandExt;
use std::process::Stdio;

fn main() {
    cairn_cli::main("cairn-run", || run(Run::parse()))
}

fn run(args: Run) -> Result<i32, Fail> {
    let root = |cmd: &mut std::process::Command| {
        if let Some(r) = &args.common.root {
            cmd.arg("--root").arg(r);
        }
    };
    // -it without a terminal is refused before a container is made (1).
    if !args.run.detach {
        libcairn::isolate::tty::check_input(args.process.interactive, args.process.tty)?;
    }
    cairn_cli::container::check_restart(&args.create, args.rm).map_err(fail125)?;
    // Bad limits are refused before a container is made for them.
    cairn_cli::container::resources(&args.run.limits).map_err(fail125)?;
    let host = cairn_cli::args::HostArgs {
        privileged: args.process.privileged,
        log_opt: args.run.log_opt.clone(),
        rm: args.rm,
    };
    cairn_cli::container::log_bounds(&host.log_opt).map_err(fail125)?;
    cairn_cli::container::detach_keys(args.run.detach_keys.as_deref()).map_err(fail125)?;
    let mode = cairn_cli::container::check_network(&args.common, args.run.network.as_deref())
        .map_err(fail125)?;
    let publish = cairn_cli::args::PublishArgs {
        publish: args.run.publish.clone(),
        publish_all: args.run.publish_all,
        network_alias: args.network_alias.clone(),
    };
    let request =
        cairn_cli::container::network_request(&mode, args.run.network.is_none(), &publish)
            .map_err(fail125)?;
    let mut create = tool("union-mount");
    root(&mut create);
    create.arg("--no-mount");
    create.args(cairn_cli::container::create_flags(&args.create));
    create.args(cairn_cli::container::limit_flags(&args.run.limits));
    create.args(cairn_cli::container::host_flags(&host));
    let p = &args.process;
    create.args(cairn_cli::container::terminal_flags(
        p.interactive,
        p.tty,
        args.run.detach,
    ));
    for e in &cairn_cli::container::env(&args.process.config).map_err(fail125)? {
        create.args(["-e", e]);
    }
    if let Some(w) = &args.process.config.workdir {
        create.args(["-w", w]);
    }
    if let Some(u) = &args.process.config.user {
        create.args(["-u", u]);
    }
    create.arg(&args.image);
    let cmd: Vec<String> = match args.cmd.first().map(String::as_str) {
        Some("--") => args.cmd[1..].to_vec(),
        _ => args.cmd.clone(),
    };
    if !cmd.is_empty() {
        create.arg("--").args(&cmd);
    }
    // Nothing to run: refused before a container is made for it.
    cairn_cli::container::has_command(&args.common, &args.image, &cmd, &args.create.entrypoint)
        .map_err(fail125)?;
    // run's own failures (no such image, a bad name) are 125, as docker's.
    let rec: ContainerRecord = record_of(create).map_err(fail125)?;
    let id = rec.container.to_string();
    // isolate (and every later start) runs it with what is recorded here
    let store = cairn_cli::open_store(&args.common).map_err(fail125)?;
    libcairn::net::record(&store, &rec.container, &request).map_err(fail125)?;

    let mut isolate = tool("isolate");
    root(&mut isolate);
    let restarts = !cairn_cli::container::restart_policy(&args.create)?.is_no();
    if args.run.detach || restarts {
        let format = cairn_cli::out::Format::made(args.format);
        isolate.args(["-d", "--format", format.name()]);
    }
    // --rm is recorded: isolate, or the supervisor of a detached or
    // attached one (-i, -t), removes it when it exits. In the foreground
    // the process writes to our stdout and stderr itself (a file stays a
    // file) and dies with us, so its output is not in its log
    // (docs/store.md, "The container log").
    isolate.args(cairn_cli::container::isolate_flags(
        &args.process,
        &args.run,
    ));
    isolate.args(["--network", &request.mode]);
    isolate.arg(&id);
    if args.run.detach {
        let st = isolate.stdin(Stdio::null()).status().map_err(Fail::from)?;
        return Ok(st.code().unwrap_or(125));
    }
    if restarts {
        let tty = args.process.interactive || args.process.tty;
        return cairn_cli::container::first_run(&args.common, &mut isolate, &id, tty);
    }
    let err = isolate.exec();
    Err(Fail::from(anyhow::anyhow!("running cairn-isolate: {err}")))
}
