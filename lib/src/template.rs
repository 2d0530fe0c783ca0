//! The subset of Go's text/template that docker's `--format` is typed
//! with, over a JSON document: text, `{{.A.B}}`, `{{json .A}}`,
//! `{{index .A "k"}}` (or a number for an array), and `{{.}}`.
//!
//! Field names are matched as docker spells them over cairn's snake_case
//! keys: exactly first, then ignoring case and underscores, so
//! `.State.Pid` reads `state.pid` and `.NetworkSettings.IPAddress` reads
//! `network_settings.ip_address`.
//!
//! A listing's `--format` (`ps`, `images`) renders a template per row
//! ([`render_rows`]); `table TEMPLATE` adds a header row and aligns the
//! tab-separated cells as docker's tabwriter does.

use serde_json::Value;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TemplateError {
    #[error("template: unclosed action (a '{{{{' without '}}}}')")]
    Unclosed,
    #[error("template: {{{{{0}}}}}: unsupported; use .Field.Path, json, index")]
    Unsupported(String),
}

/// `template` rendered over `doc`. A missing field renders as docker's
/// `<no value>`.
pub fn render(template: &str, doc: &Value) -> Result<String, TemplateError> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find("}}").ok_or(TemplateError::Unclosed)?;
        out.push_str(&action(after[..end].trim(), doc)?);
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// docker's `--format` over a listing's rows, one line each. `\t` and
/// `\n` typed as two characters are a tab and a newline. With a `table`
/// prefix, the template is rendered first over `headers` (each field's
/// column title) and the cells are aligned on their tabs.
pub fn render_rows(
    template: &str,
    rows: &[Value],
    headers: &Value,
) -> Result<String, TemplateError> {
    let (table, t) = match template.strip_prefix("table") {
        Some(rest) => (true, rest),
        None => (false, template),
    };
    let t = t
        .trim_matches(' ')
        .replace("\\t", "\t")
        .replace("\\n", "\n");
    let mut out = String::new();
    if table {
        out.push_str(&render(&t, headers)?);
        out.push('\n');
    }
    for row in rows {
        out.push_str(&render(&t, row)?);
        out.push('\n');
    }
    Ok(if table { align(&out) } else { out })
}

/// Cells padded as Go's `tabwriter.NewWriter(w, 10, 1, 3, ' ', 0)`, the
/// one docker's tables go through: a tab-terminated cell takes its
/// column's widest cell plus 3, at least 10; a line's last cell is left
/// as it is.
pub fn align(text: &str) -> String {
    let lines: Vec<Vec<&str>> = text.lines().map(|l| l.split('\t').collect()).collect();
    let mut widths: Vec<usize> = Vec::new();
    for cells in &lines {
        for (i, c) in cells.iter().enumerate().take(cells.len() - 1) {
            if widths.len() <= i {
                widths.push(10);
            }
            widths[i] = widths[i].max(c.chars().count() + 3);
        }
    }
    let mut out = String::new();
    for cells in &lines {
        let last = cells.len() - 1;
        for (i, c) in cells.iter().enumerate() {
            out.push_str(c);
            if i < last {
                out.extend(std::iter::repeat_n(' ', widths[i] - c.chars().count()));
            }
        }
        out.push('\n');
    }
    out
}

fn action(a: &str, doc: &Value) -> Result<String, TemplateError> {
    let unsupported = || TemplateError::Unsupported(a.to_string());
    let words = words(a).ok_or_else(unsupported)?;
    let value = match words.as_slice() {
        [path] => field(doc, path).ok_or_else(unsupported)?,
        ["json", path] => {
            let v = field(doc, path).ok_or_else(unsupported)?;
            return Ok(v.map_or("null".into(), |v| v.to_string()));
        }
        ["index", path, key] => {
            let v = field(doc, path).ok_or_else(unsupported)?;
            v.and_then(|v| index(v, key))
        }
        _ => return Err(unsupported()),
    };
    Ok(match value {
        None | Some(Value::Null) => "<no value>".into(),
        Some(Value::String(s)) => s.clone(),
        Some(v) => v.to_string(),
    })
}

/// The words of an action: bare words and "quoted strings" (kept with
/// their quotes).
fn words(a: &str) -> Option<Vec<&str>> {
    let mut out = Vec::new();
    let mut rest = a.trim_start();
    while !rest.is_empty() {
        let end = if let Some(q) = rest.strip_prefix('"') {
            q.find('"')? + 2
        } else {
            rest.find(char::is_whitespace).unwrap_or(rest.len())
        };
        out.push(&rest[..end]);
        rest = rest[end..].trim_start();
    }
    Some(out)
}

/// `.A.B` in `doc`: `None` when `path` is not a field path, `Some(None)`
/// when a field is missing.
fn field<'d>(doc: &'d Value, path: &str) -> Option<Option<&'d Value>> {
    let path = path.strip_prefix('.')?;
    let mut cur = doc;
    for name in path.split('.').filter(|n| !n.is_empty()) {
        match lookup(cur, name) {
            Some(v) => cur = v,
            None => return Some(None),
        }
    }
    Some(Some(cur))
}

fn lookup<'d>(v: &'d Value, name: &str) -> Option<&'d Value> {
    let m = v.as_object()?;
    if let Some(v) = m.get(name) {
        return Some(v);
    }
    let fold = |s: &str| s.replace('_', "").to_ascii_lowercase();
    let want = fold(name);
    m.iter().find(|(k, _)| fold(k) == want).map(|(_, v)| v)
}

fn index<'d>(v: &'d Value, key: &str) -> Option<&'d Value> {
    match key.strip_prefix('"').and_then(|k| k.strip_suffix('"')) {
        Some(k) => v.as_object()?.get(k),
        None => v.as_array()?.get(key.parse::<usize>().ok()?),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn docker_spellings_over_snake_case() {
        let doc = json!({
            "state": {"pid": 42, "status": "running"},
            "config": {"Env": ["A=1"], "Labels": {"k": "v"}},
            "network_settings": {"ip_address": "10.0.0.2"},
            "name": "web"
        });
        let r = |t| render(t, &doc).unwrap();
        assert_eq!(r("{{.State.Pid}}"), "42");
        assert_eq!(
            r("pid={{ .State.Pid }} {{.State.Status}}"),
            "pid=42 running"
        );
        assert_eq!(r("{{json .Config.Env}}"), r#"["A=1"]"#);
        assert_eq!(r(r#"{{index .Config.Labels "k"}}"#), "v");
        assert_eq!(r("{{index .Config.Env 0}}"), "A=1");
        assert_eq!(r("{{.NetworkSettings.IPAddress}}"), "10.0.0.2");
        assert_eq!(r("{{.Name}}"), "web");
        assert_eq!(r("{{.Nope.Deeper}}"), "<no value>");
        assert_eq!(r("no actions"), "no actions");
        assert_eq!(render("{{.A", &doc), Err(TemplateError::Unclosed));
        assert!(render("{{range .A}}", &doc).is_err());
    }

    #[test]
    fn rows_and_tables_as_docker_prints_them() {
        let rows = [
            json!({"ID": "0123456789ab", "Image": "busybox"}),
            json!({"ID": "ba9876543210", "Image": "alpine:3.19"}),
        ];
        let headers = json!({"ID": "CONTAINER ID", "Image": "IMAGE"});
        let r = |t| render_rows(t, &rows, &headers).unwrap();
        assert_eq!(r("{{.ID}}"), "0123456789ab\nba9876543210\n");
        assert_eq!(
            r("{{.ID}}\\t{{.Image}}"),
            "0123456789ab\tbusybox\nba9876543210\talpine:3.19\n"
        );
        assert_eq!(
            r("table {{.ID}}\\t{{.Image}}"),
            "CONTAINER ID   IMAGE\n0123456789ab   busybox\nba9876543210   alpine:3.19\n"
        );
        // at least 10 wide, as docker's tabwriter
        assert_eq!(align("a\tb\nccc\td\n"), "a         b\nccc       d\n");
        assert_eq!(
            r("{{json .}}").lines().next(),
            Some(r#"{"ID":"0123456789ab","Image":"busybox"}"#)
        );
    }
}
