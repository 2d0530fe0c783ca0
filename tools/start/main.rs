//! `cairn start` = `cairn isolate -d` (with -a: `cairn isolate`, attached;
//! attached to it when it runs already).

use cairn_cli::args::Start;
use cairn_cli::container::fail125;
use cairn_cli::out::Out;
use cairn_cli::porcelain::{record_of, tool};
use cairn_cli::Fail;
use cairn_cli::Parser;
use libcairn::record::{ContainerRecord, Kind};
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
    // none named: the `container` of each stdin record (`create | start`)
    let subjects = cairn_cli::subjects::<ContainerRecord>(&args.containers)?;
    if args.attach && subjects.len() != 1 {
        return Err(cairn_cli::usage("-a attaches to one container"));
    }
    let store = cairn_cli::open_store(&args.common).map_err(fail125)?;
    if let (true, [one]) = (args.attach, &subjects[..]) {
        // one running already is attached to, as docker's
        let c = store.resolve_container(&one.name).map_err(fail125)?;
        if libcairn::container::is_running(&store, &c).map_err(fail125)? {
            let keys = args.detach_keys.as_deref();
            return cairn_cli::container::attach_running(&store, &c, args.interactive, keys);
        }
        let mut cmd = tool("isolate");
        root(&mut cmd);
        cmd.arg("--log");
        if args.interactive {
            cmd.arg("-i");
        }
        if let Some(k) = &args.detach_keys {
            cmd.args(["--detach-keys", k]);
        }
        cmd.arg(&one.name);
        let err = cmd.exec();
        return Err(Fail::from(anyhow::anyhow!("running cairn-isolate: {err}")));
    }
    // on a terminal each as it was named, as docker's; piped, records
    let mut out = Out::verb(args.format);
    for s in subjects {
        // one running already is left as it is, and named: docker's exit 0
        let meta = store.resolve_container(&s.name).map_err(fail125)?;
        let rec = match libcairn::container::is_running(&store, &meta).map_err(fail125)? {
            true => {
                let st = libcairn::container::state(&store, &meta).map_err(fail125)?;
                ContainerRecord::of_state(meta.id, &st)
            }
            false => {
                let mut cmd = tool("isolate");
                root(&mut cmd);
                cmd.args(["-d", &meta.id.to_string()]);
                record_of::<ContainerRecord>(cmd)?
            }
        };
        out.done(&rec.over(s.record), &[&s.name])?;
    }
    out.flush()?;
    Ok(0)
}
