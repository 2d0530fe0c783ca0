//! Completions (bash, zsh, fish) and man pages, generated from the clap
//! definitions into `completions/`. A test fails when the files there are
//! stale; `CAIRN_BLESS=1 cargo test docs` rewrites them.

use clap_complete::{generate, Shell};
use std::path::PathBuf;

/// Every generated file: its path under `completions/` and its bytes.
pub fn render() -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for mut cmd in crate::args::commands() {
        let name = cmd.get_name().to_string();
        for (shell, dir, file) in [
            (Shell::Bash, "bash", name.clone()),
            (Shell::Zsh, "zsh", format!("_{name}")),
            (Shell::Fish, "fish", format!("{name}.fish")),
        ] {
            let mut buf = Vec::new();
            generate(shell, &mut cmd, name.clone(), &mut buf);
            out.push((PathBuf::from(dir).join(file), buf));
        }
        let mut buf = Vec::new();
        clap_mangen::Man::new(cmd.clone())
            .date("")
            .render(&mut buf)
            .expect("rendering a man page into memory cannot fail");
        out.push((PathBuf::from("man").join(format!("{name}.1")), buf));
    }
    out
}
