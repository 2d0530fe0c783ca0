//! Container networking, as docker's default bridge does it: the bridge
//! `cairn0` with a private subnet, a veth pair per container (the
//! container's end is `eth0`), an address from a small IPAM kept in the
//! store, a default route via the bridge and outbound NAT in an nftables
//! table of cairn's own. `docs/network.md` tells the whole story; here is
//! how the parts hold together.
//!
//! - [`attach`] makes a container's network namespace ([`netns`]), takes
//!   the network's lock, sweeps its dead leases, makes sure of the bridge,
//!   takes the lowest free address, creates the veth pair with its peer
//!   born in the namespace, configures `eth0` and records the lease
//!   (`networks/<name>.json`) and the container's endpoint
//!   (`containers/<id>/network.json`). The caller runs the container in
//!   that namespace and then closes the fd: the namespace, and the veth
//!   with it, lives as long as the container's processes.
//! - A lease is live while its veth is: the host's end is named after the
//!   address ([`ipam::veth_name`]), and the kernel removes it when the
//!   namespace dies, however the container ended (a supervisor killed -9
//!   included). So the next [`attach`] reclaims what a crash left, and two
//!   stores sharing the bridge can never hand out one address twice.
//! - [`detach`] ends an attachment at once: the lease released, the
//!   ports withdrawn, the endpoint's addresses cleared; the veth goes with
//!   the namespace (deleting it here would wait for the kernel's RCU
//!   barrier), unless another container shares the namespace. The
//!   container module calls it when a container exits, when it is found
//!   dead and on `rm`.
//! - User networks ([`create`], [`remove`], …) are bridges of their own
//!   with the same leases; on them, [`hosts`] keeps every member's
//!   /etc/hosts naming the others, and cairn's nftables table drops what
//!   one bridge forwards to another ([`nft`]).

mod connect;
pub mod hosts;
pub mod ipam;
pub mod netlink;
pub mod netns;
mod nfnl;
pub mod nft;
pub mod port;
mod user;

pub use connect::{connect, disconnect};
pub use user::{create, inspect, list, prune, remove, NetworkInspect};

use crate::store::{Store, StoreError};
use crate::ContainerId;
use ipam::Subnet;
use netlink::{Netlink, VethEnd};
pub use port::Port;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};

/// The default network, as docker names it.
pub const DEFAULT_NETWORK: &str = "bridge";
/// The default network's bridge device.
pub const DEFAULT_BRIDGE: &str = "cairn0";
/// The container's end of its veth pair.
pub const CONTAINER_IFNAME: &str = "eth0";
/// Read when the default bridge is made: the subnet it takes, instead of
/// the first of [`ipam::candidates`] the host does not route.
pub const SUBNET_ENV: &str = "CAIRN_BRIDGE_SUBNET";

#[derive(Debug, thiserror::Error)]
pub enum NetError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("no such network: {0}; make it with `cairn network create {0}`, or use bridge, none, host or container:NAME")]
    NoNetwork(String),
    #[error(
        "invalid network {0:?}: give bridge, none, host, container:NAME, a network's name or a namespace's path"
    )]
    BadMode(String),
    #[error("network {0} exists already")]
    Exists(String),
    #[error("{0} is a predefined network: it cannot be made or removed")]
    Predefined(String),
    #[error("invalid network name {0:?}: use [a-zA-Z0-9][a-zA-Z0-9_.-]*")]
    BadName(String),
    #[error("network {network} is in use by {containers}; stop or remove them first")]
    InUse { network: String, containers: String },
    #[error("subnet {0} overlaps one the host routes or another network has; choose another")]
    SubnetInUse(Subnet),
    #[error(transparent)]
    Subnet(#[from] ipam::BadSubnet),
    #[error("{SUBNET_ENV}={0}: the host already routes into it; choose another")]
    SubnetTaken(Subnet),
    #[error(
        "no free subnet for the bridge: the host routes into every candidate; set {SUBNET_ENV}"
    )]
    NoSubnet,
    #[error("network {network}: bridge {bridge} has {actual}, but its containers have addresses in {recorded}")]
    SubnetChanged {
        network: String,
        bridge: String,
        actual: Subnet,
        recorded: Subnet,
    },
    #[error("network {0}: every address is taken")]
    Full(String),
    /// A netlink request, the sysctl or the namespace failed: `what`.
    #[error("{what}")]
    Sys {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Nft(#[from] nft::NftError),
    #[error("publishing ports on network {0}: a port is published on a bridge network or slirp4netns only")]
    PortsOffBridge(String),
    #[error("invalid network alias {0:?}: give a hostname (letters, digits, '-' and '.')")]
    BadAlias(String),
    #[error("the container's network is {0}: only a container on a bridge network can be connected to another")]
    NotBridged(String),
    #[error("the container is on network {0} already")]
    AlreadyOn(String),
    #[error("the container is not on network {0}")]
    NotOn(String),
    #[error("publishing {ports}: a port is published already (by another container?)")]
    PortTaken {
        ports: String,
        #[source]
        source: nft::NftError,
    },
}

type Result<T> = std::result::Result<T, NetError>;

fn sys(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> NetError {
    let what = what.into();
    move |source| NetError::Sys { what, source }
}

/// The network a container is run on, as `--network` names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// A new network namespace with only `lo` (`none`).
    None,
    /// The host's network (`host`).
    Host,
    /// A bridge network by name (`bridge`, the default bridge, or one
    /// `cairn network create` made).
    Bridge(String),
    /// The network namespace of another, running, container.
    Container(String),
    /// An existing network namespace, by path (`/run/netns/NAME`).
    Join(PathBuf),
    /// A new network namespace served by slirp4netns: outbound without
    /// root (`slirp4netns[:allow_host_loopback=true]`).
    Slirp4netns { allow_host_loopback: bool },
}

impl Mode {
    /// `none` (or `loopback`), `host`, `bridge`, `container:NAME`, or an
    /// absolute path.
    pub fn parse(s: &str) -> Result<Mode> {
        Ok(match s {
            "none" | "loopback" | "" => Mode::None,
            "host" => Mode::Host,
            p if p.starts_with('/') => Mode::Join(p.into()),
            c if c.starts_with("container:") => match &c["container:".len()..] {
                "" => return Err(NetError::BadMode(s.into())),
                name => Mode::Container(name.into()),
            },
            "slirp4netns" => Mode::Slirp4netns {
                allow_host_loopback: false,
            },
            "slirp4netns:allow_host_loopback=true" => Mode::Slirp4netns {
                allow_host_loopback: true,
            },
            n if crate::store::container::valid_name(n) => Mode::Bridge(n.into()),
            _ => return Err(NetError::BadMode(s.into())),
        })
    }

    /// docker's `HostConfig.NetworkMode` for it.
    pub fn name(&self) -> String {
        match self {
            Mode::None => "none".into(),
            Mode::Host => "host".into(),
            Mode::Bridge(n) => n.clone(),
            Mode::Container(c) => format!("container:{c}"),
            Mode::Join(p) => p.display().to_string(),
            Mode::Slirp4netns {
                allow_host_loopback: false,
            } => "slirp4netns".into(),
            Mode::Slirp4netns {
                allow_host_loopback: true,
            } => "slirp4netns:allow_host_loopback=true".into(),
        }
    }
}

/// A bridge network as the store keeps it (`networks/<name>.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Network {
    pub name: String,
    /// 64 hex digits, as docker's network IDs.
    #[serde(default)]
    pub id: String,
    /// When it was made (RFC 3339).
    #[serde(default)]
    pub created: String,
    /// The bridge device.
    pub bridge: String,
    pub subnet: Subnet,
    /// Who holds each address.
    #[serde(default)]
    pub leases: BTreeMap<Ipv4Addr, ContainerId>,
}

/// A container's place on a bridge network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    pub network: String,
    pub bridge: String,
    pub ip: Ipv4Addr,
    pub prefix: u8,
    pub gateway: Ipv4Addr,
    pub mac: String,
    /// The host's end of the veth pair.
    pub veth: String,
    /// Its interface index: a link of that name with another index is
    /// someone else's (another store's container that got the address).
    #[serde(default)]
    pub veth_index: u32,
    /// The container's end: `eth0` on its first network, `eth1`, … on the
    /// ones `network connect` added.
    #[serde(default = "eth0")]
    pub ifname: String,
    /// The ports published to it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<Port>,
}

fn eth0() -> String {
    CONTAINER_IFNAME.into()
}

/// A network `network connect` added to a container besides its first:
/// its aliases there, and while it runs, its attachment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Connected {
    pub network: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachment: Option<Attachment>,
}

impl Endpoint {
    /// Docker's HostConfig.NetworkMode: the mode, `default` for the
    /// default bridge when no network was named.
    pub fn network_mode(&self) -> String {
        match self.by_default && self.mode == "bridge" {
            true => "default".into(),
            false => self.mode.clone(),
        }
    }

    /// The ports published to the container while it runs, whichever
    /// way.
    pub fn published(&self) -> &[Port] {
        match &self.attachment {
            Some(a) => &a.ports,
            None => &self.forwarded,
        }
    }
}

/// What a container's network is (`containers/<id>/network.json`): its
/// mode and what `create`/`run` asked of it (published ports, aliases),
/// kept for every start as docker keeps its `HostConfig`, and while it
/// runs on a bridge, its attachment; while it runs on slirp4netns, the
/// ports that forwards to it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endpoint {
    pub mode: String,
    /// The ports to publish at each start (`-p`; a host port of 0: a free
    /// one, chosen afresh each time, as docker does).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub publish: Vec<Port>,
    /// Also publish every port the image EXPOSEs (`-P`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub publish_all: bool,
    /// More names the other members of a user network find it by
    /// (`--network-alias`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachment: Option<Attachment>,
    /// The networks `network connect` added, each on an interface more.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub connected: Vec<Connected>,
    /// Ports published by a forwarder of the container's own
    /// (slirp4netns), not by the host's nftables.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub forwarded: Vec<Port>,
    /// No network was named: the default one, which docker's
    /// HostConfig.NetworkMode calls `default`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub by_default: bool,
}

fn network_path(store: &Store, name: &str) -> PathBuf {
    store.root().join("networks").join(format!("{name}.json"))
}

/// The stamp of the ruleset network `name`'s script was last applied to
/// ([`nft::assert_script`]).
fn stamp_path(store: &Store, name: &str) -> PathBuf {
    store
        .root()
        .join("networks")
        .join(format!("{name}.ruleset"))
}

fn endpoint_path(store: &Store, id: &ContainerId) -> PathBuf {
    store.container_dir(id).join("network.json")
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Option<T>> {
    match std::fs::read(path) {
        Ok(b) => Ok(Some(
            serde_json::from_slice(&b).map_err(StoreError::json(path))?,
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(StoreError::Io {
            path: path.into(),
            source: e,
        }
        .into()),
    }
}

/// Replace `path` atomically, without fsync: what these files say is
/// checked against the kernel's links before it is trusted, and no more
/// than a run's lease is lost in a crash, so the fsyncs (most of what a
/// bridged start would add) buy nothing.
fn write_json<T: Serialize>(path: &Path, v: &T) -> Result<()> {
    let data = serde_json::to_vec_pretty(v).expect("network records serialize");
    Ok(crate::store::replace_file(path, &data, false)?)
}

/// The endpoint recorded for container `id`, if any.
pub fn endpoint(store: &Store, id: &ContainerId) -> Result<Option<Endpoint>> {
    read_json(&endpoint_path(store, id))
}

/// Record that container `id` runs with `mode` (and no attachment),
/// keeping what its endpoint asked for (ports, aliases).
pub fn record_mode(store: &Store, id: &ContainerId, mode: &Mode) -> Result<()> {
    record_forwarded(store, id, mode, &[])
}

/// Record that container `id` runs with `mode` and `ports` published by
/// its own forwarder (slirp4netns), keeping what its endpoint asked for.
pub fn record_forwarded(
    store: &Store,
    id: &ContainerId,
    mode: &Mode,
    ports: &[Port],
) -> Result<()> {
    let ep = endpoint(store, id)?.unwrap_or_default();
    write_json(
        &endpoint_path(store, id),
        &Endpoint {
            mode: mode.name(),
            attachment: None,
            forwarded: ports.to_vec(),
            ..ep
        },
    )
}

/// Record what a new container asks of its network (`create`, `run`):
/// `ep`'s mode, ports and aliases, with no attachment. Ports are
/// published on a bridge network only; an alias must be a valid
/// hostname.
pub fn record(store: &Store, id: &ContainerId, ep: &Endpoint) -> Result<()> {
    check_request(ep)?;
    let ep = Endpoint {
        attachment: None,
        ..ep.clone()
    };
    write_json(&endpoint_path(store, id), &ep)
}

/// Refuse what no start could do: ports published off a bridge network,
/// an alias that is no hostname.
pub fn check_request(ep: &Endpoint) -> Result<()> {
    let mode = Mode::parse(&ep.mode)?;
    let publishes = matches!(mode, Mode::Bridge(_) | Mode::Slirp4netns { .. });
    if (!ep.publish.is_empty() || ep.publish_all) && !publishes {
        return Err(NetError::PortsOffBridge(ep.mode.clone()));
    }
    match ep
        .aliases
        .iter()
        .find(|a| !crate::hostfiles::valid_hostname(a))
    {
        Some(a) => Err(NetError::BadAlias(a.clone())),
        None => Ok(()),
    }
}

/// The address of container `id` on its bridge network while it runs
/// there (what its /etc/hosts names it by), else `None`.
pub fn address(store: &Store, id: &ContainerId) -> Option<Ipv4Addr> {
    endpoint(store, id).ok()??.attachment.map(|a| a.ip)
}

/// The network namespace made for a container and its attachment: run
/// the container in `netns` (by path, [`Attached::netns_path`]), then drop
/// this.
pub struct Attached {
    pub attachment: Attachment,
    pub netns: OwnedFd,
}

impl Attached {
    /// A path to the namespace that this process (and only it) can open.
    pub fn netns_path(&self) -> PathBuf {
        netns::path(&self.netns)
    }
}

/// Attach container `id` to the bridge network `name`: a new network
/// namespace with `eth0` on the bridge, an address, a default route, and
/// `ports` published to it.
pub fn attach(store: &Store, id: &ContainerId, name: &str, ports: &[Port]) -> Result<Attached> {
    crate::trace::mark("net: namespace");
    let mut ns = netns::create().map_err(sys("making a network namespace"))?;
    crate::trace::mark("net: join");
    let asked = endpoint(store, id)?.unwrap_or_default();
    let attachment = join(store, id, name, &mut ns, ports, |a| {
        let ep = Endpoint {
            mode: name.into(),
            attachment: Some(a.clone()),
            ..asked.clone()
        };
        write_json(&endpoint_path(store, id), &ep)
    })?;
    // and the networks `network connect` added, each on an interface more
    for c in asked.connected.iter().map(|c| c.network.clone()) {
        if let Err(e) = connect::plug_connected(store, id, &c, &mut ns) {
            let _ = detach(store, id);
            return Err(e);
        }
    }
    Ok(Attached {
        attachment,
        netns: ns.fd,
    })
}

/// Plug the namespace `ns` into the bridge network `name`: the next free
/// `ethN` in it (`eth0` first, with the default route), an address,
/// `ports` published to it, the lease; `record` writes the container's
/// endpoint, and the other members' /etc/hosts are rewritten, under the
/// network's lock.
fn join(
    store: &Store,
    id: &ContainerId,
    name: &str,
    ns: &mut netns::Netns,
    ports: &[Port],
    record: impl FnOnce(&Attachment) -> Result<()>,
) -> Result<Attachment> {
    let _lock = lock_network(store, name)?;
    crate::trace::mark("net: locked");
    let mut host = Netlink::open().map_err(sys("opening a netlink socket"))?;
    let links = link_names(&mut host)?;
    let mut net = match load(store, name, &links)? {
        Some(n) => n,
        None if name == DEFAULT_NETWORK => fresh_default()?,
        None => return Err(NetError::NoNetwork(name.into())),
    };
    crate::trace::mark("net: bridge");
    let seen = links.get(&net.bridge).copied();
    let bridge = ensure_bridge(&mut host, &mut net, seen)?;
    if net.leases.is_empty() {
        // The first container: (re)assert what the host needs.
        enable_forwarding(&net.bridge)?;
        nft::assert_script(
            &stamp_path(store, name),
            nft::TABLE,
            &nft::script(&net.bridge, net.subnet),
        )?;
    }
    crate::trace::mark("net: veth");
    let ifname = free_ifname(ns)?;
    let (mut attachment, peer) = plug(&mut host, &net, bridge, ns, &ifname, &links)?;
    crate::trace::mark("net: configure");
    configure(&mut ns.netlink, &attachment, peer)?;
    crate::trace::mark("net: record");
    if !ports.is_empty() {
        let result = port::publish(ports, attachment.ip);
        attachment.ports = result.map_err(|source| NetError::PortTaken {
            ports: ports
                .iter()
                .map(|p| format!("{}/{}", p.host_port, p.proto))
                .collect::<Vec<_>>()
                .join(", "),
            source,
        })?;
    }
    net.leases.insert(attachment.ip, *id);
    write_json(&network_path(store, name), &net)?;
    record(&attachment)?;
    hosts::refresh(store, &net);
    crate::trace::mark("net: joined");
    Ok(attachment)
}

/// The first of `eth0`, `eth1`, … the namespace has no link of (in a
/// namespace just made, `eth0`, without asking).
fn free_ifname(ns: &mut netns::Netns) -> Result<String> {
    if std::mem::take(&mut ns.fresh) {
        return Ok(CONTAINER_IFNAME.into());
    }
    let taken = ns
        .netlink
        .link_names()
        .map_err(sys("listing the container's links"))?;
    Ok((0..)
        .map(|n| format!("eth{n}"))
        .find(|n| !taken.contains(n))
        .expect("a free interface name"))
}

/// A new network ID: 64 random hex digits.
fn new_id() -> Result<String> {
    Ok(ContainerId::random()
        .map_err(sys("reading /dev/urandom"))?
        .hex())
}

/// The host's links by name, as one dump lists them.
type Links = BTreeMap<String, netlink::LinkState>;

/// The host's links.
fn link_names(host: &mut Netlink) -> Result<Links> {
    Ok(host
        .links()
        .map_err(sys("listing the host's links"))?
        .into_iter()
        .map(|l| {
            let state = netlink::LinkState {
                index: l.index,
                up: l.up,
            };
            (l.name, state)
        })
        .collect())
}

/// The network `name` as recorded, its dead leases dropped (a lease is
/// live while its veth is; a dead one's ports are withdrawn). The caller
/// holds the network's lock, and writes it back if it changes it.
fn load(store: &Store, name: &str, links: &Links) -> Result<Option<Network>> {
    let Some(mut n) = read_json::<Network>(&network_path(store, name))? else {
        return Ok(None);
    };
    let (live, dead): (BTreeMap<_, _>, BTreeMap<_, _>) = n
        .leases
        .into_iter()
        .partition(|(ip, _)| links.contains_key(&ipam::veth_name(*ip)));
    n.leases = live;
    for (ip, c) in dead {
        forget(store, &c, name, ip);
    }
    Ok(Some(n))
}

/// The default network's record before its first use (its subnet is
/// chosen when its bridge is made: [`ensure_bridge`]).
fn fresh_default() -> Result<Network> {
    Ok(Network {
        name: DEFAULT_NETWORK.into(),
        id: new_id()?,
        created: crate::store::container::now_rfc3339(),
        bridge: DEFAULT_BRIDGE.into(),
        subnet: configured_subnet()?.unwrap_or(Subnet {
            base: Ipv4Addr::UNSPECIFIED,
            prefix: 0,
        }),
        leases: BTreeMap::new(),
    })
}

/// The network `name`'s lock, taken (its records' directory made first).
fn lock_network(store: &Store, name: &str) -> Result<nix::fcntl::Flock<std::fs::File>> {
    let dir = store.root().join("networks");
    std::fs::create_dir_all(&dir).map_err(|source| StoreError::Io {
        path: dir.clone(),
        source,
    })?;
    Ok(store.lock_exclusive(&format!("network-{name}"))?)
}

/// The default network's record, written now (its ID and when it was
/// made) if nothing has used it yet: as docker's `bridge`, it always
/// exists and has an ID. Its subnet is chosen with its bridge, by the
/// first container ([`ensure_bridge`]).
pub(crate) fn recorded_default(store: &Store) -> Result<Network> {
    let _lock = lock_network(store, DEFAULT_NETWORK)?;
    let path = network_path(store, DEFAULT_NETWORK);
    if let Some(n) = read_json::<Network>(&path)? {
        return Ok(n);
    }
    let net = Network {
        subnet: Subnet {
            base: Ipv4Addr::UNSPECIFIED,
            prefix: 0,
        },
        ..fresh_default()?
    };
    write_json(&path, &net)?;
    Ok(net)
}

/// The default network, made now (its bridge and its record) if no
/// container has used it yet: as docker's `bridge`, it always exists.
fn made_default(store: &Store, host: &mut Netlink) -> Result<Network> {
    let _lock = lock_network(store, DEFAULT_NETWORK)?;
    let links = link_names(host)?;
    let mut net = match load(store, DEFAULT_NETWORK, &links)? {
        Some(n) => n,
        None => fresh_default()?,
    };
    let seen = links.get(&net.bridge).copied();
    ensure_bridge(host, &mut net, seen)?;
    write_json(&network_path(store, DEFAULT_NETWORK), &net)?;
    Ok(net)
}

/// Refuse a bridge network that does not exist (the default one always
/// does: it is made on first use).
pub fn check(store: &Store, mode: &Mode) -> Result<()> {
    match mode {
        Mode::Bridge(n) if n != DEFAULT_NETWORK && network(store, n)?.is_none() => {
            Err(NetError::NoNetwork(n.clone()))
        }
        _ => Ok(()),
    }
}

/// The subnet [`SUBNET_ENV`] asks for, if it is set.
fn configured_subnet() -> Result<Option<Subnet>> {
    match std::env::var(SUBNET_ENV) {
        Ok(s) if !s.is_empty() => Ok(Some(s.parse()?)),
        _ => Ok(None),
    }
}

/// Make sure `net`'s bridge exists, has the gateway address and is up;
/// returns its index. `seen`: the bridge as a dump of the host's links
/// just listed it (under the network's lock), which saves asking for its
/// index and bringing it up again. An existing bridge's subnet is the one used (two
/// stores share the host's bridge); a new bridge takes `net.subnet` if it
/// has one, else the first subnet the host does not route.
fn ensure_bridge(
    host: &mut Netlink,
    net: &mut Network,
    seen: Option<netlink::LinkState>,
) -> Result<u32> {
    let what = |s: &str| format!("bridge {}: {s}", net.bridge);
    let found = match seen {
        Some(s) => Some(s.index),
        None => host
            .link_index(&net.bridge)
            .map_err(sys(what("finding it")))?,
    };
    let index = match found {
        Some(i) => i,
        None => {
            match host.add_bridge(&net.bridge) {
                Err(e) if e.raw_os_error() != Some(libc::EEXIST) => {
                    return Err(sys(what("creating it"))(e))
                }
                _ => {}
            }
            host.link_index(&net.bridge)
                .map_err(sys(what("finding it")))?
                .ok_or_else(|| sys(what("finding it"))(std::io::ErrorKind::NotFound.into()))?
        }
    };
    let addrs = host
        .addresses(index)
        .map_err(sys(what("reading its address")))?;
    let subnet = match addrs.first() {
        Some(&(ip, prefix)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            Subnet {
                base: Ipv4Addr::from(u32::from(ip) & mask),
                prefix,
            }
        }
        None => {
            let routes = ipam::host_routes().map_err(sys("reading the host's routes"))?;
            let wanted = match net.subnet.prefix {
                0 => configured_subnet()?,
                _ => Some(net.subnet),
            };
            let s = ipam::choose(wanted, &routes).ok_or(match wanted {
                Some(w) => NetError::SubnetTaken(w),
                None => NetError::NoSubnet,
            })?;
            match host.add_address(index, s.gateway(), s.prefix) {
                Err(e) if e.raw_os_error() != Some(libc::EEXIST) => {
                    return Err(sys(what("giving it its address"))(e))
                }
                _ => s,
            }
        }
    };
    if subnet != net.subnet && net.subnet.prefix != 0 && !net.leases.is_empty() {
        return Err(NetError::SubnetChanged {
            network: net.name.clone(),
            bridge: net.bridge.clone(),
            actual: subnet,
            recorded: net.subnet,
        });
    }
    net.subnet = subnet;
    if !seen.is_some_and(|s| s.up) {
        host.set_up(index).map_err(sys(what("bringing it up")))?;
    }
    Ok(index)
}

/// `net.ipv4.ip_forward = 1`, as docker sets it for a bridge network,
/// and `route_localnet` on the bridge, so a published port answers on
/// 127.0.0.1 (as docker sets it without its userland proxy).
fn enable_forwarding(bridge: &str) -> Result<()> {
    for (p, what) in [
        (
            "/proc/sys/net/ipv4/ip_forward".to_string(),
            "net.ipv4.ip_forward",
        ),
        (
            format!("/proc/sys/net/ipv4/conf/{bridge}/route_localnet"),
            "route_localnet",
        ),
    ] {
        if !std::fs::read_to_string(&p).is_ok_and(|v| v.trim() == "1") {
            std::fs::write(&p, "1").map_err(sys(format!("setting {what}")))?;
        }
    }
    Ok(())
}

/// Take the lowest free address of `net` and plug a veth pair named after
/// it into the bridge `bridge`, its peer `eth0` born in `ns`. A name the
/// kernel refuses as taken (another store's container) is skipped.
fn plug(
    host: &mut Netlink,
    net: &Network,
    bridge: u32,
    ns: &netns::Netns,
    ifname: &str,
    links: &Links,
) -> Result<(Attachment, Option<u32>)> {
    let mut skipped = BTreeSet::new();
    loop {
        let ip = ipam::lowest_free(net.subnet, |ip| {
            net.leases.contains_key(&ip)
                || skipped.contains(&ip)
                || links.contains_key(&ipam::veth_name(ip))
        })
        .ok_or_else(|| NetError::Full(net.name.clone()))?;
        let veth = ipam::veth_name(ip);
        let mac = ipam::mac_of(ip);
        let peer = VethEnd {
            name: ifname,
            mac: Some(mac),
        };
        let echoed = match host.add_veth(&veth, bridge, peer, ns.fd.as_fd()) {
            Err(e) if e.raw_os_error() == Some(libc::EEXIST) => {
                skipped.insert(ip);
                continue;
            }
            r => r.map_err(sys(format!("creating the veth pair {veth}")))?,
        };
        // Asking for a link just made also waits for an RCU grace period
        // (the kernel syncs its pending carrier change first): the
        // creation's echo names both ends' indexes, where the kernel sends
        // one.
        let (index, peer) = match echoed {
            Some((index, peer)) => (index, Some(peer)),
            None => {
                let index = host
                    .link_index(&veth)
                    .map_err(sys(format!("finding {veth}")))?;
                let found = || sys(format!("finding {veth}"))(std::io::ErrorKind::NotFound.into());
                (index.ok_or_else(found)?, None)
            }
        };
        let attachment = Attachment {
            network: net.name.clone(),
            bridge: net.bridge.clone(),
            ip,
            prefix: net.subnet.prefix,
            gateway: net.subnet.gateway(),
            mac: ipam::mac_string(mac),
            veth,
            veth_index: index,
            ifname: ifname.into(),
            ports: Vec::new(),
        };
        return Ok((attachment, peer));
    }
}

/// Inside the namespace: the interface (`index` in it, if known) gets its
/// address and comes up; on `eth0`, the default route goes via the
/// bridge. The three requests go out together and are acknowledged
/// together (the kernel takes them in order).
fn configure(inside: &mut Netlink, a: &Attachment, index: Option<u32>) -> Result<()> {
    let what = |s: &str| format!("{} of {}: {s}", a.ifname, a.veth);
    let index = match index {
        Some(i) => i,
        None => inside
            .link_index(&a.ifname)
            .map_err(sys(what("finding it")))?
            .ok_or_else(|| sys(what("finding it"))(std::io::ErrorKind::NotFound.into()))?,
    };
    let route = (a.ifname == CONTAINER_IFNAME).then_some(a.gateway);
    inside
        .configure(index, a.ip, a.prefix, route)
        .map_err(|(step, e)| {
            let step = match step {
                netlink::Step::Address => "giving it its address",
                netlink::Step::Up => "bringing it up",
                netlink::Step::Route => "adding the default route",
            };
            sys(what(step))(e)
        })
}

/// End container `id`'s attachments (its first network's and those
/// `network connect` added), if it has any: its ports withdrawn, its
/// lease released, the endpoint's addresses cleared, each veth left to
/// the dying namespace (`Unplug::WithNamespace`);
/// ports a forwarder of its own published (slirp4netns) are forgotten.
/// Harmless to repeat. An attachment whose lease is no longer the
/// container's was swept already (its address may be another's now):
/// only the endpoint is cleared.
pub fn detach(store: &Store, id: &ContainerId) -> Result<()> {
    let Some(mut ep) = endpoint(store, id)? else {
        return Ok(());
    };
    let mut ends: Vec<Attachment> = ep.attachment.take().into_iter().collect();
    ends.extend(ep.connected.iter_mut().filter_map(|c| c.attachment.take()));
    if ends.is_empty() && ep.forwarded.is_empty() {
        return Ok(());
    }
    // A forwarder's ports are gone with its network: nothing else to undo.
    ep.forwarded.clear();
    write_json(&endpoint_path(store, id), &ep)?;
    // The container's processes are gone: unless another container shares
    // its namespace, the kernel takes the namespace down, and its veths with
    // it, on its own time.
    let shared = take_shared(store, id);
    let how = if shared {
        Unplug::Now
    } else {
        Unplug::WithNamespace
    };
    ends.iter().try_for_each(|a| release(store, id, a, how))
}

/// How a released attachment's veth goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unplug {
    /// Deleted before [`release`] returns: the namespace lives on (a
    /// running container disconnected, or one whose namespace another
    /// container shares).
    Now,
    /// With the container's namespace, which nothing holds any more: the
    /// kernel deletes the pair when it takes the namespace down. Deleting
    /// a veth waits for an RCU barrier (15-20 ms even on an idle
    /// machine), which the kernel then spends on its own worker instead of
    /// the caller's time. Until then the veth keeps its address from being
    /// taken again ([`plug`] skips the names of links that exist), so a
    /// lease released early is never handed out twice.
    WithNamespace,
}

/// The marker that another container joined container `id`'s network
/// namespace (`--network container:ID`).
fn shared_path(store: &Store, id: &ContainerId) -> PathBuf {
    store.container_dir(id).join("netns-shared")
}

/// Note that another container joins container `id`'s network namespace:
/// when `id` ends, its veths are deleted at once, not left to the
/// namespace (which the other container keeps alive). A marker left
/// behind by a crash only makes that happen once more than needed.
pub fn note_shared(store: &Store, id: &ContainerId) -> Result<()> {
    let path = shared_path(store, id);
    std::fs::write(&path, b"")
        .map_err(|source| StoreError::Io { path, source })
        .map_err(NetError::from)
}

/// Whether another container joined container `id`'s namespace since it
/// was last asked; the marker is removed.
fn take_shared(store: &Store, id: &ContainerId) -> bool {
    std::fs::remove_file(shared_path(store, id)).is_ok()
}

/// Release `a`, container `id`'s attachment, if its lease is still the
/// container's: its veth (`how`), its ports, its lease, and its name in the
/// other members' /etc/hosts.
fn release(store: &Store, id: &ContainerId, a: &Attachment, how: Unplug) -> Result<()> {
    let _lock = store.lock_exclusive(&format!("network-{}", a.network))?;
    crate::trace::mark("net: release");
    let path = network_path(store, &a.network);
    if let Some(mut net) = read_json::<Network>(&path)? {
        if net.leases.get(&a.ip) == Some(id) {
            unplug(a, how);
            crate::trace::mark("net: unplugged");
            net.leases.remove(&a.ip);
            write_json(&path, &net)?;
            hosts::refresh(store, &net);
            hosts::refresh_one(store, id);
        }
    }
    Ok(())
}

/// Delete `a`'s veth (if it is still the one made for it; with
/// [`Unplug::WithNamespace`], the kernel does) and withdraw its ports.
fn unplug(a: &Attachment, how: Unplug) {
    if how == Unplug::Now {
        delete_veth(a);
    }
    if !a.ports.is_empty() {
        let _ = nft::apply(&nft::withdraw(&a.ports));
    }
}

/// Delete `a`'s veth if it is still the one made for it.
fn delete_veth(a: &Attachment) {
    if let Ok(mut host) = Netlink::open() {
        let index = host.link_index(&a.veth).ok().flatten();
        if index.is_some() && (a.veth_index == 0 || index == Some(a.veth_index)) {
            let _ = host.del_link(&a.veth);
        }
    }
}

/// The lease of container `id` at `ip` on `network` was found dead (its
/// veth is gone: its processes ended without a word, a supervisor killed
/// -9): withdraw its ports and clear its endpoint's attachment, so nothing
/// later takes down what the address's next holder has. The caller holds
/// the network's lock.
fn forget(store: &Store, id: &ContainerId, network: &str, ip: Ipv4Addr) {
    let Ok(Some(mut ep)) = endpoint(store, id) else {
        return;
    };
    let is = |a: &Option<Attachment>| {
        a.as_ref()
            .is_some_and(|a| a.network == network && a.ip == ip)
    };
    let slot = std::iter::once(&mut ep.attachment)
        .chain(ep.connected.iter_mut().map(|c| &mut c.attachment))
        .find(|a| is(a));
    let Some(a) = slot.and_then(Option::take) else {
        return;
    };
    if !a.ports.is_empty() {
        let _ = nft::apply(&nft::withdraw(&a.ports));
    }
    let _ = write_json(&endpoint_path(store, id), &ep);
}

/// The network named `name` as the store records it.
pub fn network(store: &Store, name: &str) -> Result<Option<Network>> {
    read_json(&network_path(store, name))
}

/// docker's `NetworkSettings` of a container, from its endpoint.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "PascalCase")]
pub struct NetworkSettings {
    /// The bridge device (docker leaves it empty; cairn names it).
    pub bridge: String,
    #[serde(rename = "IPAddress")]
    pub ip_address: String,
    #[serde(rename = "IPPrefixLen")]
    pub ip_prefix_len: u8,
    pub gateway: String,
    pub mac_address: String,
    /// The published ports, by the container's side (`80/tcp`); a port
    /// only exposed, on a bridge, has none (null), as docker shows it.
    pub ports: BTreeMap<String, Option<Vec<PortBinding>>>,
    /// Every network the container is on, by name.
    pub networks: BTreeMap<String, EndpointSettings>,
}

/// docker's `PortBinding`: where on the host a container's port is
/// published.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "PascalCase")]
pub struct PortBinding {
    pub host_ip: String,
    pub host_port: String,
}

/// docker's `EndpointSettings`: one network of a container.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "PascalCase")]
pub struct EndpointSettings {
    #[serde(rename = "NetworkID")]
    pub network_id: String,
    pub gateway: String,
    #[serde(rename = "IPAddress")]
    pub ip_address: String,
    #[serde(rename = "IPPrefixLen")]
    pub ip_prefix_len: u8,
    pub mac_address: String,
}

impl NetworkSettings {
    /// What `inspect` shows for `ep`: the addresses while attached, with
    /// the published ports and those only `exposed` (`8080/tcp`); for a
    /// container on `none` or `host` (or not running), the network with
    /// empty fields, as docker shows it.
    pub fn of<'a>(
        ep: Option<&Endpoint>,
        exposed: impl IntoIterator<Item = &'a str>,
    ) -> NetworkSettings {
        let Some(ep) = ep else {
            return NetworkSettings::default();
        };
        let mut s = NetworkSettings::default();
        let mut e = EndpointSettings {
            network_id: ep.mode.clone(),
            ..Default::default()
        };
        if let Some(a) = &ep.attachment {
            s.bridge = a.bridge.clone();
            s.ip_address = a.ip.to_string();
            s.ip_prefix_len = a.prefix;
            s.gateway = a.gateway.to_string();
            s.mac_address = a.mac.clone();
            e = EndpointSettings {
                network_id: a.network.clone(),
                gateway: s.gateway.clone(),
                ip_address: s.ip_address.clone(),
                ip_prefix_len: a.prefix,
                mac_address: a.mac.clone(),
            };
        }
        for p in ep.published() {
            s.ports
                .entry(p.container_side())
                .or_default()
                .get_or_insert_with(Vec::new)
                .push(PortBinding {
                    host_ip: p.host_ip_string(),
                    host_port: p.host_port.to_string(),
                });
        }
        if ep.attachment.is_some() {
            for port in exposed {
                let key = match port.contains('/') {
                    true => port.to_string(),
                    false => format!("{port}/tcp"),
                };
                s.ports.entry(key).or_insert(None);
            }
        }
        if !ep.mode.starts_with("container:") && !ep.mode.starts_with('/') {
            s.networks.insert(ep.mode.clone(), e);
        }
        for c in &ep.connected {
            let e = c.attachment.as_ref().map_or_else(
                || EndpointSettings {
                    network_id: c.network.clone(),
                    ..Default::default()
                },
                |a| EndpointSettings {
                    network_id: a.network.clone(),
                    gateway: a.gateway.to_string(),
                    ip_address: a.ip.to_string(),
                    ip_prefix_len: a.prefix,
                    mac_address: a.mac.clone(),
                },
            );
            s.networks.insert(c.network.clone(), e);
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_mode_reads_back_from_its_name() {
        // create records the name; start reads it back
        for s in [
            "none",
            "host",
            "bridge",
            "app",
            "container:web",
            "/run/netns/x",
            "slirp4netns",
            "slirp4netns:allow_host_loopback=true",
        ] {
            let m = Mode::parse(s).unwrap();
            assert_eq!(Mode::parse(&m.name()).unwrap(), m, "{s}");
        }
    }

    #[test]
    fn modes_parse_as_docker_names_them() {
        assert_eq!(Mode::parse("none").unwrap(), Mode::None);
        assert_eq!(Mode::parse("loopback").unwrap(), Mode::None);
        assert_eq!(Mode::parse("host").unwrap(), Mode::Host);
        assert_eq!(
            Mode::parse("bridge").unwrap(),
            Mode::Bridge("bridge".into())
        );
        assert_eq!(
            Mode::parse("container:web").unwrap(),
            Mode::Container("web".into())
        );
        assert_eq!(
            Mode::parse("/run/netns/x").unwrap(),
            Mode::Join("/run/netns/x".into())
        );
        assert!(matches!(
            Mode::parse("container:"),
            Err(NetError::BadMode(_))
        ));
        assert_eq!(Mode::parse("blue").unwrap(), Mode::Bridge("blue".into()));
        assert!(matches!(Mode::parse("a b"), Err(NetError::BadMode(_))));
        for m in ["none", "host", "bridge", "container:web"] {
            assert_eq!(Mode::parse(m).unwrap().name(), m);
        }
    }

    #[test]
    fn settings_are_dockers() {
        let a = Attachment {
            network: "bridge".into(),
            bridge: "cairn0".into(),
            ip: Ipv4Addr::new(10, 88, 0, 2),
            prefix: 16,
            gateway: Ipv4Addr::new(10, 88, 0, 1),
            mac: "02:42:0a:58:00:02".into(),
            veth: "veth0a580002".into(),
            veth_index: 7,
            ifname: "eth0".into(),
            ports: vec!["8080:80".parse().unwrap()],
        };
        let ep = Endpoint {
            mode: "bridge".into(),
            attachment: Some(a),
            ..Default::default()
        };
        let v =
            serde_json::to_value(NetworkSettings::of(Some(&ep), ["80/tcp", "8080/tcp"])).unwrap();
        assert_eq!(v["IPAddress"], "10.88.0.2");
        assert_eq!(v["IPPrefixLen"], 16);
        assert_eq!(v["Gateway"], "10.88.0.1");
        assert_eq!(v["MacAddress"], "02:42:0a:58:00:02");
        assert_eq!(v["Networks"]["bridge"]["IPAddress"], "10.88.0.2");
        assert_eq!(
            v["Ports"]["80/tcp"][0],
            serde_json::json!({"HostIp": "0.0.0.0", "HostPort": "8080"})
        );
        assert_eq!(v["Ports"]["8080/tcp"], serde_json::Value::Null);
        let none = Endpoint {
            mode: "none".into(),
            ..Default::default()
        };
        let v = serde_json::to_value(NetworkSettings::of(Some(&none), ["80/tcp"])).unwrap();
        assert_eq!(v["IPAddress"], "");
        assert_eq!(v["Networks"]["none"]["IPAddress"], "");
        assert_eq!(v["Ports"], serde_json::json!({}));
    }
}
