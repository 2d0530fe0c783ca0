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

/// The names a member is found by: its name, its hostname, its aliases
/// (`--network-alias`), its short ID.
fn names(store: &Store, id: &ContainerId) -> Vec<String> {
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
        ep.aliases.into_iter().for_each(&mut add);
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
        .map(|(ip, c)| (IpAddr::V4(*ip), names(store, c)))
        .collect()
}

fn veth_exists(ip: Ipv4Addr) -> bool {
    std::path::Path::new("/sys/class/net")
        .join(ipam::veth_name(ip))
        .exists()
}

/// The members of container `id`'s network but itself, with their names
/// (none on the default bridge, or when it is on no bridge network).
pub fn peers(store: &Store, id: &ContainerId) -> Vec<(IpAddr, Vec<String>)> {
    let Some(a) = endpoint(store, id)
        .ok()
        .flatten()
        .and_then(|e| e.attachment)
    else {
        return Vec::new();
    };
    match network(store, &a.network) {
        Ok(Some(net)) => others(store, &net, id),
        _ => Vec::new(),
    }
}

/// Rewrite, in place, the /etc/hosts of every member of `net` to name
/// the others. Best effort: a member whose file is not there yet writes
/// it whole when it starts.
pub fn refresh(store: &Store, net: &Network) {
    if net.name == DEFAULT_NETWORK {
        return;
    }
    for id in net.leases.values() {
        let path = store.container_dir(id).join("hosts");
        let Ok(old) = std::fs::read_to_string(&path) else {
            continue;
        };
        let new = crate::hostfiles::with_peers(&old, &others(store, net, id));
        if new != old {
            let _ = rewrite(&path, new.as_bytes());
        }
    }
}

/// Write `data` over the file at `path`, keeping its inode.
fn rewrite(path: &std::path::Path, data: &[u8]) -> std::io::Result<()> {
    let mut f = std::fs::OpenOptions::new().write(true).open(path)?;
    f.write_all_at(data, 0)?;
    f.set_len(data.len() as u64)?;
    f.flush()
}
