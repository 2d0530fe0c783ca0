//! Names on a user network, kept in each member's /etc/hosts: every
//! container attached to a user network finds the others under their
//! names, short IDs and hostnames (docker answers these from its embedded
//! resolver; here they are lines of /etc/hosts, which every libc reads
//! before any nameserver). The default bridge has none, as docker's.
//!
//! The lines follow a marker (see [`crate::hostfiles::with_peers`]) after
//! what the container's own file says. When a container joins or leaves,
//! the file of every other member is rewritten in place: the container
//! sees the file through a bind mount, which holds the inode, so a file
//! renamed over it would never be seen. A reader may catch it half
//! written, as it may docker's when docker rewrites it.

use super::{endpoint, ipam, network, Network, DEFAULT_NETWORK};
use crate::store::Store;
use crate::ContainerId;
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr};
use std::os::unix::fs::FileExt;

/// The names a member is found by on the network `network`: its name,
/// its hostname, its aliases there (`--network-alias`, `network connect
/// --alias`), its short ID.
fn names(store: &Store, id: &ContainerId, network: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut add = |n: String| {
        if !out.contains(&n) {
            out.push(n);
        }
    };
    if let Ok(m) = store.container(id) {
        add(m.name);
        m.host.hostname.into_iter().for_each(&mut add);
    }
    if let Ok(Some(ep)) = endpoint(store, id) {
        let aliases = match ep.connected.into_iter().find(|c| c.network == network) {
            Some(c) => c.aliases,
            None if ep.mode == network => ep.aliases,
            None => Vec::new(),
        };
        aliases.into_iter().for_each(&mut add);
    }
    add(id.short());
    out
}

/// The other members of `net` than `id`, with their names.
fn others(store: &Store, net: &Network, id: &ContainerId) -> Vec<(IpAddr, Vec<String>)> {
    if net.name == DEFAULT_NETWORK {
        return Vec::new();
    }
    net.leases
        .iter()
        .filter(|(ip, c)| *c != id && veth_exists(**ip))
        .map(|(ip, c)| (IpAddr::V4(*ip), names(store, c, &net.name)))
        .collect()
}

fn veth_exists(ip: Ipv4Addr) -> bool {
    std::path::Path::new("/sys/class/net")
        .join(ipam::veth_name(ip))
        .exists()
}

/// The members of container `id`'s networks but itself, with their names
/// (none on the default bridge, or when it is on no bridge network).
pub fn peers(store: &Store, id: &ContainerId) -> Vec<(IpAddr, Vec<String>)> {
    let Some(ep) = endpoint(store, id).ok().flatten() else {
        return Vec::new();
    };
    let on = ep
        .attachment
        .into_iter()
        .chain(ep.connected.into_iter().filter_map(|c| c.attachment));
    on.filter_map(|a| network(store, &a.network).ok().flatten())
        .flat_map(|net| others(store, &net, id))
        .collect()
}

/// Rewrite, in place, the /etc/hosts of every member of `net` to name
/// the others. Best effort: a member whose file is not there yet writes
/// it whole when it starts.
pub fn refresh(store: &Store, net: &Network) {
    if net.name == DEFAULT_NETWORK {
        return;
    }
    net.leases.values().for_each(|id| refresh_one(store, id));
}

/// Rewrite, in place, container `id`'s /etc/hosts to name the members of
/// its networks (one it left, say, no longer).
pub fn refresh_one(store: &Store, id: &ContainerId) {
    let path = store.container_dir(id).join("hosts");
    let Ok(old) = std::fs::read_to_string(&path) else {
        return;
    };
    let new = crate::hostfiles::with_peers(&old, &peers(store, id));
    if new != old {
        let _ = rewrite(&path, new.as_bytes());
    }
}

/// Write `data` over the file at `path`, keeping its inode.
fn rewrite(path: &std::path::Path, data: &[u8]) -> std::io::Result<()> {
    let mut f = std::fs::OpenOptions::new().write(true).open(path)?;
    f.write_all_at(data, 0)?;
    f.set_len(data.len() as u64)?;
    f.flush()
}
