//! Running a parsed template over a JSON document, as Go's text/template
//! runs one over docker's structs: a field that is not there is `<no
//! value>`, empty values are false, `range` walks arrays and (by sorted
//! key) objects.

use super::funcs::{self, text};
use super::gostruct;
use super::methods;
use super::parse::{Arg, Node, Pipe};
use super::TemplateError;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::rc::Rc;

/// How a field is found in an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// cairn's documents: the key exactly, else ignoring case and
    /// underscores; a missing one is null.
    Loose,
    /// docker's typed structs, as its templates run first: on a struct
    /// (see [`gostruct`]), Go's field name exactly, and any other an
    /// error, as is a field of nil; on a map, the key (missing: null).
    Typed,
    /// docker's fallback over its JSON, every object a map: the key
    /// exactly, a missing one an error.
    Raw,
}

/// Variables in scope (`$`, the root, first, then those declared), and
/// the templates that can be run by name.
pub struct Scope {
    vars: Vec<(String, Value)>,
    mode: Mode,
    defs: Rc<BTreeMap<String, Vec<Node>>>,
    /// How many `template` calls deep this runs.
    depth: usize,
}

/// How deep `template` calls may nest (a template that calls itself
/// forever stops here, where Go stops at its own, deeper, bound).
const MAX_DEPTH: usize = 100;

impl Scope {
    /// The scope of a template's `nodes` run over `root`.
    pub fn new(root: &Value, nodes: &[Node], mode: Mode) -> Scope {
        Scope {
            vars: vec![(String::new(), root.clone())],
            mode,
            defs: Rc::new(super::parse::definitions(nodes).unwrap_or_default()),
            depth: 0,
        }
    }

    fn get(&self, name: &str) -> Result<&Value, TemplateError> {
        self.vars
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
            .ok_or_else(|| TemplateError::Parse(format!("undefined variable \"${name}\"")))
    }
}

fn exec(msg: impl Into<String>) -> TemplateError {
    TemplateError::Exec(msg.into())
}

/// What a list of nodes asks of the `range` around it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    Next,
    Break,
    Continue,
}

/// `nodes` run with `dot`, written to `out`.
pub fn run(
    nodes: &[Node],
    dot: &Value,
    sc: &mut Scope,
    out: &mut String,
) -> Result<(), TemplateError> {
    nodes_in(nodes, dot, sc, out).map(|_| ())
}

fn nodes_in(
    nodes: &[Node],
    dot: &Value,
    sc: &mut Scope,
    out: &mut String,
) -> Result<Flow, TemplateError> {
    let depth = sc.vars.len();
    for n in nodes {
        let flow = match n {
            Node::Text(t) => {
                out.push_str(t);
                Flow::Next
            }
            Node::Action(p) => {
                let v = pipe(p, dot, sc)?;
                if p.decl.is_empty() {
                    match struct_field(p, dot, sc, &v) {
                        Some(t) => out.push_str(&t),
                        None => out.push_str(&text(&v)),
                    }
                }
                Flow::Next // a declaration lasts to the end of the list
            }
            Node::If(p, then, other) => {
                let v = pipe(p, dot, sc)?;
                nested(if truth(&v) { then } else { other }, dot, sc, out)?
            }
            Node::With(p, then, other) => match pipe(p, dot, sc)? {
                v if truth(&v) => nested(then, &v, sc, out)?,
                _ => nested(other, dot, sc, out)?,
            },
            Node::Range(p, each, other) => range(p, each, other, dot, sc, out)?,
            Node::Define(..) => Flow::Next,
            Node::Template(name, p) => call(name, p.as_ref(), dot, sc, out)?,
            Node::Break => Flow::Break,
            Node::Continue => Flow::Continue,
        };
        if flow != Flow::Next {
            sc.vars.truncate(depth);
            return Ok(flow);
        }
    }
    sc.vars.truncate(depth);
    Ok(Flow::Next)
}

/// A block's list: its variables end with it.
fn nested(
    nodes: &[Node],
    dot: &Value,
    sc: &mut Scope,
    out: &mut String,
) -> Result<Flow, TemplateError> {
    let depth = sc.vars.len();
    let flow = nodes_in(nodes, dot, sc, out);
    sc.vars.truncate(depth);
    flow
}

/// `{{template "name" pipeline}}`: the named template over the value,
/// with variables of its own.
fn call(
    name: &str,
    p: Option<&Pipe>,
    dot: &Value,
    sc: &mut Scope,
    out: &mut String,
) -> Result<Flow, TemplateError> {
    let v = match p {
        Some(p) => pipe(p, dot, sc)?,
        None => Value::Null,
    };
    let defs = sc.defs.clone();
    let Some(body) = defs.get(name) else {
        return Err(exec(format!("template {name:?} not defined")));
    };
    if sc.depth >= MAX_DEPTH {
        return Err(exec(format!(
            "exceeded maximum template depth ({MAX_DEPTH})"
        )));
    }
    let mut inner = Scope {
        vars: vec![(String::new(), v.clone())],
        mode: sc.mode,
        defs: defs.clone(),
        depth: sc.depth + 1,
    };
    nodes_in(body, &v, &mut inner, out)?;
    Ok(Flow::Next)
}

fn range(
    p: &Pipe,
    each: &[Node],
    other: &[Node],
    dot: &Value,
    sc: &mut Scope,
    out: &mut String,
) -> Result<Flow, TemplateError> {
    let decl = Pipe {
        decl: vec![],
        cmds: p.cmds.clone(),
    };
    let items: Vec<(Value, Value)> = match pipe(&decl, dot, sc)? {
        Value::Array(a) => a
            .into_iter()
            .enumerate()
            .map(|(i, v)| (Value::from(i), v))
            .collect(),
        Value::Object(m) if gostruct::fields(&m).is_some() => {
            return Err(exec("range can't iterate over a struct"))
        }
        v if gostruct::json_number(&v).is_some() => {
            return Err(exec(format!("range can't iterate over {}", text(&v))))
        }
        Value::Object(m) => (gostruct::keys(&m).into_iter())
            .map(|k| (Value::String(k.clone()), m[k].clone()))
            .collect(),
        Value::Null => vec![],
        v => return Err(exec(format!("range can't iterate over {}", text(&v)))),
    };
    if items.is_empty() {
        return nested(other, dot, sc, out);
    }
    for (k, v) in items {
        let depth = sc.vars.len();
        match p.decl.as_slice() {
            [] => {}
            [e] => sc.vars.push((e.clone(), v.clone())),
            [i, e, ..] => {
                sc.vars.push((i.clone(), k));
                sc.vars.push((e.clone(), v.clone()));
            }
        }
        let flow = nodes_in(each, &v, sc, out)?;
        sc.vars.truncate(depth);
        if flow == Flow::Break {
            break;
        }
    }
    Ok(Flow::Next)
}

/// Go's truth: false, 0, nil, and empty strings, arrays and maps are
/// false; a struct is true.
pub fn truth(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        // a struct is always true, a json.Number never empty
        Value::Object(m) => {
            gostruct::fields(m).is_some()
                || m.contains_key(gostruct::NUMBER)
                || gostruct::len(m) > 0
        }
    }
}

/// A pipeline's value; its declared variables set.
fn pipe(p: &Pipe, dot: &Value, sc: &mut Scope) -> Result<Value, TemplateError> {
    let mut piped = None;
    for cmd in &p.cmds {
        piped = Some(command(cmd, piped, dot, sc)?);
    }
    let v = piped.unwrap_or(Value::Null);
    for name in &p.decl {
        sc.vars.push((name.clone(), v.clone()));
    }
    Ok(v)
}

fn command(
    cmd: &[Arg],
    piped: Option<Value>,
    dot: &Value,
    sc: &mut Scope,
) -> Result<Value, TemplateError> {
    let mut args = Vec::new();
    for a in &cmd[1..] {
        args.push(arg(a, dot, sc)?);
    }
    args.extend(piped);
    match &cmd[0] {
        Arg::Ident(name) if name == "join" && sc.mode == Mode::Raw => {
            document_list(cmd.get(1))?;
            funcs::call(name, args)
        }
        Arg::Ident(name) if name == "len" && args == [Value::Null] && nil_list(cmd, dot, sc) => {
            Ok(Value::from(0))
        }
        Arg::Ident(name) => funcs::call(name, args),
        Arg::Field(var, path) if !args.is_empty() => {
            let (last, parent) = path
                .split_last()
                .ok_or_else(|| exec("can't give argument to non-function"))?;
            let base = match var {
                Some(v) => sc.get(v)?.clone(),
                None => dot.clone(),
            };
            method(&walk(&base, parent, sc.mode)?, last, &args)
        }
        a if args.is_empty() => arg(a, dot, sc),
        _ => Err(exec("can't give argument to non-function")),
    }
}

/// Whether `{{len .A.B}}`'s B is a struct's nil slice or map (Go's
/// length 0) and no nil pointer or missing value (an error).
fn nil_list(cmd: &[Arg], dot: &Value, sc: &Scope) -> bool {
    let Some(Arg::Field(var, path)) = cmd.get(1) else {
        return false;
    };
    let Some((last, parent)) = path.split_last() else {
        return false;
    };
    let base = match var {
        Some(v) => sc.get(v).ok(),
        None => Some(dot),
    };
    let parent = base.and_then(|b| walk(b, parent, sc.mode).ok());
    let nil = parent.and_then(|p| gostruct::field(p.as_object()?, last, &NULL));
    matches!(nil.as_deref(), Some("[]" | "map[]"))
}

/// Over docker's plain JSON, a list of the document is a `[]interface{}`
/// (and a missing one `interface{}`), which `join` (of a `[]string`, as
/// `split` gives) refuses: `{{.Id}} {{join .Args " "}}` fails in docker.
fn document_list(a: Option<&Arg>) -> Result<(), TemplateError> {
    match a {
        Some(Arg::Field(var, path)) if var.is_none() || !path.is_empty() => Err(exec(
            "wrong type for value; expected []string; got []interface {}",
        )),
        _ => Ok(()),
    }
}

/// The methods docker's listing rows have beside their fields: `.Label
/// "key"` (the value of one label, empty when it is not set).
fn method(on: &Value, name: &str, args: &[Value]) -> Result<Value, TemplateError> {
    if !name.eq_ignore_ascii_case("label") || args.len() != 1 {
        return Err(exec(format!("can't give argument to non-function .{name}")));
    }
    let key = text(&args[0]);
    let labels = lookup(on, "Labels").cloned().unwrap_or(Value::Null);
    let found = match &labels {
        Value::Object(m) => m.get(&key).cloned(),
        // a listing row's `k=v,k2=v2`
        Value::String(s) => s
            .split(',')
            .filter_map(|kv| kv.split_once('=').or(Some((kv, ""))))
            .find(|(k, _)| *k == key)
            .map(|(_, v)| Value::String(v.into())),
        _ => None,
    };
    Ok(found.unwrap_or_else(|| Value::String(String::new())))
}

fn arg(a: &Arg, dot: &Value, sc: &mut Scope) -> Result<Value, TemplateError> {
    Ok(match a {
        Arg::Field(None, path) => walk(dot, path, sc.mode)?,
        Arg::Field(Some(v), path) => walk(sc.get(v)?, path, sc.mode)?,
        Arg::Ident(name) => funcs::call(name, vec![])?,
        Arg::Str(s) => Value::String(s.clone()),
        Arg::Num(n) if n.fract() == 0.0 && n.abs() < 9e15 => Value::from(*n as i64),
        Arg::Num(n) => Value::from(*n),
        Arg::Bool(b) => Value::Bool(*b),
        Arg::Nil => Value::Null,
        Arg::Sub(p) => pipe(p, dot, sc)?,
        Arg::Chain(base, path) => walk(&arg(base, dot, sc)?, path, sc.mode)?,
    })
}

/// What Go prints for `{{.A.B}}` holding `v` where that is not `v`
/// printed: B a struct's field that is nil or absent (`[]` for a slice,
/// `map[]` for a map, `<nil>` for a pointer: docker 20.10's
/// `{{.HostConfig.PidsLimit}}` and `{{.State.Health}}`) or a time (see
/// [`gostruct::field`]). `None` when the action is not one field of a
/// struct.
fn struct_field(p: &Pipe, dot: &Value, sc: &Scope, v: &Value) -> Option<String> {
    let [cmd] = p.cmds.as_slice() else {
        return None;
    };
    let [Arg::Field(var, path)] = cmd.as_slice() else {
        return None;
    };
    let (last, parent) = path.split_last()?;
    let base = match var {
        Some(v) => sc.get(v).ok()?,
        None => dot,
    };
    let parent = walk(base, parent, sc.mode).ok()?;
    gostruct::field(parent.as_object()?, last, v)
}

/// `.A.B` from `v`, each field found as `mode` says; over docker's
/// structs, a name may be a method (see [`go_method`]).
fn walk(v: &Value, path: &[String], mode: Mode) -> Result<Value, TemplateError> {
    let mut cur = v;
    for (i, name) in path.iter().enumerate() {
        if let Some((result, used)) = go_method(cur, &path[i..], mode) {
            return walk(&result, &path[i + used..], mode);
        }
        match field(cur, name, mode)? {
            Some(next) => cur = next,
            None => return Ok(Value::Null),
        }
    }
    Ok(cur.clone())
}

/// Where `path` starts with a method call on struct `v` (typed mode
/// only), its result and how many names it took: `.IsNone` on a struct of
/// a type that has it (`RestartPolicy`), or `.NetworkMode.IsHost`, the
/// method of a field's named type (see [`super::methods`]).
fn go_method(v: &Value, path: &[String], mode: Mode) -> Option<(Value, usize)> {
    let m = v.as_object().filter(|_| mode == Mode::Typed)?;
    if let Some(r) = gostruct::go_type(m).and_then(|ty| methods::call(ty, v, &path[0])) {
        return Some((r, 1));
    }
    let (name, call) = (&path[0], path.get(1)?);
    let ty = gostruct::field_type(m, name)?;
    let key = gostruct::go_field(m, name)??;
    let recv = m.get(key).unwrap_or(&NULL);
    Some((methods::call(ty, recv, call)?, 2))
}

const NULL: Value = Value::Null;

/// Field `name` of `v` (see [`Mode`]); `None`: null.
fn field<'d>(v: &'d Value, name: &str, mode: Mode) -> Result<Option<&'d Value>, TemplateError> {
    let m = match (mode, v) {
        (Mode::Loose, v) => return Ok(lookup(v, name)),
        (_, Value::Object(m)) => m,
        (_, Value::Null) => return Err(exec(format!("nil pointer evaluating .{name}"))),
        (_, v) => return Err(exec(format!("can't evaluate field {name} in {}", text(v)))),
    };
    match (mode, gostruct::go_field(m, name)) {
        (Mode::Typed, Some(Some(key))) => Ok(Some(m.get(key).unwrap_or(&NULL))),
        (Mode::Typed, Some(None)) => Err(exec(format!("can't evaluate field {name}"))),
        // a map keyed by nat.Port: a name is no key of it
        (Mode::Typed, None) if m.contains_key(gostruct::PORTS) => Err(exec(format!(
            "can't evaluate field {name} in type nat.Port"
        ))),
        (Mode::Typed, None) => Ok(m.get(name).filter(|_| !gostruct::is_mark(name))),
        _ => match m.get(name) {
            Some(v) if !gostruct::is_mark(name) => Ok(Some(v)),
            _ => Err(exec(format!("map has no entry for key {name:?}"))),
        },
    }
}

/// A field as docker spells it over cairn's snake_case keys: exactly
/// first, then ignoring case and underscores.
pub fn lookup<'d>(v: &'d Value, name: &str) -> Option<&'d Value> {
    let m: &Map<String, Value> = v.as_object()?;
    if let Some(v) = m.get(name) {
        return Some(v);
    }
    let fold = |s: &str| s.replace('_', "").to_ascii_lowercase();
    let want = fold(name);
    (m.iter().filter(|(k, _)| !gostruct::is_mark(k)))
        .find(|(k, _)| fold(k) == want)
        .map(|(_, v)| v)
}
