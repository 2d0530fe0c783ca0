//! Published ports: `-p [[IP:][HOSTPORT]:]CONTAINERPORT[/tcp|udp]` as
//! docker spells it, the nftables elements that publish one, and the free
//! host port a port given without one (`-p 80`, `-P`) is published on.

use super::nft::{self, NftError};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

/// One published port: the host's `host_port` (on every local address,
/// or on `host_ip` only) forwarded to the container's `container_port`.
/// A `host_port` of 0 asks for a free one when it is published.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Port {
    /// The one local address it is published on; none: every one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_ip: Option<Ipv4Addr>,
    pub host_port: u16,
    pub container_port: u16,
    /// `tcp` or `udp`.
    pub proto: Proto,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Proto {
    Tcp,
    Udp,
}

impl fmt::Display for Proto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
        })
    }
}

/// Why a `-p` value does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadPort {
    #[error(
        "invalid port {0:?}: give [[IP:][HOSTPORT]:]CONTAINERPORT[/tcp|udp], ports from 1 to 65535, an IPv4 address"
    )]
    Syntax(String),
}

impl FromStr for Port {
    type Err = BadPort;
    fn from_str(s: &str) -> Result<Port, BadPort> {
        let bad = || BadPort::Syntax(s.to_string());
        let (spec, proto) = match s.rsplit_once('/') {
            Some((p, "tcp")) => (p, Proto::Tcp),
            Some((p, "udp")) => (p, Proto::Udp),
            Some(_) => return Err(bad()),
            None => (s, Proto::Tcp),
        };
        let parts: Vec<&str> = spec.split(':').collect();
        let (ip, host, ctr) = match parts[..] {
            [c] => (None, "", c),
            [h, c] => (None, h, c),
            [ip, h, c] => (Some(ip), h, c),
            _ => return Err(bad()),
        };
        let host_ip = match ip.filter(|ip| !ip.is_empty()) {
            Some(ip) => Some(ip.parse::<Ipv4Addr>().map_err(|_| bad())?),
            None => None,
        };
        let num = |p: &str| p.parse::<u16>().ok().filter(|n| *n > 0).ok_or_else(bad);
        Ok(Port {
            host_ip: host_ip.filter(|a| !a.is_unspecified()),
            host_port: if host.is_empty() { 0 } else { num(host)? },
            container_port: num(ctr)?,
            proto,
        })
    }
}

impl Port {
    /// The key of its element: `tcp . 8080` in the map `ports`, or
    /// `127.0.0.1 . tcp . 8080` in the map `addr_ports`.
    pub fn key(&self) -> String {
        match self.host_ip {
            None => format!("{} . {}", self.proto, self.host_port),
            Some(a) => format!("{a} . {} . {}", self.proto, self.host_port),
        }
    }

    /// Its element, to the container at `ip`: `tcp . 8080 : 10.88.0.2 . 80`.
    pub fn element(&self, ip: Ipv4Addr) -> String {
        format!("{} : {ip} . {}", self.key(), self.container_port)
    }

    /// The nftables map it is an element of.
    pub fn map(&self) -> &'static str {
        match self.host_ip {
            None => "ports",
            Some(_) => "addr_ports",
        }
    }

    /// docker's name of the container's side: `80/tcp`.
    pub fn container_side(&self) -> String {
        format!("{}/{}", self.container_port, self.proto)
    }

    /// The host's side as docker shows it: `0.0.0.0:8080`.
    pub fn host_side(&self) -> String {
        format!("{}:{}", self.host_ip_string(), self.host_port)
    }

    /// The host address, `0.0.0.0` for every one.
    pub fn host_ip_string(&self) -> String {
        self.host_ip.unwrap_or(Ipv4Addr::UNSPECIFIED).to_string()
    }
}

/// Publish `ports` to the container at `ip`: the ones with a host port
/// in one transaction (which fails, changing nothing, if one of them is
/// published already), then each without one on the lowest free port of
/// the host's ephemeral range. Returns them with their host ports.
pub fn publish(ports: &[Port], ip: Ipv4Addr) -> Result<Vec<Port>, NftError> {
    let (fixed, free): (Vec<Port>, Vec<Port>) = ports.iter().partition(|p| p.host_port != 0);
    if !fixed.is_empty() {
        nft::apply(&nft::publish(&fixed, ip))?;
    }
    let mut done = fixed;
    let (lo, hi) = ephemeral_range();
    for mut p in free {
        let mut last = NftError::Failed("no free port in the host's ephemeral range".into());
        let wanted = p;
        let mut candidates = (lo..=hi).filter(|n| unbound(&wanted, *n));
        let found = loop {
            let Some(n) = candidates.next() else {
                break false;
            };
            p.host_port = n;
            match nft::apply(&nft::publish(&[p], ip)) {
                Ok(()) => break true,
                Err(e) => last = e,
            }
        };
        if !found {
            if !done.is_empty() {
                let _ = nft::apply(&nft::withdraw(&done));
            }
            return Err(last);
        }
        done.push(p);
    }
    Ok(done)
}

/// The host's ephemeral ports, where docker takes a free host port.
fn ephemeral_range() -> (u16, u16) {
    let text =
        std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range").unwrap_or_default();
    let mut w = text.split_whitespace().filter_map(|w| w.parse().ok());
    match (w.next(), w.next()) {
        (Some(lo), Some(hi)) if lo <= hi => (lo, hi),
        _ => (32768, 60999),
    }
}

/// No process of the host has port `n` bound (a published port would
/// hide it from the host's own clients).
fn unbound(p: &Port, n: u16) -> bool {
    let addr = (p.host_ip.unwrap_or(Ipv4Addr::UNSPECIFIED), n);
    match p.proto {
        Proto::Tcp => std::net::TcpListener::bind(addr).is_ok(),
        Proto::Udp => std::net::UdpSocket::bind(addr).is_ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_parse_as_docker_spells_them() {
        let p: Port = "8080:80".parse().unwrap();
        assert_eq!(
            (p.host_port, p.container_port, p.proto),
            (8080, 80, Proto::Tcp)
        );
        let p: Port = "0.0.0.0:53:5353/udp".parse().unwrap();
        assert_eq!(
            (p.host_port, p.container_port, p.proto),
            (53, 5353, Proto::Udp)
        );
        assert_eq!(
            p.element(Ipv4Addr::new(10, 88, 0, 2)),
            "udp . 53 : 10.88.0.2 . 5353"
        );
        assert_eq!(p.container_side(), "5353/udp");
        for bad in [
            "0:80",
            "8080:80/sctp",
            "a:80",
            "1:2:3:4",
            "65536:80",
            "x:1:2",
        ] {
            assert!(
                matches!(bad.parse::<Port>(), Err(BadPort::Syntax(_))),
                "{bad}"
            );
        }
        let p: Port = "127.0.0.1:8080:80".parse().unwrap();
        assert_eq!(p.host_ip, Some(Ipv4Addr::LOCALHOST));
        assert_eq!(p.map(), "addr_ports");
        assert_eq!(
            p.element(Ipv4Addr::new(10, 88, 0, 2)),
            "127.0.0.1 . tcp . 8080 : 10.88.0.2 . 80"
        );
        assert_eq!(p.host_side(), "127.0.0.1:8080");
        let p: Port = "80".parse().unwrap();
        assert_eq!((p.host_ip, p.host_port, p.container_port), (None, 0, 80));
        let p: Port = "127.0.0.1::53/udp".parse().unwrap();
        assert_eq!((p.host_port, p.proto), (0, Proto::Udp));
    }
}
