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
    /// A map (keys are data) of these.
    Map(&'static Shape),
}

use Shape::{List, Map, Struct};

/// `struct{}`, as `ExposedPorts` and `Volumes` hold.
const EMPTY: Shape = Struct("", &[]);

const STATE: Shape = Struct(
    "Status Running Paused Restarting OOMKilled Dead Pid ExitCode Error StartedAt \
     FinishedAt *Health",
    &[],
);

const RESTART: Shape = Struct("Name MaximumRetryCount", &[]);

const LOG: Shape = Struct("Type Config=map[]", &[]);

const BINDING: Shape = Struct("HostIp/HostIP HostPort", &[]);

const HOST_CONFIG: Shape = Struct(
    "Binds=[] ContainerIDFile LogConfig NetworkMode PortBindings=map[] \
     RestartPolicy AutoRemove VolumeDriver VolumesFrom=[] CapAdd=[] CapDrop=[] \
     CgroupnsMode Dns/DNS=[] DnsOptions/DNSOptions=[] DnsSearch/DNSSearch=[] \
     ExtraHosts=[] GroupAdd=[] IpcMode Cgroup Links=[] OomScoreAdj PidMode \
     Privileged PublishAllPorts ReadonlyRootfs SecurityOpt=[] StorageOpt=map[] \
     Tmpfs=map[] UTSMode UsernsMode ShmSize Sysctls=map[] Runtime ConsoleSize \
     Isolation { CpuShares/CPUShares Memory NanoCpus/NanoCPUs CgroupParent \
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
        ("PortBindings", Map(&List(&BINDING))),
        ("RestartPolicy", RESTART),
    ],
);

/// `Data`: a map of paths.
const GRAPH_DRIVER: Shape = Struct("Data=map[] Name", &[]);

const MOUNT: Shape = Struct(
    "Type Name= Source Destination Driver= Mode RW Propagation",
    &[],
);

/// `container.Config`: an image's and a container's.
const CONFIG: Shape = Struct(
    "Hostname Domainname User AttachStdin AttachStdout AttachStderr \
     ExposedPorts=map[] Tty OpenStdin StdinOnce Env=[] Cmd=[] *Healthcheck \
     ArgsEscaped=false Image Volumes=map[] WorkingDir Entrypoint=[] \
     NetworkDisabled=false MacAddress= OnBuild=[] Labels=map[] StopSignal= \
     *StopTimeout Shell=[]",
    &[("ExposedPorts", Map(&EMPTY)), ("Volumes", Map(&EMPTY))],
);

const ENDPOINT: Shape = Struct(
    "* *IPAMConfig Links=[] Aliases=[] NetworkID EndpointID Gateway IPAddress \
     IPPrefixLen IPv6Gateway GlobalIPv6Address GlobalIPv6PrefixLen MacAddress \
     DriverOpts=map[]",
    &[],
);

const NETWORK_SETTINGS: Shape = Struct(
    "{ Bridge SandboxID HairpinMode LinkLocalIPv6Address LinkLocalIPv6PrefixLen \
     Ports=map[] SandboxKey SecondaryIPAddresses=[] SecondaryIPv6Addresses=[] } \
     { EndpointID Gateway GlobalIPv6Address GlobalIPv6PrefixLen IPAddress IPPrefixLen \
     IPv6Gateway MacAddress } Networks=map[]",
    &[
        ("Ports", Map(&List(&BINDING))),
        ("Networks", Map(&ENDPOINT)),
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
        (Map(shape), v @ Value::Object(_)) => {
            // a nil slice among a map's values prints as `[]`
            if let List(_) = shape {
                gostruct::mark(v, &format!("{}[]", gostruct::MAP));
            }
            let m = v.as_object_mut().into_iter().flat_map(|m| m.iter_mut());
            m.filter(|(k, _)| *k != gostruct::STRUCT)
                .for_each(|(_, x)| apply(x, shape));
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
        // nil pointer alone: <no value>, as docker's {{.HostConfig.PidsLimit}})
        assert_eq!(
            r("{{.Config.Entrypoint}} {{.State.Health}}"),
            "[] <no value>"
        );
        assert_eq!(
            r("{{.Config.Volumes}}|{{.Config.MacAddress}}|{{.Nope}}"),
            "map[]||<no value>"
        );
    }
}
