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

/// What a layer above a stack holds at a path, for
/// [`Stack::resolve_under`].
pub enum Above {
    /// Nothing: what the stack holds shows.
    Nothing,
    /// A directory: it hides whatever the stack holds there.
    Dir,
    /// Anything else (a file, a symlink, a whiteout, an opaque directory
    /// at or above the path): the walk stops.
    Stop,
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

    /// `comps` with the stack's symlinks followed, as a path lookup in the
    /// union view would follow them, but never above the root: `..` stops
    /// there and an absolute target starts from it (containerd's and
    /// docker's "follow inside the root"). Every component is followed,
    /// the last one too. `None` after more than 40 links.
    pub fn resolve(&self, comps: &[&[u8]]) -> std::io::Result<Option<Vec<Vec<u8>>>> {
        self.resolve_under(comps, |_| Above::Nothing)
    }

    /// [`Stack::resolve`] with a layer on top of the stack, which `above`
    /// describes: where it holds a directory, the stack's link there is
    /// hidden; where it holds anything else, the walk ends and the rest of
    /// `comps` is taken as it is.
    pub fn resolve_under(
        &self,
        comps: &[&[u8]],
        above: impl Fn(&[&[u8]]) -> Above,
    ) -> std::io::Result<Option<Vec<Vec<u8>>>> {
        use std::os::unix::ffi::OsStrExt;
        let mut todo: std::collections::VecDeque<Vec<u8>> =
            comps.iter().map(|c| c.to_vec()).collect();
        let mut out: Vec<Vec<u8>> = Vec::new();
        let mut links = 0;
        while let Some(c) = todo.pop_front() {
            match c.as_slice() {
                b"" | b"." => continue,
                b".." => {
                    out.pop();
                    continue;
                }
                _ => out.push(c),
            }
            let rel: Vec<&[u8]> = out.iter().map(Vec::as_slice).collect();
            match above(&rel) {
                Above::Nothing => {}
                Above::Dir => continue,
                Above::Stop => {
                    out.extend(todo);
                    return Ok(Some(out));
                }
            }
            let Some((i, m)) = self.lookup(&rel) else {
                continue;
            };
            if !m.file_type().is_symlink() {
                continue;
            }
            links += 1;
            if links > 40 {
                return Ok(None);
            }
            let target = std::fs::read_link(
                self.dirs[i].join(std::ffi::OsStr::from_bytes(&rel.join(&b'/'))),
            )?;
            let target = target.as_os_str().as_bytes();
            out.pop();
            if target.starts_with(b"/") {
                out.clear();
            }
            for t in target.split(|&b| b == b'/').rev() {
                todo.push_front(t.to_vec());
            }
        }
        Ok(Some(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strs(v: Option<Vec<Vec<u8>>>) -> Option<String> {
        v.map(|v| String::from_utf8(v.join(&b'/')).unwrap())
    }

    /// Links are followed inside the root only, through every layer, and
    /// a layer above hides or stops them.
    #[test]
    fn resolve_follows_links_inside_the_root() {
        let t = crate::testutil::TempDir::new("stack-resolve");
        let (top, low) = (t.path().join("top"), t.path().join("low"));
        std::fs::create_dir_all(low.join("usr/lib")).unwrap();
        std::fs::create_dir_all(&top).unwrap();
        for (link, to) in [
            ("lib", "usr/lib"),
            ("abs", "/usr/lib"),
            ("up", "../../.."),
            ("loop", "loop"),
        ] {
            std::os::unix::fs::symlink(to, low.join(link)).unwrap();
        }
        std::os::unix::fs::symlink("lib", top.join("via")).unwrap();
        let s = Stack::new(vec![top, low]);
        let r = |p: &str| {
            strs(
                s.resolve(&p.split('/').map(str::as_bytes).collect::<Vec<_>>())
                    .unwrap(),
            )
        };
        assert_eq!(r("lib/x").as_deref(), Some("usr/lib/x"));
        assert_eq!(r("abs/x").as_deref(), Some("usr/lib/x"));
        assert_eq!(r("up/etc").as_deref(), Some("etc"));
        assert_eq!(r("via/x").as_deref(), Some("usr/lib/x"));
        assert_eq!(r("loop/x"), None);
        let under = |p: &str, above: Above| {
            let comps: Vec<&[u8]> = p.split('/').map(str::as_bytes).collect();
            let a = std::cell::Cell::new(Some(above));
            strs(
                s.resolve_under(&comps, |_| a.take().unwrap_or(Above::Nothing))
                    .unwrap(),
            )
        };
        assert_eq!(under("lib/x", Above::Dir).as_deref(), Some("lib/x"));
        assert_eq!(under("lib/x", Above::Stop).as_deref(), Some("lib/x"));
    }
}
