use cairn_cli::args::Stop;
use cairn_cli::out::Out;
use cairn_cli::Parser;
use cairn_cli::{each_subject, open_store, subjects, Fail};
use libcairn::container;
use libcairn::record::{ContainerRecord, Kind};
use std::time::Duration;

fn main() {
    cairn_cli::main("cairn-stop", || run(Stop::parse()))
}

fn run(args: Stop) -> Result<i32, Fail> {
    let store = open_store(&args.common)?;
    let mut out = Out::verb(args.format);
    each_subject(subjects::<ContainerRecord>(&args.containers)?, |s| {
        let c = store.resolve_container(&s.name)?;
        let st = container::stop(&store, &c, Duration::from_secs(args.time))?;
        let rec = ContainerRecord::of_state(c.id, &st);
        Ok(out.done(&rec.over(s.record), &[&s.name])?)
    })
}
