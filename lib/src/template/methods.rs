//! The methods without arguments that docker 20.10's API types declare
//! and a template can call on `inspect`'s structs
//! (api/types/container/host_config.go and hostconfig_unix.go): on the
//! named string types of `HostConfig`'s modes (`NetworkMode`, `IpcMode`,
//! `PidMode`, `UTSMode`, `UsernsMode`, `CgroupnsMode`, `CgroupSpec`,
//! `Isolation`) and on `RestartPolicy`. A document names a field's type or
//! a struct's (see [`super::gostruct`]); the receiver is its JSON value.

use serde_json::Value;

/// `recv.name()` where `recv` is of Go type `ty`; `None` when that type
/// has no such method.
pub fn call(ty: &str, recv: &Value, name: &str) -> Option<Value> {
    if ty == "RestartPolicy" {
        let policy = recv.get("Name").and_then(Value::as_str).unwrap_or("");
        return restart_policy(policy, name).map(Value::Bool);
    }
    let s = recv.as_str().unwrap_or("");
    let (kind, rest) = s.split_once(':').unwrap_or((s, ""));
    let container = kind == "container" && s.contains(':');
    let word = |w: &str| Some(Value::Bool(s == w));
    let text = |t: &str| Some(Value::String(t.to_string()));
    match (ty, name) {
        ("NetworkMode", _) => network_mode(s, name),
        ("IpcMode", "IsPrivate") => word("private"),
        ("IpcMode", "IsShareable") => word("shareable"),
        ("IpcMode", "IsNone") => word("none"),
        ("IpcMode", "Valid") => Some(Value::Bool(
            ["", "none", "private", "host", "shareable"].contains(&s) || container,
        )),
        ("PidMode", "IsPrivate") => Some(Value::Bool(s != "host" && !container)),
        ("PidMode", "Valid") => Some(Value::Bool(match kind {
            "" | "host" => true,
            "container" => s.split(':').count() == 2 && !rest.is_empty(),
            _ => false,
        })),
        ("UTSMode" | "UsernsMode", "IsPrivate") => Some(Value::Bool(s != "host")),
        ("UTSMode" | "UsernsMode", "Valid") => Some(Value::Bool(["", "host"].contains(&kind))),
        ("CgroupnsMode", "IsPrivate") => word("private"),
        ("CgroupnsMode", "Valid") => Some(Value::Bool(["", "private", "host"].contains(&s))),
        ("IpcMode" | "CgroupnsMode", "IsEmpty") => word(""),
        ("CgroupSpec", "Valid") => Some(Value::Bool(container || s.is_empty())),
        ("IpcMode" | "PidMode" | "UTSMode" | "UsernsMode" | "CgroupnsMode", "IsHost") => {
            word("host")
        }
        ("IpcMode" | "PidMode" | "CgroupSpec", "IsContainer") => Some(Value::Bool(container)),
        ("IpcMode", "Container") => text(if container { rest } else { "" }),
        ("PidMode" | "CgroupSpec", "Container") => text(s.split_once(':').map_or("", |p| p.1)),
        ("Isolation", _) => isolation(s, name),
        _ => None,
    }
}

fn restart_policy(policy: &str, name: &str) -> Option<bool> {
    Some(match name {
        "IsNone" => policy == "no" || policy.is_empty(),
        "IsAlways" => policy == "always",
        "IsOnFailure" => policy == "on-failure",
        "IsUnlessStopped" => policy == "unless-stopped",
        _ => return None,
    })
}

/// `NetworkMode`'s methods, as on Linux.
fn network_mode(s: &str, name: &str) -> Option<Value> {
    let container = s.split_once(':').is_some_and(|(k, _)| k == "container");
    let builtin = ["default", "bridge", "host", "none"].contains(&s) || container;
    let b = |v: bool| Some(Value::Bool(v));
    let text = |t: &str| Some(Value::String(t.to_string()));
    match name {
        "IsNone" => b(s == "none"),
        "IsDefault" => b(s == "default"),
        "IsBridge" => b(s == "bridge"),
        "IsHost" => b(s == "host"),
        "IsPrivate" => b(s != "host" && !container),
        "IsContainer" => b(container),
        "IsUserDefined" => b(!builtin),
        "ConnectedContainer" => text(s.split_once(':').map_or("", |p| p.1)),
        "UserDefined" => text(if builtin { "" } else { s }),
        "NetworkName" if container => text("container"),
        "NetworkName" => text(s),
        _ => None,
    }
}

fn isolation(s: &str, name: &str) -> Option<Value> {
    let lower = s.to_lowercase();
    let default = lower == "default" || s.is_empty();
    Some(Value::Bool(match name {
        "IsDefault" | "IsValid" => default,
        "IsHyperV" => lower == "hyperv",
        "IsProcess" => lower == "process",
        _ => return None,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn m(ty: &str, recv: &str, name: &str) -> Value {
        call(ty, &json!(recv), name).unwrap()
    }

    #[test]
    fn modes_answer_as_dockers_types() {
        assert_eq!(m("NetworkMode", "host", "IsHost"), true);
        assert_eq!(m("NetworkMode", "mynet", "IsUserDefined"), true);
        assert_eq!(m("NetworkMode", "mynet", "NetworkName"), "mynet");
        assert_eq!(m("NetworkMode", "mynet", "UserDefined"), "mynet");
        assert_eq!(
            m("NetworkMode", "container:abc", "NetworkName"),
            "container"
        );
        assert_eq!(
            m("NetworkMode", "container:abc", "ConnectedContainer"),
            "abc"
        );
        assert_eq!(m("NetworkMode", "container:abc", "IsPrivate"), false);
        assert_eq!(m("NetworkMode", "default", "UserDefined"), "");
        assert_eq!(m("NetworkMode", "", "IsUserDefined"), true);
        assert_eq!(m("IpcMode", "container:x", "Container"), "x");
        assert_eq!(m("IpcMode", "container:x", "Valid"), true);
        assert_eq!(m("IpcMode", "bogus", "Valid"), false);
        assert_eq!(m("PidMode", "container:", "Valid"), false);
        assert_eq!(m("PidMode", "host:x", "Container"), "x");
        assert_eq!(m("UsernsMode", "host", "IsPrivate"), false);
        assert_eq!(m("Isolation", "HyperV", "IsHyperV"), true);
        assert_eq!(m("CgroupnsMode", "", "Valid"), true);
        let policy = json!({"Name": "", "MaximumRetryCount": 0});
        assert_eq!(call("RestartPolicy", &policy, "IsNone"), Some(json!(true)));
        assert_eq!(call("NetworkMode", &json!("host"), "Nope"), None);
        assert_eq!(call("Isolation", &json!(""), "Container"), None);
    }
}
