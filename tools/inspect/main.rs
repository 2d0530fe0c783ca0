use cairn_cli::args::{Inspect, InspectType};
use cairn_cli::out::{Format, FormatArg, Out};
use cairn_cli::{each_subject, open_store, subjects, Fail, FailExt, Subject};
use clap::Parser;
use libcairn::net::{self as network, NetworkSettings};
use libcairn::record::{AnyRecord, ContainerInspect, ImageInspect, ImageRecord, Kind};
use libcairn::store::{container::ContainerMeta, refs};
use libcairn::{container, Store};

fn main() {
    cairn_cli::main("cairn-inspect", || run(Inspect::parse()))
}

/// What to inspect: names, or records (with --type image, read for their
/// `layer` even when they name a container).
fn inspected(args: &Inspect) -> Result<Vec<Subject<AnyRecord>>, Fail> {
    if args.kind != Some(InspectType::Image) {
        return subjects::<AnyRecord>(&args.names);
    }
    let images = subjects::<ImageRecord>(&args.names)?.into_iter();
    Ok(images
        .map(|s| Subject {
            name: s.name,
            record: s.record.map(AnyRecord::Image),
        })
        .collect())
}

/// Whether a subject must be a container or an image: a record says which
/// by its kind, a name by --type (or not at all).
fn kind_of(s: &Subject<AnyRecord>, asked: Option<InspectType>) -> Option<InspectType> {
    match s.record {
        None => asked,
        Some(AnyRecord::Container(_)) => Some(InspectType::Container),
        Some(AnyRecord::Image(_)) => Some(InspectType::Image),
    }
}

fn inspect_container(store: &Store, c: ContainerMeta) -> Result<ContainerInspect, Fail> {
    let state = container::state(store, &c)?;
    let dir = store.container_dir(&c.id);
    Ok(ContainerInspect {
        container: c.id,
        status: state.status,
        state,
        mounted: container::is_mounted(store, &c),
        rootfs: dir.join("rootfs"),
        upper: dir.join("upper"),
        path: dir,
        network_settings: NetworkSettings::of(network::endpoint(store, &c.id)?.as_ref()),
        meta: c,
        extra: Default::default(),
    })
}

fn inspect_image(store: &Store, name: &str, tags: &[refs::Ref]) -> Result<ImageInspect, Fail> {
    let id = libcairn::image::resolve(store, name)?;
    let meta = store.layer(&id)?;
    let info = store.layer_info(&id)?;
    let chain = store.chain(&id)?;
    Ok(ImageInspect {
        layer: id,
        empty_layer: meta.is_empty_layer(),
        meta,
        size: info.size,
        blob: info.blob,
        depth: chain.len(),
        effective_config: libcairn::image::runtime_config::effective_config(&chain),
        tags: tags
            .iter()
            .filter(|t| t.layer == id)
            .map(|t| t.name.clone())
            .collect(),
        path: store.layer_dir(&id),
        extra: Default::default(),
    })
}

/// A document as JSON (`--format json`, `id`), pretty for people, or as `-f` renders it.
fn print<K: Kind>(out: &mut Out, doc: K, template: Option<&str>) -> Result<(), Fail> {
    if let Some(t) = template {
        let doc = serde_json::Value::Object(doc.to_record());
        let line = libcairn::template::render(t, &doc).usage()?;
        out.raw(&format!("{line}\n"))?;
        return Ok(());
    }
    match out.format {
        Format::Table => {
            let text = serde_json::to_string_pretty(&doc.to_record())?;
            out.raw(&format!("{text}\n"))?
        }
        _ => out.record(&doc)?,
    }
    Ok(())
}

fn run(args: Inspect) -> Result<i32, Fail> {
    let store = open_store(&args.common)?;
    let format = Format::resolve(FormatArg::fixed(&args.format), true);
    let mut out = Out::new(format);
    let tags = refs::list(&store)?;
    let t = (args.template.as_deref()).or(FormatArg::template(&args.format));
    let code = each_subject(inspected(&args)?, |s| {
        let container = match kind_of(&s, args.kind) {
            Some(InspectType::Image) => None,
            Some(InspectType::Container) => Some(store.resolve_container(&s.name)?),
            None => store.resolve_container(&s.name).ok(),
        };
        match container {
            Some(c) => print(&mut out, inspect_container(&store, c)?.over(&s.record), t),
            None => print(
                &mut out,
                inspect_image(&store, &s.name, &tags)?.over(&s.record),
                t,
            ),
        }
    })?;
    out.flush()?;
    Ok(code)
}
