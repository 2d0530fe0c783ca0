//! docker's `inspect` documents of a container and of an image, built from
//! the store: docker's key names and nesting (`.State.Pid`,
//! `.HostConfig.RestartPolicy.Name`, `.Config.Env`, `.RootFS.Layers`), so
//! a person's `docker inspect` habits and `-f` templates work unchanged.
//!
//! The typed part ([`Container`], [`Image`]) holds every key cairn has a
//! value for; [`Container::to_value`] and [`Image::to_value`] then add
//! docker's remaining keys (`ContainerIDFile`, `BlkioWeight`, `SandboxID`,
//! …) at the zero values docker prints for a container that does not use
//! them ([`skeleton`]), so that every key docker 20.10 prints is there.
//! IDs, times and paths are cairn's own: the container's directory in the
//! store, the image ID (the digest of its config), the network's name
//! where docker has a network ID.
//!
//! These are documents for people and templates, not records of the pipe
//! protocol (their keys are docker's, not snake_case); `cairn inspect`
//! prints them on a terminal, with `-f`, and with `--format table`.

mod order;
mod skeleton;

use crate::container::{self, ContainerError};
use crate::digest::{ContainerId, Digest, LayerId};
use crate::image::runtime_config as rcfg;
use crate::net::{self, NetError, NetworkSettings, PortBinding};
use crate::record::{ContainerInspect, ImageInspect};
use crate::reference::familiar_repository;
use crate::store::container::{ContainerMeta, MountKind, MountSpec, Resources, State, Status};
use crate::store::{refs, Store, StoreError};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

#[derive(Debug, thiserror::Error)]
pub enum InspectError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Container(#[from] ContainerError),
    #[error(transparent)]
    Net(#[from] NetError),
}

type Result<T> = std::result::Result<T, InspectError>;

/// docker's empty time, for a start or an end that has not happened.
const NEVER: &str = "0001-01-01T00:00:00Z";

/// The storage driver cairn's layout is: one overlayfs mount over a stack
/// of layer directories, as docker's overlay2.
const DRIVER: &str = "overlay2";

/// `docker inspect CONTAINER`, as docker 20.10 prints it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "PascalCase")]
#[schemars(
    title = "docker's inspect document of a container",
    extend("additionalProperties" = true)
)]
pub struct Container {
    /// The container ID, 64 hex digits.
    pub id: ContainerId,
    /// RFC 3339, UTC.
    pub created: String,
    /// The program its process runs (the first word of Entrypoint + Cmd).
    pub path: String,
    /// Its arguments.
    pub args: Vec<String>,
    pub state: DockerState,
    /// The image ID: the digest of the image's config.
    pub image: Digest,
    pub resolv_conf_path: String,
    pub hostname_path: String,
    pub hosts_path: String,
    /// Where a container's output goes (but a plain foreground run's), each line with its stream
    /// and time (docs/store.md, "The container log"); `cairn logs` reads it.
    pub log_path: String,
    /// Its name, with docker's leading slash.
    pub name: String,
    /// How many times its restart policy started it again.
    pub restart_count: u32,
    pub driver: String,
    pub platform: String,
    pub host_config: HostConfig,
    pub graph_driver: GraphDriver,
    pub mounts: Vec<Mount>,
    /// Its runtime config: the image's with this container's overrides.
    #[schemars(with = "crate::store::schema::ConfigSchema")]
    pub config: Value,
    pub network_settings: NetworkSettings,
    /// With `--size`: bytes in its read-write layer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_rw: Option<u64>,
    /// With `--size`: bytes in its whole view (image and read-write layer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_root_fs: Option<u64>,
}

/// docker's `State`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "PascalCase")]
pub struct DockerState {
    /// created, running, paused, restarting or exited.
    pub status: String,
    /// True while it has a process (running, paused or restarting).
    pub running: bool,
    pub paused: bool,
    pub restarting: bool,
    #[serde(rename = "OOMKilled")]
    pub oom_killed: bool,
    pub dead: bool,
    /// Its init's host pid, 0 when it has none.
    pub pid: i32,
    pub exit_code: i32,
    pub error: String,
    /// RFC 3339; `0001-01-01T00:00:00Z` when it never started.
    pub started_at: String,
    /// RFC 3339; `0001-01-01T00:00:00Z` when it has not exited.
    pub finished_at: String,
}

/// docker's `HostConfig`: the keys cairn has settings for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "PascalCase")]
pub struct HostConfig {
    /// `-v` binds and named volumes, `SOURCE:TARGET[:ro]`; null for none.
    pub binds: Option<Vec<String>>,
    pub log_config: LogConfig,
    /// The network it runs on (`bridge`, `none`, `host`, `container:NAME`, …).
    pub network_mode: String,
    /// `-p`: host bindings by the container's port (`80/tcp`).
    pub port_bindings: BTreeMap<String, Vec<PortBinding>>,
    pub restart_policy: RestartPolicy,
    /// `--rm`.
    pub auto_remove: bool,
    pub cap_add: Option<Vec<String>>,
    pub cap_drop: Option<Vec<String>>,
    pub privileged: bool,
    pub readonly_rootfs: bool,
    /// Bytes, 0 for no limit.
    pub memory: u64,
    /// Memory and swap together, -1 for unbounded swap, 0 without a
    /// memory limit (docker's default for `-m`: twice it where the kernel
    /// bounds swap, else -1).
    pub memory_swap: i64,
    /// CPUs in billionths (`--cpus 0.5`: 500000000).
    pub nano_cpus: u64,
    /// Most processes at once; null when not asked (cairn's default bound
    /// applies, docker's none) or unbounded (-1).
    pub pids_limit: Option<i64>,
    /// `--init`; absent when not asked, as docker leaves it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init: Option<bool>,
    /// `--tmpfs`: options by target; absent for none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tmpfs: Option<BTreeMap<String, String>>,
    pub runtime: String,
    /// The size of its /dev/shm.
    pub shm_size: u64,
    pub masked_paths: Option<Vec<String>>,
    pub readonly_paths: Option<Vec<String>>,
}

/// docker's `LogConfig`: cairn's own log (docs/store.md), and the
/// `--log-opt` options it was created with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "PascalCase")]
pub struct LogConfig {
    /// `cairn`.
    #[serde(rename = "Type")]
    pub kind: String,
    /// `max-size`, `max-file` as given.
    pub config: BTreeMap<String, String>,
}

/// docker's `RestartPolicy`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "PascalCase")]
pub struct RestartPolicy {
    /// `no`, `on-failure`, `always` or `unless-stopped`.
    pub name: String,
    pub maximum_retry_count: u32,
}

/// docker's `GraphDriver`: where the layers are.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "PascalCase")]
pub struct GraphDriver {
    /// `LowerDir` (colon-separated, top first), `UpperDir`, `WorkDir`,
    /// `MergedDir`. An image's `WorkDir` and `MergedDir` are never made:
    /// they are where docker's overlay2 has them, in the top layer's
    /// directory (an image of one layer has no `LowerDir`).
    pub data: BTreeMap<String, String>,
    pub name: String,
}

/// One of docker's `Mounts`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "PascalCase")]
pub struct Mount {
    /// bind, volume or tmpfs.
    #[serde(rename = "Type")]
    pub kind: String,
    /// A volume's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub source: String,
    pub destination: String,
    /// A volume's driver (`local`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driver: Option<String>,
    pub mode: String,
    #[serde(rename = "RW")]
    pub rw: bool,
    pub propagation: String,
}

/// `docker image inspect IMAGE`, as docker 20.10 prints it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "PascalCase")]
#[schemars(
    title = "docker's inspect document of an image",
    extend("additionalProperties" = true)
)]
pub struct Image {
    /// The image ID: the digest of its config.
    pub id: Digest,
    /// Every tag naming it (`busybox:latest`).
    pub repo_tags: Vec<String>,
    /// `NAME@DIGEST` of each registry manifest it came with or went out as.
    pub repo_digests: Vec<String>,
    /// docker's parent image ID; empty, as for any image not built here.
    pub parent: String,
    /// The top layer's comment.
    pub comment: String,
    /// RFC 3339, from its config.
    pub created: String,
    pub author: String,
    /// Its runtime config (`Env`, `Cmd`, …).
    #[schemars(with = "crate::store::schema::ConfigSchema")]
    pub config: Value,
    pub architecture: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    pub os: String,
    /// Bytes of file data in its layers.
    pub size: u64,
    pub virtual_size: u64,
    pub graph_driver: GraphDriver,
    #[serde(rename = "RootFS")]
    pub root_fs: RootFs,
}

/// docker's `RootFS`: the layers' diff IDs, bottom first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "PascalCase")]
pub struct RootFs {
    #[serde(rename = "Type")]
    pub kind: String,
    pub layers: Vec<Digest>,
}

impl Container {
    /// The document with docker's remaining keys at their zero values,
    /// its structs marked with their fields' order (see [`order`]).
    pub fn to_value(&self) -> Value {
        let mut v = serde_json::to_value(self).expect("a document serializes");
        skeleton::fill_container(&mut v);
        order::container(&mut v);
        v
    }
}

impl Image {
    /// The document with docker's remaining keys at their zero values,
    /// its structs marked with their fields' order (see [`order`]).
    pub fn to_value(&self) -> Value {
        let mut v = serde_json::to_value(self).expect("a document serializes");
        skeleton::fill_image(&mut v);
        order::image(&mut v);
        v
    }
}

/// A container's NetworkSettings: as [`NetworkSettings::of`], with no
/// network's ID before its first start, as docker's.
fn network_settings(ep: Option<&net::Endpoint>, config: &Value, st: &State) -> NetworkSettings {
    let mut s = NetworkSettings::of(ep, exposed(config));
    if st.started_at.is_none() {
        s.networks.values_mut().for_each(|e| e.network_id.clear());
    }
    s
}

/// docker's `inspect` of container `c`; with `size`, `SizeRw` and
/// `SizeRootFs` too (they walk the file systems).
pub fn container(store: &Store, c: &ContainerMeta, size: bool) -> Result<Container> {
    let st = container::state(store, c)?;
    let ep = net::endpoint(store, &c.id)?;
    let dirs = store.container_dirs(&c.id);
    let argv = if st.command.is_empty() {
        rcfg::argv(&rcfg::runtime(&c.config))
    } else {
        st.command.clone()
    };
    let mut config = c.config.clone();
    config_defaults(&mut config, c, &st);
    let at = |f: &str| dirs.dir.join(f).display().to_string();
    let (size_rw, size_root_fs) = match size {
        false => (None, None),
        true => {
            let rw = crate::graph::dir_size(&dirs.upper);
            let mut sizes = Default::default();
            let (_, image) = crate::graph::image_summary(store, &c.layer, &mut sizes)?;
            (Some(rw), Some(rw + image))
        }
    };
    let mut lower = vec![];
    for d in container::lower_layers(store, c)? {
        lower.push(d.display().to_string());
    }
    Ok(Container {
        id: c.id,
        created: c.created.clone(),
        path: argv.first().cloned().unwrap_or_default(),
        args: argv.iter().skip(1).cloned().collect(),
        state: docker_state(&st),
        image: crate::image::config::image_id(store, &c.layer)?,
        resolv_conf_path: at("resolv.conf"),
        hostname_path: at("hostname"),
        hosts_path: at("hosts"),
        log_path: dirs.log.display().to_string(),
        name: format!("/{}", c.name),
        restart_count: st.restart_count,
        driver: DRIVER.into(),
        platform: "linux".into(),
        host_config: host_config(store, c, &st, ep.as_ref()),
        graph_driver: graph_driver(
            lower,
            [&dirs.upper, &dirs.work, &dirs.rootfs].map(|p| p.display().to_string()),
        ),
        mounts: c.host.mounts.iter().map(|m| mount(store, m)).collect(),
        config,
        network_settings: network_settings(ep.as_ref(), &c.config, &st),
        size_rw,
        size_root_fs,
    })
}

/// The ports a container's config exposes (`8080/tcp`).
fn exposed(config: &serde_json::Value) -> impl Iterator<Item = &str> {
    let ports = config.get("ExposedPorts").and_then(|v| v.as_object());
    ports.into_iter().flat_map(|m| m.keys().map(String::as_str))
}

/// docker's `State` for cairn's.
fn docker_state(st: &State) -> DockerState {
    let live = matches!(
        st.status,
        Status::Running | Status::Paused | Status::Restarting
    );
    DockerState {
        status: st.status.as_str().into(),
        running: live,
        paused: st.status == Status::Paused,
        restarting: st.status == Status::Restarting,
        oom_killed: st.oom_killed,
        dead: false,
        pid: st.pid.filter(|_| live).unwrap_or(0),
        exit_code: st.exit_code.unwrap_or(0),
        error: String::new(),
        started_at: st.started_at.clone().unwrap_or_else(|| NEVER.into()),
        finished_at: st.finished_at.clone().unwrap_or_else(|| NEVER.into()),
    }
}

/// The keys of docker's container `Config` that the image config leaves
/// to the container: its host name, image name, terminal and streams.
fn config_defaults(config: &mut Value, c: &ContainerMeta, st: &State) {
    if !config.is_object() {
        *config = Value::Object(Map::new());
    }
    let o = config.as_object_mut().expect("an object");
    let hostname = c.host.hostname.clone().unwrap_or_else(|| c.id.short());
    o.insert("Hostname".into(), hostname.into());
    o.insert("Image".into(), c.image.clone().into());
    let t = &c.host.terminal;
    for (k, v) in [
        ("AttachStdin", t.attach_stdin),
        ("AttachStdout", t.attach_stdout),
        ("AttachStderr", t.attach_stderr),
        // a start given -t (`isolate -t`) gives it a terminal too
        ("Tty", t.tty || st.run.tty),
        ("OpenStdin", t.open_stdin),
        ("StdinOnce", t.stdin_once),
    ] {
        o.insert(k.into(), v.into());
    }
}

fn host_config(
    store: &Store,
    c: &ContainerMeta,
    st: &State,
    ep: Option<&net::Endpoint>,
) -> HostConfig {
    let named = |m: &&MountSpec| m.kind != MountKind::Tmpfs && !m.anonymous;
    let binds: Vec<String> = (c.host.mounts.iter().filter(named))
        .map(|m| {
            let src = m.source.clone().unwrap_or_default();
            let ro = if m.readonly { ":ro" } else { "" };
            format!("{src}:{}{ro}", m.target)
        })
        .collect();
    let tmpfs: BTreeMap<String, String> = (c.host.mounts.iter())
        .filter(|m| m.kind == MountKind::Tmpfs)
        .map(|m| (m.target.clone(), m.options.join(",")))
        .collect();
    let caps = |v: &[String]| {
        let bare = v
            .iter()
            .map(|c| c.strip_prefix("CAP_").unwrap_or(c).to_string());
        (!v.is_empty()).then(|| bare.collect())
    };
    let restart = &c.host.restart;
    let limits = shown_resources(c, st);
    // recorded at create, or (a container made before create kept it)
    // given to its last start
    let privileged = c.host.privileged || st.run.privileged;
    let listed = |l: &[&str]| (!privileged).then(|| l.iter().map(|s| s.to_string()).collect());
    HostConfig {
        binds: (!binds.is_empty()).then_some(binds),
        log_config: LogConfig {
            kind: "cairn".into(),
            config: c.host.log_opts.clone(),
        },
        network_mode: ep.map_or("default".into(), |e| e.network_mode()),
        port_bindings: port_bindings(ep),
        restart_policy: RestartPolicy {
            name: if restart.is_no() { "no" } else { &restart.name }.into(),
            maximum_retry_count: restart.maximum_retry_count,
        },
        auto_remove: c.host.auto_remove || container::removes_itself(store, c),
        cap_add: caps(&c.host.cap_add),
        cap_drop: caps(&c.host.cap_drop),
        privileged,
        readonly_rootfs: c.host.read_only,
        memory: limits.memory.unwrap_or(0),
        memory_swap: limits.memory.and(limits.memory_swap).unwrap_or(0),
        nano_cpus: limits.cpus.map_or(0, |c| (c * 1e9).round() as u64),
        // -1 (no bound) is docker's null too
        pids_limit: limits.pids_limit.filter(|n| *n > 0),
        init: c.host.init.then_some(true),
        tmpfs: (!tmpfs.is_empty()).then_some(tmpfs),
        runtime: "cairn".into(),
        shm_size: 64 << 20,
        masked_paths: listed(crate::isolate::spec::MASKED_PATHS),
        readonly_paths: listed(crate::isolate::spec::READONLY_PATHS),
    }
}

/// The limits docker's HostConfig shows: those recorded at create; for a
/// container with none recorded (made before create took them, or run by
/// `isolate` with its own flags), those its last start applied.
fn shown_resources(c: &ContainerMeta, st: &State) -> Resources {
    if !c.host.resources.is_default() {
        return c.host.resources;
    }
    let default = crate::isolate::config::DEFAULT_PIDS_LIMIT;
    Resources {
        memory: st.run.memory,
        memory_swap: st.run.memory_swap,
        pids_limit: (st.run.pids_limit.filter(|n| *n != default)).map(|n| n as i64),
        cpus: st.run.cpus,
    }
}

/// `-p` as docker's `PortBindings`: what the container asked for (a host
/// port of 0 is docker's empty `HostPort`).
fn port_bindings(ep: Option<&net::Endpoint>) -> BTreeMap<String, Vec<PortBinding>> {
    let mut out: BTreeMap<String, Vec<PortBinding>> = BTreeMap::new();
    for p in ep.iter().flat_map(|e| &e.publish) {
        let key = format!("{}/{}", p.container_port, p.proto);
        out.entry(key).or_default().push(PortBinding {
            host_ip: p.host_ip.map(|i| i.to_string()).unwrap_or_default(),
            host_port: match p.host_port {
                0 => String::new(),
                n => n.to_string(),
            },
        });
    }
    out
}

fn mount(store: &Store, m: &MountSpec) -> Mount {
    let source = m.source.clone().unwrap_or_default();
    let (kind, name, source, driver, mode) = match m.kind {
        MountKind::Bind => (
            "bind",
            None,
            source,
            None,
            if m.readonly { "ro" } else { "" },
        ),
        MountKind::Volume => {
            let data = crate::volume::data_dir(store, &source);
            let path = data.display().to_string();
            ("volume", Some(source), path, Some("local".into()), "z")
        }
        MountKind::Tmpfs => ("tmpfs", None, String::new(), None, ""),
    };
    Mount {
        kind: kind.into(),
        name,
        source,
        destination: m.target.clone(),
        driver,
        mode: mode.into(),
        rw: !m.readonly,
        propagation: match (m.kind, &m.source) {
            (MountKind::Bind, Some(s)) => container::bind_propagation(store, s),
            _ => "",
        }
        .into(),
    }
}

fn graph_driver(lower: Vec<String>, [upper, work, merged]: [String; 3]) -> GraphDriver {
    let mut data = BTreeMap::new();
    data.insert("LowerDir".into(), lower.join(":"));
    data.insert("MergedDir".into(), merged);
    data.insert("UpperDir".into(), upper);
    data.insert("WorkDir".into(), work);
    GraphDriver {
        data,
        name: DRIVER.into(),
    }
}

/// An image's `GraphDriver` over its layers' diff directories `stack`
/// (top first), with the keys docker's overlay2 gives an image: the top
/// layer's diff as `UpperDir`, the others as `LowerDir` (none for one
/// layer), and `WorkDir` and `MergedDir` in the top layer's directory,
/// where a union of the image alone would keep its work and be mounted.
/// Cairn never makes those two (it mounts a union only for a container,
/// whose own are its `WorkDir` and `MergedDir`); docker's `MergedDir` of
/// an image is there only while something mounts it.
fn image_graph_driver(stack: &[std::path::PathBuf]) -> GraphDriver {
    let text = |p: &std::path::Path| p.display().to_string();
    let Some((upper, lower)) = stack.split_first() else {
        return graph_driver(vec![], [String::new(), String::new(), String::new()]);
    };
    let top = upper.parent().unwrap_or(upper);
    let mut graph = graph_driver(
        lower.iter().map(|d| text(d)).collect(),
        [
            text(upper),
            text(&top.join("work")),
            text(&top.join("merged")),
        ],
    );
    graph.data.retain(|_, v| !v.is_empty());
    graph
}

/// `docker image inspect` of the image whose top layer is `top`.
pub fn image(store: &Store, top: &LayerId) -> Result<Image> {
    let chain = store.chain(top)?;
    let bytes = crate::image::config::config_bytes(store, &chain)?;
    let cfg: Value = serde_json::from_slice(&bytes).unwrap_or_default();
    let text = |k: &str| cfg[k].as_str().unwrap_or_default().to_string();
    let layers = (cfg["rootfs"]["diff_ids"].as_array().into_iter().flatten())
        .filter_map(|d| d.as_str()?.parse().ok())
        .collect();
    let mut sizes = Default::default();
    let (_, size) = crate::graph::image_summary(store, top, &mut sizes)?;
    let repo_tags: Vec<String> = (refs::list(store)?.into_iter())
        .filter(|r| r.layer == *top)
        .map(|r| r.name)
        .collect();
    let graph = image_graph_driver(&store.stack(top)?.dirs);
    Ok(Image {
        id: Digest::of(&bytes),
        repo_tags,
        repo_digests: repo_digests(store, top)?,
        parent: String::new(),
        comment: chain[0].1.comment.clone().unwrap_or_default(),
        created: text("created"),
        author: text("author"),
        config: cfg
            .get("config")
            .cloned()
            .unwrap_or_else(|| Value::Object(Map::new())),
        architecture: text("architecture"),
        variant: cfg["variant"].as_str().map(String::from),
        os: text("os"),
        size,
        virtual_size: size,
        graph_driver: graph,
        root_fs: RootFs {
            kind: "layers".into(),
            layers,
        },
    })
}

/// `NAME@DIGEST` for each registry manifest the image is known by, in
/// docker's familiar form (`busybox@sha256:…` for Docker Hub's).
pub fn repo_digests(store: &Store, top: &LayerId) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for m in store.layer_info(top)?.remote {
        let Some(name) = familiar_repository(&m.repository) else {
            continue;
        };
        let d = format!("{name}@{}", m.manifest);
        if !out.contains(&d) {
            out.push(d);
        }
    }
    Ok(out)
}

/// cairn's own document of container `c` (what the pipe carries): its
/// stored record and state, with where it lives.
pub fn stored_container(store: &Store, c: ContainerMeta) -> Result<ContainerInspect> {
    let state = container::state(store, &c)?;
    let dir = store.container_dir(&c.id);
    Ok(ContainerInspect {
        container: c.id,
        status: state.status,
        state,
        mounted: container::is_mounted(store, &c),
        rootfs: dir.join("rootfs"),
        upper: dir.join("upper"),
        path: dir,
        network_settings: NetworkSettings::of(
            net::endpoint(store, &c.id)?.as_ref(),
            exposed(&c.config),
        ),
        meta: c,
        extra: Default::default(),
    })
}

/// cairn's own document of the image whose top layer is `id` (what the
/// pipe carries): the layer's metadata, with what its stack computes.
pub fn stored_image(store: &Store, id: &LayerId) -> Result<ImageInspect> {
    let meta = store.layer(id)?;
    let info = store.layer_info(id)?;
    let chain = store.chain(id)?;
    Ok(ImageInspect {
        layer: *id,
        empty_layer: meta.is_empty_layer(),
        meta,
        size: info.size,
        blob: info.blob,
        depth: chain.len(),
        effective_config: rcfg::effective_config(&chain),
        tags: (refs::list(store)?.into_iter())
            .filter(|t| t.layer == *id)
            .map(|t| t.name)
            .collect(),
        path: store.layer_dir(id),
        extra: Default::default(),
    })
}

/// Documents as docker prints them for people (`docker inspect`): one
/// JSON array, indented by four spaces, `[]` for none; structs' keys in
/// docker's order.
pub fn to_text(docs: &[Value]) -> String {
    if docs.is_empty() {
        return "[]\n".into();
    }
    let mut buf = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
    let docs: Vec<_> = docs
        .iter()
        .map(crate::template::gostruct::Ordered)
        .collect();
    docs.serialize(&mut ser).expect("JSON values serialize");
    buf.push(b'\n');
    String::from_utf8(buf).expect("JSON is UTF-8")
}

/// The documents' schemas: (file name, JSON text), as the records' are
/// kept in `docs/`.
pub fn schemas() -> Vec<(String, String)> {
    let render = |name: &str, schema: schemars::Schema| {
        let mut text = serde_json::to_string_pretty(&schema).expect("a schema serializes");
        text.push('\n');
        (format!("{name}.schema.json"), text)
    };
    vec![
        render("docker-inspect-container", schemars::schema_for!(Container)),
        render("docker-inspect-image", schemars::schema_for!(Image)),
    ]
}
