//! `cairn network create|ls|inspect|rm|prune`: the store's networks.

use cairn_cli::args::{Network, NetworkCommand};
use cairn_cli::out::{Format, Out};
use cairn_cli::Parser;
use cairn_cli::{each_subject, open_store, subjects, usage, Fail};
use libcairn::net::{self, NetError};
use libcairn::record::{Kind, NetworkRecord};

fn main() {
    cairn_cli::main("cairn-network", || run(Network::parse()))
}

fn removed(name: String) -> NetworkRecord {
    NetworkRecord {
        network: name,
        removed: Some(true),
        ..Default::default()
    }
}

fn run(args: Network) -> Result<i32, Fail> {
    let store = open_store(&args.common)?;
    match args.command {
        NetworkCommand::Create {
            subnet,
            driver,
            name,
            format,
        } => {
            if driver != "bridge" {
                return Err(usage(format!("driver {driver}: only bridge is supported")));
            }
            let subnet = subnet
                .map(|s| s.parse::<net::ipam::Subnet>())
                .transpose()
                .map_err(|e| usage(e.to_string()))?;
            let n = net::create(&store, &name, subnet)?;
            Out::new(Format::resolve(format, false)).record(&NetworkRecord::of(&n))?;
        }
        NetworkCommand::Ls { quiet, format } => {
            let mut out = Out::new(Format::listing(format, quiet));
            if out.format == Format::Table {
                out.raw(&format!(
                    "{:<14} {:<20} {:<8} SCOPE\n",
                    "NETWORK ID", "NAME", "DRIVER"
                ))?;
            }
            for r in cairn_cli::container::networks(&store)? {
                match out.format {
                    Format::Table => out.raw(&format!(
                        "{:<14} {:<20} {:<8} local\n",
                        r.id.as_deref().map_or("", |i| &i[..12.min(i.len())]),
                        r.network,
                        r.driver.as_deref().unwrap_or("")
                    ))?,
                    _ => out.record(&r)?,
                }
            }
        }
        NetworkCommand::Inspect { names } => {
            let mut out = Out::new(Format::Json);
            return each_subject(subjects::<NetworkRecord>(&names)?, |s| {
                let doc = net::inspect(&store, &s.name)?;
                let mut v = serde_json::to_value(&doc).map_err(anyhow::Error::from)?;
                v["network"] = s.name.clone().into();
                Ok(out.raw(&format!("{v}\n"))?)
            });
        }
        NetworkCommand::Rm {
            force,
            names,
            format,
        } => {
            let mut out = Out::new(Format::resolve(format, false));
            return each_subject(subjects::<NetworkRecord>(&names)?, |s| {
                match net::remove(&store, &s.name) {
                    Err(NetError::NoNetwork(_)) if force => return Ok(()),
                    r => r?,
                };
                Ok(out.record(&removed(s.name.clone()).over(s.record))?)
            });
        }
        NetworkCommand::Connect {
            alias,
            network,
            container,
        } => {
            let c = store.resolve_container(&container)?;
            libcairn::container::network_connect(&store, &c, &network, &alias)?;
        }
        NetworkCommand::Disconnect {
            network, container, ..
        } => {
            let c = store.resolve_container(&container)?;
            libcairn::container::network_disconnect(&store, &c, &network)?;
        }
        NetworkCommand::Prune { force: _, format } => {
            let mut out = Out::new(Format::resolve(format, false));
            for name in net::prune(&store)? {
                out.record(&removed(name))?;
            }
        }
    }
    Ok(0)
}
