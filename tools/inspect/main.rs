use cairn_cli::args::{Inspect, InspectType};
use cairn_cli::out::{Format, Out};
use cairn_cli::{each_subject, open_store, subjects_by, Fail, Subject};
use clap::Parser;
use libcairn::record::Record;
use libcairn::store::{container::ContainerMeta, refs};
use libcairn::{container, Store};
use serde_json::{json, Value};

fn main() {
    cairn_cli::main("cairn-inspect", || run(Inspect::parse()))
}

/// What to inspect: a name, and whether it must be a container or an
/// image (a record says which by its field).
fn subjects(args: &Inspect) -> Result<Vec<(Subject, Option<InspectType>)>, Fail> {
    let fields: &[&str] = match args.kind {
        Some(InspectType::Image) => &["layer"],
        _ => &["container", "layer"],
    };
    let subjects = subjects_by(&args.names, fields)?;
    Ok(subjects
        .into_iter()
        .map(|s| {
            let kind = match s.field {
                None => args.kind,
                Some("container") => Some(InspectType::Container),
                Some(_) => Some(InspectType::Image),
            };
            (s, kind)
        })
        .collect())
}

fn inspect_container(store: &Store, c: &ContainerMeta, mut rec: Record) -> Result<Record, Fail> {
    let st = container::state(store, c)?;
    let dir = store.container_dir(&c.id);
    if let Value::Object(m) = serde_json::to_value(c)? {
        rec.extend(m);
    }
    rec.insert("container".into(), json!(c.id));
    rec.insert("state".into(), serde_json::to_value(&st)?);
    rec.insert("status".into(), json!(st.status.as_str()));
    rec.insert("mounted".into(), json!(container::is_mounted(store, c)));
    rec.insert("rootfs".into(), json!(dir.join("rootfs")));
    rec.insert("upper".into(), json!(dir.join("upper")));
    rec.insert("path".into(), json!(dir));
    Ok(rec)
}

fn inspect_image(
    store: &Store,
    name: &str,
    mut rec: Record,
    tags: &[refs::Ref],
) -> Result<Record, Fail> {
    let id = store.resolve(name)?;
    let meta = store.layer(&id)?;
    let info = store.layer_info(&id)?;
    let chain = store.chain(&id)?;
    if let Value::Object(m) = serde_json::to_value(&meta)? {
        rec.extend(m);
    }
    rec.insert("layer".into(), json!(id));
    rec.insert("empty_layer".into(), json!(meta.is_empty_layer()));
    rec.insert("size".into(), json!(info.size));
    rec.insert("blob".into(), json!(info.blob));
    rec.insert("depth".into(), json!(chain.len()));
    rec.insert(
        "effective_config".into(),
        libcairn::image::runtime_config::effective_config(&chain),
    );
    rec.insert(
        "tags".into(),
        json!(tags
            .iter()
            .filter(|t| t.layer == id)
            .map(|t| t.name.clone())
            .collect::<Vec<_>>()),
    );
    rec.insert("path".into(), json!(store.layer_dir(&id)));
    Ok(rec)
}

fn run(args: Inspect) -> Result<i32, Fail> {
    let store = open_store(&args.common)?;
    let format = Format::resolve(args.format, true);
    let mut out = Out::new(format);
    let tags = refs::list(&store)?;
    let code = each_subject(subjects(&args)?, |(s, kind)| {
        let container = match kind {
            Some(InspectType::Image) => None,
            Some(InspectType::Container) => Some(store.resolve_container(&s.name)?),
            None => store.resolve_container(&s.name).ok(),
        };
        let rec = match container {
            Some(c) => inspect_container(&store, &c, s.record)?,
            None => inspect_image(&store, &s.name, s.record, &tags)?,
        };
        let id_field = if rec.contains_key("container") && rec.get("state").is_some() {
            "container"
        } else {
            "layer"
        };
        match format {
            Format::Table => out.raw(&format!("{}\n", serde_json::to_string_pretty(&rec)?))?,
            _ => out.record(&rec, id_field)?,
        }
        Ok(())
    })?;
    out.flush()?;
    Ok(code)
}
