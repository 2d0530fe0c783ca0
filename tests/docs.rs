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

/// Examples stay one per line in `--help` and in the man page; every man
/// page says what its exit status means and what to read next; cairn.1
/// lists every command.
#[test]
fn examples_one_per_line_exit_status_and_see_also() {
    let pages: std::collections::HashMap<String, String> = cairn_cli::docs::render()
        .into_iter()
        .filter(|(rel, _)| rel.starts_with("man"))
        .map(|(rel, data)| {
            let name = rel.file_stem().unwrap().to_string_lossy().into_owned();
            (name, String::from_utf8(data).unwrap())
        })
        .collect();
    let all = cairn_cli::args::commands();
    for mut cmd in all.clone() {
        let name = cmd.get_name().to_string();
        let page = &pages[&name];
        assert!(page.contains(".SH \"EXIT STATUS\"\n"), "{name}");
        assert!(page.contains(".SH \"SEE ALSO\"\n"), "{name}");
        let help = cmd.render_long_help().to_string();
        let Some((_, examples)) = help.split_once("\nEXAMPLES:\n") else {
            assert!(
                !help.contains("EXAMPLES"),
                "{name}: EXAMPLES: on a line of its own"
            );
            continue;
        };
        let examples: Vec<&str> = examples.lines().take_while(|l| !l.is_empty()).collect();
        assert!(!examples.is_empty(), "{name}");
        for e in &examples {
            assert!(e.starts_with("  ") && e.len() < 100, "{name}: {e:?}");
        }
        let block = format!(
            ".SH EXAMPLES\n.nf\n{}\n",
            examples[0].trim().replace('-', "\\-")
        );
        assert!(page.contains(&block), "{name}: {page}");
    }
    for cmd in &all {
        let verb = cmd
            .get_name()
            .trim_start_matches("cairn-")
            .replace('-', "\\-");
        if cmd.get_name() != "cairn" {
            assert!(
                pages["cairn"].contains(&format!("\\fBcairn {verb}\\fR")),
                "{verb}"
            );
        }
    }
}
