//! docker 20.10's inspect keys that cairn has no setting for, at the zero
//! values docker prints for a container or image that does not use them.
//! They are added under the keys cairn fills, never over them.

use serde_json::{json, Value};

/// Add `zero`'s keys that `v` lacks, recursively into objects both have.
fn fill(v: &mut Value, zero: &Value) {
    let (Some(v), Some(zero)) = (v.as_object_mut(), zero.as_object()) else {
        return;
    };
    for (k, z) in zero {
        match v.get_mut(k) {
            Some(have) => fill(have, z),
            None => {
                v.insert(k.clone(), z.clone());
            }
        }
    }
}

/// A runtime config's keys, as docker prints an image's or a container's
/// `Config`.
fn config() -> Value {
    json!({
        "Hostname": "", "Domainname": "", "User": "",
        "AttachStdin": false, "AttachStdout": false, "AttachStderr": false,
        "Tty": false, "OpenStdin": false, "StdinOnce": false,
        "Env": null, "Cmd": null, "Image": "", "Volumes": null, "WorkingDir": "",
        "Entrypoint": null, "OnBuild": null, "Labels": null
    })
}

/// One network's keys in `NetworkSettings.Networks`.
fn endpoint() -> Value {
    json!({
        "IPAMConfig": null, "Links": null, "Aliases": null, "EndpointID": "",
        "IPv6Gateway": "", "GlobalIPv6Address": "", "GlobalIPv6PrefixLen": 0,
        "DriverOpts": null
    })
}

/// A container's document, completed.
pub fn fill_container(v: &mut Value) {
    fill(
        v,
        &json!({
            "MountLabel": "", "ProcessLabel": "", "AppArmorProfile": "", "ExecIDs": null,
            "HostConfig": host_config(),
            "Config": config(),
            "NetworkSettings": {
                "SandboxID": "", "HairpinMode": false, "LinkLocalIPv6Address": "",
                "LinkLocalIPv6PrefixLen": 0, "SandboxKey": "", "SecondaryIPAddresses": null,
                "SecondaryIPv6Addresses": null, "EndpointID": "", "GlobalIPv6Address": "",
                "GlobalIPv6PrefixLen": 0, "IPv6Gateway": ""
            }
        }),
    );
    let networks = v["NetworkSettings"]["Networks"].as_object_mut();
    for n in networks.into_iter().flat_map(|n| n.values_mut()) {
        fill(n, &endpoint());
    }
}

/// `HostConfig`'s keys cairn has no setting for.
fn host_config() -> Value {
    let mut v = json!({
        "ContainerIDFile": "",
        "VolumeDriver": "", "VolumesFrom": null, "CgroupnsMode": "host",
        "Dns": [], "DnsOptions": [], "DnsSearch": [], "ExtraHosts": null, "GroupAdd": null,
        "IpcMode": "private", "Cgroup": "", "Links": null, "OomScoreAdj": 0, "PidMode": "",
        "PublishAllPorts": false, "SecurityOpt": null, "UTSMode": "", "UsernsMode": "",
        "ConsoleSize": [0, 0], "Isolation": "", "CpuShares": 0, "CgroupParent": ""
    });
    fill(
        &mut v,
        &json!({
            "BlkioWeight": 0, "BlkioWeightDevice": [], "BlkioDeviceReadBps": null,
            "BlkioDeviceWriteBps": null, "BlkioDeviceReadIOps": null,
            "BlkioDeviceWriteIOps": null, "CpuPeriod": 0, "CpuQuota": 0,
            "CpuRealtimePeriod": 0, "CpuRealtimeRuntime": 0, "CpusetCpus": "", "CpusetMems": "",
            "Devices": [], "DeviceCgroupRules": null, "DeviceRequests": null
        }),
    );
    fill(
        &mut v,
        &json!({
            "KernelMemory": 0, "KernelMemoryTCP": 0, "MemoryReservation": 0,
            "MemorySwappiness": null, "OomKillDisable": false, "Ulimits": null, "CpuCount": 0,
            "CpuPercent": 0, "IOMaximumIOps": 0, "IOMaximumBandwidth": 0
        }),
    );
    v
}

/// An image's document, completed.
pub fn fill_image(v: &mut Value) {
    fill(
        v,
        &json!({
            "Container": "", "ContainerConfig": config(), "DockerVersion": "",
            "Config": config(),
            "Metadata": {"LastTagTime": "0001-01-01T00:00:00Z"}
        }),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_under_what_is_there() {
        let mut v = json!({"Config": {"Env": ["A=1"]}, "HostConfig": {"Dns": ["x"]},
            "NetworkSettings": {"Networks": {"none": {"IPAddress": ""}}}});
        fill_container(&mut v);
        assert_eq!(v["Config"]["Env"], json!(["A=1"]));
        assert_eq!(v["Config"]["Cmd"], Value::Null);
        assert_eq!(v["HostConfig"]["Dns"], json!(["x"]));
        assert_eq!(v["HostConfig"]["BlkioWeight"], json!(0));
        assert_eq!(
            v["NetworkSettings"]["Networks"]["none"]["Aliases"],
            Value::Null
        );
        assert!(v["NetworkSettings"]["Networks"]["none"]
            .as_object()
            .unwrap()
            .contains_key("DriverOpts"));
    }
}
