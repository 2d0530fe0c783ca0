//! `export`: the union view of a container or an image as one flat tar,
//! whiteouts applied, no metadata, no layers.
//!
//! The view is mounted read-only (overlayfs with only lower layers) inside
//! a private mount namespace of this process, so it can never be left
//! mounted, and walked in name order: the same input gives the same bytes.
//! The walk holds directory fds and never follows a symlink: a running
//! container that swaps a directory of its upper layer for a symlink to a
//! host directory while it is exported can make the export fail ("changed
//! while being read"), never put the host's files in it.

use crate::container::ContainerError;
use crate::isolate::overlay::{self, View};
use crate::layer::pack::{pack_tree, PackError, PackOptions};
use crate::store::{IoContext, Store, StoreError};
use nix::mount::MsFlags;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Container(#[from] ContainerError),
    /// The private mount namespace the view is mounted in.
    #[error("{what}")]
    Namespace {
        what: &'static str,
        #[source]
        source: nix::errno::Errno,
    },
    /// Reading the view (a path named as the container sees it).
    #[error(transparent)]
    Pack(#[from] PackError),
}

type Result<T> = std::result::Result<T, ExportError>;

/// The layer directories of a subject, top first: a container's upper dir,
/// its init dir (the mount points /proc, /sys, /dev) and its image's layers;
/// or an image's layers.
pub fn view_layers(store: &Store, name: &str) -> Result<Vec<PathBuf>> {
    if let Ok(c) = store.resolve_container(name) {
        let mut v = vec![store.container_dirs(&c.id).upper];
        v.extend(crate::container::lower_layers(store, &c)?);
        return Ok(v);
    }
    let layer = crate::image::resolve(store, name)?;
    Ok(store.stack(&layer)?.dirs)
}

/// Write the union of `layers` (top first) as a tar to `w`.
pub fn export<W: Write>(store: &Store, layers: &[PathBuf], w: W) -> Result<W> {
    let staging = store.stage("export")?;
    let mnt = staging.path().join("view");
    let empty = staging.path().join("empty");
    std::fs::create_dir(&mnt).at(&mnt)?;
    std::fs::create_dir(&empty).at(&empty)?;
    nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNS).map_err(|source| {
        ExportError::Namespace {
            what: "unshare mount namespace",
            source,
        }
    })?;
    nix::mount::mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_PRIVATE | MsFlags::MS_REC,
        None::<&str>,
    )
    .map_err(|source| ExportError::Namespace {
        what: "making mounts private",
        source,
    })?;
    // With no upper dir overlayfs is read-only; an empty bottom layer makes
    // sure there are always two lower layers.
    let mut lower = layers.to_vec();
    lower.push(empty);
    let view = View {
        lower,
        upper: PathBuf::new(),
        work: PathBuf::new(),
        target: mnt.clone(),
    };
    overlay::mount_readonly(&view).at(&mnt)?;
    let res = pack_tree(&mnt, w, PackOptions::default()).map_err(|e| match e {
        // named as the view shows it, not by the private mount
        PackError::Changed(p) => {
            PackError::Changed(Path::new("/").join(p.strip_prefix(&mnt).unwrap_or(&p))).into()
        }
        e => e.into(),
    });
    let _ = overlay::unmount(&mnt);
    res
}

/// [`export`] into the file `path`, staged beside it and renamed into
/// place, so a failure leaves no half-written file.
pub fn export_to_file(store: &Store, layers: &[PathBuf], path: &Path) -> Result<()> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("export");
    let tmp = path.with_file_name(format!(".{name}.cairn-{}", std::process::id()));
    let res = (|| -> Result<()> {
        let f = std::fs::File::create(&tmp).at(&tmp)?;
        let w = export(store, layers, BufWriter::with_capacity(1 << 20, f))?;
        let f = w.into_inner().map_err(|e| e.into_error()).at(&tmp)?;
        f.sync_all().at(&tmp)?;
        Ok(std::fs::rename(&tmp, path).at(path)?)
    })();
    if res.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    res
}
