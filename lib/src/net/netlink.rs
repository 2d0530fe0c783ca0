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
    NetlinkHeader, NetlinkMessage, NetlinkPayload, NLM_F_ACK, NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL,
    NLM_F_REQUEST,
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

/// An open rtnetlink socket in one network namespace.
pub struct Netlink {
    sock: Socket,
    seq: u32,
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

    /// Send `msg` with `flags`; every reply until the ack (or the end of a
    /// dump) is returned. A kernel error becomes the `io::Error` it means.
    fn request(
        &mut self,
        msg: RouteNetlinkMessage,
        flags: u16,
    ) -> io::Result<Vec<RouteNetlinkMessage>> {
        self.seq += 1;
        let mut packet = NetlinkMessage::new(NetlinkHeader::default(), NetlinkPayload::from(msg));
        packet.header.flags = NLM_F_REQUEST | NLM_F_ACK | flags;
        packet.header.sequence_number = self.seq;
        packet.finalize();
        let mut buf = vec![0; packet.buffer_len()];
        packet.serialize(&mut buf);
        self.sock.send(&buf, 0)?;
        let mut out = Vec::new();
        loop {
            let (data, _) = self.sock.recv_from_full()?;
            let mut off = 0;
            while off < data.len() {
                let reply: NetlinkMessage<RouteNetlinkMessage> =
                    NetlinkMessage::deserialize(&data[off..]).map_err(io::Error::other)?;
                let len = reply.header.length as usize;
                if reply.header.sequence_number == self.seq {
                    match reply.payload {
                        NetlinkPayload::Error(e) => {
                            return match e.code {
                                None => Ok(out),
                                Some(c) => Err(io::Error::from_raw_os_error(-c.get())),
                            }
                        }
                        NetlinkPayload::Done(_) => return Ok(out),
                        NetlinkPayload::InnerMessage(m) => out.push(m),
                        _ => {}
                    }
                }
                if len == 0 {
                    break;
                }
                off += len;
            }
        }
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
        let r = self.request(
            RouteNetlinkMessage::GetLink(LinkMessage::default()),
            NLM_F_DUMP,
        )?;
        Ok(r.into_iter()
            .filter_map(|m| match m {
                RouteNetlinkMessage::NewLink(l) => l.attributes.into_iter().find_map(|a| match a {
                    LinkAttribute::IfName(n) => Some(n),
                    _ => None,
                }),
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
    pub fn add_veth(
        &mut self,
        host: &str,
        master: u32,
        peer: VethEnd<'_>,
        netns: BorrowedFd<'_>,
    ) -> io::Result<()> {
        let mut p = LinkMessage::default();
        p.attributes.push(LinkAttribute::IfName(peer.name.into()));
        p.attributes.push(LinkAttribute::NetNsFd(netns.as_raw_fd()));
        if let Some(mac) = peer.mac {
            p.attributes.push(LinkAttribute::Address(mac.to_vec()));
        }
        let mut m = LinkMessage::default();
        m.header.flags = LinkFlags::Up;
        m.header.change_mask = LinkFlags::Up;
        m.attributes.push(LinkAttribute::IfName(host.into()));
        m.attributes.push(LinkAttribute::Controller(master));
        m.attributes.push(LinkAttribute::LinkInfo(vec![
            LinkInfo::Kind(InfoKind::Veth),
            LinkInfo::Data(InfoData::Veth(InfoVeth::Peer(p))),
        ]));
        self.new_link(m)
    }

    /// Bring link `index` up.
    pub fn set_up(&mut self, index: u32) -> io::Result<()> {
        let mut m = LinkMessage::default();
        m.header.index = index;
        m.header.flags = LinkFlags::Up;
        m.header.change_mask = LinkFlags::Up;
        self.request(RouteNetlinkMessage::SetLink(m), NLM_F_ACK)
            .map(drop)
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
        let mut m = AddressMessage::default();
        m.header.family = AddressFamily::Inet;
        m.header.prefix_len = prefix;
        m.header.index = index;
        let host_bits = u32::MAX.checked_shr(u32::from(prefix)).unwrap_or(0);
        let brd = Ipv4Addr::from(u32::from(ip) | host_bits);
        m.attributes.push(AddressAttribute::Local(ip.into()));
        m.attributes.push(AddressAttribute::Address(ip.into()));
        m.attributes.push(AddressAttribute::Broadcast(brd));
        self.request(
            RouteNetlinkMessage::NewAddress(m),
            NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
        )
        .map(drop)
    }

    /// Add the default route via `gateway`.
    pub fn add_default_route(&mut self, gateway: Ipv4Addr) -> io::Result<()> {
        let mut m = RouteMessage::default();
        m.header.address_family = AddressFamily::Inet;
        m.header.table = RouteHeader::RT_TABLE_MAIN;
        m.header.protocol = RouteProtocol::Boot;
        m.header.scope = RouteScope::Universe;
        m.header.kind = RouteType::Unicast;
        m.attributes
            .push(RouteAttribute::Gateway(RouteAddress::Inet(gateway)));
        self.request(
            RouteNetlinkMessage::NewRoute(m),
            NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
        )
        .map(drop)
    }
}
