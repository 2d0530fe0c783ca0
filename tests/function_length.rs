//! No function in lib is longer than `MAX` code lines: a longer one is
//! split along its seams (a method per case, a plan as data, a helper per
//! step). Code lines are the lines from `fn` to the closing brace that are
//! neither blank nor only a comment; the code is rustfmt's, so a body ends
//! at the first `}` at the indentation of its `fn`.

use std::path::{Path, PathBuf};

const MAX: usize = 100;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The name of the function a line starts, if it starts one.
fn fn_name(line: &str) -> Option<&str> {
    let mut rest = line.trim_start();
    for q in [
        "pub(crate) ",
        "pub(super) ",
        "pub ",
        "const ",
        "async ",
        "unsafe ",
    ] {
        rest = rest.strip_prefix(q).unwrap_or(rest);
    }
    rest = rest.strip_prefix("extern \"C\" ").unwrap_or(rest);
    let rest = rest.strip_prefix("fn ")?;
    let end = rest.find(|c: char| !(c.is_alphanumeric() || c == '_'))?;
    Some(&rest[..end])
}

/// `(function, first line, code lines)` of every function in `text`.
fn functions(text: &str) -> Vec<(String, usize, usize)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let Some(name) = fn_name(l) else { continue };
        let indent = &l[..l.len() - l.trim_start().len()];
        let close = format!("{indent}}}");
        // the signature ends with `{` (a body) or `;` (a declaration)
        let Some(open) = (i..lines.len()).find(|&j| {
            let t = lines[j].trim_end();
            t.ends_with('{') || t.ends_with(';') || t.ends_with('}')
        }) else {
            continue;
        };
        if !lines[open].trim_end().ends_with('{') {
            continue;
        }
        let Some(end) = (open + 1..lines.len()).find(|&j| lines[j] == close) else {
            continue;
        };
        let code = lines[i..=end]
            .iter()
            .map(|l| l.trim())
            .filter(|l| !l.is_empty() && !l.starts_with("//"))
            .count();
        out.push((name.to_string(), i + 1, code));
    }
    out
}

#[test]
fn no_lib_function_is_longer_than_a_hundred_code_lines() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("lib/src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut long = Vec::new();
    for f in &files {
        let rel = f.strip_prefix(&src).unwrap().display().to_string();
        for (name, line, code) in functions(&std::fs::read_to_string(f).unwrap()) {
            if code > MAX {
                long.push(format!("lib/src/{rel}:{line} {name}: {code} code lines"));
            }
        }
    }
    assert!(
        long.is_empty(),
        "functions over {MAX} code lines; split them along their seams:\n{}",
        long.join("\n")
    );
}

#[test]
fn lengths_are_counted_from_fn_to_its_brace() {
    let text = "impl X {\n    pub(crate) fn a(\n        x: u8,\n    ) -> u8 {\n        // note\n\n        x\n    }\n    fn b();\n}\nfn c() {}\n";
    assert_eq!(functions(text), [("a".to_string(), 2, 5)]);
}
