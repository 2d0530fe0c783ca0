use anyhow::Context;
use cairn_cli::args::UnionMount;
use cairn_cli::out::{Format, Out};
use cairn_cli::Parser;
use cairn_cli::{open_store, subjects, Fail};
use libcairn::container;
use libcairn::image::runtime_config::Overrides;
use libcairn::record::{ContainerRecord, ImageRecord, Kind};

fn main() {
    cairn_cli::main("cairn-union-mount", || run(UnionMount::parse()))
}

fn run(args: UnionMount) -> Result<i32, Fail> {
    let store = open_store(&args.common)?;
    let mut out = Out::new(Format::resolve(args.format, false));
    let given: Vec<String> = args.subject.iter().cloned().collect();
    if args.unmount {
        for s in subjects::<ContainerRecord>(&given)? {
            let c = store.resolve_container(&s.name)?;
            if container::is_running(&store, &c)? {
                return Err(anyhow::anyhow!(
                    "container {}: is running; stop it first",
                    c.id.short()
                )
                .into());
            }
            container::unmount(&store, &c)?;
            let rec = ContainerRecord {
                mounted: Some(false),
                ..ContainerRecord::new(c.id)
            };
            out.record(&rec.over(s.record))?;
        }
        return Ok(0);
    }
    let subjects = subjects::<ImageRecord>(&given)?;
    if (args.create.name.is_some() || args.bundle.is_some()) && subjects.len() > 1 {
        return Err(cairn_cli::usage(
            "--name and --bundle are for one container, but several images were given",
        ));
    }
    let o = Overrides {
        labels: args.create.labels.clone(),
        ..cairn_cli::container::overrides(&args.cmd, &args.create.entrypoint, &args.config)?
    };
    let host = libcairn::store::container::HostConfig {
        terminal: cairn_cli::container::terminal(&args.terminal, args.detached)?,
        resources: cairn_cli::container::resources(&args.limits)?,
        ..cairn_cli::container::host_config(&args.create)?
    };
    let host = cairn_cli::container::host_args(&args.host, host)?;
    for s in subjects {
        let c = container::create_with(
            &store,
            &s.name,
            args.create.name.as_deref(),
            &o,
            host.clone(),
        )
        .with_context(|| format!("image {}", s.name))?;
        let mut rec = ContainerRecord {
            name: Some(c.name.clone()),
            layer: Some(c.layer),
            ..ContainerRecord::new(c.id)
        };
        if !args.no_mount {
            let root = match &args.bundle {
                None => container::mount(&store, &c),
                Some(dir) => container::write_bundle(&store, &c, dir, &bundle_options(&c))
                    .map(|d| d.join("rootfs")),
            }
            .inspect_err(|_| {
                let _ = container::remove(&store, &c, true);
            })?;
            rec.rootfs = Some(root);
        }
        out.record(&rec.over(s.record))?;
    }
    Ok(0)
}

/// A bundle's run: what `cairn run` does without options (the overrides,
/// limits and privileges are the container's already).
fn bundle_options(c: &libcairn::store::container::ContainerMeta) -> container::RunOptions {
    container::RunOptions {
        overrides: Overrides::default(),
        net: libcairn::net::Mode::None,
        ports: Vec::new(),
        limits: container::limits(&c.host.resources),
        privileged: c.host.privileged,
        stdio: [None; 3],
        tty: false,
        console: None,
        supervisor: nix::unistd::getpid(),
    }
}
