//! `system df -v` for people: docker's four verbose tables (images,
//! containers, local volumes, build cache) over the lines libcairn
//! reports, each through docker's tabwriter.

use crate::listing::{image_headers, ps_headers, ps_row, PsRow};
use crate::out::{human_age, human_size, human_size4};
use crate::{Fail, FailExt};
use libcairn::reference::Reference;
use libcairn::system::usage::{ContainerUsage, ImageUsage, Line};
use libcairn::template::render_rows;
use libcairn::Store;
use serde_json::{json, Value};
use time::OffsetDateTime;

const IMAGES: &str = "table {{.Repository}}\\t{{.Tag}}\\t{{.ID}}\\t{{.CreatedSince}}\\t{{.VirtualSize}}\\t{{.SharedSize}}\\t{{.UniqueSize}}\\t{{.Containers}}";
const CONTAINERS: &str = "table {{.ID}}\\t{{.Image}}\\t{{.Command}}\\t{{.LocalVolumes}}\\t{{.Size}}\\t{{.RunningFor}}\\t{{.Status}}\\t{{.Names}}";
const VOLUMES: &str = "table {{.Name}}\\t{{.Links}}\\t{{.Size}}";
const CACHE: &str = "CACHE ID   CACHE TYPE   SIZE      CREATED   LAST USED   USAGE     SHARED\n";

/// An image's row: its first tag, as docker shows only that one.
fn image(i: &ImageUsage, now: OffsetDateTime) -> Value {
    let (repo, tag) = match i.tags.first().and_then(|t| Reference::parse(t).ok()) {
        Some(r) => (r.repository(), r.tag),
        None => ("<none>".into(), "<none>".into()),
    };
    json!({
        "Repository": repo,
        "Tag": tag,
        "ID": i.image_id.short(),
        "CreatedSince": i.created.as_deref().map_or("N/A".into(), |c| human_age(c, now)),
        "VirtualSize": human_size4(i.size),
        "SharedSize": human_size4(i.shared_size),
        "UniqueSize": human_size4(i.size - i.shared_size),
        "Containers": i.containers.to_string(),
    })
}

/// A container's row: `ps`'s fields, with its read-write layer's size.
fn container(store: &Store, u: &ContainerUsage, now: OffsetDateTime) -> Result<Value, Fail> {
    let c = store.container(&u.container)?;
    let st = libcairn::container::state(store, &c)?;
    let command = match st.command.is_empty() {
        true => {
            use libcairn::image::runtime_config::{argv, runtime};
            argv(&runtime(&c.config))
        }
        false => st.command.clone(),
    };
    let row = PsRow {
        c: &c,
        st: &st,
        command: &command,
        image: u.image.clone(),
        network: None,
        ports: vec![],
        size: None,
        no_trunc: false,
    };
    let mut v = ps_row(&row, now);
    v["Size"] = json!(human_size(u.size));
    v["LocalVolumes"] = json!(u.local_volumes.to_string());
    Ok(v)
}

/// docker's `system df -v` text.
pub fn verbose_text(store: &Store, lines: &[Line]) -> Result<String, Fail> {
    let now = OffsetDateTime::now_utc();
    let (mut images, mut containers, mut volumes) = (vec![], vec![], vec![]);
    for l in lines {
        match l {
            Line::Image(i) => images.push(image(i, now)),
            Line::Container(c) => containers.push(container(store, c, now)?),
            Line::Volume(v) => volumes.push(json!({
                "Name": v.name, "Links": v.links.to_string(), "Size": human_size(v.size),
            })),
        }
    }
    let vol_headers = json!({"Name": "VOLUME NAME", "Links": "LINKS", "Size": "SIZE"});
    let table = |t, rows: &[Value], h: &Value| render_rows(t, rows, h).usage();
    Ok(format!(
        "Images space usage:\n\n{}\nContainers space usage:\n\n{}\nLocal Volumes space usage:\n\n{}\nBuild cache usage: 0B\n\n{CACHE}",
        table(IMAGES, &images, &image_headers())?,
        table(CONTAINERS, &containers, &ps_headers())?,
        table(VOLUMES, &volumes, &vol_headers)?,
    ))
}
