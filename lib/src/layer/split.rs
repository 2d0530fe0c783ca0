//! Tar-split: a layer tar minus the contents of its regular files, so the
//! exact tar can be rebuilt from the unpacked changeset instead of being
//! stored twice (docker keeps layers the same way).
//!
//! While a stream is unpacked, every byte the tar parser reads is either
//! recorded as-is (headers, PAX and GNU long-name records, padding, data
//! that is not a regular file's content, whatever follows the end-of-archive
//! marker) or, for a regular file's content, replaced by a reference to the
//! file just written. [`reassemble`] plays the records back, reading the
//! referenced files from the changeset.
//!
//! The file is a zstd stream of:
//!
//! ```text
//! "cairn-tar-split/1\n"
//! 'R' len:u32le bytes[len]              bytes of the stream, as they were
//! 'F' size:u64le plen:u16le path[plen]  `size` bytes: the content of <diff>/<path>
//! 'M' plen:u16le path[plen] n:u32le     the latest 'F' of <path> reads <replaced>/<n>
//! 'E' total:u64le                       the end; `total` is the stream's length
//! ```
//!
//! A stream may hold an entry twice (the later one wins); the earlier
//! one's file is then linked into `<replaced>` ([`REPLACED_DIR`] beside the
//! split) before the unpack unlinks it, and an 'M' record says so.
//!
//! The rebuilt stream is only as good as the tree it is read from, so a
//! caller hashes it and compares with the layer's diff ID before using it.

use nix::fcntl::{openat2, OFlag, OpenHow, ResolveFlag};
use nix::sys::stat::Mode;
use std::cell::RefCell;
use std::collections::HashMap;
use std::ffi::OsStr;
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::Path;
use std::rc::Rc;

/// The split's file name in a layer's directory.
pub const FILE_NAME: &str = "tar-split";
/// Beside the split: the files of entries a later entry replaced.
pub const REPLACED_DIR: &str = "tar-split.replaced";
const MAGIC: &[u8] = b"cairn-tar-split/1\n";
/// Raw bytes are flushed as a record once this many are pending, so memory
/// does not grow with a large non-file entry.
const RAW_FLUSH: usize = 64 << 10;
const ZSTD_LEVEL: i32 = 1;

/// Why a tar could not be rebuilt.
#[derive(Debug, thiserror::Error)]
pub enum SplitError {
    #[error("tar-split")]
    Io(#[from] io::Error),
    #[error("tar-split is damaged: {0}")]
    Damaged(String),
    #[error("file {path:?} of the changeset changed since it was unpacked: {why}")]
    Changed { path: String, why: String },
}

/// Writes the records of a split as the stream goes by.
pub struct SplitWriter {
    out: zstd::stream::write::Encoder<'static, io::BufWriter<File>>,
    pending: Vec<u8>,
    /// Bytes of file content still to pass unrecorded.
    skip: u64,
    total: u64,
    /// Where replaced files go, and its fd once made.
    side: std::path::PathBuf,
    side_fd: Option<OwnedFd>,
    moved: u32,
}

impl SplitWriter {
    pub fn create(path: &Path) -> io::Result<SplitWriter> {
        let f = File::options()
            .write(true)
            .create_new(true)
            .mode(0o644)
            .open(path)?;
        let mut out = zstd::stream::write::Encoder::new(io::BufWriter::new(f), ZSTD_LEVEL)?;
        out.write_all(MAGIC)?;
        Ok(SplitWriter {
            out,
            pending: Vec::with_capacity(RAW_FLUSH),
            skip: 0,
            total: 0,
            side: path.with_file_name(REPLACED_DIR),
            side_fd: None,
            moved: 0,
        })
    }

    fn flush_raw(&mut self) -> io::Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        self.out.write_all(b"R")?;
        self.out
            .write_all(&(self.pending.len() as u32).to_le_bytes())?;
        self.out.write_all(&self.pending)?;
        self.pending.clear();
        Ok(())
    }

    /// The next `size` bytes of the stream are the content of the regular
    /// file at `path` (relative to the changeset's root).
    pub fn file(&mut self, path: &[u8], size: u64) -> io::Result<()> {
        debug_assert_eq!(self.skip, 0);
        let plen = u16::try_from(path.len()).map_err(|_| io::Error::other("path too long"))?;
        self.flush_raw()?;
        self.out.write_all(b"F")?;
        self.out.write_all(&size.to_le_bytes())?;
        self.out.write_all(&plen.to_le_bytes())?;
        self.out.write_all(path)?;
        self.skip = size;
        Ok(())
    }

    /// The regular file `name` in `dir`, at `path` in the changeset, is
    /// about to be unlinked for a later entry of the same path: keep it in
    /// [`REPLACED_DIR`], so the content its record refers to stays.
    pub fn replaced(&mut self, dir: BorrowedFd<'_>, name: &OsStr, path: &[u8]) -> io::Result<()> {
        let plen = u16::try_from(path.len()).map_err(|_| io::Error::other("path too long"))?;
        if self.side_fd.is_none() {
            std::fs::DirBuilder::new().mode(0o700).create(&self.side)?;
            self.side_fd = Some(crate::sys::open_dir_at(
                nix::fcntl::AT_FDCWD.as_fd(),
                self.side.as_os_str(),
            )?);
        }
        let side = self.side_fd.as_ref().expect("made above");
        let n = self.moved;
        self.moved += 1;
        nix::unistd::linkat(
            dir,
            name,
            side.as_fd(),
            n.to_string().as_str(),
            nix::fcntl::AtFlags::empty(),
        )?;
        self.flush_raw()?;
        self.out.write_all(b"M")?;
        self.out.write_all(&plen.to_le_bytes())?;
        self.out.write_all(path)?;
        self.out.write_all(&n.to_le_bytes())
    }

    /// Bytes of the stream, in order.
    fn saw(&mut self, mut buf: &[u8]) -> io::Result<()> {
        self.total += buf.len() as u64;
        let skipped = (self.skip.min(buf.len() as u64)) as usize;
        self.skip -= skipped as u64;
        buf = &buf[skipped..];
        self.pending.extend_from_slice(buf);
        if self.pending.len() >= RAW_FLUSH {
            self.flush_raw()?;
        }
        Ok(())
    }

    /// Write the end record and close the file.
    pub fn finish(mut self) -> io::Result<()> {
        if self.skip != 0 {
            return Err(io::Error::other("the stream ended inside a file"));
        }
        self.flush_raw()?;
        self.out.write_all(b"E")?;
        self.out.write_all(&self.total.to_le_bytes())?;
        self.out.finish()?.flush()
    }
}

/// A split being recorded, shared by the reader that sees the bytes and the
/// code that knows which of them are file content.
#[derive(Clone, Default)]
pub struct Recording(Rc<RefCell<Option<RecState>>>);

struct RecState {
    writer: SplitWriter,
    error: Option<io::Error>,
}

impl Recording {
    pub fn new(writer: SplitWriter) -> Recording {
        Recording(Rc::new(RefCell::new(Some(RecState {
            writer,
            error: None,
        }))))
    }

    /// A recording that records nothing.
    pub fn off() -> Recording {
        Recording::default()
    }

    /// See [`SplitWriter::file`].
    pub fn file(&self, path: &[u8], size: u64) -> io::Result<()> {
        match self.0.borrow_mut().as_mut() {
            Some(s) => s.writer.file(path, size),
            None => Ok(()),
        }
    }

    /// See [`SplitWriter::replaced`].
    pub fn replaced(&self, dir: BorrowedFd<'_>, name: &OsStr, path: &[u8]) -> io::Result<()> {
        match self.0.borrow_mut().as_mut() {
            Some(s) => s.writer.replaced(dir, name, path),
            None => Ok(()),
        }
    }

    /// Feed bytes read from the stream. A failure to record is kept and
    /// returned by [`Recording::finish`].
    pub fn saw(&self, buf: &[u8]) {
        if let Some(s) = self.0.borrow_mut().as_mut() {
            if s.error.is_none() {
                if let Err(e) = s.writer.saw(buf) {
                    s.error = Some(e);
                }
            }
        }
    }

    pub fn finish(self) -> io::Result<()> {
        match self.0.borrow_mut().take() {
            Some(RecState { error: Some(e), .. }) => Err(e),
            Some(s) => s.writer.finish(),
            None => Ok(()),
        }
    }
}

/// Play a split back: write the tar it was recorded from to `out`, reading
/// file contents from the changeset `diff` (and, for files a later entry
/// of the stream replaced, from [`REPLACED_DIR`] beside the split).
/// Returns the bytes written. Files are opened beneath their directory
/// without following any symlink, and each must still have exactly the
/// size recorded.
pub fn reassemble(diff: &Path, split: &Path, out: &mut impl Write) -> Result<u64, SplitError> {
    let open_dir = |p: &Path| {
        nix::fcntl::open(
            p,
            OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| io::Error::other(format!("{}: {e}", p.display())))
    };
    let root = open_dir(diff)?;
    let side_path = split.with_file_name(REPLACED_DIR);
    let (side, moved) = if side_path.is_dir() {
        (Some(open_dir(&side_path)?), moves(split)?)
    } else {
        (None, HashMap::new())
    };
    let mut seen: HashMap<Vec<u8>, u64> = HashMap::new();
    let mut r = Records::open(split)?;
    let mut buf = vec![0u8; 1 << 20];
    let mut total = 0u64;
    loop {
        match r.next()? {
            Record::Raw(mut left) => {
                while left > 0 {
                    let n = left.min(buf.len());
                    r.bytes(&mut buf[..n])?;
                    out.write_all(&buf[..n])?;
                    left -= n;
                    total += n as u64;
                }
            }
            Record::File(size, path) => {
                // Counting the records of each path only matters when a
                // file was replaced (rare): no map work per file otherwise.
                let at = match &side {
                    Some(side) if !moved.is_empty() => {
                        let k = seen.entry(path.clone()).or_default();
                        let at = moved.get(&(path.clone(), *k));
                        *k += 1;
                        at.map(|n| (side, n.to_string().into_bytes()))
                    }
                    _ => None,
                };
                let (dir, name) = at.unwrap_or((&root, path));
                copy_file(dir, &name, size, &mut buf, out)?;
                total += size;
            }
            Record::Moved(..) => {}
            Record::End(t) if t == total => return Ok(total),
            Record::End(_) => return Err(SplitError::Damaged("its length does not add up".into())),
        }
    }
}

/// Where the files replaced during the unpack went: for the `k`th file
/// record of a path (counted from 0), the number of its file in
/// [`REPLACED_DIR`].
fn moves(split: &Path) -> Result<HashMap<(Vec<u8>, u64), u32>, SplitError> {
    let mut r = Records::open(split)?;
    let mut count: HashMap<Vec<u8>, u64> = HashMap::new();
    let mut moved = HashMap::new();
    let mut skip = vec![0u8; 64 << 10];
    loop {
        match r.next()? {
            Record::Raw(mut left) => {
                while left > 0 {
                    let n = left.min(skip.len());
                    r.bytes(&mut skip[..n])?;
                    left -= n;
                }
            }
            Record::File(_, path) => *count.entry(path).or_default() += 1,
            Record::Moved(path, n) => {
                // the latest record of that path, unless it moved already
                if let Some(&c) = count.get(&path).filter(|&&c| c > 0) {
                    moved.entry((path, c - 1)).or_insert(n);
                }
            }
            Record::End(_) => return Ok(moved),
        }
    }
}

/// Copy the regular file `name` below `dir`, which must be `size` bytes
/// long, to `out`.
fn copy_file(
    dir: &OwnedFd,
    name: &[u8],
    size: u64,
    buf: &mut [u8],
    out: &mut impl Write,
) -> Result<(), SplitError> {
    let how = OpenHow::new()
        .flags(OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC)
        .resolve(
            ResolveFlag::RESOLVE_BENEATH
                | ResolveFlag::RESOLVE_NO_SYMLINKS
                | ResolveFlag::RESOLVE_NO_MAGICLINKS
                | ResolveFlag::RESOLVE_NO_XDEV,
        );
    let shown = String::from_utf8_lossy(name).into_owned();
    let changed = |why: String| SplitError::Changed {
        path: shown.clone(),
        why,
    };
    let fd = openat2(dir, std::ffi::OsStr::from_bytes(name), how)
        .map_err(|e| changed(format!("cannot open it: {e}")))?;
    let mut file = File::from(fd);
    let meta = file.metadata()?;
    if !meta.is_file() || meta.len() != size {
        return Err(changed(format!(
            "it was a regular file of {size} bytes, now it is {} of {} bytes",
            if meta.is_file() {
                "one"
            } else {
                "not a file, but"
            },
            meta.len()
        )));
    }
    let mut left = size;
    while left > 0 {
        let n = left.min(buf.len() as u64) as usize;
        file.read_exact(&mut buf[..n])
            .map_err(|e| changed(format!("reading it: {e}")))?;
        out.write_all(&buf[..n])?;
        left -= n as u64;
    }
    Ok(())
}

/// One record of a split, its bytes (for `Raw`) still to be read.
enum Record {
    Raw(usize),
    File(u64, Vec<u8>),
    Moved(Vec<u8>, u32),
    End(u64),
}

/// The records of a split file, in order.
struct Records(zstd::stream::read::Decoder<'static, io::BufReader<File>>);

impl Records {
    fn open(split: &Path) -> Result<Records, SplitError> {
        let f =
            File::open(split).map_err(|e| io::Error::other(format!("{}: {e}", split.display())))?;
        let mut r = Records(zstd::stream::read::Decoder::new(f)?);
        let mut magic = [0u8; MAGIC.len()];
        r.bytes(&mut magic)
            .map_err(|_| SplitError::Damaged("no header".into()))?;
        if magic != MAGIC {
            return Err(SplitError::Damaged("unknown format".into()));
        }
        Ok(r)
    }

    fn bytes(&mut self, buf: &mut [u8]) -> Result<(), SplitError> {
        self.0
            .read_exact(buf)
            .map_err(|_| SplitError::Damaged("truncated".into()))
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], SplitError> {
        let mut a = [0u8; N];
        self.bytes(&mut a)?;
        Ok(a)
    }

    fn path(&mut self) -> Result<Vec<u8>, SplitError> {
        let mut path = vec![0u8; u16::from_le_bytes(self.array()?) as usize];
        self.bytes(&mut path)?;
        Ok(path)
    }

    fn next(&mut self) -> Result<Record, SplitError> {
        Ok(match self.array::<1>()?[0] {
            b'R' => Record::Raw(u32::from_le_bytes(self.array()?) as usize),
            b'F' => {
                let size = u64::from_le_bytes(self.array()?);
                Record::File(size, self.path()?)
            }
            b'M' => {
                let path = self.path()?;
                Record::Moved(path, u32::from_le_bytes(self.array()?))
            }
            b'E' => Record::End(u64::from_le_bytes(self.array()?)),
            _ => return Err(SplitError::Damaged("unknown record".into())),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::TempDir;
    use std::fs;

    /// Record `stream` as a split whose file contents are `files` (offset,
    /// size, path), and write those files under `diff`.
    fn record(d: &Path, stream: &[u8], files: &[(usize, usize, &str)]) -> std::path::PathBuf {
        let diff = d.join("diff");
        fs::create_dir_all(&diff).unwrap();
        let split = d.join(FILE_NAME);
        let rec = Recording::new(SplitWriter::create(&split).unwrap());
        let mut at = 0;
        for &(off, size, path) in files {
            // in small pieces, as a reader would see them
            for c in stream[at..off].chunks(7) {
                rec.saw(c);
            }
            rec.file(path.as_bytes(), size as u64).unwrap();
            fs::write(diff.join(path), &stream[off..off + size]).unwrap();
            rec.saw(&stream[off..off + size]);
            at = off + size;
        }
        rec.saw(&stream[at..]);
        rec.finish().unwrap();
        split
    }

    fn rebuild(d: &Path) -> Result<Vec<u8>, SplitError> {
        let mut out = Vec::new();
        let n = reassemble(&d.join("diff"), &d.join(FILE_NAME), &mut out)?;
        assert_eq!(n, out.len() as u64);
        Ok(out)
    }

    #[test]
    fn a_recorded_stream_is_rebuilt_byte_for_byte() {
        let d = TempDir::new("split-roundtrip");
        let mut stream = b"HEADER-1".to_vec();
        stream.extend_from_slice(b"contents of a");
        stream.extend_from_slice(&[0u8; 100]);
        stream.extend_from_slice(&vec![b'b'; 3 * RAW_FLUSH]); // a large file
        stream.extend_from_slice(b"trailer after the end");
        let split = record(
            d.path(),
            &stream,
            &[(8, 13, "a"), (121, 3 * RAW_FLUSH, "b")],
        );
        assert_eq!(rebuild(d.path()).unwrap(), stream);
        // the split holds the headers, not the contents
        assert!(fs::metadata(&split).unwrap().len() < 1024);
    }

    #[test]
    fn an_empty_stream_and_an_off_recording() {
        let d = TempDir::new("split-empty");
        record(d.path(), b"", &[]);
        assert_eq!(rebuild(d.path()).unwrap(), b"");
        let off = Recording::off();
        off.saw(b"x");
        off.file(b"f", 1).unwrap();
        off.finish().unwrap();
    }

    #[test]
    fn a_stream_that_ends_inside_a_file_is_not_a_split() {
        let d = TempDir::new("split-short");
        let mut w = SplitWriter::create(&d.path().join(FILE_NAME)).unwrap();
        w.file(b"f", 10).unwrap();
        w.saw(b"12345").unwrap();
        assert!(w.finish().is_err());
        assert!(
            SplitWriter::create(&d.path().join(FILE_NAME)).is_err(),
            "never overwrites"
        );
    }

    #[test]
    fn a_changed_changeset_is_named_not_rebuilt() {
        let d = TempDir::new("split-changed");
        let stream = b"HDRabcdefTAIL";
        record(d.path(), stream, &[(3, 6, "f")]);
        let f = d.path().join("diff/f");
        fs::write(&f, b"abcdefg").unwrap();
        let e = rebuild(d.path()).unwrap_err();
        assert!(
            matches!(&e, SplitError::Changed { path, .. } if path == "f"),
            "{e}"
        );
        fs::remove_file(&f).unwrap();
        assert!(matches!(rebuild(d.path()), Err(SplitError::Changed { .. })));
        // a symlink in its place is not followed, even to the same bytes
        fs::write(d.path().join("elsewhere"), b"abcdef").unwrap();
        std::os::unix::fs::symlink(d.path().join("elsewhere"), &f).unwrap();
        assert!(matches!(rebuild(d.path()), Err(SplitError::Changed { .. })));
        fs::remove_file(&f).unwrap();
        fs::create_dir(&f).unwrap();
        assert!(matches!(rebuild(d.path()), Err(SplitError::Changed { .. })));
    }

    /// Write a split file by hand.
    fn raw_split(path: &Path, body: &[u8]) {
        let mut z = zstd::stream::write::Encoder::new(File::create(path).unwrap(), 1).unwrap();
        z.write_all(body).unwrap();
        z.finish().unwrap();
    }

    #[test]
    fn a_hostile_or_damaged_split_is_refused() {
        let d = TempDir::new("split-hostile");
        let diff = d.path().join("diff");
        fs::create_dir_all(diff.join("sub")).unwrap();
        fs::write(d.path().join("secret"), b"host").unwrap();
        let split = d.path().join(FILE_NAME);
        let file_rec = |p: &[u8], size: u64| {
            let mut v = MAGIC.to_vec();
            v.push(b'F');
            v.extend_from_slice(&size.to_le_bytes());
            v.extend_from_slice(&(p.len() as u16).to_le_bytes());
            v.extend_from_slice(p);
            v.push(b'E');
            v.extend_from_slice(&size.to_le_bytes());
            v
        };
        for p in [&b"../secret"[..], b"/etc/passwd", b"sub/../../secret"] {
            raw_split(&split, &file_rec(p, 4));
            let e = reassemble(&diff, &split, &mut Vec::new()).unwrap_err();
            assert!(matches!(e, SplitError::Changed { .. }), "{p:?}: {e}");
        }
        let mut wrong_total = MAGIC.to_vec();
        wrong_total.extend_from_slice(b"R\x02\x00\x00\x00hiE");
        wrong_total.extend_from_slice(&3u64.to_le_bytes());
        let mut huge_raw = MAGIC.to_vec();
        huge_raw.extend_from_slice(b"R\xff\xff\xff\xffshort");
        let cases: [(&[u8], &str); 5] = [
            (b"", "no header"),
            (b"cairn-tar-split/9\n", "unknown format"),
            (&wrong_total, "does not add up"),
            (&huge_raw, "truncated"),
            (&[MAGIC, b"X"].concat(), "unknown record"),
        ];
        for (body, want) in cases {
            raw_split(&split, body);
            let e = reassemble(&diff, &split, &mut Vec::new()).unwrap_err();
            assert!(e.to_string().contains(want), "{want}: {e}");
        }
        fs::write(&split, b"not zstd at all").unwrap();
        assert!(reassemble(&diff, &split, &mut Vec::new()).is_err());
    }
}
