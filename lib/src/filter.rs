//! docker's `--filter KEY=VALUE` for listings (`ps`, `images`): the
//! filters given, read once, and the matchers docker's keys use.
//!
//! As docker: values given for one key are alternatives (`status=exited
//! --filter status=created` lists both), different keys must all hold,
//! and every `label=` must hold.

use serde_json::Value;
use std::collections::BTreeMap;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FilterError {
    #[error("bad format of filter (expected name=value): {0:?}")]
    Syntax(String),
    #[error("invalid filter '{key}' (in {given:?}); use one of: {known}")]
    Unknown {
        given: String,
        key: String,
        known: String,
    },
    #[error("invalid filter '{0}': the value must be true or false")]
    NotBool(String),
}

/// The filters of one listing, by key.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Filters(BTreeMap<String, Vec<String>>);

impl Filters {
    /// `given` (`KEY=VALUE` each), whose keys must be among `known`.
    pub fn parse(given: &[String], known: &[&str]) -> Result<Filters, FilterError> {
        let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for g in given {
            let (k, v) = g
                .split_once('=')
                .ok_or_else(|| FilterError::Syntax(g.clone()))?;
            let k = k.trim().to_ascii_lowercase();
            if !known.contains(&k.as_str()) {
                return Err(FilterError::Unknown {
                    given: g.clone(),
                    key: k,
                    known: known.join(", "),
                });
            }
            map.entry(k).or_default().push(v.to_string());
        }
        Ok(Filters(map))
    }

    /// Whether `key` was given at all.
    pub fn contains(&self, key: &str) -> bool {
        self.0.contains_key(key)
    }

    /// The last value given for `key` (`before=`, `since=`: docker keeps
    /// the last).
    pub fn last(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.last()).map(String::as_str)
    }

    /// Whether one of the values given for `key` passes `test`; true when
    /// `key` was not given.
    pub fn any(&self, key: &str, test: impl Fn(&str) -> bool) -> bool {
        self.0.get(key).is_none_or(|vs| vs.iter().any(|v| test(v)))
    }

    /// Whether every value given for `key` passes `test` (`label=`).
    pub fn all(&self, key: &str, test: impl Fn(&str) -> bool) -> bool {
        self.0.get(key).is_none_or(|vs| vs.iter().all(|v| test(v)))
    }

    /// A `true`/`false` key (`dangling=`): `None` when not given.
    pub fn bool(&self, key: &str) -> Result<Option<bool>, FilterError> {
        let Some(vs) = self.0.get(key) else {
            return Ok(None);
        };
        let parse = |v: &String| match v.to_ascii_lowercase().as_str() {
            "true" | "1" => Ok(true),
            "false" | "0" => Ok(false),
            _ => Err(FilterError::NotBool(format!("{key}={v}"))),
        };
        let first = parse(&vs[0])?;
        for v in &vs[1..] {
            if parse(v)? != first {
                return Err(FilterError::NotBool(format!("{key}={v}")));
            }
        }
        Ok(Some(first))
    }

    /// `label` filters over a docker `Labels` object (absent: no labels).
    pub fn labels(&self, labels: Option<&Value>) -> bool {
        self.all("label", |want| label_matches(labels, want))
    }
}

/// `KEY` (the label is set) or `KEY=VALUE` (set to that) in `labels`.
pub fn label_matches(labels: Option<&Value>, want: &str) -> bool {
    let Some(m) = labels.and_then(Value::as_object) else {
        return false;
    };
    match want.split_once('=') {
        None => m.contains_key(want),
        Some((k, v)) => m.get(k).and_then(Value::as_str) == Some(v),
    }
}

/// docker's `name=`: the name contains the value; `^` and `$` anchor it
/// (docker reads a regular expression; these are the parts of one people
/// type).
pub fn name_matches(name: &str, want: &str) -> bool {
    let (start, w) = match want.strip_prefix('^') {
        Some(w) => (true, w),
        None => (false, want),
    };
    let (end, w) = match w.strip_suffix('$') {
        Some(w) => (true, w),
        None => (false, w),
    };
    match (start, end) {
        (true, true) => name == w,
        (true, false) => name.starts_with(w),
        (false, true) => name.ends_with(w),
        (false, false) => name.contains(w),
    }
}

/// Go's `path.Match`: `*` (any run of characters but `/`), `?` (one
/// character but `/`), `[abc]`, `[a-z]`, `[^a]` and `\` escapes; a pattern
/// docker's `reference=` matches image names with.
pub fn glob(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    glob_at(&p, &n)
}

fn glob_at(p: &[char], n: &[char]) -> bool {
    match p.first() {
        None => n.is_empty(),
        Some('*') => (0..=n.len())
            .take_while(|&i| i == 0 || n[i - 1] != '/')
            .any(|i| glob_at(&p[1..], &n[i..])),
        Some('?') => n.first().is_some_and(|&c| c != '/') && glob_at(&p[1..], &n[1..]),
        Some('[') => match (class(&p[1..]), n.first()) {
            (Some((matches, len)), Some(&c)) => {
                c != '/' && matches(c) && glob_at(&p[1 + len..], &n[1..])
            }
            _ => false,
        },
        Some('\\') if p.len() > 1 => n.first() == Some(&p[1]) && glob_at(&p[2..], &n[1..]),
        Some(&c) => n.first() == Some(&c) && glob_at(&p[1..], &n[1..]),
    }
}

type ClassTest = Box<dyn Fn(char) -> bool>;

/// A `[...]` class after its `[`: its test and its length up to and with
/// the `]`.
fn class(p: &[char]) -> Option<(ClassTest, usize)> {
    let end = p.iter().skip(1).position(|&c| c == ']')? + 1;
    let (negate, body) = match p[0] {
        '^' => (true, p[1..end].to_vec()),
        _ => (false, p[..end].to_vec()),
    };
    let test = move |c: char| {
        let mut i = 0;
        let mut hit = false;
        while i < body.len() {
            if i + 2 < body.len() && body[i + 1] == '-' {
                hit |= body[i] <= c && c <= body[i + 2];
                i += 3;
            } else {
                hit |= body[i] == c;
                i += 1;
            }
        }
        hit != negate
    };
    Some((Box::new(test), end + 1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn f(given: &[&str]) -> Result<Filters, FilterError> {
        let given: Vec<String> = given.iter().map(|s| s.to_string()).collect();
        Filters::parse(&given, &["status", "label", "name", "dangling"])
    }

    #[test]
    fn keys_values_and_errors() {
        let x = f(&["status=exited", "status=created", "label=a=1"]).unwrap();
        assert!(x.any("status", |v| v == "created"));
        assert!(!x.any("status", |v| v == "running"));
        assert!(x.any("name", |_| false), "a key not given passes");
        assert!(x.contains("label") && !x.contains("name"));
        assert!(matches!(f(&["nope"]), Err(FilterError::Syntax(_))));
        assert!(matches!(
            f(&["colour=red"]),
            Err(FilterError::Unknown { .. })
        ));
        assert_eq!(
            f(&["dangling=true"]).unwrap().bool("dangling"),
            Ok(Some(true))
        );
        assert_eq!(f(&[]).unwrap().bool("dangling"), Ok(None));
        assert!(f(&["dangling=maybe"]).unwrap().bool("dangling").is_err());
    }

    #[test]
    fn labels_as_docker() {
        let l = json!({"a": "1", "b": ""});
        let x = f(&["label=a", "label=b="]).unwrap();
        assert!(x.labels(Some(&l)));
        assert!(!f(&["label=a=2"]).unwrap().labels(Some(&l)));
        assert!(
            !f(&["label=a", "label=c"]).unwrap().labels(Some(&l)),
            "all must hold"
        );
        assert!(!f(&["label=a"]).unwrap().labels(None));
        assert!(f(&[]).unwrap().labels(None));
    }

    #[test]
    fn names_and_globs() {
        assert!(name_matches("web-1", "web"));
        assert!(name_matches("web-1", "^web"));
        assert!(!name_matches("my-web", "^web"));
        assert!(name_matches("web", "^web$") && !name_matches("web2", "^web$"));
        assert!(glob("busy*", "busybox"));
        assert!(glob("busybox:1.*", "busybox:1.36"));
        assert!(!glob("*", "library/busybox"), "* stops at /");
        assert!(glob("*/*", "library/busybox"));
        assert!(glob("b?sybox", "busybox") && glob("[a-c]usybox", "busybox"));
        assert!(!glob("[^b]usybox", "busybox"));
        assert!(!glob("busybox", "busybox:latest"));
    }
}
