use cairn_cli::args::Ps;
use cairn_cli::listing::{
    listed_ports, print_template, ps_admits, ps_headers, ps_image, ps_row, ps_size, PsBounds,
    PsRow, PS_FILTERS,
};
use cairn_cli::out::{Format, FormatArg, Out};
use cairn_cli::Parser;
use cairn_cli::{open_store, Fail, FailExt};
use libcairn::container;
use libcairn::filter::Filters;
use libcairn::record::ContainerRecord;
use libcairn::store::container::Status;

fn main() {
    cairn_cli::main("cairn-ps", || run(Ps::parse()))
}

/// docker's own tables, with and without `-s`.
const TABLE: &str = "table {{.ID}}\\t{{.Image}}\\t{{.Command}}\\t{{.RunningFor}}\\t{{.Status}}\\t{{.Ports}}\\t{{.Names}}";
const SIZE_TABLE: &str = "table {{.ID}}\\t{{.Image}}\\t{{.Command}}\\t{{.RunningFor}}\\t{{.Status}}\\t{{.Ports}}\\t{{.Names}}\\t{{.Size}}";

fn run(args: Ps) -> Result<i32, Fail> {
    let store = open_store(&args.common)?;
    let filters = Filters::parse(&args.filter, PS_FILTERS).usage()?;
    let bounds = PsBounds::of(&store, &filters)?;
    let template = FormatArg::template(&args.format); // over -q, as docker's
    let format = Format::listing(FormatArg::fixed(&args.format), args.quiet);
    let mut out = Out::new(format).short_ids(args.quiet && !args.no_trunc);
    let now = time::OffsetDateTime::now_utc();
    // docker lists stopped containers too when a status is asked for
    let all = args.all || filters.contains("status");
    let sized = args.size || template.is_some_and(|t| t.contains(".Size"));
    let mut sizes = std::collections::HashMap::new();
    let mut rows = Vec::new();
    for c in store.containers()? {
        let Some(st) = container::listed(&store, &c)? else {
            continue;
        };
        let running = matches!(st.status, Status::Running | Status::Paused);
        if (!all && !running) || !ps_admits(&store, &filters, &bounds, &c, &st)? {
            continue;
        }
        let command = if st.command.is_empty() {
            use libcairn::image::runtime_config::{argv, runtime};
            argv(&runtime(&c.config))
        } else {
            st.command.clone()
        };
        if template.is_some() || format == Format::Table {
            let endpoint = libcairn::net::endpoint(&store, &c.id)?;
            let published = endpoint.as_ref().map(|e| e.published()).unwrap_or_default();
            // exposed ports show on a bridge, as docker's
            let exposed = endpoint
                .as_ref()
                .filter(|e| e.attachment.is_some())
                .and_then(|_| c.config.get("ExposedPorts"));
            let row = PsRow {
                c: &c,
                st: &st,
                command: &command,
                image: ps_image(&store, &c, args.no_trunc),
                network: endpoint.as_ref().map(|e| e.mode.clone()),
                ports: match running {
                    true => listed_ports(published, exposed),
                    false => vec![],
                },
                size: sized.then(|| ps_size(&store, &c, &mut sizes)).transpose()?,
                no_trunc: args.no_trunc,
            };
            rows.push(ps_row(&row, now));
            continue;
        }
        let rec = ContainerRecord {
            name: Some(c.name.clone()),
            image: Some(c.image.clone()),
            layer: Some(c.layer),
            command: Some(command),
            created: Some(c.created.clone()),
            mounted: Some(container::is_mounted(&store, &c)),
            ..ContainerRecord::of_state(c.id, &st)
        };
        out.record(&rec)?;
    }
    let table = if args.size { SIZE_TABLE } else { TABLE };
    if let Some(t) = template.or((format == Format::Table).then_some(table)) {
        print_template(&mut out, t, &rows, &ps_headers())?;
    }
    out.flush()?;
    Ok(0)
}
