//! cairn-wait: block until containers stop; their exit codes.

use cairn_cli::args::Wait;
use cairn_cli::out::{Format, Out};
use cairn_cli::Parser;
use cairn_cli::{each_subject, open_store, subjects, Fail};
use libcairn::container;
use libcairn::record::{ContainerRecord, Kind};
use std::time::Duration;

fn main() {
    cairn_cli::main("cairn-wait", || run(Wait::parse()))
}

fn run(args: Wait) -> Result<i32, Fail> {
    let store = open_store(&args.common)?;
    let mut out = Out::new(Format::resolve(args.format, true));
    each_subject(subjects::<ContainerRecord>(&args.containers)?, |s| {
        let c = store.resolve_container(&s.name)?;
        while !container::wait_stopped(&store, &c, Duration::from_secs(3600))? {}
        // Read through state(): a container whose supervisor died
        // unrecorded is recorded exited here.
        let st = container::state(&store, &c)?;
        let code = st.exit_code.unwrap_or(0);
        if out.format == Format::Table {
            out.raw(&format!("{code}\n"))?;
            return Ok(out.flush()?);
        }
        let rec = ContainerRecord {
            exit_code: Some(Some(code)),
            ..ContainerRecord::of_state(c.id, &st)
        };
        Ok(out.record(&rec.over(s.record))?)
    })
}
