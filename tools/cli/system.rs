//! What `version`, `info`, `system df` and `stats` print for people:
//! docker's layouts and the fields its `--format` templates name, over
//! the reports libcairn makes.

use crate::listing::print_template;
use crate::out::{binary_size, human_size, Format, FormatArg, Out};
use crate::Fail;
use libcairn::system::{Info, Stats, Usage};
use serde_json::{json, Value};

/// Print `docs` as `--format` asks: a template over each (`tdocs`, with
/// docker's field names), JSON lines, or docker's layout (`text`, or a
/// `table` template over `tdocs` with `headers`).
pub struct Report<'a> {
    pub asked: &'a Option<FormatArg>,
    /// The records, as JSON lines.
    pub docs: Vec<Value>,
    /// The same with docker's field names, for templates.
    pub tdocs: Vec<Value>,
    /// docker's layout: a table template, or text already made.
    pub layout: Layout<'a>,
}

pub enum Layout<'a> {
    Table(&'a str, Value),
    Text(String),
}

impl Report<'_> {
    pub fn print(self, out: &mut Out) -> Result<(), Fail> {
        let empty = json!({});
        match (FormatArg::template(self.asked), &self.layout) {
            (Some(t), Layout::Table(_, h)) => print_template(out, t, &self.tdocs, h)?,
            (Some(t), Layout::Text(_)) => print_template(out, t, &self.tdocs, &empty)?,
            (None, layout) => match Format::resolve(FormatArg::fixed(self.asked), true) {
                Format::Table => match layout {
                    Layout::Table(t, h) => print_template(out, t, &self.tdocs, h)?,
                    Layout::Text(text) => out.raw(text)?,
                },
                Format::Json | Format::Id => {
                    for d in &self.docs {
                        out.raw(&format!("{d}\n"))?;
                    }
                }
            },
        }
        out.flush()?;
        Ok(())
    }
}

/// The platform as Go names it (`linux/amd64`).
pub fn arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" => "ppc64le",
        other => other,
    }
}

/// `cairn version`'s record, template document and text.
pub fn version(commit: Option<&str>, rustc: &str) -> Report<'static> {
    let rec = serde_json::to_value(libcairn::system::Version {
        version: env!("CARGO_PKG_VERSION").into(),
        git_commit: commit.map(String::from),
        rust_version: rustc.into(),
        os: std::env::consts::OS.into(),
        arch: arch().into(),
    })
    .expect("a version serialises");
    let client = json!({
        "Version": rec["version"], "GitCommit": rec["git_commit"],
        "RustVersion": rec["rust_version"], "Os": rec["os"], "Arch": rec["arch"],
    });
    let mut tdoc = rec.clone();
    tdoc["Client"] = client;
    let mut text = format!(
        "Client: cairn\n Version:           {}\n",
        rec["version"].as_str().unwrap_or_default()
    );
    if let Some(c) = commit {
        text.push_str(&format!(" Git commit:        {c}\n"));
    }
    text.push_str(&format!(
        " Rust version:      {rustc}\n OS/Arch:           {}/{}\n",
        std::env::consts::OS,
        arch()
    ));
    Report {
        asked: &None,
        docs: vec![rec],
        tdocs: vec![tdoc],
        layout: Layout::Text(text),
    }
}

/// `cairn info`'s record, template document (with docker's names for the
/// fields cairn names otherwise) and text.
pub fn info(i: &Info) -> Result<(Value, Value, String), Fail> {
    let rec = serde_json::to_value(i)?;
    let mut tdoc = rec.clone();
    for (docker, ours) in [
        ("DockerRootDir", "root"),
        ("ContainersRunning", "running"),
        ("ContainersPaused", "paused"),
        ("ContainersStopped", "stopped"),
        ("Driver", "storage_driver"),
        ("NCPU", "cpus"),
    ] {
        tdoc[docker] = rec[ours].clone();
    }
    let cgroup = i.cgroup_version.map_or("none".into(), |v| v.to_string());
    let text = format!(
        "Containers: {}\n Running: {}\n Paused: {}\n Stopped: {}\nImages: {}\n Layers: {}\n\
         Volumes: {}\nStorage Driver: {}\n Backing Filesystem: {}\nCgroup Driver: {}\n\
         Cgroup Version: {cgroup}\nKernel Version: {}\nOperating System: {}\nOSType: {}\n\
         Architecture: {}\nCPUs: {}\nTotal Memory: {}\nName: {}\nCairn Root Dir: {}\n\
         Rootless: {}\n",
        i.containers,
        i.running,
        i.paused,
        i.stopped,
        i.images,
        i.layers,
        i.volumes,
        i.storage_driver,
        i.backing_filesystem,
        i.cgroup_driver,
        i.kernel_version,
        i.operating_system,
        i.os_type,
        i.architecture,
        i.cpus,
        binary_size(i.mem_total),
        i.name,
        i.root.display(),
        i.rootless,
    );
    Ok((rec, tdoc, text))
}

/// `system df`'s rows with docker's fields: `Reclaimable` with its share
/// of the size (`1.2MB (50%)`), as docker prints it.
pub fn df_row(u: &Usage) -> Value {
    let reclaimable = if u.size > 0 && u.kind != "Build Cache" {
        format!(
            "{} ({}%)",
            human_size(u.reclaimable),
            100 * u.reclaimable / u.size
        )
    } else {
        human_size(u.reclaimable)
    };
    json!({
        "Type": u.kind,
        "TotalCount": u.total.to_string(),
        "Active": u.active.to_string(),
        "Size": human_size(u.size),
        "Reclaimable": reclaimable,
    })
}

pub const DF_TABLE: &str =
    "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}";

pub fn df_headers() -> Value {
    json!({"Type": "TYPE", "TotalCount": "TOTAL", "Active": "ACTIVE", "Size": "SIZE",
           "Reclaimable": "RECLAIMABLE"})
}

/// A `stats` row with docker's fields.
pub fn stats_row(s: &Stats, no_trunc: bool) -> Value {
    json!({
        "Container": s.container.short(),
        "ID": if no_trunc { s.container.hex() } else { s.container.short() },
        "Name": s.name,
        "CPUPerc": format!("{:.2}%", s.cpu_percent),
        "MemUsage": format!("{} / {}", binary_size(s.memory), binary_size(s.memory_limit)),
        "MemPerc": format!("{:.2}%", s.memory_percent),
        "NetIO": format!("{} / {}", human_size(s.net_rx), human_size(s.net_tx)),
        "BlockIO": format!("{} / {}", human_size(s.block_read), human_size(s.block_write)),
        "PIDs": s.pids.to_string(),
    })
}

pub const STATS_TABLE: &str = "table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}";

pub fn stats_headers() -> Value {
    json!({"Container": "CONTAINER", "ID": "CONTAINER ID", "Name": "NAME", "CPUPerc": "CPU %",
           "MemUsage": "MEM USAGE / LIMIT", "MemPerc": "MEM %", "NetIO": "NET I/O",
           "BlockIO": "BLOCK I/O", "PIDs": "PIDS"})
}
