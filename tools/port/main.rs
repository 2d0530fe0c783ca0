//! `cairn port CONTAINER [PRIVATE_PORT[/PROTO]]`: where a container's
//! ports are published, as docker prints it or as records.

use cairn_cli::args::Port;
use cairn_cli::out::{Format, Out};
use cairn_cli::Parser;
use cairn_cli::{each_subject, open_store, subjects, Fail};
use libcairn::container;
use libcairn::record::{ContainerRecord, Kind, PublishedPort};

fn main() {
    cairn_cli::main("cairn-port", || run(Port::parse()))
}

fn run(args: Port) -> Result<i32, Fail> {
    let store = open_store(&args.common)?;
    // `80` means `80/tcp`, as docker reads it.
    let wanted = args.port.as_ref().map(|p| match p.contains('/') {
        true => p.clone(),
        false => format!("{p}/tcp"),
    });
    let names: Vec<String> = args.container.iter().cloned().collect();
    let mut out = Out::new(Format::listing(args.format, false));
    each_subject(subjects::<ContainerRecord>(&names)?, |s| {
        let c = store.resolve_container(&s.name)?;
        // a container found dead has its ports withdrawn here
        container::state(&store, &c)?;
        let ports: Vec<_> = libcairn::net::endpoint(&store, &c.id)?
            .map(|e| e.published().to_vec())
            .unwrap_or_default()
            .into_iter()
            .filter(|p| wanted.as_ref().is_none_or(|w| *w == p.container_side()))
            .collect();
        if let (Some(w), true) = (&wanted, ports.is_empty()) {
            return Err(anyhow::anyhow!("no public port {w} published for {}", s.name).into());
        }
        if out.format == Format::Table {
            for p in &ports {
                match &wanted {
                    Some(_) => out.raw(&format!("{}\n", p.host_side()))?,
                    None => out.raw(&format!("{} -> {}\n", p.container_side(), p.host_side()))?,
                }
            }
            return Ok(());
        }
        let published = ports
            .iter()
            .map(|p| PublishedPort {
                container_port: p.container_side(),
                host_ip: p.host_ip_string(),
                host_port: p.host_port,
            })
            .collect();
        let rec = ContainerRecord {
            ports: Some(published),
            ..ContainerRecord::new(c.id)
        };
        Ok(out.record(&rec.over(s.record))?)
    })
}
