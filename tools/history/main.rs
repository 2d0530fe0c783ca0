use cairn_cli::args::History;
use cairn_cli::out::{ellipsis, human_age, human_size, Format, Out};
use cairn_cli::Parser;
use cairn_cli::{open_store, subjects, Fail};
use libcairn::record::{table, ImageRecord, Kind, LayerRecord};

fn main() {
    cairn_cli::main("cairn-history", || run(History::parse()))
}

fn run(args: History) -> Result<i32, Fail> {
    let store = open_store(&args.common)?;
    let format = Format::listing(args.format, args.quiet);
    let mut out = Out::new(format).short_ids(args.quiet && !args.no_trunc);
    let now = time::OffsetDateTime::now_utc();
    let mut rows = Vec::new();
    for subject in subjects::<ImageRecord>(&args.images)? {
        let top = libcairn::image::resolve(&store, &subject.name)?;
        for (id, meta) in store.chain(&top)? {
            let size = if meta.is_empty_layer() {
                0
            } else {
                store.layer_info(&id)?.size
            };
            match format {
                Format::Table => {
                    let created_by = meta
                        .created_by
                        .clone()
                        .unwrap_or_default()
                        .replace('\t', " ");
                    rows.push(vec![
                        if args.no_trunc {
                            id.to_string()
                        } else {
                            id.short()
                        },
                        match (&meta.created, args.human) {
                            (Some(c), true) => human_age(c, now),
                            (Some(c), false) => c.clone(),
                            (None, _) => "N/A".into(),
                        },
                        if args.no_trunc {
                            created_by
                        } else {
                            ellipsis(&created_by, 45)
                        },
                        if args.human {
                            human_size(size)
                        } else {
                            size.to_string()
                        },
                        meta.comment.clone().unwrap_or_default(),
                    ]);
                }
                _ => {
                    let rec = LayerRecord {
                        created: Some(meta.created.clone()),
                        created_by: Some(meta.created_by.clone()),
                        author: Some(meta.author.clone()),
                        comment: Some(meta.comment.clone()),
                        empty_layer: Some(meta.is_empty_layer()),
                        ..LayerRecord::new(id, meta.parent, meta.diff_id, size)
                    };
                    out.record(&rec.over(&subject.record))?;
                }
            }
        }
    }
    if format == Format::Table {
        let headers = if args.human {
            ["IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"]
        } else {
            ["IMAGE", "CREATED AT", "CREATED BY", "SIZE", "COMMENT"]
        };
        out.raw(&table(&headers, &rows))?;
    }
    out.flush()?;
    Ok(0)
}
