//! Looking a path up through a stack of layer directories the way overlayfs
//! would, without mounting anything.

use super::OPAQUE_XATTR;
use crate::sys;
use std::fs::Metadata;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

/// Layer diff directories, top first.
#[derive(Debug, Clone, Default)]
pub struct Stack {
    pub dirs: Vec<PathBuf>,
}

enum At {
    /// A directory here; `true` when lower layers are hidden below it.
    Dir(PathBuf, bool),
    /// Nothing here; `blocked` when an opaque prefix hides lower layers.
    Missing { blocked: bool },
    /// A whiteout or a non-directory here hides everything below.
    Hidden,
}

/// Is this the overlayfs whiteout (a character device 0/0)?
pub fn is_whiteout(m: &Metadata) -> bool {
    m.file_type().is_char_device() && m.rdev() == 0
}

/// Does this directory carry the opaque xattr (trusted. or user.)?
pub fn is_opaque(path: &Path) -> bool {
    [OPAQUE_XATTR, "user.overlay.opaque"]
        .iter()
        .any(|k| matches!(sys::lgetxattr(path, k), Ok(Some(v)) if v == b"y"))
}

impl Stack {
    pub fn new(dirs: Vec<PathBuf>) -> Self {
        Stack { dirs }
    }

    pub fn is_empty(&self) -> bool {
        self.dirs.is_empty()
    }

    /// What layer `i` holds at `rel`, walking its prefixes like overlayfs.
    fn at(&self, i: usize, rel: &[&[u8]]) -> At {
        use std::os::unix::ffi::OsStrExt;
        let mut p = self.dirs[i].clone();
        let mut blocked = false;
        for (k, c) in rel.iter().enumerate() {
            p.push(std::ffi::OsStr::from_bytes(c));
            let m = match std::fs::symlink_metadata(&p) {
                Ok(m) => m,
                Err(_) => return At::Missing { blocked },
            };
            if is_whiteout(&m) || !m.is_dir() {
                return At::Hidden;
            }
            let opaque = is_opaque(&p);
            if k + 1 == rel.len() {
                return At::Dir(p, blocked || opaque);
            }
            blocked |= opaque;
        }
        let opaque = is_opaque(&p);
        At::Dir(p, opaque)
    }

    /// The names in directory `rel` as the union shows them (whiteouts and
    /// opaque directories applied), sorted. Empty when `rel` is not a
    /// directory of the union.
    pub fn list(&self, rel: &[&[u8]]) -> std::collections::BTreeSet<std::ffi::OsString> {
        let mut seen = std::collections::BTreeSet::new();
        let mut hidden = std::collections::BTreeSet::new();
        for i in 0..self.dirs.len() {
            match self.at(i, rel) {
                At::Hidden => break,
                At::Missing { blocked } => {
                    if blocked {
                        break;
                    }
                }
                At::Dir(p, opaque) => {
                    if let Ok(rd) = std::fs::read_dir(&p) {
                        for e in rd.flatten() {
                            let name = e.file_name();
                            if hidden.contains(&name) || seen.contains(&name) {
                                continue;
                            }
                            match e.metadata() {
                                Ok(m) if is_whiteout(&m) => {
                                    hidden.insert(name);
                                }
                                _ => {
                                    seen.insert(name);
                                }
                            }
                        }
                    }
                    if opaque {
                        break;
                    }
                }
            }
        }
        seen
    }

    /// The entry at `rel` (components relative to the root, no `.` or
    /// `..`) as the union of the stack shows it: the layer index and its
    /// lstat. Never follows a symlink: a non-directory at a prefix hides
    /// everything below it, as in overlayfs.
    pub fn lookup(&self, rel: &[&[u8]]) -> Option<(usize, Metadata)> {
        use std::os::unix::ffi::OsStrExt;
        if rel.is_empty() {
            return self
                .dirs
                .first()
                .and_then(|d| std::fs::symlink_metadata(d).ok().map(|m| (0, m)));
        }
        for (i, dir) in self.dirs.iter().enumerate() {
            let mut p = dir.clone();
            let mut blocked = false;
            for (k, comp) in rel.iter().enumerate() {
                p.push(std::ffi::OsStr::from_bytes(comp));
                let m = match std::fs::symlink_metadata(&p) {
                    Ok(m) => m,
                    Err(_) => break,
                };
                if is_whiteout(&m) {
                    return None;
                }
                if k + 1 == rel.len() {
                    return Some((i, m));
                }
                if !m.is_dir() {
                    return None;
                }
                if is_opaque(&p) {
                    blocked = true;
                }
            }
            if blocked {
                return None;
            }
        }
        None
    }
}
