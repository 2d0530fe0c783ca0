//! `build`: a Dockerfile, by the docker model's own loop. Each RUN creates
//! a container on the last layer, runs it and commits it; COPY and ADD
//! become layers straight from the context; every other instruction makes
//! an empty layer that changes only the config. History reads as docker's
//! classic builder writes it.
//!
//! The cache: a step is reused when a child of the current layer carries
//! the same `created_by` (which, for COPY and ADD, holds the digest of the
//! content copied) and, for config-only steps, the same config.

pub mod context;
pub mod dockerfile;

use crate::container::{self, CommitOptions, RunOptions};
use crate::digest::{Digest, LayerId};
use crate::image::change;
use crate::image::runtime_config::{self, effective_config, runtime, Overrides};
use crate::isolate::cgroup::Limits;
use crate::isolate::process::Net;
use crate::reference::Reference;
use crate::store::ingest::{empty_layer, ingest_layer, IngestOptions};
use crate::store::meta::LayerMeta;
use crate::store::{Store, StoreError};
use context::{Context, CopyTar, Ignore};
use dockerfile::Instruction;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Parse(#[from] dockerfile::ParseError),
    #[error("Dockerfile line {line}: {text}: {msg}")]
    Step {
        line: usize,
        text: String,
        msg: String,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Other(String),
}

/// What to build.
pub struct BuildOptions<'a> {
    pub context: PathBuf,
    pub dockerfile: String,
    pub tags: Vec<Reference>,
    pub build_args: BTreeMap<String, String>,
    pub no_cache: bool,
    pub source_date_epoch: Option<i64>,
    /// Progress lines (`Step 1/5 : FROM busybox`, ` ---> Using cache`, …)
    pub progress: &'a mut dyn FnMut(&str),
    /// Where RUN steps write their output (an fd; stderr by default).
    pub output_fd: i32,
}

/// A finished build.
#[derive(Debug, Clone)]
pub struct Built {
    pub layer: LayerId,
    pub steps: usize,
    pub cached: usize,
}

struct State {
    cur: Option<LayerId>,
    config: Value,
    shell: Vec<String>,
    args: BTreeMap<String, String>,
}

fn nop(text: &str) -> String {
    format!("/bin/sh -c #(nop) {text}")
}

fn created(epoch: Option<i64>) -> Option<String> {
    match epoch {
        Some(t) => time::OffsetDateTime::from_unix_timestamp(t)
            .ok()
            .and_then(|t| {
                t.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            }),
        None => Some(crate::store::container::now_rfc3339()),
    }
}

/// The layers whose parent is `parent`, with their metadata.
fn children(
    store: &Store,
    parent: Option<LayerId>,
) -> Result<Vec<(LayerId, LayerMeta)>, StoreError> {
    let mut out = Vec::new();
    for id in store.layers()? {
        if let Ok(m) = store.layer(&id) {
            if m.parent == parent {
                out.push((id, m));
            }
        }
    }
    Ok(out)
}

fn vars(st: &State) -> BTreeMap<String, String> {
    let mut v = st.args.clone();
    for e in runtime_config::env(&runtime(&st.config)) {
        if let Some((k, val)) = e.split_once('=') {
            v.insert(k.to_string(), val.to_string());
        }
    }
    v
}

/// Build the Dockerfile; returns the image's top layer.
pub fn build(store: &Store, o: BuildOptions<'_>) -> Result<Built, BuildError> {
    let steps = dockerfile::parse(&o.dockerfile)?;
    if steps.first().map(|s| s.keyword.as_str()) != Some("FROM")
        && !steps.iter().all(|s| s.keyword == "ARG")
    {
        let first = steps.iter().find(|s| s.keyword != "ARG");
        if first.is_some_and(|s| s.keyword != "FROM") {
            return Err(BuildError::Step {
                line: first.map(|s| s.line).unwrap_or(1),
                text: first.map(|s| s.keyword.clone()).unwrap_or_default(),
                msg: "a Dockerfile must start with FROM".into(),
            });
        }
    }
    let ctx = Context::open(&o.context)
        .map_err(|e| BuildError::Other(format!("build context {}: {e}", o.context.display())))?;
    let ignore =
        Ignore::load(&ctx).map_err(|e| BuildError::Other(format!(".dockerignore: {e}")))?;
    let mut st = State {
        cur: None,
        config: json!({}),
        shell: change::default_shell(),
        args: BTreeMap::new(),
    };
    let total = steps.len();
    let mut cached = 0;
    let mut progress = o.progress;
    let mut seen_from = false;
    for (i, ins) in steps.iter().enumerate() {
        let text = format!("{} {}", ins.keyword, ins.args);
        progress(&format!("Step {}/{} : {}", i + 1, total, text));
        let fail = |msg: String| BuildError::Step {
            line: ins.line,
            text: text.clone(),
            msg,
        };
        let before = st.cur;
        let was_cached = step(
            store,
            &mut st,
            ins,
            &ctx,
            &ignore,
            &o.build_args,
            o.no_cache,
            o.source_date_epoch,
            o.output_fd,
            seen_from,
            &mut progress,
        )
        .map_err(fail)?;
        if ins.keyword == "FROM" {
            seen_from = true;
        }
        if was_cached {
            cached += 1;
            progress(" ---> Using cache");
        }
        if st.cur != before || ins.keyword == "FROM" {
            if let Some(id) = st.cur {
                progress(&format!(" ---> {}", id.short()));
            }
        }
    }
    let layer = match st.cur {
        Some(l) => l,
        None => {
            // FROM scratch with nothing after it: one empty layer.
            empty_layer(
                store,
                LayerMeta {
                    created: created(o.source_date_epoch),
                    config: Some(st.config.clone()),
                    ..Default::default()
                },
            )?
        }
    };
    for t in &o.tags {
        crate::image::tag(store, t, &layer)?;
        progress(&format!("Successfully tagged {}", t.familiar()));
    }
    Ok(Built {
        layer,
        steps: total,
        cached,
    })
}

fn flag<'a>(ins: &'a Instruction, name: &str) -> Option<&'a str> {
    ins.flags
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Find a cached child with this created_by (and config, when given).
fn cached(
    store: &Store,
    st: &State,
    created_by: &str,
    config: Option<&Value>,
) -> Result<Option<LayerId>, String> {
    for (id, m) in children(store, st.cur).map_err(|e| e.to_string())? {
        if m.created_by.as_deref() != Some(created_by) {
            continue;
        }
        if let Some(want) = config {
            let chain = store.chain(&id).map_err(|e| e.to_string())?;
            if &effective_config(&chain) != want {
                continue;
            }
        }
        return Ok(Some(id));
    }
    Ok(None)
}

#[allow(clippy::too_many_arguments)]
fn step(
    store: &Store,
    st: &mut State,
    ins: &Instruction,
    ctx: &Context,
    ignore: &Ignore,
    build_args: &BTreeMap<String, String>,
    no_cache: bool,
    epoch: Option<i64>,
    output_fd: i32,
    seen_from: bool,
    progress: &mut dyn FnMut(&str),
) -> Result<bool, String> {
    let v = vars(st);
    match ins.keyword.as_str() {
        "FROM" => {
            let words: Vec<&str> = ins.args.split_whitespace().collect();
            let image = dockerfile::substitute(words.first().copied().unwrap_or(""), &v);
            if image.is_empty() {
                return Err("FROM needs an image".into());
            }
            if image == "scratch" {
                st.cur = None;
                st.config = json!({});
            } else {
                let id = store
                    .resolve(&image)
                    .map_err(|e| format!("{e} (build it or load it first)"))?;
                let chain = store.chain(&id).map_err(|e| e.to_string())?;
                st.cur = Some(id);
                st.config = effective_config(&chain);
            }
            // ARGs declared before FROM are out of scope after it
            st.args.clear();
            Ok(false)
        }
        "ARG" => {
            let a = ins.args.trim();
            let (name, default) = match a.split_once('=') {
                Some((n, d)) => (n.to_string(), Some(d.trim_matches('"').to_string())),
                None => (a.to_string(), None),
            };
            let value = build_args.get(&name).cloned().or(default);
            st.args
                .insert(name.clone(), value.clone().unwrap_or_default());
            if !seen_from {
                return Ok(false);
            }
            let shown = match &value {
                Some(v) => format!("ARG {name}={v}"),
                None => format!("ARG {name}"),
            };
            meta_step(
                store,
                st,
                &nop(&format!(" {shown}")),
                st.config.clone(),
                no_cache,
                epoch,
            )
        }
        "RUN" => {
            let cur = st
                .cur
                .ok_or("RUN needs a base image with a shell (FROM scratch has none)")?;
            let cmd = change::command_form(&ins.args, &st.shell);
            let exec_form = ins.args.trim_start().starts_with('[');
            let mut created_by = if exec_form {
                cmd.join(" ")
            } else {
                format!("{} {}", st.shell.join(" "), ins.args)
            };
            let used: Vec<String> = st.args.iter().map(|(k, v)| format!("{k}={v}")).collect();
            if !used.is_empty() {
                created_by = format!("|{} {} {created_by}", used.len(), used.join(" "));
            }
            if !no_cache {
                if let Some(id) = cached(store, st, &created_by, None)? {
                    st.cur = Some(id);
                    return Ok(true);
                }
            }
            let c = container::create(
                store,
                &cur.to_string(),
                None,
                &Overrides {
                    cmd: Some(cmd),
                    entrypoint: Some(vec![]),
                    env: used,
                    ..Default::default()
                },
            )
            .map_err(|e| e.to_string())?;
            progress(&format!(" ---> Running in {}", c.id.short()));
            let res = (|| -> Result<LayerId, String> {
                let null = std::fs::File::open("/dev/null").map_err(|e| e.to_string())?;
                use std::os::fd::AsRawFd;
                let code = container::run_to_exit(
                    store,
                    &c,
                    &RunOptions {
                        overrides: Overrides::default(),
                        net: Net::Loopback,
                        // a RUN step is bounded like any container
                        limits: Limits {
                            pids: Some(crate::isolate::config::DEFAULT_PIDS_LIMIT),
                            ..Limits::default()
                        },
                        privileged: false,
                        stdio: [Some(null.as_raw_fd()), Some(output_fd), Some(output_fd)],
                        tty: false,
                        supervisor: nix::unistd::getpid(),
                    },
                )
                .map_err(|e| e.to_string())?;
                if code != 0 {
                    return Err(format!("the command returned a non-zero code: {code}"));
                }
                let got = container::commit(
                    store,
                    &c,
                    &CommitOptions {
                        created_by: Some(created_by.clone()),
                        config: Some(st.config.clone()),
                        source_date_epoch: epoch,
                        ..Default::default()
                    },
                )
                .map_err(|e| e.to_string())?;
                Ok(got.id)
            })();
            let _ = container::remove(store, &c, true);
            st.cur = Some(res?);
            Ok(false)
        }
        "COPY" | "ADD" => copy(store, st, ins, ctx, ignore, &v, no_cache, epoch),
        "SHELL" => {
            let sh: Vec<String> = serde_json::from_str(&ins.args)
                .map_err(|_| "SHELL needs a JSON array".to_string())?;
            if sh.is_empty() {
                return Err("SHELL needs a command".into());
            }
            st.shell = sh.clone();
            let mut config = st.config.clone();
            config["Shell"] = json!(sh);
            meta_step(
                store,
                st,
                &nop(&format!(" SHELL [{}]", sh.join(" "))),
                config,
                no_cache,
                epoch,
            )
        }
        "MAINTAINER" => {
            let created_by = nop(&format!(" MAINTAINER {}", ins.args));
            meta_step(store, st, &created_by, st.config.clone(), no_cache, epoch)
        }
        "ONBUILD" | "HEALTHCHECK" => Err(format!("{} is not supported", ins.keyword)),
        kw => {
            // CMD ENTRYPOINT ENV WORKDIR USER LABEL EXPOSE VOLUME STOPSIGNAL
            let substituted = match kw {
                "CMD" | "ENTRYPOINT" => ins.args.clone(),
                _ => dockerfile::substitute(&ins.args, &v),
            };
            let mut config = st.config.clone();
            change::apply(&mut config, &format!("{kw} {substituted}"), &st.shell)
                .map_err(|e| e.to_string())?;
            // As docker's classic builder writes it: Go's %q of the
            // command for CMD/ENTRYPOINT, ENV values unquoted, the rest as
            // written.
            let shown = match kw {
                "CMD" | "ENTRYPOINT" => {
                    let c = change::command_form(&ins.args, &st.shell);
                    let quoted: Vec<String> = c
                        .iter()
                        .map(|a| serde_json::to_string(a).unwrap_or_default())
                        .collect();
                    format!(" {kw} [{}]", quoted.join(" "))
                }
                "ENV" => {
                    let kv = change::key_values(&substituted).map_err(|e| e.to_string())?;
                    let pairs: Vec<String> = kv.iter().map(|(k, v)| format!("{k}={v}")).collect();
                    format!(" ENV {}", pairs.join(" "))
                }
                "WORKDIR" => format!(
                    "WORKDIR {}",
                    runtime(&config).working_dir().as_deref().unwrap_or("/")
                ),
                "VOLUME" => {
                    let vols: Vec<String> = if substituted.trim_start().starts_with('[') {
                        serde_json::from_str(&substituted).unwrap_or_default()
                    } else {
                        substituted.split_whitespace().map(String::from).collect()
                    };
                    format!(" VOLUME [{}]", vols.join(" "))
                }
                _ => format!(" {kw} {substituted}"),
            };
            meta_step(store, st, &nop(&shown), config, no_cache, epoch)
        }
    }
}

/// A step that changes only the config: an empty layer.
fn meta_step(
    store: &Store,
    st: &mut State,
    created_by: &str,
    config: Value,
    no_cache: bool,
    epoch: Option<i64>,
) -> Result<bool, String> {
    if !no_cache {
        if let Some(id) = cached(store, st, created_by, Some(&config))? {
            st.cur = Some(id);
            st.config = config;
            return Ok(true);
        }
    }
    let id = empty_layer(
        store,
        LayerMeta {
            parent: st.cur,
            created: created(epoch),
            created_by: Some(created_by.to_string()),
            config: Some(config.clone()),
            ..Default::default()
        },
    )
    .map_err(|e| e.to_string())?;
    st.cur = Some(id);
    st.config = config;
    Ok(false)
}

/// Resolve `--chown=user:group` against the image's passwd and group files.
fn owner(store: &Store, st: &State, spec: Option<&str>) -> Result<Option<(u32, u32)>, String> {
    let Some(spec) = spec.filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    // The image's files, read as the runtime reads them: inside the layer
    // that holds them, never blocking, never truncated.
    let read = |p: &str| -> Result<String, String> {
        let Some(cur) = st.cur else {
            return Ok(String::new());
        };
        let stack = store.stack(&cur).map_err(|e| e.to_string())?;
        let comps: Vec<&[u8]> = p.split('/').map(str::as_bytes).collect();
        match stack.lookup(&comps) {
            Some((i, _)) => {
                let dir = std::fs::File::open(&stack.dirs[i]).map_err(|e| e.to_string())?;
                crate::isolate::config::read_db(std::os::fd::AsFd::as_fd(&dir), &format!("/{p}"))
            }
            None => Ok(String::new()),
        }
    };
    let spec = if spec.contains(':') {
        spec.to_string()
    } else {
        format!("{spec}:{spec}")
    };
    let (u, g) = spec.split_once(':').expect("has a colon");
    let passwd = read("etc/passwd")?;
    let group = read("etc/group")?;
    let uid = match u.parse::<u32>() {
        Ok(n) => n,
        Err(_) => crate::isolate::config::resolve_user(u, &passwd, &group)?.uid,
    };
    let gid = match g.parse::<u32>() {
        Ok(n) => n,
        Err(_) => crate::isolate::config::resolve_user(&format!("0:{g}"), &passwd, &group)?.gid,
    };
    Ok(Some((uid, gid)))
}

#[allow(clippy::too_many_arguments)]
fn copy(
    store: &Store,
    st: &mut State,
    ins: &Instruction,
    ctx: &Context,
    ignore: &Ignore,
    v: &BTreeMap<String, String>,
    no_cache: bool,
    epoch: Option<i64>,
) -> Result<bool, String> {
    if flag(ins, "from").is_some() {
        return Err("--from (multi-stage builds) is not supported".into());
    }
    let words: Vec<String> = if ins.args.trim_start().starts_with('[') {
        serde_json::from_str(&ins.args).map_err(|_| "bad JSON form".to_string())?
    } else {
        ins.args.split_whitespace().map(String::from).collect()
    };
    let words: Vec<String> = words.iter().map(|w| dockerfile::substitute(w, v)).collect();
    if words.len() < 2 {
        return Err(format!("{} needs a source and a destination", ins.keyword));
    }
    let (dest, srcs) = words.split_last().expect("two or more");
    for s in srcs {
        if s.starts_with("http://") || s.starts_with("https://") {
            return Err(format!(
                "{s}: remote sources are not supported (no network)"
            ));
        }
    }
    let workdir = runtime(&st.config)
        .working_dir()
        .clone()
        .unwrap_or_else(|| "/".into());
    let joined = if dest.starts_with('/') {
        dest.clone()
    } else {
        format!("{}/{dest}", workdir.trim_end_matches('/'))
    };
    // normalise: drop "." components, apply ".." (never above /)
    let mut parts: Vec<&str> = Vec::new();
    for c in joined.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    let dest_abs = format!("/{}", parts.join("/"));
    let dest_dirish = dest.ends_with('/') || dest == "." || dest.ends_with("/.") || dest_abs == "/";
    let mut sources = Vec::new();
    for s in srcs {
        sources.extend(ctx.expand(s, ignore)?);
    }
    let dest_is_dir =
        dest_dirish || sources.len() > 1 || (sources.len() == 1 && sources[0].is_dir());
    let owner = owner(store, st, flag(ins, "chown"))?;
    let mut t = CopyTar::new(Vec::new(), ignore.clone(), owner);
    let base = dest_abs
        .trim_start_matches('/')
        .trim_end_matches('/')
        .to_string();
    let mut kind = "file";
    for src in &sources {
        let shown = |e: std::io::Error| format!("{}: {e}", src.name);
        if ins.keyword == "ADD" && src.is_file() && context::is_archive(src) {
            t.add_archive(src, &base).map_err(shown)?;
            kind = "file";
            continue;
        }
        if src.is_dir() {
            kind = "dir";
            t.add(src, &base).map_err(shown)?;
        } else {
            let name = if dest_is_dir {
                let file = src.file_name();
                if base.is_empty() {
                    file.to_string()
                } else {
                    format!("{base}/{file}")
                }
            } else {
                base.clone()
            };
            t.add(src, name.trim_start_matches('/')).map_err(shown)?;
        }
    }
    if sources.len() > 1 {
        kind = "multi";
    }
    let tar = t.finish().map_err(|e| e.to_string())?;
    let digest = Digest::of(&tar);
    // History shows the destination as written (docker 20.10 does).
    let created_by = nop(&format!(
        "{} {kind}:{} in {dest} ",
        ins.keyword,
        digest.hex()
    ));
    if !no_cache {
        if let Some(id) = cached(store, st, &created_by, None)? {
            st.cur = Some(id);
            return Ok(true);
        }
    }
    let got = ingest_layer(
        store,
        &tar[..],
        IngestOptions {
            meta: LayerMeta {
                parent: st.cur,
                created: created(epoch),
                created_by: Some(created_by),
                config: if st.cur.is_none() {
                    Some(st.config.clone())
                } else {
                    None
                },
                ..Default::default()
            },
            ..Default::default()
        },
    )
    .map_err(|e| e.to_string())?;
    st.cur = Some(got.id);
    Ok(false)
}
