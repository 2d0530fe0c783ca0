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
use crate::reference::Reference;
use crate::store::container::ContainerMeta;
use crate::store::ingest::{empty_layer, ingest_layer, IngestOptions};
use crate::store::meta::LayerMeta;
use crate::store::{Store, StoreError};
use context::{Context, CopyTar, Ignore};
use dockerfile::{Command, Instruction};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Parse(#[from] dockerfile::ParseError),
    #[error("Dockerfile line {line}: {text}")]
    Step {
        line: usize,
        text: String,
        #[source]
        source: Box<StepError>,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The build context cannot be opened.
    #[error("build context {path}")]
    Context {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The context's .dockerignore cannot be read.
    #[error(".dockerignore")]
    Ignore(#[source] std::io::Error),
}

/// Why a step of the Dockerfile failed.
#[derive(Debug, thiserror::Error)]
pub enum StepError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Container(#[from] crate::container::ContainerError),
    #[error(transparent)]
    Change(#[from] crate::image::change::ChangeError),
    #[error(transparent)]
    Ingest(#[from] crate::store::ingest::IngestError),
    /// The instruction's arguments are not what its kind takes, or cairn
    /// does not run that kind.
    #[error(transparent)]
    Instruction(#[from] dockerfile::InstructionError),
    /// A COPY or ADD source that is not in the context, or cannot be
    /// copied from it.
    #[error(transparent)]
    Context(#[from] context::ContextError),
    /// `--chown`'s user or group is not in the image, or the image's
    /// passwd or group file cannot be read.
    #[error(transparent)]
    User(#[from] crate::isolate::config::UserError),
    #[error("{what}")]
    Io {
        what: &'static str,
        #[source]
        source: std::io::Error,
    },
    /// An instruction before the first FROM other than ARG.
    #[error("a Dockerfile must start with FROM")]
    NoFrom,
    /// FROM whose image is empty (after substitution).
    #[error("FROM needs an image")]
    NoImage,
    /// FROM an image the store does not have.
    #[error("no such image or layer: {0} (build it or load it first)")]
    NoBase(String),
    #[error("RUN needs a base image with a shell (FROM scratch has none)")]
    RunOnScratch,
    #[error("the command returned a non-zero code: {0}")]
    RunFailed(i32),
}

/// `what` failed with an I/O error.
fn io(what: &'static str) -> impl FnOnce(std::io::Error) -> StepError {
    move |source| StepError::Io { what, source }
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
    /// The network RUN steps run on (docker's builder gives them the
    /// default bridge; `--network none|host`).
    pub network: crate::net::Mode,
}

/// A finished build.
#[derive(Debug, Clone)]
pub struct Built {
    pub layer: LayerId,
    pub steps: usize,
    pub cached: usize,
}

/// The image so far.
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

/// Check that the Dockerfile starts with FROM (ARGs may come first).
fn check_start(steps: &[Instruction]) -> Result<(), BuildError> {
    if steps.first().map(|s| s.keyword.as_str()) != Some("FROM")
        && !steps.iter().all(|s| s.keyword == "ARG")
    {
        let first = steps.iter().find(|s| s.keyword != "ARG");
        if first.is_some_and(|s| s.keyword != "FROM") {
            return Err(BuildError::Step {
                line: first.map(|s| s.line).unwrap_or(1),
                text: first.map(|s| s.keyword.clone()).unwrap_or_default(),
                source: Box::new(StepError::NoFrom),
            });
        }
    }
    Ok(())
}

/// Build the Dockerfile; returns the image's top layer.
pub fn build(store: &Store, o: BuildOptions<'_>) -> Result<Built, BuildError> {
    let steps = dockerfile::parse(&o.dockerfile)?;
    check_start(&steps)?;
    let ctx = Context::open(&o.context).map_err(|source| BuildError::Context {
        path: o.context.clone(),
        source,
    })?;
    let ignore = Ignore::load(&ctx).map_err(BuildError::Ignore)?;
    let mut b = Builder {
        store,
        ctx,
        ignore,
        build_args: &o.build_args,
        no_cache: o.no_cache,
        epoch: o.source_date_epoch,
        output_fd: o.output_fd,
        network: o.network,
        progress: o.progress,
        seen_from: false,
        st: State {
            cur: None,
            config: json!({}),
            shell: change::default_shell(),
            args: BTreeMap::new(),
        },
    };
    let total = steps.len();
    let mut cached = 0;
    for (i, ins) in steps.iter().enumerate() {
        let text = format!("{} {}", ins.keyword, ins.args);
        (b.progress)(&format!("Step {}/{} : {}", i + 1, total, text));
        let before = b.st.cur;
        let was_cached = b.step(ins).map_err(|source| BuildError::Step {
            line: ins.line,
            text: text.clone(),
            source: Box::new(source),
        })?;
        if ins.keyword == "FROM" {
            b.seen_from = true;
        }
        if was_cached {
            cached += 1;
            (b.progress)(" ---> Using cache");
        }
        if b.st.cur != before || ins.keyword == "FROM" {
            if let Some(id) = b.st.cur {
                (b.progress)(&format!(" ---> {}", id.short()));
            }
        }
    }
    let layer = match b.st.cur {
        Some(l) => l,
        None => {
            // FROM scratch with nothing after it: one empty layer.
            empty_layer(
                store,
                LayerMeta {
                    created: created(o.source_date_epoch),
                    config: Some(b.st.config.clone()),
                    ..Default::default()
                },
            )?
        }
    };
    for t in &o.tags {
        crate::image::tag(store, t, &layer)?;
        (b.progress)(&format!("Successfully tagged {}", t.familiar()));
    }
    Ok(Built {
        layer,
        steps: total,
        cached,
    })
}

/// One build: what it reads from and the image so far, with one method per
/// kind of instruction. Each returns whether the step was taken from the
/// cache.
struct Builder<'a> {
    store: &'a Store,
    ctx: Context,
    ignore: Ignore,
    build_args: &'a BTreeMap<String, String>,
    no_cache: bool,
    epoch: Option<i64>,
    /// Where RUN steps write their output.
    output_fd: i32,
    network: crate::net::Mode,
    progress: &'a mut dyn FnMut(&str),
    /// A FROM has run: an ARG after it is a step of its own.
    seen_from: bool,
    st: State,
}

impl Builder<'_> {
    fn step(&mut self, ins: &Instruction) -> Result<bool, StepError> {
        let v = vars(&self.st);
        match ins.command()? {
            Command::From { image } => self.from(&dockerfile::substitute(&image, &v)),
            Command::Arg { name, default } => self.arg(name, default),
            Command::Run { command, exec_form } => self.run(&command, exec_form),
            Command::Copy { add, words, chown } => {
                let words: Vec<String> = words
                    .iter()
                    .map(|w| dockerfile::substitute(w, &v))
                    .collect();
                self.copy(&ins.keyword, add, &words, chown.as_deref())
            }
            Command::Shell(sh) => {
                self.st.shell = sh.clone();
                let mut config = self.st.config.clone();
                config["Shell"] = json!(sh);
                self.meta_step(&nop(&format!(" SHELL [{}]", sh.join(" "))), config)
            }
            Command::Maintainer => {
                let created_by = nop(&format!(" MAINTAINER {}", ins.args));
                self.meta_step(&created_by, self.st.config.clone())
            }
            Command::Config => self.config_step(&ins.keyword, &ins.args, &v),
        }
    }

    fn from(&mut self, image: &str) -> Result<bool, StepError> {
        if image.is_empty() {
            return Err(StepError::NoImage);
        }
        if image == "scratch" {
            self.st.cur = None;
            self.st.config = json!({});
        } else {
            let id = crate::image::resolve(self.store, image).map_err(|e| match e {
                StoreError::NotFound(name) => StepError::NoBase(name),
                e => e.into(),
            })?;
            let chain = self.store.chain(&id)?;
            self.st.cur = Some(id);
            self.st.config = effective_config(&chain);
        }
        // ARGs declared before FROM are out of scope after it
        self.st.args.clear();
        Ok(false)
    }

    fn arg(&mut self, name: String, default: Option<String>) -> Result<bool, StepError> {
        let value = self.build_args.get(&name).cloned().or(default);
        self.st
            .args
            .insert(name.clone(), value.clone().unwrap_or_default());
        if !self.seen_from {
            return Ok(false);
        }
        let shown = match &value {
            Some(v) => format!("ARG {name}={v}"),
            None => format!("ARG {name}"),
        };
        self.meta_step(&nop(&format!(" {shown}")), self.st.config.clone())
    }

    fn run(&mut self, command: &str, exec_form: bool) -> Result<bool, StepError> {
        let cur = self.st.cur.ok_or(StepError::RunOnScratch)?;
        let cmd = change::command_form(command, &self.st.shell);
        let mut created_by = if exec_form {
            cmd.join(" ")
        } else {
            format!("{} {}", self.st.shell.join(" "), command)
        };
        let used: Vec<String> = self
            .st
            .args
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        if !used.is_empty() {
            created_by = format!("|{} {} {created_by}", used.len(), used.join(" "));
        }
        if !self.no_cache {
            if let Some(id) = self.cached(&created_by, None)? {
                self.st.cur = Some(id);
                return Ok(true);
            }
        }
        let c = container::create(
            self.store,
            &cur.to_string(),
            None,
            &Overrides {
                cmd: Some(cmd),
                entrypoint: Some(vec![]),
                env: used,
                ..Default::default()
            },
        )?;
        (self.progress)(&format!(" ---> Running in {}", c.id.short()));
        let res = self.run_and_commit(&c, created_by);
        if container::remove(self.store, &c, true).is_ok() {
            // the image's VOLUMEs were the step's own (as docker's
            // classic builder has them): they go with it
            let _ = crate::volume::remove_anonymous(self.store, &c);
        }
        self.st.cur = Some(res?);
        Ok(false)
    }

    /// Run a RUN step's container to its exit, then commit it.
    fn run_and_commit(&self, c: &ContainerMeta, created_by: String) -> Result<LayerId, StepError> {
        let null = std::fs::File::open("/dev/null").map_err(io("opening /dev/null"))?;
        use std::os::fd::AsRawFd;
        let code = container::run_to_exit(
            self.store,
            c,
            &RunOptions {
                overrides: Overrides::default(),
                net: self.network.clone(),
                ports: Vec::new(),
                // a RUN step is bounded like any container
                limits: Limits {
                    pids: Some(crate::isolate::config::DEFAULT_PIDS_LIMIT),
                    ..Limits::default()
                },
                privileged: false,
                stdio: [
                    Some(null.as_raw_fd()),
                    Some(self.output_fd),
                    Some(self.output_fd),
                ],
                tty: false,
                console: None,
                supervisor: nix::unistd::getpid(),
            },
        )?;
        if code != 0 {
            return Err(StepError::RunFailed(code));
        }
        let got = container::commit(
            self.store,
            c,
            &CommitOptions {
                created_by: Some(created_by),
                config: Some(self.st.config.clone()),
                source_date_epoch: self.epoch,
                ..Default::default()
            },
        )?;
        Ok(got.id)
    }

    /// CMD ENTRYPOINT ENV WORKDIR USER LABEL EXPOSE VOLUME STOPSIGNAL.
    fn config_step(
        &mut self,
        kw: &str,
        args: &str,
        v: &BTreeMap<String, String>,
    ) -> Result<bool, StepError> {
        let substituted = match kw {
            "CMD" | "ENTRYPOINT" => args.to_string(),
            _ => dockerfile::substitute(args, v),
        };
        let mut config = self.st.config.clone();
        change::apply(&mut config, &format!("{kw} {substituted}"), &self.st.shell)?;
        let shown = history_text(kw, args, &substituted, &config, &self.st.shell)?;
        self.meta_step(&nop(&shown), config)
    }

    /// A step that changes only the config: an empty layer.
    fn meta_step(&mut self, created_by: &str, config: Value) -> Result<bool, StepError> {
        if !self.no_cache {
            if let Some(id) = self.cached(created_by, Some(&config))? {
                self.st.cur = Some(id);
                self.st.config = config;
                return Ok(true);
            }
        }
        let id = empty_layer(
            self.store,
            LayerMeta {
                parent: self.st.cur,
                created: created(self.epoch),
                created_by: Some(created_by.to_string()),
                config: Some(config.clone()),
                ..Default::default()
            },
        )?;
        self.st.cur = Some(id);
        self.st.config = config;
        Ok(false)
    }

    /// Find a cached child with this created_by (and config, when given).
    fn cached(
        &self,
        created_by: &str,
        config: Option<&Value>,
    ) -> Result<Option<LayerId>, StepError> {
        for (id, m) in children(self.store, self.st.cur)? {
            if m.created_by.as_deref() != Some(created_by) {
                continue;
            }
            if let Some(want) = config {
                let chain = self.store.chain(&id)?;
                if &effective_config(&chain) != want {
                    continue;
                }
            }
            return Ok(Some(id));
        }
        Ok(None)
    }

    /// COPY or ADD of `words` (sources, then the destination; substituted).
    fn copy(
        &mut self,
        keyword: &str,
        add: bool,
        words: &[String],
        chown: Option<&str>,
    ) -> Result<bool, StepError> {
        let (dest, srcs) = words.split_last().expect("two or more");
        for s in srcs {
            if s.starts_with("http://") || s.starts_with("https://") {
                return Err(context::ContextError::Remote { src: s.clone() }.into());
            }
        }
        let workdir = runtime(&self.st.config)
            .working_dir()
            .clone()
            .unwrap_or_else(|| "/".into());
        let dest_abs = copy_destination(dest, &workdir);
        let dest_dirish =
            dest.ends_with('/') || dest == "." || dest.ends_with("/.") || dest_abs == "/";
        let mut sources = Vec::new();
        for s in srcs {
            sources.extend(self.ctx.expand(s, &self.ignore)?);
        }
        let dest_is_dir =
            dest_dirish || sources.len() > 1 || (sources.len() == 1 && sources[0].is_dir());
        let owner = self.owner(chown)?;
        let mut t = CopyTar::new(Vec::new(), self.ignore.clone(), owner);
        let base = self.resolve_destination(
            dest_abs.trim_start_matches('/').trim_end_matches('/'),
            dest_is_dir,
        )?;
        let mut kind = "file";
        for src in &sources {
            kind = add_source(&mut t, src, add, &base, dest_is_dir)?;
        }
        if sources.len() > 1 {
            kind = "multi";
        }
        let tar = t.finish().map_err(io("writing the layer of the copy"))?;
        let digest = Digest::of(&tar);
        // History shows the destination as written (docker 20.10 does).
        let created_by = nop(&format!("{keyword} {kind}:{} in {dest} ", digest.hex()));
        self.layer_step(&tar, created_by)
    }

    /// A COPY's destination `base` (below the root, no leading `/`) with
    /// the image's symlinks followed inside its root, as docker follows
    /// them (`/lib/` on a merged-/usr image is `usr/lib`): every component
    /// when the sources go `into` it as a directory, else its parent only
    /// (the last one is the file written).
    fn resolve_destination(&self, base: &str, into: bool) -> Result<String, StepError> {
        let Some(cur) = self.st.cur.filter(|_| !base.is_empty()) else {
            return Ok(base.to_string());
        };
        let stack = self.store.stack(&cur)?;
        let comps: Vec<&[u8]> = base.split('/').map(str::as_bytes).collect();
        let (follow, last) = match comps.split_last() {
            Some((last, parent)) if !into => (parent, Some(*last)),
            _ => (&comps[..], None),
        };
        let what = "following the destination's symlinks";
        let mut resolved = stack
            .resolve(follow)
            .map_err(io(what))?
            .ok_or_else(|| io(what)(std::io::Error::from_raw_os_error(libc::ELOOP)))?;
        resolved.extend(last.map(<[u8]>::to_vec));
        String::from_utf8(resolved.join(&b'/'))
            .map_err(|_| io(what)(std::io::Error::other("a symlink's target is not UTF-8")))
    }

    /// A step that adds this layer tar.
    fn layer_step(&mut self, tar: &[u8], created_by: String) -> Result<bool, StepError> {
        if !self.no_cache {
            if let Some(id) = self.cached(&created_by, None)? {
                self.st.cur = Some(id);
                return Ok(true);
            }
        }
        let got = ingest_layer(
            self.store,
            tar,
            IngestOptions {
                meta: LayerMeta {
                    parent: self.st.cur,
                    created: created(self.epoch),
                    created_by: Some(created_by),
                    config: if self.st.cur.is_none() {
                        Some(self.st.config.clone())
                    } else {
                        None
                    },
                    ..Default::default()
                },
                ..Default::default()
            },
        )?;
        self.st.cur = Some(got.id);
        Ok(false)
    }

    /// Resolve `--chown=user:group` against the image's passwd and group files.
    fn owner(&self, spec: Option<&str>) -> Result<Option<(u32, u32)>, StepError> {
        let Some(spec) = spec.filter(|s| !s.is_empty()) else {
            return Ok(None);
        };
        let spec = if spec.contains(':') {
            spec.to_string()
        } else {
            format!("{spec}:{spec}")
        };
        let (u, g) = spec.split_once(':').expect("has a colon");
        let passwd = self.image_file("etc/passwd")?;
        let group = self.image_file("etc/group")?;
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

    /// A file of the image so far, read as the runtime reads it: inside
    /// the layer that holds it, never blocking, never truncated; empty
    /// when there is none.
    fn image_file(&self, p: &str) -> Result<String, StepError> {
        let Some(cur) = self.st.cur else {
            return Ok(String::new());
        };
        let stack = self.store.stack(&cur)?;
        let comps: Vec<&[u8]> = p.split('/').map(str::as_bytes).collect();
        match stack.lookup(&comps) {
            Some((i, _)) => {
                let dir = std::fs::File::open(&stack.dirs[i]).map_err(io("opening a layer"))?;
                Ok(crate::isolate::config::read_db(
                    std::os::fd::AsFd::as_fd(&dir),
                    &format!("/{p}"),
                )?)
            }
            None => Ok(String::new()),
        }
    }
}

/// How a config-only step reads in the history, as docker's classic
/// builder writes it: Go's %q of the command for CMD/ENTRYPOINT, ENV
/// values unquoted, the rest as written.
fn history_text(
    kw: &str,
    args: &str,
    substituted: &str,
    config: &Value,
    shell: &[String],
) -> Result<String, StepError> {
    Ok(match kw {
        "CMD" | "ENTRYPOINT" => {
            let c = change::command_form(args, shell);
            let quoted: Vec<String> = c
                .iter()
                .map(|a| serde_json::to_string(a).unwrap_or_default())
                .collect();
            format!(" {kw} [{}]", quoted.join(" "))
        }
        "ENV" => {
            let kv = change::key_values(substituted).map_err(|e| change::ChangeError {
                text: format!("ENV {substituted}"),
                reason: e.into(),
            })?;
            let pairs: Vec<String> = kv.iter().map(|(k, v)| format!("{k}={v}")).collect();
            format!(" ENV {}", pairs.join(" "))
        }
        "WORKDIR" => format!(
            "WORKDIR {}",
            runtime(config).working_dir().as_deref().unwrap_or("/")
        ),
        "VOLUME" => {
            let vols: Vec<String> = if substituted.trim_start().starts_with('[') {
                serde_json::from_str(substituted).unwrap_or_default()
            } else {
                substituted.split_whitespace().map(String::from).collect()
            };
            format!(" VOLUME [{}]", vols.join(" "))
        }
        _ => format!(" {kw} {substituted}"),
    })
}

/// The absolute destination of a COPY: `dest` below the working directory
/// when relative, "." dropped and ".." applied (never above /).
fn copy_destination(dest: &str, workdir: &str) -> String {
    let joined = if dest.starts_with('/') {
        dest.to_string()
    } else {
        format!("{}/{dest}", workdir.trim_end_matches('/'))
    };
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
    format!("/{}", parts.join("/"))
}

/// Add one source of a COPY or ADD to its layer at `base`; what it was for
/// the history (`file` or `dir`).
fn add_source(
    t: &mut CopyTar<Vec<u8>>,
    src: &context::Source,
    add: bool,
    base: &str,
    dest_is_dir: bool,
) -> Result<&'static str, StepError> {
    let shown = |source| context::ContextError::Copy {
        src: src.name.clone(),
        source,
    };
    if add && src.is_file() && context::is_archive(src) {
        t.add_archive(src, base).map_err(shown)?;
        return Ok("file");
    }
    if src.is_dir() {
        t.add(src, base).map_err(shown)?;
        return Ok("dir");
    }
    let name = if !dest_is_dir {
        base.to_string()
    } else if base.is_empty() {
        src.file_name().to_string()
    } else {
        format!("{base}/{}", src.file_name())
    };
    t.add(src, name.trim_start_matches('/')).map_err(shown)?;
    Ok("file")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_destinations_are_absolute_and_normal() {
        assert_eq!(copy_destination("/a/./b/", "/w"), "/a/b");
        assert_eq!(copy_destination("x", "/w/"), "/w/x");
        assert_eq!(copy_destination(".", "/"), "/");
        assert_eq!(copy_destination("../../..", "/w/v"), "/");
        assert_eq!(copy_destination("../y", "/w/v"), "/w/y");
    }

    #[test]
    fn history_reads_as_dockers_classic_builder() {
        let sh = vec!["/bin/sh".to_string(), "-c".to_string()];
        let h = |kw: &str, args: &str, config: Value| {
            history_text(kw, args, args, &config, &sh).unwrap()
        };
        assert_eq!(
            h("CMD", "echo \"hi\"", json!({})),
            " CMD [\"/bin/sh\" \"-c\" \"echo \\\"hi\\\"\"]"
        );
        assert_eq!(h("ENV", "A=\"1 2\" B=3", json!({})), " ENV A=1 2 B=3");
        assert_eq!(
            h("WORKDIR", "x", json!({"WorkingDir": "/w/x"})),
            "WORKDIR /w/x"
        );
        assert_eq!(
            h("VOLUME", "[\"/a\", \"/b\"]", json!({})),
            " VOLUME [/a /b]"
        );
        assert_eq!(h("VOLUME", "/a /b", json!({})), " VOLUME [/a /b]");
        assert_eq!(h("USER", "1:2", json!({})), " USER 1:2");
    }
}

#[cfg(test)]
mod step_errors {
    use super::*;
    use crate::isolate::config::UserError;
    use crate::testutil::{layer, store, tar_of, TempDir};
    use context::ContextError;
    use dockerfile::InstructionError;

    /// Build `dockerfile` in a context holding one file `f`, on a store
    /// holding `image` (a layer with an /etc/passwd and /etc/group).
    fn fails(dockerfile: &str) -> BuildError {
        fails_in(dockerfile, |_| {})
    }

    /// As [`fails`], with the context made ready by `setup` too.
    fn fails_in(dockerfile: &str, setup: impl FnOnce(&std::path::Path)) -> BuildError {
        let (_d, s) = store("build-errors");
        let ctx = TempDir::new("build-errors-ctx");
        std::fs::write(ctx.path().join("f"), "x").unwrap();
        setup(ctx.path());
        let (image, _) = layer(
            &s,
            None,
            &tar_of(&[
                ("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n"),
                ("etc/group", b"root:x:0:\n"),
            ]),
        );
        let mut progress = |_: &str| {};
        let o = BuildOptions {
            context: ctx.path().to_path_buf(),
            dockerfile: dockerfile.replace("IMAGE", &image.to_string()),
            tags: vec![],
            build_args: BTreeMap::new(),
            no_cache: false,
            source_date_epoch: Some(0),
            progress: &mut progress,
            output_fd: 2,
            network: crate::net::Mode::None,
        };
        build(&s, o).unwrap_err()
    }

    /// The step error of a build that failed at `line`.
    fn step(dockerfile: &str, want_line: usize) -> StepError {
        match fails(dockerfile) {
            BuildError::Step { line, source, .. } => {
                assert_eq!(line, want_line, "{source:?}");
                *source
            }
            e => panic!("not a step error: {e:?}"),
        }
    }

    #[test]
    fn a_bad_instruction() {
        assert!(matches!(
            fails("FROM scratch\nFROBNICATE x\n"),
            BuildError::Parse(dockerfile::ParseError::UnknownInstruction { line: 2, .. })
        ));
        assert!(matches!(
            step("FROM scratch\nCOPY f\n", 2),
            StepError::Instruction(InstructionError::CopyArgs { .. })
        ));
        assert!(matches!(
            step("FROM scratch\nONBUILD RUN x\n", 2),
            StepError::Instruction(InstructionError::Unsupported { .. })
        ));
        assert!(matches!(
            step("RUN x\nFROM scratch\n", 1),
            StepError::NoFrom
        ));
        assert!(matches!(step("FROM $NONE\n", 1), StepError::NoImage));
        assert!(matches!(step("FROM nosuch\n", 1), StepError::NoBase(n) if n == "nosuch"));
        assert!(matches!(
            step("FROM scratch\nRUN true\n", 2),
            StepError::RunOnScratch
        ));
    }

    #[test]
    fn a_source_outside_or_missing_from_the_context() {
        let src = |e: StepError| match e {
            StepError::Context(c) => c,
            e => panic!("not a context error: {e:?}"),
        };
        let e = src(step("FROM scratch\nCOPY ../f /f\n", 2));
        assert!(
            matches!(&e, ContextError::Outside { src } if src == "../f"),
            "{e:?}"
        );
        let e = src(step("FROM scratch\nCOPY a/../../f /f\n", 2));
        assert!(matches!(e, ContextError::Outside { .. }), "{e:?}");
        let e = src(step("FROM scratch\nCOPY nope /f\n", 2));
        assert!(
            matches!(&e, ContextError::Missing { src } if src == "nope"),
            "{e:?}"
        );
        let e = src(step("FROM scratch\nCOPY n* /d/\n", 2));
        assert!(matches!(e, ContextError::NoMatch { .. }), "{e:?}");
        let e = src(step("FROM scratch\nADD https://example.com/x /x\n", 2));
        assert!(matches!(e, ContextError::Remote { .. }), "{e:?}");
        // the message names the source once; the chain adds nothing twice
        let e = src(step("FROM scratch\nCOPY ../f /f\n", 2));
        assert_eq!(e.to_string(), "../f: outside the build context");
    }

    #[test]
    fn an_entry_that_cannot_be_copied() {
        let e = fails_in("FROM scratch\nCOPY d /d\n", |ctx| {
            std::fs::create_dir(ctx.join("d")).unwrap();
            let mode = nix::sys::stat::Mode::from_bits_truncate(0o644);
            nix::unistd::mkfifo(&ctx.join("d/p"), mode).unwrap();
        });
        let BuildError::Step { source, .. } = e else {
            panic!("{e:?}")
        };
        assert!(
            matches!(
                &*source,
                StepError::Context(ContextError::Copy {
                    src,
                    source: context::CopyError::NotCopyable { rel },
                }) if src == "d" && rel == "d/p"
            ),
            "{source:?}"
        );
    }

    #[test]
    fn an_unknown_user_or_group() {
        let e = step("FROM IMAGE\nCOPY --chown=nobody f /f\n", 2);
        assert!(
            matches!(&e, StepError::User(UserError::UnknownUser(u)) if u == "nobody"),
            "{e:?}"
        );
        let e = step("FROM IMAGE\nCOPY --chown=root:wheel f /f\n", 2);
        assert!(
            matches!(&e, StepError::User(UserError::UnknownGroup(g)) if g == "wheel"),
            "{e:?}"
        );
    }

    #[test]
    fn a_step_error_does_not_repeat_its_source() {
        // the Dockerfile line names the step; its source says why, once
        let e = fails("FROM scratch\nCOPY nope /f\n");
        assert_eq!(e.to_string(), "Dockerfile line 2: COPY nope /f");
        let why = std::error::Error::source(&e).unwrap();
        assert_eq!(
            why.to_string(),
            "nope: no such file or directory in the build context"
        );
    }
}
