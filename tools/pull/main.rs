use cairn_cli::args::Pull;
use cairn_cli::out::{Format, Out};
use cairn_cli::progress::Lines;
use cairn_cli::Parser;
use cairn_cli::{open_store, usage, Fail};
use libcairn::record::ImageRecord;
use libcairn::reference::Remote;
use libcairn::registry::manifest::Wanted;
use libcairn::registry::{pull, Progress, PullOptions};
use std::collections::HashMap;
use std::sync::Mutex;

fn main() {
    cairn_cli::main("cairn-pull", || run(Pull::parse()))
}

/// A layer's short digest, size and bytes received.
type Layer = (String, u64, u64);

fn run(args: Pull) -> Result<i32, Fail> {
    let reference = Remote::parse(&args.reference).map_err(usage)?;
    let platform = match &args.platform {
        Some(p) => Some(Wanted::parse(p).ok_or_else(|| {
            usage(format!("--platform {p:?}: expected OS/ARCH[/VARIANT]"))
                .hint_msg("cairn pull --platform linux/arm64 busybox")
        })?),
        None => None,
    };
    let store = open_store(&args.common)?;
    // A line per layer, when stderr is a terminal, as docker pull shows.
    let lines: Mutex<(Lines, HashMap<usize, Layer>)> = Mutex::default();
    let report = |p: Progress| {
        let (lines, layers) = &mut *lines.lock().expect("progress");
        match p {
            Progress::Start { .. } => {}
            Progress::Layer {
                index,
                blob,
                size,
                present,
            } => {
                let short = blob.hex()[..12].to_string();
                let state = if present { "Already exists" } else { "Waiting" };
                lines.set(index, format!("{short}: {state}"));
                layers.insert(index, (short, size, 0));
            }
            Progress::Bytes { index, done } => {
                if let Some((short, size, got)) = layers.get_mut(&index) {
                    *got = done;
                    let (mb, of) = (done as f64 / 1e6, *size as f64 / 1e6);
                    lines.set(index, format!("{short}: Downloading {mb:.1} / {of:.1} MB"));
                }
            }
        }
    };
    let opts = PullOptions {
        platform,
        tls: args.tls.options(),
        progress: Some(&report),
    };
    let pulled = pull(&store, &reference, &opts)?;
    libcairn::image::ids::note(&store);
    let (lines, layers) = &mut *lines.lock().expect("progress");
    for (i, (short, _, got)) in layers.iter() {
        let state = if *got > 0 {
            "Pull complete"
        } else {
            "Already exists"
        };
        lines.set(*i, format!("{short}: {state}"));
    }
    lines.draw();
    let rec = ImageRecord {
        layer: Some(pulled.layer),
        image_id: Some(pulled.image_id),
        tag: pulled.tag,
        digest: Some(pulled.digest),
        manifest: Some(pulled.manifest),
        diff_ids: Some(pulled.diff_ids),
        layers: Some(pulled.layers),
        ..Default::default()
    };
    let mut out = Out::new(Format::resolve(args.format, false));
    out.record(&rec)?;
    Ok(0)
}
