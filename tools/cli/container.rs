//! Helpers shared by the container tools.

use crate::args::{CreateArgs, HostArgs, LimitArgs, ProcessArgs, RunArgs};
use crate::{usage, Fail};
use libcairn::image::runtime_config::Overrides;
use libcairn::net::Mode;
use libcairn::store::container::{ContainerMeta, Resources, RestartPolicy};
use std::collections::BTreeMap;

/// A failure of a tool that runs a process (`isolate`, `run`, `start`,
/// `exec`) before the process runs: 125, as docker's.
pub fn fail125(e: impl Into<Fail>) -> Fail {
    Fail {
        code: 125,
        ..e.into()
    }
}

/// A container whose process could not be run: 125, or 126 / 127 when the
/// command cannot be executed or is not found.
pub fn run_failure(e: libcairn::container::ContainerError) -> Fail {
    Fail {
        code: e.exit_code(),
        ..e.into()
    }
}

/// `32m`, `1g`, `100k`, `1048576`.
pub fn parse_size(s: &str) -> Result<u64, Fail> {
    let t = s.trim().to_ascii_lowercase();
    let t = t.strip_suffix('b').unwrap_or(&t);
    let (num, mult) = match t.chars().last() {
        Some('k') => (&t[..t.len() - 1], 1u64 << 10),
        Some('m') => (&t[..t.len() - 1], 1 << 20),
        Some('g') => (&t[..t.len() - 1], 1 << 30),
        _ => (t, 1),
    };
    let n: f64 = num.parse().map_err(|_| {
        usage(format!(
            "invalid size {s:?}: use bytes or a number with k, m or g"
        ))
    })?;
    if n.is_nan() || n <= 0.0 {
        return Err(usage(format!("invalid size {s:?}: must be positive")));
    }
    Ok((n * mult as f64) as u64)
}

/// `--network`, `none` when it is not given (isolate's default; run
/// passes its own).
pub fn parse_net(r: &RunArgs) -> Result<Mode, Fail> {
    Mode::parse(r.network.as_deref().unwrap_or("none")).map_err(|e| usage(e.to_string()))
}

/// `--network` for a new container ([`default_network`] when it is not
/// given): a network that does not exist is refused before the
/// container is made.
pub fn check_network(common: &crate::args::Common, network: Option<&str>) -> Result<Mode, Fail> {
    let name = network.unwrap_or(default_network());
    let mode = Mode::parse(name).map_err(|e| usage(e.to_string()))?;
    libcairn::net::check(&crate::open_store(common)?, &mode)?;
    Ok(mode)
}

/// `o` for container `c`: with the limits it was made with but for those
/// `r` gives (checked with them: a `--memory-swap` alone goes with its
/// `-m`); privileged if it was made so; without `--network`, on the
/// network `c` was made for (`create --network`) or last ran on, as
/// docker's start; with `-P`, also every port its image EXPOSEs that no
/// `-p` publishes, on a free host port.
pub fn for_container(
    mut o: libcairn::container::RunOptions,
    r: &RunArgs,
    store: &libcairn::Store,
    c: &libcairn::store::container::ContainerMeta,
) -> Result<libcairn::container::RunOptions, Fail> {
    let recorded = libcairn::net::endpoint(store, &c.id)
        .ok()
        .flatten()
        .unwrap_or_default();
    // a terminal asked for at create time is given at every start
    o.tty |= c.host.terminal.tty;
    o.privileged |= c.host.privileged;
    // the limits recorded at create, but those given here
    o.limits = libcairn::container::limits(&checked(given(&r.limits)?.over(&c.host.resources))?);
    if r.network.is_none() {
        if let Ok(mode) = Mode::parse(&recorded.mode) {
            o.net = mode;
        }
    }
    let mut all = r.publish_all;
    // without -p or -P, what `create` or `run` asked for, on a network
    // that publishes (a bridge, or slirp4netns's own forwarder)
    let publishes = matches!(o.net, Mode::Bridge(_) | Mode::Slirp4netns { .. });
    if r.publish.is_empty() && !all && publishes {
        o.ports = recorded.publish;
        all = recorded.publish_all;
    }
    if !all {
        return Ok(o);
    }
    let config = libcairn::image::runtime_config::runtime(&c.config);
    for e in config.exposed_ports().clone().unwrap_or_default() {
        if let Ok(p) = e.parse::<libcairn::net::Port>() {
            let same = |q: &libcairn::net::Port| {
                (q.container_port, q.proto) == (p.container_port, p.proto)
            };
            if !o.ports.iter().any(same) {
                o.ports.push(p);
            }
        }
    }
    Ok(o)
}

/// `-p` values, each parsed as docker spells it.
pub fn ports(r: &RunArgs) -> Result<Vec<libcairn::net::Port>, Fail> {
    parse_ports(&r.publish)
}

fn parse_ports(publish: &[String]) -> Result<Vec<libcairn::net::Port>, Fail> {
    publish
        .iter()
        .map(|p| {
            p.parse()
                .map_err(|e: libcairn::net::port::BadPort| usage(e.to_string()))
        })
        .collect()
}

/// What a new container on `mode` (`by_default`: no network named) asks
/// of its network, for each start (`-p`, `-P`, `--network-alias`),
/// checked: ports off a bridge network and aliases that are no hostnames
/// are refused before it is made.
pub fn network_request(
    mode: &Mode,
    by_default: bool,
    p: &crate::args::PublishArgs,
) -> Result<libcairn::net::Endpoint, Fail> {
    let ep = libcairn::net::Endpoint {
        mode: mode.name(),
        by_default,
        publish: parse_ports(&p.publish)?,
        publish_all: p.publish_all,
        aliases: p.network_alias.clone(),
        ..Default::default()
    };
    libcairn::net::check_request(&ep).map_err(|e| usage(e.to_string()))?;
    Ok(ep)
}

/// `run`'s network when none is named: the default bridge, as docker's;
/// rootless, where a bridge needs root, `none`.
pub fn default_network() -> &'static str {
    if libcairn::userns::rootless() {
        "none"
    } else {
        "bridge"
    }
}

/// The limits `-m`, `--memory-swap`, `--pids-limit` and `--cpus` ask for,
/// checked as docker checks them, with docker's default swap for `-m`
/// alone; in a rootless store, one that cannot be had is refused.
pub fn resources(l: &LimitArgs) -> Result<Resources, Fail> {
    checked(given(l)?)
}

/// isolate's limits before its containers are known: as [`resources`]
/// checks them, but a `--memory-swap` without `-m`, which waits for each
/// container's recorded `-m` ([`for_container`]).
pub fn check_limits(l: &LimitArgs) -> Result<(), Fail> {
    let r = given(l)?;
    checked(Resources {
        memory_swap: r.memory.and(r.memory_swap),
        ..r
    })
    .map(drop)
}

/// The limits as given, parsed but not checked.
fn given(l: &LimitArgs) -> Result<Resources, Fail> {
    let swap = match l.memory_swap.as_deref().map(str::trim) {
        None => None,
        Some("-1") => Some(-1),
        Some(s) => {
            Some(i64::try_from(parse_size(s)?).map_err(|_| usage("--memory-swap: too large"))?)
        }
    };
    Ok(Resources {
        memory: l.memory.as_deref().map(parse_size).transpose()?,
        memory_swap: swap,
        pids_limit: l.pids_limit,
        cpus: l.cpus,
    })
}

fn checked(r: Resources) -> Result<Resources, Fail> {
    let r = (r.checked().map_err(usage)?)
        .with_default_swap(libcairn::isolate::cgroup::swap_limit_supported());
    if libcairn::userns::rootless() {
        libcairn::container::rootless_limits(&libcairn::container::limits(&r))
            .map_err(|p| usage(p.to_string()))?;
    }
    Ok(r)
}

/// The flags that make union-mount record the limits `l` asks for
/// (create's and run's).
pub fn limit_flags(l: &LimitArgs) -> Vec<String> {
    let mut v = Vec::new();
    let mut add = |flag: &str, value: String| v.extend([flag.to_string(), value]);
    l.memory.iter().for_each(|m| add("--memory", m.clone()));
    l.memory_swap
        .iter()
        .for_each(|m| add("--memory-swap", m.clone()));
    l.pids_limit
        .iter()
        .for_each(|p| add("--pids-limit", p.to_string()));
    l.cpus.iter().for_each(|c| add("--cpus", c.to_string()));
    v
}

/// The environment `-e` and `--env-file` give, as docker reads them (a
/// bare K takes this process's value).
pub fn env(c: &crate::args::ConfigArgs) -> Result<Vec<String>, Fail> {
    let files = c
        .env_file
        .iter()
        .map(|f| {
            std::fs::read_to_string(f)
                .map_err(|e| usage(format!("--env-file {}: {e}", f.display())))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(libcairn::container::caller_env(&files, &c.env, |k| {
        std::env::var(k).ok()
    }))
}

/// Overrides from a command, an entrypoint and the environment, working
/// directory and user options.
pub fn overrides(
    cmd: &[String],
    entrypoint: &Option<String>,
    p: &crate::args::ConfigArgs,
) -> Result<Overrides, Fail> {
    Ok(Overrides {
        cmd: (!cmd.is_empty()).then(|| cmd.to_vec()),
        entrypoint: entrypoint.as_ref().map(|e| {
            if e.is_empty() {
                vec![]
            } else {
                vec![e.clone()]
            }
        }),
        env: env(p)?,
        workdir: p.workdir.clone(),
        user: p.user.clone(),
        labels: Vec::new(),
    })
}

/// `--log-opt max-size=SIZE`, `--log-opt max-file=N` (docker's spelling),
/// each in turn (a key given again wins).
pub fn log_bounds(opts: &[String]) -> Result<libcairn::logfile::Bounds, Fail> {
    let mut b = libcairn::logfile::Bounds::default();
    for o in opts {
        match o.split_once('=') {
            Some(("max-size", v)) => b.max_size = parse_size(v)?,
            Some(("max-file", v)) => {
                b.max_files = v.parse().ok().filter(|&n| n >= 1).ok_or_else(|| {
                    usage(format!(
                        "--log-opt max-file={v}: must be a whole number >= 1"
                    ))
                })?
            }
            _ => {
                return Err(usage(format!(
                    "--log-opt {o}: unknown; use max-size=SIZE or max-file=N"
                )))
            }
        }
    }
    Ok(b)
}

/// `--log-opt`s, checked, as a new container records them (docker's
/// `LogConfig.Config`: the last value of a key).
pub fn log_opts(opts: &[String]) -> Result<BTreeMap<String, String>, Fail> {
    log_bounds(opts)?;
    Ok((opts.iter())
        .filter_map(|o| o.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect())
}

/// The log options of `c`'s start: those recorded at create, then
/// `given` (isolate's, for its run).
fn start_log_opts(c: &ContainerMeta, given: &[String]) -> Vec<String> {
    let recorded = (c.host.log_opts.iter()).map(|(k, v)| format!("{k}={v}"));
    recorded.chain(given.iter().cloned()).collect()
}

/// How `isolate` runs a container's process, from its options (its limits
/// are the container's: [`for_container`]; the log's are checked here,
/// [`detached`] takes them). The standard streams are the caller's to
/// set; the supervisor is us.
pub fn run_options(
    cmd: &[String],
    entrypoint: &Option<String>,
    p: &ProcessArgs,
    r: &RunArgs,
) -> Result<libcairn::container::RunOptions, Fail> {
    check_limits(&r.limits)?;
    log_bounds(&r.log_opt)?;
    Ok(libcairn::container::RunOptions {
        overrides: overrides(cmd, entrypoint, &p.config)?,
        net: parse_net(r)?,
        ports: ports(r)?,
        limits: Default::default(),
        privileged: p.privileged,
        stdio: [None; 3],
        tty: p.tty,
        console: None,
        supervisor: nix::unistd::getpid(),
    })
}

/// Refuse an image that would run nothing: it sets no Cmd or Entrypoint
/// and neither `cmd` nor `entrypoint` gives one (docker's "No command
/// specified").
pub fn has_command(
    common: &crate::args::Common,
    image: &str,
    cmd: &[String],
    entrypoint: &Option<String>,
) -> Result<(), Fail> {
    use libcairn::image::runtime_config as rcfg;
    if !cmd.is_empty() || entrypoint.as_deref().is_some_and(|e| !e.is_empty()) {
        return Ok(());
    }
    // An image that cannot be read is union-mount's to report.
    let Ok(store) = crate::open_store(common) else {
        return Ok(());
    };
    let Ok(chain) = libcairn::image::resolve(&store, image).and_then(|l| store.chain(&l)) else {
        return Ok(());
    };
    let config = rcfg::apply(
        &rcfg::effective_config(&chain),
        &Overrides {
            entrypoint: entrypoint.as_ref().map(|_| vec![]),
            ..Overrides::default()
        },
    );
    if rcfg::argv(&rcfg::runtime(&config)).is_empty() {
        return Err(anyhow::anyhow!(
            "image {image}: no command: it sets no Cmd or Entrypoint; give one after the image"
        )
        .into());
    }
    Ok(())
}

/// How the supervisor of the container `c` started by `args` runs it
/// when detached or attached: its log bounds, `--rm`, and the stdin,
/// each as recorded at create (`--log-opt`, `--rm`, `-i`) or asked for
/// now.
pub fn detached(
    args: &crate::args::Isolate,
    c: &ContainerMeta,
) -> Result<libcairn::container::Detached, Fail> {
    Ok(libcairn::container::Detached {
        log: log_bounds(&start_log_opts(c, &args.run.log_opt))?,
        remove_on_exit: args.rm || c.host.auto_remove,
        interactive: args.process.interactive || c.host.terminal.open_stdin,
        stdin_once: c.host.terminal.stdin_once,
        attach_early: false,
    })
}

/// `--rm` (isolate's, or recorded at create) as `d` asks it, noted for
/// the start of `c`; what removes `c` and its anonymous volumes when that
/// start fails, as docker's.
pub fn auto_remove<'a>(
    store: &'a libcairn::Store,
    c: &'a ContainerMeta,
    d: &libcairn::container::Detached,
) -> Result<impl Fn(&Fail) + 'a, Fail> {
    let rm = d.remove_on_exit;
    libcairn::container::note_rm(store, c, rm).map_err(fail125)?;
    Ok(move |_: &Fail| {
        if rm {
            let _ = libcairn::container::remove_with_volumes(store, c);
        }
    })
}

/// `isolate` (run, start -a) of a container with a terminal or stdin, in
/// the foreground: under a detached supervisor with us attached from its
/// start, so that the detach keys leave it running, as docker's client
/// attaches to its daemon. Its status (0 on the detach keys).
pub fn attached(
    store: &libcairn::Store,
    c: &libcairn::store::container::ContainerMeta,
    opts: libcairn::container::RunOptions,
    d: libcairn::container::Detached,
    args: &crate::args::Isolate,
) -> Result<i32, Fail> {
    use libcairn::container::attach;
    let signals = libcairn::isolate::supervise::Signals::block();
    libcairn::isolate::tty::check_input(args.process.interactive, opts.tty)?;
    // `run -t` on a terminal passes it on too (raw: ctrl-c reaches the
    // container), as it did before it ran under a supervisor
    let on_terminal = args.process.tty && std::io::IsTerminal::is_terminal(&std::io::stdin());
    let stdin = args.process.interactive || on_terminal;
    let o = attach::Options {
        stdin,
        detach_keys: detach_keys(args.run.detach_keys.as_deref()).map_err(fail125)?,
        signals: &signals,
        // as docker's run and start: signals go to it without a terminal
        proxy: true,
    };
    // our input's end is its stdin's (docker's run -i, start -ai)
    let d = libcairn::container::Detached {
        stdin_once: d.stdin_once || stdin,
        ..d
    };
    let (mut out, mut err) = (std::io::stdout(), std::io::stderr());
    let rm = d.remove_on_exit;
    let ended = attach::run_attached(store, c, opts, d, o, &mut out, &mut err)
        .inspect_err(|_| {
            if rm {
                let _ = libcairn::container::remove_with_volumes(store, c);
            }
        })
        .map_err(run_failure)?;
    Ok(attach_status(ended, false))
}

/// `start -a` of a container that runs already: attached to it as
/// docker's (its status; 0 on the detach keys).
pub fn attach_running(
    store: &libcairn::Store,
    c: &libcairn::store::container::ContainerMeta,
    stdin: bool,
    keys: Option<&str>,
) -> Result<i32, Fail> {
    use libcairn::container::attach;
    let signals = libcairn::isolate::supervise::Signals::block();
    let o = attach::Options {
        stdin,
        detach_keys: detach_keys(keys)?,
        signals: &signals,
        proxy: true,
    };
    let (mut out, mut err) = (std::io::stdout(), std::io::stderr());
    let ended = attach::attach(store, c, o, &mut out, &mut err)?;
    Ok(attach_status(ended, false))
}

/// docker's `--detach-keys` (none: ctrl-p,ctrl-q), or a usage error.
pub fn detach_keys(keys: Option<&str>) -> Result<Vec<u8>, Fail> {
    use libcairn::container::attach::{parse_detach_keys, DETACH_KEYS};
    let Some(k) = keys else {
        return Ok(DETACH_KEYS.to_vec());
    };
    parse_detach_keys(k).ok_or_else(|| {
        usage(format!(
            "invalid detach keys ({k}) provided: give `ctrl-X` or one character each, separated by commas"
        ))
    })
}

/// The status an attach ends with, as docker's client: the run's, 128+N
/// after signal N; after the detach keys, `attach` says so and ends with
/// 1, `run` and `start -a` end with 0 and say nothing (docker 20.10).
pub fn attach_status(e: libcairn::container::attach::Ended, by_attach: bool) -> i32 {
    use libcairn::container::attach::Ended;
    match e {
        Ended::Exited(code) => code,
        Ended::Detached if by_attach => {
            eprintln!("read escape sequence");
            1
        }
        Ended::Detached => 0,
        Ended::Signalled(sig) => 128 + sig,
    }
}

/// run's flags for the isolate it runs (all but the network, and what
/// is recorded with the container at create: limits, --privileged,
/// --log-opt, --rm).
pub fn isolate_flags(p: &ProcessArgs, r: &RunArgs) -> Vec<String> {
    let mut v: Vec<String> = switches([(p.interactive, "-i"), (p.tty, "-t")])
        .map(String::from)
        .collect();
    let mut add = |flag: &str, value: String| v.extend([flag.to_string(), value]);
    r.detach_keys
        .iter()
        .for_each(|k| add("--detach-keys", k.clone()));
    v
}

/// What `-i`, `-t` and `-a` record (`detached`: as `run -d`, no stream
/// attached).
pub fn terminal(
    t: &crate::args::TerminalArgs,
    detached: bool,
) -> Result<libcairn::store::container::Terminal, Fail> {
    use libcairn::store::container::{Stream, Terminal};
    let streams = (t.attach.iter())
        .map(|a| a.parse::<Stream>().map_err(usage))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Terminal::of(t.interactive, t.tty, &streams, detached))
}

/// The flags that make union-mount record what `-i`, `-t` (and `-d`)
/// ask of a new container (run's and create's).
pub fn terminal_flags(interactive: bool, tty: bool, detached: bool) -> Vec<&'static str> {
    switches([(interactive, "-i"), (tty, "-t"), (detached, "--detached")]).collect()
}

/// The flags of `s` that are on.
fn switches<const N: usize>(s: [(bool, &'static str); N]) -> impl Iterator<Item = &'static str> {
    s.into_iter().filter_map(|(on, f)| on.then_some(f))
}

pub fn host_config(c: &CreateArgs) -> Result<libcairn::store::container::HostConfig, Fail> {
    use libcairn::volume::{parse_mount, parse_tmpfs, parse_volume};
    let mut mounts = Vec::new();
    for v in &c.volumes {
        mounts.push(parse_volume(v).map_err(usage)?);
    }
    for m in &c.mounts {
        mounts.push(parse_mount(m).map_err(usage)?);
    }
    for t in &c.tmpfs {
        mounts.push(parse_tmpfs(t).map_err(usage)?);
    }
    let caps = |v: &[String]| -> Result<Vec<String>, Fail> {
        v.iter()
            .map(|n| libcairn::container::capabilities::parse(n).map_err(usage))
            .collect()
    };
    Ok(libcairn::store::container::HostConfig {
        mounts,
        hostname: c.hostname.clone(),
        read_only: c.read_only,
        cap_add: caps(&c.cap_add)?,
        cap_drop: caps(&c.cap_drop)?,
        restart: restart_policy(c)?,
        init: c.init,
        terminal: Default::default(),
        resources: Default::default(),
        privileged: false,
        auto_remove: false,
        log_opts: Default::default(),
    })
}

/// What `--privileged`, `--log-opt` and `--rm` record for a new container
/// (union-mount's), checked: `--rm` with a restart policy is refused.
pub fn host_args(
    h: &HostArgs,
    host: libcairn::store::container::HostConfig,
) -> Result<libcairn::store::container::HostConfig, Fail> {
    if h.rm && !host.restart.is_no() {
        return Err(usage(RESTART_AND_RM));
    }
    Ok(libcairn::store::container::HostConfig {
        privileged: h.privileged,
        auto_remove: h.rm,
        log_opts: log_opts(&h.log_opt)?,
        ..host
    })
}

/// The flags that make union-mount record `h` (create's and run's).
pub fn host_flags(h: &HostArgs) -> Vec<String> {
    let mut v: Vec<String> = switches([(h.privileged, "--privileged"), (h.rm, "--rm")])
        .map(String::from)
        .collect();
    h.log_opt
        .iter()
        .for_each(|o| v.extend(["--log-opt".to_string(), o.clone()]));
    v
}

const RESTART_AND_RM: &str = "conflicting options: cannot specify both --restart and --rm";

/// `--restart`, checked.
pub fn restart_policy(c: &CreateArgs) -> Result<RestartPolicy, Fail> {
    c.restart
        .as_deref()
        .map(RestartPolicy::parse)
        .transpose()
        .map(Option::unwrap_or_default)
        .map_err(usage)
}

/// `--restart` with `--rm`: refused, as docker's (the supervisor cannot
/// both start it again and remove it).
pub fn check_restart(c: &CreateArgs, rm: bool) -> Result<(), Fail> {
    if rm && !restart_policy(c)?.is_no() {
        return Err(usage(RESTART_AND_RM));
    }
    Ok(())
}

/// `run --restart` in the foreground, as docker's: the container was
/// started under its detached supervisor by `isolate` (`-d`), which keeps
/// restarting it in the background; the caller is given its first run
/// (attached to it with -i or -t, else its output as the log keeps it) and
/// its status.
pub fn first_run(
    common: &crate::args::Common,
    isolate: &mut std::process::Command,
    id: &str,
    attach: bool,
) -> Result<i32, Fail> {
    use std::process::Stdio;
    let started = isolate
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .status()?;
    if !started.success() {
        return Ok(started.code().unwrap_or(125));
    }
    if attach {
        use std::os::unix::process::CommandExt;
        let mut cmd = crate::porcelain::tool("attach");
        if let Some(r) = &common.root {
            cmd.arg("--root").arg(r);
        }
        let err = cmd.arg(id).exec();
        return Err(Fail::from(anyhow::anyhow!("running cairn-attach: {err}")));
    }
    let store = crate::open_store(common)?;
    let c = store.resolve_container(id)?;
    Ok(libcairn::container::attach::first_run(
        &store,
        &c,
        &mut std::io::stdout(),
        &mut std::io::stderr(),
    )?)
}

/// The options of `c` as union-mount takes them, for a porcelain that
/// runs it.
pub fn create_flags(c: &CreateArgs) -> Vec<String> {
    let mut v = Vec::new();
    let mut add = |flag: &str, value: &str| {
        v.push(flag.to_string());
        v.push(value.to_string());
    };
    c.name.iter().for_each(|n| add("--name", n));
    c.entrypoint.iter().for_each(|e| add("--entrypoint", e));
    c.volumes.iter().for_each(|x| add("--volume", x));
    c.mounts.iter().for_each(|x| add("--mount", x));
    c.tmpfs.iter().for_each(|x| add("--tmpfs", x));
    c.hostname.iter().for_each(|h| add("--hostname", h));
    c.labels.iter().for_each(|l| add("--label", l));
    c.cap_add.iter().for_each(|x| add("--cap-add", x));
    c.cap_drop.iter().for_each(|x| add("--cap-drop", x));
    c.restart.iter().for_each(|r| add("--restart", r));
    if c.read_only {
        v.push("--read-only".into());
    }
    if c.init {
        v.push("--init".into());
    }
    v
}

/// Every network: the store's, and the predefined ones it has no record
/// of (as docker lists bridge, host and none).
pub fn networks(store: &libcairn::Store) -> Result<Vec<libcairn::record::NetworkRecord>, Fail> {
    use libcairn::net;
    use libcairn::record::NetworkRecord;
    let mut recs: Vec<NetworkRecord> = net::list(store)?.iter().map(NetworkRecord::of).collect();
    for (name, driver) in [
        (net::DEFAULT_NETWORK, "bridge"),
        ("host", "host"),
        ("none", "null"),
    ] {
        if recs.iter().all(|r| r.network != name) {
            recs.push(NetworkRecord {
                network: name.into(),
                driver: Some(driver.into()),
                ..Default::default()
            });
        }
    }
    recs.sort_by(|a, b| a.network.cmp(&b.network));
    Ok(recs)
}

/// Whether isolate must run from a sealed view of its binary: when a
/// process of its own stays in the container (`--init`: pid 1 for the
/// container's whole life), and for a pipeline, whose containers are known
/// only from stdin. Read before anything else happens (no rootless
/// namespace entered, nothing written); a container that cannot be read
/// here fails later anyway, and libcairn refuses an init that is not
/// sealed.
pub fn keeps_a_process_inside(a: &crate::args::Isolate) -> bool {
    let Some(name) = &a.container else {
        return true;
    };
    let root = crate::store_root(&a.common.root);
    libcairn::Store::open(&root)
        .and_then(|s| s.resolve_container(name))
        .is_ok_and(|c| c.host.init)
}
