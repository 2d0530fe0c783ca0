use cairn_cli::args::{Images, ImagesFormat};
use cairn_cli::out::{human_age, human_size, Format, Out};
use cairn_cli::{open_store, Fail};
use clap::Parser;
use libcairn::graph::image_summary;
use libcairn::record::{table, ImageRecord};
use libcairn::reference::Reference;
use libcairn::store::refs;
use libcairn::LayerId;
use std::collections::{BTreeMap, HashMap};

fn main() {
    cairn_cli::main("cairn-images", || run(Images::parse()))
}

fn run(args: Images) -> Result<i32, Fail> {
    let store = open_store(&args.common)?;
    if args.tree || args.format == Some(ImagesFormat::Dot) {
        let nodes = libcairn::graph::graph(&store)?;
        let text = match args.format {
            Some(ImagesFormat::Dot) => cairn_cli::tree::render_dot(&nodes),
            _ => cairn_cli::tree::render_tree(&nodes),
        };
        let mut out = Out::new(Format::Table);
        out.raw(&text)?;
        out.flush()?;
        return Ok(0);
    }
    let asked = match args.format {
        Some(ImagesFormat::Json) => Some(Format::Json),
        Some(ImagesFormat::Table) => Some(Format::Table),
        Some(ImagesFormat::Id) => Some(Format::Id),
        _ => None,
    };
    let format = Format::listing(asked, args.quiet);
    let mut out = Out::new(format).short_ids(args.quiet && !args.no_trunc);
    let now = time::OffsetDateTime::now_utc();
    let mut sizes = HashMap::new();

    // (repository, tag, layer) rows: one per tag, then untagged layers with -a.
    let mut entries: Vec<(String, String, LayerId)> = Vec::new();
    let mut tagged: BTreeMap<LayerId, Vec<String>> = BTreeMap::new();
    for r in refs::list(&store)? {
        let (repo, tag) = match Reference::parse(&r.name) {
            Ok(p) => (p.repository(), p.tag),
            Err(_) => (r.name.clone(), String::new()),
        };
        tagged.entry(r.layer).or_default().push(r.name.clone());
        entries.push((repo, tag, r.layer));
    }
    if args.all {
        for id in store.layers()? {
            if !tagged.contains_key(&id) {
                entries.push(("<none>".into(), "<none>".into(), id));
            }
        }
    }
    let mut rows = Vec::new();
    for (repo, tag, id) in entries {
        let (created, size) = image_summary(&store, &id, &mut sizes)?;
        match format {
            Format::Table => rows.push(vec![
                repo,
                tag,
                if args.no_trunc {
                    id.to_string()
                } else {
                    id.short()
                },
                created
                    .as_deref()
                    .map(|c| human_age(c, now))
                    .unwrap_or_else(|| "N/A".into()),
                human_size(size),
            ]),
            _ => {
                let rec = ImageRecord {
                    layer: Some(id),
                    repository: Some(repo),
                    tag: Some(tag),
                    tags: Some(tagged.get(&id).cloned().unwrap_or_default()),
                    created: Some(created),
                    size: Some(size),
                    ..Default::default()
                };
                out.record(&rec)?;
            }
        }
    }
    if format == Format::Table {
        out.raw(&table(
            &["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"],
            &rows,
        ))?;
    }
    out.flush()?;
    Ok(0)
}
