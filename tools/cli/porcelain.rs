//! Porcelain commands are compositions of the plumbing: they run the
//! plumbing binaries found beside themselves (or on PATH), pass records
//! between them and hand over stdio and the exit status.

use crate::Fail;
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// The plumbing binary `cairn-<tool>`: beside this program, else on PATH.
pub fn tool(name: &str) -> Command {
    let file = format!("cairn-{name}");
    let beside = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(|d| d.join(&file)))
        .filter(|p| p.is_file());
    Command::new(beside.unwrap_or_else(|| PathBuf::from(&file)))
}

/// Run a plumbing command and return its one output record; its stderr is
/// passed through, a failure keeps its exit status.
pub fn record_of(mut cmd: Command) -> Result<serde_json::Map<String, serde_json::Value>, Fail> {
    let out = cmd
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| Fail::from(anyhow::anyhow!("running {:?}: {e}", cmd.get_program())))?;
    if !out.status.success() {
        return Err(Fail {
            code: out.status.code().unwrap_or(1),
            error: anyhow::anyhow!("{:?} failed", cmd.get_program()),
            hint: None,
        }
        .silent());
    }
    let line = String::from_utf8_lossy(&out.stdout);
    match serde_json::from_str::<serde_json::Value>(line.lines().next().unwrap_or("")) {
        Ok(serde_json::Value::Object(m)) => Ok(m),
        _ => Err(Fail::from(anyhow::anyhow!(
            "{:?} printed no record",
            cmd.get_program()
        ))),
    }
}
