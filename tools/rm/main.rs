use cairn_cli::args::Rm;
use cairn_cli::out::{Format, Out};
use cairn_cli::{open_store, subjects, Fail};
use clap::Parser;
use libcairn::container;
use libcairn::record::{ContainerRecord, Kind};

fn main() {
    cairn_cli::main("cairn-rm", || run(Rm::parse()))
}

fn run(args: Rm) -> Result<i32, Fail> {
    let store = open_store(&args.common)?;
    let mut out = Out::new(Format::resolve(args.format, false));
    let mut code = 0;
    for s in subjects(&args.containers, "container")? {
        let c = match store.resolve_container(&s.name) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("cairn-rm: error: {e}");
                code = 1;
                continue;
            }
        };
        if let Err(e) = container::remove(&store, &c, args.force) {
            eprintln!("cairn-rm: error: {e}");
            code = 1;
            continue;
        }
        let rec = ContainerRecord {
            removed: Some(true),
            ..ContainerRecord::new(c.id)
        };
        out.record(&rec.over(s.record), "container")?;
    }
    Ok(code)
}
