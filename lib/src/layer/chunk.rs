//! A tar stream as shared chunks of a bounded pool, so that an unpack
//! writes a file's content straight out of the buffer the stream was read
//! into, on whichever thread writes the file, instead of copying it into
//! a buffer of its own first.
//!
//! A [`Chunk`] is a filled buffer, cheap to clone; when its last clone is
//! dropped the buffer goes back to the [`Pool`] it came from. A pool makes
//! at most its number of buffers and then waits for one to come back, so
//! memory does not grow with the stream.

use super::mapped::Mapping;
use std::io::{self, Read};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Arc;

/// The size of a chunk's buffer.
pub const CHUNK: usize = 1 << 20;

/// Buffers a pool makes at most. The reading side holds a few, the
/// queue to the extracting thread four, the extracting thread the
/// current one and the batch it fills; the rest are in the writer's
/// queue, which empties on its own.
pub const POOLED: usize = 16;

/// Filled bytes of a pooled buffer, shared.
#[derive(Clone)]
pub struct Chunk(Arc<Filled>);

struct Filled {
    buf: Vec<u8>,
    len: usize,
    home: Option<SyncSender<Vec<u8>>>,
    /// The bytes are these of a mapped file instead, `buf` a token of the
    /// pool (see [`super::mapped`]).
    mapped: Option<(Arc<Mapping>, std::ops::Range<usize>)>,
}

impl Drop for Filled {
    fn drop(&mut self) {
        if let Some((map, range)) = self.mapped.take() {
            map.release(range);
        }
        if let Some(home) = &self.home {
            // The pool's channel holds every buffer it made; when the
            // pool is gone the buffer is freed.
            let _ = home.try_send(std::mem::take(&mut self.buf));
        }
    }
}

impl Chunk {
    /// A chunk of `bytes` of no pool.
    pub fn of(bytes: Vec<u8>) -> Chunk {
        let len = bytes.len();
        Chunk(Arc::new(Filled {
            buf: bytes,
            len,
            home: None,
            mapped: None,
        }))
    }

    /// `range` of a mapped file, holding `token`, a buffer taken from a
    /// pool, until it is dropped.
    pub(crate) fn mapped(map: Arc<Mapping>, range: std::ops::Range<usize>, token: Token) -> Chunk {
        let Token(buf, home) = token;
        Chunk(Arc::new(Filled {
            buf,
            len: 0,
            home: Some(home),
            mapped: Some((map, range)),
        }))
    }

    /// Its bytes.
    pub fn bytes(&self) -> &[u8] {
        match &self.0.mapped {
            Some((map, range)) => &map.bytes()[range.clone()],
            None => &self.0.buf[..self.0.len],
        }
    }

    /// `other` is this chunk (a clone of it).
    pub fn same(&self, other: &Chunk) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

/// At most [`POOLED`] buffers of [`CHUNK`] bytes, reused.
pub struct Pool {
    home: SyncSender<Vec<u8>>,
    back: Receiver<Vec<u8>>,
    made: usize,
}

impl Default for Pool {
    fn default() -> Pool {
        let (home, back) = sync_channel(POOLED);
        Pool {
            home,
            back,
            made: 0,
        }
    }
}

impl Pool {
    /// An empty buffer: one that came back, a new one while fewer than
    /// [`POOLED`] exist, else the next one to come back.
    pub fn take(&mut self) -> Vec<u8> {
        if let Ok(b) = self.back.try_recv() {
            return b;
        }
        if self.made < POOLED {
            self.made += 1;
            return vec![0u8; CHUNK];
        }
        // The pool holds a sender itself, so this waits for a buffer
        // rather than failing.
        self.back.recv().expect("the pool holds a sender")
    }

    /// `buf`, its first `len` bytes filled, as a chunk that comes back to
    /// this pool.
    pub fn filled(&self, buf: Vec<u8>, len: usize) -> Chunk {
        Chunk(Arc::new(Filled {
            buf,
            len,
            home: Some(self.home.clone()),
            mapped: None,
        }))
    }

    /// One of the pool's buffers as a token: a chunk that holds it counts
    /// against the pool's bound, whatever holds its bytes.
    pub(crate) fn token(&mut self) -> Token {
        Token(self.take(), self.home.clone())
    }
}

/// A pool's buffer, held by a chunk whose bytes are elsewhere.
pub(crate) struct Token(Vec<u8>, SyncSender<Vec<u8>>);

/// A stream handed out in chunks.
pub trait ChunkSource {
    /// The next chunk (never empty); `None` at the end of the stream.
    fn next_chunk(&mut self) -> io::Result<Option<Chunk>>;
}

impl<C: ChunkSource + ?Sized> ChunkSource for &mut C {
    fn next_chunk(&mut self) -> io::Result<Option<Chunk>> {
        (**self).next_chunk()
    }
}

/// Any reader, read into pooled chunks.
pub struct ReadChunks<R> {
    inner: R,
    pool: Pool,
}

impl<R: Read> ReadChunks<R> {
    pub fn new(inner: R) -> ReadChunks<R> {
        ReadChunks {
            inner,
            pool: Pool::default(),
        }
    }

    pub fn into_inner(self) -> R {
        self.inner
    }
}

impl<R: Read> ChunkSource for ReadChunks<R> {
    fn next_chunk(&mut self) -> io::Result<Option<Chunk>> {
        let mut buf = self.pool.take();
        let got = super::fill(&mut self.inner, &mut buf);
        // an empty chunk, dropped, gives its buffer back
        let c = self.pool.filled(buf, *got.as_ref().unwrap_or(&0));
        Ok((got? > 0).then_some(c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_come_back_and_are_bounded() {
        let mut pool = Pool::default();
        let held: Vec<Chunk> = (0..POOLED)
            .map(|i| {
                let b = pool.take();
                pool.filled(b, i + 1)
            })
            .collect();
        assert_eq!(pool.made, POOLED);
        assert_eq!(held[3].bytes().len(), 4);
        let again = held[3].clone();
        drop(held);
        // all but one came back; the one still held stays out
        let back: Vec<Vec<u8>> = (0..POOLED - 1).map(|_| pool.take()).collect();
        assert_eq!(back.len(), POOLED - 1);
        assert_eq!(pool.made, POOLED);
        assert!(pool.back.try_recv().is_err());
        drop(again);
        assert_eq!(pool.take().len(), CHUNK);
    }

    #[test]
    fn a_reader_is_read_in_chunks() {
        let data: Vec<u8> = (0..(CHUNK * 2 + 10)).map(|i| (i % 251) as u8).collect();
        let mut r = ReadChunks::new(&data[..]);
        let mut got = Vec::new();
        while let Some(c) = r.next_chunk().unwrap() {
            got.extend_from_slice(c.bytes());
        }
        assert_eq!(got, data);
    }
}
