//! pause and unpause share one body.

use crate::args::Pause;
use crate::out::{Format, Out};
use crate::{open_store, subjects, Fail};
use libcairn::container;
use serde_json::json;

pub fn run(args: Pause, paused: bool) -> Result<i32, Fail> {
    let store = open_store(&args.common)?;
    let mut out = Out::new(Format::resolve(args.format, false));
    for s in subjects(&args.containers, "container")? {
        let c = store
            .resolve_container(&s.name)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        container::set_paused(&store, &c, paused)?;
        let mut rec = s.record.clone();
        rec.insert("container".into(), json!(c.id));
        rec.insert(
            "status".into(),
            json!(if paused { "paused" } else { "running" }),
        );
        out.record(&rec, "container")?;
    }
    Ok(0)
}
