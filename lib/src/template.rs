//! The part of Go's text/template that docker's `--format` is typed
//! with, over a JSON document: a real small parser ([`parse`]) and
//! evaluator ([`exec`]): `{{.A.B}}`, `{{.}}`, pipelines (`{{.Name |
//! upper}}`), `if`/`else if`/`else`/`end`, `range` (with `$i, $v :=`),
//! `with`, variables, `define`/`template`/`block`, `break`/`continue`,
//! and docker's functions ([`funcs`]: `json`, `index`,
//! `join`, `split`, `upper`, `lower`, `title`, `printf`, `len`, ...),
//! `.Label "key"` on a listing's rows, and the methods of docker's API
//! types on `inspect`'s documents ([`methods`]: `.HostConfig.NetworkMode.IsHost`).
//!
//! Field names are matched as docker spells them over cairn's snake_case
//! keys: exactly first, then ignoring case and underscores, so
//! `.State.Pid` reads `state.pid` and `.NetworkSettings.IPAddress` reads
//! `network_settings.ip_address`.
//!
//! A listing's `--format` (`ps`, `images`) renders a template per row
//! ([`render_rows`]); `table TEMPLATE` adds a header row and aligns the
//! tab-separated cells as docker's tabwriter does.

pub mod exec;
pub mod funcs;
pub mod gostruct;
pub mod methods;
pub mod parse;

use serde_json::Value;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TemplateError {
    #[error("template: unclosed action (a '{{{{' without '}}}}')")]
    Unclosed,
    #[error("template: {0}")]
    Parse(String),
    #[error("template: executing: {0}")]
    Exec(String),
}

/// Whether `template` parses, before it is rendered over anything.
pub fn check(template: &str) -> Result<(), TemplateError> {
    parse::parse(template).map(|_| ())
}

/// `template` rendered over `doc`. A missing field renders as docker's
/// `<no value>`.
pub fn render(template: &str, doc: &Value) -> Result<String, TemplateError> {
    render_parsed(&parse::parse(template)?, doc)
}

fn render_parsed(nodes: &[parse::Node], doc: &Value) -> Result<String, TemplateError> {
    render_in(nodes, doc, exec::Mode::Loose)
}

fn render_in(
    nodes: &[parse::Node],
    doc: &Value,
    mode: exec::Mode,
) -> Result<String, TemplateError> {
    let mut out = String::new();
    exec::run(
        nodes,
        doc,
        &mut exec::Scope::new(doc, nodes, mode),
        &mut out,
    )?;
    Ok(out)
}

/// `template` rendered over `doc`, one of docker's documents whose structs
/// are marked (see [`gostruct`]), as `docker inspect -f` renders one: over
/// the structs first, where a field is reached by its Go name alone and
/// any other is an error; when that fails, once more over the plain JSON,
/// every object a map (`map[k:v]`), where a key that is not there is an
/// error. So `{{.ID}}` and `{{.Id}}` both read the ID, and
/// `{{.Id}} {{.State}}` prints the state as a map.
pub fn render_docker(template: &str, doc: &Value) -> Result<String, TemplateError> {
    let nodes = parse::parse(template)?;
    render_in(&nodes, doc, exec::Mode::Typed)
        .or_else(|_| render_in(&nodes, &gostruct::plain(doc), exec::Mode::Raw))
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
    let nodes = parse::parse(&t)?;
    let mut out = String::new();
    if table {
        out.push_str(&render_parsed(&nodes, headers)?);
        out.push('\n');
    }
    for row in rows {
        let mut row = row.clone();
        if let Some(m) = row.as_object_mut() {
            m.insert(gostruct::ROW.into(), Value::Bool(true));
        }
        out.push_str(&render_parsed(&nodes, &row)?);
        out.push('\n');
    }
    Ok(if table { align(&out) } else { out })
}

/// Cells padded as Go's `tabwriter.NewWriter(w, 10, 1, 3, ' ', 0)`, the
/// one docker's tables go through: a tab-terminated cell takes its
/// column's widest cell plus 3, at least 10; a line's last cell is left
/// as it is.
pub fn align(text: &str) -> String {
    align_min(text, 10)
}

/// [`align`] with columns at least `min` wide (docker top's table:
/// `tabwriter.NewWriter(w, 20, 1, 3, ' ', 0)`).
pub fn align_min(text: &str, min: usize) -> String {
    let lines: Vec<Vec<&str>> = text.lines().map(|l| l.split('\t').collect()).collect();
    let mut widths: Vec<usize> = Vec::new();
    for cells in &lines {
        for (i, c) in cells.iter().enumerate().take(cells.len() - 1) {
            if widths.len() <= i {
                widths.push(min);
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
    fn define_template_block_break_continue_as_go() {
        let doc = json!({"Name": "web", "State": {"Status": "up"}, "L": [1, 2, 3, 4]});
        let r = |t| render(t, &doc).unwrap();
        assert_eq!(
            r(r#"{{define "s"}}[{{.Status}}]{{end}}{{template "s" .State}}"#),
            "[up]"
        );
        // a template's dot and $ are what it was given; none: nil
        assert_eq!(
            r(r#"{{define "t"}}{{.}}|{{$}}{{end}}{{template "t" .Name}} {{template "t"}}"#),
            "web|web <no value>|<no value>"
        );
        // defined after its use, and called from another
        assert_eq!(
            r(
                r#"{{template "a" .}}{{define "a"}}<{{template "b" .Name}}>{{end}}{{define "b"}}{{upper .}}{{end}}"#
            ),
            "<WEB>"
        );
        assert_eq!(r(r#"{{block "b" .Name}}({{.}}){{end}}!"#), "(web)!");
        // a block's default body gives way to a define of the same name
        assert_eq!(
            r(r#"{{block "b" .Name}}({{.}}){{end}}{{define "b"}}{{end}}"#),
            "(web)"
        );
        assert_eq!(
            r("{{range .L}}{{if eq . 3}}{{break}}{{end}}{{.}}{{end}}"),
            "12"
        );
        assert_eq!(
            r("{{range $i, $e := .L}}{{if eq $i 1}}{{continue}}{{end}}{{$e}}{{end}}"),
            "134"
        );
        // break leaves the innermost range only
        assert_eq!(
            r("{{range .L}}{{range $.L}}{{break}}{{end}}{{.}}{{end}}"),
            "1234"
        );
        assert_eq!(r("{{range .L}}{{with .}}{{continue}}{{end}}x{{end}}"), "");
        let e = |t| render(t, &doc).unwrap_err().to_string();
        assert!(e("{{break}}").contains("outside {{range}}"));
        assert!(e("{{range .L}}{{else}}{{continue}}{{end}}").contains("outside"));
        assert!(e(r#"{{range .L}}{{define "x"}}{{end}}{{end}}"#).contains("define"));
        assert!(
            e(r#"{{define "a"}}x{{end}}{{define "a"}}y{{end}}"#).contains("multiple definition")
        );
        assert!(e(r#"{{template "nope"}}"#).contains("\"nope\" not defined"));
        assert!(e(r#"{{define "r"}}{{template "r"}}{{end}}{{template "r"}}"#).contains("depth"));
        assert!(e("{{template .Name}}").contains("quoted"));
        assert!(e(r#"{{define "x"}}"#).contains("EOF"));
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
        // a row's own JSON escapes as json.Marshal; a field's does not
        let rows = [json!({"Digest": "<none>", "Ports": "0.0.0.0:80->80/tcp"})];
        assert_eq!(
            render_rows("{{json .}} {{json .Digest}}", &rows, &headers).unwrap(),
            "{\"Digest\":\"\\u003cnone\\u003e\",\"Ports\":\"0.0.0.0:80-\\u003e80/tcp\"} \"<none>\"\n"
        );
    }

    #[test]
    fn functions_and_blocks_as_go_and_docker() {
        let doc = json!({
            "Names": "web",
            "Labels": "app=db,tier",
            "Config": {"Env": ["A=1", "B=2"], "Labels": {"k": "v", "a": "b"}},
            "Ports": [],
            "State": {"Running": true, "ExitCode": 3},
        });
        let r = |t| render(t, &doc).map_err(|e| format!("{t}: {e}")).unwrap();
        assert_eq!(
            r(r#"{{.Label "app"}}|{{.Label "tier"}}|{{.Label "no"}}"#),
            "db||"
        );
        assert_eq!(r(r#"{{.Config.Label "k"}}"#), "v");
        assert_eq!(r(r#"{{index .Config.Labels "k"}}"#), "v");
        assert_eq!(
            r("{{upper .Names}} {{.Names | title}} {{lower \"AB\"}}"),
            "WEB Web ab"
        );
        assert_eq!(r(r#"{{join .Config.Env ","}}"#), "A=1,B=2");
        assert_eq!(r(r#"{{split "a:b" ":"}}"#), "[a b]");
        assert_eq!(r(r#"{{index (split "a:b" ":") 1}}"#), "b");
        assert_eq!(r("{{.Config.Env}}"), "[A=1 B=2]");
        assert_eq!(r("{{.Config.Labels}}"), "map[a:b k:v]");
        assert_eq!(r("{{json .Config.Labels}}"), r#"{"a":"b","k":"v"}"#);
        assert_eq!(r("{{range .Config.Env}}<{{.}}>{{end}}"), "<A=1><B=2>");
        assert_eq!(
            r("{{range $i, $e := .Config.Env}}{{$i}}={{$e}} {{end}}"),
            "0=A=1 1=B=2 "
        );
        assert_eq!(
            r("{{range $k, $v := .Config.Labels}}{{$k}}{{$v}}{{end}}"),
            "abkv"
        );
        assert_eq!(r("{{range .Ports}}x{{else}}none{{end}}"), "none");
        assert_eq!(r("{{if .State.Running}}up{{else}}down{{end}}"), "up");
        assert_eq!(
            r("{{if .Nope}}a{{else if eq .State.ExitCode 3}}three{{else}}c{{end}}"),
            "three"
        );
        assert_eq!(r("{{with .Config}}{{len .Env}}{{end}}"), "2");
        assert_eq!(
            r(r#"{{printf "%-5s|%3d|%.1f|%q" .Names .State.ExitCode 1.25 "x"}}"#),
            "web  |  3|1.2|\"x\""
        );
        assert_eq!(r(r#"{{printf "%s %s" "a"}}"#), "a %!s(MISSING)");
        assert_eq!(r("{{$n := .Names}}{{$n}}-{{$.Names}}"), "web-web");
        // a parenthesized pipeline's fields; Go's slice and escapers
        assert_eq!(r(r#"{{(index .Config.Labels "k" | printf "%s")}}"#), "v");
        assert_eq!(
            r("{{(.Config).Env}} {{(index .Config.Env 1)}}"),
            "[A=1 B=2] B=2"
        );
        assert_eq!(
            r("{{slice .Names 1}} {{slice .Config.Env 0 1}}"),
            "eb [A=1]"
        );
        assert_eq!(
            r(r#"{{html "<a&'b\">"}} {{js "a'<b>="}} {{urlquery "a b/c"}}"#),
            r#"&lt;a&amp;&#39;b&#34;&gt; a\'\u003Cb\u003E\u003D a+b%2Fc"#
        );
        assert!(render("{{slice .Names 2 1}}", &doc).is_err());
        assert!(render("{{(.Config) .Env}}", &doc).is_err());
        assert_eq!(r("{{if and .Names (not .Nope)}}y{{end}}"), "y");
        assert_eq!(r("a {{- \" b \" -}} c"), "a b c");
        assert!(matches!(
            render("{{nope .A}}", &doc),
            Err(TemplateError::Parse(_))
        ));
        assert!(matches!(
            render("{{if .A}}", &doc),
            Err(TemplateError::Parse(_))
        ));
        assert!(matches!(
            render("{{.Names 1}}", &doc),
            Err(TemplateError::Exec(_))
        ));
    }
}
