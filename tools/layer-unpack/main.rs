use anyhow::Context;
use cairn_cli::args::LayerUnpack;
use cairn_cli::out::{Format, Out};
use cairn_cli::progress::Progress;
use cairn_cli::Parser;
use cairn_cli::{open_store, stdin_subjects, Fail, FailExt};
use libcairn::record::{ImageRecord, Kind, LayerRecord};
use libcairn::store::ingest::{ingest_layer_file, IngestOptions};
use libcairn::store::meta::LayerMeta;
use libcairn::Digest;
use std::fs::File;
use std::io::{self, IsTerminal};
use std::os::fd::AsFd;

fn main() {
    cairn_cli::main("cairn-layer-unpack", || run(LayerUnpack::parse()))
}

fn run(args: LayerUnpack) -> Result<i32, Fail> {
    let store = open_store(&args.common)?;
    let expect_diff_id: Option<Digest> = args
        .diff_id
        .as_deref()
        .map(str::parse)
        .transpose()
        .usage()?;
    if let Some(c) = &args.created {
        time::OffsetDateTime::parse(c, &time::format_description::well_known::Rfc3339)
            .map_err(|e| cairn_cli::usage(format!("--created {c:?}: not an RFC 3339 time: {e}")))?;
    }
    let from_stdin = matches!(args.file.as_deref(), None | Some("-"));
    if from_stdin && io::stdin().is_terminal() {
        return Err(
            cairn_cli::usage("no layer given: name a FILE or pipe a tar into stdin")
                .hint_msg("cairn layer-unpack rootfs.tar"),
        );
    }

    // Parents: --parent, else the records on stdin (when stdin is not the tar).
    let mut inputs: Vec<(Option<String>, Option<ImageRecord>)> = Vec::new();
    if let Some(p) = &args.parent {
        inputs.push((Some(p.clone()), None));
    } else if !from_stdin && !io::stdin().is_terminal() {
        for s in stdin_subjects::<ImageRecord>()? {
            inputs.push((Some(s.name), s.record));
        }
    }
    if inputs.is_empty() {
        inputs.push((None, None));
    }
    if from_stdin && inputs.len() > 1 {
        return Err(cairn_cli::usage(
            "several parents but the tar comes from stdin; name a FILE",
        ));
    }

    let mut out = Out::new(Format::resolve(args.format, false));
    for (parent, upstream) in inputs {
        let parent = parent
            .map(|p| libcairn::image::resolve(&store, &p).with_context(|| format!("parent {p}")))
            .transpose()?;
        let (input, total) = match args.file.as_deref() {
            None | Some("-") => (File::from(io::stdin().as_fd().try_clone_to_owned()?), None),
            Some(path) => {
                let f = File::open(path).with_context(|| path.to_string()).usage()?;
                let len = f.metadata().ok().map(|m| m.len());
                (f, len)
            }
        };
        let subject = args.file.clone().unwrap_or_else(|| "-".into());
        let mut progress = Progress::new(format!("unpacking {subject}"), total);
        let mut cb = |n: u64| progress.update(n);
        let got = ingest_layer_file(
            &store,
            &input,
            IngestOptions {
                meta: LayerMeta {
                    parent,
                    created: args.created.clone(),
                    created_by: args.created_by.clone(),
                    author: args.author.clone(),
                    comment: args.comment.clone(),
                    ..Default::default()
                },
                expect_diff_id,
                expect_blob: None,
                progress: Some(&mut cb),
                split: true,
            },
        )
        .map_err(|e| anyhow::Error::new(e).context(subject.clone()))?;
        progress.finish();
        let blob = got.info.blob.as_ref().expect("ingest records the blob");
        let rec = LayerRecord {
            blob: Some(blob.digest),
            media_type: Some(blob.media_type.clone()),
            ..LayerRecord::new(got.id, got.meta.parent, got.meta.diff_id, got.info.size)
        };
        out.record(&rec.over(upstream))?;
    }
    libcairn::image::ids::note(&store);
    Ok(0)
}
