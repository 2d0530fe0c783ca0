use cairn_cli::args::{Inspect, InspectType};
use cairn_cli::out::{Format, FormatArg, Out};
use cairn_cli::Parser;
use cairn_cli::{each_subject, open_store, subjects, Fail, FailExt, Subject};
use libcairn::record::{AnyRecord, ContainerInspect, ImageInspect, ImageRecord, Kind};
use libcairn::{inspect, template, Store};

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

/// What is printed for one subject: the pipe's document, or docker's.
enum Doc {
    Container(Box<ContainerInspect>),
    Image(Box<ImageInspect>),
    Docker(serde_json::Value),
}

fn inspect_one(
    store: &Store,
    s: Subject<AnyRecord>,
    args: &Inspect,
    docker: bool,
) -> Result<Doc, Fail> {
    let container = match kind_of(&s, args.kind) {
        Some(InspectType::Image) => None,
        Some(InspectType::Container) => Some(store.resolve_container(&s.name)?),
        None => store.resolve_container(&s.name).ok(),
    };
    if let Some(c) = container {
        return Ok(match docker {
            true => Doc::Docker(inspect::container(store, &c, args.size)?.to_value()),
            false => Doc::Container(Box::new(
                inspect::stored_container(store, c)?.over(&s.record),
            )),
        });
    }
    let top = libcairn::image::resolve(store, &s.name)?;
    Ok(match docker {
        true => Doc::Docker(inspect::image(store, &top)?.to_value()),
        false => Doc::Image(Box::new(
            inspect::stored_image(store, &top)?.over(&s.record),
        )),
    })
}

fn run(args: Inspect) -> Result<i32, Fail> {
    let store = open_store(&args.common)?;
    let format = Format::resolve(FormatArg::fixed(&args.format), true);
    let mut out = Out::new(format);
    let t = (args.template.as_deref()).or(FormatArg::template(&args.format));
    // docker's documents on a terminal (`table`) and for templates; the
    // pipe's otherwise
    let docker = t.is_some() || format == Format::Table;
    // one that does not parse fails before any subject, as docker's (64)
    if let Some(t) = t {
        template::check(t).map_err(|e| Fail {
            code: 64,
            error: anyhow::anyhow!("Template parsing error: {e}"),
            hint: None,
        })?;
    }
    let mut array = Vec::new();
    let code = each_subject(inspected(&args)?, |s| {
        match (inspect_one(&store, s, &args, docker)?, t) {
            (Doc::Docker(d), Some(t)) => {
                out.raw(&format!("{}\n", template::render_docker(t, &d).usage()?))?
            }
            (Doc::Docker(d), None) => array.push(d),
            (Doc::Container(d), _) => out.record(&*d)?,
            (Doc::Image(d), _) => out.record(&*d)?,
        }
        Ok(())
    })?;
    if docker && t.is_none() {
        out.raw(&inspect::to_text(&array))?;
    }
    out.flush()?;
    Ok(code)
}
