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
//! again only when cairn's table may have changed since cairn last applied
//! it ([`assert_script`]): a fingerprint of the table as the kernel holds it
//! (read over netlink, a fraction of a millisecond) is compared with the one
//! recorded after cairn's own transaction. Other tables' changes (docker's
//! iptables, a firewall) do not force a transaction.

use super::ipam::Subnet;
use super::nfnl::{fingerprint, generation};
use super::port::Port;
use std::io::Write;
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

/// Apply `script`, which makes the `ip` table `table`, unless the table
/// is still as it left it the last time: `stamp` records this boot, the
/// table's fingerprint right after that transaction ([`fingerprint`]), and
/// the script. It is recorded only when that transaction was the only
/// change to the ruleset meanwhile (the kernel's generation moved by
/// exactly one), so a stamp never vouches for a table someone else changed
/// before it was read. Changes to other tables (docker's, a firewall's)
/// leave the fingerprint as it is; any change to this table (deleted, a
/// chain flushed, an element of a set deleted) moves it, and the script is
/// applied again. Without netlink (an old kernel), every time.
pub fn assert_script(stamp: &Path, table: &str, script: &str) -> Result<(), NftError> {
    let boot = crate::liveness::boot_id().unwrap_or_default();
    let stamp_of = |fp: crate::digest::Digest| format!("{boot} {}\n{script}", fp.hex());
    let recorded = std::fs::read_to_string(stamp).ok();
    if recorded.is_some() && recorded == fingerprint(table).ok().map(stamp_of) {
        return Ok(());
    }
    let before = generation().ok();
    apply(script)?;
    let after = fingerprint(table).ok();
    match (before, after, generation().ok()) {
        (Some(b), Some(fp), Some(a)) if a == b.wrapping_add(1) => {
            // a stamp lost is only a transaction more next time
            let _ = crate::store::replace_file(stamp, stamp_of(fp).as_bytes(), false);
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

    /// The stamp skips a transaction only while the table is as the last
    /// one left it: another table's change does not force one; the table
    /// deleted, a chain of it flushed or an element of its set deleted
    /// behind cairn's back is repaired by the next call.
    #[test]
    fn a_stamp_skips_nft_only_while_the_table_is_unchanged() {
        let d = crate::testutil::TempDir::new("nft-stamp");
        let stamp = d.path().join("probe.ruleset");
        let pid = std::process::id();
        let (probe, other) = (format!("cairn_probe_{pid}"), format!("cairn_other_{pid}"));
        // the probe goes however the test ends
        struct Probe<'a>(&'a str);
        impl Drop for Probe<'_> {
            fn drop(&mut self) {
                let _ = apply(&format!("delete table ip {}\n", self.0));
            }
        }
        let _probe = Probe(&probe);
        let script = format!(
            "table ip {probe} {{\n set s {{ type ipv4_addr; }}\n map m {{ type inet_service : ipv4_addr; }}\n chain c {{\n }}\n}}\n\
             flush chain ip {probe} c\n\
             add rule ip {probe} c ip saddr @s accept\n\
             add element ip {probe} s {{ 10.99.0.1 }}\n"
        );
        let listed = || {
            let o = Command::new("nft")
                .args(["-a", "list", "table", "ip", &probe])
                .output();
            String::from_utf8_lossy(&o.unwrap().stdout).into_owned()
        };
        let whole = |l: &str| l.contains("ip saddr @s accept") && l.contains("10.99.0.1");
        // (another test's change may keep a stamp from being written: then
        // only the repairs are checked)
        let stamped = |s: &str| {
            assert_script(&stamp, &probe, s).unwrap();
            stamp.exists()
        };
        let mut rounds = 0;
        while !stamped(&script) && rounds < 10 {
            rounds += 1;
        }
        assert!(whole(&listed()), "{}", listed());
        let skipped = |before: &str| {
            assert_script(&stamp, &probe, &script).unwrap();
            listed() == before
        };
        if stamp.exists() {
            let before = listed();
            assert!(skipped(&before), "nothing changed: no transaction");
            apply(&format!(
                "table ip {other} {{\n}}\ndelete table ip {other}\n"
            ))
            .unwrap();
            // a map's elements come and go with the ports it publishes
            apply(&format!("add element ip {probe} m {{ 80 : 10.99.0.2 }}\n")).unwrap();
            let before = listed();
            assert!(
                skipped(&before),
                "other tables or a map changed: no transaction"
            );
        }
        for damage in [
            format!("flush chain ip {probe} c\n"),
            format!("delete element ip {probe} s {{ 10.99.0.1 }}\n"),
            format!("delete table ip {probe}\n"),
        ] {
            while !stamped(&script) && rounds < 20 {
                rounds += 1;
            }
            apply(&damage).unwrap();
            assert!(!whole(&listed()), "{damage}");
            assert_script(&stamp, &probe, &script).unwrap();
            assert!(whole(&listed()), "repaired after {damage}{}", listed());
        }
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
