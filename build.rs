//! What `cairn version` reports of its build: the Rust compiler's version.
//! The git commit comes from $CAIRN_GIT_COMMIT when the build sets it
//! (`CAIRN_GIT_COMMIT=$(git rev-parse --short HEAD) cargo build`): read
//! from git here, it would go stale, as cargo does not run this script
//! again for a new commit.

use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let version = Command::new(rustc)
        .arg("--version")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    println!("cargo:rustc-env=CAIRN_RUSTC_VERSION={version}");
}
