use cairn_cli::args::Stop;
use cairn_cli::out::{Format, Out};
use cairn_cli::{open_store, subjects, Fail};
use clap::Parser;
use libcairn::container;
use serde_json::json;
use std::time::Duration;

fn main() {
    cairn_cli::main("cairn-stop", || run(Stop::parse()))
}

fn run(args: Stop) -> Result<i32, Fail> {
    let store = open_store(&args.common)?;
    let mut out = Out::new(Format::resolve(args.format, false));
    for s in subjects(&args.containers, "container")? {
        let c = store
            .resolve_container(&s.name)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let st = container::stop(&store, &c, Duration::from_secs(args.time))?;
        let mut rec = s.record.clone();
        rec.insert("container".into(), json!(c.id));
        rec.insert("status".into(), json!(st.status.as_str()));
        rec.insert("exit_code".into(), json!(st.exit_code));
        out.record(&rec, "container")?;
    }
    Ok(0)
}
