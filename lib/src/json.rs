//! Canonical JSON: the bytes whose digest is an ID.
//!
//! Objects are written with their keys sorted (serde_json's default map is a
//! `BTreeMap`), compact, without a trailing newline. `oci-spec`'s types use
//! `HashMap`s, so nothing whose digest matters is serialised through them.

use serde::Serialize;

/// Serialise `v` canonically.
pub fn canonical<T: Serialize>(v: &T) -> Vec<u8> {
    // Going through `Value` sorts every map, whatever the source type.
    let value = serde_json::to_value(v).expect("serialising to a JSON value cannot fail");
    serde_json::to_vec(&value).expect("serialising a JSON value cannot fail")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_sorted_compact() {
        let v = json!({"b": 1, "a": {"z": [1, 2], "c": null}});
        assert_eq!(canonical(&v), br#"{"a":{"c":null,"z":[1,2]},"b":1}"#);
    }

    #[test]
    fn hashmap_order_does_not_leak() {
        let mut m = std::collections::HashMap::new();
        for i in 0..50 {
            m.insert(format!("k{i}"), i);
        }
        let a = canonical(&m);
        let b = canonical(
            &m.clone()
                .into_iter()
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect::<std::collections::HashMap<_, _>>(),
        );
        assert_eq!(a, b);
    }
}
