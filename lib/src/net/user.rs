//! User networks, as `docker network create|ls|rm|inspect|prune` keeps
//! them: each its own bridge (`cairn-` and the first 8 hex digits of its
//! ID), its own subnet (given, or the first candidate neither the host
//! routes nor another of the store's networks has) and its own leases, in
//! `networks/<name>.json` beside the default bridge's.
//!
//! The bridge is made with the network, so the host's routes show its
//! subnet taken from then on; a bridge that went (a reboot) is made again
//! by the next attach, from the record. Removing a network deletes its
//! bridge, its elements of cairn's nftables sets and its record, and is
//! refused while a container is attached (a lease whose veth is live).

use super::{
    ensure_bridge, link_names, load, made_default, network_path, new_id, read_json, stamp_path,
    sys, write_json, NetError, Network, Result, DEFAULT_NETWORK,
};
use super::{ipam, nft, Netlink, Subnet};
use crate::store::Store;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Names `--network` gives a meaning of its own: never a user network's.
const PREDEFINED: [&str; 4] = [DEFAULT_NETWORK, "none", "host", "loopback"];

/// The store's lock over making and removing networks (two creates must
/// not pick one subnet).
const LOCK: &str = "networks";

fn io_err(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> NetError + '_ {
    move |source| {
        crate::store::StoreError::Io {
            path: path.into(),
            source,
        }
        .into()
    }
}

/// Make the network `name`, on `subnet` or the first free candidate.
pub fn create(store: &Store, name: &str, subnet: Option<Subnet>) -> Result<Network> {
    if PREDEFINED.contains(&name) {
        return Err(NetError::Predefined(name.into()));
    }
    if !crate::store::container::valid_name(name) {
        return Err(NetError::BadName(name.into()));
    }
    let dir = store.root().join("networks");
    std::fs::create_dir_all(&dir).map_err(io_err(&dir))?;
    let _lock = store.lock_exclusive(LOCK)?;
    if read_json::<Network>(&network_path(store, name))?.is_some() {
        return Err(NetError::Exists(name.into()));
    }
    let mut taken = ipam::host_routes().map_err(sys("reading the host's routes"))?;
    // (the default network before its first container has no subnet yet)
    let recorded = list(store)?.into_iter().map(|n| n.subnet);
    taken.extend(recorded.filter(|s| s.prefix != 0));
    let subnet = ipam::choose(subnet, &taken).ok_or(match subnet {
        Some(s) => NetError::SubnetInUse(s),
        None => NetError::NoSubnet,
    })?;
    let id = new_id()?;
    let mut net = Network {
        name: name.into(),
        bridge: format!("cairn-{}", &id[..8]),
        id,
        created: crate::store::container::now_rfc3339(),
        subnet,
        leases: BTreeMap::new(),
    };
    let mut host = Netlink::open().map_err(sys("opening a netlink socket"))?;
    let made = ensure_bridge(&mut host, &mut net, None)
        .and_then(|_| Ok(nft::apply(&nft::script(&net.bridge, net.subnet))?))
        .and_then(|_| write_json(&network_path(store, name), &net));
    if let Err(e) = made {
        let _ = host.del_link(&net.bridge);
        return Err(e);
    }
    Ok(net)
}

/// Every network the store records, by name; the default one is
/// recorded first if nothing has used it yet.
pub fn list(store: &Store) -> Result<Vec<Network>> {
    if !network_path(store, DEFAULT_NETWORK).exists() {
        // Best effort: a store this user cannot write lists it without.
        let _ = super::recorded_default(store);
    }
    let dir = store.root().join("networks");
    let entries = match std::fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_err(&dir)(e)),
    };
    let mut out = Vec::new();
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if let Some(n) = name.strip_suffix(".json") {
            if let Some(net) = read_json::<Network>(&network_path(store, n))? {
                out.push(net);
            }
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// Remove the network `name`: refused while a container is attached.
pub fn remove(store: &Store, name: &str) -> Result<Network> {
    if PREDEFINED.contains(&name) {
        return Err(NetError::Predefined(name.into()));
    }
    let _lock = store.lock_exclusive(LOCK)?;
    let _net_lock = store.lock_exclusive(&format!("network-{name}"))?;
    let mut host = Netlink::open().map_err(sys("opening a netlink socket"))?;
    let links = link_names(&mut host)?;
    let net = load(store, name, &links)?.ok_or_else(|| NetError::NoNetwork(name.into()))?;
    if !net.leases.is_empty() {
        let users: Vec<String> = net
            .leases
            .values()
            .map(|c| store.container(c).map(|m| m.name).unwrap_or(c.short()))
            .collect();
        return Err(NetError::InUse {
            network: name.into(),
            containers: users.join(", "),
        });
    }
    host.del_link(&net.bridge)
        .map_err(sys(format!("deleting the bridge {}", net.bridge)))?;
    for s in nft::forget(&net.bridge, net.subnet) {
        let _ = nft::apply(&s);
    }
    let path = network_path(store, name);
    std::fs::remove_file(&path).map_err(io_err(&path))?;
    let _ = std::fs::remove_file(stamp_path(store, name));
    Ok(net)
}

/// Remove every user network no container is attached to; their names.
pub fn prune(store: &Store) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for n in list(store)? {
        if PREDEFINED.contains(&n.name.as_str()) {
            continue;
        }
        match remove(store, &n.name) {
            Ok(_) => out.push(n.name),
            Err(NetError::InUse { .. } | NetError::NoNetwork(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

/// docker's `network inspect` document of a network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "PascalCase")]
pub struct NetworkInspect {
    pub name: String,
    pub id: String,
    pub created: String,
    pub scope: String,
    /// Always `bridge`.
    pub driver: String,
    #[serde(rename = "EnableIPv6")]
    pub enable_ipv6: bool,
    #[serde(rename = "IPAM")]
    pub ipam: Ipam,
    pub internal: bool,
    /// The attached containers, by ID.
    pub containers: BTreeMap<String, Member>,
    /// `com.docker.network.bridge.name`: its bridge device.
    pub options: BTreeMap<String, String>,
}

/// docker's `IPAM` of a network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "PascalCase")]
pub struct Ipam {
    pub driver: String,
    pub config: Vec<IpamConfig>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "PascalCase")]
pub struct IpamConfig {
    pub subnet: String,
    pub gateway: String,
}

/// One attached container, as docker's `network inspect` shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "PascalCase")]
pub struct Member {
    pub name: String,
    pub mac_address: String,
    /// `172.18.0.2/16`.
    #[serde(rename = "IPv4Address")]
    pub ipv4_address: String,
    #[serde(rename = "IPv6Address")]
    pub ipv6_address: String,
}

/// The network `name` as `docker network inspect` shows it, with the
/// containers attached now.
pub fn inspect(store: &Store, name: &str) -> Result<NetworkInspect> {
    let mut host = Netlink::open().map_err(sys("opening a netlink socket"))?;
    let links = link_names(&mut host)?;
    let net = match load(store, name, &links)? {
        Some(n) if n.subnet.prefix != 0 => n,
        // its record, before its bridge and subnet are made
        _ if name == DEFAULT_NETWORK => made_default(store, &mut host)?,
        Some(n) => n,
        None => return Err(NetError::NoNetwork(name.into())),
    };
    let containers = net
        .leases
        .iter()
        .map(|(ip, c)| {
            let member = Member {
                name: store.container(c).map(|m| m.name).unwrap_or_default(),
                mac_address: ipam::mac_string(ipam::mac_of(*ip)),
                ipv4_address: format!("{ip}/{}", net.subnet.prefix),
                ipv6_address: String::new(),
            };
            (c.to_string(), member)
        })
        .collect();
    Ok(NetworkInspect {
        name: net.name.clone(),
        id: net.id.clone(),
        created: net.created.clone(),
        scope: "local".into(),
        driver: "bridge".into(),
        enable_ipv6: false,
        ipam: Ipam {
            driver: "default".into(),
            config: vec![IpamConfig {
                subnet: net.subnet.to_string(),
                gateway: net.subnet.gateway().to_string(),
            }],
        },
        internal: false,
        containers,
        options: [(
            "com.docker.network.bridge.name".to_string(),
            net.bridge.clone(),
        )]
        .into(),
    })
}
