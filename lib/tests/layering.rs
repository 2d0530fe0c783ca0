//! The layering of libcairn's modules, checked.
//!
//! The allowed dependencies are the table in `lib/src/lib.rs`'s module docs
//! (one table, read here as data, so the docs cannot drift from the rule).
//! This test reads every `.rs` file under `lib/src`, finds each path that
//! names another top-level module (`crate::store::…`, the items of
//! `use crate::{a::b, c}` groups, a `super::` that climbs to the crate root,
//! or a name the crate root re-exports), and fails on every one the table
//! does not allow. Comments are ignored (a doc link is not a dependency),
//! and so is code under `#[cfg(test)]`, with the test-only modules lib.rs
//! declares there: a unit test may build fixtures with upper modules.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// A module's row: what it sits on.
type Table = BTreeMap<String, Vec<String>>;

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn names(cell: &str) -> Vec<String> {
    cell.split(',')
        .map(|n| n.trim().trim_matches('`').trim())
        .filter(|n| !n.is_empty())
        .map(str::to_string)
        .collect()
}

/// The table under `| module | sits on |` in lib.rs's `//!` docs.
fn table(lib_rs: &str) -> Table {
    let rows: Vec<&str> = lib_rs
        .lines()
        .filter_map(|l| l.strip_prefix("//!"))
        .map(str::trim)
        .skip_while(|l| !l.starts_with("| module | sits on |"))
        .take_while(|l| l.starts_with('|'))
        .collect();
    assert!(
        rows.len() > 2,
        "lib.rs's docs have no `| module | sits on |` table"
    );
    let mut t = Table::new();
    for row in &rows[2..] {
        let cells: Vec<&str> = row.trim_matches('|').split('|').collect();
        assert!(cells.len() >= 2, "malformed layering row: {row}");
        for m in names(cells[0]) {
            assert!(
                t.insert(m.clone(), names(cells[1])).is_none(),
                "{m} has two rows in the layering table"
            );
        }
    }
    t
}

/// Everything `m` may use: what it sits on, and what that sits on, down.
fn allowed(t: &Table, m: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut todo = t.get(m).cloned().unwrap_or_default();
    while let Some(n) = todo.pop() {
        if out.insert(n.clone()) {
            todo.extend(t.get(&n).cloned().unwrap_or_default());
        }
    }
    out
}

/// The top-level modules lib.rs declares.
struct Root {
    /// Every `mod NAME;` (any visibility) but the test-only ones.
    mods: BTreeSet<String>,
    /// Modules declared under `#[cfg(test)]`: helpers for the unit tests,
    /// which are not part of the library and are not checked.
    test_mods: BTreeSet<String>,
    /// `pub use NAME::{A, B}`: item -> module.
    reexports: BTreeMap<String, String>,
}

fn root(lib_rs: &str) -> Root {
    let mut r = Root {
        mods: BTreeSet::new(),
        test_mods: BTreeSet::new(),
        reexports: BTreeMap::new(),
    };
    let mut cfg_test = false;
    for l in lib_rs.lines().map(str::trim) {
        let item = l
            .strip_prefix("pub(crate) ")
            .or_else(|| l.strip_prefix("pub "))
            .unwrap_or(l);
        if let Some(m) = item.strip_prefix("mod ").and_then(|m| m.strip_suffix(';')) {
            if cfg_test {
                &mut r.test_mods
            } else {
                &mut r.mods
            }
            .insert(m.to_string());
        } else if let Some(u) = l.strip_prefix("pub use ").and_then(|u| u.strip_suffix(';')) {
            let (m, items) = u.split_once("::").expect("pub use MODULE::ITEMS");
            for i in names(items.trim_matches(|c| c == '{' || c == '}')) {
                r.reexports.insert(i, m.to_string());
            }
        }
        if !l.starts_with("#[") {
            cfg_test = false;
        }
        if l == "#[cfg(test)]" {
            cfg_test = true;
        }
    }
    r
}

/// `code` without the items under `#[cfg(test)]` (unit tests may build
/// their fixtures with modules above the one they test; the library may
/// not). Newlines are kept, so line numbers stay true.
fn strip_tests(code: &str) -> String {
    let mut out = String::with_capacity(code.len());
    let mut rest = code;
    while let Some(i) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..i]);
        let item = &rest[i..];
        let mut depth = 0;
        let mut end = item.len();
        let (mut in_str, mut escaped) = (false, false);
        for (j, c) in item.char_indices().skip("#[cfg(test)]".len()) {
            if in_str {
                in_str = escaped || c != '"';
                escaped = !escaped && c == '\\';
                continue;
            }
            match c {
                '"' => in_str = true,
                '{' | '}' if item[..j].ends_with('\'') => {}
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = j + 1;
                        break;
                    }
                }
                ';' if depth == 0 => {
                    end = j + 1;
                    break;
                }
                _ => {}
            }
        }
        out.extend(item[..end].chars().filter(|&c| c == '\n'));
        rest = &item[end..];
    }
    out.push_str(rest);
    out
}

/// Rust source without its comments (string literals kept as they are).
fn strip_comments(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let b = s.as_bytes();
    let mut i = 0;
    let mut in_str = false;
    while i < b.len() {
        let c = b[i];
        if in_str {
            out.push(c as char);
            if c == b'\\' && i + 1 < b.len() {
                out.push(b[i + 1] as char);
                i += 2;
                continue;
            }
            in_str = c != b'"';
            i += 1;
        } else if let Some(len) = raw_string(&s[i..]) {
            out.push_str(&s[i..i + len]);
            i += len;
        } else if c == b'"' && (i == 0 || b[i - 1] != b'\'') {
            in_str = true;
            out.push('"');
            i += 1;
        } else if s[i..].starts_with("//") {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if s[i..].starts_with("/*") {
            let end = s[i + 2..].find("*/").map_or(b.len(), |e| i + 2 + e + 2);
            out.extend(s[i..end].chars().filter(|&c| c == '\n'));
            i = end;
        } else {
            out.push(c as char);
            i += 1;
        }
    }
    out
}

/// The length of the raw string literal (`r"…"`, `br#"…"#`) at `s[0]`.
fn raw_string(s: &str) -> Option<usize> {
    let body = s.strip_prefix("br").or_else(|| s.strip_prefix('r'))?;
    let hashes = body.len() - body.trim_start_matches('#').len();
    let open = body[hashes..].strip_prefix('"')?;
    let close = format!("\"{}", "#".repeat(hashes));
    let end = open.find(&close)?;
    Some(s.len() - open.len() + end + close.len())
}

fn ident_at(s: &str) -> &str {
    let end = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    &s[..end]
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The first segments of the items of a `{…}` group starting at `s[0]`.
fn group_heads(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0;
    let mut item_start = true;
    for (i, c) in s.char_indices() {
        match c {
            '{' => {
                depth += 1;
                item_start = depth == 1;
            }
            '}' => {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            }
            ',' if depth == 1 => item_start = true,
            c if depth == 1 && item_start && is_ident_char(c) => {
                out.push(ident_at(&s[i..]).to_string());
                item_start = false;
            }
            _ => {}
        }
    }
    out
}

/// The top-level names a file's code reaches through the crate root, with
/// the line of each. `depth` is how many modules deep the file is
/// (`lib/src/x.rs` and `x/mod.rs` 1, `x/y.rs` 2).
fn root_paths(code: &str, depth: usize) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let line = |i: usize| code[..i].matches('\n').count() + 1;
    let preceded_ok = |i: usize| {
        code[..i]
            .chars()
            .next_back()
            .is_none_or(|c| !is_ident_char(c) && c != ':')
    };
    for (i, _) in code.match_indices("crate::") {
        if !preceded_ok(i) {
            continue;
        }
        let rest = &code[i + "crate::".len()..];
        if rest.starts_with('{') {
            out.extend(group_heads(rest).into_iter().map(|n| (line(i), n)));
        } else {
            out.push((line(i), ident_at(rest).to_string()));
        }
    }
    for (i, _) in code.match_indices("super::") {
        if !preceded_ok(i) {
            continue;
        }
        let mut rest = &code[i..];
        let mut ups = 0;
        while let Some(r) = rest.strip_prefix("super::") {
            ups += 1;
            rest = r;
        }
        // Inline modules (`mod tests`) make a file deeper than its path
        // says, so this errs towards reporting; `super::*` is never a
        // crate-root glob in this crate.
        if ups >= depth && !rest.starts_with('*') {
            if rest.starts_with('{') {
                out.extend(group_heads(rest).into_iter().map(|n| (line(i), n)));
            } else {
                out.push((line(i), ident_at(rest).to_string()));
            }
        }
    }
    out
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// Every dependency of one top-level module on another that the table does
/// not allow, one line each.
fn violations(src: &Path) -> Vec<String> {
    let lib_rs = fs::read_to_string(src.join("lib.rs")).unwrap();
    let t = table(&lib_rs);
    let Root {
        mods,
        test_mods,
        reexports,
    } = root(&lib_rs);
    let mut bad = Vec::new();
    for m in mods.symmetric_difference(&t.keys().cloned().collect()) {
        if mods.contains(m) {
            bad.push(format!("module {m} has no row in lib.rs's layering table"));
        } else {
            bad.push(format!(
                "the layering table names {m}, which lib.rs does not declare"
            ));
        }
    }
    for (m, under) in &t {
        for u in under {
            if !t.contains_key(u) {
                bad.push(format!("{m} sits on {u}, which has no row in the table"));
            }
        }
        if allowed(&t, m).contains(m) {
            bad.push(format!("{m} sits on itself through the table (a cycle)"));
        }
    }
    let mut files = Vec::new();
    rust_files(src, &mut files);
    files.sort();
    for f in files {
        let rel = f.strip_prefix(src).unwrap();
        let parts: Vec<&str> = rel.iter().map(|p| p.to_str().unwrap()).collect();
        if parts == ["lib.rs"] {
            continue;
        }
        let top = parts[0].trim_end_matches(".rs").to_string();
        if test_mods.contains(&top) {
            continue;
        }
        let depth = if parts.last() == Some(&"mod.rs") {
            parts.len() - 1
        } else {
            parts.len()
        };
        let may = allowed(&t, &top);
        let code = strip_tests(&strip_comments(&fs::read_to_string(&f).unwrap()));
        let mut seen = BTreeSet::new();
        for (line, name) in root_paths(&code, depth) {
            let used = match reexports.get(&name) {
                Some(m) => m.clone(),
                None if mods.contains(&name) || t.contains_key(&name) => name,
                None => continue,
            };
            if used == top || may.contains(&used) || !seen.insert(used.clone()) {
                continue;
            }
            bad.push(format!(
                "lib/src/{}:{line}: {top} uses {used}, which it does not sit on",
                rel.display()
            ));
        }
    }
    bad
}

#[test]
fn modules_depend_only_downwards() {
    let bad = violations(&src());
    assert!(
        bad.is_empty(),
        "{} layering violation(s) (the table is in lib/src/lib.rs's docs, \
         the rule in docs/layering.md):\n  {}",
        bad.len(),
        bad.join("\n  ")
    );
}

#[test]
fn the_checker_sees_what_it_must() {
    let code = strip_comments(
        "use crate::{digest::Digest,\n    store::{refs, Store}};\n\
         // crate::image in a comment\n\
         let s = \"// not a comment\"; crate::isolate::x();\n\
         let r = br#\"{\"a\":\"//\"}\"#; crate::record::y();\n\
         fn f() { super::super::graph::g() }",
    );
    let found: Vec<String> = root_paths(&code, 2).into_iter().map(|(_, n)| n).collect();
    assert_eq!(found, ["digest", "store", "isolate", "record", "graph"]);
    let code = strip_tests(&strip_comments(
        "/* a\n comment */ use crate::digest;\n\
         #[cfg(test)]\nmod tests {\n    use crate::image; let c = '}'; let s = \"}\";\n}\n\
         #[cfg(test)]\nuse crate::container;\n\
         fn g() { crate::layer::f() }",
    ));
    assert_eq!(
        root_paths(&code, 1),
        [(2, "digest".to_string()), (9, "layer".to_string())]
    );
    let t = table(
        "//! | module | sits on | holds |\n//! |---|---|---|\n\
         //! | `a`, `b` | | base |\n//! | `c` | `a` | |\n//! | `d` | `c` | |\n",
    );
    assert_eq!(allowed(&t, "d"), BTreeSet::from(["a".into(), "c".into()]));
    assert!(allowed(&t, "b").is_empty());
}
