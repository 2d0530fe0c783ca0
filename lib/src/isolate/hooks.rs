//! Running one of the runtime spec's hooks: a program (`path`, `args`
//! with its own argv[0], `env` alone) given the container's state as JSON
//! on stdin, killed after its `timeout` seconds, as runc runs them.
//!
//! The runtime runs the hooks that run beside the container
//! (`crate::runtime`). The two that run inside it are run here, by the
//! container's own process, in runc's places:
//!
//! - `createContainer`: in the container's namespaces once its mounts are
//!   made, before `pivot_root`, in the root file system's directory: the
//!   program is found in the host's file system (still there), and its
//!   state says `creating`.
//! - `startContainer`: once the container is started (past its start
//!   gate), as its process with its user, capabilities and seccomp
//!   filter, right before the command is executed: the program is the
//!   container's, and its state says `created`.
//!
//! The state's pid is the process's own as its pid namespace numbers it
//! (1 for a container's), as runc gives it.

use oci_spec::runtime::Hook;
use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The hooks a container's own process runs, with the state they get.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Inside {
    pub create_container: Vec<Hook>,
    pub start_container: Vec<Hook>,
}

impl Inside {
    /// The createContainer and startContainer hooks of `hooks`.
    pub fn of(hooks: Option<&oci_spec::runtime::Hooks>) -> Inside {
        let list = |h: Option<&Vec<Hook>>| h.cloned().unwrap_or_default();
        Inside {
            create_container: list(hooks.and_then(|h| h.create_container().as_ref())),
            start_container: list(hooks.and_then(|h| h.start_container().as_ref())),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.create_container.is_empty() && self.start_container.is_empty()
    }
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

/// The state a hook run inside the container gets: `base` (the runtime's
/// `ociVersion`, `id`, `bundle`...; an empty object when there is none)
/// with `status` and this process's pid.
pub fn state_here(base: Option<&serde_json::Value>, status: &str) -> Vec<u8> {
    let mut v = match base {
        Some(serde_json::Value::Object(m)) => m.clone(),
        _ => serde_json::Map::new(),
    };
    v.entry("ociVersion")
        .or_insert(super::spec::OCI_VERSION.into());
    v.insert("status".into(), status.into());
    v.insert("pid".into(), std::process::id().into());
    serde_json::to_vec(&v).unwrap_or_default()
}

/// Run the hook `h` with `state` on its stdin; its exit status, a signal
/// or its timeout is the error, with what it wrote.
pub fn run_one(h: &Hook, state: &[u8]) -> Result<(), HookFailure> {
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

/// Run `hooks` (of the stage called `stage`) in order with `state`; the
/// first failure is the error as one line naming the stage and the hook.
pub(super) fn run_inside(hooks: &[Hook], stage: &str, state: &[u8]) -> Result<(), String> {
    for h in hooks {
        if let Err(e) = run_one(h, state) {
            let e = crate::error::one_line(&e);
            return Err(format!("{stage} hook {}: {e}", h.path().display()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_state_inside_is_the_runtimes_with_status_and_pid() {
        let base = serde_json::json!({"ociVersion": "1.0.2", "id": "c", "bundle": "/b"});
        let v: serde_json::Value =
            serde_json::from_slice(&state_here(Some(&base), "creating")).unwrap();
        assert_eq!(v["id"], "c");
        assert_eq!(v["status"], "creating");
        assert_eq!(v["pid"], std::process::id());
        let v: serde_json::Value = serde_json::from_slice(&state_here(None, "created")).unwrap();
        assert_eq!(v["ociVersion"], super::super::spec::OCI_VERSION);
        let h: Hook = serde_json::from_value(
            serde_json::json!({"path": "/bin/sh", "args": ["sh", "-c", "exit 2"]}),
        )
        .unwrap();
        let inside = Inside::of(None);
        assert!(inside.is_empty());
        let e = run_inside(&[h], "startContainer", b"{}").unwrap_err();
        assert!(e.starts_with("startContainer hook /bin/sh: "), "{e}");
    }
}
