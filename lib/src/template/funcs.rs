//! The functions docker's templates have: Go's builtins (`index`, `len`,
//! `printf`, `print`, `println`, `not`, `and`, `or`, `eq`, `ne`, `lt`,
//! `le`, `gt`, `ge`, `slice`, `html`, `js`, `urlquery`) and docker's own
//! (`json`, `join`, `split`, `upper`, `lower`, `title`, `pad`,
//! `truncate`); and values printed as Go's `%v`.

use super::exec::truth;
use super::gostruct;
use super::TemplateError;
use serde_json::Value;
use std::cmp::Ordering;

fn exec(msg: impl Into<String>) -> TemplateError {
    TemplateError::Exec(msg.into())
}

/// A value as Go's `fmt` prints it (`%v`): strings bare, `[a b]`,
/// `map[k:v]`; a missing one as text/template's `<no value>`.
pub fn text(v: &Value) -> String {
    match v {
        Value::Null => "<no value>".into(),
        v => inner(v),
    }
}

fn inner(v: &Value) -> String {
    gostruct::print(v)
}

fn want(name: &str, args: &[Value], n: usize) -> Result<(), TemplateError> {
    match args.len() == n {
        true => Ok(()),
        false => Err(exec(format!(
            "wrong number of args for {name}: want {n} got {}",
            args.len()
        ))),
    }
}

fn string(name: &str, v: &Value) -> Result<String, TemplateError> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Null => Ok(String::new()),
        Value::Number(_) | Value::Bool(_) => Ok(inner(v)),
        _ => Err(exec(format!(
            "{name}: a string is needed, not {}",
            inner(v)
        ))),
    }
}

fn int(name: &str, v: &Value) -> Result<i64, TemplateError> {
    v.as_i64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        .ok_or_else(|| exec(format!("{name}: a number is needed, not {}", inner(v))))
}

/// Call function `name`.
pub fn call(name: &str, a: Vec<Value>) -> Result<Value, TemplateError> {
    let s = |i: usize| string(name, &a[i]);
    Ok(match name {
        "json" => {
            want(name, &a, 1)?;
            Value::String(gostruct::to_json(&a[0]))
        }
        "upper" | "lower" | "title" => {
            want(name, &a, 1)?;
            Value::String(match name {
                "upper" => s(0)?.to_uppercase(),
                "lower" => s(0)?.to_lowercase(),
                _ => title(&s(0)?),
            })
        }
        "join" => {
            want(name, &a, 2)?;
            let items = a[0].as_array().cloned().unwrap_or_default();
            Value::String(items.iter().map(inner).collect::<Vec<_>>().join(&s(1)?))
        }
        "split" => {
            want(name, &a, 2)?;
            let parts = s(0)?.split(s(1)?.as_str()).map(Value::from).collect();
            Value::Array(parts)
        }
        "pad" => {
            want(name, &a, 3)?;
            let (l, r) = (int(name, &a[1])?.max(0), int(name, &a[2])?.max(0));
            Value::String(format!(
                "{}{}{}",
                " ".repeat(l as usize),
                s(0)?,
                " ".repeat(r as usize)
            ))
        }
        "truncate" => {
            want(name, &a, 2)?;
            let n = int(name, &a[1])?.max(0) as usize;
            Value::String(s(0)?.chars().take(n).collect())
        }
        "index" => index(a)?,
        "len" => {
            want(name, &a, 1)?;
            Value::from(match &comparable(&a[0]) {
                Value::String(s) => s.len(),
                Value::Array(v) => v.len(),
                Value::Object(m) => gostruct::len(m),
                v => return Err(exec(format!("len of {}", inner(v)))),
            })
        }
        "printf" if !a.is_empty() => Value::String(sprintf(&s(0)?, &a[1..])),
        "print" | "println" => Value::String(print(name, &a)),
        "html" | "js" | "urlquery" => Value::String(escape(name, &print("print", &a))),
        "slice" => slice(a)?,
        "not" => {
            want(name, &a, 1)?;
            Value::Bool(!truth(&a[0]))
        }
        "and" | "or" if !a.is_empty() => {
            let stop = |v: &&Value| truth(v) == (name == "or");
            a.iter().find(stop).unwrap_or(&a[a.len() - 1]).clone()
        }
        "eq" | "ne" | "lt" | "le" | "gt" | "ge" => compare(name, &a)?,
        _ => {
            return Err(TemplateError::Parse(format!(
                "function {name:?} not defined"
            )))
        }
    })
}

fn index(a: Vec<Value>) -> Result<Value, TemplateError> {
    let mut it = a.into_iter();
    let mut cur = it
        .next()
        .ok_or_else(|| exec("wrong number of args for index"))?;
    for k in it {
        cur = match (&cur, &k) {
            (Value::Object(m), Value::Number(n)) if m.contains_key(gostruct::NUMBER) => {
                let text = inner(&cur);
                let byte = (n.as_u64()).and_then(|i| text.as_bytes().get(i as usize));
                let byte = byte.ok_or_else(|| exec(format!("index out of range: {n}")))?;
                Value::from(*byte)
            }
            (Value::Object(m), _) if m.contains_key(gostruct::PORTS) => {
                return Err(exec(format!(
                    "value has type string; should be nat.Port: {}",
                    inner(&k)
                )))
            }
            (Value::Object(m), Value::String(k)) if !gostruct::is_mark(k) => {
                let zero = gostruct::map_zero(m).unwrap_or(&Value::Null);
                m.get(k).unwrap_or(zero).clone()
            }
            (Value::Array(v), Value::Number(n)) => {
                let i = n.as_u64().unwrap_or(u64::MAX) as usize;
                let found = v.get(i).cloned();
                found.ok_or_else(|| exec(format!("index out of range: {n}")))?
            }
            (Value::Null, _) => return Err(exec("index of untyped nil")),
            _ => {
                return Err(exec(format!(
                    "can't index {} with {}",
                    inner(&cur),
                    inner(&k)
                )))
            }
        };
    }
    Ok(cur)
}

/// Go's `slice x 1 2`: `x[1:2]` of a string (by bytes) or a list.
fn slice(a: Vec<Value>) -> Result<Value, TemplateError> {
    let Some(x) = a.first() else {
        return Err(exec(
            "wrong number of args for slice: want at least 1 got 0",
        ));
    };
    let len = match x {
        Value::String(s) => s.len(),
        Value::Array(v) => v.len(),
        v => return Err(exec(format!("can't slice item of type {}", inner(v)))),
    };
    let mut idx = vec![];
    for i in &a[1..] {
        idx.push(int("slice", i)?);
    }
    let (from, to) = match idx.as_slice() {
        [] => (0, len as i64),
        [i] => (*i, len as i64),
        [i, j] => (*i, *j),
        _ => return Err(exec("too many slice indexes")),
    };
    if from < 0 || to < from || to > len as i64 {
        return Err(exec(format!("index out of range: {from}:{to}")));
    }
    let (from, to) = (from as usize, to as usize);
    Ok(match x {
        Value::String(s) => Value::from(String::from_utf8_lossy(&s.as_bytes()[from..to])),
        Value::Array(v) => Value::from(v[from..to].to_vec()),
        _ => unreachable!("checked above"),
    })
}

/// Go's `html` (`HTMLEscapeString`), `js` (`JSEscapeString`) and
/// `urlquery` (`url.QueryEscape`) of `s`.
fn escape(name: &str, s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        match (name, c) {
            ("html", '<') => out.push_str("&lt;"),
            ("html", '>') => out.push_str("&gt;"),
            ("html", '&') => out.push_str("&amp;"),
            ("html", '\'') => out.push_str("&#39;"),
            ("html", '"') => out.push_str("&#34;"),
            ("html", '\0') => out.push('\u{FFFD}'),
            ("js", '\\' | '\'' | '"') => {
                out.push('\\');
                out.push(c);
            }
            ("js", '<' | '>' | '&' | '=') => out.push_str(&format!("\\u{:04X}", c as u32)),
            ("js", c) if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04X}", c as u32)),
            ("urlquery", ' ') => out.push('+'),
            ("urlquery", c) if !(c.is_ascii_alphanumeric() || "-_.~".contains(c)) => {
                let mut buf = [0; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    out.push_str(&format!("%{b:02X}"));
                }
            }
            (_, c) => out.push(c),
        }
    }
    out
}

/// Go's `strings.Title`: each letter after a separator upper-cased.
fn title(s: &str) -> String {
    let mut prev = ' ';
    s.chars()
        .map(|c| {
            let sep = !(prev.is_alphanumeric() || prev == '_');
            prev = c;
            if sep {
                c.to_uppercase().next().unwrap_or(c)
            } else {
                c
            }
        })
        .collect()
}

/// `print` (spaces between operands when neither is a string) and
/// `println` (spaces always, and a newline).
fn print(name: &str, a: &[Value]) -> String {
    let mut out = String::new();
    for (i, v) in a.iter().enumerate() {
        let string = |v: &Value| comparable(v).is_string();
        if i > 0 && (name == "println" || !(string(&a[i - 1]) || string(v))) {
            out.push(' ');
        }
        out.push_str(&inner(v));
    }
    if name == "println" {
        out.push('\n');
    }
    out
}

/// A value as Go's comparisons see it: a `json.Number` is the string it
/// is.
fn comparable(v: &Value) -> Value {
    match gostruct::json_number(v) {
        Some(n) => Value::String(n.to_string()),
        None => v.clone(),
    }
}

/// Go's `eq`, `ne`, `lt`, `le`, `gt`, `ge`: values of one basic kind
/// (numbers, strings, bools for `eq` and `ne`) compare, nil equals nil
/// alone, and any other pair is an error, as `eq .State.Pid "0"` is.
fn compare(name: &str, a: &[Value]) -> Result<Value, TemplateError> {
    if a.len() < 2 {
        return Err(exec(format!("missing argument for comparison in {name}")));
    }
    let equality = name == "eq" || name == "ne";
    let bad = || {
        exec(format!(
            "error calling {name}: incompatible types for comparison"
        ))
    };
    let ord = |x: &Value, y: &Value| -> Result<Ordering, TemplateError> {
        let same = |b: bool| match b {
            true => Ordering::Equal,
            false => Ordering::Less,
        };
        match (comparable(x), comparable(y)) {
            (Value::Number(p), Value::Number(q)) => {
                let (p, q) = (p.as_f64().unwrap_or(0.0), q.as_f64().unwrap_or(0.0));
                Ok(p.partial_cmp(&q).unwrap_or(Ordering::Equal))
            }
            (Value::String(p), Value::String(q)) => Ok(p.cmp(&q)),
            (p @ Value::Null, q) | (p, q @ Value::Null) if equality => Ok(same(p == q)),
            (p @ Value::Bool(_), q @ Value::Bool(_))
            | (p @ Value::Array(_), q @ Value::Array(_))
            | (p @ Value::Object(_), q @ Value::Object(_))
                if equality =>
            {
                Ok(same(p == q))
            }
            _ => Err(bad()),
        }
    };
    let result = match name {
        "eq" => {
            let mut found = false;
            for b in &a[1..] {
                if ord(&a[0], b)? == Ordering::Equal {
                    found = true;
                    break;
                }
            }
            found
        }
        _ => {
            let o = ord(&a[0], &a[1])?;
            match name {
                "ne" => o != Ordering::Equal,
                "lt" => o == Ordering::Less,
                "le" => o != Ordering::Greater,
                "gt" => o == Ordering::Greater,
                _ => o != Ordering::Less,
            }
        }
    };
    Ok(Value::Bool(result))
}

/// Go's `fmt.Sprintf` for the verbs people type: `%s %v %d %q %f %x %t
/// %%`, with `-`, `0` and `+` flags, a width and a precision.
pub fn sprintf(f: &str, args: &[Value]) -> String {
    let mut out = String::new();
    let mut next = args.iter();
    let mut chars = f.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut spec = String::new();
        while let Some(&d) = chars.peek() {
            if !(d.is_ascii_digit() || "-+.# ".contains(d)) {
                break;
            }
            spec.push(d);
            chars.next();
        }
        let Some(verb) = chars.next() else {
            out.push_str("%!(NOVERB)");
            break;
        };
        if verb == '%' {
            out.push('%');
            continue;
        }
        match next.next() {
            Some(v) => out.push_str(&verb_text(&spec, verb, v)),
            None => out.push_str(&format!("%!{verb}(MISSING)")),
        }
    }
    out
}

fn verb_text(spec: &str, verb: char, v: &Value) -> String {
    let left = spec.contains('-');
    let zero = spec.starts_with('0') && !left;
    let flags = spec.trim_start_matches(['-', '+', '0', '#', ' ']);
    let (w, p) = match flags.split_once('.') {
        Some((w, p)) => (w, Some(p.parse::<usize>().unwrap_or(0))),
        None => (flags, None),
    };
    let w: usize = w.parse().unwrap_or(0);
    if let Some(n) = gostruct::json_number(v) {
        return match verb {
            's' | 'v' | 'q' | 'x' => verb_text(spec, verb, &Value::String(n.to_string())),
            'T' => "json.Number".into(),
            _ => format!("%!{verb}(json.Number={n})"),
        };
    }
    let body = match (verb, v) {
        ('d', Value::Number(n)) => match spec.contains('+') && n.as_f64().is_some_and(|f| f >= 0.0)
        {
            true => format!("+{n}"),
            false => n.to_string(),
        },
        ('f' | 'F', Value::Number(n)) => {
            format!("{:.*}", p.unwrap_or(6), n.as_f64().unwrap_or(0.0))
        }
        ('x', Value::Number(n)) => format!("{:x}", n.as_i64().unwrap_or(0)),
        ('x', v) => inner(v).bytes().map(|b| format!("{b:02x}")).collect(),
        ('q', v) => Value::String(inner(v)).to_string(),
        ('s' | 'v' | 't', v) => match p {
            Some(p) if verb == 's' => inner(v).chars().take(p).collect(),
            _ => inner(v),
        },
        (verb, v) => format!("%!{verb}({})", inner(v)),
    };
    let pad = w.saturating_sub(body.chars().count());
    match (left, zero) {
        (true, _) => format!("{body}{}", " ".repeat(pad)),
        (false, true) => format!("{}{body}", "0".repeat(pad)),
        (false, false) => format!("{}{body}", " ".repeat(pad)),
    }
}
