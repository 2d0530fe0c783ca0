//! pause and unpause share one body.

use crate::args::Pause;
use crate::out::Out;
use crate::{each_subject, open_store, subjects, Fail};
use libcairn::container;
use libcairn::record::{ContainerRecord, Kind};
use libcairn::store::container::Status;

pub fn run(args: Pause, paused: bool) -> Result<i32, Fail> {
    let store = open_store(&args.common)?;
    let mut out = Out::verb(args.format);
    each_subject(subjects::<ContainerRecord>(&args.containers)?, |s| {
        let c = store.resolve_container(&s.name)?;
        container::set_paused(&store, &c, paused)?;
        let rec = ContainerRecord {
            status: Some(if paused {
                Status::Paused
            } else {
                Status::Running
            }),
            ..ContainerRecord::new(c.id)
        };
        Ok(out.done(&rec.over(s.record), &[&s.name])?)
    })
}
