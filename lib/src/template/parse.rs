//! Go's text/template syntax, the part docker's `--format` users type:
//! text, `{{pipeline}}`, `{{if}}`/`{{else if}}`/`{{else}}`/`{{end}}`,
//! `{{range}}` (with `$i, $v :=`, `{{break}}` and `{{continue}}`),
//! `{{with}}`, `{{define "name"}}` (at the top level), `{{template "name"
//! pipeline}}`, `{{block "name" pipeline}}`, `{{- trim -}}` markers,
//! pipelines of commands joined by `|`, and arguments: `.Field.Path`,
//! `$var.Path`, `"strings"`, numbers, `true`/`false`/`nil`, `(pipeline)`.

use super::TemplateError;
use std::collections::BTreeMap;

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
    /// `define "name"` (or the definition half of a `block`): a template
    /// the others can run by name; it prints nothing where it stands.
    Define(String, Vec<Node>),
    /// `template "name" pipeline`: run the named template with the
    /// pipeline's value (nil without one) as its dot and its `$`.
    Template(String, Option<Pipe>),
    /// Leave the innermost `range` / go on with its next element.
    Break,
    Continue,
}

/// Where a list of nodes stands: at the top (where `define` may be), and
/// inside a `range` body (where `break` and `continue` may be).
#[derive(Debug, Clone, Copy)]
struct At {
    top: bool,
    in_range: bool,
}

const INSIDE: At = At {
    top: false,
    in_range: false,
};

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
    /// `(pipeline).A.B`: fields of a parenthesized pipeline's value.
    Chain(Box<Arg>, Vec<String>),
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Arg(Arg),
    Pipe,
    Open,
    Close,
    Comma,
    Assign,
    /// `.A.B` right after a `)`.
    Chain(Vec<String>),
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
    let top = At {
        top: true,
        in_range: false,
    };
    let (nodes, stop) = list(&mut it, top)?;
    if let Some(s) = stop {
        return Err(err(format!("unexpected {{{{{s}}}}}")));
    }
    definitions(&nodes)?;
    Ok(nodes)
}

type Pieces = std::iter::Peekable<std::vec::IntoIter<(bool, String)>>;

/// Nodes up to an `else …` or `end` (returned) or the end of the text.
fn list(it: &mut Pieces, at: At) -> Result<(Vec<Node>, Option<String>), TemplateError> {
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
            "if" | "with" | "range" => nodes.push(block(word, rest, it, at)?),
            "define" if !at.top => return Err(err("unexpected {{define}} inside an action")),
            "define" => {
                let (name, p) = named(word, rest)?;
                if p.is_some() {
                    return Err(err("{{define}} takes a name only"));
                }
                nodes.push(Node::Define(name, body_to_end(word, it)?));
            }
            "block" => {
                let (name, p) = named(word, rest)?;
                nodes.push(Node::Define(name.clone(), body_to_end(word, it)?));
                nodes.push(Node::Template(name, p));
            }
            "template" => {
                let (name, p) = named(word, rest)?;
                nodes.push(Node::Template(name, p));
            }
            "break" | "continue" if !at.in_range => {
                return Err(err(format!("{{{{{word}}}}} outside {{{{range}}}}")))
            }
            "break" | "continue" if !rest.is_empty() => {
                return Err(err(format!("unexpected {rest:?} in {{{{{word}}}}}")))
            }
            "break" => nodes.push(Node::Break),
            "continue" => nodes.push(Node::Continue),
            _ => nodes.push(Node::Action(pipe(&text)?)),
        }
    }
    Ok((nodes, None))
}

/// The quoted name after `define`, `template` or `block`, and the
/// pipeline after it, if any.
fn named(word: &str, rest: &str) -> Result<(String, Option<Pipe>), TemplateError> {
    let c: Vec<char> = rest.chars().collect();
    if !matches!(c.first(), Some('"' | '`')) {
        return Err(err(format!("{{{{{word}}}}} needs a quoted template name")));
    }
    let (name, len) = string(&c)?;
    let after: String = c[len..].iter().collect();
    let p = match after.trim() {
        "" => None,
        p => Some(pipe(p)?),
    };
    Ok((name, p))
}

/// The body of a `define` or `block`, through its `end`: a template of
/// its own, so not inside any `range` around it.
fn body_to_end(word: &str, it: &mut Pieces) -> Result<Vec<Node>, TemplateError> {
    let (body, stop) = list(it, INSIDE)?;
    match stop.as_deref().map(split_word) {
        Some(("end", "")) => Ok(body),
        Some(_) => Err(err(format!("unexpected {{{{else}}}} in {{{{{word}}}}}"))),
        None => Err(err("unexpected EOF")),
    }
}

/// Every template `nodes` define, by name. Two definitions of one name
/// are an error unless one of them is empty (as Go's: the other wins).
pub fn definitions(nodes: &[Node]) -> Result<BTreeMap<String, Vec<Node>>, TemplateError> {
    let mut defs = BTreeMap::new();
    collect(nodes, &mut defs)?;
    Ok(defs)
}

fn collect(nodes: &[Node], defs: &mut BTreeMap<String, Vec<Node>>) -> Result<(), TemplateError> {
    for n in nodes {
        match n {
            Node::Define(name, body) => {
                collect(body, defs)?;
                let empty = |b: &[Node]| {
                    b.iter()
                        .all(|n| matches!(n, Node::Text(t) if t.trim().is_empty()))
                };
                match defs.get(name) {
                    Some(had) if !empty(had) && !empty(body) => {
                        return Err(err(format!("multiple definition of template {name:?}")))
                    }
                    Some(had) if empty(body) && !empty(had) => {}
                    _ => {
                        defs.insert(name.clone(), body.clone());
                    }
                }
            }
            Node::If(_, a, b) | Node::With(_, a, b) | Node::Range(_, a, b) => {
                collect(a, defs)?;
                collect(b, defs)?;
            }
            _ => {}
        }
    }
    Ok(())
}

fn split_word(text: &str) -> (&str, &str) {
    let end = text
        .find(|c: char| !c.is_ascii_alphanumeric() && c != '_')
        .unwrap_or(text.len());
    (&text[..end], text[end..].trim_start())
}

/// An `if`, `with` or `range` block after its keyword, through its `end`.
/// Its body is inside the range when it is one; its `else` is not.
fn block(word: &str, head: &str, it: &mut Pieces, at: At) -> Result<Node, TemplateError> {
    let p = pipe(head)?;
    let inner = At {
        top: false,
        in_range: at.in_range || word == "range",
    };
    let outer = At { top: false, ..at };
    let (then, stop) = list(it, inner)?;
    let stop = stop.ok_or_else(|| err("unexpected EOF"))?;
    let (kw, rest) = split_word(&stop);
    let otherwise = match (kw, rest) {
        ("end", _) => vec![],
        ("else", "") => {
            let (nodes, stop) = list(it, outer)?;
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
            vec![block(word, rest2, it, outer)?]
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
            Tok::Chain(path) => match cmd.pop() {
                Some(base @ Arg::Sub(_)) => cmd.push(Arg::Chain(Box::new(base), path.clone())),
                _ => return Err(err("unexpected . after term")),
            },
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
                match field(&c[start..=i].iter().collect::<String>()) {
                    Arg::Field(None, path) if start > 0 && c[start - 1] == ')' => Tok::Chain(path),
                    f => Tok::Arg(f),
                }
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
