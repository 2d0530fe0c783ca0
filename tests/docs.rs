//! Completions and man pages in completions/ must match the clap
//! definitions. `CAIRN_BLESS=1 cargo test docs` rewrites them.

use std::path::Path;

#[test]
fn completions_and_man_pages_are_fresh() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("completions");
    let bless = std::env::var_os("CAIRN_BLESS").is_some();
    let mut stale = Vec::new();
    for (rel, data) in cairn_cli::docs::render() {
        let p = dir.join(&rel);
        if std::fs::read(&p).ok().as_deref() != Some(&data[..]) {
            if bless {
                std::fs::create_dir_all(p.parent().unwrap()).unwrap();
                std::fs::write(&p, &data).unwrap();
            } else {
                stale.push(rel.display().to_string());
            }
        }
    }
    assert!(
        stale.is_empty(),
        "stale files in completions/ (run CAIRN_BLESS=1 cargo test docs): {stale:?}"
    );
}
