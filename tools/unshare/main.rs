//! `cairn unshare [COMMAND...]`: a command inside the store's rootless
//! namespaces (`podman unshare`).

use anyhow::Context;
use cairn_cli::args::Unshare;
use cairn_cli::Parser;
use cairn_cli::{store_root, Fail};
use std::os::unix::process::CommandExt;
use std::process::Command;

fn main() {
    cairn_cli::main("cairn-unshare", || run(Unshare::parse()))
}

fn run(args: Unshare) -> Result<i32, Fail> {
    let root = store_root(&args.common.root);
    libcairn::userns::enter(&root)
        .with_context(|| format!("entering the rootless namespace of {}", root.display()))?;
    let mut argv = args.command;
    if argv.is_empty() {
        argv.push(std::env::var("SHELL").unwrap_or_else(|_| "/bin/sh".into()));
    }
    let err = Command::new(&argv[0])
        .args(&argv[1..])
        .env("CAIRN_ROOT", &root)
        .exec();
    // Only reached when the command could not be run (as a shell's 127).
    let mut f: Fail = anyhow::Error::new(err)
        .context(format!("running {}", argv[0]))
        .into();
    f.code = 127;
    Err(f)
}
