//! The spec's hooks that the runtime itself runs, as runc runs them: each
//! a program (`path`, `args` with its own argv[0], `env` alone) given the
//! container's state as JSON on stdin, killed after its `timeout`
//! seconds. `prestart` and `createRuntime` run once the container's
//! process is set up and waits to be started (its namespaces exist:
//! docker's network hook joins its network namespace), `poststart` once
//! it is started, `poststop` once it is deleted. `createContainer` and
//! `startContainer` run inside the container and are refused.

use super::{Report, RuntimeError};
use oci_spec::runtime::{Hook, Hooks, Spec};
use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Which hooks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// `prestart` then `createRuntime`.
    Create,
    Poststart,
    Poststop,
}

impl std::fmt::Display for Stage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Stage::Create => "prestart/createRuntime",
            Stage::Poststart => "poststart",
            Stage::Poststop => "poststop",
        })
    }
}

/// Take the hooks out of `spec` (isolate runs none): they are the
/// runtime's to run. Hooks that would run inside the container are an
/// error naming them.
pub fn take(spec: &mut Spec) -> Result<Hooks, RuntimeError> {
    let hooks = spec.hooks().clone().unwrap_or_default();
    let inside = |h: &Option<Vec<Hook>>| h.as_ref().is_some_and(|v| !v.is_empty());
    if inside(hooks.create_container()) || inside(hooks.start_container()) {
        return Err(RuntimeError::Hooks(
            "createContainer and startContainer hooks (run inside the container) are not supported",
        ));
    }
    spec.set_hooks(None);
    Ok(hooks)
}

/// The hooks of `stage`, in order.
pub fn of(hooks: &Hooks, stage: Stage) -> Vec<Hook> {
    let list = |h: &Option<Vec<Hook>>| h.clone().unwrap_or_default();
    match stage {
        Stage::Create => {
            let mut v = list(hooks.prestart());
            v.extend(list(hooks.create_runtime()));
            v
        }
        Stage::Poststart => list(hooks.poststart()),
        Stage::Poststop => list(hooks.poststop()),
    }
}

/// Run `hooks` in order with `state` on their stdin; the first that fails
/// (exit status, signal, timeout) is the error, with what it wrote.
pub fn run(hooks: &[Hook], stage: Stage, state: &Report) -> Result<(), RuntimeError> {
    let json = serde_json::to_vec(state).unwrap_or_default();
    for h in hooks {
        run_one(h, &json).map_err(|source| RuntimeError::Hook {
            stage,
            path: h.path().clone(),
            source,
        })?;
    }
    Ok(())
}

/// How one hook failed.
#[derive(Debug, thiserror::Error)]
pub enum HookFailure {
    #[error("cannot be started")]
    Spawn(#[source] std::io::Error),
    #[error("cannot be waited for")]
    Wait(#[source] std::io::Error),
    #[error("timed out after {0}s")]
    TimedOut(u64),
    #[error("{status}: {said}")]
    Failed {
        status: std::process::ExitStatus,
        /// What it wrote on stdout and stderr, trimmed.
        said: String,
    },
}

fn run_one(h: &Hook, state: &[u8]) -> Result<(), HookFailure> {
    let mut cmd = Command::new(h.path());
    if let Some((arg0, rest)) = h.args().as_deref().and_then(|a| a.split_first()) {
        cmd.arg0(arg0).args(rest);
    }
    cmd.env_clear();
    for e in h.env().iter().flatten() {
        if let Some((k, v)) = e.split_once('=') {
            cmd.env(k, v);
        }
    }
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(HookFailure::Spawn)?;
    if let Some(mut stdin) = child.stdin.take() {
        // a hook that does not read its state is no error
        let _ = stdin.write_all(state);
    }
    let timeout = h.timeout().filter(|t| *t > 0).map(|t| t as u64);
    let deadline = timeout.map(|t| Instant::now() + Duration::from_secs(t));
    let status = loop {
        match child.try_wait().map_err(HookFailure::Wait)? {
            Some(st) => break st,
            None if deadline.is_some_and(|d| Instant::now() >= d) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(HookFailure::TimedOut(timeout.unwrap_or(0)));
            }
            None => std::thread::sleep(Duration::from_millis(5)),
        }
    };
    if status.success() {
        return Ok(());
    }
    let mut said = String::new();
    for out in [
        child.stdout.take().map(|o| Box::new(o) as Box<dyn Read>),
        child.stderr.take().map(|o| Box::new(o) as Box<dyn Read>),
    ]
    .into_iter()
    .flatten()
    {
        let mut o = out;
        let _ = o.read_to_string(&mut said);
    }
    Err(HookFailure::Failed {
        status,
        said: said.trim().to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hook(json: serde_json::Value) -> Hook {
        serde_json::from_value(json).unwrap()
    }

    fn report() -> Report {
        Report {
            oci_version: "1.0.2".into(),
            id: "c1".into(),
            status: super::super::Status::Created,
            pid: Some(42),
            bundle: "/b".into(),
        }
    }

    #[test]
    fn hooks_get_the_state_their_argv_and_env() {
        let dir = crate::testutil::TempDir::new("hooks");
        let out = dir.path().join("out");
        let script = format!(
            "read -r state; echo \"$0 $1 $X $state\" > {}",
            out.display()
        );
        let h = hook(serde_json::json!({
            "path": "/bin/sh", "args": ["hook-zero", "-c", script, "one"], "env": ["X=x"]
        }));
        run(&[h], Stage::Create, &report()).unwrap();
        let got = std::fs::read_to_string(&out).unwrap();
        assert!(got.starts_with("one  x {"), "{got}");
        assert!(
            got.contains("\"pid\":42") && got.contains("\"status\":\"created\""),
            "{got}"
        );
        let fails = hook(
            serde_json::json!({"path": "/bin/sh", "args": ["sh", "-c", "echo nope >&2; exit 3"]}),
        );
        let e = run(&[fails], Stage::Poststop, &report()).unwrap_err();
        let e = crate::error::one_line(&e);
        assert!(e.contains("poststop") && e.contains("nope"), "{e}");
        let slow =
            hook(serde_json::json!({"path": "/bin/sleep", "args": ["sleep", "5"], "timeout": 1}));
        let e = run(&[slow], Stage::Poststart, &report()).unwrap_err();
        assert!(
            matches!(
                &e,
                RuntimeError::Hook {
                    source: HookFailure::TimedOut(1),
                    ..
                }
            ),
            "{e}"
        );
    }

    #[test]
    fn hooks_inside_the_container_are_refused() {
        let mut spec = crate::runtime::default_spec();
        let h: Hooks = serde_json::from_value(serde_json::json!({
            "prestart": [{"path": "/bin/true"}], "poststop": [{"path": "/bin/false"}]
        }))
        .unwrap();
        spec.set_hooks(Some(h));
        let hooks = take(&mut spec).unwrap();
        assert!(spec.hooks().is_none());
        assert_eq!(of(&hooks, Stage::Create).len(), 1);
        assert_eq!(of(&hooks, Stage::Poststop).len(), 1);
        let h: Hooks = serde_json::from_value(serde_json::json!({
            "startContainer": [{"path": "/bin/true"}]
        }))
        .unwrap();
        spec.set_hooks(Some(h));
        assert!(take(&mut spec).is_err());
    }
}
