//! The files of a container's /etc that cairn owns: /etc/hostname,
//! /etc/hosts and /etc/resolv.conf, written as docker 20.10 writes them.
//! They are kept in the container's directory and bind-mounted over the
//! image's (never written through them), so commit never sees them.
//!
//! This module only makes their text: from the hostname, the container's
//! own address when it has one (the one place a network gives it), and
//! the host's resolv.conf.

use std::net::IpAddr;

/// What a container's /etc files say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Files {
    pub hostname: String,
    pub hosts: String,
    pub resolv_conf: String,
}

/// The network a container's files describe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Network<'a> {
    /// A network namespace of its own; `address` is its address on its
    /// network, when it has one (none: only loopback).
    Own { address: Option<IpAddr> },
    /// The host's network: the host's /etc/hosts and resolv.conf, as they
    /// are (given here as text).
    Host {
        hosts: &'a str,
        resolv_conf: &'a str,
    },
}

/// A hostname the kernel and resolvers take (RFC 1123): labels of
/// letters, digits and `-`, not starting or ending with `-`, separated by
/// dots; at most 253 characters (the kernel's limit is 64 for the name
/// itself, so that is the bound here).
pub fn valid_hostname(h: &str) -> bool {
    !h.is_empty()
        && h.len() <= 64
        && h.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// docker's nameservers for a container whose host has none it can use.
pub const DEFAULT_NAMESERVERS: [&str; 2] = ["8.8.8.8", "8.8.4.4"];

/// The files of a container named `hostname` on `net`; `host_resolv` is
/// the host's resolv.conf (for a network of its own, loopback resolvers
/// are dropped from it).
pub fn files(hostname: &str, net: &Network<'_>, host_resolv: &str) -> Files {
    let (hosts, resolv_conf) = match net {
        Network::Own { address } => (hosts(hostname, *address), resolv_conf(host_resolv)),
        Network::Host { hosts, resolv_conf } => (hosts.to_string(), resolv_conf.to_string()),
    };
    Files {
        hostname: format!("{hostname}\n"),
        hosts,
        resolv_conf,
    }
}

/// /etc/hosts as docker writes it: localhost, the IPv6 names, and the
/// container's own address under its hostname when it has one.
pub fn hosts(hostname: &str, address: Option<IpAddr>) -> String {
    let mut s = String::from(
        "127.0.0.1\tlocalhost\n\
         ::1\tlocalhost ip6-localhost ip6-loopback\n\
         fe00::0\tip6-localnet\n\
         ff00::0\tip6-mcastprefix\n\
         ff02::1\tip6-allnodes\n\
         ff02::2\tip6-allrouters\n",
    );
    if let Some(a) = address {
        s.push_str(&format!("{a}\t{hostname}\n"));
    }
    s
}

/// The line after which /etc/hosts names a container's network peers.
pub const PEERS_MARKER: &str = "# the other containers of its network (kept by cairn)";

/// `hosts` with its peers' lines (after [`PEERS_MARKER`]) replaced by
/// `peers`, each an address and its names; none: no marker either.
pub fn with_peers(hosts: &str, peers: &[(IpAddr, Vec<String>)]) -> String {
    let mut out = match hosts.find(PEERS_MARKER) {
        Some(i) => hosts[..i].to_string(),
        None => hosts.to_string(),
    };
    if !peers.is_empty() {
        if !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
        out.push_str(PEERS_MARKER);
        out.push('\n');
        for (ip, names) in peers {
            out.push_str(&format!("{ip}\t{}\n", names.join(" ")));
        }
    }
    out
}

fn is_loopback(ns: &str) -> bool {
    // a scoped IPv6 address (fe80::1%eth0) parses without its zone
    let ns = ns.split('%').next().unwrap_or(ns);
    ns.parse::<IpAddr>().is_ok_and(|a| a.is_loopback())
}

/// The host's resolv.conf for a container with a network of its own, as
/// docker filters it: nameservers on loopback (which would be the
/// container's own) are dropped; with none left, docker's defaults
/// ([`DEFAULT_NAMESERVERS`]) are added. Everything else is kept.
pub fn resolv_conf(host: &str) -> String {
    let mut out = String::new();
    let mut servers = 0;
    for line in host.lines() {
        let mut words = line.split_whitespace();
        if words.next() == Some("nameserver") {
            match words.next() {
                Some(ns) if is_loopback(ns) => continue,
                _ => servers += 1,
            }
        }
        out.push_str(line);
        out.push('\n');
    }
    if servers == 0 {
        for ns in DEFAULT_NAMESERVERS {
            out.push_str(&format!("nameserver {ns}\n"));
        }
    }
    out
}

/// The host's resolv.conf as docker picks it: /etc/resolv.conf, or, when
/// it names only systemd-resolved's stub (127.0.0.53), the real one
/// systemd-resolved keeps. Empty when there is none.
pub fn host_resolv_conf() -> String {
    let etc = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
    let stub_only = etc
        .lines()
        .filter_map(|l| l.strip_prefix("nameserver"))
        .all(|ns| ns.trim() == "127.0.0.53");
    if stub_only && etc.contains("127.0.0.53") {
        if let Ok(real) = std::fs::read_to_string("/run/systemd/resolve/resolv.conf") {
            return real;
        }
    }
    etc
}

impl Files {
    /// Each file's name (as in [`NAMES`]) with its text.
    pub fn entries(&self) -> [(&'static str, &str); 3] {
        [
            (NAMES[0], &self.hostname),
            (NAMES[1], &self.hosts),
            (NAMES[2], &self.resolv_conf),
        ]
    }
}

/// The files' names in the container's directory, and the paths they are
/// mounted on inside the container (`/etc/NAME`).
pub const NAMES: [&str; 3] = ["hostname", "hosts", "resolv.conf"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_is_dockers_with_the_containers_own_line() {
        let none = hosts("abc", None);
        assert!(
            none.starts_with("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n")
        );
        assert_eq!(none.lines().count(), 6);
        let own = hosts("abc", Some("172.18.0.2".parse().unwrap()));
        assert!(own.ends_with("ff02::2\tip6-allrouters\n172.18.0.2\tabc\n"));
    }

    #[test]
    fn loopback_resolvers_are_dropped_and_defaults_fill_in() {
        let host = "# generated\nsearch example.org\nnameserver 127.0.0.53\nnameserver ::1\nnameserver 10.0.0.2\noptions edns0\n";
        assert_eq!(
            resolv_conf(host),
            "# generated\nsearch example.org\nnameserver 10.0.0.2\noptions edns0\n"
        );
        assert_eq!(
            resolv_conf("nameserver 127.0.0.1\nsearch lan\n"),
            "search lan\nnameserver 8.8.8.8\nnameserver 8.8.4.4\n"
        );
        assert_eq!(resolv_conf(""), "nameserver 8.8.8.8\nnameserver 8.8.4.4\n");
        assert!(is_loopback("::1") && !is_loopback("fe80::1%eth0"));
        assert!(valid_hostname("web-1.example") && valid_hostname("a"));
        for bad in ["", "-a", "a..b", "a_b", "a b", &"x".repeat(65)] {
            assert!(!valid_hostname(bad), "{bad}");
        }
    }

    #[test]
    fn peers_follow_the_marker_and_are_replaced_whole() {
        let own = hosts("abc", Some("172.18.0.2".parse().unwrap()));
        assert_eq!(with_peers(&own, &[]), own);
        let a = with_peers(&own, &[("172.18.0.3".parse().unwrap(), vec!["web".into()])]);
        assert!(a.starts_with(&own));
        assert!(a.ends_with(&format!("{PEERS_MARKER}\n172.18.0.3\tweb\n")));
        let b = with_peers(
            &a,
            &[("172.18.0.4".parse().unwrap(), vec!["db".into(), "x".into()])],
        );
        assert_eq!(b, format!("{own}{PEERS_MARKER}\n172.18.0.4\tdb x\n"));
        assert_eq!(with_peers(&b, &[]), own);
    }

    #[test]
    fn the_hosts_network_gets_the_hosts_files() {
        let f = files(
            "h",
            &Network::Host {
                hosts: "127.0.0.1 localhost me\n",
                resolv_conf: "nameserver 127.0.0.1\n",
            },
            "ignored",
        );
        assert_eq!(f.hostname, "h\n");
        assert_eq!(f.hosts, "127.0.0.1 localhost me\n");
        assert_eq!(f.resolv_conf, "nameserver 127.0.0.1\n");
        assert_eq!(f.entries()[1], ("hosts", f.hosts.as_str()));
    }
}
