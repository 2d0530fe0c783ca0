//! A small synchronous rtnetlink client: the few requests a bridge network
//! needs (links, addresses, routes, a veth pair whose peer is born in
//! another network namespace), each sent and acknowledged in turn.
//!
//! Messages are built with `netlink-packet-route` and carried over a
//! `netlink-sys` socket, with no async runtime. A socket talks to the
//! network namespace it was created in: [`Netlink::open`] in the caller's,
//! so a socket for a container's namespace is opened by a thread that
//! joined it first ([`super::netns`]).

use netlink_packet_core::{
    NetlinkHeader, NetlinkMessage, NetlinkPayload, NLM_F_ACK, NLM_F_CREATE, NLM_F_DUMP, NLM_F_ECHO,
    NLM_F_EXCL, NLM_F_REQUEST,
};
use netlink_packet_route::address::{AddressAttribute, AddressMessage};
use netlink_packet_route::link::{
    InfoData, InfoKind, InfoVeth, LinkAttribute, LinkFlags, LinkInfo, LinkMessage,
};
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteHeader, RouteMessage, RouteProtocol, RouteScope, RouteType,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use netlink_sys::{protocols::NETLINK_ROUTE, Socket, SocketAddr};
use std::io;
use std::net::{IpAddr, Ipv4Addr};
use std::os::fd::{AsRawFd, BorrowedFd};

/// One transmit and one receive queue: a veth's, asked for at its birth.
const ONE_QUEUE: [LinkAttribute; 2] =
    [LinkAttribute::NumTxQueues(1), LinkAttribute::NumRxQueues(1)];

/// An open rtnetlink socket in one network namespace.
pub struct Netlink {
    sock: Socket,
    seq: u32,
}

/// A link as a dump lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkState {
    pub index: u32,
    pub up: bool,
}

/// A link of [`Netlink::links`].
pub struct Link {
    pub name: String,
    pub index: u32,
    pub up: bool,
}

/// One end of a new veth pair: its name, and its MAC address if set.
pub struct VethEnd<'a> {
    pub name: &'a str,
    pub mac: Option<[u8; 6]>,
}

impl Netlink {
    /// A socket in the caller's (the thread's) network namespace.
    pub fn open() -> io::Result<Netlink> {
        let mut sock = Socket::new(NETLINK_ROUTE)?;
        sock.bind_auto()?;
        sock.connect(&SocketAddr::new(0, 0))?;
        Ok(Netlink { sock, seq: 0 })
    }

    /// Send `msgs` (each with its flags) in one write, numbered in turn;
    /// the first one's sequence number.
    fn send(&mut self, msgs: Vec<(RouteNetlinkMessage, u16)>) -> io::Result<u32> {
        let first = self.seq.wrapping_add(1);
        let mut buf = Vec::new();
        for (msg, flags) in msgs {
            self.seq = self.seq.wrapping_add(1);
            let mut packet =
                NetlinkMessage::new(NetlinkHeader::default(), NetlinkPayload::from(msg));
            packet.header.flags = NLM_F_REQUEST | NLM_F_ACK | flags;
            packet.header.sequence_number = self.seq;
            packet.finalize();
            let at = buf.len();
            buf.resize(at + packet.buffer_len(), 0);
            packet.serialize(&mut buf[at..]);
            // each message starts on a 4-byte boundary (NLMSG_ALIGN)
            buf.resize(buf.len().next_multiple_of(4), 0);
        }
        self.sock.send(&buf, 0)?;
        Ok(first)
    }

    /// Hand each reply to the requests numbered `first` to the last one
    /// sent to `on`, until it says that was the last it waits for.
    fn receive(
        &mut self,
        first: u32,
        mut on: impl FnMut(u32, NetlinkPayload<RouteNetlinkMessage>) -> bool,
    ) -> io::Result<()> {
        loop {
            let (data, _) = self.sock.recv_from_full()?;
            let mut off = 0;
            while off < data.len() {
                let reply: NetlinkMessage<RouteNetlinkMessage> =
                    NetlinkMessage::deserialize(&data[off..]).map_err(io::Error::other)?;
                let len = reply.header.length as usize;
                let seq = reply.header.sequence_number;
                if seq.wrapping_sub(first) <= self.seq.wrapping_sub(first) && on(seq, reply.payload)
                {
                    return Ok(());
                }
                if len == 0 {
                    break;
                }
                off += len;
            }
        }
    }

    /// Send `msg` with `flags`; every reply until the ack (or the end of a
    /// dump) is returned. A kernel error becomes the `io::Error` it means.
    fn request(
        &mut self,
        msg: RouteNetlinkMessage,
        flags: u16,
    ) -> io::Result<Vec<RouteNetlinkMessage>> {
        let first = self.send(vec![(msg, flags)])?;
        let (mut out, mut result) = (Vec::new(), Ok(()));
        self.receive(first, |_, payload| match payload {
            NetlinkPayload::Error(e) => {
                if let Some(c) = e.code {
                    result = Err(io::Error::from_raw_os_error(-c.get()));
                }
                true
            }
            NetlinkPayload::Done(_) => true,
            NetlinkPayload::InnerMessage(m) => {
                out.push(m);
                false
            }
            _ => false,
        })?;
        result.map(|()| out)
    }

    /// Send `msgs` together and wait for every ack: each one's outcome, in
    /// order. The kernel takes them one after the other, as if each had
    /// waited for the one before; a failed one does not stop the next.
    fn batch(&mut self, msgs: Vec<(RouteNetlinkMessage, u16)>) -> io::Result<Vec<io::Result<()>>> {
        let mut acks: Vec<Option<io::Result<()>>> = msgs.iter().map(|_| None).collect();
        let first = self.send(msgs)?;
        let mut left = acks.len();
        self.receive(first, |seq, payload| {
            if let NetlinkPayload::Error(e) = payload {
                let slot = &mut acks[seq.wrapping_sub(first) as usize];
                if slot.is_none() {
                    left -= 1;
                }
                *slot = Some(match e.code {
                    None => Ok(()),
                    Some(c) => Err(io::Error::from_raw_os_error(-c.get())),
                });
            }
            left == 0
        })?;
        Ok(acks.into_iter().flatten().collect())
    }

    /// The index of the link named `name`, or `None` if there is none.
    pub fn link_index(&mut self, name: &str) -> io::Result<Option<u32>> {
        let mut m = LinkMessage::default();
        m.attributes.push(LinkAttribute::IfName(name.into()));
        match self.request(RouteNetlinkMessage::GetLink(m), 0) {
            Ok(r) => Ok(r.into_iter().find_map(|m| match m {
                RouteNetlinkMessage::NewLink(l) => Some(l.header.index),
                _ => None,
            })),
            Err(e) if e.raw_os_error() == Some(libc::ENODEV) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The names of every link.
    pub fn link_names(&mut self) -> io::Result<Vec<String>> {
        Ok(self.links()?.into_iter().map(|l| l.name).collect())
    }

    /// Every link: its name, index and whether it is up.
    pub fn links(&mut self) -> io::Result<Vec<Link>> {
        let r = self.request(
            RouteNetlinkMessage::GetLink(LinkMessage::default()),
            NLM_F_DUMP,
        )?;
        Ok(r.into_iter()
            .filter_map(|m| match m {
                RouteNetlinkMessage::NewLink(l) => {
                    let name = l.attributes.into_iter().find_map(|a| match a {
                        LinkAttribute::IfName(n) => Some(n),
                        _ => None,
                    })?;
                    Some(Link {
                        name,
                        index: l.header.index,
                        up: l.header.flags.contains(LinkFlags::Up),
                    })
                }
                _ => None,
            })
            .collect())
    }

    /// The IPv4 addresses (with their prefix lengths) of link `index`.
    pub fn addresses(&mut self, index: u32) -> io::Result<Vec<(Ipv4Addr, u8)>> {
        let mut m = AddressMessage::default();
        m.header.family = AddressFamily::Inet;
        let r = self.request(RouteNetlinkMessage::GetAddress(m), NLM_F_DUMP)?;
        Ok(r.into_iter()
            .filter_map(|m| match m {
                RouteNetlinkMessage::NewAddress(a) if a.header.index == index => {
                    let len = a.header.prefix_len;
                    a.attributes.into_iter().find_map(|at| match at {
                        AddressAttribute::Local(IpAddr::V4(ip)) => Some((ip, len)),
                        _ => None,
                    })
                }
                _ => None,
            })
            .collect())
    }

    fn new_link(&mut self, m: LinkMessage) -> io::Result<()> {
        self.request(
            RouteNetlinkMessage::NewLink(m),
            NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
        )
        .map(drop)
    }

    /// Create a bridge named `name` (EEXIST if there is one).
    pub fn add_bridge(&mut self, name: &str) -> io::Result<()> {
        let mut m = LinkMessage::default();
        m.attributes.push(LinkAttribute::IfName(name.into()));
        m.attributes
            .push(LinkAttribute::LinkInfo(vec![LinkInfo::Kind(
                InfoKind::Bridge,
            )]));
        self.new_link(m)
    }

    /// Create a veth pair: `host` here, a port of the bridge `master`;
    /// `peer` born in the network namespace `netns`. The host end is born
    /// up (one request where two were); the peer is brought up inside,
    /// where the kernel refuses it (ENOTCONN) until it has been moved.
    /// EEXIST if `host` is taken.
    ///
    /// Both ends get one queue each way, asked for: a veth left to its
    /// default is born with a queue per CPU and then cut down to one
    /// (what docker's have), and each cut waits for an expedited RCU grace
    /// period under the rtnl lock, two per pair (0.5-3 ms under load,
    /// `perf record -e sched:sched_switch -g`: `veth_init_queues`).
    /// Returns the indexes of the host end and of the peer in `netns`,
    /// from the kernel's echo of the new link (`None` from a kernel that
    /// does not echo one, before 6.3).
    pub fn add_veth(
        &mut self,
        host: &str,
        master: u32,
        peer: VethEnd<'_>,
        netns: BorrowedFd<'_>,
    ) -> io::Result<Option<(u32, u32)>> {
        let mut p = LinkMessage::default();
        p.attributes.push(LinkAttribute::IfName(peer.name.into()));
        p.attributes.push(LinkAttribute::NetNsFd(netns.as_raw_fd()));
        if let Some(mac) = peer.mac {
            p.attributes.push(LinkAttribute::Address(mac.to_vec()));
        }
        p.attributes.extend(ONE_QUEUE);
        let mut m = LinkMessage::default();
        m.header.flags = LinkFlags::Up;
        m.header.change_mask = LinkFlags::Up;
        m.attributes.push(LinkAttribute::IfName(host.into()));
        m.attributes.push(LinkAttribute::Controller(master));
        m.attributes.extend(ONE_QUEUE);
        m.attributes.push(LinkAttribute::LinkInfo(vec![
            LinkInfo::Kind(InfoKind::Veth),
            LinkInfo::Data(InfoData::Veth(InfoVeth::Peer(p))),
        ]));
        let echo = self.request(
            RouteNetlinkMessage::NewLink(m),
            NLM_F_CREATE | NLM_F_EXCL | NLM_F_ECHO,
        )?;
        Ok(echo.into_iter().find_map(|r| match r {
            RouteNetlinkMessage::NewLink(l) if named(&l, host) => {
                let peer = l.attributes.iter().find_map(|a| match a {
                    LinkAttribute::Link(i) => Some(*i),
                    _ => None,
                })?;
                Some((l.header.index, peer))
            }
            _ => None,
        }))
    }

    /// Bring link `index` up.
    pub fn set_up(&mut self, index: u32) -> io::Result<()> {
        self.request(up(index), 0).map(drop)
    }

    /// Delete the link named `name`; `false` if there was none.
    pub fn del_link(&mut self, name: &str) -> io::Result<bool> {
        let mut m = LinkMessage::default();
        m.attributes.push(LinkAttribute::IfName(name.into()));
        match self.request(RouteNetlinkMessage::DelLink(m), NLM_F_ACK) {
            Ok(_) => Ok(true),
            Err(e) if e.raw_os_error() == Some(libc::ENODEV) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Give link `index` the address `ip/prefix` (with its broadcast).
    pub fn add_address(&mut self, index: u32, ip: Ipv4Addr, prefix: u8) -> io::Result<()> {
        self.request(address(index, ip, prefix), NLM_F_CREATE | NLM_F_EXCL)
            .map(drop)
    }

    /// Configure link `index` in one round trip: the address `ip/prefix`,
    /// up, and the default route via `route` if given. A failure names
    /// its step.
    pub fn configure(
        &mut self,
        index: u32,
        ip: Ipv4Addr,
        prefix: u8,
        route: Option<Ipv4Addr>,
    ) -> Result<(), (Step, io::Error)> {
        let new = NLM_F_CREATE | NLM_F_EXCL;
        let mut steps = vec![
            (Step::Address, address(index, ip, prefix), new),
            (Step::Up, up(index), 0),
        ];
        steps.extend(route.map(|gw| (Step::Route, default_route(gw), new)));
        let names: Vec<Step> = steps.iter().map(|s| s.0).collect();
        let acks = self
            .batch(steps.into_iter().map(|(_, m, f)| (m, f)).collect())
            .map_err(|e| (Step::Address, e))?;
        names
            .into_iter()
            .zip(acks)
            .try_for_each(|(step, r)| r.map_err(|e| (step, e)))
    }
}

/// A step of [`Netlink::configure`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Address,
    Up,
    Route,
}

/// The request that brings link `index` up.
fn up(index: u32) -> RouteNetlinkMessage {
    let mut m = LinkMessage::default();
    m.header.index = index;
    m.header.flags = LinkFlags::Up;
    m.header.change_mask = LinkFlags::Up;
    RouteNetlinkMessage::SetLink(m)
}

/// The request that gives link `index` the address `ip/prefix` (with its
/// broadcast).
fn address(index: u32, ip: Ipv4Addr, prefix: u8) -> RouteNetlinkMessage {
    let mut m = AddressMessage::default();
    m.header.family = AddressFamily::Inet;
    m.header.prefix_len = prefix;
    m.header.index = index;
    let host_bits = u32::MAX.checked_shr(u32::from(prefix)).unwrap_or(0);
    let brd = Ipv4Addr::from(u32::from(ip) | host_bits);
    m.attributes.push(AddressAttribute::Local(ip.into()));
    m.attributes.push(AddressAttribute::Address(ip.into()));
    m.attributes.push(AddressAttribute::Broadcast(brd));
    RouteNetlinkMessage::NewAddress(m)
}

/// The request that adds the default route via `gateway`.
fn default_route(gateway: Ipv4Addr) -> RouteNetlinkMessage {
    let mut m = RouteMessage::default();
    m.header.address_family = AddressFamily::Inet;
    m.header.table = RouteHeader::RT_TABLE_MAIN;
    m.header.protocol = RouteProtocol::Boot;
    m.header.scope = RouteScope::Universe;
    m.header.kind = RouteType::Unicast;
    m.attributes
        .push(RouteAttribute::Gateway(RouteAddress::Inet(gateway)));
    RouteNetlinkMessage::NewRoute(m)
}

/// Whether link message `l` names the link `name`.
fn named(l: &LinkMessage, name: &str) -> bool {
    l.attributes
        .iter()
        .any(|a| matches!(a, LinkAttribute::IfName(n) if n == name))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The batch of [`Netlink::configure`] in a namespace of its own (as
    /// root, as the tests run): every step is acknowledged on its own, and
    /// a failed one is named, whichever of the three it is.
    #[test]
    fn configure_acks_each_step_and_names_the_one_that_failed() {
        let mut ns = super::super::netns::create().expect("a network namespace (as root)");
        let (lo, ip, gw) = (1, Ipv4Addr::new(10, 9, 8, 7), Ipv4Addr::new(10, 9, 8, 1));
        let inside = &mut ns.netlink;
        inside.configure(lo, ip, 24, Some(gw)).expect("configured");
        let (step, e) = inside.configure(lo, ip, 24, None).unwrap_err();
        assert_eq!(
            (step, e.raw_os_error()),
            (Step::Address, Some(libc::EEXIST))
        );
        let other = Ipv4Addr::new(10, 9, 9, 7);
        let (step, e) = inside.configure(lo, other, 24, Some(gw)).unwrap_err();
        assert_eq!((step, e.raw_os_error()), (Step::Route, Some(libc::EEXIST)));
        let (step, e) = inside.configure(99, other, 24, None).unwrap_err();
        assert_eq!(
            (step, e.raw_os_error()),
            (Step::Address, Some(libc::ENODEV))
        );
        // the socket is still in step: a request after the batches
        assert_eq!(inside.link_index("lo").unwrap(), Some(lo));
    }
}
