//! JSON Schemas of the objects the store keeps as they came in: an image's
//! runtime config and its platform. They stay `serde_json::Value` in the
//! types (every key, known or not, is written back as it was read, in its
//! order); these give the record schemas their keys and types.

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use std::borrow::Cow;

/// The schema of a runtime config: docker's `Config` object, each key of
/// the type docker 20.10's `docker inspect` prints it with (its `null`s
/// included), OCI's keys among them. Keys it does not list are allowed
/// and carried through.
pub struct ConfigSchema;

impl JsonSchema for ConfigSchema {
    fn schema_name() -> Cow<'static, str> {
        "RuntimeConfig".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let strings = |what: &str| json_schema!({"description": what, "type": "array", "items": {"type": "string"}});
        let strings_or_null = |what: &str| json_schema!({"description": what, "type": ["array", "null"], "items": {"type": "string"}});
        let set = |what: &str| {
            json_schema!({
                "description": what,
                "type": ["object", "null"],
                "additionalProperties": {"type": "object", "maxProperties": 0}
            })
        };
        let ns = |what: &str| json_schema!({"description": what, "type": "integer", "minimum": 0});
        json_schema!({
            "description": "The runtime config: the `config` object of an image config, docker's keys (a superset of OCI's) with the types docker 20.10 prints. Keys not listed are kept as they are.",
            "type": "object",
            "properties": {
                "Hostname": {"description": "The container's host name.", "type": "string"},
                "Domainname": {"description": "The container's domain name.", "type": "string"},
                "User": {"description": "USER: `user[:group]`, by name or number.", "type": "string"},
                "AttachStdin": {"description": "Attach the standard input.", "type": "boolean"},
                "AttachStdout": {"description": "Attach the standard output.", "type": "boolean"},
                "AttachStderr": {"description": "Attach the standard error.", "type": "boolean"},
                "ExposedPorts": set("EXPOSE: `{\"80/tcp\": {}}`, a set of `port/protocol` keys."),
                "Tty": {"description": "Give the process a terminal.", "type": "boolean"},
                "OpenStdin": {"description": "Keep the standard input open.", "type": "boolean"},
                "StdinOnce": {"description": "Close the standard input after the first attached client leaves.", "type": "boolean"},
                "Env": strings_or_null("ENV: `NAME=value` strings."),
                "Cmd": strings_or_null("CMD: the command, or the arguments to the entrypoint."),
                "Healthcheck": {
                    "description": "HEALTHCHECK. Durations are in nanoseconds.",
                    "type": "object",
                    "properties": {
                        "Test": strings("`[\"NONE\"]`, `[\"CMD\", args…]` or `[\"CMD-SHELL\", command]`."),
                        "Interval": ns("Time between checks."),
                        "Timeout": ns("Time a check may take."),
                        "StartPeriod": ns("Time to start before failed checks count."),
                        "Retries": {"description": "Failures in a row that make the container unhealthy.", "type": "integer", "minimum": 0}
                    }
                },
                "ArgsEscaped": {"description": "The command line is already escaped (Windows).", "type": "boolean"},
                "Image": {"description": "The image the config was made from, as docker named it (often an ID).", "type": "string"},
                "Volumes": set("VOLUME: `{\"/data\": {}}`, a set of paths."),
                "WorkingDir": {"description": "WORKDIR: an absolute path, or empty.", "type": "string"},
                "Entrypoint": strings_or_null("ENTRYPOINT."),
                "NetworkDisabled": {"description": "The container has no network.", "type": "boolean"},
                "MacAddress": {"description": "The container's MAC address.", "type": "string"},
                "OnBuild": strings_or_null("ONBUILD: instructions for the builds FROM this image."),
                "Labels": {
                    "description": "LABEL: names and their values.",
                    "type": ["object", "null"],
                    "additionalProperties": {"type": "string"}
                },
                "StopSignal": {"description": "STOPSIGNAL: a name (`SIGTERM`) or a number.", "type": "string"},
                "StopTimeout": {"description": "Seconds to wait after the stop signal.", "type": "integer"},
                "Shell": strings("SHELL: the shell of the shell forms of RUN, CMD and ENTRYPOINT.")
            }
        })
    }
}

/// The schema of a platform as a layer records it.
pub struct PlatformSchema;

impl JsonSchema for PlatformSchema {
    fn schema_name() -> Cow<'static, str> {
        "Platform".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "The image's platform, the keys its image config gives.",
            "type": "object",
            "properties": {
                "architecture": {"description": "`amd64`, `arm64`, …", "type": "string"},
                "os": {"description": "`linux`, …", "type": "string"},
                "variant": {"description": "The CPU variant: `v7`, `v8`, …", "type": "string"}
            }
        })
    }
}
