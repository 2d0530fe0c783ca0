//! Addresses: IPv4 subnets, the subnet a new bridge takes (one the host
//! does not route already), the names and MACs derived from an address,
//! and the lowest free address of a network. Pure, but for reading the
//! host's routes.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

/// An IPv4 subnet: `10.88.0.0/16`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Subnet {
    pub base: Ipv4Addr,
    pub prefix: u8,
}

impl Subnet {
    fn mask(self) -> u32 {
        u32::MAX
            .checked_shl(32 - u32::from(self.prefix))
            .unwrap_or(0)
    }

    pub fn contains(self, ip: Ipv4Addr) -> bool {
        u32::from(ip) & self.mask() == u32::from(self.base)
    }

    pub fn overlaps(self, other: Subnet) -> bool {
        let m = self.mask() & other.mask();
        u32::from(self.base) & m == u32::from(other.base) & m
    }

    /// The `n`th address of the subnet (0 is the subnet's own).
    pub fn nth(self, n: u32) -> Option<Ipv4Addr> {
        let size = 1u64 << (32 - u32::from(self.prefix));
        (u64::from(n) < size).then(|| Ipv4Addr::from(u32::from(self.base) + n))
    }

    /// The bridge's own address: the first after the subnet's.
    pub fn gateway(self) -> Ipv4Addr {
        self.nth(1).unwrap_or(self.base)
    }

    /// The addresses a container may get: after the gateway, before the
    /// broadcast address.
    pub fn hosts(self) -> impl Iterator<Item = Ipv4Addr> {
        let size = 1u32.checked_shl(32 - u32::from(self.prefix)).unwrap_or(0);
        (2..size.saturating_sub(1)).filter_map(move |n| self.nth(n))
    }
}

impl fmt::Display for Subnet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.base, self.prefix)
    }
}

/// Why a subnet does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid subnet {0:?}: give an IPv4 network as A.B.C.D/N with N from 8 to 30 and no host bits set")]
pub struct BadSubnet(pub String);

impl FromStr for Subnet {
    type Err = BadSubnet;
    fn from_str(s: &str) -> Result<Subnet, BadSubnet> {
        let bad = || BadSubnet(s.to_string());
        let (ip, len) = s.split_once('/').ok_or_else(bad)?;
        let base: Ipv4Addr = ip.parse().map_err(|_| bad())?;
        let prefix: u8 = len.parse().map_err(|_| bad())?;
        if !(8..=30).contains(&prefix) {
            return Err(bad());
        }
        let net = Subnet { base, prefix };
        if u32::from(base) & !net.mask() != 0 {
            return Err(bad());
        }
        Ok(net)
    }
}

impl Serialize for Subnet {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Subnet {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Subnet, D::Error> {
        let s = String::deserialize(d)?;
        // a record's "none chosen yet" (the default network before its
        // bridge is made), never a subnet a user gives
        if s == UNSET {
            return Ok(Subnet {
                base: Ipv4Addr::UNSPECIFIED,
                prefix: 0,
            });
        }
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// How a record writes a subnet not chosen yet.
const UNSET: &str = "0.0.0.0/0";

/// The subnets a new bridge tries, in turn, when none is configured: the
/// first the host routes nothing into is taken.
pub fn candidates() -> impl Iterator<Item = Subnet> {
    (88..=99u8)
        .map(|b| Subnet {
            base: Ipv4Addr::new(10, b, 0, 0),
            prefix: 16,
        })
        .chain((16..=31u8).map(|b| Subnet {
            base: Ipv4Addr::new(172, b, 0, 0),
            prefix: 16,
        }))
}

/// The subnets the host routes (its main table, as `/proc/net/route` has
/// it), but the default route.
pub fn host_routes() -> std::io::Result<Vec<Subnet>> {
    let text = std::fs::read_to_string("/proc/net/route")?;
    Ok(parse_routes(&text))
}

fn parse_routes(text: &str) -> Vec<Subnet> {
    let hex = |s: &str| u32::from_str_radix(s, 16).ok().map(u32::from_be);
    text.lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let (dest, mask) = (hex(f.get(1)?)?, hex(f.get(7)?)?);
            let prefix = mask.count_ones() as u8;
            (prefix > 0).then_some(Subnet {
                base: Ipv4Addr::from(dest & mask),
                prefix,
            })
        })
        .collect()
}

/// The first of `wanted` (or, when none is given, of [`candidates`]) that
/// overlaps none of `routes`.
pub fn choose(wanted: Option<Subnet>, routes: &[Subnet]) -> Option<Subnet> {
    let free = |s: &Subnet| !routes.iter().any(|r| r.overlaps(*s));
    match wanted {
        Some(w) => Some(w).filter(free),
        None => candidates().find(free),
    }
}

/// The host's end of the veth of the container at `ip`: named after the
/// address, so two stores sharing a bridge can never hand out one address
/// twice (the kernel refuses a second link of that name).
pub fn veth_name(ip: Ipv4Addr) -> String {
    format!("veth{:08x}", u32::from(ip))
}

/// The container's MAC address, derived from its address as docker
/// derives it (`02:42` and the four bytes of the IPv4 address).
pub fn mac_of(ip: Ipv4Addr) -> [u8; 6] {
    let o = ip.octets();
    [0x02, 0x42, o[0], o[1], o[2], o[3]]
}

pub fn mac_string(mac: [u8; 6]) -> String {
    mac.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// The lowest address of `subnet` that `taken` does not hold.
pub fn lowest_free(subnet: Subnet, taken: impl Fn(Ipv4Addr) -> bool) -> Option<Ipv4Addr> {
    subnet.hosts().find(|ip| !taken(*ip))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unset_subnet_reads_back_but_never_parses() {
        let unset = Subnet {
            base: Ipv4Addr::UNSPECIFIED,
            prefix: 0,
        };
        let json = serde_json::to_string(&unset).unwrap();
        assert_eq!(serde_json::from_str::<Subnet>(&json).unwrap(), unset);
        assert!(UNSET.parse::<Subnet>().is_err());
    }

    fn net(s: &str) -> Subnet {
        s.parse().unwrap()
    }

    #[test]
    fn subnets_parse_strictly() {
        assert_eq!(net("10.88.0.0/16").to_string(), "10.88.0.0/16");
        for bad in [
            "10.88.0.1/16",
            "10.88.0.0",
            "10.88.0.0/31",
            "x/16",
            "10.0.0.0/7",
        ] {
            assert!(bad.parse::<Subnet>().is_err(), "{bad}");
        }
        let s = net("10.88.0.0/16");
        assert_eq!(s.gateway(), Ipv4Addr::new(10, 88, 0, 1));
        assert!(s.contains(Ipv4Addr::new(10, 88, 255, 1)));
        assert!(!s.contains(Ipv4Addr::new(10, 89, 0, 1)));
        let small = net("192.168.7.0/30");
        assert_eq!(
            small.hosts().collect::<Vec<_>>(),
            [Ipv4Addr::new(192, 168, 7, 2)]
        );
    }

    #[test]
    fn a_routed_subnet_is_never_chosen() {
        let text =
            "Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\tMTU\tWindow\tIRTT\n\
            eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n\
            eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n\
            br\t0000580A\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\n";
        let routes = parse_routes(text);
        assert_eq!(routes, [net("192.0.2.0/24"), net("10.88.0.0/16")]);
        assert_eq!(choose(None, &routes), Some(net("10.89.0.0/16")));
        assert_eq!(choose(Some(net("10.0.0.0/8")), &routes), None);
        assert_eq!(
            choose(Some(net("10.200.0.0/24")), &routes),
            Some(net("10.200.0.0/24"))
        );
    }

    #[test]
    fn names_and_macs_come_from_the_address() {
        let ip = Ipv4Addr::new(10, 88, 0, 2);
        assert_eq!(veth_name(ip), "veth0a580002");
        assert!(veth_name(Ipv4Addr::new(255, 255, 255, 255)).len() <= 15);
        assert_eq!(mac_string(mac_of(ip)), "02:42:0a:58:00:02");
        let s = net("10.88.0.0/16");
        let two = Ipv4Addr::new(10, 88, 0, 2);
        assert_eq!(lowest_free(s, |_| false), Some(two));
        assert_eq!(
            lowest_free(s, |ip| ip == two),
            Some(Ipv4Addr::new(10, 88, 0, 3))
        );
    }
}
