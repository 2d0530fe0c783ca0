//! pause and unpause share one body.

use crate::args::Pause;
use crate::out::{Format, Out};
use crate::{open_store, subjects, Fail};
use libcairn::container;
use libcairn::record::{ContainerRecord, Kind};
use libcairn::store::container::Status;

pub fn run(args: Pause, paused: bool) -> Result<i32, Fail> {
    let store = open_store(&args.common)?;
    let mut out = Out::new(Format::resolve(args.format, false));
    for s in subjects(&args.containers, "container")? {
        let c = store
            .resolve_container(&s.name)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        container::set_paused(&store, &c, paused)?;
        let rec = ContainerRecord {
            status: Some(if paused {
                Status::Paused
            } else {
                Status::Running
            }),
            ..ContainerRecord::new(c.id)
        };
        out.record(&rec.over(s.record), "container")?;
    }
    Ok(0)
}
