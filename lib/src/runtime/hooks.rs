//! The spec's hooks that the runtime itself runs, as runc runs them: each
//! a program (`path`, `args` with its own argv[0], `env` alone) given the
//! container's state as JSON on stdin, killed after its `timeout`
//! seconds. `prestart` and `createRuntime` run once the container's
//! process is set up and waits to be started (its namespaces exist:
//! docker's network hook joins its network namespace), `poststart` once
//! it is started, `poststop` once it is deleted. `createContainer` and
//! `startContainer` run inside the container: they stay in the spec, for
//! the container's process to run ([`crate::isolate::hooks`]).

use super::{Report, RuntimeError};
pub use crate::isolate::hooks::HookFailure;
use crate::isolate::hooks::{run_one, Inside};
use oci_spec::runtime::{Hook, Hooks, Spec};

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

/// Take the hooks the runtime runs out of `spec`, leaving those its
/// process runs inside the container (createContainer, startContainer).
pub fn take(spec: &mut Spec) -> Hooks {
    let hooks = spec.hooks().clone().unwrap_or_default();
    let inside = Inside::of(Some(&hooks));
    let mut left = Hooks::default();
    let some = |v: Vec<Hook>| Some(v).filter(|v| !v.is_empty());
    left.set_create_container(some(inside.create_container))
        .set_start_container(some(inside.start_container));
    let empty = left.create_container().is_none() && left.start_container().is_none();
    spec.set_hooks(Some(left).filter(|_| !empty));
    hooks
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
    fn hooks_inside_the_container_stay_in_the_spec() {
        let mut spec = crate::runtime::default_spec();
        let h: Hooks = serde_json::from_value(serde_json::json!({
            "prestart": [{"path": "/bin/true"}], "poststop": [{"path": "/bin/false"}]
        }))
        .unwrap();
        spec.set_hooks(Some(h));
        let hooks = take(&mut spec);
        assert!(spec.hooks().is_none());
        assert_eq!(of(&hooks, Stage::Create).len(), 1);
        assert_eq!(of(&hooks, Stage::Poststop).len(), 1);
        let h: Hooks = serde_json::from_value(serde_json::json!({
            "startContainer": [{"path": "/bin/true"}], "poststart": [{"path": "/bin/true"}]
        }))
        .unwrap();
        spec.set_hooks(Some(h));
        let hooks = take(&mut spec);
        assert_eq!(of(&hooks, Stage::Poststart).len(), 1);
        let left = spec.hooks().as_ref().unwrap();
        assert_eq!(left.start_container().as_ref().map(Vec::len), Some(1));
        assert!(left.poststart().is_none() && left.create_container().is_none());
    }
}
