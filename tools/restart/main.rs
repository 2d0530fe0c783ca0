//! cairn-restart: `cairn stop`, then `cairn start`, for each container.

use cairn_cli::args::Restart;
use cairn_cli::out::Out;
use cairn_cli::porcelain::{record_of, tool};
use cairn_cli::Parser;
use cairn_cli::{each_subject, open_store, subjects, Fail};
use libcairn::container;
use libcairn::record::{ContainerRecord, Kind};
use std::time::Duration;

fn main() {
    cairn_cli::main("cairn-restart", || run(Restart::parse()))
}

fn run(args: Restart) -> Result<i32, Fail> {
    let store = open_store(&args.common)?;
    let mut out = Out::verb(args.format);
    each_subject(subjects::<ContainerRecord>(&args.containers)?, |s| {
        let c = store.resolve_container(&s.name)?;
        container::stop_to_restart(&store, &c, Duration::from_secs(args.time))?;
        let mut start = tool("isolate");
        if let Some(r) = &args.common.root {
            start.arg("--root").arg(r);
        }
        start.args(["-d", &c.id.to_string()]);
        let rec: ContainerRecord = record_of(start)?;
        Ok(out.done(&rec.over(s.record), &[&s.name])?)
    })
}
