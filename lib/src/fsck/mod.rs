//! `fsck`: check every object of the store against what names it, and
//! move what is broken aside.
//!
//! The check ([`check`]) reads the whole store once and reports each
//! damaged object once, as a [`Finding`]: a blob whose bytes do not hash
//! to its name, a layer whose `layer.json` does not hash to its ID or whose
//! parent is gone, a changeset that no longer rebuilds the tar its diff ID
//! names (or, kept with its blob, holds other files than the blob
//! unpacks to), a blob that something needs and that is missing, a tag or a
//! container whose layer is gone. What is broken only *because* something
//! below it is (a layer over a damaged parent, a tag of such a layer) is
//! not reported again: its cause is. The index of image IDs
//! (`image-ids.json`, a cache) is checked entry by entry against the IDs
//! the sound layers' chains make.
//!
//! The repair ([`repair`]) works from the same survey: it plans, as plain
//! data ([`plan`]), what to move aside and what to drop with it, then does
//! it. See docs/fsck.md for what is checked and what is not.

mod repair;
mod survey;
mod tree;

pub use repair::{plan, repair, Action, Plan, LOST_FOUND};
pub use survey::{check, manifest_needs, survey, Survey};

use crate::digest::{Digest, LayerId};
use std::fmt;
use std::path::PathBuf;

/// Why the store could not be checked at all (a damaged object is a
/// [`Finding`], not an error).
#[derive(Debug, thiserror::Error)]
pub enum FsckError {
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error("{path}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// What kind of object a finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Blob,
    Layer,
    Tag,
    Container,
    Index,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Blob => "blob",
            Kind::Layer => "layer",
            Kind::Tag => "tag",
            Kind::Container => "container",
            Kind::Index => "index",
        })
    }
}

/// What is wrong with one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// A blob's bytes hash to something else.
    Content { got: Digest },
    /// A file under `blobs/sha256/` or `layers/` whose name is no digest.
    Name,
    /// A blob that something needs is not in the store.
    Missing { needed_by: String },
    /// A layer directory without `layer.json`.
    NoMeta,
    /// `layer.json` does not hash to the layer's ID.
    MetaHash { got: Digest },
    /// A store file that cannot be read or parsed; the text says why.
    Unreadable(String),
    /// A layer's parent is not in the store.
    ParentMissing(LayerId),
    /// A layer with a diff ID and no `diff/`.
    NoChangeset,
    /// The changeset (rebuilt through its tar-split) or the blob
    /// (decompressed) does not hash to the layer's diff ID.
    DiffId { got: Digest, want: Digest },
    /// The changeset cannot be rebuilt through its tar-split.
    Rebuild(String),
    /// A changeset kept with its blob: its files are not what the blob
    /// unpacks to, first at `path` (below `diff/`).
    Files { path: String },
    /// A layer with a changeset, no tar-split and no blob recorded.
    NoBlob,
    /// A tag or container whose layer is not in the store.
    LayerMissing(LayerId),
    /// The index of image IDs gives a layer another image ID than its
    /// chain generates (the first such entry).
    ImageId {
        layer: LayerId,
        got: Digest,
        want: Digest,
    },
}

impl Problem {
    /// The problem as one stable word, for records (`fsck --format
    /// json`): the variant, in snake case.
    pub fn code(&self) -> &'static str {
        match self {
            Problem::Content { .. } => "content",
            Problem::Name => "name",
            Problem::Missing { .. } => "missing",
            Problem::NoMeta => "no_meta",
            Problem::MetaHash { .. } => "meta_hash",
            Problem::Unreadable(_) => "unreadable",
            Problem::ParentMissing(_) => "parent_missing",
            Problem::NoChangeset => "no_changeset",
            Problem::DiffId { .. } => "diff_id",
            Problem::Rebuild(_) => "rebuild",
            Problem::Files { .. } => "files",
            Problem::NoBlob => "no_blob",
            Problem::LayerMissing(_) => "layer_missing",
            Problem::ImageId { .. } => "image_id",
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Content { got } => write!(f, "content hashes to {got}"),
            Problem::Name => f.write_str("its name is not a sha256 digest"),
            Problem::Missing { needed_by } => write!(f, "missing (needed by {needed_by})"),
            Problem::NoMeta => f.write_str("no layer.json"),
            Problem::MetaHash { got } => write!(f, "layer.json hashes to {got}, not to the ID"),
            Problem::Unreadable(why) => f.write_str(why),
            Problem::ParentMissing(p) => write!(f, "its parent {p} is missing"),
            Problem::NoChangeset => f.write_str("its changeset (diff/) is missing"),
            Problem::DiffId { got, want } => {
                write!(
                    f,
                    "its changeset hashes to {got}, not to its diff_id {want}"
                )
            }
            Problem::Rebuild(why) => write!(f, "its changeset cannot be rebuilt: {why}"),
            Problem::Files { path } => write!(
                f,
                "its changeset differs from what its blob unpacks to, at {path}"
            ),
            Problem::NoBlob => f.write_str("no tar-split and no blob recorded for its changeset"),
            Problem::LayerMissing(l) => write!(f, "its layer {l} is missing"),
            Problem::ImageId { layer, got, want } => write!(
                f,
                "it gives layer {layer} the image ID {got}; its chain makes {want}"
            ),
        }
    }
}

/// One damaged object: `KIND ID: PROBLEM` when printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub kind: Kind,
    /// The object's ID: a digest, a layer or container ID, a tag's name,
    /// or a file name for what has none.
    pub id: String,
    pub problem: Problem,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.kind, self.id, self.problem)
    }
}
