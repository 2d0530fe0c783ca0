use cairn_cli::args::Pull;
use cairn_cli::out::{Format, Out};
use cairn_cli::progress::Progress as Bar;
use cairn_cli::{open_store, usage, Fail};
use clap::Parser;
use libcairn::record::ImageRecord;
use libcairn::reference::Remote;
use libcairn::registry::manifest::Wanted;
use libcairn::registry::{pull, Progress, PullOptions};
use std::collections::HashMap;
use std::sync::Mutex;

fn main() {
    cairn_cli::main("cairn-pull", || run(Pull::parse()))
}

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
    // One line for the whole download, when stderr is a terminal.
    let bar: Mutex<(Option<Bar>, HashMap<usize, u64>)> = Mutex::default();
    let report = |p: Progress| {
        let (bar, done) = &mut *bar.lock().expect("progress");
        match p {
            Progress::Start { layers, bytes } => {
                let s = if layers == 1 { "" } else { "s" };
                let label = format!("{reference}: {layers} layer{s}");
                *bar = Some(Bar::new(label, Some(bytes)));
            }
            Progress::Bytes { index, done: n } => {
                done.insert(index, n);
                if let Some(b) = bar.as_mut() {
                    b.update(done.values().sum())
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
    drop(bar.lock().expect("progress").0.take());
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
