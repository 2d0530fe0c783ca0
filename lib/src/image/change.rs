//! Dockerfile instructions that change only an image's runtime config
//! (`commit --change`, and build's metadata steps): CMD, ENTRYPOINT, ENV,
//! WORKDIR, USER, LABEL, EXPOSE, VOLUME, STOPSIGNAL.

use serde_json::Value;
use std::collections::HashMap;

/// An instruction that cannot be applied: its text, and why as the source.
#[derive(Debug, thiserror::Error)]
#[error("change {text:?}")]
pub struct ChangeError {
    pub text: String,
    #[source]
    pub reason: Reason,
}

/// Why a change cannot be applied.
#[derive(Debug, thiserror::Error)]
pub enum Reason {
    /// The instruction (`WORKDIR`, `USER`, …) was given no argument;
    /// `what` it needs.
    #[error("{keyword} needs {what}")]
    Empty {
        keyword: &'static str,
        what: &'static str,
    },
    #[error(transparent)]
    KeyValues(#[from] KeyValueError),
    /// VOLUME's exec form is not a JSON array of strings.
    #[error("VOLUME needs a JSON array of strings")]
    Volumes(#[source] serde_json::Error),
    /// Not one of the instructions a change can be.
    #[error("{0} cannot be applied here (CMD, ENTRYPOINT, ENV, WORKDIR, USER, LABEL, EXPOSE, VOLUME, STOPSIGNAL)")]
    NotAChange(String),
}

/// Why ENV's or LABEL's arguments are not key-value pairs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyValueError {
    /// One word, and no `=` in it.
    #[error("expected KEY VALUE or KEY=VALUE")]
    NoValue,
    /// A key of the `k=v` form without its `=`.
    #[error("{0:?} has no value")]
    KeyWithoutValue(String),
    #[error("unterminated quote")]
    UnterminatedQuote,
}

fn err(text: &str, reason: impl Into<Reason>) -> ChangeError {
    ChangeError {
        text: text.to_string(),
        reason: reason.into(),
    }
}

fn empty(text: &str, keyword: &'static str, what: &'static str) -> ChangeError {
    err(text, Reason::Empty { keyword, what })
}

/// `["a","b"]` (exec form) or `a b` (shell form, run by `/bin/sh -c`).
pub fn command_form(rest: &str, shell: &[String]) -> Vec<String> {
    let t = rest.trim();
    if t.starts_with('[') {
        if let Ok(v) = serde_json::from_str::<Vec<String>>(t) {
            return v;
        }
    }
    let mut v = shell.to_vec();
    v.push(t.to_string());
    v
}

/// Split `k=v k2="v 2"` pairs (or the legacy `k v` form when there is no
/// `=` in the first word).
pub fn key_values(rest: &str) -> Result<Vec<(String, String)>, KeyValueError> {
    let t = rest.trim();
    let first = t.split_whitespace().next().unwrap_or("");
    if !first.contains('=') {
        let (k, v) = t
            .split_once(char::is_whitespace)
            .ok_or(KeyValueError::NoValue)?;
        return Ok(vec![(k.to_string(), v.trim().to_string())]);
    }
    let mut out = Vec::new();
    let mut chars = t.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.peek().is_none() {
            break;
        }
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' {
                break;
            }
            if c.is_whitespace() {
                return Err(KeyValueError::KeyWithoutValue(key));
            }
            key.push(c);
            chars.next();
        }
        if chars.next() != Some('=') {
            return Err(KeyValueError::KeyWithoutValue(key));
        }
        let mut val = String::new();
        let mut quote: Option<char> = None;
        while let Some(&c) = chars.peek() {
            match (quote, c) {
                (None, c) if c.is_whitespace() => break,
                (None, '"') | (None, '\'') => quote = Some(c),
                (Some(q), c) if c == q => quote = None,
                (_, '\\') => {
                    chars.next();
                    if let Some(n) = chars.next() {
                        val.push(n);
                    }
                    continue;
                }
                (_, c) => val.push(c),
            }
            chars.next();
        }
        if quote.is_some() {
            return Err(KeyValueError::UnterminatedQuote);
        }
        out.push((key, val));
    }
    Ok(out)
}

/// Add `items` to a set kept as a list (ExposedPorts, Volumes): each once,
/// in the order first given.
fn add_all(set: &Option<Vec<String>>, items: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut out = set.clone().unwrap_or_default();
    for i in items {
        if !out.contains(&i) {
            out.push(i);
        }
    }
    out
}

/// Apply one instruction to a stored runtime config (docker keys), through
/// OCI's typed config: the fields it sets are written back, and keys OCI's
/// type does not know (Healthcheck, Shell, OnBuild) stay. `shell` is the
/// shell for shell-form commands (`["/bin/sh", "-c"]` unless SHELL set
/// one).
pub fn apply(config: &mut Value, text: &str, shell: &[String]) -> Result<(), ChangeError> {
    let t = text.trim();
    let mut c = super::runtime_config::runtime(config);
    let (word, rest) = t.split_once(char::is_whitespace).unwrap_or((t, ""));
    let rest = rest.trim();
    match word.to_ascii_uppercase().as_str() {
        "CMD" => {
            c.set_cmd(Some(command_form(rest, shell)));
        }
        "ENTRYPOINT" => {
            c.set_entrypoint(Some(command_form(rest, shell)));
        }
        "ENV" => {
            let kv = key_values(rest).map_err(|e| err(t, e))?;
            let extra: Vec<String> = kv.iter().map(|(k, v)| format!("{k}={v}")).collect();
            let env = c.env().clone().unwrap_or_default();
            c.set_env(Some(super::runtime_config::merge_env(&env, &extra)));
        }
        "WORKDIR" => {
            if rest.is_empty() {
                return Err(empty(t, "WORKDIR", "a path"));
            }
            let dir = if rest.starts_with('/') {
                rest.to_string()
            } else {
                let cur = c.working_dir().as_deref().unwrap_or("/");
                format!("{}/{rest}", cur.trim_end_matches('/'))
            };
            c.set_working_dir(Some(dir));
        }
        "USER" => {
            if rest.is_empty() {
                return Err(empty(t, "USER", "a name or id"));
            }
            c.set_user(Some(rest.to_string()));
        }
        "LABEL" => {
            let kv = key_values(rest).map_err(|e| err(t, e))?;
            c.labels_mut().get_or_insert_with(HashMap::new).extend(kv);
        }
        "EXPOSE" => {
            if rest.is_empty() {
                return Err(empty(t, "EXPOSE", "a port"));
            }
            let ports = rest.split_whitespace().map(|p| {
                if p.contains('/') {
                    p.to_string()
                } else {
                    format!("{p}/tcp")
                }
            });
            c.set_exposed_ports(Some(add_all(c.exposed_ports(), ports)));
        }
        "VOLUME" => {
            let vols: Vec<String> = if rest.starts_with('[') {
                serde_json::from_str(rest).map_err(|e| err(t, Reason::Volumes(e)))?
            } else {
                rest.split_whitespace().map(String::from).collect()
            };
            c.set_volumes(Some(add_all(c.volumes(), vols)));
        }
        "STOPSIGNAL" => {
            if rest.is_empty() {
                return Err(empty(t, "STOPSIGNAL", "a signal"));
            }
            c.set_stop_signal(Some(rest.to_string()));
        }
        other => return Err(err(t, Reason::NotAChange(other.into()))),
    }
    super::runtime_config::set_runtime(config, &c);
    Ok(())
}

/// The default shell of shell-form commands.
pub fn default_shell() -> Vec<String> {
    vec!["/bin/sh".into(), "-c".into()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn changes() {
        let sh = default_shell();
        let mut c = json!({"Env": ["PATH=/bin"]});
        apply(&mut c, "CMD [\"httpd\", \"-f\"]", &sh).unwrap();
        apply(&mut c, "ENTRYPOINT echo hi", &sh).unwrap();
        apply(&mut c, "ENV A=1 B=\"two words\"", &sh).unwrap();
        apply(&mut c, "ENV C 3", &sh).unwrap();
        apply(&mut c, "WORKDIR /srv", &sh).unwrap();
        apply(&mut c, "WORKDIR app", &sh).unwrap();
        apply(&mut c, "LABEL a=b", &sh).unwrap();
        apply(&mut c, "EXPOSE 80 53/udp", &sh).unwrap();
        apply(&mut c, "VOLUME [\"/data\"]", &sh).unwrap();
        apply(&mut c, "STOPSIGNAL SIGINT", &sh).unwrap();
        apply(&mut c, "USER nobody", &sh).unwrap();
        assert_eq!(c["Cmd"], json!(["httpd", "-f"]));
        assert_eq!(c["Entrypoint"], json!(["/bin/sh", "-c", "echo hi"]));
        assert_eq!(c["Env"], json!(["PATH=/bin", "A=1", "B=two words", "C=3"]));
        assert_eq!(c["WorkingDir"], "/srv/app");
        assert_eq!(c["ExposedPorts"], json!({"80/tcp": {}, "53/udp": {}}));
        assert_eq!(c["Volumes"], json!({"/data": {}}));
        assert!(apply(&mut c, "RUN true", &sh).is_err());
        assert!(apply(&mut c, "ENV A=\"x", &sh).is_err());
    }
}

#[cfg(test)]
mod edge_cases {
    use super::*;
    use serde_json::json;

    #[test]
    fn command_forms() {
        let sh = default_shell();
        assert_eq!(command_form(" [\"a\",\"b\"] ", &sh), vec!["a", "b"]);
        // not a JSON array of strings: shell form, as docker does
        assert_eq!(command_form("[a, b]", &sh), vec!["/bin/sh", "-c", "[a, b]"]);
        assert_eq!(command_form("[1]", &sh), vec!["/bin/sh", "-c", "[1]"]);
        assert_eq!(command_form("[]", &sh), Vec::<String>::new());
        let pwsh = vec!["pwsh".to_string(), "-c".to_string()];
        assert_eq!(command_form("ls", &pwsh), vec!["pwsh", "-c", "ls"]);
    }

    #[test]
    fn key_value_pairs() {
        let kv = |s: &str| key_values(s);
        let p = |v: &[(&str, &str)]| -> Vec<(String, String)> {
            v.iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect()
        };
        assert_eq!(
            kv("A=1 B='two words' C=a\\ b D=").unwrap(),
            p(&[("A", "1"), ("B", "two words"), ("C", "a b"), ("D", "")])
        );
        assert_eq!(kv("K v with spaces").unwrap(), p(&[("K", "v with spaces")]));
        assert_eq!(kv("A=\"x=y\"").unwrap(), p(&[("A", "x=y")]));
        assert_eq!(kv("K"), Err(KeyValueError::NoValue));
        assert_eq!(kv("A=1 B"), Err(KeyValueError::KeyWithoutValue("B".into())));
        assert_eq!(
            kv("A=1 B C=2"),
            Err(KeyValueError::KeyWithoutValue("B".into()))
        );
        assert_eq!(kv("A='x"), Err(KeyValueError::UnterminatedQuote));
    }

    #[test]
    fn each_instruction_checks_its_argument() {
        let sh = default_shell();
        for bad in [
            "WORKDIR",
            "USER",
            "EXPOSE",
            "STOPSIGNAL",
            "ENV",
            "LABEL",
            "VOLUME [x",
            "FROM x",
            "ADD a b",
            "",
        ] {
            let mut c = json!({});
            assert!(apply(&mut c, bad, &sh).is_err(), "{bad:?}");
            assert_eq!(c, json!({}), "{bad:?} changed the config");
        }
        let e = apply(&mut json!({}), "RUN x", &sh).unwrap_err();
        assert_eq!(e.text, "RUN x");
        assert!(
            matches!(&e.reason, Reason::NotAChange(k) if k == "RUN"),
            "{e:?}"
        );
    }

    #[test]
    fn a_bad_change_says_why_as_its_source() {
        let sh = default_shell();
        let why = |text: &str| apply(&mut json!({}), text, &sh).unwrap_err();
        let e = why("WORKDIR");
        assert!(
            matches!(
                e.reason,
                Reason::Empty {
                    keyword: "WORKDIR",
                    ..
                }
            ),
            "{e:?}"
        );
        // the message names the change; why is the source, said once
        assert_eq!(e.to_string(), "change \"WORKDIR\"");
        let source = std::error::Error::source(&e).unwrap().to_string();
        assert_eq!(source, "WORKDIR needs a path");
        assert!(matches!(
            why("ENV A=\"x").reason,
            Reason::KeyValues(KeyValueError::UnterminatedQuote)
        ));
        assert!(matches!(
            why("LABEL k").reason,
            Reason::KeyValues(KeyValueError::NoValue)
        ));
        let e = why("VOLUME [x");
        assert!(matches!(e.reason, Reason::Volumes(_)), "{e:?}");
        // the JSON error is the volume error's own source
        assert!(std::error::Error::source(&e.reason).is_some());
        assert!(matches!(why("").reason, Reason::NotAChange(k) if k.is_empty()));
    }

    #[test]
    fn keywords_any_case_and_a_non_object_config_is_replaced() {
        let sh = default_shell();
        let mut c = json!(null);
        apply(&mut c, "workdir rel", &sh).unwrap();
        apply(&mut c, "Env A=1", &sh).unwrap();
        apply(&mut c, "env A=2", &sh).unwrap();
        assert_eq!(c, json!({"WorkingDir": "/rel", "Env": ["A=2"]}));
        // an existing non-object Labels is replaced, not an error
        let mut c = json!({"Labels": "junk", "WorkingDir": "/a/"});
        apply(&mut c, "LABEL k=v", &sh).unwrap();
        apply(&mut c, "WORKDIR b", &sh).unwrap();
        apply(&mut c, "VOLUME /x /y", &sh).unwrap();
        assert_eq!(c["Labels"], json!({"k": "v"}));
        assert_eq!(c["WorkingDir"], "/a/b");
        assert_eq!(c["Volumes"], json!({"/x": {}, "/y": {}}));
    }
}
