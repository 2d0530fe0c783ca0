//! Layers as formats: a tar stream in, a directory in overlay form out, and
//! back. This module knows no store.
//!
//! The changeset of a layer is kept the way overlayfs wants it: a deletion is
//! a character device 0/0, an opaque directory carries the xattr
//! `trusted.overlay.opaque=y`. OCI's `.wh.` files exist only in tar streams.

pub mod chunk;
pub mod compress;
pub mod diff;
pub mod mapped;
pub mod pack;
pub mod pgzip;
pub mod refusal;
pub mod split;
pub mod stack;
pub mod stream;
pub mod unpack;

pub use compress::Compression;
pub use refusal::Refusal;
pub use stack::Stack;
pub use unpack::{unpack, unpack_chunks, UnpackError, UnpackOptions, Unpacked};

/// OCI whiteout prefix.
pub const WHITEOUT_PREFIX: &str = ".wh.";
/// OCI opaque-directory marker.
pub const OPAQUE_MARKER: &str = ".wh..wh..opq";
/// The xattr overlayfs reads to make a directory opaque.
pub const OPAQUE_XATTR: &str = "trusted.overlay.opaque";

/// The opaque xattr this process writes: `trusted.*` in a root store,
/// `user.*` in a rootless one (only the host's root may write `trusted.*`;
/// there overlayfs is mounted with `userxattr` and reads `user.overlay.*`).
pub fn opaque_xattr() -> &'static str {
    if crate::userns::rootless() {
        "user.overlay.opaque"
    } else {
        OPAQUE_XATTR
    }
}

/// Read until `buf` is full or the reader ends; returns the bytes read.
pub(crate) fn fill(
    r: &mut (impl std::io::Read + ?Sized),
    buf: &mut [u8],
) -> std::io::Result<usize> {
    let mut have = 0;
    while have < buf.len() {
        match r.read(&mut buf[have..]) {
            Ok(0) => break,
            Ok(n) => have += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(have)
}
