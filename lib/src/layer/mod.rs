//! Layers as formats: a tar stream in, a directory in overlay form out, and
//! back. This module knows no store.
//!
//! The changeset of a layer is kept the way overlayfs wants it: a deletion is
//! a character device 0/0, an opaque directory carries the xattr
//! `trusted.overlay.opaque=y`. OCI's `.wh.` files exist only in tar streams.

pub mod compress;
pub mod diff;
pub mod pack;
pub mod split;
pub mod stack;
pub mod stream;
pub mod unpack;

pub use compress::Compression;
pub use stack::Stack;
pub use unpack::{unpack, UnpackError, UnpackOptions, Unpacked};

/// OCI whiteout prefix.
pub const WHITEOUT_PREFIX: &str = ".wh.";
/// OCI opaque-directory marker.
pub const OPAQUE_MARKER: &str = ".wh..wh..opq";
/// The xattr overlayfs reads to make a directory opaque.
pub const OPAQUE_XATTR: &str = "trusted.overlay.opaque";
