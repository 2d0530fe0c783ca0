//! Go's text/template syntax, the part docker's `--format` users type:
//! text, `{{pipeline}}`, `{{if}}`/`{{else if}}`/`{{else}}`/`{{end}}`,
//! `{{range}}` (with `$i, $v :=`), `{{with}}`, `{{- trim -}}` markers,
//! pipelines of commands joined by `|`, and arguments: `.Field.Path`,
//! `$var.Path`, `"strings"`, numbers, `true`/`false`/`nil`, `(pipeline)`.

use super::TemplateError;

/// A parsed template: a list of nodes.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Text(String),
    Action(Pipe),
    /// `if`/`with`: the pipeline, what runs when it holds, what else.
    If(Pipe, Vec<Node>, Vec<Node>),
    With(Pipe, Vec<Node>, Vec<Node>),
    /// `range`: what runs per element, and what runs when there is none.
    Range(Pipe, Vec<Node>, Vec<Node>),
}

/// `$a, $b := cmd | cmd`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Pipe {
    pub decl: Vec<String>,
    pub cmds: Vec<Vec<Arg>>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    /// `.A.B` (no variable) or `$v.A.B` (`$` alone: the root).
    Field(Option<String>, Vec<String>),
    /// A function's name.
    Ident(String),
    Str(String),
    Num(f64),
    Bool(bool),
    Nil,
    Sub(Pipe),
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Arg(Arg),
    Pipe,
    Open,
    Close,
    Comma,
    Assign,
}

fn err(msg: impl Into<String>) -> TemplateError {
    TemplateError::Parse(msg.into())
}

/// Text and action pieces, with `{{-` and `-}}` trimming the space beside
/// them.
fn pieces(src: &str) -> Result<Vec<(bool, String)>, TemplateError> {
    let mut out: Vec<(bool, String)> = Vec::new();
    let mut rest = src;
    while let Some(start) = rest.find("{{") {
        let mut text = &rest[..start];
        let mut body = &rest[start + 2..];
        if body.starts_with("- ") || body.starts_with("-\t") || body.starts_with("-\n") {
            text = text.trim_end();
            body = &body[1..];
        }
        out.push((false, text.to_string()));
        let end = action_end(body).ok_or(TemplateError::Unclosed)?;
        let mut inner = &body[..end];
        rest = &body[end + 2..];
        if inner.ends_with(" -") || inner.ends_with("\t-") || inner.ends_with("\n-") {
            inner = &inner[..inner.len() - 1];
            rest = rest.trim_start();
        }
        out.push((true, inner.trim().to_string()));
    }
    out.push((false, rest.to_string()));
    Ok(out)
}

/// Where the `}}` closing an action is, outside quoted strings.
fn action_end(body: &str) -> Option<usize> {
    let b = body.as_bytes();
    let (mut i, mut quote) = (0, None);
    while i < b.len() {
        match (quote, b[i]) {
            (Some(b'"'), b'\\') => i += 1,
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, b'"' | b'`') => quote = Some(b[i]),
            (None, b'}') if b.get(i + 1) == Some(&b'}') => return Some(i),
            (None, _) => {}
        }
        i += 1;
    }
    None
}

/// The template `src` as nodes.
pub fn parse(src: &str) -> Result<Vec<Node>, TemplateError> {
    let pieces = pieces(src)?;
    let mut it = pieces.into_iter().peekable();
    let (nodes, stop) = list(&mut it)?;
    match stop {
        None => Ok(nodes),
        Some(s) => Err(err(format!("unexpected {{{{{s}}}}}"))),
    }
}

type Pieces = std::iter::Peekable<std::vec::IntoIter<(bool, String)>>;

/// Nodes up to an `else …` or `end` (returned) or the end of the text.
fn list(it: &mut Pieces) -> Result<(Vec<Node>, Option<String>), TemplateError> {
    let mut nodes = Vec::new();
    while let Some((action, text)) = it.next() {
        if !action {
            if !text.is_empty() {
                nodes.push(Node::Text(text));
            }
            continue;
        }
        if text.starts_with("/*") {
            continue; // a comment
        }
        let (word, rest) = split_word(&text);
        match word {
            "end" | "else" => return Ok((nodes, Some(text))),
            "if" | "with" | "range" => nodes.push(block(word, rest, it)?),
            "define" | "template" | "block" | "break" | "continue" => {
                return Err(err(format!("{{{{{word}}}}} is not supported")))
            }
            _ => nodes.push(Node::Action(pipe(&text)?)),
        }
    }
    Ok((nodes, None))
}

fn split_word(text: &str) -> (&str, &str) {
    let end = text
        .find(|c: char| !c.is_ascii_alphanumeric() && c != '_')
        .unwrap_or(text.len());
    (&text[..end], text[end..].trim_start())
}

/// An `if`, `with` or `range` block after its keyword, through its `end`.
fn block(word: &str, head: &str, it: &mut Pieces) -> Result<Node, TemplateError> {
    let p = pipe(head)?;
    let (then, stop) = list(it)?;
    let stop = stop.ok_or_else(|| err("unexpected EOF"))?;
    let (kw, rest) = split_word(&stop);
    let otherwise = match (kw, rest) {
        ("end", _) => vec![],
        ("else", "") => {
            let (nodes, stop) = list(it)?;
            match stop.as_deref().map(split_word) {
                Some(("end", _)) => nodes,
                _ => return Err(err("expected {{end}}")),
            }
        }
        // `else if …` / `else with …`: a block nested in the else branch
        ("else", rest) => {
            let (kw2, rest2) = split_word(rest);
            if kw2 != word {
                return Err(err(format!("{{{{else {kw2}}}}} in {{{{{word}}}}}")));
            }
            vec![block(word, rest2, it)?]
        }
        _ => unreachable!("list stops only at else and end"),
    };
    Ok(match word {
        "if" => Node::If(p, then, otherwise),
        "with" => Node::With(p, then, otherwise),
        _ => Node::Range(p, then, otherwise),
    })
}

/// A pipeline's text.
pub fn pipe(text: &str) -> Result<Pipe, TemplateError> {
    let toks = lex(text)?;
    let mut pos = 0;
    let p = pipe_at(&toks, &mut pos)?;
    if pos != toks.len() {
        return Err(err(format!("unexpected ) in {text:?}")));
    }
    Ok(p)
}

fn pipe_at(toks: &[Tok], pos: &mut usize) -> Result<Pipe, TemplateError> {
    let mut p = Pipe::default();
    // `$a, $b :=`
    let mut i = *pos;
    let mut decl = Vec::new();
    while let Some(Tok::Arg(Arg::Field(Some(v), path))) = toks.get(i) {
        if !path.is_empty() {
            break;
        }
        decl.push(v.clone());
        i += 1;
        match toks.get(i) {
            Some(Tok::Comma) => i += 1,
            Some(Tok::Assign) => {
                p.decl = std::mem::take(&mut decl);
                *pos = i + 1;
                break;
            }
            _ => break,
        }
    }
    let mut cmd = Vec::new();
    while let Some(t) = toks.get(*pos) {
        *pos += 1;
        match t {
            Tok::Arg(a) => cmd.push(a.clone()),
            Tok::Open => cmd.push(Arg::Sub(pipe_at(toks, pos)?)),
            Tok::Pipe if !cmd.is_empty() => p.cmds.push(std::mem::take(&mut cmd)),
            Tok::Close => {
                *pos -= 1;
                break;
            }
            _ => return Err(err("unexpected | , or := in a pipeline")),
        }
    }
    if let Some(Tok::Close) = toks.get(*pos) {
        *pos += 1;
    }
    if cmd.is_empty() {
        return Err(err("missing value for command"));
    }
    p.cmds.push(cmd);
    Ok(p)
}

fn lex(text: &str) -> Result<Vec<Tok>, TemplateError> {
    let c: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < c.len() {
        let start = i;
        let word_end = |mut j: usize| {
            while j < c.len() && (c[j].is_alphanumeric() || "_.$".contains(c[j])) {
                j += 1;
            }
            j
        };
        let tok = match c[i] {
            w if w.is_whitespace() => {
                i += 1;
                continue;
            }
            '|' => Tok::Pipe,
            '(' => Tok::Open,
            ')' => Tok::Close,
            ',' => Tok::Comma,
            ':' if c.get(i + 1) == Some(&'=') => {
                i += 1;
                Tok::Assign
            }
            '"' | '`' => {
                let (s, len) = string(&c[i..])?;
                i += len - 1;
                Tok::Arg(Arg::Str(s))
            }
            '.' | '$' => {
                i = word_end(i + 1) - 1;
                Tok::Arg(field(&c[start..=i].iter().collect::<String>()))
            }
            d if d.is_ascii_digit() || d == '-' || d == '+' => {
                i = word_end(i + 1) - 1;
                let s: String = c[start..=i].iter().collect();
                Tok::Arg(Arg::Num(
                    s.parse().map_err(|_| err(format!("bad number {s:?}")))?,
                ))
            }
            a if a.is_alphabetic() || a == '_' => {
                i = word_end(i + 1) - 1;
                Tok::Arg(match c[start..=i].iter().collect::<String>().as_str() {
                    "true" => Arg::Bool(true),
                    "false" => Arg::Bool(false),
                    "nil" => Arg::Nil,
                    w => Arg::Ident(w.to_string()),
                })
            }
            other => return Err(err(format!("unexpected {other:?} in {text:?}"))),
        };
        out.push(tok);
        i += 1;
    }
    Ok(out)
}

/// `.A.B`, `.`, `$`, `$v`, `$v.A`.
fn field(word: &str) -> Arg {
    let (var, path) = match word.strip_prefix('$') {
        Some(rest) => match rest.split_once('.') {
            Some((v, p)) => (Some(v.to_string()), p),
            None => (Some(rest.to_string()), ""),
        },
        None => (None, &word[1..]),
    };
    let path = path.split('.').filter(|n| !n.is_empty()).map(String::from);
    Arg::Field(var, path.collect())
}

/// A quoted string at the start of `c`, and how many characters it took.
fn string(c: &[char]) -> Result<(String, usize), TemplateError> {
    let q = c[0];
    let mut out = String::new();
    let mut i = 1;
    while i < c.len() {
        match c[i] {
            ch if ch == q => return Ok((out, i + 1)),
            '\\' if q == '"' && i + 1 < c.len() => {
                i += 1;
                out.push(match c[i] {
                    'n' => '\n',
                    't' => '\t',
                    'r' => '\r',
                    other => other,
                });
            }
            ch => out.push(ch),
        }
        i += 1;
    }
    Err(err("unterminated quoted string"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pipelines_and_blocks() {
        let n = parse("a{{.A.B | upper}}b").unwrap();
        assert_eq!(n.len(), 3);
        let Node::Action(p) = &n[1] else { panic!() };
        assert_eq!(p.cmds.len(), 2);
        assert_eq!(p.cmds[1], vec![Arg::Ident("upper".into())]);
        let n = parse("{{range $i, $e := .L}}{{$i}}{{else}}none{{end}}").unwrap();
        let Node::Range(p, body, other) = &n[0] else {
            panic!()
        };
        assert_eq!(p.decl, ["i", "e"]);
        assert_eq!((body.len(), other.len()), (1, 1));
        let n = parse("{{if .A}}a{{else if .B}}b{{else}}c{{end}}").unwrap();
        let Node::If(_, _, other) = &n[0] else {
            panic!()
        };
        assert!(matches!(&other[0], Node::If(..)));
        assert_eq!(parse("x {{- .A -}} y").unwrap()[0], Node::Text("x".into()));
        assert!(parse("{{if .A}}").is_err());
        assert!(parse("{{end}}").is_err());
        assert!(parse("{{\"a}}\"}}").is_ok());
        assert_eq!(parse("{{.A"), Err(TemplateError::Unclosed));
    }
}
