use cairn_cli::args::Commit;
use cairn_cli::out::{Format, Out};
use cairn_cli::{open_store, subjects, Fail, FailExt};
use clap::Parser;
use libcairn::container::{self, CommitOptions};
use libcairn::image::{self, Reference};
use serde_json::json;

fn main() {
    cairn_cli::main("cairn-commit", || run(Commit::parse()))
}

fn run(args: Commit) -> Result<i32, Fail> {
    let store = open_store(&args.common)?;
    let epoch = cairn_cli::source_date_epoch()?;
    let tag = args
        .tag
        .as_deref()
        .map(Reference::parse)
        .transpose()
        .usage()?;
    let given: Vec<String> = args.container.iter().cloned().collect();
    let mut out = Out::new(Format::resolve(args.format, false));
    for s in subjects(&given, "container")? {
        let c = store
            .resolve_container(&s.name)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let got = container::commit(
            &store,
            &c,
            &CommitOptions {
                message: args.message.clone(),
                author: args.author.clone(),
                changes: args.change.clone(),
                pause: args.pause,
                source_date_epoch: epoch,
                created_by: None,
                config: None,
            },
        )?;
        let mut rec = s.record.clone();
        rec.insert("layer".into(), json!(got.id));
        rec.insert("parent".into(), json!(c.layer));
        rec.insert("diff_id".into(), json!(got.meta.diff_id));
        rec.insert("container".into(), json!(c.id));
        rec.insert("size".into(), json!(got.info.size));
        if let Some(t) = &tag {
            image::tag(&store, t, &got.id)?;
            rec.insert("tag".into(), json!(t.familiar()));
        }
        out.record(&rec, "layer")?;
    }
    Ok(0)
}
