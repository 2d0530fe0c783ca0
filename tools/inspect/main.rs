use cairn_cli::args::Inspect;
use cairn_cli::out::{Format, Out};
use cairn_cli::{open_store, subjects, Fail};
use clap::Parser;
use libcairn::store::refs;
use serde_json::{json, Value};

fn main() {
    cairn_cli::main("cairn-inspect", || run(Inspect::parse()))
}

fn run(args: Inspect) -> Result<i32, Fail> {
    let store = open_store(&args.common)?;
    let format = Format::resolve(args.format, true);
    let mut out = Out::new(format);
    let tags = refs::list(&store)?;
    for subject in subjects(&args.names, "layer")? {
        let id = store
            .resolve(&subject.name)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let meta = store.layer(&id)?;
        let info = store.layer_info(&id)?;
        let chain = store.chain(&id)?;
        let mut rec = subject.record.clone();
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
            libcairn::image::config::effective_config(&chain),
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
        match format {
            Format::Table => out.raw(&format!("{}\n", serde_json::to_string_pretty(&rec)?))?,
            _ => out.record(&rec, "layer")?,
        }
    }
    out.flush()?;
    Ok(0)
}
