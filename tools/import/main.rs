use anyhow::Context;
use cairn_cli::args::Import;
use cairn_cli::out::{Format, Out};
use cairn_cli::Parser;
use cairn_cli::{open_store, Fail, FailExt};
use libcairn::image::change;
use libcairn::record::ImageRecord;
use libcairn::reference::Reference;
use libcairn::store::ingest::{ingest_layer, IngestOptions};
use libcairn::store::meta::LayerMeta;
use std::io::{self, IsTerminal, Read};

fn main() {
    cairn_cli::main("cairn-import", || run(Import::parse()))
}

fn run(args: Import) -> Result<i32, Fail> {
    let store = open_store(&args.common)?;
    let reference = args
        .tag
        .as_deref()
        .map(Reference::parse)
        .transpose()
        .usage()?;
    // the changes are checked before the tar is read
    let mut config = serde_json::json!({});
    let shell = change::default_shell();
    for c in &args.change {
        change::apply(&mut config, c, &shell).usage()?;
    }
    let reader: Box<dyn Read + Send> = if args.file == "-" {
        if io::stdin().is_terminal() {
            return Err(cairn_cli::usage(
                "no tar on stdin: pipe one in or name a FILE",
            ));
        }
        Box::new(io::stdin())
    } else {
        Box::new(
            std::fs::File::open(&args.file)
                .with_context(|| args.file.clone())
                .usage()?,
        )
    };
    let now = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        });
    let got = ingest_layer(
        &store,
        reader,
        IngestOptions {
            meta: LayerMeta {
                created: now,
                comment: Some(
                    args.message
                        .clone()
                        .unwrap_or_else(|| format!("Imported from {}", args.file)),
                ),
                config: (!args.change.is_empty()).then_some(config),
                ..Default::default()
            },
            expect_diff_id: None,
            expect_blob: None,
            progress: None,
            split: true,
        },
    )
    .map_err(|e| anyhow::Error::new(e).context(args.file.clone()))?;
    // docker prints the image ID (the config digest), tagged or not
    let image_id = match &reference {
        Some(r) => libcairn::image::tag(&store, r, &got.id)?.config_digest,
        None => libcairn::image::config::image_id(&store, &got.id)?,
    };
    libcairn::image::ids::note(&store);
    let format = Format::resolve(args.format, true);
    let rec = ImageRecord {
        layer: Some(got.id),
        tag: reference.map(|r| r.familiar()),
        image_id: Some(image_id),
        ..Default::default()
    };
    let mut out = Out::new(format);
    match format {
        Format::Table => out.raw(&format!("{image_id}\n"))?,
        _ => out.record(&rec)?,
    }
    Ok(0)
}
