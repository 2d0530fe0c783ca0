//! The read side of an unpack, on a thread of its own: read the input, keep
//! the blob, decompress, hash the stream as received and as decompressed,
//! and hand the tar stream to the extracting thread in chunks. Extraction
//! then costs the calling thread only the parsing and the syscalls that
//! make the tree, and a compressed layer decompresses while it extracts.
//!
//! Memory is bounded: the chunks come from a [`Pool`], which makes at most
//! [`super::chunk::POOLED`] of them and reuses them once the extraction
//! has written what they hold.

use super::chunk::{Chunk, ChunkSource, Pool};
use super::Compression;
use crate::digest::{Digest, Hasher, TeeReader};
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Arc;
use std::thread::{Scope, ScopedJoinHandle};

/// Chunks waiting for the extracting thread at most.
const QUEUE: usize = 4;

/// What the reading thread saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    /// sha256 and length of the uncompressed stream.
    pub diff_id: Digest,
    pub diff_len: u64,
    /// sha256 and length of the stream as received (the blob).
    pub blob_digest: Digest,
    pub blob_len: u64,
}

impl Summary {
    /// A plain stream's: the blob is the stream `diff` hashed.
    fn plain(diff: Hasher) -> Summary {
        let len = diff.len();
        let d = diff.finish();
        Summary {
            diff_id: d,
            diff_len: len,
            blob_digest: d,
            blob_len: len,
        }
    }
}

/// Why the reading thread stopped.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    /// Reading or decompressing the input failed.
    #[error("{0}")]
    Input(io::Error),
    /// Writing the blob failed.
    #[error("writing the blob: {0}")]
    Blob(io::Error),
    /// The extracting side stopped reading (it failed on its own).
    #[error("the extraction stopped")]
    Cancelled,
}

/// The extracting thread's end: the uncompressed tar stream, in chunks
/// or read as a whole.
pub struct StreamReader {
    rx: Receiver<Chunk>,
    cur: Option<Chunk>,
    pos: usize,
}

impl StreamReader {
    fn new(rx: Receiver<Chunk>) -> StreamReader {
        StreamReader {
            rx,
            cur: None,
            pos: 0,
        }
    }
}

impl ChunkSource for StreamReader {
    fn next_chunk(&mut self) -> io::Result<Option<Chunk>> {
        // The reading thread is done, or failed (its result says).
        Ok(self.rx.recv().ok())
    }
}

impl Read for StreamReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if let Some(c) = &self.cur {
                let c = c.bytes();
                if self.pos < c.len() {
                    let n = buf.len().min(c.len() - self.pos);
                    buf[..n].copy_from_slice(&c[self.pos..self.pos + n]);
                    self.pos += n;
                    return Ok(n);
                }
            }
            if buf.is_empty() {
                return Ok(0);
            }
            self.cur = self.next_chunk()?;
            self.pos = 0;
            if self.cur.is_none() {
                return Ok(0);
            }
        }
    }
}

/// Start reading `input` (compressed as `compression`) on a thread of
/// `scope`. The stream as received is written to `blob` when given;
/// `seen` counts the bytes of input read, for progress. Drop the reader
/// before joining when the extraction fails, so the thread stops.
pub fn spawn<'scope, 'env, R>(
    scope: &'scope Scope<'scope, 'env>,
    input: R,
    compression: Compression,
    blob: Option<File>,
    seen: Arc<AtomicU64>,
) -> (
    StreamReader,
    ScopedJoinHandle<'scope, Result<Summary, StreamError>>,
)
where
    R: BufRead + Send + 'env,
{
    let (tx, rx) = sync_channel::<Chunk>(QUEUE);
    let worker = scope.spawn(move || {
        let counted = Counted { inner: input, seen };
        let mut pump = Pump {
            tx,
            pool: Pool::default(),
            diff: Hasher::new(),
        };
        if compression == Compression::None {
            let mut blob = blob;
            let mut counted = counted;
            pump.run(&mut counted, blob.as_mut())?;
            if let Some(b) = blob.as_mut() {
                b.flush().map_err(StreamError::Blob)?;
            }
            return Ok(Summary::plain(pump.diff));
        }
        let sink: Box<dyn Write + Send> = match blob {
            Some(f) => Box::new(BufWriter::with_capacity(1 << 20, f)),
            None => Box::new(io::sink()),
        };
        let mut tee = TeeReader::new(counted, sink);
        {
            let mut dec = compression
                .decoder(BufReader::with_capacity(1 << 18, &mut tee))
                .map_err(StreamError::Input)?;
            pump.run(&mut dec, None)?;
        }
        // Whatever follows the compressed stream belongs to the blob too.
        let (blob_digest, blob_len, mut w) = tee.finish().map_err(StreamError::Input)?;
        w.flush().map_err(StreamError::Blob)?;
        let diff_len = pump.diff.len();
        Ok(Summary {
            diff_id: pump.diff.finish(),
            diff_len,
            blob_digest,
            blob_len,
        })
    });
    (StreamReader::new(rx), worker)
}

/// Hand on a plain stream mapped from a file (see [`super::mapped`]) on a
/// thread of `scope`, hashing it as [`spawn`] does.
pub fn spawn_mapped<'scope, 'env>(
    scope: &'scope Scope<'scope, 'env>,
    map: Arc<super::mapped::Mapping>,
    seen: Arc<AtomicU64>,
) -> (
    StreamReader,
    ScopedJoinHandle<'scope, Result<Summary, StreamError>>,
) {
    let (tx, rx) = sync_channel::<Chunk>(QUEUE);
    let worker = scope.spawn(move || {
        let mut pool = Pool::default();
        let mut diff = Hasher::new();
        for c in super::mapped::chunks(&map, &mut pool) {
            diff.update(c.bytes());
            seen.fetch_add(c.bytes().len() as u64, Ordering::Relaxed);
            if tx.send(c).is_err() {
                return Err(StreamError::Cancelled);
            }
        }
        Ok(Summary::plain(diff))
    });
    (StreamReader::new(rx), worker)
}

struct Pump {
    tx: SyncSender<Chunk>,
    pool: Pool,
    diff: Hasher,
}

impl Pump {
    /// Read `r` to its end in chunks: hash each, write it to `blob`, pass
    /// it on.
    fn run(&mut self, r: &mut dyn Read, mut blob: Option<&mut File>) -> Result<(), StreamError> {
        loop {
            let mut buf = self.pool.take();
            let len = super::fill(r, &mut buf).map_err(StreamError::Input)?;
            if len == 0 {
                return Ok(());
            }
            self.diff.update(&buf[..len]);
            if let Some(b) = blob.as_mut() {
                b.write_all(&buf[..len]).map_err(StreamError::Blob)?;
            }
            if self.tx.send(self.pool.filled(buf, len)).is_err() {
                return Err(StreamError::Cancelled);
            }
        }
    }
}

/// Counts the bytes read from the input, for progress.
struct Counted<R> {
    inner: R,
    seen: Arc<AtomicU64>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.seen.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(mut r: StreamReader, piece: usize) -> Vec<u8> {
        let mut got = Vec::new();
        let mut buf = vec![0u8; piece];
        loop {
            let n = r.read(&mut buf).unwrap();
            if n == 0 {
                return got;
            }
            got.extend_from_slice(&buf[..n]);
        }
    }

    #[test]
    fn plain_stream_is_passed_hashed_and_kept() {
        let data: Vec<u8> = (0..5_000_000u32).map(|i| (i * 13 % 241) as u8).collect();
        let dir = std::env::temp_dir().join(format!("cairn-stream-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let blob = dir.join("blob");
        let seen = Arc::new(AtomicU64::new(0));
        let (got, sum) = std::thread::scope(|s| {
            let (r, w) = spawn(
                s,
                &data[..],
                Compression::None,
                Some(File::create(&blob).unwrap()),
                seen.clone(),
            );
            // small reads, as the tar parser makes, across many chunks
            let got = read_all(r, 700);
            (got, w.join().unwrap().unwrap())
        });
        assert_eq!(got, data);
        assert_eq!(sum.diff_id, Digest::of(&data));
        assert_eq!((sum.diff_len, sum.blob_len), (5_000_000, 5_000_000));
        assert_eq!(std::fs::read(&blob).unwrap(), data);
        assert_eq!(seen.load(Ordering::Relaxed), 5_000_000);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn compressed_stream_hashes_both_sides() {
        let data: Vec<u8> = (0..3_000_000u32).map(|i| (i % 97) as u8).collect();
        let z = zstd::encode_all(&data[..], 3).unwrap();
        let (got, sum) = std::thread::scope(|s| {
            let (r, w) = spawn(
                s,
                &z[..],
                Compression::Zstd,
                None,
                Arc::new(AtomicU64::new(0)),
            );
            (read_all(r, 1 << 16), w.join().unwrap().unwrap())
        });
        assert_eq!(got, data);
        assert_eq!(sum.diff_id, Digest::of(&data));
        assert_eq!(sum.blob_digest, Digest::of(&z));
        assert_eq!(sum.blob_len, z.len() as u64);
    }

    #[test]
    fn a_reader_that_stops_early_stops_the_thread() {
        let data = vec![7u8; 20 << 20];
        let r = std::thread::scope(|s| {
            let (mut r, w) = spawn(
                s,
                &data[..],
                Compression::None,
                None,
                Arc::new(AtomicU64::new(0)),
            );
            let mut first = [0u8; 10];
            r.read_exact(&mut first).unwrap();
            drop(r);
            w.join().unwrap()
        });
        assert!(matches!(r, Err(StreamError::Cancelled)), "{r:?}");
    }

    #[test]
    fn corrupt_input_is_an_input_error() {
        let mut z = zstd::encode_all(&vec![1u8; 1 << 20][..], 3).unwrap();
        let n = z.len();
        z.truncate(n / 2);
        let r = std::thread::scope(|s| {
            let (r, w) = spawn(
                s,
                &z[..],
                Compression::Zstd,
                None,
                Arc::new(AtomicU64::new(0)),
            );
            read_all(r, 4096);
            w.join().unwrap()
        });
        assert!(matches!(r, Err(StreamError::Input(_))), "{r:?}");
    }
}
