use cairn_cli::args::{Compress, ManifestKind, Push};
use cairn_cli::out::{Format, Out};
use cairn_cli::progress::Lines;
use cairn_cli::Parser;
use cairn_cli::{open_store, usage, Fail};
use libcairn::image::naming::save_images;
use libcairn::layer::Compression;
use libcairn::record::ImageRecord;
use libcairn::reference::Remote;
use libcairn::registry::push::{push, ManifestFormat, PushOptions, PushProgress, Sent};
use std::cell::RefCell;

fn main() {
    cairn_cli::main("cairn-push", || run(Push::parse()))
}

fn run(args: Push) -> Result<i32, Fail> {
    let dest = args.dest.as_deref().unwrap_or(&args.image);
    let dest = Remote::parse(dest).map_err(usage)?;
    let store = open_store(&args.common)?;
    // the image as `save` would find it: a tag, else an ID or prefix
    let found = save_images(&store, &[(args.image.as_str(), vec![])], vec![])?;
    let top = found[0].top;
    let opts = PushOptions {
        compression: args.compress.map(|c| match c {
            Compress::None => Compression::None,
            Compress::Gzip => Compression::Gzip,
            Compress::Zstd => Compression::Zstd,
        }),
        format: args.manifest_format.map(|f| match f {
            ManifestKind::Oci => ManifestFormat::Oci,
            ManifestKind::Docker => ManifestFormat::Docker,
        }),
        tls: args.tls.options(),
        chunk_size: args.chunk_size,
    };
    // A line per layer, when stderr is a terminal, as docker push shows.
    let lines: RefCell<(Lines, Vec<String>)> = RefCell::default();
    let report = |p: PushProgress| {
        let (lines, short) = &mut *lines.borrow_mut();
        let (i, text) = match p {
            PushProgress::Layer { index, blob } => {
                short.push(blob.hex()[..12].to_string());
                (index, "Preparing".to_string())
            }
            PushProgress::Bytes { index, done, size } => {
                let (mb, of) = (done as f64 / 1e6, size as f64 / 1e6);
                (index, format!("Pushing {mb:.1} / {of:.1} MB"))
            }
            PushProgress::Done { index, sent } => match sent {
                Sent::Present => (index, "Layer already exists".to_string()),
                Sent::Mounted => (index, "Mounted".to_string()),
                Sent::Uploaded => (index, "Pushed".to_string()),
            },
        };
        lines.set(i, format!("{}: {text}", short[i]));
    };
    let pushed = push(&store, top, &dest, &opts, Some(&report))?;
    lines.borrow_mut().0.draw();
    let rec = ImageRecord {
        layer: Some(top),
        image_id: Some(pushed.image_id),
        digest: Some(pushed.digest),
        reference: Some(dest.to_string()),
        ..Default::default()
    };
    let kept = if pushed.kept {
        "; the manifest kept"
    } else {
        ""
    };
    eprintln!(
        "cairn-push: {dest}: {} blob(s) uploaded, {} mounted, {} already there{kept}",
        pushed.uploaded, pushed.mounted, pushed.skipped
    );
    let mut out = Out::new(Format::resolve(args.format, false));
    out.record(&rec)?;
    Ok(0)
}
