use cairn_cli::args::Ps;
use cairn_cli::out::{ellipsis, human_age, human_duration, parse_time, Format, Out};
use cairn_cli::{open_store, Fail};
use clap::Parser;
use libcairn::container;
use libcairn::record::{table, ContainerRecord};
use libcairn::store::container::{ContainerMeta, Status};

fn main() {
    cairn_cli::main("cairn-ps", || run(Ps::parse()))
}

fn since(t: &Option<String>, now: time::OffsetDateTime) -> String {
    t.as_deref()
        .and_then(parse_time)
        .map(|t| human_duration((now - t).whole_seconds()))
        .unwrap_or_else(|| "a while".into())
}

/// The IMAGE column: the name the container was made from while it still
/// names its image, else the image's ID (12 digits unless `--no-trunc`),
/// as docker shows an untagged image.
fn image_column(store: &libcairn::Store, c: &ContainerMeta, no_trunc: bool) -> String {
    let named =
        !c.image.starts_with("sha256:") && store.resolve(&c.image).is_ok_and(|l| l == c.layer);
    match (named, no_trunc) {
        (true, _) => c.image.clone(),
        (false, true) => c.layer.to_string(),
        (false, false) => c.layer.short(),
    }
}

fn run(args: Ps) -> Result<i32, Fail> {
    let store = open_store(&args.common)?;
    let format = Format::listing(args.format, args.quiet);
    let mut out = Out::new(format).short_ids(args.quiet && !args.no_trunc);
    let now = time::OffsetDateTime::now_utc();
    let mut rows = Vec::new();
    for c in store.containers()? {
        let st = container::state(&store, &c)?;
        let running = matches!(st.status, Status::Running | Status::Paused);
        if !args.all && !running {
            continue;
        }
        let command = if st.command.is_empty() {
            use libcairn::image::runtime_config::{argv, runtime};
            argv(&runtime(&c.config))
        } else {
            st.command.clone()
        };
        match format {
            Format::Table => {
                let status = match st.status {
                    Status::Created => "Created".to_string(),
                    Status::Running => format!("Up {}", since(&st.started_at, now)),
                    Status::Paused => format!("Up {} (Paused)", since(&st.started_at, now)),
                    Status::Exited => format!(
                        "Exited ({}) {} ago",
                        st.exit_code.unwrap_or(0),
                        since(&st.finished_at, now)
                    ),
                };
                let cmd = format!("\"{}\"", command.join(" "));
                rows.push(vec![
                    if args.no_trunc {
                        c.id.hex()
                    } else {
                        c.id.short()
                    },
                    image_column(&store, &c, args.no_trunc),
                    if args.no_trunc {
                        cmd
                    } else {
                        ellipsis(&cmd, 20)
                    },
                    human_age(&c.created, now),
                    status,
                    String::new(),
                    c.name.clone(),
                ]);
            }
            _ => {
                let rec = ContainerRecord {
                    name: Some(c.name.clone()),
                    image: Some(c.image.clone()),
                    layer: Some(c.layer),
                    command: Some(command),
                    created: Some(c.created.clone()),
                    status: Some(st.status),
                    exit_code: Some(st.exit_code),
                    pid: Some(if running { st.pid } else { None }),
                    started_at: Some(st.started_at.clone()),
                    finished_at: Some(st.finished_at.clone()),
                    mounted: Some(container::is_mounted(&store, &c)),
                    ..ContainerRecord::new(c.id)
                };
                out.record(&rec)?;
            }
        }
    }
    if format == Format::Table {
        out.raw(&table(
            &[
                "CONTAINER ID",
                "IMAGE",
                "COMMAND",
                "CREATED",
                "STATUS",
                "PORTS",
                "NAMES",
            ],
            &rows,
        ))?;
    }
    out.flush()?;
    Ok(0)
}
