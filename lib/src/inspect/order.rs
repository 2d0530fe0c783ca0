//! Which objects of docker's inspect documents are Go structs, and their
//! fields in order, as docker 20.10's API types (`types.ContainerJSON`,
//! `container.Config`, `container.HostConfig`, `types.ImageInspect`, …)
//! declare them: so that the JSON prints its keys in docker's order and a
//! template's `{{.State}}` prints `{running true …}` where a map would
//! print `map[…]`. Fields that docker's JSON omits when empty
//! (`omitempty`) are listed too, with what Go prints for them then
//! (see [`crate::template::gostruct`]).
//!
//! Embedded structs and pointers are marked as Go prints them: the JSON
//! has an embedded struct's fields flat, Go prints it as one nested `{…}`
//! (`HostConfig` embeds `Resources`, `NetworkSettings` embeds
//! `NetworkSettingsBase` and `DefaultNetworkSettings`), or as an address
//! when it is a pointer (`ContainerJSON` embeds `*ContainerJSONBase`, so a
//! container's `{{.}}` prints `{0xc… [] 0xc… 0xc…}`). A field whose Go
//! name is not its JSON key is marked with both (`Id/ID`): docker's
//! templates reach the struct's by the Go name, and fall back to the JSON
//! for the other (see [`crate::template::render_docker`]).

use crate::template::gostruct;
use serde_json::Value;

/// How a part of a document is shaped.
enum Shape {
    /// A struct: its fields (see [`gostruct`]), and the shapes of those
    /// that are not plain values.
    Struct(&'static str, &'static [(&'static str, Shape)]),
    /// An array of these.
    List(&'static Shape),
    /// A map (keys are data) of these, whose element's zero is `Elem`.
    Map(Elem, &'static Shape),
    /// The same keyed by `nat.Port` (`80/tcp`), which a template's string
    /// cannot index.
    Ports(Elem, &'static Shape),
    /// A value of no parts.
    Plain,
}

/// What `index` gives for a key a map lacks: Go's zero of its element.
#[derive(Clone, Copy)]
enum Elem {
    /// `""`
    Text,
    /// `struct{}`: `{}`
    Unit,
    /// a nil slice: `[]`
    Slice,
    /// a nil pointer
    Pointer,
}

impl Elem {
    fn zero(self) -> Value {
        match self {
            Elem::Text => Value::from(""),
            Elem::Unit => {
                let mut v = Value::Object(Default::default());
                gostruct::mark(&mut v, "");
                v
            }
            Elem::Slice => Value::Array(vec![]),
            Elem::Pointer => Value::Null,
        }
    }
}

use Shape::{List, Map, Plain, Ports, Struct};

/// `map[string]string`.
const TEXTS: Shape = Map(Elem::Text, &Plain);

/// `struct{}`, as `ExposedPorts` and `Volumes` hold.
const EMPTY: Shape = Struct("", &[]);

const STATE: Shape = Struct(
    "Status Running Paused Restarting OOMKilled Dead Pid ExitCode Error StartedAt \
     FinishedAt *Health",
    &[],
);

const RESTART: Shape = Struct(":RestartPolicy Name MaximumRetryCount", &[]);

const LOG: Shape = Struct("Type Config=map[]", &[("Config", TEXTS)]);

const BINDING: Shape = Struct("HostIp/HostIP HostPort", &[]);

const HOST_CONFIG: Shape = Struct(
    "Binds=[] ContainerIDFile LogConfig NetworkMode:NetworkMode PortBindings=map[] \
     RestartPolicy AutoRemove VolumeDriver VolumesFrom=[] CapAdd=[] CapDrop=[] \
     CgroupnsMode:CgroupnsMode Dns/DNS=[] DnsOptions/DNSOptions=[] DnsSearch/DNSSearch=[] \
     ExtraHosts=[] GroupAdd=[] IpcMode:IpcMode Cgroup:CgroupSpec Links=[] OomScoreAdj \
     PidMode:PidMode Privileged PublishAllPorts ReadonlyRootfs SecurityOpt=[] \
     StorageOpt=map[] Tmpfs=map[] UTSMode:UTSMode UsernsMode:UsernsMode ShmSize \
     Sysctls=map[] Runtime ConsoleSize Isolation:Isolation { CpuShares/CPUShares Memory NanoCpus/NanoCPUs CgroupParent \
     BlkioWeight BlkioWeightDevice=[] BlkioDeviceReadBps=[] BlkioDeviceWriteBps=[] \
     BlkioDeviceReadIOps=[] BlkioDeviceWriteIOps=[] CpuPeriod/CPUPeriod \
     CpuQuota/CPUQuota CpuRealtimePeriod/CPURealtimePeriod \
     CpuRealtimeRuntime/CPURealtimeRuntime CpusetCpus CpusetMems Devices=[] \
     DeviceCgroupRules=[] DeviceRequests=[] KernelMemory KernelMemoryTCP \
     MemoryReservation MemorySwap *MemorySwappiness *OomKillDisable *PidsLimit \
     Ulimits=[] CpuCount/CPUCount CpuPercent/CPUPercent IOMaximumIOps \
     IOMaximumBandwidth } Mounts=[] MaskedPaths=[] ReadonlyPaths=[] *Init",
    &[
        ("LogConfig", LOG),
        ("PortBindings", Ports(Elem::Slice, &List(&BINDING))),
        ("RestartPolicy", RESTART),
        ("StorageOpt", TEXTS),
        ("Tmpfs", TEXTS),
        ("Sysctls", TEXTS),
    ],
);

/// `Data`: a map of paths.
const GRAPH_DRIVER: Shape = Struct("Data=map[] Name", &[("Data", TEXTS)]);

const MOUNT: Shape = Struct(
    "Type Name= Source Destination Driver= Mode RW Propagation",
    &[],
);

/// `container.HealthConfig`: its durations in nanoseconds.
const HEALTH: Shape = Struct(
    "Test=[] ~Interval=0s ~Timeout=0s ~StartPeriod=0s Retries=0",
    &[],
);

/// `container.Config`: an image's and a container's.
const CONFIG: Shape = Struct(
    "Hostname Domainname User AttachStdin AttachStdout AttachStderr \
     ExposedPorts=map[] Tty OpenStdin StdinOnce Env=[] Cmd=[] *Healthcheck \
     ArgsEscaped=false Image Volumes=map[] WorkingDir Entrypoint=[] \
     NetworkDisabled=false MacAddress= OnBuild=[] Labels=map[] StopSignal= \
     *StopTimeout Shell=[]",
    &[
        ("ExposedPorts", Ports(Elem::Unit, &EMPTY)),
        ("Volumes", Map(Elem::Unit, &EMPTY)),
        ("Labels", TEXTS),
        ("Healthcheck", HEALTH),
    ],
);

const ENDPOINT: Shape = Struct(
    "* *IPAMConfig Links=[] Aliases=[] NetworkID EndpointID Gateway IPAddress \
     IPPrefixLen IPv6Gateway GlobalIPv6Address GlobalIPv6PrefixLen MacAddress \
     DriverOpts=map[]",
    &[("DriverOpts", TEXTS)],
);

const NETWORK_SETTINGS: Shape = Struct(
    "{ Bridge SandboxID HairpinMode LinkLocalIPv6Address LinkLocalIPv6PrefixLen \
     Ports=map[] SandboxKey SecondaryIPAddresses=[] SecondaryIPv6Addresses=[] } \
     { EndpointID Gateway GlobalIPv6Address GlobalIPv6PrefixLen IPAddress IPPrefixLen \
     IPv6Gateway MacAddress } Networks=map[]",
    &[
        ("Ports", Ports(Elem::Slice, &List(&BINDING))),
        ("Networks", Map(Elem::Pointer, &ENDPOINT)),
    ],
);

const CONTAINER: Shape = Struct(
    "*{ Id/ID Created Path Args=[] *State Image ResolvConfPath HostnamePath HostsPath \
     LogPath *Node Name RestartCount Driver Platform MountLabel ProcessLabel \
     AppArmorProfile ExecIDs=[] *HostConfig GraphDriver *SizeRw *SizeRootFs } \
     Mounts=[] *Config *NetworkSettings",
    &[
        ("State", STATE),
        ("HostConfig", HOST_CONFIG),
        ("GraphDriver", GRAPH_DRIVER),
        ("Mounts", List(&MOUNT)),
        ("Config", CONFIG),
        ("NetworkSettings", NETWORK_SETTINGS),
    ],
);

const ROOT_FS: Shape = Struct("Type Layers=[] BaseLayer=", &[]);

const METADATA: Shape = Struct("@LastTagTime", &[]);

const IMAGE: Shape = Struct(
    "Id/ID RepoTags=[] RepoDigests=[] Parent Comment Created Container \
     *ContainerConfig DockerVersion Author *Config Architecture Variant= Os \
     OsVersion= Size VirtualSize GraphDriver RootFS Metadata",
    &[
        ("ContainerConfig", CONFIG),
        ("Config", CONFIG),
        ("GraphDriver", GRAPH_DRIVER),
        ("RootFS", ROOT_FS),
        ("Metadata", METADATA),
    ],
);

fn apply(v: &mut Value, shape: &Shape) {
    match (shape, v) {
        (Struct(spec, inner), v @ Value::Object(_)) => {
            gostruct::mark(v, spec);
            for (field, shape) in *inner {
                if let Some(x) = v.get_mut(*field) {
                    apply(x, shape);
                }
            }
        }
        (List(shape), Value::Array(a)) => a.iter_mut().for_each(|x| apply(x, shape)),
        (Map(elem, inner) | Ports(elem, inner), v) if v.is_object() || v.is_null() => {
            let values = v.as_object_mut().into_iter().flat_map(|m| m.values_mut());
            values.for_each(|x| apply(x, inner));
            gostruct::mark_map(v, elem.zero(), matches!(shape, Ports(..)));
        }
        _ => {}
    }
}

/// Mark a container's document's structs.
pub fn container(v: &mut Value) {
    apply(v, &CONTAINER)
}

/// Mark an image's document's structs.
pub fn image(v: &mut Value) {
    apply(v, &IMAGE)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::{gostruct::to_json, render};
    use serde_json::json;

    #[test]
    fn docker_order_and_go_printing() {
        let mut v = json!({
            "State": {"Status": "running", "Running": true, "Pid": 7, "Paused": false},
            "HostConfig": {"RestartPolicy": {"MaximumRetryCount": 3, "Name": "on-failure"}},
            "Config": {"ExposedPorts": {"80/tcp": {}}, "Labels": {"b": "1", "a": "2"}},
            "Id": "x",
            "NetworkSettings": {"Bridge": "", "Gateway": "10.0.0.1", "Networks": {"n": {}}},
        });
        container(&mut v);
        assert_eq!(
            to_json(&v),
            r#"{"Id":"x","State":{"Status":"running","Running":true,"Paused":false,"Pid":7},"HostConfig":{"RestartPolicy":{"Name":"on-failure","MaximumRetryCount":3}},"Config":{"ExposedPorts":{"80/tcp":{}},"Labels":{"a":"2","b":"1"}},"NetworkSettings":{"Bridge":"","Gateway":"10.0.0.1","Networks":{"n":{}}}}"#
        );
        let r = |t| render(t, &v).unwrap();
        assert_eq!(r("{{.HostConfig.RestartPolicy}}"), "{on-failure 3}");
        assert_eq!(
            r("{{.State}}"),
            "{running true false <nil> <nil> <nil> 7 <nil> <nil> <nil> <nil> <nil>}"
        );
        assert_eq!(r("{{.Config.Labels}}"), "map[a:2 b:1]");
        // embedded structs nest; pointers inside a value are addresses
        // (and absent fields `<nil>`: the skeleton fills them in a real
        // document)
        assert_eq!(
            r("{{.NetworkSettings}}"),
            "{{ <nil> <nil> <nil> <nil> map[] <nil> [] []} \
             {<nil> 10.0.0.1 <nil> <nil> <nil> <nil> <nil> <nil>} map[n:0xc000010000]}"
        );
        assert_eq!(r("{{.}}"), "{0xc000010000 [] 0xc000010001 0xc000010002}");
        // as docker's inspect: Go's names over the structs; a template that
        // fails there runs again over the plain JSON, every object a map
        let d = |t| crate::template::render_docker(t, &v);
        assert_eq!(
            d("{{.ID}} {{.HostConfig.RestartPolicy}}").unwrap(),
            "x {on-failure 3}"
        );
        assert_eq!(
            d("{{.Id}} {{.HostConfig.RestartPolicy}}").unwrap(),
            "x map[MaximumRetryCount:3 Name:on-failure]"
        );
        assert_eq!(d("{{.Config.Labels.c}}").unwrap(), "<no value>");
        assert_eq!(d("{{.Config.Labels.a}}").unwrap(), "2");
        for bad in [
            "{{.Nope}}",
            "{{.id}}",
            "{{.Id}}{{.Config.Labels.c}}",
            "{{.State.Health.Status}}",
        ] {
            assert!(d(bad).is_err(), "{bad}");
        }
        assert_eq!(r("{{.Config.ExposedPorts}}"), "map[80/tcp:{}]");
        assert_eq!(r("{{len .HostConfig.RestartPolicy.Name}}"), "10");
        assert_eq!(r("{{if .State}}y{{end}}"), "y");
        // a struct's nil or absent field prints as Go prints its zero (a
        // nil pointer: <nil>, as docker's {{.State.Health}})
        assert_eq!(r("{{.Config.Entrypoint}} {{.State.Health}}"), "[] <nil>");
        assert_eq!(
            r("{{.Config.Volumes}}|{{.Config.MacAddress}}|{{.Nope}}"),
            "map[]||<no value>"
        );
    }

    /// What docker 20.10 printed for these templates over its structs
    /// (tests/inspect.rs compares them with docker itself).
    #[test]
    fn methods_maps_and_the_json_fallback_as_docker() {
        let mut v = json!({
            "Id": "x",
            "State": {"Status": "created", "Pid": 0, "ExitCode": 0},
            "HostConfig": {"NetworkMode": "host", "IpcMode": "private", "PidMode": "",
                "RestartPolicy": {"Name": "on-failure", "MaximumRetryCount": 2},
                "PortBindings": {}},
            "Config": {"Labels": {"a": "b"}, "Volumes": null, "ExposedPorts": {"80/tcp": {}}},
            "NetworkSettings": {"Networks": {"host": {"IPAddress": ""}}},
        });
        container(&mut v);
        let d = |t| crate::template::render_docker(t, &v);
        let ok = |t| d(t).unwrap();
        assert_eq!(
            ok(
                "{{.HostConfig.NetworkMode.IsHost}} {{.HostConfig.NetworkMode.NetworkName}} \
                {{.HostConfig.IpcMode.IsPrivate}} {{.HostConfig.PidMode.IsHost}}"
            ),
            "true host true false"
        );
        assert_eq!(
            ok("{{with .HostConfig}}{{if .RestartPolicy.IsOnFailure}}\
                {{.RestartPolicy.MaximumRetryCount}}{{end}}{{.RestartPolicy.IsNone}}{{end}}"),
            "2false"
        );
        // a missing key: index gives the element's zero, a field <no value>
        assert_eq!(
            ok(
                r#"[{{index .Config.Labels "x"}}] {{.Config.Labels.x}} {{index .Config.Volumes "/v"}}"#
            ),
            "[] <no value> {}"
        );
        // a nil map: null in JSON, empty to the rest
        assert_eq!(
            ok("{{json .Config.Volumes}} {{.Config.Volumes}} {{len .Config.Volumes}} {{if .Config.Volumes}}y{{end}}"),
            "null map[] 0 "
        );
        // nat.Port keys take no string: that fails over the structs and runs
        // again over the JSON, where the key is missing
        assert_eq!(ok(r#"{{index .Config.ExposedPorts "80/tcp"}}"#), "map[]");
        // over the JSON, numbers are json.Number: text, always true,
        // comparable with strings only
        assert_eq!(
            ok(
                r#"{{.Id}} {{if .State.ExitCode}}T{{end}} {{eq .State.Pid "0"}} {{printf "%d %v" .State.Pid .State.Pid}} {{len .State.Pid}} {{json .State.Pid}}"#
            ),
            "x T true %!d(json.Number=0) 0 1 0"
        );
        for bad in [
            "{{.Id}} {{eq .State.Pid 0}}",
            r#"{{.Id}} {{index .Config.Volumes "/v"}}"#,
            "{{.Id}} {{.State.Health}}",
            "{{.HostConfig.NetworkMode.Nope}}",
            "{{.HostConfig.NetworkMode.IsHost.X}}",
            "{{.Id}} {{join .Config.Cmd \",\"}}",
        ] {
            assert!(d(bad).is_err(), "{bad}");
        }
        assert_eq!(ok(r#"{{.Id}} {{join (split "a/b" "/") "-"}}"#), "x a-b");
        // a struct's nil slice or map has a length; a nil pointer has none
        assert_eq!(
            ok("{{len .HostConfig.CapAdd}} {{len .Config.Volumes}}"),
            "0 0"
        );
        assert!(d("{{len .State.Health}}").is_err());
        assert!(d("{{.Id}} {{len .HostConfig.CapAdd}}").is_err());
    }
}
