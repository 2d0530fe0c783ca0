//! cairn's nftables rules: one table of its own, `ip cairn`, never any
//! other. Outbound NAT is one rule over two sets, the bridges' subnets and
//! the bridges' names: what leaves a cairn subnet through anything but a
//! cairn bridge is masqueraded (docker's `-s SUBNET ! -o docker0 -j
//! MASQUERADE`). Published ports are elements of one map, protocol and
//! host port to the container's address and port, looked up for every
//! packet to a local address, arriving (prerouting) or made here (output);
//! what comes from 127.0.0.1 to a bridge is masqueraded, and the bridge
//! routes it (`route_localnet`), so a published port answers on the
//! host's loopback as with docker's `--userland-proxy=false`; a port
//! published on one address only is an element of a second map keyed by
//! the destination address too. A filter chain on the forward hook keeps
//! networks apart ([`ISOLATE`]). A network adds its elements; the script is idempotent
//! (declarations add, the chain is flushed and refilled), so applying it
//! again repairs a table someone flushed, and two stores sharing the host
//! share the table.
//!
//! Applied as docker applies iptables rules: by running the tool, `nft -f
//! -`, one atomic transaction per change. Running it costs most of what a
//! bridged start adds (about 25 ms), so the network's script is applied
//! again only when the ruleset may have changed since cairn last applied it
//! ([`assert_script`]): the kernel numbers every change to the ruleset (its
//! generation), and an unchanged number means the table is as cairn left it.

use super::ipam::Subnet;
use super::port::Port;
use std::io::{self, Write};
use std::net::Ipv4Addr;
use std::path::Path;
use std::process::{Command, Stdio};

/// The table's name, in the `ip` family.
pub const TABLE: &str = "cairn";

/// The script that makes the table and adds the bridge `bridge` with
/// `subnet` to its sets.
pub fn script(bridge: &str, subnet: Subnet) -> String {
    let dnat = "fib daddr type local dnat ip addr . port to";
    let by_addr = format!("{dnat} ip daddr . meta l4proto . th dport map @addr_ports");
    let any = format!("{dnat} meta l4proto . th dport map @ports");
    format!(
        "table ip {TABLE} {{\n\
         \tset subnets {{ type ipv4_addr; flags interval; }}\n\
         \tset bridges {{ type ifname; }}\n\
         \tset same {{ type ifname . ifname; }}\n\
         \tmap ports {{ type inet_proto . inet_service : ipv4_addr . inet_service; }}\n\
         \tmap addr_ports {{ type ipv4_addr . inet_proto . inet_service : ipv4_addr . inet_service; }}\n\
         \tchain postrouting {{ type nat hook postrouting priority srcnat; policy accept; }}\n\
         \tchain prerouting {{ type nat hook prerouting priority dstnat; policy accept; }}\n\
         \tchain output {{ type nat hook output priority -100; policy accept; }}\n\
         \tchain forward {{ type filter hook forward priority filter; policy accept; }}\n\
         }}\n\
         flush chain ip {TABLE} postrouting\n\
         flush chain ip {TABLE} prerouting\n\
         flush chain ip {TABLE} output\n\
         flush chain ip {TABLE} forward\n\
         add rule ip {TABLE} postrouting ip saddr @subnets oifname != @bridges masquerade\n\
         add rule ip {TABLE} postrouting ip saddr 127.0.0.0/8 oifname @bridges masquerade\n\
         add rule ip {TABLE} prerouting {by_addr}\n\
         add rule ip {TABLE} prerouting {any}\n\
         add rule ip {TABLE} output {by_addr}\n\
         add rule ip {TABLE} output {any}\n\
         add rule ip {TABLE} forward {ISOLATE}\n\
         add element ip {TABLE} subnets {{ {subnet} }}\n\
         add element ip {TABLE} bridges {{ \"{bridge}\" }}\n\
         add element ip {TABLE} same {{ \"{bridge}\" . \"{bridge}\" }}\n"
    )
}

/// What keeps networks apart: a packet forwarded from one cairn bridge to
/// another is dropped, unless a published port sent it there (DNAT), as
/// docker lets any container reach the host's published ports.
const ISOLATE: &str =
    "iifname @bridges oifname @bridges iifname . oifname != @same ct status ! dnat drop";

/// The scripts that take the bridge `bridge` with `subnet` out of the
/// table, one element each (a missing one fails only its own).
pub fn forget(bridge: &str, subnet: Subnet) -> [String; 3] {
    [
        format!("delete element ip {TABLE} subnets {{ {subnet} }}\n"),
        format!("delete element ip {TABLE} bridges {{ \"{bridge}\" }}\n"),
        format!("delete element ip {TABLE} same {{ \"{bridge}\" . \"{bridge}\" }}\n"),
    ]
}

/// The script that publishes `ports` to the container at `ip`; it fails
/// (and changes nothing) if one of them is published already.
pub fn publish(ports: &[Port], ip: Ipv4Addr) -> String {
    by_map(ports, "create", |p| p.element(ip))
}

/// The script that withdraws `ports`.
pub fn withdraw(ports: &[Port]) -> String {
    by_map(ports, "delete", Port::key)
}

/// `VERB element` statements, one per map, of `ports` as `f` spells them.
fn by_map(ports: &[Port], verb: &str, f: impl Fn(&Port) -> String) -> String {
    let mut out = String::new();
    for map in ["ports", "addr_ports"] {
        let e: Vec<String> = ports.iter().filter(|p| p.map() == map).map(&f).collect();
        if !e.is_empty() {
            out.push_str(&format!(
                "{verb} element ip {TABLE} {map} {{ {} }}\n",
                e.join(", ")
            ));
        }
    }
    out
}

/// Why the rules could not be applied.
#[derive(Debug, thiserror::Error)]
pub enum NftError {
    #[error("running nft (is nftables installed?)")]
    Spawn(#[source] std::io::Error),
    #[error("nft refused cairn's rules: {0}")]
    Failed(String),
}

/// Apply `script` in one transaction.
pub fn apply(script: &str) -> Result<(), NftError> {
    let mut child = Command::new("nft")
        .args(["-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(NftError::Spawn)?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(script.as_bytes())
            .map_err(NftError::Spawn)?;
    }
    let out = child.wait_with_output().map_err(NftError::Spawn)?;
    if out.status.success() {
        Ok(())
    } else {
        let err = String::from_utf8_lossy(&out.stderr);
        Err(NftError::Failed(
            err.lines().next().unwrap_or("").trim().to_string(),
        ))
    }
}

/// The ruleset's generation: a number the kernel changes with every
/// committed change to any table (`NFT_MSG_GETGEN` on a netfilter netlink
/// socket).
pub fn generation() -> io::Result<u32> {
    use netlink_sys::{protocols::NETLINK_NETFILTER, Socket, SocketAddr};
    // nftables' subsystem and its GETGEN request; the answer is NEWGEN
    const NFNL_SUBSYS_NFTABLES: u16 = 10;
    const NFT_MSG_GETGEN: u16 = 16;
    const NFT_MSG_NEWGEN: u16 = 15;
    const NFTA_GEN_ID: u16 = 1;
    let mut sock = Socket::new(NETLINK_NETFILTER)?;
    sock.bind_auto()?;
    sock.connect(&SocketAddr::new(0, 0))?;
    // nlmsghdr (length, type, flags: a request, sequence, port) then
    // nfgenmsg (family unspecified, version 0, resource 0)
    let mut req = Vec::with_capacity(20);
    req.extend(20u32.to_ne_bytes());
    req.extend(((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETGEN).to_ne_bytes());
    req.extend(1u16.to_ne_bytes());
    req.extend(1u32.to_ne_bytes());
    req.extend(0u32.to_ne_bytes());
    req.extend([0u8; 4]);
    sock.send(&req, 0)?;
    let (data, _) = sock.recv_from_full()?;
    let bad = || io::Error::new(io::ErrorKind::InvalidData, "nftables' generation reply");
    let u16_at = |o: usize| data.get(o..o + 2).map(|b| u16::from_ne_bytes([b[0], b[1]]));
    let len = data.get(..4).ok_or_else(bad)?;
    let len = (u32::from_ne_bytes([len[0], len[1], len[2], len[3]]) as usize).min(data.len());
    if u16_at(4) != Some((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWGEN) {
        return Err(bad());
    }
    // attributes after the 16-byte header and the 4-byte nfgenmsg, each
    // 4-byte aligned
    let mut off = 20;
    while off + 4 <= len {
        let (alen, kind) = (
            u16_at(off).ok_or_else(bad)? as usize,
            u16_at(off + 2).ok_or_else(bad)?,
        );
        if alen < 4 {
            break;
        }
        if kind & 0x3fff == NFTA_GEN_ID && alen >= 8 {
            let v = data.get(off + 4..off + 8).ok_or_else(bad)?;
            return Ok(u32::from_be_bytes([v[0], v[1], v[2], v[3]]));
        }
        off += (alen + 3) & !3;
    }
    Err(bad())
}

/// Apply `script` unless the ruleset is still the one it left the last
/// time: `stamp` records this boot, the generation right after that
/// transaction, and the script. It is recorded only when that transaction
/// was the only change (the generation moved by exactly one), so a stamp
/// never vouches for a ruleset someone else changed meanwhile. Without
/// the generation (an old kernel), the script is applied every time.
pub fn assert_script(stamp: &Path, script: &str) -> Result<(), NftError> {
    let boot = crate::liveness::boot_id().unwrap_or_default();
    let stamp_of = |gen: u32| format!("{boot} {gen}\n{script}");
    let before = generation().ok();
    if let Some(g) = before {
        if std::fs::read_to_string(stamp).ok() == Some(stamp_of(g)) {
            return Ok(());
        }
    }
    apply(script)?;
    match (before, generation().ok()) {
        (Some(b), Some(a)) if a == b.wrapping_add(1) => {
            // a stamp lost is only a transaction more next time
            let _ = crate::store::replace_file(stamp, stamp_of(a).as_bytes(), false);
        }
        _ => {
            let _ = std::fs::remove_file(stamp);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The stamp skips a transaction only while the ruleset is unchanged:
    /// a table deleted behind cairn's back is made again by the next call.
    #[test]
    fn a_stamp_skips_nft_only_while_the_ruleset_is_unchanged() {
        let d = crate::testutil::TempDir::new("nft-stamp");
        let stamp = d.path().join("probe.ruleset");
        let probe = format!("cairn-stamp-probe-{}", std::process::id());
        let script = format!("table ip {probe} {{\n}}\n");
        let exists = || {
            Command::new("nft")
                .args(["list", "table", "ip", &probe])
                .output()
                .unwrap()
                .status
                .success()
        };
        assert_script(&stamp, &script).unwrap();
        assert!(exists());
        let before = generation().unwrap();
        if std::fs::read_to_string(&stamp).is_ok_and(|s| s.contains(&format!(" {before}\n"))) {
            // nothing changed since: no transaction
            assert_script(&stamp, &script).unwrap();
            assert_eq!(generation().unwrap(), before, "skipped");
        }
        apply(&format!("delete table ip {probe}\n")).unwrap();
        assert!(!exists());
        assert!(
            generation().unwrap() > before,
            "a change moves the generation"
        );
        assert_script(&stamp, &script).unwrap();
        assert!(exists(), "made again");
        apply(&format!("delete table ip {probe}\n")).unwrap();
    }

    #[test]
    fn the_script_touches_only_cairns_table() {
        let s = script("cairn0", "10.88.0.0/16".parse().unwrap());
        for line in s.lines().filter(|l| !l.starts_with(['\t', '}'])) {
            assert!(
                line.contains(" ip cairn ") || line.starts_with("table ip cairn "),
                "{line}"
            );
        }
        assert!(s.contains("subnets { 10.88.0.0/16 }"));
        assert!(s.contains("bridges { \"cairn0\" }"));
        assert!(s.contains("masquerade"));
        assert!(s.contains("same { \"cairn0\" . \"cairn0\" }"));
        let p: Vec<Port> = vec!["8080:80".parse().unwrap(), "53:53/udp".parse().unwrap()];
        let ip = Ipv4Addr::new(10, 88, 0, 2);
        assert_eq!(
            publish(&p, ip),
            "create element ip cairn ports { tcp . 8080 : 10.88.0.2 . 80, udp . 53 : 10.88.0.2 . 53 }\n"
        );
        assert_eq!(
            withdraw(&p),
            "delete element ip cairn ports { tcp . 8080, udp . 53 }\n"
        );
    }
}
