use cairn_cli::args::Build;
use cairn_cli::out::{Format, Out};
use cairn_cli::Parser;
use cairn_cli::{open_store, usage, Fail};
use libcairn::build::{build, BuildOptions};
use libcairn::record::ImageRecord;
use std::collections::BTreeMap;

fn main() {
    cairn_cli::main("cairn-build", || run(Build::parse()))
}

fn run(args: Build) -> Result<i32, Fail> {
    let store = open_store(&args.common)?;
    if !args.context.is_dir() {
        return Err(usage(format!(
            "build context {}: not a directory",
            args.context.display()
        )));
    }
    let file = args
        .file
        .clone()
        .unwrap_or_else(|| args.context.join("Dockerfile"));
    let dockerfile =
        std::fs::read_to_string(&file).map_err(|e| usage(format!("{}: {e}", file.display())))?;
    let tags = cairn_cli::references(&args.tag)?;
    let mut build_args = BTreeMap::new();
    for a in &args.build_arg {
        let (k, v) = match a.split_once('=') {
            Some((k, v)) => (k.to_string(), v.to_string()),
            // `--build-arg K` takes K from the environment, as docker does
            None => (a.clone(), std::env::var(a).unwrap_or_default()),
        };
        build_args.insert(k, v);
    }
    let epoch = cairn_cli::source_date_epoch()?;
    let network = build_network(&args, &store)?;
    let quiet = args.quiet;
    let mut progress = |line: &str| {
        if !quiet {
            eprintln!("{line}");
        }
    };
    let built = build(
        &store,
        BuildOptions {
            context: args.context.clone(),
            dockerfile,
            tags: tags.clone(),
            build_args,
            no_cache: args.no_cache,
            source_date_epoch: epoch,
            progress: &mut progress,
            output_fd: 2,
            network,
        },
    )
    .map_err(|e| anyhow::Error::from(e).context(file.display().to_string()))?;
    libcairn::image::ids::note(&store);
    let mut out = Out::new(Format::resolve(args.format, false));
    let rec = ImageRecord {
        layer: Some(built.layer),
        tags: Some(tags.iter().map(|t| t.familiar()).collect()),
        steps: Some(built.steps),
        cached: Some(built.cached),
        ..Default::default()
    };
    out.record(&rec)?;
    Ok(0)
}

/// `--network` of RUN steps: the default bridge (`default`, or none
/// rootless, where a bridge needs root), `none`, `host` or a user network,
/// as docker build's.
fn build_network(args: &Build, store: &libcairn::Store) -> Result<libcairn::net::Mode, Fail> {
    use libcairn::net::Mode;
    let name = match args.network.as_deref() {
        None | Some("default") => cairn_cli::container::default_network(),
        Some(n) => n,
    };
    match Mode::parse(name).map_err(|e| usage(e.to_string()))? {
        Mode::Container(_) | Mode::Join(_) => Err(usage(format!(
            "--network {name}: RUN steps run on default (the bridge), none, host or a network's name"
        ))),
        m => {
            libcairn::net::check(store, &m)?;
            Ok(m)
        }
    }
}
