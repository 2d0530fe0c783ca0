//! The three prunes (`system`, `container`, `image`): one way to run them
//! and print what they removed.

use crate::args::{Common, PruneArgs};
use crate::out::{human_size, Out};
use crate::{open_store, Fail};
use libcairn::prune::{prune, PruneOptions, Pruned, Scope};
use libcairn::record::{ContainerRecord, ImageRecord};
use std::time::Duration;

/// Prune `scope` of the store and write a record per removed object: a
/// container record (`removed`), an image record per tag (`untagged`)
/// and per layer (`deleted`), each deletion with its `reclaimed_bytes`.
/// On a terminal with no `--format` asked it prints what docker prints
/// instead, ending with the total reclaimed space.
pub fn run(common: &Common, scope: Scope, all: bool, p: &PruneArgs) -> Result<i32, Fail> {
    let store = open_store(common)?;
    let opts = PruneOptions {
        scope,
        all,
        min_age: Duration::from_secs(p.min_age),
    };
    let done = prune(&store, &opts)?;
    let mut out = Out::verb(p.format);
    if out.says() {
        out.raw(&text(&done))?;
        return Ok(0);
    }
    for (c, size) in done.containers {
        let rec = ContainerRecord {
            removed: Some(true),
            reclaimed_bytes: Some(size),
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
    for (d, size) in done.layers {
        let rec = ImageRecord {
            deleted: Some(d),
            layer: Some(d),
            reclaimed_bytes: Some(size),
            ..Default::default()
        };
        out.record(&rec)?;
    }
    Ok(0)
}

/// What docker's prunes print.
fn text(done: &Pruned) -> String {
    let mut s = String::new();
    if !done.containers.is_empty() {
        s.push_str("Deleted Containers:\n");
        for (c, _) in &done.containers {
            s.push_str(&format!("{c}\n"));
        }
        s.push('\n');
    }
    if !done.untagged.is_empty() || !done.layers.is_empty() {
        s.push_str("Deleted Images:\n");
        for t in &done.untagged {
            s.push_str(&format!("untagged: {t}\n"));
        }
        for (l, _) in &done.layers {
            s.push_str(&format!("deleted: {l}\n"));
        }
        s.push('\n');
    }
    s.push_str(&format!(
        "Total reclaimed space: {}\n",
        human_size(done.reclaimed())
    ));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_is_dockers() {
        assert_eq!(text(&Pruned::default()), "Total reclaimed space: 0B\n");
        let c: libcairn::ContainerId = "ab".repeat(32).parse().unwrap();
        let l: libcairn::LayerId = format!("sha256:{}", "cd".repeat(32)).parse().unwrap();
        let done = Pruned {
            containers: vec![(c, 8192)],
            untagged: vec!["app:1".into()],
            layers: vec![(l, 1_000_000)],
            blobs: vec![(l.0, 4096)],
        };
        assert_eq!(
            text(&done),
            format!(
                "Deleted Containers:\n{}\n\nDeleted Images:\nuntagged: app:1\n\
                 deleted: sha256:{}\n\nTotal reclaimed space: 1.01MB\n",
                "ab".repeat(32),
                "cd".repeat(32)
            )
        );
    }
}
