use cairn_cli::args::Rm;
use cairn_cli::out::Out;
use cairn_cli::Parser;
use cairn_cli::{each_subject, open_store, subjects, Fail};
use libcairn::container;
use libcairn::record::{ContainerRecord, Kind};

fn main() {
    cairn_cli::main("cairn-rm", || run(Rm::parse()))
}

fn run(args: Rm) -> Result<i32, Fail> {
    let store = open_store(&args.common)?;
    let mut out = Out::verb(args.format);
    each_subject(subjects::<ContainerRecord>(&args.containers)?, |s| {
        let c = store.resolve_container(&s.name)?;
        container::remove(&store, &c, args.force)?;
        if args.volumes {
            libcairn::volume::remove_anonymous(&store, &c)?;
        }
        let rec = ContainerRecord {
            removed: Some(true),
            ..ContainerRecord::new(c.id)
        };
        Ok(out.done(&rec.over(s.record), &[&s.name])?)
    })
}
