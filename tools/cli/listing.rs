//! The rows of `ps` and `images` as docker's `--format` sees them: one
//! JSON object per row with docker's field names, the column titles of
//! `table` templates, and docker's `--filter` keys over them.

use crate::out::{ellipsis, human_age, human_duration, human_size, human_size4, parse_time, Out};
use crate::{Fail, FailExt};
use libcairn::filter::{glob, name_matches, Filters};
use libcairn::net::Port;
use libcairn::reference::Reference;
use libcairn::store::container::{ContainerMeta, MountKind, State, Status};
use libcairn::store::refs;
use libcairn::{Digest, LayerId, Store};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use time::OffsetDateTime;

/// The keys `ps --filter` takes.
pub const PS_FILTERS: &[&str] = &[
    "status", "label", "name", "id", "ancestor", "before", "since", "exited", "network", "volume",
];
/// The keys `images --filter` takes.
pub const IMAGES_FILTERS: &[&str] = &["dangling", "reference", "label", "before", "since"];

/// docker's `CreatedAt`: Go's `time.Time.String()` in UTC.
pub fn created_at(t: &str) -> String {
    let Some(t) = parse_time(t).map(|t| t.to_offset(time::UtcOffset::UTC)) else {
        return String::new();
    };
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02} +0000 UTC",
        t.year(),
        t.month() as u8,
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

fn since(t: &Option<String>, now: OffsetDateTime) -> String {
    t.as_deref()
        .and_then(parse_time)
        .map(|t| human_duration((now - t).whole_seconds()))
        .unwrap_or_else(|| "a while".into())
}

/// docker's STATUS column: `Up 5 seconds`, `Exited (0) 2 minutes ago`.
pub fn status_text(st: &State, now: OffsetDateTime) -> String {
    match st.status {
        Status::Created => "Created".to_string(),
        Status::Running => format!("Up {}", since(&st.started_at, now)),
        Status::Paused => format!("Up {} (Paused)", since(&st.started_at, now)),
        Status::Restarting => format!(
            "Restarting ({}) {} ago",
            st.exit_code.unwrap_or(0),
            since(&st.finished_at, now)
        ),
        Status::Exited => format!(
            "Exited ({}) {} ago",
            st.exit_code.unwrap_or(0),
            since(&st.finished_at, now)
        ),
    }
}

/// `k=v,k2=v2`, as docker's `.Labels`.
fn labels_text(labels: Option<&Value>) -> String {
    let Some(m) = labels.and_then(Value::as_object) else {
        return String::new();
    };
    m.iter()
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
        .collect::<Vec<_>>()
        .join(",")
}

/// An argument as the engine's `Command` shows it: as a shell would
/// read it back (`sh -c 'exit 3'`).
fn shell_quote(a: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_@%+=:,./-".contains(c);
    if !a.is_empty() && a.chars().all(plain) {
        a.to_string()
    } else {
        format!("'{}'", a.replace('\'', "'\"'\"'"))
    }
}

/// One port as docker's engine lists a container's: (private port, host
/// address, public port, protocol); no address for one only exposed.
pub type ListedPort = (u16, String, u16, String);

/// The ports of a running container as docker lists them: those
/// published, and those its image exposes that are not.
pub fn listed_ports(published: &[Port], exposed: Option<&Value>) -> Vec<ListedPort> {
    let mut out: Vec<ListedPort> = published
        .iter()
        .map(|p| {
            let proto = p.proto.to_string();
            (p.container_port, p.host_ip_string(), p.host_port, proto)
        })
        .collect();
    for key in exposed
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(k, _)| k)
    {
        let (port, proto) = key.split_once('/').unwrap_or((key, "tcp"));
        let Ok(port) = port.parse::<u16>() else {
            continue;
        };
        if !out.iter().any(|p| p.0 == port && p.3 == proto) {
            out.push((port, String::new(), 0, proto.to_string()));
        }
    }
    out
}

/// docker's PORTS column: sorted by private port, address, public port
/// and protocol; runs of consecutive ports published on the same ones
/// (or only exposed) as one range (`8000-8001->8000-8001/tcp`), other
/// mappings after them (`127.0.0.1:8080->80/tcp`).
pub fn ports_text(mut ports: Vec<ListedPort>) -> String {
    ports.sort();
    // (key: "ip/proto" or "proto", first, last), in the order first seen
    let mut groups: Vec<(String, u16, u16)> = Vec::new();
    let (mut done, mut mapped) = (Vec::new(), Vec::new());
    for (private, ip, public, proto) in ports {
        let key = match ip.is_empty() {
            true => proto.clone(),
            false if public != private => {
                mapped.push(format!("{ip}:{public}->{private}/{proto}"));
                continue;
            }
            false => format!("{ip}/{proto}"),
        };
        match groups.iter_mut().find(|g| g.0 == key) {
            None => groups.push((key, private, private)),
            Some(g) if private == g.2 + 1 => g.2 = private,
            Some(g) => {
                done.push(range_text(&g.0, g.1, g.2));
                (g.1, g.2) = (private, private);
            }
        }
    }
    done.extend(groups.iter().map(|(k, a, b)| range_text(k, *a, *b)));
    done.extend(mapped);
    done.join(", ")
}

fn range_text(key: &str, first: u16, last: u16) -> String {
    let (ip, proto) = key.split_once('/').unwrap_or(("", key));
    let mut range = first.to_string();
    if first != last {
        range = format!("{range}-{last}");
    }
    match ip {
        "" => format!("{range}/{proto}"),
        ip => format!("{ip}:{range}->{range}/{proto}"),
    }
}

/// What a `ps` row shows of a container beside its metadata and state.
pub struct PsRow<'a> {
    pub c: &'a ContainerMeta,
    pub st: &'a State,
    pub command: &'a [String],
    pub image: String,
    pub network: Option<String>,
    pub ports: Vec<ListedPort>,
    /// Bytes of its read-write layer and of its whole file system, when
    /// asked for (`-s`, or `{{.Size}}`).
    pub size: Option<(u64, u64)>,
    pub no_trunc: bool,
}

/// docker's SIZE of a container: `2B (virtual 1.24MB)`.
fn size_text(size: Option<(u64, u64)>) -> String {
    match size {
        Some((rw, all)) if all > 0 => {
            format!("{} (virtual {})", human_size(rw), human_size(all))
        }
        Some((rw, _)) => human_size(rw),
        None => "0B".into(),
    }
}

/// A container as docker's `ps --format` fields.
pub fn ps_row(r: &PsRow, now: OffsetDateTime) -> Value {
    let c = r.c;
    let cmd = r
        .command
        .iter()
        .map(|a| shell_quote(a))
        .collect::<Vec<_>>()
        .join(" ");
    let cmd = if r.no_trunc { cmd } else { ellipsis(&cmd, 20) };
    let volumes: Vec<&str> = c
        .host
        .mounts
        .iter()
        .filter(|m| m.kind == libcairn::store::container::MountKind::Volume)
        .filter_map(|m| m.source.as_deref())
        .collect();
    let mounts: Vec<&str> = c
        .host
        .mounts
        .iter()
        .map(|m| m.source.as_deref().unwrap_or(&m.target))
        .collect();
    json!({
        "ID": if r.no_trunc { c.id.hex() } else { c.id.short() },
        "Image": r.image,
        "Command": Value::String(cmd).to_string(),
        "CreatedAt": created_at(&c.created),
        "RunningFor": human_age(&c.created, now),
        "Ports": ports_text(r.ports.clone()),
        "State": r.st.status.as_str(),
        "Status": status_text(r.st, now),
        "Size": size_text(r.size),
        "Names": c.name,
        "Labels": labels_text(c.config.get("Labels")),
        "Mounts": mounts.join(","),
        "Networks": r.network.clone().unwrap_or_default(),
        "LocalVolumes": volumes.len().to_string(),
    })
}

/// The titles docker's `table` gives `ps`'s fields.
pub fn ps_headers() -> Value {
    json!({
        "ID": "CONTAINER ID", "Image": "IMAGE", "Command": "COMMAND",
        "CreatedAt": "CREATED AT", "RunningFor": "CREATED", "Ports": "PORTS",
        "State": "STATE", "Status": "STATUS", "Size": "SIZE", "Names": "NAMES",
        "Labels": "LABELS", "Mounts": "MOUNTS", "Networks": "NETWORKS",
        "LocalVolumes": "LOCAL VOLUMES",
    })
}

/// What `ps --filter` needs beyond each container: the creation times
/// `before=` and `since=` name, read once.
#[derive(Default)]
pub struct PsBounds {
    before: Option<OffsetDateTime>,
    since: Option<OffsetDateTime>,
}

impl PsBounds {
    /// The containers `before=` and `since=` name (ID, prefix or name).
    pub fn of(store: &Store, f: &Filters) -> Result<PsBounds, Fail> {
        if f.any("exited", |v| v.parse::<i32>().is_err()) && f.contains("exited") {
            return Err(crate::usage(
                "invalid filter 'exited': the value must be an exit code",
            ));
        }
        let created = |key: &str| -> Result<Option<OffsetDateTime>, Fail> {
            let Some(name) = f.last(key) else {
                return Ok(None);
            };
            let c = store.resolve_container(name)?;
            Ok(parse_time(&c.created))
        };
        Ok(PsBounds {
            before: created("before")?,
            since: created("since")?,
        })
    }
}

/// Whether a container passes `ps --filter`.
pub fn ps_admits(
    store: &Store,
    f: &Filters,
    bounds: &PsBounds,
    c: &ContainerMeta,
    st: &State,
) -> Result<bool, Fail> {
    let created = parse_time(&c.created);
    let exited = st.status == Status::Exited && st.started_at.is_some();
    if !(f.any("status", |v| v == st.status.as_str())
        && f.labels(c.config.get("Labels"))
        && f.any("name", |v| name_matches(&c.name, v))
        && f.any("id", |v| {
            c.id.hex().starts_with(v.trim_start_matches("sha256:"))
        })
        && f.any("exited", |v| {
            exited && v.parse::<i32>().ok() == Some(st.exit_code.unwrap_or(0))
        })
        && bounds.before.is_none_or(|b| created.is_some_and(|t| t < b))
        && bounds.since.is_none_or(|b| created.is_some_and(|t| t > b))
        && f.any("volume", |v| {
            c.host.mounts.iter().any(|m| {
                m.target == v || (m.kind == MountKind::Volume && m.source.as_deref() == Some(v))
            })
        }))
    {
        return Ok(false);
    }
    if f.contains("network") {
        let ep = libcairn::net::endpoint(store, &c.id)?;
        let mut names: Vec<String> = ep.iter().map(|e| e.mode.clone()).collect();
        names.extend(
            ep.iter()
                .flat_map(|e| e.connected.iter().map(|n| n.network.clone())),
        );
        if !f.any("network", |v| names.iter().any(|n| n == v)) {
            return Ok(false);
        }
    }
    if !f.contains("ancestor") {
        return Ok(true);
    }
    let chain: Vec<LayerId> = store.chain(&c.layer)?.into_iter().map(|(l, _)| l).collect();
    Ok(f.any("ancestor", |v| {
        libcairn::image::resolve(store, v).is_ok_and(|l| chain.contains(&l))
    }))
}

/// An image row as docker's `images --format` fields: `(repository, tag,
/// image ID)`, the registry manifest's digest when one is known.
pub fn image_row(
    (repo, tag, id): (&str, &str, &Digest),
    digest: Option<&Digest>,
    created: Option<&str>,
    size: u64,
    no_trunc: bool,
    now: OffsetDateTime,
) -> Value {
    json!({
        "ID": if no_trunc { id.to_string() } else { id.short() },
        "Repository": repo,
        "Tag": tag,
        "Digest": digest.map_or("<none>".into(), |d| d.to_string()),
        "CreatedAt": created.map(created_at).unwrap_or_default(),
        "CreatedSince": created.map(|c| human_age(c, now)).unwrap_or_else(|| "N/A".into()),
        "Size": human_size(size),
        "VirtualSize": human_size4(size),
        "SharedSize": "N/A",
        "UniqueSize": "N/A",
        "Containers": "N/A",
    })
}

/// The digest of the registry manifest the image whose top is `top` came
/// with from (or went out as to) repository `repo`: docker's `DIGEST`.
pub fn repo_digest(store: &Store, top: &LayerId, repo: &str) -> Result<Option<Digest>, Fail> {
    let info = store.layer_info(top)?;
    let want = Reference::parse(repo).map(|r| r.repository()).ok();
    let found = info.remote.iter().rev().find(|m| {
        let theirs = libcairn::reference::familiar_repository(&m.repository);
        theirs.is_some() && (repo == "<none>" || theirs == want)
    });
    Ok(found.map(|m| m.manifest))
}

/// The titles docker's `table` gives `images`'s fields.
pub fn image_headers() -> Value {
    json!({
        "ID": "IMAGE ID", "Repository": "REPOSITORY", "Tag": "TAG",
        "Digest": "DIGEST", "CreatedAt": "CREATED AT", "CreatedSince": "CREATED",
        "Size": "SIZE", "VirtualSize": "SIZE", "SharedSize": "SHARED SIZE",
        "UniqueSize": "UNIQUE SIZE", "Containers": "CONTAINERS",
    })
}

/// Whether `repo:tag` passes `reference=` (and `images REPOSITORY[:TAG]`):
/// a glob over `NAME:TAG`, or over `NAME` alone.
pub fn reference_admits(f: &Filters, repo: &str, tag: &str) -> bool {
    f.any("reference", |p| {
        !tag.is_empty() && (glob(p, &format!("{repo}:{tag}")) || glob(p, repo))
    })
}

/// (repository, tag, layer) rows: one per tag, then untagged layers with
/// -a or `dangling=true` (only those no layer stands on for the latter),
/// as the filters admit them.
pub fn image_entries(
    store: &Store,
    all: bool,
    f: &Filters,
) -> Result<Vec<(String, String, LayerId)>, Fail> {
    let dangling = f.bool("dangling").usage()?;
    let mut entries = Vec::new();
    let mut tagged = BTreeSet::new();
    for r in refs::list(store)? {
        let (repo, tag) = match Reference::parse(&r.name) {
            Ok(p) => (p.repository(), p.tag),
            Err(_) => (r.name.clone(), String::new()),
        };
        tagged.insert(r.layer);
        if dangling != Some(true) && reference_admits(f, &repo, &tag) {
            entries.push((repo, tag, r.layer));
        }
    }
    if (all || dangling == Some(true)) && !f.contains("reference") {
        let layers = store.layers()?;
        let parents = store.parents_among(&layers);
        for id in layers {
            let leaf = !parents.contains(&id);
            if !tagged.contains(&id) && dangling.is_none_or(|d| d == leaf) {
                entries.push(("<none>".into(), "<none>".into(), id));
            }
        }
    }
    for (key, newer) in [("before", false), ("since", true)] {
        let Some(name) = f.last(key) else { continue };
        let bound = libcairn::image::resolve(store, name)?;
        let created = |l: &LayerId| -> Result<Option<OffsetDateTime>, Fail> {
            let chain = store.chain(l)?;
            Ok(chain
                .iter()
                .find_map(|(_, m)| m.created.as_deref().and_then(parse_time)))
        };
        let bound = created(&bound)?;
        let mut kept = Vec::new();
        for e in entries {
            let t = created(&e.2)?;
            let ok = match (t, bound) {
                (Some(t), Some(b)) => {
                    if newer {
                        t > b
                    } else {
                        t < b
                    }
                }
                _ => false,
            };
            if ok {
                kept.push(e);
            }
        }
        entries = kept;
    }
    if f.contains("label") {
        entries.retain(|(_, _, id)| {
            let config = store
                .chain(id)
                .map(|c| libcairn::image::runtime_config::effective_config(&c));
            config.is_ok_and(|c| f.labels(c.get("Labels")))
        });
    }
    Ok(entries)
}

/// Rows through a `--format` template (a `table` one with its titles).
pub fn print_template(
    out: &mut Out,
    template: &str,
    rows: &[Value],
    headers: &Value,
) -> Result<(), Fail> {
    let text = libcairn::template::render_rows(template, rows, headers).usage()?;
    out.raw(&text)?;
    Ok(())
}

/// The IMAGE column: the name the container was made from while it still
/// names its image, else docker's image ID (12 digits unless `--no-trunc`),
/// as docker shows an untagged image.
pub fn ps_image(store: &Store, c: &ContainerMeta, no_trunc: bool) -> String {
    use libcairn::image::{config::image_id, resolve};
    let id = image_id(store, &c.layer);
    // given by its ID (or 12 digits of it, or more): 12 digits, as docker's
    // stringid.TruncateID makes of both
    let given = c.image.split_once(':').map_or(c.image.as_str(), |(_, r)| r);
    if let Ok(id) = &id {
        if !no_trunc && given.get(..12).unwrap_or(given) == id.short() {
            return id.short();
        }
    }
    let named =
        !c.image.starts_with("sha256:") && resolve(store, &c.image).is_ok_and(|l| l == c.layer);
    match (named, id) {
        (true, _) | (false, Err(_)) => c.image.clone(),
        (false, Ok(id)) if no_trunc => id.to_string(),
        (false, Ok(id)) => id.short(),
    }
}

/// Bytes of a container's read-write layer, and of that and its image.
pub fn ps_size(
    store: &Store,
    c: &ContainerMeta,
    sizes: &mut std::collections::HashMap<LayerId, u64>,
) -> Result<(u64, u64), Fail> {
    let rw = libcairn::graph::dir_size(&store.container_dirs(&c.id).upper);
    let (_, image) = libcairn::graph::image_summary(store, &c.layer, sizes)?;
    Ok((rw, rw + image))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(private: u16, ip: &str, public: u16) -> ListedPort {
        (private, ip.into(), public, "tcp".into())
    }

    #[test]
    fn ports_as_docker_lists_them() {
        assert_eq!(ports_text(vec![]), "");
        assert_eq!(
            ports_text(vec![p(80, "127.0.0.1", 8080)]),
            "127.0.0.1:8080->80/tcp"
        );
        assert_eq!(
            ports_text(vec![p(8001, "0.0.0.0", 8001), p(8000, "0.0.0.0", 8000)]),
            "0.0.0.0:8000-8001->8000-8001/tcp"
        );
        assert_eq!(
            ports_text(vec![
                p(443, "", 0),
                p(80, "", 0),
                p(81, "", 0),
                p(22, "0.0.0.0", 2222)
            ]),
            "80-81/tcp, 443/tcp, 0.0.0.0:2222->22/tcp"
        );
        assert_eq!(size_text(Some((0, 1_240_000))), "0B (virtual 1.24MB)");
        assert_eq!(size_text(None), "0B");
    }
}
