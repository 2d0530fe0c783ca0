//! `--cap-add` and `--cap-drop`, as docker reads them: a name with or
//! without `CAP_`, any case, or `ALL`; the default set plus what is added
//! minus what is dropped (`--cap-add ALL`: every capability but those
//! dropped; `--cap-drop ALL`: none but those added).

use crate::isolate::caps;
use crate::isolate::spec::Spec;
use oci_spec::runtime::{Capabilities, Capability};
use std::str::FromStr;

/// A capability name that is not one, or `ALL`.
#[derive(Debug, thiserror::Error)]
#[error("unknown capability {0:?}: use a name such as NET_ADMIN (see capabilities(7)) or ALL")]
pub struct UnknownCapability(pub String);

/// `name` as it is stored: `CAP_NAME`, or `ALL`.
pub fn parse(name: &str) -> Result<String, UnknownCapability> {
    let upper = name.to_ascii_uppercase();
    if upper == "ALL" {
        return Ok(upper);
    }
    let bare = upper.strip_prefix("CAP_").unwrap_or(&upper);
    match capability(bare) {
        Some(c) if caps::to_spec(&caps::all()).contains(&c) => Ok(format!("CAP_{bare}")),
        _ => Err(UnknownCapability(name.to_string())),
    }
}

/// The capability named `name` (`CAP_` or not).
fn capability(name: &str) -> Option<Capability> {
    Capability::from_str(name.strip_prefix("CAP_").unwrap_or(name)).ok()
}

/// The set docker gives for `add` and `drop` (names [`parse`] made).
fn set(add: &[String], drop: &[String]) -> Capabilities {
    let all = |v: &[String]| v.iter().any(|n| n == "ALL");
    let named = |v: &[String]| -> Capabilities { v.iter().filter_map(|n| capability(n)).collect() };
    let mut set = if all(add) {
        caps::to_spec(&caps::all())
    } else if all(drop) {
        Capabilities::new()
    } else {
        caps::to_spec(&caps::DEFAULT_CAPS)
    };
    if !all(add) {
        set.extend(named(add));
    }
    for c in named(drop) {
        set.remove(&c);
    }
    set
}

/// Give `spec`'s process the set `add` and `drop` make, in the sets its
/// default ones are in (bounding always; effective and permitted for
/// root).
pub fn apply(spec: &mut Spec, add: &[String], drop: &[String]) {
    if add.is_empty() && drop.is_empty() {
        return;
    }
    let Some(mut p) = spec.process().clone() else {
        return;
    };
    let set = set(add, drop);
    let root = p.user().uid() == 0;
    let mut c = p.capabilities().clone().unwrap_or_default();
    c.set_bounding(Some(set.clone()));
    if root {
        c.set_effective(Some(set.clone())).set_permitted(Some(set));
    }
    p.set_capabilities(Some(c));
    spec.set_process(Some(p));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_as_docker_takes_them() {
        assert_eq!(parse("net_admin").unwrap(), "CAP_NET_ADMIN");
        assert_eq!(parse("CAP_SYS_TIME").unwrap(), "CAP_SYS_TIME");
        assert_eq!(parse("all").unwrap(), "ALL");
        assert!(parse("NOT_A_CAP").is_err());
    }

    #[test]
    fn sets_as_docker_makes_them() {
        let s = |a: &[&str], d: &[&str]| {
            let v = |x: &[&str]| x.iter().map(|n| parse(n).unwrap()).collect::<Vec<_>>();
            set(&v(a), &v(d))
        };
        let default = caps::to_spec(&caps::DEFAULT_CAPS);
        let with = s(&["NET_ADMIN"], &["CHOWN"]);
        assert!(with.contains(&Capability::NetAdmin) && !with.contains(&Capability::Chown));
        assert_eq!(with.len(), default.len());
        assert_eq!(s(&[], &["ALL"]), Capabilities::new());
        assert_eq!(s(&["CHOWN"], &["ALL"]).len(), 1);
        let all = s(&["ALL"], &["SYS_ADMIN"]);
        assert_eq!(all.len(), caps::all().len() - 1);
    }
}
