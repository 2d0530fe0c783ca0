//! A few read-only nftables requests over a netfilter netlink socket: the
//! ruleset's generation, and a fingerprint of one table (what `nft list
//! table` would show, as the kernel holds it). Each request is one
//! message; its answers are the attributes of each reply, headers
//! stripped.

use crate::digest::Digest;
use netlink_sys::{protocols::NETLINK_NETFILTER, Socket, SocketAddr};
use std::io;

/// nftables' netfilter subsystem.
const SUBSYS: u16 = 10;
const MSG_GETTABLE: u16 = 1;
const MSG_GETCHAIN: u16 = 4;
const MSG_GETRULE: u16 = 7;
const MSG_GETSET: u16 = 10;
const MSG_GETSETELEM: u16 = 13;
const MSG_GETGEN: u16 = 16;
/// The table's name is attribute 1 of tables, chains, rules, sets and
/// element lists alike; a set's name (and an element list's set) is 2.
const ATTR_TABLE: u16 = 1;
const ATTR_SET: u16 = 2;
const ATTR_SET_FLAGS: u16 = 3;
/// A set's number of elements (since Linux 6.x): a map's moves with ports.
const ATTR_SET_COUNT: u16 = 20;
const ATTR_GEN_ID: u16 = 1;
/// A set whose elements map to data (a map).
const SET_MAP: u32 = 0x8;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const F_REQUEST: u16 = 1;
const F_DUMP_INTR: u16 = 0x10;
const F_DUMP: u16 = 0x300;
const NFPROTO_IPV4: u8 = 2;
const HEADERS: usize = 20; // nlmsghdr and nfgenmsg

fn bad(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("nftables: {what}"))
}

/// One netlink attribute: its type (flags masked off) and payload.
fn attrs(mut data: &[u8]) -> Vec<(u16, &[u8])> {
    let mut out = Vec::new();
    while data.len() >= 4 {
        let len = u16::from_ne_bytes([data[0], data[1]]) as usize;
        let kind = u16::from_ne_bytes([data[2], data[3]]) & 0x3fff;
        if len < 4 || len > data.len() {
            break;
        }
        out.push((kind, &data[4..len]));
        data = &data[((len + 3) & !3).min(data.len())..];
    }
    out
}

fn attr(data: &[u8], kind: u16) -> Option<&[u8]> {
    attrs(data)
        .into_iter()
        .find(|(k, _)| *k == kind)
        .map(|a| a.1)
}

/// A string attribute as the kernel sends it (NUL-terminated).
fn string_attr(name: &str, kind: u16, out: &mut Vec<u8>) {
    let len = 4 + name.len() + 1;
    out.extend((len as u16).to_ne_bytes());
    out.extend(kind.to_ne_bytes());
    out.extend(name.as_bytes());
    out.push(0);
    out.resize((out.len() + 3) & !3, 0);
}

fn is_named(data: &[u8], kind: u16, name: &str) -> bool {
    attr(data, kind).is_some_and(|v| v.strip_suffix(&[0]).unwrap_or(v) == name.as_bytes())
}

/// Send request `msg` (with `flags` and the attributes `body`) for
/// `family`; the attributes of every answer, until the end of a dump, or
/// the one answer to a plain request. A kernel error is its errno; a dump
/// the ruleset changed under is an error too.
fn request(msg: u16, flags: u16, family: u8, body: &[u8]) -> io::Result<Vec<Vec<u8>>> {
    let mut sock = Socket::new(NETLINK_NETFILTER)?;
    sock.bind_auto()?;
    sock.connect(&SocketAddr::new(0, 0))?;
    let mut req = Vec::with_capacity(HEADERS + body.len());
    req.extend(((HEADERS + body.len()) as u32).to_ne_bytes());
    req.extend(((SUBSYS << 8) | msg).to_ne_bytes());
    req.extend((F_REQUEST | flags).to_ne_bytes());
    req.extend(1u32.to_ne_bytes());
    req.extend(0u32.to_ne_bytes());
    req.extend([family, 0, 0, 0]);
    req.extend(body);
    sock.send(&req, 0)?;
    let mut out = Vec::new();
    loop {
        let (data, _) = sock.recv_from_full()?;
        let mut rest = &data[..];
        while rest.len() >= 16 {
            let len = u32::from_ne_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
            let kind = u16::from_ne_bytes([rest[4], rest[5]]);
            let mflags = u16::from_ne_bytes([rest[6], rest[7]]);
            if len < 16 || len > rest.len() {
                return Err(bad("a truncated reply"));
            }
            match kind {
                NLMSG_DONE => return Ok(out),
                NLMSG_ERROR => {
                    let e = rest.get(16..20).ok_or_else(|| bad("a short error"))?;
                    let errno = -i32::from_ne_bytes([e[0], e[1], e[2], e[3]]);
                    return Err(io::Error::from_raw_os_error(errno));
                }
                _ if mflags & F_DUMP_INTR != 0 => return Err(bad("changed during a dump")),
                _ => out.push(rest.get(HEADERS..len).unwrap_or_default().to_vec()),
            }
            rest = &rest[((len + 3) & !3).min(rest.len())..];
        }
        if flags & F_DUMP == 0 && !out.is_empty() {
            return Ok(out);
        }
    }
}

/// The ruleset's generation: a number the kernel changes with every
/// committed change to any table.
pub fn generation() -> io::Result<u32> {
    let reply = request(MSG_GETGEN, 0, 0, &[])?;
    let gen = reply
        .first()
        .and_then(|a| attr(a, ATTR_GEN_ID))
        .and_then(|v| v.get(..4))
        .ok_or_else(|| bad("no generation in the reply"))?;
    Ok(u32::from_be_bytes([gen[0], gen[1], gen[2], gen[3]]))
}

/// A digest of the `ip` table `table` as the kernel holds it: the table,
/// its chains, its rules (each with its handle, so a rule deleted and
/// added again differs), its sets and the elements of each set, but not
/// those of its maps (published ports come and go with containers). Any
/// change to it changes the digest; changes to other tables do not. An
/// error if the table, or a set listed a moment before, is missing.
pub fn fingerprint(table: &str) -> io::Result<Digest> {
    let mut named = Vec::new();
    string_attr(table, ATTR_TABLE, &mut named);
    let mut all = Vec::new();
    let mut add = |msg: u16, parts: Vec<Vec<u8>>| {
        for p in parts {
            all.extend(msg.to_ne_bytes());
            all.extend((p.len() as u32).to_ne_bytes());
            all.extend(p);
        }
    };
    let ours = |parts: Vec<Vec<u8>>| -> Vec<Vec<u8>> {
        parts
            .into_iter()
            .filter(|p| is_named(p, ATTR_TABLE, table))
            .collect()
    };
    let tables = ours(request(MSG_GETTABLE, F_DUMP, NFPROTO_IPV4, &[])?);
    if tables.is_empty() {
        return Err(io::Error::from_raw_os_error(libc::ENOENT));
    }
    add(MSG_GETTABLE, tables);
    add(
        MSG_GETCHAIN,
        ours(request(MSG_GETCHAIN, F_DUMP, NFPROTO_IPV4, &named)?),
    );
    add(
        MSG_GETRULE,
        ours(request(MSG_GETRULE, F_DUMP, NFPROTO_IPV4, &named)?),
    );
    let sets = ours(request(MSG_GETSET, F_DUMP, NFPROTO_IPV4, &named)?);
    for set in &sets {
        let flags = attr(set, ATTR_SET_FLAGS)
            .and_then(|v| v.get(..4))
            .map_or(0, |v| u32::from_be_bytes([v[0], v[1], v[2], v[3]]));
        let name = attr(set, ATTR_SET).ok_or_else(|| bad("a set without a name"))?;
        if flags & SET_MAP == 0 {
            let mut body = named.clone();
            body.extend(&(name.len() as u16 + 4).to_ne_bytes());
            body.extend(ATTR_SET.to_ne_bytes());
            body.extend(name);
            body.resize((body.len() + 3) & !3, 0);
            add(
                MSG_GETSETELEM,
                request(MSG_GETSETELEM, F_DUMP, NFPROTO_IPV4, &body)?,
            );
        }
    }
    // a set as listed, but for its number of elements (its elements are
    // in already, and a map's are none of the table's definition)
    let sets = sets.iter().map(|set| {
        let mut out = Vec::new();
        for (kind, v) in attrs(set).into_iter().filter(|a| a.0 != ATTR_SET_COUNT) {
            out.extend(kind.to_ne_bytes());
            out.extend((v.len() as u32).to_ne_bytes());
            out.extend(v);
        }
        out
    });
    add(MSG_GETSET, sets.collect());
    Ok(Digest::of(&all))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_are_read_back_as_written() {
        let mut a = Vec::new();
        string_attr("cairn", ATTR_TABLE, &mut a);
        string_attr("ab", ATTR_SET, &mut a);
        assert_eq!(a.len(), 12 + 8);
        assert!(is_named(&a, ATTR_TABLE, "cairn"));
        assert!(!is_named(&a, ATTR_TABLE, "cair"));
        assert_eq!(attr(&a, ATTR_SET), Some(&b"ab\0"[..]));
        assert_eq!(attrs(&a[..7]).len(), 0, "a truncated attribute is not read");
    }
}
