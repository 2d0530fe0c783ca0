//! A container on several networks, as `docker network connect` and
//! `disconnect` make it: a network connected is recorded in the
//! container's endpoint (with its aliases there) and, while the container
//! runs, plugged into its network namespace on the next free interface
//! (`eth1`, …; the default route stays on `eth0`). Every start plugs the
//! connected networks in again after the first. Disconnecting deletes the
//! interface's veth, releases its lease and takes the container's names
//! out of the other members' /etc/hosts at once.

use super::{
    endpoint, endpoint_path, join, netns, network, release, write_json, Connected, Mode, NetError,
    Result, DEFAULT_NETWORK,
};
use crate::store::Store;
use crate::ContainerId;
use std::path::Path;

/// Connect container `id` to the bridge network `name`, found there also
/// by `aliases`: recorded for every start, and with `running` (the path of
/// its running processes' network namespace), plugged in now. Only a
/// container on a bridge network has a namespace of its own to plug into.
pub fn connect(
    store: &Store,
    id: &ContainerId,
    name: &str,
    aliases: &[String],
    running: Option<&Path>,
) -> Result<()> {
    let mut ep = endpoint(store, id)?.unwrap_or_default();
    if !matches!(Mode::parse(&ep.mode)?, Mode::Bridge(_)) {
        return Err(NetError::NotBridged(ep.mode.clone()));
    }
    if ep.mode == name || ep.connected.iter().any(|c| c.network == name) {
        return Err(NetError::AlreadyOn(name.into()));
    }
    if name != DEFAULT_NETWORK && network(store, name)?.is_none() {
        return Err(NetError::NoNetwork(name.into()));
    }
    let c = Connected {
        network: name.into(),
        aliases: aliases.to_vec(),
        attachment: None,
    };
    super::check_request(&super::Endpoint {
        mode: name.into(),
        aliases: c.aliases.clone(),
        ..Default::default()
    })?;
    ep.connected.push(c);
    write_json(&endpoint_path(store, id), &ep)?;
    let Some(path) = running else {
        return Ok(());
    };
    let plugged = netns::enter(path)
        .map_err(super::sys("entering the container's network namespace"))
        .and_then(|mut ns| plug_connected(store, id, name, &mut ns));
    if let Err(e) = plugged {
        // as if it had never been asked
        let _ = disconnect(store, id, name);
        return Err(e);
    }
    Ok(())
}

/// Plug the connected network `name` of container `id` into `ns`, and
/// record the attachment.
pub(super) fn plug_connected(
    store: &Store,
    id: &ContainerId,
    name: &str,
    ns: &mut netns::Netns,
) -> Result<()> {
    join(store, id, name, ns, &[], |a| {
        let mut ep = endpoint(store, id)?.unwrap_or_default();
        if let Some(c) = ep.connected.iter_mut().find(|c| c.network == name) {
            c.attachment = Some(a.clone());
        }
        write_json(&endpoint_path(store, id), &ep)
    })
    .map(drop)
}

/// Disconnect container `id` from the network `name`: its interface
/// there goes now, if it runs, and the network is no longer the
/// container's. From its first network, the next connected one takes its
/// place (its `eth0` at the next start); with none left, it is on `none`.
pub fn disconnect(store: &Store, id: &ContainerId, name: &str) -> Result<()> {
    let mut ep = endpoint(store, id)?.unwrap_or_default();
    let gone = if let Some(i) = ep.connected.iter().position(|c| c.network == name) {
        ep.connected.remove(i).attachment
    } else if ep.mode == name && matches!(Mode::parse(name)?, Mode::Bridge(_)) {
        let first = ep.attachment.take();
        ep.aliases.clear();
        match ep.connected.is_empty() {
            true => ep.mode = Mode::None.name(),
            false => {
                let next = ep.connected.remove(0);
                (ep.mode, ep.aliases, ep.attachment) =
                    (next.network, next.aliases, next.attachment);
            }
        }
        first
    } else {
        return Err(NetError::NotOn(name.into()));
    };
    write_json(&endpoint_path(store, id), &ep)?;
    // it runs on: its namespace stays, so the veth goes now
    match gone {
        Some(a) => release(store, id, &a, super::Unplug::Now),
        None => Ok(()),
    }
}
