//! Published ports: `-p [IP:]HOSTPORT:CONTAINERPORT[/tcp|udp]` as docker
//! spells it, and the nftables elements that publish one.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

/// One published port: the host's `host_port` (on every local address)
/// forwarded to the container's `container_port`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Port {
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
        "invalid port {0:?}: give [IP:]HOSTPORT:CONTAINERPORT[/tcp|udp], ports from 1 to 65535"
    )]
    Syntax(String),
    #[error("port {0:?}: publishing on one host address is not supported yet; leave the address out (or give 0.0.0.0) to publish on every local address")]
    HostAddress(String),
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
            [h, c] => (None, h, c),
            [ip, h, c] => (Some(ip), h, c),
            _ => return Err(bad()),
        };
        if let Some(ip) = ip.filter(|ip| !ip.is_empty()) {
            let addr: Ipv4Addr = ip.parse().map_err(|_| bad())?;
            if !addr.is_unspecified() {
                return Err(BadPort::HostAddress(s.to_string()));
            }
        }
        let num = |p: &str| p.parse::<u16>().ok().filter(|n| *n > 0).ok_or_else(bad);
        Ok(Port {
            host_port: num(host)?,
            container_port: num(ctr)?,
            proto,
        })
    }
}

impl Port {
    /// The key of its element in the `ports` map: `tcp . 8080`.
    pub fn key(&self) -> String {
        format!("{} . {}", self.proto, self.host_port)
    }

    /// Its element, to the container at `ip`: `tcp . 8080 : 10.88.0.2 . 80`.
    pub fn element(&self, ip: Ipv4Addr) -> String {
        format!("{} : {ip} . {}", self.key(), self.container_port)
    }

    /// docker's name of the container's side: `80/tcp`.
    pub fn container_side(&self) -> String {
        format!("{}/{}", self.container_port, self.proto)
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
        for bad in ["80", "0:80", "8080:80/sctp", "a:80", "1:2:3:4", "65536:80"] {
            assert!(
                matches!(bad.parse::<Port>(), Err(BadPort::Syntax(_))),
                "{bad}"
            );
        }
        assert!(matches!(
            "127.0.0.1:8080:80".parse::<Port>(),
            Err(BadPort::HostAddress(_))
        ));
    }
}
