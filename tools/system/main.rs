use cairn_cli::args::{System, SystemCommand};
use cairn_cli::out::{Format, Out};
use cairn_cli::{open_store, Fail};
use clap::Parser;
use libcairn::prune::{prune, PruneOptions};
use libcairn::record::{ContainerRecord, ImageRecord};
use std::time::Duration;

fn main() {
    cairn_cli::main("cairn-system", || run(System::parse()))
}

fn run(args: System) -> Result<i32, Fail> {
    let store = open_store(&args.common)?;
    let SystemCommand::Prune(p) = args.command;
    let opts = PruneOptions {
        all: p.all,
        min_age: Duration::from_secs(p.min_age),
    };
    let done = prune(&store, &opts)?;
    let mut out = Out::new(Format::resolve(p.format, false));
    for c in done.containers {
        let rec = ContainerRecord {
            removed: Some(true),
            ..ContainerRecord::new(c)
        };
        out.record(&rec)?;
    }
    for t in done.untagged {
        let rec = ImageRecord {
            untagged: Some(t.clone()),
            ..Default::default()
        };
        out.record_as(&rec, &t)?;
    }
    for d in done.layers {
        let rec = ImageRecord {
            deleted: Some(d),
            layer: Some(d),
            ..Default::default()
        };
        out.record(&rec)?;
    }
    Ok(0)
}
