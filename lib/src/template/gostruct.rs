//! Go structs in a JSON document. Go prints a struct as `{v1 v2 …}` in
//! its fields' order and a map as `map[k:v …]` sorted by key, and
//! `encoding/json` writes a struct's keys in field order; a JSON object
//! alone cannot say which of the two it was. A document that knows (as
//! `inspect`'s do: docker's types) marks each struct object with one
//! extra key, [`STRUCT`], whose value is its fields in order, separated by
//! spaces. The key is no field: lookups, `len`, `range`, `index` and JSON
//! output never see it. Each token of the value is one of:
//!
//! - `Name`, a field; `Name=TEXT` when Go prints the field as TEXT where
//!   the object has null or lacks it (`Entrypoint=[]`, `Name=`);
//!   `Key/Name` when the JSON key is not the Go field's name (`Id/ID`:
//!   a template reaches it as `.ID`);
//! - `*Name`, a field that is a pointer (`OomKillDisable *bool`): Go
//!   prints a set one inside a struct as its memory address;
//! - `@Name`, a `time.Time`, kept as RFC 3339 text, printed as Go's
//!   `Time.String()` (`0001-01-01 00:00:00 +0000 UTC`);
//! - `~Name`, a `time.Duration`, kept as nanoseconds, printed as Go's
//!   `Duration.String()` (`1m30s`);
//! - `{` … `}`, the fields of an embedded struct: JSON has them flat among
//!   the others, Go prints them as one nested `{…}`; `*{` … `}` for an
//!   embedded pointer, printed as an address;
//! - `*` alone, first: the struct is reached through a pointer where it is
//!   a map's value or a slice's element (`Networks`' endpoints), printed
//!   as an address when it is inside another value;
//! - `Name:Type`, a field of a named string type whose methods a template
//!   can call (`NetworkMode:NetworkMode`, `.HostConfig.NetworkMode.IsHost`);
//!   `:Type` alone, the struct's own type, for its methods
//!   (`.HostConfig.RestartPolicy.IsNone`); see [`super::methods`].
//!
//! A map knows what Go's `index` gives for a key it lacks, its element's
//! zero (`""` for `map[string]string`), under the key [`MAP`]; [`PORTS`]
//! marks one keyed by a type a template's string cannot be (`nat.Port`:
//! `index .NetworkSettings.Ports "80/tcp"` fails over the structs), and
//! [`NIL`] a nil map, `null` in JSON but a map to `index` and `range`.
//! Like [`STRUCT`], these keys are no keys of the data ([`is_mark`]).
//!
//! Go prints an address as `0x` and hex digits; what it points at is
//! memory of the docker CLI process and means nothing outside it. Cairn
//! prints stand-ins of the same form, `0xc0000100` and a count of the
//! addresses printed before it in the same value.

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::{Map, Value};
use std::cell::Cell;

/// The key a struct object's field order is kept under.
pub const STRUCT: &str = "\u{1}go-struct";

/// The key a map's element's zero value is kept under.
pub const MAP: &str = "\u{1}go-map";

/// The key marking a map whose keys a template's string cannot be.
pub const PORTS: &str = "\u{1}go-ports";

/// The key marking a nil map.
pub const NIL: &str = "\u{1}go-nil";

/// The key a number of docker's plain JSON is kept under: its templates'
/// fallback decodes numbers as `json.Number`, a string type, so they
/// print as their text, are always true, compare as strings and not with
/// a template's numbers, and have a length ([`json_number`]).
pub const NUMBER: &str = "\u{1}go-json-number";

/// The key marking one of docker's listing rows (`ps`, `images`): its
/// `MarshalJSON` writes it with `json.Marshal`, which escapes `<`, `>`
/// and `&` (`"Digest":"\u003cnone\u003e"`) where the template's `json`
/// does not ([`to_json`]).
pub const ROW: &str = "\u{1}go-row";

/// Whether `key` is one of the marks above, no key of the data.
pub fn is_mark(key: &str) -> bool {
    key.starts_with('\u{1}')
}

/// One token of a struct's spec (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token<'a> {
    /// JSON key, what Go prints when it is null or absent, how it is
    /// held, Go's name, and its named type.
    Field(&'a str, Option<&'a str>, Kind, &'a str, Option<&'a str>),
    /// The struct's own named type.
    Type(&'a str),
    /// The start of an embedded struct: through a pointer or not.
    Open(bool),
    Close,
    /// The struct itself is a pointer's target.
    Target,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Plain,
    Pointer,
    Time,
    Duration,
}

fn tokens(m: &Map<String, Value>) -> Option<impl Iterator<Item = Token<'_>>> {
    let spec = m.get(STRUCT)?.as_str()?;
    Some(spec.split(' ').filter(|t| !t.is_empty()).map(|t| match t {
        "{" => Token::Open(false),
        "*{" => Token::Open(true),
        "}" => Token::Close,
        "*" => Token::Target,
        t if t.starts_with(':') => Token::Type(&t[1..]),
        t => {
            let (kind, t) = match t.as_bytes()[0] {
                b'*' => (Kind::Pointer, &t[1..]),
                b'@' => (Kind::Time, &t[1..]),
                b'~' => (Kind::Duration, &t[1..]),
                _ => (Kind::Plain, t),
            };
            let (t, nil) = match t.split_once('=') {
                Some((t, nil)) => (t, Some(nil)),
                None => (t, None),
            };
            let (t, ty) = match t.split_once(':') {
                Some((t, ty)) => (t, Some(ty)),
                None => (t, None),
            };
            let (key, go) = t.split_once('/').unwrap_or((t, t));
            Token::Field(key, nil, kind, go, ty)
        }
    }))
}

/// A struct's fields in order (those of embedded structs in their place),
/// each with what Go prints for it when it is null or absent (`None`:
/// `<nil>`).
pub fn fields(m: &Map<String, Value>) -> Option<Vec<(&str, Option<&str>)>> {
    Some(
        tokens(m)?
            .filter_map(|t| match t {
                Token::Field(name, nil, ..) => Some((name, nil)),
                _ => None,
            })
            .collect(),
    )
}

/// The JSON key of struct `m`'s field that Go names `go`: `None` when
/// `m` is no struct, `Some(None)` when it has no such field.
pub fn go_field<'m>(m: &'m Map<String, Value>, go: &str) -> Option<Option<&'m str>> {
    let found = tokens(m)?.find_map(|t| match t {
        Token::Field(key, _, _, name, _) if name == go => Some(key),
        _ => None,
    });
    Some(found)
}

/// The named type of struct `m`'s field that Go names `go`, where it has
/// one.
pub fn field_type<'m>(m: &'m Map<String, Value>, go: &str) -> Option<&'m str> {
    tokens(m)?.find_map(|t| match t {
        Token::Field(_, _, _, name, ty) if name == go => ty,
        _ => None,
    })
}

/// The named type of struct `m`, where it has one.
pub fn go_type(m: &Map<String, Value>) -> Option<&str> {
    tokens(m)?.find_map(|t| match t {
        Token::Type(ty) => Some(ty),
        _ => None,
    })
}

/// The number `v` holds if it is a `json.Number` of [`plain`]'s.
pub fn json_number(v: &Value) -> Option<&serde_json::Number> {
    match v.as_object()?.get(NUMBER)? {
        Value::Number(n) => Some(n),
        _ => None,
    }
}

/// `v` as docker's templates fall back to it, decoded from its JSON into
/// `interface{}` with `UseNumber`: without its structs' and maps' marks,
/// every object a map, a nil map null, a number a `json.Number` (see
/// [`NUMBER`]).
pub fn plain(v: &Value) -> Value {
    match v {
        Value::Number(n) => Value::Object(Map::from_iter([(
            NUMBER.to_string(),
            Value::Number(n.clone()),
        )])),
        Value::Object(m) if m.contains_key(NIL) => Value::Null,
        Value::Object(m) => (m.iter())
            .filter(|(k, _)| !is_mark(k))
            .map(|(k, x)| (k.clone(), plain(x)))
            .collect(),
        Value::Array(a) => a.iter().map(plain).collect(),
        v => v.clone(),
    }
}

/// What Go prints for a null value of map `m`: `[]` in a map of slices
/// (`PortMap`), `<nil>` in one of pointers.
fn map_nil(m: &Map<String, Value>) -> &'static str {
    match map_zero(m) {
        Some(Value::Array(_)) => "[]",
        _ => "<nil>",
    }
}

/// Mark `v`, an object, as a struct with fields `spec` (see the module
/// docs); anything else is left as it is.
pub fn mark(v: &mut Value, spec: &str) {
    if let Some(m) = v.as_object_mut() {
        m.insert(STRUCT.into(), spec.into());
    }
}

/// Mark `v`, a map or null (a nil map), as a map whose element's zero is
/// `zero`, keyed by strings or (`ports`) by a type a string cannot be.
pub fn mark_map(v: &mut Value, zero: Value, ports: bool) {
    if v.is_null() {
        *v = Value::Object(Map::from_iter([(NIL.to_string(), Value::Bool(true))]));
    }
    if let Some(m) = v.as_object_mut() {
        m.insert(MAP.into(), zero);
        if ports {
            m.insert(PORTS.into(), Value::Bool(true));
        }
    }
}

/// What `index` gives for a key map `m` lacks: its element's zero; `None`
/// when `m` is no marked map.
pub fn map_zero(m: &Map<String, Value>) -> Option<&Value> {
    m.get(MAP)
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
        .filter(|k| !is_mark(k) && !out.contains(k))
        .collect();
    out.extend(rest);
    out
}

/// The number of real keys (marks are none).
pub fn len(m: &Map<String, Value>) -> usize {
    m.keys().filter(|k| !is_mark(k)).count()
}

/// `v` as Go's `fmt` prints it (`%v`) when it is what a template action
/// prints: strings bare, `[a b]`, `map[k:v]` by sorted key, a struct as
/// `{…}` in field order (see the module docs), null as `<nil>`.
pub fn print(v: &Value) -> String {
    let p = Printer {
        addresses: Cell::new(0),
    };
    p.value(v, false)
}

/// What Go prints for field `name` of struct `m` holding `v`, where that
/// differs from printing `v`: the field's text for null, a time's
/// `String()`. `None` when `m` is no struct or has no such field.
pub fn field(m: &Map<String, Value>, name: &str, v: &Value) -> Option<String> {
    let (nil, kind) = tokens(m)?.find_map(|t| match t {
        Token::Field(n, nil, kind, ..) if n == name => Some((nil, kind)),
        _ => None,
    })?;
    match (v, kind) {
        (Value::Null, _) => Some(nil.unwrap_or("<nil>").to_string()),
        (Value::String(s), Kind::Time) => Some(go_time(s)),
        (Value::Number(n), Kind::Duration) => n.as_i64().map(go_duration),
        _ => None,
    }
}

struct Printer {
    /// How many addresses have been printed.
    addresses: Cell<usize>,
}

/// What an embedded struct's fields go to while it is printed.
enum Frame {
    Parts(Vec<String>),
    /// An embedded pointer's fields: printed as its address alone.
    Skip,
}

impl Printer {
    fn address(&self) -> String {
        let n = self.addresses.get();
        self.addresses.set(n + 1);
        format!("0xc0000100{n:02x}")
    }

    /// `nested`: inside another value, where Go prints a pointer as its
    /// address.
    fn value(&self, v: &Value, nested: bool) -> String {
        match v {
            Value::Null => "<nil>".into(),
            Value::String(s) => s.clone(),
            Value::Bool(b) => b.to_string(),
            Value::Number(n) => n.to_string(),
            Value::Array(a) => {
                let items: Vec<String> = a.iter().map(|x| self.value(x, true)).collect();
                format!("[{}]", items.join(" "))
            }
            Value::Object(m) if m.contains_key(NUMBER) => self.value(&m[NUMBER], nested),
            Value::Object(m) => match tokens(m) {
                Some(_) if nested && target(m) => self.address(),
                Some(t) => self.structure(m, t),
                None => {
                    let kv: Vec<String> = (keys(m).into_iter())
                        .map(|k| match &m[k] {
                            Value::Null => format!("{k}:{}", map_nil(m)),
                            v => format!("{k}:{}", self.value(v, true)),
                        })
                        .collect();
                    format!("map[{}]", kv.join(" "))
                }
            },
        }
    }

    fn structure<'a>(
        &self,
        m: &'a Map<String, Value>,
        tokens: impl Iterator<Item = Token<'a>>,
    ) -> String {
        let mut frames = vec![Frame::Parts(vec![])];
        let mut named = vec![];
        for t in tokens {
            let skipping = matches!(frames.last(), Some(Frame::Skip));
            match t {
                Token::Target | Token::Type(_) => {}
                Token::Open(_) if skipping => frames.push(Frame::Skip),
                Token::Open(false) => frames.push(Frame::Parts(vec![])),
                Token::Open(true) => {
                    let a = self.address();
                    push(&mut frames, a);
                    frames.push(Frame::Skip);
                }
                Token::Close if frames.len() > 1 => {
                    if let Some(Frame::Parts(p)) = frames.pop() {
                        push(&mut frames, format!("{{{}}}", p.join(" ")));
                    }
                }
                Token::Close => {}
                Token::Field(name, ..) => {
                    named.push(name);
                    if !skipping {
                        let v = m.get(name).unwrap_or(&Value::Null);
                        let text = match (field(m, name, v), t) {
                            (Some(text), _) => text,
                            (None, Token::Field(_, _, Kind::Pointer, ..)) => self.address(),
                            (None, _) => self.value(v, true),
                        };
                        push(&mut frames, text);
                    }
                }
            }
        }
        let rest = m
            .keys()
            .filter(|k| !is_mark(k) && !named.contains(&k.as_str()));
        let rest: Vec<String> = rest.map(|k| self.value(&m[k], true)).collect();
        let Some(Frame::Parts(mut parts)) = frames.into_iter().next() else {
            unreachable!("the outermost frame is the struct's own")
        };
        parts.extend(rest);
        format!("{{{}}}", parts.join(" "))
    }
}

/// Whether struct `m` is marked as a pointer's target.
fn target(m: &Map<String, Value>) -> bool {
    tokens(m).is_some_and(|mut t| t.next() == Some(Token::Target))
}

fn push(frames: &mut [Frame], text: String) {
    if let Some(Frame::Parts(p)) = frames.last_mut() {
        p.push(text);
    }
}

/// An RFC 3339 time as Go's `Time.String()` prints it after reading it
/// from JSON: `2024-01-02 03:04:05.5 +0000 UTC`, an offset's zone as the
/// offset (`+0100 +0100`). Text that is no such time is left as it is.
fn go_time(s: &str) -> String {
    let parsed = (|| {
        let (date, rest) = s.split_once('T')?;
        let split = rest.find(['Z', 'z', '+', '-'])?;
        let (clock, zone) = rest.split_at(split);
        let (hms, frac) = clock.split_once('.').unwrap_or((clock, ""));
        if date.len() != 10 || hms.len() != 8 || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let frac = frac.trim_end_matches('0');
        let dot = if frac.is_empty() { "" } else { "." };
        let zone = match zone {
            "Z" | "z" => "+0000 UTC".to_string(),
            z if z.len() == 6 && &z[3..4] == ":" => {
                let off = format!("{}{}", &z[..3], &z[4..]);
                format!("{off} {off}")
            }
            _ => return None,
        };
        Some(format!("{date} {hms}{dot}{frac} {zone}"))
    })();
    parsed.unwrap_or_else(|| s.to_string())
}

/// Nanoseconds as Go's `Duration.String()` prints them: `0s`, `1.5s`,
/// `1m30s`, `2h0m0s`, `500ms`, `1.5µs`.
fn go_duration(ns: i64) -> String {
    // `u` in units of 10^-prec, its fraction's trailing zeros left out
    let frac = |u: u64, prec: u32| {
        let scale = 10u64.pow(prec);
        let digits = format!("{:0w$}", u % scale, w = prec as usize);
        match digits.trim_end_matches('0') {
            "" => (u / scale).to_string(),
            f => format!("{}.{f}", u / scale),
        }
    };
    let u = ns.unsigned_abs();
    let text = match u {
        0 => return "0s".into(),
        u if u < 1_000 => format!("{u}ns"),
        u if u < 1_000_000 => format!("{}µs", frac(u, 3)),
        u if u < 1_000_000_000 => format!("{}ms", frac(u, 6)),
        u => {
            let (secs, sub) = (u / 1_000_000_000, u % 1_000_000_000);
            let s = frac((secs % 60) * 1_000_000_000 + sub, 9);
            match (secs / 3600, secs / 60 % 60) {
                (0, 0) => format!("{s}s"),
                (0, m) => format!("{m}m{s}s"),
                (h, m) => format!("{h}h{m}m{s}s"),
            }
        }
    };
    if ns < 0 {
        format!("-{text}")
    } else {
        text
    }
}

/// `v` serialized with structs' keys in field order and without markers.
pub struct Ordered<'a>(pub &'a Value);

impl Serialize for Ordered<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Value::Object(m) if m.contains_key(NIL) => s.serialize_none(),
            Value::Object(m) if m.contains_key(NUMBER) => m[NUMBER].serialize(s),
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

/// `v` as compact JSON, structs' keys in field order; a listing row (see
/// [`ROW`]) with `<`, `>`, `&`, U+2028 and U+2029 escaped as Go's
/// `json.Marshal` escapes them.
pub fn to_json(v: &Value) -> String {
    let text = serde_json::to_string(&Ordered(v)).expect("JSON values serialize");
    match v.as_object().is_some_and(|m| m.contains_key(ROW)) {
        false => text,
        true => text
            .replace('<', "\\u003c")
            .replace('>', "\\u003e")
            .replace('&', "\\u0026")
            .replace('\u{2028}', "\\u2028")
            .replace('\u{2029}', "\\u2029"),
    }
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
        assert_eq!(print(&v), "{on-failure 3 map[a:2 b:1] <nil>}");
        assert_eq!(print(&json!({})), "map[]");
    }

    #[test]
    fn embedded_structs_nest_pointers_print_as_addresses() {
        let mut v = json!({"A": 1, "B": {"X": true}, "C": "c", "P": 2, "Q": null, "D": "d"});
        mark(&mut v, "A { *B C *P *Q } D");
        mark(&mut v["B"], "X");
        // JSON stays flat, in field order
        assert_eq!(
            to_json(&v),
            r#"{"A":1,"B":{"X":true},"C":"c","P":2,"Q":null,"D":"d"}"#
        );
        assert_eq!(print(&v), "{1 {0xc000010000 c 0xc000010001 <nil>} d}");
        // a pointer's target printed itself is its value
        assert_eq!(print(&v["B"]), "{true}");
        mark(&mut v, "*{ A *B C } D");
        assert_eq!(print(&v), "{0xc000010000 d 2 <nil>}");
        // a map's values that are pointers' targets
        let mut nets = json!({"n": {"IP": "10.0.0.2"}});
        mark(&mut nets["n"], "* IP");
        assert_eq!(print(&nets), "map[n:0xc000010000]");
        assert_eq!(print(&nets["n"]), "{10.0.0.2}");
    }

    #[test]
    fn times_print_as_go_prints_them() {
        let mut v = json!({"T": "2024-01-02T03:04:05.500Z", "U": "0001-01-01T00:00:00Z"});
        mark(&mut v, "@T @U");
        assert_eq!(
            print(&v),
            "{2024-01-02 03:04:05.5 +0000 UTC 0001-01-01 00:00:00 +0000 UTC}"
        );
        let m = v.as_object().unwrap();
        assert_eq!(
            field(m, "T", &v["T"]).unwrap(),
            "2024-01-02 03:04:05.5 +0000 UTC"
        );
        assert_eq!(
            go_time("2024-01-02T03:04:05+01:00"),
            "2024-01-02 03:04:05 +0100 +0100"
        );
        assert_eq!(go_time("yesterday"), "yesterday");
        for (ns, text) in [
            (0, "0s"),
            (90_000_000_000, "1m30s"),
            (1_500_000_000, "1.5s"),
            (120_000_000_000, "2m0s"),
            (3_600_000_000_000, "1h0m0s"),
            (500_000_000, "500ms"),
            (1_500, "1.5µs"),
            (7, "7ns"),
            (-2_000_000_000, "-2s"),
        ] {
            assert_eq!(go_duration(ns), text);
        }
    }
}
