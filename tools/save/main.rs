use cairn_cli::args::{Compress, Save};
use cairn_cli::out::{Format, Out};
use cairn_cli::progress::Progress;
use cairn_cli::{open_store, subjects, usage, Fail};
use clap::Parser;
use libcairn::image::save::{prepare, SaveError, SaveImage, SaveOptions};
use libcairn::layer::Compression;
use libcairn::record::{ImageRecord, Kind};
use libcairn::reference::Reference;
use libcairn::store::refs;
use std::fs::File;
use std::io::{self, IsTerminal};
use std::os::fd::AsFd;

fn main() {
    cairn_cli::main("cairn-save", || run(Save::parse()))
}

fn fail(e: SaveError) -> Fail {
    let usage = e.is_usage();
    let mut f = Fail::from(e);
    if usage {
        f.code = cairn_cli::EXIT_USAGE;
    }
    f
}

/// The names a record gives its layer that are tags of it in the store.
fn record_names(
    store: &libcairn::Store,
    rec: &libcairn::record::Record,
    top: &libcairn::LayerId,
) -> Result<Vec<Reference>, Fail> {
    let mut given: Vec<&str> = Vec::new();
    if let Some(t) = rec.get("tag").and_then(|v| v.as_str()) {
        given.push(t);
    }
    if let Some(a) = rec.get("tags").and_then(|v| v.as_array()) {
        given.extend(a.iter().filter_map(|v| v.as_str()));
    }
    let mut names = Vec::new();
    for name in given {
        let Ok(r) = Reference::parse(name) else {
            continue;
        };
        if refs::find(store, &r.familiar())?.is_some_and(|found| found.layer == *top) {
            names.push(r);
        }
    }
    Ok(names)
}

fn run(args: Save) -> Result<i32, Fail> {
    if args.output.is_none() && io::stdout().is_terminal() {
        return Err(usage("refusing to write an archive to a terminal")
            .hint_msg("redirect stdout (cairn save IMAGE > FILE) or pass -o FILE"));
    }
    let tags = cairn_cli::references(&args.tag)?;
    let store = open_store(&args.common)?;
    let subjects = subjects(&args.images, "layer")?;

    // A subject named by a tag keeps that name. One named by an ID, or by
    // a record's `layer`, is untagged unless --tag names it, or its record
    // names it: the `tag`/`tags` of `cairn tag` and `cairn load` records
    // that are still tags of that layer (so `cairn load | cairn save`
    // keeps the names).
    let mut images = Vec::new();
    for subject in &subjects {
        let tagged = match Reference::parse(&subject.name) {
            Ok(r) => refs::find(&store, &r.familiar())?.map(|found| (found.layer, r)),
            Err(_) => None,
        };
        images.push(match tagged {
            Some((top, r)) => SaveImage {
                top,
                names: vec![r],
            },
            None => {
                let top = store
                    .resolve(&subject.name)
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                SaveImage {
                    top,
                    names: record_names(&store, &subject.record, &top)?,
                }
            }
        });
    }
    let untagged = images.iter().filter(|i| i.names.is_empty()).count();
    if !tags.is_empty() {
        if tags.len() != untagged {
            return Err(usage(format!(
                "{} --tag for {untagged} untagged image{}",
                tags.len(),
                if untagged == 1 { "" } else { "s" }
            ))
            .hint_msg("give one --tag per untagged image (named by ID, or a record without tags), in order"));
        }
        let mut next = tags.into_iter();
        for img in images.iter_mut().filter(|i| i.names.is_empty()) {
            img.names.push(next.next().expect("counted"));
        }
    }

    let opts = SaveOptions {
        compression: match args.compress {
            Compress::None => Compression::None,
            Compress::Gzip => Compression::Gzip,
            Compress::Zstd => Compression::Zstd,
        },
    };
    let archive = {
        let mut p = Progress::new("cairn-save: reading layers", None);
        prepare(&store, &images, &opts, &mut |n| p.update(n)).map_err(fail)?
    };
    let mut p = Progress::new("cairn-save: writing", Some(archive.size()));
    match &args.output {
        Some(path) => archive
            .write_file(path, &mut |n| p.update(n))
            .map_err(fail)?,
        None => {
            // Write to fd 1 directly, not through std's line-buffered stdout.
            let mut out = File::from(io::stdout().as_fd().try_clone_to_owned()?);
            archive
                .write_to(&mut out, &mut |n| p.update(n))
                .map_err(fail)?;
        }
    }
    p.finish();

    // With -o, stdout is free for records: one per subject, carried through.
    if let Some(path) = &args.output {
        let mut out = Out::new(Format::Json);
        for (subject, img) in subjects.iter().zip(&images) {
            let saved = archive
                .images()
                .iter()
                .find(|s| s.top == img.top)
                .expect("every image is saved");
            let rec = ImageRecord {
                layer: Some(saved.top),
                image_id: Some(saved.image_id),
                manifest: Some(saved.manifest),
                tags: Some(saved.names.clone()),
                archive: Some(path.clone()),
                ..Default::default()
            };
            out.record(&rec.over(subject.record.clone()), "layer")?;
        }
        out.flush()?;
    }
    Ok(0)
}
