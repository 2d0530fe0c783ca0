use cairn_cli::args::Commit;
use cairn_cli::out::Out;
use cairn_cli::Parser;
use cairn_cli::{each_subject, open_store, subjects, Fail, FailExt};
use libcairn::container::{self, CommitOptions};
use libcairn::image;
use libcairn::record::{ContainerRecord, Kind, LayerRecord};
use libcairn::reference::Reference;

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
    let mut out = Out::verb(args.format);
    let status = each_subject(subjects::<ContainerRecord>(&given)?, |s| {
        let c = store.resolve_container(&s.name)?;
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
        let mut rec = LayerRecord {
            container: Some(c.id),
            ..LayerRecord::new(got.id, Some(c.layer), got.meta.diff_id, got.info.size)
        };
        let mut image_id = None;
        if let Some(t) = &tag {
            image_id = Some(image::tag(&store, t, &got.id)?.config_digest);
            rec.tag = Some(t.familiar());
        }
        if !out.says() {
            return Ok(out.record(&rec.over(s.record))?);
        }
        // docker prints the new image's ID
        let id = match image_id {
            Some(d) => d,
            None => image::config::image_id(&store, &got.id)?,
        };
        Ok(out.done(&rec, &[&id.to_string()])?)
    });
    image::ids::note(&store);
    status
}
