use cairn_cli::args::Kill;
use cairn_cli::out::Out;
use cairn_cli::Parser;
use cairn_cli::{each_subject, open_store, subjects, usage, Fail};
use libcairn::container;
use libcairn::record::{ContainerRecord, Kind};

fn main() {
    cairn_cli::main("cairn-kill", || run(Kill::parse()))
}

fn run(args: Kill) -> Result<i32, Fail> {
    let store = open_store(&args.common)?;
    let sig = container::parse_signal(&args.signal)
        .ok_or_else(|| usage(format!("invalid signal {:?}", args.signal)))?;
    let mut out = Out::verb(args.format);
    each_subject(subjects::<ContainerRecord>(&args.containers)?, |s| {
        let c = store.resolve_container(&s.name)?;
        container::kill(&store, &c, sig)?;
        let rec = ContainerRecord {
            signal: Some(sig.as_str().to_string()),
            ..ContainerRecord::new(c.id)
        };
        Ok(out.done(&rec.over(s.record), &[&s.name])?)
    })
}
