//! Rendering the store's graph: a tree with box-drawing characters, and
//! Graphviz DOT with the bases at the bottom, as the model is pictured.

use crate::out::{ellipsis, human_size};
use libcairn::graph::{Kind, Node};
use libcairn::store::container::Status;
use std::collections::BTreeMap;

fn status_text(n: &Node) -> String {
    match n.status {
        Some(Status::Running) => "Running".into(),
        Some(Status::Paused) => "Paused".into(),
        Some(Status::Restarting) => "Restarting".into(),
        Some(Status::Exited) => format!("Exited ({})", n.exit_code.unwrap_or(0)),
        Some(Status::Created) => "Created".into(),
        None => String::new(),
    }
}

fn line(n: &Node) -> String {
    match n.kind {
        Kind::Layer => {
            let label = n
                .label
                .trim_start_matches("/bin/sh -c #(nop) ")
                .trim_start();
            let mut s = format!(
                "{}  {:>7}  {}",
                n.short,
                human_size(n.size),
                ellipsis(label, 48)
            );
            if !n.tags.is_empty() {
                s.push_str(&format!("  [{}]", n.tags.join(", ")));
            }
            s
        }
        Kind::Container => {
            let mark = match n.status {
                Some(Status::Running) | Some(Status::Paused) => "◉",
                _ => "○",
            };
            let mut s = format!(
                "{mark} container {}  rw {:>7}  {}  {}",
                n.short,
                human_size(n.size),
                n.label,
                status_text(n)
            );
            if let Some(pid) = n.pid {
                s.push_str(&format!("  ⟦process space: pid {pid}"));
                if let Some(ns) = &n.pid_ns {
                    s.push_str(&format!(", {ns}"));
                }
                s.push('⟧');
            }
            s
        }
    }
}

/// The store as a tree, bases first, each layer's children below it.
/// A layer with a single layer child continues on the same column, so long
/// stacks stay readable; branches and containers get connectors.
pub fn render_tree(nodes: &[Node]) -> String {
    let mut kids: BTreeMap<Option<String>, Vec<&Node>> = BTreeMap::new();
    for n in nodes {
        kids.entry(n.parent.clone()).or_default().push(n);
    }
    for v in kids.values_mut() {
        // layers before containers; then by tags, then ID
        v.sort_by(|a, b| {
            (a.kind == Kind::Container, a.tags.is_empty(), &a.id).cmp(&(
                b.kind == Kind::Container,
                b.tags.is_empty(),
                &b.id,
            ))
        });
    }
    let mut out = String::new();
    let roots = kids.get(&None).cloned().unwrap_or_default();
    for r in roots {
        chain(r, "", &kids, &mut out);
    }
    out
}

fn chain(
    start: &Node,
    prefix: &str,
    kids: &BTreeMap<Option<String>, Vec<&Node>>,
    out: &mut String,
) {
    let mut cur = start;
    loop {
        out.push_str(&line(cur));
        out.push('\n');
        let children = kids.get(&Some(cur.id.clone())).cloned().unwrap_or_default();
        let layers: Vec<&Node> = children
            .iter()
            .copied()
            .filter(|n| n.kind == Kind::Layer)
            .collect();
        if layers.len() == 1 && children.len() == 1 {
            out.push_str(prefix);
            cur = layers[0];
            continue;
        }
        let n = children.len();
        for (i, c) in children.into_iter().enumerate() {
            let last = i + 1 == n;
            out.push_str(prefix);
            out.push_str(if last { "└─ " } else { "├─ " });
            let next = format!("{prefix}{}", if last { "   " } else { "│  " });
            chain(c, &next, kids, out);
        }
        return;
    }
}

fn esc(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// Graphviz: an edge from each layer or container to what it rests on;
/// edges point down from a layer to the one it rests on, so the bases are
/// drawn at the bottom.
pub fn render_dot(nodes: &[Node]) -> String {
    let mut s = String::from(
        "digraph cairn {\n  rankdir=TB;\n  node [shape=box, fontname=\"monospace\", fontsize=10];\n  edge [arrowsize=0.6];\n",
    );
    for n in nodes {
        let id = format!("n{}", &n.id.trim_start_matches("sha256:")[..16]);
        let (label, style) = match n.kind {
            Kind::Layer => {
                let mut l = format!("{}\\n{}", n.short, human_size(n.size));
                let label = n
                    .label
                    .trim_start_matches("/bin/sh -c #(nop) ")
                    .trim_start();
                if !label.is_empty() {
                    l.push_str(&format!("\\n{}", esc(&ellipsis(label, 40))));
                }
                if !n.tags.is_empty() {
                    l.push_str(&format!("\\n[{}]", esc(&n.tags.join(", "))));
                }
                let style = if n.empty {
                    "style=dashed"
                } else {
                    "style=filled, fillcolor=\"#e8e8e8\""
                };
                (l, style.to_string())
            }
            Kind::Container => {
                let mut l = format!(
                    "container {}\\n{}\\nrw {}\\n{}",
                    n.short,
                    esc(&n.label),
                    human_size(n.size),
                    status_text(n)
                );
                if let Some(pid) = n.pid {
                    l.push_str(&format!("\\nprocess space: pid {pid}"));
                }
                let style = match n.status {
                    Some(Status::Running) | Some(Status::Paused) => {
                        "style=\"rounded,filled,bold\", fillcolor=\"#b8e0b8\", peripheries=2"
                    }
                    _ => "style=\"rounded,filled\", fillcolor=\"#fff4c0\"",
                };
                (l, style.to_string())
            }
        };
        s.push_str(&format!("  {id} [label=\"{label}\", {style}];\n"));
        if let Some(p) = &n.parent {
            let pid = format!("n{}", &p.trim_start_matches("sha256:")[..16]);
            s.push_str(&format!("  {id} -> {pid};\n"));
        }
    }
    s.push_str("}\n");
    s
}
