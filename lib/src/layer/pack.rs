//! directory → tar: a deterministic layer tar writer.
//!
//! Headers are built explicitly from `lstat` (never
//! `HeaderMode::Deterministic`, which would destroy owners and modes):
//! numeric uid/gid and no user names, permission bits and set-id bits,
//! mtimes in whole seconds clamped to `SOURCE_DATE_EPOCH` when given,
//! device numbers, symlink targets, hard links as links to the first name
//! written, xattrs as `SCHILY.xattr.*` PAX records (overlayfs's own
//! `*.overlay.*` xattrs never leave the host). Long names use GNU records.
//! Whiteouts are empty regular files with mtime 0.

use crate::sys;
use std::collections::HashMap;
use std::fs::{File, Metadata};
use std::io::{self, Write};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;
use tar::{EntryType, Header};

/// How to write.
#[derive(Debug, Clone, Copy, Default)]
pub struct PackOptions {
    /// Clamp every mtime to this (SOURCE_DATE_EPOCH), as `tar --clamp-mtime`.
    pub clamp_mtime: Option<i64>,
}

/// Writes entries into a tar stream.
pub struct Packer<W: Write> {
    builder: tar::Builder<W>,
    links: HashMap<(u64, u64), String>,
    opts: PackOptions,
    entries: u64,
}

/// The xattrs of a path that belong in a layer (not overlayfs's own),
/// sorted by name.
pub fn layer_xattrs(path: &Path) -> io::Result<Vec<(String, Vec<u8>)>> {
    let mut out = Vec::new();
    for name in sys::llistxattr(path)? {
        if name.starts_with("trusted.overlay.") || name.starts_with("user.overlay.") {
            continue;
        }
        if let Some(v) = sys::lgetxattr(path, &name)? {
            out.push((name, v));
        }
    }
    out.sort();
    Ok(out)
}

impl<W: Write> Packer<W> {
    pub fn new(w: W, opts: PackOptions) -> Packer<W> {
        let mut builder = tar::Builder::new(w);
        builder.follow_symlinks(false);
        Packer {
            builder,
            links: HashMap::new(),
            opts,
            entries: 0,
        }
    }

    pub fn entries(&self) -> u64 {
        self.entries
    }

    fn mtime(&self, m: &Metadata) -> u64 {
        let t = m.mtime();
        let t = match self.opts.clamp_mtime {
            Some(c) if t > c => c,
            _ => t,
        };
        t.max(0) as u64
    }

    fn base_header(&self, kind: EntryType, m: &Metadata) -> Header {
        let mut h = Header::new_gnu();
        h.set_entry_type(kind);
        h.set_mode(m.mode() & 0o7777);
        h.set_uid(m.uid() as u64);
        h.set_gid(m.gid() as u64);
        h.set_mtime(self.mtime(m));
        h.set_size(0);
        h
    }

    /// Add the file-system object at `path` under the tar name `name`
    /// (relative, no leading `/`; directories get a trailing `/`).
    pub fn add(&mut self, path: &Path, name: &str) -> io::Result<()> {
        let m = std::fs::symlink_metadata(path)?;
        let ft = m.file_type();
        let xattrs = layer_xattrs(path)?;
        if !xattrs.is_empty() {
            let recs: Vec<(String, Vec<u8>)> = xattrs
                .into_iter()
                .map(|(k, v)| (format!("SCHILY.xattr.{k}"), v))
                .collect();
            self.builder
                .append_pax_extensions(recs.iter().map(|(k, v)| (k.as_str(), v.as_slice())))?;
        }
        self.entries += 1;
        if ft.is_dir() {
            let mut h = self.base_header(EntryType::Directory, &m);
            let dir_name = if name.ends_with('/') {
                name.to_string()
            } else {
                format!("{name}/")
            };
            return self.builder.append_data(&mut h, dir_name, io::empty());
        }
        if !ft.is_dir() && m.nlink() > 1 {
            let key = (m.dev(), m.ino());
            if let Some(first) = self.links.get(&key) {
                let mut h = self.base_header(EntryType::Link, &m);
                let first = first.clone();
                return self.builder.append_link(&mut h, name, first);
            }
            self.links.insert(key, name.to_string());
        }
        if ft.is_file() {
            let mut h = self.base_header(EntryType::Regular, &m);
            h.set_size(m.len());
            let f = File::open(path)?;
            return self.builder.append_data(&mut h, name, f);
        }
        if ft.is_symlink() {
            let mut h = self.base_header(EntryType::Symlink, &m);
            let target = std::fs::read_link(path)?;
            return self.builder.append_link(&mut h, name, target);
        }
        let kind = if ft.is_char_device() {
            EntryType::Char
        } else if ft.is_block_device() {
            EntryType::Block
        } else if ft.is_fifo() {
            EntryType::Fifo
        } else {
            // sockets do not belong in a layer
            self.entries -= 1;
            return Ok(());
        };
        let mut h = self.base_header(kind, &m);
        if kind != EntryType::Fifo {
            h.set_device_major(libc::major(m.rdev()))?;
            h.set_device_minor(libc::minor(m.rdev()))?;
        }
        self.builder.append_data(&mut h, name, io::empty())
    }

    /// An OCI whiteout for `dir/victim`: `dir/.wh.victim`.
    pub fn whiteout(&mut self, dir: &str, victim: &str) -> io::Result<()> {
        let name = if dir.is_empty() {
            format!("{}{victim}", super::WHITEOUT_PREFIX)
        } else {
            format!("{dir}/{}{victim}", super::WHITEOUT_PREFIX)
        };
        let mut h = Header::new_gnu();
        h.set_entry_type(EntryType::Regular);
        h.set_mode(0o600);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(0);
        h.set_size(0);
        self.entries += 1;
        self.builder.append_data(&mut h, name, io::empty())
    }

    /// Write the end-of-archive marker and return the writer.
    pub fn finish(self) -> io::Result<W> {
        self.builder.into_inner()
    }
}

/// Write the whole tree at `root` (sorted by name, `root` itself as `./`
/// not included) into `w`.
pub fn pack_tree<W: Write>(root: &Path, w: W, opts: PackOptions) -> io::Result<W> {
    let mut p = Packer::new(w, opts);
    walk(root, root, &mut p)?;
    p.finish()
}

fn walk<W: Write>(root: &Path, dir: &Path, p: &mut Packer<W>) -> io::Result<()> {
    let mut names: Vec<_> = std::fs::read_dir(dir)?
        .map(|e| e.map(|e| e.file_name()))
        .collect::<Result<_, _>>()?;
    names.sort();
    for n in names {
        let path = dir.join(&n);
        let rel = path
            .strip_prefix(root)
            .expect("under root")
            .to_string_lossy()
            .into_owned();
        let m = std::fs::symlink_metadata(&path)?;
        p.add(&path, &rel)?;
        if m.is_dir() {
            walk(root, &path, p)?;
        }
    }
    Ok(())
}
