//! Go structs in a JSON document. Go prints a struct as `{v1 v2 …}` in
//! its fields' order and a map as `map[k:v …]` sorted by key, and
//! `encoding/json` writes a struct's keys in field order; a JSON object
//! alone cannot say which of the two it was. A document that knows (as
//! `inspect`'s do: docker's types) marks each struct object with one
//! extra key, [`STRUCT`], whose value is its fields' order: the field
//! names, separated by spaces, each with `=TEXT` when Go prints the field
//! as TEXT where the object has null or lacks it (`Health=<nil>`,
//! `Entrypoint=[]`, `Name=`). The key is no field: lookups, `len`,
//! `range`, `index` and JSON output never see it.

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::{Map, Value};

/// The key a struct object's field order is kept under.
pub const STRUCT: &str = "\u{1}go-struct";

/// A struct's fields in order, each with what Go prints for it when it is
/// null or absent (`None`: `<nil>`).
pub fn fields(m: &Map<String, Value>) -> Option<Vec<(&str, Option<&str>)>> {
    let spec = m.get(STRUCT)?.as_str()?;
    Some(
        spec.split(' ')
            .filter(|f| !f.is_empty())
            .map(|f| match f.split_once('=') {
                Some((name, nil)) => (name, Some(nil)),
                None => (f, None),
            })
            .collect(),
    )
}

/// Mark `v`, an object, as a struct with fields `spec` (see the module
/// docs); anything else is left as it is.
pub fn mark(v: &mut Value, spec: &str) {
    if let Some(m) = v.as_object_mut() {
        m.insert(STRUCT.into(), spec.into());
    }
}

/// `m`'s real keys, in the order JSON output writes them: a struct's in
/// field order (then any it has beyond them, sorted), a map's sorted.
pub fn keys(m: &Map<String, Value>) -> Vec<&String> {
    let mut out: Vec<&String> = Vec::with_capacity(m.len());
    if let Some(fields) = fields(m) {
        for (name, _) in fields {
            if let Some((k, _)) = m.get_key_value(name) {
                out.push(k);
            }
        }
    }
    let rest: Vec<&String> = m
        .keys()
        .filter(|k| *k != STRUCT && !out.contains(k))
        .collect();
    out.extend(rest);
    out
}

/// The number of real keys (a struct's marker is none).
pub fn len(m: &Map<String, Value>) -> usize {
    m.len() - usize::from(m.contains_key(STRUCT))
}

/// A struct object as Go's `%v` prints it, each field's value by `each`.
pub fn print(m: &Map<String, Value>, each: impl Fn(&Value) -> String) -> Option<String> {
    let fields = fields(m)?;
    let mut parts = Vec::with_capacity(fields.len());
    for (name, nil) in &fields {
        parts.push(match (m.get(*name), nil) {
            (None | Some(Value::Null), Some(nil)) => nil.to_string(),
            (None, None) => "<nil>".into(),
            (Some(v), _) => each(v),
        });
    }
    let named = |k: &&String| *k != STRUCT && !fields.iter().any(|(n, _)| n == k);
    parts.extend(m.keys().filter(named).map(|k| each(&m[k])));
    Some(format!("{{{}}}", parts.join(" ")))
}

/// `v` serialized with structs' keys in field order and without markers.
pub struct Ordered<'a>(pub &'a Value);

impl Serialize for Ordered<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Value::Object(m) => {
                let keys = keys(m);
                let mut map = s.serialize_map(Some(keys.len()))?;
                for k in keys {
                    map.serialize_entry(k, &Ordered(&m[k]))?;
                }
                map.end()
            }
            Value::Array(a) => {
                let mut seq = s.serialize_seq(Some(a.len()))?;
                for v in a {
                    seq.serialize_element(&Ordered(v))?;
                }
                seq.end()
            }
            v => v.serialize(s),
        }
    }
}

/// `v` as compact JSON, structs' keys in field order.
pub fn to_json(v: &Value) -> String {
    serde_json::to_string(&Ordered(v)).expect("JSON values serialize")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn structs_keep_field_order_maps_sort() {
        let mut v =
            json!({"Name": "on-failure", "MaximumRetryCount": 3, "Labels": {"b": 1, "a": 2}});
        mark(&mut v, "Name MaximumRetryCount Labels Health=<nil>");
        assert_eq!(
            to_json(&v),
            r#"{"Name":"on-failure","MaximumRetryCount":3,"Labels":{"a":2,"b":1}}"#
        );
        let m = v.as_object().unwrap();
        assert_eq!(len(m), 3);
        assert_eq!(
            print(m, |v| v.to_string()).unwrap(),
            r#"{"on-failure" 3 {"a":2,"b":1} <nil>}"#
        );
        assert_eq!(
            print(json!({}).as_object().unwrap(), |v| v.to_string()),
            None
        );
    }
}
