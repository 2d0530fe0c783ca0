//! Why an entry of a layer tar is refused: one variant per reason, carried
//! as the source of [`super::UnpackError::Refused`], which names the entry.

use std::io;

/// An entry the unpacker will not apply, and why.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error("path climbs above the layer root with '..'")]
    DotDot,
    #[error("a path component is longer than 255 bytes")]
    LongComponent,
    #[error("path is longer than 4096 bytes")]
    LongPath,
    #[error("bad {field} in the header")]
    BadField {
        field: &'static str,
        #[source]
        source: io::Error,
    },
    #[error("{field} out of range")]
    IdOutOfRange { field: &'static str },
    #[error("owner {uid}:{gid} is outside the ids this user's namespace maps (0 to {last}): give the user a larger subordinate range in /etc/subuid and /etc/subgid")]
    Unmapped { uid: u32, gid: u32, last: u32 },
    #[error("PAX key is not UTF-8")]
    PaxKey,
    #[error("bad PAX mtime")]
    PaxMtime,
    #[error("sets overlayfs's own xattr {name}; an image may not")]
    OverlayXattr { name: String },
    #[error("unsupported entry type {kind:?}")]
    UnsupportedType { kind: tar::EntryType },
    #[error("the layer root can only be a directory")]
    RootNotDir,
    #[error("parent {parent:?} is a {kind} in the layer below; refusing to write through it")]
    ParentNotDirBelow { parent: String, kind: &'static str },
    #[error(
        "parent {parent:?} is not a directory (a symlink or file in this layer); refusing to write through it"
    )]
    ParentNotDir { parent: String },
    #[error("parent {parent:?} goes through more than 40 symlinks in the layers below")]
    SymlinkLoop { parent: String },
    #[error("whiteout without a name")]
    WhiteoutNoName,
    #[error("whiteout of '.' or '..'")]
    WhiteoutDot,
    #[error("whiteout of a whiteout")]
    WhiteoutOfWhiteout,
    #[error("whiteout of a path an earlier entry of this layer gives (or whites out)")]
    WhiteoutAndEntry,
    #[error("character device 0/0 is overlayfs's whiteout; a layer deletes with .wh. files")]
    WhiteoutDevice,
    #[error("symlink without a target")]
    SymlinkNoTarget,
    #[error("hard link without a target")]
    LinkNoTarget,
    #[error("hard link target")]
    LinkTarget(#[source] Box<Refusal>),
    #[error("hard link target {target:?} is not an earlier entry of this layer")]
    LinkNotEarlier { target: String },
    #[error("hard link to the layer root")]
    LinkToRoot,
    #[error("hard link to a directory")]
    LinkToDir,
    #[error("hard link to a whiteout")]
    LinkToWhiteout,
}
