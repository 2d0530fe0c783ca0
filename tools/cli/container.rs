//! Helpers shared by the container tools.

use crate::args::{ProcessArgs, RunArgs};
use crate::{usage, Fail};
use libcairn::isolate::cgroup::Limits;
use libcairn::isolate::config::Overrides;
use libcairn::isolate::process::Net;

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

pub fn parse_net(s: &str) -> Net {
    match s {
        "loopback" | "none" | "" => Net::Loopback,
        "host" => Net::Host,
        p => Net::Join(p.into()),
    }
}

pub fn limits(r: &RunArgs) -> Result<Limits, Fail> {
    if r.cpus.is_some_and(|c| c.is_nan() || c <= 0.0) {
        return Err(usage("--cpus must be positive"));
    }
    if r.pids_limit == Some(0) {
        return Err(usage("--pids-limit must be positive"));
    }
    Ok(Limits {
        memory: r.memory.as_deref().map(parse_size).transpose()?,
        pids: r.pids_limit,
        cpus: r.cpus,
    })
}

/// Overrides from a command, an entrypoint and the process options.
pub fn overrides(cmd: &[String], entrypoint: &Option<String>, p: &ProcessArgs) -> Overrides {
    Overrides {
        cmd: (!cmd.is_empty()).then(|| cmd.to_vec()),
        entrypoint: entrypoint.as_ref().map(|e| {
            if e.is_empty() {
                vec![]
            } else {
                vec![e.clone()]
            }
        }),
        env: p.config.env.clone(),
        workdir: p.config.workdir.clone(),
        user: p.config.user.clone(),
    }
}
