//! `cairn start` = `cairn isolate -d` (with -a: `cairn isolate`, attached).

use cairn_cli::args::Start;
use cairn_cli::porcelain::{record_of, tool};
use cairn_cli::Fail;
use clap::Parser;
use libcairn::record::ContainerRecord;
use std::os::unix::process::CommandExt;

fn main() {
    cairn_cli::main("cairn-start", || run(Start::parse()))
}

fn run(args: Start) -> Result<i32, Fail> {
    let root = |cmd: &mut std::process::Command| {
        if let Some(r) = &args.common.root {
            cmd.arg("--root").arg(r);
        }
    };
    if args.attach {
        if args.containers.len() != 1 {
            return Err(cairn_cli::usage("-a attaches to one container"));
        }
        let mut cmd = tool("isolate");
        root(&mut cmd);
        if args.interactive {
            cmd.arg("-i");
        }
        cmd.arg(&args.containers[0]);
        let err = cmd.exec();
        return Err(Fail::from(anyhow::anyhow!("running cairn-isolate: {err}")));
    }
    for c in &args.containers {
        let mut cmd = tool("isolate");
        root(&mut cmd);
        cmd.args(["-d", c.as_str()]);
        record_of::<ContainerRecord>(cmd)?;
        println!("{c}");
    }
    Ok(0)
}
