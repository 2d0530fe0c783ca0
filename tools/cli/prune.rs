//! The three prunes (`system`, `container`, `image`): one way to run them
//! and print what they removed.

use crate::args::{Common, PruneArgs};
use crate::out::{Format, Out};
use crate::{open_store, Fail};
use libcairn::prune::{prune, PruneOptions, Scope};
use libcairn::record::{ContainerRecord, ImageRecord};
use std::time::Duration;

/// Prune `scope` of the store and write a record per removed object: a
/// container record (`removed`), an image record per tag (`untagged`)
/// and per layer (`deleted`).
pub fn run(common: &Common, scope: Scope, all: bool, p: &PruneArgs) -> Result<i32, Fail> {
    let store = open_store(common)?;
    let opts = PruneOptions {
        scope,
        all,
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
