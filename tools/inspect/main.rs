use cairn_cli::args::{Inspect, InspectType};
use cairn_cli::out::{Format, Out};
use cairn_cli::{open_store, usage, Fail};
use clap::Parser;
use libcairn::record::{self, Record};
use libcairn::store::{container::ContainerMeta, refs};
use libcairn::{container, Store};
use serde_json::{json, Value};
use std::io::{self, IsTerminal};

fn main() {
    cairn_cli::main("cairn-inspect", || run(Inspect::parse()))
}

/// What to inspect: a name and whether it must be a container or an image.
struct Subject {
    name: String,
    kind: Option<InspectType>,
    record: Record,
}

fn subjects(args: &Inspect) -> Result<Vec<Subject>, Fail> {
    if !args.names.is_empty() {
        return Ok(args
            .names
            .iter()
            .map(|n| Subject {
                name: n.clone(),
                kind: args.kind,
                record: Record::new(),
            })
            .collect());
    }
    if io::stdin().is_terminal() {
        return Err(
            usage("no subject given").hint_msg("name a container or image, or pipe in records")
        );
    }
    let mut out = Vec::new();
    for (i, rec) in record::read_records(io::stdin().lock()).enumerate() {
        let rec = rec.map_err(|e| usage(e.to_string()))?;
        let (name, kind) = match (
            record::field(&rec, "container"),
            record::field(&rec, "layer"),
        ) {
            (Some(c), _) if args.kind != Some(InspectType::Image) => {
                (c.to_string(), Some(InspectType::Container))
            }
            (_, Some(l)) => (l.to_string(), Some(InspectType::Image)),
            _ => {
                return Err(usage(format!(
                    "stdin line {}: record has no \"container\" or \"layer\" field",
                    i + 1
                )))
            }
        };
        out.push(Subject {
            name,
            kind,
            record: rec,
        });
    }
    if out.is_empty() {
        return Err(usage(
            "no subject given: no argument and no record on stdin",
        ));
    }
    Ok(out)
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
    let id = store.resolve(name).map_err(|e| anyhow::anyhow!("{e}"))?;
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
    for s in subjects(&args)? {
        let container = match s.kind {
            Some(InspectType::Image) => None,
            Some(InspectType::Container) => Some(
                store
                    .resolve_container(&s.name)
                    .map_err(|e| anyhow::anyhow!("{e}"))?,
            ),
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
    }
    out.flush()?;
    Ok(0)
}
