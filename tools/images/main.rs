use cairn_cli::args::Images;
use cairn_cli::listing::{image_entries, image_headers, image_row, print_template, repo_digest};
use cairn_cli::out::{Format, FormatArg, Out};
use cairn_cli::Parser;
use cairn_cli::{open_store, Fail, FailExt};
use libcairn::filter::Filters;
use libcairn::graph::image_summary;
use libcairn::record::ImageRecord;
use libcairn::store::refs;
use libcairn::LayerId;
use std::collections::{BTreeMap, HashMap};

fn main() {
    cairn_cli::main("cairn-images", || run(Images::parse()))
}

fn run(args: Images) -> Result<i32, Fail> {
    let store = open_store(&args.common)?;
    if args.tree || args.format == Some(FormatArg::Dot) {
        let nodes = libcairn::graph::graph(&store)?;
        let text = match args.format {
            Some(FormatArg::Dot) => cairn_cli::tree::render_dot(&nodes),
            _ => cairn_cli::tree::render_tree(&nodes),
        };
        let mut out = Out::new(Format::Table);
        out.raw(&text)?;
        out.flush()?;
        return Ok(0);
    }
    let mut given = args.filter.clone();
    given.extend(args.reference.iter().map(|r| format!("reference={r}")));
    let filters = Filters::parse(&given, cairn_cli::listing::IMAGES_FILTERS).usage()?;
    let template = FormatArg::template(&args.format); // over -q, as docker's
    let format = Format::listing(FormatArg::fixed(&args.format), args.quiet);
    let mut out = Out::new(format).short_ids(args.quiet && !args.no_trunc);
    let now = time::OffsetDateTime::now_utc();
    let mut sizes = HashMap::new();
    let entries = image_entries(&store, args.all, &filters)?;
    let mut tags: BTreeMap<LayerId, Vec<String>> = BTreeMap::new();
    for r in refs::list(&store)? {
        tags.entry(r.layer).or_default().push(r.name);
    }
    let mut rows = Vec::new();
    // image IDs from the store's index of them; those it lacks computed
    let mut ids = libcairn::image::ids::Lookup::open(&store);
    for (repo, tag, id) in entries {
        let (created, size) = image_summary(&store, &id, &mut sizes)?;
        let image_id = ids.get(&store, &id)?;
        if template.is_some() || format == Format::Table {
            let digest = repo_digest(&store, &id, &repo)?;
            let row = (repo.as_str(), tag.as_str(), &image_id);
            let (created, nt) = (created.as_deref(), args.no_trunc);
            rows.push(image_row(row, digest.as_ref(), created, size, nt, now));
            continue;
        }
        let rec = ImageRecord {
            layer: Some(id),
            image_id: Some(image_id),
            repository: Some(repo),
            tag: Some(tag),
            tags: Some(tags.get(&id).cloned().unwrap_or_default()),
            created: Some(created),
            size: Some(size),
            ..Default::default()
        };
        match args.quiet {
            true => out.record_as(&rec, &image_id.to_string())?, // docker's ID
            false => out.record(&rec)?,
        }
    }
    // docker's own table, through the same tabwriter as templates
    let digest = if args.digests { "{{.Digest}}\\t" } else { "" };
    let table = String::from("table {{.Repository}}\\t{{.Tag}}\\t")
        + digest
        + "{{.ID}}\\t{{.CreatedSince}}\\t{{.Size}}";
    if let Some(t) = template.or((format == Format::Table).then_some(table.as_str())) {
        print_template(&mut out, t, &rows, &image_headers())?;
    }
    out.flush()?;
    Ok(0)
}
