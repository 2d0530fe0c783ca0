//! A changeset kept with its blob (no tar-split) checked file by file: the
//! blob is unpacked again, over the same layers, into the store's `tmp/`,
//! and the two trees are compared. The unpack is deterministic (the same
//! stream over the same layers makes the same tree), so any difference is
//! damage to `diff/`.

use super::Problem;
use crate::digest::{Digest, HashingWriter};
use crate::layer::pack::Node;
use crate::layer::{self, Compression, UnpackOptions};
use std::ffi::OsStr;
use std::fs::File;
use std::io::{self, BufReader};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// Unpack the layer blob at `blob` over `lower` into the empty directory
/// `dest`.
pub(super) fn unpack_blob(blob: &Path, lower: &layer::Stack, dest: &Path) -> Result<(), Problem> {
    let failed = |why: String| Problem::Unreadable(format!("unpacking its blob again: {why}"));
    let open = |e: io::Error| failed(e.to_string());
    let mut r = BufReader::with_capacity(1 << 20, File::open(blob).map_err(open)?);
    let c = Compression::detect(&mut r).map_err(open)?;
    let input = c.decoder(r).map_err(open)?;
    let opts = UnpackOptions {
        lower: Some(lower),
        ..Default::default()
    };
    layer::unpack(input, dest, opts)
        .map(drop)
        .map_err(|e| failed(crate::error::one_line(&e)))
}

/// The first path (`.` for the root) at which the trees `a` and `b`
/// differ: in kind, mode, owner, mtime, size, device, link count, link
/// target, content or xattrs (overlayfs's own included). `None`: the same.
pub(super) fn first_difference(a: &Path, b: &Path) -> io::Result<Option<String>> {
    let (ta, tb) = (Node::open_dir(a)?, Node::open_dir(b)?);
    if line(&ta)? != line(&tb)? {
        return Ok(Some(".".into()));
    }
    walk(&ta, &tb, "")
}

fn walk(a: &Node, b: &Node, rel: &str) -> io::Result<Option<String>> {
    let (na, nb) = (a.list()?, b.list()?);
    for i in 0..na.len().max(nb.len()) {
        let (ea, eb) = (na.get(i), nb.get(i));
        let name = match (ea, eb) {
            (Some(x), Some(y)) if x.0 == y.0 => &x.0,
            // a name one has and the other lacks: the smaller
            (Some(x), Some(y)) => std::cmp::min(&x.0, &y.0),
            (Some(x), None) | (None, Some(x)) => &x.0,
            (None, None) => unreachable!("i < the longer list's length"),
        };
        let path = if rel.is_empty() {
            name.to_string_lossy().into_owned()
        } else {
            format!("{rel}/{}", name.to_string_lossy())
        };
        let (Some(ea), Some(eb)) = (ea, eb) else {
            return Ok(Some(path));
        };
        if ea.0 != eb.0 {
            return Ok(Some(path));
        }
        let x = Node::open_at(a.fd(), &ea.0, ea.1)?;
        let y = Node::open_at(b.fd(), &eb.0, eb.1)?;
        if line(&x)? != line(&y)? {
            return Ok(Some(path));
        }
        if x.meta.is_dir() {
            if let Some(d) = walk(&x, &y, &path)? {
                return Ok(Some(d));
            }
        }
    }
    Ok(None)
}

/// What is compared of one object, as a line.
fn line(n: &Node) -> io::Result<String> {
    let m = &n.meta;
    let ft = m.file_type();
    let what = if ft.is_file() {
        let mut w = HashingWriter::new(io::sink());
        io::copy(&mut n.file(), &mut w)?;
        let d: Digest = w.finish().0;
        format!("{} {d}", m.nlink())
    } else if ft.is_symlink() {
        let t = n.read_link()?;
        format!("-> {:?}", OsStr::from_bytes(t.as_bytes()))
    } else if ft.is_dir() {
        String::new()
    } else {
        format!("{} {}", m.nlink(), m.rdev())
    };
    Ok(format!(
        "{:o} {}:{} {}.{} {} {what} {:?}",
        m.mode(),
        m.uid(),
        m.gid(),
        m.mtime(),
        m.mtime_nsec(),
        if ft.is_dir() { 0 } else { m.size() },
        n.xattrs
    ))
}
