//! An image's runtime config, the docker keys of its config's `config`
//! object (`Entrypoint`, `Cmd`, `Env`, `WorkingDir`, `User`): reading them,
//! and applying the overrides a person gives at create or run time, by
//! docker's rules.

use crate::digest::LayerId;
use crate::store::meta::LayerMeta;
use serde_json::{Map, Value};

/// The runtime config in effect at the top of `chain` (top first): the
/// nearest layer's own, or `{}`.
pub fn effective_config(chain: &[(LayerId, LayerMeta)]) -> Value {
    chain
        .iter()
        .find_map(|(_, m)| m.config.clone())
        .unwrap_or_else(|| Value::Object(Map::new()))
}

fn strings(v: &Value) -> Option<Vec<String>> {
    v.as_array().map(|a| {
        a.iter()
            .filter_map(|s| s.as_str().map(String::from))
            .collect()
    })
}

/// Overrides a person gives at create or run time.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `-- CMD ARGS`: replaces the image's Cmd.
    pub cmd: Option<Vec<String>>,
    /// `--entrypoint`: replaces the image's Entrypoint (and drops its Cmd).
    pub entrypoint: Option<Vec<String>>,
    /// `-e K=V`.
    pub env: Vec<String>,
    /// `-w DIR`.
    pub workdir: Option<String>,
    /// `-u USER[:GROUP]`.
    pub user: Option<String>,
}

/// Apply overrides to a runtime config (docker keys), as `docker create`
/// stores them.
pub fn apply(config: &Value, o: &Overrides) -> Value {
    let mut c = match config {
        Value::Object(m) => m.clone(),
        _ => serde_json::Map::new(),
    };
    if let Some(ep) = &o.entrypoint {
        c.insert(
            "Entrypoint".into(),
            if ep.is_empty() {
                Value::Null
            } else {
                ep.clone().into()
            },
        );
        c.insert("Cmd".into(), Value::Null);
    }
    if let Some(cmd) = &o.cmd {
        c.insert("Cmd".into(), cmd.clone().into());
    }
    if !o.env.is_empty() {
        c.insert(
            "Env".into(),
            merge_env(
                &strings(c.get("Env").unwrap_or(&Value::Null)).unwrap_or_default(),
                &o.env,
            )
            .into(),
        );
    }
    if let Some(w) = &o.workdir {
        c.insert("WorkingDir".into(), w.clone().into());
    }
    if let Some(u) = &o.user {
        c.insert("User".into(), u.clone().into());
    }
    Value::Object(c)
}

/// `base` with `extra` applied: a `K=V` replaces `K`; a bare `K` is dropped.
pub fn merge_env(base: &[String], extra: &[String]) -> Vec<String> {
    let key = |s: &str| s.split('=').next().unwrap_or("").to_string();
    let mut out: Vec<String> = base.to_vec();
    for e in extra {
        let k = key(e);
        out.retain(|x| key(x) != k);
        if e.contains('=') {
            out.push(e.clone());
        }
    }
    out
}

/// The command line: Entrypoint followed by Cmd.
pub fn argv(config: &Value) -> Vec<String> {
    let mut a = strings(&config["Entrypoint"]).unwrap_or_default();
    a.extend(strings(&config["Cmd"]).unwrap_or_default());
    a
}

pub fn env(config: &Value) -> Vec<String> {
    strings(&config["Env"]).unwrap_or_default()
}

pub fn workdir(config: &Value) -> String {
    match config["WorkingDir"].as_str() {
        Some(w) if !w.is_empty() => w.to_string(),
        _ => "/".into(),
    }
}

pub fn user(config: &Value) -> String {
    config["User"].as_str().unwrap_or("").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn entrypoint_and_cmd() {
        let img = json!({"Entrypoint": ["/bin/ep"], "Cmd": ["a", "b"]});
        assert_eq!(argv(&img), vec!["/bin/ep", "a", "b"]);
        let run = apply(
            &img,
            &Overrides {
                cmd: Some(vec!["x".into()]),
                ..Default::default()
            },
        );
        assert_eq!(argv(&run), vec!["/bin/ep", "x"]);
        let ep = apply(
            &img,
            &Overrides {
                entrypoint: Some(vec!["/bin/sh".into()]),
                ..Default::default()
            },
        );
        assert_eq!(argv(&ep), vec!["/bin/sh"]);
        assert_eq!(argv(&json!({"Cmd": ["/bin/sh"]})), vec!["/bin/sh"]);
    }

    #[test]
    fn env_merge() {
        let e = merge_env(
            &["A=1".into(), "B=2".into()],
            &["A=3".into(), "C=4".into(), "B".into()],
        );
        assert_eq!(e, vec!["A=3", "C=4"]);
    }
}
