//! Helpers for the unit tests: a temporary directory removed on drop, a
//! store in one, and layer tars built in memory.

use crate::digest::{Digest, LayerId};
use crate::store::ingest::{ingest_layer, IngestOptions};
use crate::store::meta::LayerMeta;
use crate::store::Store;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// A fresh directory under the system's temporary directory, removed with
/// everything in it on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(what: &str) -> TempDir {
        static N: AtomicU64 = AtomicU64::new(0);
        let p = std::env::temp_dir().join(format!(
            "cairn-unit-{what}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A new empty store in its own temporary directory.
pub fn store(what: &str) -> (TempDir, Store) {
    let d = TempDir::new(what);
    let s = Store::open(&d.path().join("store")).unwrap();
    (d, s)
}

/// An uncompressed tar of regular files (mode 0644, owner 0, mtime 0).
pub fn tar_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (path, data) in files {
        let mut h = tar::Header::new_ustar();
        h.set_entry_type(tar::EntryType::Regular);
        h.set_mode(0o644);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(0);
        h.set_size(data.len() as u64);
        b.append_data(&mut h, path, *data).unwrap();
    }
    b.into_inner().unwrap()
}

/// Ingest `tar` as a layer on `parent`; returns its ID and diff ID.
pub fn layer(store: &Store, parent: Option<LayerId>, tar: &[u8]) -> (LayerId, Digest) {
    let got = ingest_layer(
        store,
        tar,
        IngestOptions {
            meta: LayerMeta {
                parent,
                ..Default::default()
            },
            ..Default::default()
        },
    )
    .unwrap();
    (got.id, got.meta.diff_id.unwrap())
}
