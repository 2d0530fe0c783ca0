use cairn_cli::args::{Compress, Save};
use cairn_cli::out::{Format, Out};
use cairn_cli::progress::Progress;
use cairn_cli::Parser;
use cairn_cli::{open_store, subjects, usage, Fail};
use libcairn::image::naming::save_images;
use libcairn::image::save::{prepare, SaveError, SaveOptions};
use libcairn::layer::Compression;
use libcairn::record::{ImageRecord, Kind};
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

fn run(args: Save) -> Result<i32, Fail> {
    if args.output.is_none() && io::stdout().is_terminal() {
        return Err(usage("refusing to write an archive to a terminal")
            .hint_msg("redirect stdout (cairn save IMAGE > FILE) or pass -o FILE"));
    }
    let tags = cairn_cli::references(&args.tag)?;
    let store = open_store(&args.common)?;
    let subjects = subjects::<ImageRecord>(&args.images)?;

    let named: Vec<_> = subjects
        .iter()
        .map(|s| {
            let names = s.record.as_ref().map(ImageRecord::names);
            (s.name.as_str(), names.unwrap_or_default())
        })
        .collect();
    let images = save_images(&store, &named, tags).map_err(|e| match e.is_usage() {
        true => fail(e).hint_msg(
            "give one --tag per untagged image (named by ID, or a record without tags), in order",
        ),
        false => fail(e),
    })?;

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
            out.record(&rec.over(&subject.record))?;
        }
        out.flush()?;
    }
    Ok(0)
}
