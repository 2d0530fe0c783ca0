//! The store: a directory that is at once a valid OCI image layout and the
//! home of cairn's layers and containers.
//!
//! docs/store.md describes every file in it and the rules every writer
//! keeps. In short: every write is staged under `tmp/`, verified, fsynced
//! and renamed into place with `RENAME_NOREPLACE`; a lost race means the
//! other writer's identical result is kept. Every command holds a shared
//! lock on `lock`; producing a given layer or editing `index.json` holds an
//! exclusive lock on its own file under `locks/`.

pub mod container;
pub mod ingest;
pub mod meta;
pub mod refs;
pub mod schema;

use crate::digest::{Digest, LayerId};
use meta::{LayerInfo, LayerMeta, RemoteManifest};

/// How many registry manifests a layer's `info.json` remembers.
pub const MAX_REMOTE: usize = 16;
use nix::fcntl::{renameat2, Flock, FlockArg, RenameFlags};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

pub use meta::BlobRef;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path}")]
    Io { path: PathBuf, source: io::Error },
    #[error("no such image or layer: {0}")]
    NotFound(String),
    #[error("no such container: {0}")]
    NoContainer(String),
    #[error("{name:?} is ambiguous: it matches {count} layers; give more of the ID")]
    Ambiguous { name: String, count: usize },
    #[error("layer {0}: layer.json does not hash to its ID; the store is corrupt")]
    Corrupt(LayerId),
    /// A file of the store that is not the JSON it should be.
    #[error("{path} is not valid JSON")]
    Json {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    /// `index.json` without its `manifests` array.
    #[error("{0}: no manifests array; the store's index is damaged")]
    BadIndex(PathBuf),
    #[error("blob {0} does not match its digest; the store is corrupt")]
    CorruptBlob(Digest),
    #[error("layer {layer}: its blob {blob} is missing and there is no tar-split to rebuild it from; the store is damaged (remove the layer and unpack it again)")]
    BlobMissing { layer: LayerId, blob: Digest },
    #[error("layer {layer}: cannot rebuild its blob")]
    Rebuild {
        layer: LayerId,
        #[source]
        source: crate::layer::split::SplitError,
    },
    #[error(transparent)]
    ChangesetChanged(Box<ChangesetChanged>),
    #[error("layer {0}: parent chain too long (a cycle?)")]
    ChainTooLong(LayerId),
    #[error("invalid container name {0:?}: use letters, digits, '_', '.' and '-'")]
    BadName(String),
    #[error("the container name {0:?} is already in use")]
    NameInUse(String),
    /// A layer with a changeset whose blob the store has no record of.
    #[error("layer {0}: no changeset blob recorded; the store is damaged (remove the layer and unpack it again)")]
    NoBlob(LayerId),
    /// An image asked of an empty chain of layers.
    #[error("an image needs at least one layer")]
    EmptyChain,
}

/// A layer's files no longer rebuild the tar they were unpacked from.
#[derive(Debug, thiserror::Error)]
#[error("layer {layer}: its changeset no longer rebuilds the tar it was unpacked from ({got}, {got_size} bytes, instead of {want}, {want_size} bytes); the files under {diff} were changed: remove the layer and unpack it again", diff = diff.display())]
pub struct ChangesetChanged {
    pub layer: LayerId,
    pub got: Digest,
    pub got_size: u64,
    pub want: Digest,
    pub want_size: u64,
    pub diff: PathBuf,
}

impl StoreError {
    /// A JSON parse error of the store file `path`.
    pub fn json(path: &Path) -> impl FnOnce(serde_json::Error) -> StoreError + '_ {
        move |source| StoreError::Json {
            path: path.to_path_buf(),
            source,
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Attach a path to an io error.
pub trait IoContext<T> {
    fn at(self, path: &Path) -> Result<T>;
}

impl<T, E: Into<io::Error>> IoContext<T> for std::result::Result<T, E> {
    fn at(self, path: &Path) -> Result<T> {
        self.map_err(|e| StoreError::Io {
            path: path.to_path_buf(),
            source: e.into(),
        })
    }
}

/// An open store. Holds a shared lock on the store for its lifetime.
pub struct Store {
    root: PathBuf,
    _lock: Flock<File>,
}

/// A staging directory under `tmp/`, removed on drop unless published.
pub struct Staging {
    path: Option<PathBuf>,
}

impl Staging {
    pub fn path(&self) -> &Path {
        self.path.as_deref().expect("staging used after publish")
    }
    fn disarm(&mut self) -> PathBuf {
        self.path.take().expect("staging published twice")
    }
    /// Create the new file `name` (mode 0644) in the staging directory.
    pub fn create_file(&self, name: &str) -> Result<(PathBuf, File)> {
        let p = self.path().join(name);
        let f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o644)
            .open(&p)
            .at(&p)?;
        Ok((p, f))
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if let Some(p) = self.path.take() {
            let _ = fs::remove_dir_all(&p).or_else(|_| fs::remove_file(&p));
        }
    }
}

/// 16 random hex digits.
pub fn random_hex() -> String {
    let mut b = [0u8; 8];
    if File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut b))
        .is_err()
    {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        b = (t.as_nanos() as u64 ^ (std::process::id() as u64) << 32).to_le_bytes();
    }
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn mkdir_private(p: &Path) -> Result<()> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(p)
        .at(p)
}

/// Take an exclusive flock on `path` (created if missing), held until the
/// returned guard drops.
pub fn lock_file(path: &Path) -> Result<Flock<File>> {
    let f = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(path)
        .at(path)?;
    Flock::lock(f, FlockArg::LockExclusive)
        .map_err(|(_, e)| e)
        .at(path)
}

/// Write `data` to `path` atomically: a temp file beside it, fsync, rename.
pub fn write_atomic(path: &Path, data: &[u8]) -> Result<()> {
    replace_file(path, data, true)
}

/// Replace `path` with `data` by rename, so readers see the old or the new
/// bytes, never a mix; `durable` also fsyncs the file and its directory.
pub fn replace_file(path: &Path, data: &[u8], durable: bool) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.tmp-{}-{}",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("f"),
        std::process::id(),
        random_hex()
    ));
    let res = (|| -> io::Result<()> {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o644)
            .open(&tmp)?;
        f.write_all(data)?;
        if durable {
            f.sync_all()?;
        }
        fs::rename(&tmp, path)?;
        if durable {
            File::open(dir)?.sync_all()?;
        }
        Ok(())
    })();
    if res.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    res.at(path)
}

/// Whether the process `pid` (a decimal string) is gone.
fn pid_gone(pid: &str) -> bool {
    pid.parse::<u32>()
        .is_ok_and(|p| !Path::new(&format!("/proc/{p}")).exists())
}

impl Store {
    /// The default root: `/var/lib/cairn` for root,
    /// `${XDG_DATA_HOME:-$HOME/.local/share}/cairn` for an ordinary user
    /// (also once inside its rootless namespace, where it is root).
    pub fn default_root() -> PathBuf {
        if !crate::userns::rootless() {
            return PathBuf::from("/var/lib/cairn");
        }
        match std::env::var_os("XDG_DATA_HOME").filter(|v| !v.is_empty()) {
            Some(x) => PathBuf::from(x).join("cairn"),
            None => PathBuf::from(std::env::var_os("HOME").unwrap_or_else(|| "/".into()))
                .join(".local/share/cairn"),
        }
    }

    /// Open the store at `root`, creating an empty one if needed.
    pub fn open(root: &Path) -> Result<Store> {
        for sub in [
            "blobs/sha256",
            "layers",
            "containers",
            "tmp",
            "locks",
            "trash",
        ] {
            mkdir_private(&root.join(sub))?;
        }
        let lock_path = root.join("lock");
        let f = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(&lock_path)
            .at(&lock_path)?;
        let lock = Flock::lock(f, FlockArg::LockShared)
            .map_err(|(_, e)| e)
            .at(&lock_path)?;
        let store = Store {
            root: root.to_path_buf(),
            _lock: lock,
        };
        store.purge_stale();
        // The lock files exist from the start, so no operation (a failed
        // one included) adds files to the store just by locking.
        for name in ["layers", "index", "containers", "volumes", "image-ids"] {
            let p = root.join("locks").join(format!("{name}.lock"));
            if !p.exists() {
                drop(lock_file(&p)?);
            }
        }
        let layout = root.join("oci-layout");
        if !layout.exists() {
            write_atomic(&layout, br#"{"imageLayoutVersion":"1.0.0"}"#)?;
        }
        if !root.join("index.json").exists() {
            let _l = store.lock_exclusive("index")?;
            if !root.join("index.json").exists() {
                refs::write_index(&store, &refs::empty_index())?;
            }
        }
        Ok(store)
    }

    /// Remove what crashed writers left behind: everything in `trash/`,
    /// staging entries in `tmp/` (`WHAT-PID-HEX`) and the root's atomic
    /// replacements (`.index.json.tmp-PID-HEX`) whose writer is gone.
    /// Best effort: errors are ignored.
    fn purge_stale(&self) {
        let remove = |p: &Path| {
            let _ = fs::remove_dir_all(p).or_else(|_| fs::remove_file(p));
        };
        if let Ok(rd) = fs::read_dir(self.root.join("trash")) {
            for e in rd.flatten() {
                remove(&e.path());
            }
        }
        let sweep = |dir: &Path, writer: fn(&str) -> Option<&str>| {
            for e in fs::read_dir(dir).into_iter().flatten().flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if writer(&name).is_some_and(pid_gone) {
                    remove(&e.path());
                }
            }
        };
        sweep(&self.root.join("tmp"), |n| n.split('-').nth(1));
        sweep(&self.root, |n| {
            n.starts_with('.')
                .then(|| n.split_once(".tmp-"))
                .flatten()
                .and_then(|(_, rest)| rest.split('-').next())
        });
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Take an exclusive lock named `name` (under `locks/`), held until the
    /// returned guard drops.
    pub fn lock_exclusive(&self, name: &str) -> Result<Flock<File>> {
        lock_file(&self.root.join("locks").join(format!("{name}.lock")))
    }

    /// A fresh staging directory under `tmp/`.
    pub fn stage(&self, what: &str) -> Result<Staging> {
        let p =
            self.root
                .join("tmp")
                .join(format!("{what}-{}-{}", std::process::id(), random_hex()));
        fs::DirBuilder::new().mode(0o700).create(&p).at(&p)?;
        Ok(Staging { path: Some(p) })
    }

    pub fn blob_path(&self, d: &Digest) -> PathBuf {
        self.root.join("blobs/sha256").join(d.hex())
    }

    pub fn has_blob(&self, d: &Digest) -> bool {
        self.blob_path(d).is_file()
    }

    pub fn read_blob(&self, d: &Digest) -> Result<Vec<u8>> {
        let p = self.blob_path(d);
        let data = fs::read(&p).at(&p)?;
        if Digest::of(&data) != *d {
            return Err(StoreError::CorruptBlob(*d));
        }
        Ok(data)
    }

    /// Move a staged, already verified file into `blobs/` as `digest`.
    pub fn publish_blob_file(&self, staged: &Path, digest: &Digest) -> Result<()> {
        File::open(staged).and_then(|f| f.sync_all()).at(staged)?;
        let dest = self.blob_path(digest);
        match renameat2(
            nix::fcntl::AT_FDCWD,
            staged,
            nix::fcntl::AT_FDCWD,
            &dest,
            RenameFlags::RENAME_NOREPLACE,
        ) {
            Ok(()) => {
                let dir = dest.parent().expect("blob has a parent");
                File::open(dir).and_then(|f| f.sync_all()).at(dir)
            }
            Err(nix::errno::Errno::EEXIST) => fs::remove_file(staged).at(staged),
            Err(e) => Err(e).at(&dest),
        }
    }

    /// The blob of a layer's changeset and its path. A layer unpacked with
    /// a tar-split has none stored until an image needs it: it is then
    /// rebuilt from the split and the changeset, checked against the
    /// recorded digest, and kept. `None` for a layer without a changeset.
    pub fn layer_blob(&self, id: &LayerId) -> Result<Option<(BlobRef, PathBuf)>> {
        let Some(blob) = self.layer_info(id)?.blob else {
            return Ok(None);
        };
        let path = self.blob_path(&blob.digest);
        if path.is_file() {
            return Ok(Some((blob, path)));
        }
        let split = self.layer_dir(id).join(crate::layer::split::FILE_NAME);
        if !split.is_file() {
            return Err(StoreError::BlobMissing {
                layer: *id,
                blob: blob.digest,
            });
        }
        let staging = self.stage("blob")?;
        let (staged, f) = staging.create_file("blob")?;
        let mut out = crate::digest::HashingWriter::new(io::BufWriter::with_capacity(1 << 20, f));
        crate::layer::split::reassemble(&self.diff_dir(id), &split, &mut out)
            .map_err(|source| StoreError::Rebuild { layer: *id, source })?;
        let (digest, len, w) = out.finish();
        w.into_inner().map_err(|e| e.into_error()).at(&staged)?;
        if digest != blob.digest || len != blob.size {
            return Err(StoreError::ChangesetChanged(Box::new(ChangesetChanged {
                layer: *id,
                got: digest,
                got_size: len,
                want: blob.digest,
                want_size: blob.size,
                diff: self.diff_dir(id),
            })));
        }
        self.publish_blob_file(&staged, &digest)?;
        Ok(Some((blob, path)))
    }

    /// Store `data` as a blob; returns its digest.
    pub fn put_blob(&self, data: &[u8]) -> Result<Digest> {
        let d = Digest::of(data);
        if self.has_blob(&d) {
            return Ok(d);
        }
        let staging = self.stage("blob")?;
        let p = staging.path().join("blob");
        fs::write(&p, data).at(&p)?;
        self.publish_blob_file(&p, &d)?;
        Ok(d)
    }

    pub fn layer_dir(&self, id: &LayerId) -> PathBuf {
        self.root.join("layers").join(id.hex())
    }

    /// The changeset directory of a layer (absent for empty layers).
    pub fn diff_dir(&self, id: &LayerId) -> PathBuf {
        self.layer_dir(id).join("diff")
    }

    pub fn has_layer(&self, id: &LayerId) -> bool {
        self.layer_dir(id).join("layer.json").is_file()
    }

    /// The metadata of a layer, verified against its ID.
    pub fn layer(&self, id: &LayerId) -> Result<LayerMeta> {
        let p = self.layer_dir(id).join("layer.json");
        let data = match fs::read(&p) {
            Ok(d) => d,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(StoreError::NotFound(id.to_string()))
            }
            Err(e) => return Err(e).at(&p),
        };
        if Digest::of(&data) != id.0 {
            return Err(StoreError::Corrupt(*id));
        }
        serde_json::from_slice(&data).map_err(StoreError::json(&p))
    }

    pub fn layer_info(&self, id: &LayerId) -> Result<LayerInfo> {
        let p = self.layer_dir(id).join("info.json");
        match fs::read(&p) {
            Ok(d) => serde_json::from_slice(&d).map_err(StoreError::json(&p)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(LayerInfo::default()),
            Err(e) => Err(e).at(&p),
        }
    }

    /// Remember that registry manifest `r` (a blob of the store already)
    /// names the image whose top is `id`: the last [`MAX_REMOTE`] such,
    /// each once, newest last. `info.json` is replaced atomically.
    pub fn note_remote(&self, id: &LayerId, r: RemoteManifest) -> Result<()> {
        let _l = self.lock_exclusive("info")?;
        let mut info = self.layer_info(id)?;
        info.remote.retain(|x| *x != r);
        info.remote.push(r);
        let over = info.remote.len().saturating_sub(MAX_REMOTE);
        info.remote.drain(..over);
        let p = self.layer_dir(id).join("info.json");
        write_atomic(&p, &serde_json::to_vec(&info).expect("info serialises"))
    }

    /// The layer and its ancestors, top first.
    pub fn chain(&self, top: &LayerId) -> Result<Vec<(LayerId, LayerMeta)>> {
        let mut out = Vec::new();
        let mut cur = Some(*top);
        while let Some(id) = cur {
            let m = self.layer(&id)?;
            cur = m.parent;
            out.push((id, m));
            if out.len() > 100_000 {
                return Err(StoreError::ChainTooLong(*top));
            }
        }
        Ok(out)
    }

    /// The diff directories of a layer's stack, top first (empty layers
    /// have none).
    pub fn stack(&self, top: &LayerId) -> Result<crate::layer::Stack> {
        Ok(crate::layer::Stack::new(
            self.chain(top)?
                .iter()
                .filter(|(_, m)| !m.is_empty_layer())
                .map(|(id, _)| self.diff_dir(id))
                .collect(),
        ))
    }

    /// Every layer in the store.
    pub fn layers(&self) -> Result<Vec<LayerId>> {
        let dir = self.root.join("layers");
        let mut out = Vec::new();
        for e in fs::read_dir(&dir).at(&dir)? {
            let e = e.at(&dir)?;
            if let Some(id) = e
                .file_name()
                .to_str()
                .and_then(|n| Digest::from_hex(n).ok())
            {
                out.push(LayerId(id));
            }
        }
        out.sort();
        Ok(out)
    }

    /// The layers among `layers` that some layer of `layers` stands on
    /// (the others are leaves: an untagged one is a dangling image). A
    /// layer whose metadata cannot be read stands on nothing.
    pub fn parents_among(&self, layers: &[LayerId]) -> std::collections::BTreeSet<LayerId> {
        layers
            .iter()
            .filter_map(|id| self.layer(id).ok()?.parent)
            .collect()
    }

    /// Publish a staged layer: `staging` may hold `diff/`; `layer.json` and
    /// `info.json` are written here. Idempotent: when the layer exists
    /// already, the staging is dropped and the existing ID returned.
    pub fn publish_layer(
        &self,
        mut staging: Staging,
        meta: &LayerMeta,
        info: &LayerInfo,
    ) -> Result<LayerId> {
        if let Some(parent) = &meta.parent {
            if !self.has_layer(parent) {
                return Err(StoreError::NotFound(parent.to_string()));
            }
        }
        let id = meta.id();
        let sp = staging.path().to_path_buf();
        fs::write(sp.join("layer.json"), meta.canonical()).at(&sp)?;
        fs::write(
            sp.join("info.json"),
            serde_json::to_vec(info).expect("info serialises"),
        )
        .at(&sp)?;
        let fd = File::open(&sp).at(&sp)?;
        nix::unistd::syncfs(&fd).at(&sp)?;
        // One lock for every layer publish: the critical section is a check
        // and a rename, and a lock file per layer would stay behind.
        let _l = self.lock_exclusive("layers")?;
        let dest = self.layer_dir(&id);
        if self.has_layer(&id) {
            self.layer(&id)?; // verifies the existing one
            return Ok(id);
        }
        if dest.exists() {
            // A half-removed layer (no layer.json): move it out of the way.
            self.trash(&dest)?;
        }
        let src = staging.disarm();
        if let Err(e) = renameat2(
            nix::fcntl::AT_FDCWD,
            &src,
            nix::fcntl::AT_FDCWD,
            &dest,
            RenameFlags::RENAME_NOREPLACE,
        ) {
            let _ = fs::remove_dir_all(&src);
            return Err(e).at(&dest);
        }
        let parent = dest.parent().expect("layer dir has a parent");
        File::open(parent).and_then(|f| f.sync_all()).at(parent)?;
        Ok(id)
    }

    /// Bytes of disk that the tree at `path` takes (allocated blocks, each
    /// file counted once however many links it has), on its own file
    /// system only (a mounted view below it is not counted), never
    /// following a symlink. What cannot be read counts as nothing.
    pub fn disk_usage(path: &Path) -> u64 {
        use std::os::unix::fs::MetadataExt;
        let Ok(top) = fs::symlink_metadata(path) else {
            return 0;
        };
        let mut seen = std::collections::HashSet::new();
        let mut total = top.blocks() * 512;
        let mut dirs = if top.is_dir() {
            vec![path.to_path_buf()]
        } else {
            Vec::new()
        };
        while let Some(d) = dirs.pop() {
            for e in fs::read_dir(&d).into_iter().flatten().flatten() {
                let Ok(m) = e.metadata() else { continue };
                if m.dev() != top.dev() || (m.nlink() > 1 && !seen.insert(m.ino())) {
                    continue;
                }
                total += m.blocks() * 512;
                if m.is_dir() {
                    dirs.push(e.path());
                }
            }
        }
        total
    }

    /// Delete a directory by renaming it into `trash/` first, so a
    /// crash never leaves a half-deleted published path.
    ///
    /// Once renamed the deletion has happened: a tree that cannot be
    /// removed at once (a process that was still finishing in it, say) is
    /// retried briefly, then left in `trash/` for the next open of the
    /// store to purge, and that is no error.
    pub fn trash(&self, path: &Path) -> Result<()> {
        let t = self.root.join("trash").join(random_hex());
        fs::rename(path, &t).at(path)?;
        for delay in [0, 10, 50, 200] {
            std::thread::sleep(std::time::Duration::from_millis(delay));
            if fs::remove_dir_all(&t).is_ok() || !t.exists() {
                break;
            }
        }
        Ok(())
    }

    /// Find the layer a person means: a full ID, a tag, or a unique hex
    /// prefix (at least 4 digits, `sha256:` optional).
    pub fn resolve(&self, name: &str) -> Result<LayerId> {
        if let Ok(d) = name.parse::<Digest>() {
            let id = LayerId(d);
            return if self.has_layer(&id) {
                Ok(id)
            } else {
                Err(StoreError::NotFound(name.to_string()))
            };
        }
        if let Ok(r) = crate::reference::Reference::parse(name) {
            if let Some(found) = refs::find(self, &r.familiar())? {
                return Ok(found.layer);
            }
        }
        let hex = name.strip_prefix("sha256:").unwrap_or(name);
        if hex.len() >= 4
            && hex.len() <= 64
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            let matches: Vec<LayerId> = self
                .layers()?
                .into_iter()
                .filter(|id| id.hex().starts_with(hex))
                .collect();
            return match matches.len() {
                1 => Ok(matches[0]),
                0 => Err(StoreError::NotFound(name.to_string())),
                n => Err(StoreError::Ambiguous {
                    name: name.to_string(),
                    count: n,
                }),
            };
        }
        Err(StoreError::NotFound(name.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reference::Reference;
    use crate::store::ingest::empty_layer;
    use crate::testutil::{self, store};

    /// `n` distinct empty layers.
    fn layers(s: &Store, n: usize) -> Vec<LayerId> {
        (0..n)
            .map(|i| {
                empty_layer(
                    s,
                    LayerMeta {
                        created_by: Some(format!("step {i}")),
                        ..Default::default()
                    },
                )
                .unwrap()
            })
            .collect()
    }

    #[test]
    fn opening_makes_an_oci_layout_and_is_idempotent() {
        let (d, s) = store("open");
        let root = s.root().to_path_buf();
        assert_eq!(
            fs::read(root.join("oci-layout")).unwrap(),
            br#"{"imageLayoutVersion":"1.0.0"}"#
        );
        assert_eq!(refs::read_index(&s).unwrap(), refs::empty_index());
        drop(s);
        let s = Store::open(&root).unwrap();
        assert!(s.layers().unwrap().is_empty());
        drop(d);
    }

    #[test]
    fn resolves_full_ids_with_or_without_the_algorithm() {
        let (_d, s) = store("resolve-full");
        let ids = layers(&s, 2);
        for id in &ids {
            assert_eq!(s.resolve(&id.to_string()).unwrap(), *id);
            assert_eq!(s.resolve(&id.hex()).unwrap(), *id);
        }
        // a well-formed ID that is not in the store
        let missing = Digest::of(b"nothing").to_string();
        assert!(matches!(s.resolve(&missing), Err(StoreError::NotFound(n)) if n == missing));
    }

    #[test]
    fn resolves_unique_prefixes_of_four_digits_or_more() {
        let (_d, s) = store("resolve-prefix");
        let ids = layers(&s, 40);
        let id = ids[0];
        for len in [4, 12, 63] {
            let unique = ids
                .iter()
                .filter(|o| o.hex()[..len] == id.hex()[..len])
                .count()
                == 1;
            if unique {
                assert_eq!(s.resolve(&id.hex()[..len]).unwrap(), id);
                assert_eq!(
                    s.resolve(&format!("sha256:{}", &id.hex()[..len])).unwrap(),
                    id
                );
            }
        }
        // too short to be taken as a prefix
        assert!(matches!(
            s.resolve(&id.hex()[..3]),
            Err(StoreError::NotFound(_))
        ));
        // not hex: never a prefix
        assert!(matches!(s.resolve("zzzz"), Err(StoreError::NotFound(_))));
        assert!(matches!(
            s.resolve(&id.hex()[..8].to_uppercase()),
            Err(StoreError::NotFound(_))
        ));
    }

    #[test]
    fn a_shared_prefix_is_ambiguous_and_says_how_many() {
        let (_d, s) = store("resolve-ambiguous");
        let first = layers(&s, 1)[0];
        let prefix = first.hex()[..4].to_string();
        // another layer whose ID starts with the same four digits
        let twin = (0u64..)
            .map(|i| LayerMeta {
                created_by: Some(format!("twin {i}")),
                ..Default::default()
            })
            .find(|m| m.id().hex().starts_with(&prefix))
            .unwrap();
        let twin = empty_layer(&s, twin).unwrap();
        let e = s.resolve(&prefix).unwrap_err();
        assert!(
            matches!(&e, StoreError::Ambiguous { name, count: 2 } if *name == prefix),
            "{e}"
        );
        assert!(e.to_string().contains("give more of the ID"), "{e}");
        // one more digit tells them apart (unless they share it too)
        for id in [first, twin] {
            let n = (5..64)
                .find(|&n| first.hex()[..n] != twin.hex()[..n])
                .unwrap();
            assert_eq!(s.resolve(&id.hex()[..n]).unwrap(), id);
        }
    }

    #[test]
    fn a_tag_wins_over_a_prefix_and_names_are_familiar() {
        let (_d, s) = store("resolve-tag");
        let (top, _) = testutil::layer(&s, None, &testutil::tar_of(&[("a", b"1")]));
        crate::image::config::tag(&s, &Reference::parse("busybox").unwrap(), &top).unwrap();
        for name in [
            "busybox",
            "busybox:latest",
            "docker.io/library/busybox",
            "docker.io/library/busybox:latest",
        ] {
            assert_eq!(s.resolve(name).unwrap(), top, "{name}");
        }
        assert!(matches!(
            s.resolve("busybox:1.36"),
            Err(StoreError::NotFound(_))
        ));
        // a tag that looks like hex is a tag first
        let other = layers(&s, 1)[0];
        let prefix = &top.hex()[..6];
        crate::image::config::tag(&s, &Reference::parse(prefix).unwrap(), &other).unwrap();
        assert_eq!(s.resolve(prefix).unwrap(), other);
    }

    #[test]
    fn chain_is_top_first_and_layer_json_is_verified() {
        let (_d, s) = store("chain");
        let (a, _) = testutil::layer(&s, None, &testutil::tar_of(&[("a", b"1")]));
        let (b, _) = testutil::layer(&s, Some(a), &testutil::tar_of(&[("b", b"2")]));
        let chain: Vec<LayerId> = s.chain(&b).unwrap().into_iter().map(|(id, _)| id).collect();
        assert_eq!(chain, vec![b, a]);
        // a layer.json edited behind the store's back is corrupt, not trusted
        let p = s.layer_dir(&a).join("layer.json");
        let mut data = fs::read(&p).unwrap();
        data.push(b' ');
        fs::write(&p, data).unwrap();
        assert!(matches!(s.layer(&a), Err(StoreError::Corrupt(id)) if id == a));
        assert!(matches!(s.chain(&b), Err(StoreError::Corrupt(_))));
    }

    #[test]
    fn publishing_a_layer_twice_keeps_one_and_a_missing_parent_is_refused() {
        let (_d, s) = store("publish");
        let meta = LayerMeta {
            created_by: Some("x".into()),
            ..Default::default()
        };
        let a = empty_layer(&s, meta.clone()).unwrap();
        assert_eq!(empty_layer(&s, meta).unwrap(), a);
        assert_eq!(s.layers().unwrap(), vec![a]);
        let orphan = LayerMeta {
            parent: Some(LayerId(Digest::of(b"no such parent"))),
            ..Default::default()
        };
        assert!(matches!(
            empty_layer(&s, orphan),
            Err(StoreError::NotFound(_))
        ));
        // nothing left in tmp/
        assert_eq!(fs::read_dir(s.root().join("tmp")).unwrap().count(), 0);
    }

    #[test]
    fn blobs_are_checked_against_their_digest() {
        let (_d, s) = store("blobs");
        let d = s.put_blob(b"hello").unwrap();
        assert_eq!(d, Digest::of(b"hello"));
        assert_eq!(s.put_blob(b"hello").unwrap(), d);
        assert_eq!(s.read_blob(&d).unwrap(), b"hello");
        fs::write(s.blob_path(&d), b"jello").unwrap();
        assert!(matches!(s.read_blob(&d), Err(StoreError::CorruptBlob(x)) if x == d));
    }

    #[test]
    fn stale_staging_of_a_dead_writer_is_purged_on_open() {
        let (_d, s) = store("purge");
        let root = s.root().to_path_buf();
        // pid 0 is never a live writer; our own pid is
        let dead = root.join("tmp/layer-999999999-0000");
        let live = root.join(format!("tmp/layer-{}-0000", std::process::id()));
        let other = root.join("tmp/unrelated");
        for p in [&dead, &live, &other] {
            fs::create_dir(p).unwrap();
        }
        // an index.json replacement a killed writer left beside it
        let dead_index = root.join(".index.json.tmp-999999999-abcd");
        let live_index = root.join(format!(".index.json.tmp-{}-abcd", std::process::id()));
        for p in [&dead_index, &live_index] {
            fs::write(p, b"{").unwrap();
        }
        fs::create_dir(root.join("trash/x")).unwrap();
        drop(s);
        let _s = Store::open(&root).unwrap();
        assert!(!dead.exists());
        assert!(live.exists());
        assert!(other.exists());
        assert!(!dead_index.exists());
        assert!(live_index.exists());
        assert!(root.join("index.json").exists());
        assert_eq!(fs::read_dir(root.join("trash")).unwrap().count(), 0);
    }
}
