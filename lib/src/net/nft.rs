//! cairn's nftables rules: one table of its own, `ip cairn`, never any
//! other. Outbound NAT is one rule over two sets, the bridges' subnets and
//! the bridges' names: what leaves a cairn subnet through anything but a
//! cairn bridge is masqueraded (docker's `-s SUBNET ! -o docker0 -j
//! MASQUERADE`). A network adds its elements; the script is idempotent
//! (declarations add, the chain is flushed and refilled), so applying it
//! again repairs a table someone flushed, and two stores sharing the host
//! share the table.
//!
//! Applied as docker applies iptables rules: by running the tool, `nft -f
//! -`, one atomic transaction per change.

use super::ipam::Subnet;
use std::io::Write;
use std::process::{Command, Stdio};

/// The table's name, in the `ip` family.
pub const TABLE: &str = "cairn";

/// The script that makes the table and adds the bridge `bridge` with
/// `subnet` to its sets.
pub fn script(bridge: &str, subnet: Subnet) -> String {
    format!(
        "table ip {TABLE} {{\n\
         \tset subnets {{ type ipv4_addr; flags interval; }}\n\
         \tset bridges {{ type ifname; }}\n\
         \tchain postrouting {{ type nat hook postrouting priority srcnat; policy accept; }}\n\
         }}\n\
         flush chain ip {TABLE} postrouting\n\
         add rule ip {TABLE} postrouting ip saddr @subnets oifname != @bridges masquerade\n\
         add element ip {TABLE} subnets {{ {subnet} }}\n\
         add element ip {TABLE} bridges {{ \"{bridge}\" }}\n"
    )
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

#[cfg(test)]
mod tests {
    use super::*;

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
    }
}
