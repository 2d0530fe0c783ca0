//! An image's runtime config, the docker keys of its config's `config`
//! object (`Entrypoint`, `Cmd`, `Env`, `WorkingDir`, `User`): reading them,
//! and applying the overrides a person gives at create or run time, by
//! docker's rules.

use crate::digest::LayerId;
use crate::store::meta::LayerMeta;
use oci_spec::image::Config;
use serde_json::{json, Map, Value};

/// The runtime config in effect at the top of `chain` (top first): the
/// nearest layer's own, or `{}`.
pub fn effective_config(chain: &[(LayerId, LayerMeta)]) -> Value {
    chain
        .iter()
        .find_map(|(_, m)| m.config.clone())
        .unwrap_or_else(|| Value::Object(Map::new()))
}

/// The runtime config (OCI `config.config`: Cmd, Entrypoint, Env,
/// WorkingDir, User, ExposedPorts, Volumes, Labels, StopSignal) of a
/// stored config, typed.
///
/// cairn stores the runtime config as the JSON object that came in (or
/// that build and commit made), not as `oci_spec::image::Config`: that type
/// drops the keys docker writes beyond OCI's (Healthcheck, Shell, OnBuild,
/// ArgsEscaped), and an image saved again must keep them. Everything that
/// reads the config for its meaning reads it through this view. A field of
/// the wrong type reads as absent (load refuses such a config; this keeps
/// an old store readable), and a config that is not an object as empty.
pub fn runtime(config: &Value) -> Config {
    let Value::Object(fields) = config else {
        return Config::default();
    };
    if let Ok(c) = serde_json::from_value(config.clone()) {
        return c;
    }
    let valid: Map<String, Value> = fields
        .iter()
        .filter(|(k, v)| serde_json::from_value::<Config>(json!({ k.as_str(): v })).is_ok())
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    serde_json::from_value(Value::Object(valid)).unwrap_or_default()
}

/// Write `typed` back into the stored `config`: its fields replace those
/// of `config`; keys OCI's type does not know stay as they are.
pub fn set_runtime(config: &mut Value, typed: &Config) {
    if !config.is_object() {
        *config = json!({});
    }
    let c = config.as_object_mut().expect("an object");
    if let Ok(Value::Object(fields)) = serde_json::to_value(typed) {
        c.extend(fields);
    }
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
    /// `-l KEY=VALUE` (a bare KEY: an empty value), added to the image's
    /// Labels.
    pub labels: Vec<String>,
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
            container_env(
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
    if !o.labels.is_empty() {
        let mut labels = match c.remove("Labels") {
            Some(Value::Object(m)) => m,
            _ => serde_json::Map::new(),
        };
        for l in &o.labels {
            let (k, v) = l.split_once('=').unwrap_or((l, ""));
            labels.insert(k.to_string(), v.into());
        }
        c.insert("Labels".into(), Value::Object(labels));
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

/// A container's `Env` as `docker create` makes it from the image's and
/// its `-e`s: the `-e K=V`s first, as given, then the image's entries
/// whose names no `-e` gives; a bare `-e K` drops the image's `K`.
pub fn container_env(image: &[String], given: &[String]) -> Vec<String> {
    let key = |s: &str| s.split('=').next().unwrap_or("").to_string();
    let keys: Vec<String> = given.iter().map(|e| key(e)).collect();
    let mut out: Vec<String> = given.iter().filter(|e| e.contains('=')).cloned().collect();
    out.extend(image.iter().filter(|e| !keys.contains(&key(e))).cloned());
    out
}

/// `env` with each name once, as docker's runtime makes a process's
/// environment from a container's `Env` (which may name a variable twice:
/// `--env-file` then `-e`): a later `K=V` replaces the earlier one where
/// it stands.
pub fn unique_env(env: &[String]) -> Vec<String> {
    let key = |s: &str| s.split('=').next().unwrap_or("").to_string();
    let mut out: Vec<String> = Vec::with_capacity(env.len());
    for e in env {
        match out.iter_mut().find(|x| key(x) == key(e)) {
            Some(x) => *x = e.clone(),
            None => out.push(e.clone()),
        }
    }
    out
}

/// The command line: Entrypoint followed by Cmd.
pub fn argv(config: &Config) -> Vec<String> {
    let mut a = config.entrypoint().clone().unwrap_or_default();
    a.extend(config.cmd().clone().unwrap_or_default());
    a
}

pub fn env(config: &Config) -> Vec<String> {
    config.env().clone().unwrap_or_default()
}

/// The working directory: `/` when the image sets none.
pub fn workdir(config: &Config) -> String {
    match config.working_dir() {
        Some(w) if !w.is_empty() => w.clone(),
        _ => "/".into(),
    }
}

pub fn user(config: &Config) -> String {
    config.user().clone().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_runtime_config_is_read_typed_and_written_back_keeping_docker_keys() {
        let stored = json!({
            "Cmd": ["sh"], "Env": null, "WorkingDir": "/srv", "ExposedPorts": {"80/tcp": {}},
            "Healthcheck": {"Test": ["NONE"]}, "Shell": ["/bin/bash", "-c"], "OnBuild": null,
        });
        let mut c = runtime(&stored);
        assert_eq!(c.cmd().as_deref(), Some(&["sh".to_string()][..]));
        assert_eq!(c.working_dir().as_deref(), Some("/srv"));
        assert_eq!(c.env(), &None);
        c.set_user(Some("app".into()));
        let mut back = stored.clone();
        set_runtime(&mut back, &c);
        let mut want = stored.clone();
        want["User"] = json!("app");
        assert_eq!(back, want, "only what changed changes; docker keys stay");
        // a field of the wrong type reads as absent, the rest as it is
        let odd = runtime(&json!({"Labels": "junk", "User": "u", "Cmd": [1]}));
        assert_eq!(odd.user().as_deref(), Some("u"));
        assert!(odd.labels().is_none() && odd.cmd().is_none());
        assert_eq!(runtime(&json!(null)), Config::default());
        let mut not_object = json!("x");
        set_runtime(&mut not_object, &odd);
        assert_eq!(not_object, json!({"User": "u"}));
    }

    #[test]
    fn entrypoint_and_cmd() {
        let argv = |v: &Value| argv(&runtime(v));
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
        // docker create's: the -e's first, then the image's not given
        let e = container_env(
            &["A=1".into(), "B=2".into(), "D=5".into()],
            &["C=4".into(), "A=3".into(), "B".into()],
        );
        assert_eq!(e, vec!["C=4", "A=3", "D=5"]);
        // the process's: each name once, the last value where the first stood
        let given = ["A=1".into(), "B=2".into(), "A=3".into()];
        assert_eq!(unique_env(&container_env(&[], &given)), vec!["A=3", "B=2"]);
    }
}
