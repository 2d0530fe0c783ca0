//! The store as the model draws it: read-only layers resting on their
//! parents, shared bases once, containers' read-write layers on top of
//! their images, running containers with their process space. Plain data;
//! the tools render it as a tree or as Graphviz.

use crate::container;
use crate::container::ContainerError;
use crate::store::container::Status;
use crate::store::{refs, Store, StoreError};
use std::collections::{BTreeMap, HashMap};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    Layer,
    Container,
}

/// One box of the picture.
#[derive(Debug, Clone)]
pub struct Node {
    pub kind: Kind,
    /// Layer ID (`sha256:…`) or container ID (64 hex).
    pub id: String,
    pub short: String,
    /// What it rests on.
    pub parent: Option<String>,
    /// created_by for a layer; the name for a container.
    pub label: String,
    pub size: u64,
    pub tags: Vec<String>,
    pub empty: bool,
    /// Containers: created, running, paused, exited.
    pub status: Option<Status>,
    pub exit_code: Option<i32>,
    /// Running containers: the init's pid and its pid namespace.
    pub pid: Option<i32>,
    pub pid_ns: Option<String>,
}

/// Bytes of regular-file data below `p` (what `du` calls apparent size).
pub fn dir_size(p: &std::path::Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![p.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            if let Ok(m) = e.metadata() {
                if m.is_dir() {
                    stack.push(e.path());
                } else if m.is_file() {
                    total += m.len();
                }
            }
        }
    }
    total
}

/// Every layer and container of the store.
pub fn graph(store: &Store) -> Result<Vec<Node>, ContainerError> {
    let mut tags: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in refs::list(store)? {
        tags.entry(r.layer.to_string()).or_default().push(r.name);
    }
    let mut out = Vec::new();
    for id in store.layers()? {
        let m = store.layer(&id)?;
        let size = if m.is_empty_layer() {
            0
        } else {
            store.layer_info(&id)?.size
        };
        out.push(Node {
            kind: Kind::Layer,
            id: id.to_string(),
            short: id.short(),
            parent: m.parent.map(|p| p.to_string()),
            label: m.created_by.clone().unwrap_or_default(),
            size,
            tags: tags.get(&id.to_string()).cloned().unwrap_or_default(),
            empty: m.is_empty_layer(),
            status: None,
            exit_code: None,
            pid: None,
            pid_ns: None,
        });
    }
    for c in store.containers()? {
        let st = container::state(store, &c)?;
        let running = matches!(st.status, Status::Running | Status::Paused);
        let pid = if running { st.pid } else { None };
        out.push(Node {
            kind: Kind::Container,
            id: c.id.hex(),
            short: c.id.short(),
            parent: Some(c.layer.to_string()),
            label: c.name.clone(),
            size: dir_size(&store.container_dirs(&c.id).upper),
            tags: vec![],
            empty: false,
            status: Some(st.status),
            exit_code: st.exit_code,
            pid,
            pid_ns: pid
                .and_then(|p| std::fs::read_link(format!("/proc/{p}/ns/pid")).ok())
                .map(|l| l.display().to_string()),
        });
    }
    Ok(out)
}

/// An image's created time (the newest layer that has one) and the size of
/// its whole stack (docker's virtual size). `sizes` caches layer sizes
/// across calls.
pub fn image_summary(
    store: &Store,
    top: &crate::LayerId,
    sizes: &mut HashMap<crate::LayerId, u64>,
) -> Result<(Option<String>, u64), StoreError> {
    let chain = store.chain(top)?;
    let mut total = 0;
    for (id, m) in &chain {
        if m.is_empty_layer() {
            continue;
        }
        total += match sizes.get(id) {
            Some(s) => *s,
            None => *sizes.entry(*id).or_insert(store.layer_info(id)?.size),
        };
    }
    let created = chain.iter().find_map(|(_, m)| m.created.clone());
    Ok((created, total))
}
