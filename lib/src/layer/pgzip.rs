//! A gzip encoder that compresses on every core, as pigz does, with output
//! that does not depend on how many cores there are.
//!
//! The input is cut into blocks of [`BLOCK`] bytes. Each block is deflated
//! on its own by a pool of worker threads, primed with the last 32 KiB of
//! the block before it as a preset dictionary (so matches reach back across
//! block edges as in one stream), and ended with a sync flush (an empty
//! stored block, which byte-aligns it); the last block ends the deflate
//! stream. The blocks are concatenated in order behind one gzip header and
//! followed by the CRC-32 and length of the whole input: one ordinary gzip
//! member any gunzip reads. Because the cut points and dictionaries depend
//! only on the input, the bytes are the same on one core or sixty-four,
//! which keeps a layer's compressed digest stable across machines.
//!
//! Memory is bounded: at most `2 × threads` blocks are in flight, and the
//! writer waits for the oldest before it hands out another.

use std::collections::VecDeque;
use std::io::{self, Write};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use flate2::{Compress, Compression, FlushCompress, Status};

/// Bytes of input per block (pigz's default).
pub const BLOCK: usize = 128 * 1024;

/// The deflate window: how much of the previous block primes the next.
const DICT: usize = 32 * 1024;

/// One block to compress.
struct Job {
    /// The tail of the block before (empty for the first).
    dict: Arc<Vec<u8>>,
    data: Arc<Vec<u8>>,
    last: bool,
    done: SyncSender<io::Result<Vec<u8>>>,
}

/// A streaming parallel gzip encoder writing to `W`.
pub struct ParGzEncoder<W: Write> {
    inner: Option<W>,
    block: Vec<u8>,
    dict: Arc<Vec<u8>>,
    crc: crc32fast::Hasher,
    len: u64,
    pending: VecDeque<Receiver<io::Result<Vec<u8>>>>,
    jobs: Option<Sender<Job>>,
    workers: Vec<JoinHandle<()>>,
    max_pending: usize,
}

impl<W: Write> ParGzEncoder<W> {
    /// An encoder at deflate `level` (0-9) on `threads` workers (at least
    /// one), writing the gzip header at once: no file name, mtime 0,
    /// OS byte 255 ("unknown"), as reproducible builds want.
    pub fn new(mut inner: W, level: u32, threads: usize) -> io::Result<Self> {
        let xfl = match level {
            9 => 2,
            1 => 4,
            _ => 0,
        };
        inner.write_all(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, xfl, 255])?;
        let threads = threads.max(1);
        let (jobs, rx) = mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        let workers = (0..threads)
            .map(|_| {
                let rx = Arc::clone(&rx);
                std::thread::spawn(move || work(&rx, level))
            })
            .collect();
        Ok(ParGzEncoder {
            inner: Some(inner),
            block: Vec::with_capacity(BLOCK),
            dict: Arc::new(Vec::new()),
            crc: crc32fast::Hasher::new(),
            len: 0,
            pending: VecDeque::new(),
            jobs: Some(jobs),
            workers,
            max_pending: 2 * threads,
        })
    }

    /// Hand the current block to the workers; write out finished blocks
    /// while too many are in flight.
    fn submit(&mut self, last: bool) -> io::Result<()> {
        let data = Arc::new(std::mem::replace(
            &mut self.block,
            Vec::with_capacity(BLOCK),
        ));
        let dict = std::mem::replace(
            &mut self.dict,
            Arc::new(data[data.len().saturating_sub(DICT)..].to_vec()),
        );
        let (done, result) = mpsc::sync_channel(1);
        let job = Job {
            dict,
            data,
            last,
            done,
        };
        self.jobs
            .as_ref()
            .and_then(|j| j.send(job).ok())
            .ok_or_else(|| io::Error::other("the gzip workers are gone"))?;
        self.pending.push_back(result);
        while self.pending.len() > self.max_pending {
            self.write_oldest()?;
        }
        Ok(())
    }

    /// Wait for the oldest block in flight and write it.
    fn write_oldest(&mut self) -> io::Result<()> {
        let Some(rx) = self.pending.pop_front() else {
            return Ok(());
        };
        let out = rx
            .recv()
            .map_err(|_| io::Error::other("a gzip worker stopped"))??;
        self.inner_mut().write_all(&out)
    }

    fn inner_mut(&mut self) -> &mut W {
        self.inner.as_mut().expect("encoder used after finish")
    }

    /// Compress what is left, write the trailer and return the writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.submit(true)?;
        while !self.pending.is_empty() {
            self.write_oldest()?;
        }
        let crc = self.crc.clone().finalize();
        let len = self.len as u32; // ISIZE is the length modulo 2^32
        let mut inner = self.inner.take().expect("encoder used after finish");
        inner.write_all(&crc.to_le_bytes())?;
        inner.write_all(&len.to_le_bytes())?;
        Ok(inner)
    }
}

impl<W: Write> Write for ParGzEncoder<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = buf.len().min(BLOCK - self.block.len());
        self.block.extend_from_slice(&buf[..n]);
        self.crc.update(&buf[..n]);
        self.len += n as u64;
        if self.block.len() == BLOCK {
            self.submit(false)?;
        }
        Ok(n)
    }

    /// Blocks are only cut at [`BLOCK`] boundaries (so the output does not
    /// depend on how the input was written); flush passes on what is done.
    fn flush(&mut self) -> io::Result<()> {
        self.inner_mut().flush()
    }
}

impl<W: Write> Drop for ParGzEncoder<W> {
    fn drop(&mut self) {
        self.jobs = None;
        self.pending.clear();
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }
}

/// A worker: take jobs until the encoder is dropped.
fn work(jobs: &Mutex<Receiver<Job>>, level: u32) {
    loop {
        let job = match jobs.lock() {
            Ok(rx) => match rx.recv() {
                Ok(job) => job,
                Err(_) => return,
            },
            Err(_) => return,
        };
        let out = deflate_block(level, &job.dict, &job.data, job.last);
        let _ = job.done.send(out);
    }
}

/// Deflate one block (raw, no zlib header) primed with `dict`; a sync
/// flush ends it unless it is the last.
///
/// Each block gets a fresh compressor: a reset one is not fresh enough.
/// zlib-rs, like zlib, may compare a few bytes past the input's end when
/// it looks for matches; a fresh window holds zeros there, a reset one
/// holds whatever the worker compressed before, which can pick a
/// different (equally long) match: the bytes would then depend on which
/// worker took the block.
fn deflate_block(level: u32, dict: &[u8], data: &[u8], last: bool) -> io::Result<Vec<u8>> {
    let mut z = Compress::new(Compression::new(level), false);
    if !dict.is_empty() {
        z.set_dictionary(dict).map_err(io::Error::other)?;
    }
    let mut out = Vec::with_capacity(data.len() / 2 + 64);
    let flush = if last {
        FlushCompress::Finish
    } else {
        FlushCompress::Sync
    };
    loop {
        let consumed = z.total_in() as usize;
        if out.capacity() - out.len() < 64 {
            out.reserve(out.capacity().max(4096));
        }
        let status = z
            .compress_vec(&data[consumed..], &mut out, flush)
            .map_err(io::Error::other)?;
        let consumed = z.total_in() as usize;
        let room = out.capacity() - out.len();
        match status {
            Status::StreamEnd => return Ok(out),
            // A sync flush is complete once all input is taken and the
            // output was not filled to the brim.
            Status::Ok | Status::BufError if !last && consumed == data.len() && room > 0 => {
                return Ok(out)
            }
            Status::Ok | Status::BufError => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    /// Data that compresses like a real tree: text with repeats that reach
    /// across block edges, and some noise.
    fn sample(n: usize) -> Vec<u8> {
        let mut v = Vec::with_capacity(n);
        let mut x: u32 = 12345;
        while v.len() < n {
            x = x.wrapping_mul(1103515245).wrapping_add(12345);
            if x % 7 == 0 {
                v.extend_from_slice(&x.to_le_bytes());
            } else {
                v.extend_from_slice(format!("line {} of the sample tree\n", x % 500).as_bytes());
            }
        }
        v.truncate(n);
        v
    }

    fn encode(data: &[u8], threads: usize, chunk: usize) -> Vec<u8> {
        let mut e = ParGzEncoder::new(Vec::new(), 6, threads).unwrap();
        for c in data.chunks(chunk.max(1)) {
            e.write_all(c).unwrap();
        }
        e.finish().unwrap()
    }

    fn gunzip(gz: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(gz)
            .read_to_end(&mut out)
            .unwrap();
        out
    }

    #[test]
    fn round_trips_through_gunzip_at_every_size() {
        for n in [0, 1, BLOCK - 1, BLOCK, BLOCK + 1, 3 * BLOCK + 17] {
            let data = sample(n);
            let gz = encode(&data, 2, 1000);
            assert_eq!(gunzip(&gz), data, "size {n}");
            let t = gz.len();
            assert_eq!(&gz[t - 4..], &(n as u32).to_le_bytes(), "ISIZE of {n}");
        }
    }

    #[test]
    fn the_bytes_do_not_depend_on_threads_or_write_sizes() {
        let data = sample(5 * BLOCK + 999);
        let one = encode(&data, 1, 7);
        assert_eq!(encode(&data, 2, 65536), one);
        assert_eq!(encode(&data, 5, BLOCK * 2), one);
    }

    /// A block's bytes do not depend on what was compressed before it on
    /// the same thread (in whatever order the workers take them).
    #[test]
    fn a_block_compresses_the_same_in_any_order() {
        let data = sample(32 * BLOCK);
        let blocks: Vec<&[u8]> = data.chunks(BLOCK).collect();
        let dict = |i: usize| match i {
            0 => &[][..],
            _ => &blocks[i - 1][BLOCK - DICT..],
        };
        let in_order: Vec<Vec<u8>> = (0..blocks.len())
            .map(|i| deflate_block(6, dict(i), blocks[i], false).unwrap())
            .collect();
        for i in [3usize, 17, 5, 30, 1, 2, 31, 0, 12, 30, 29] {
            let again = deflate_block(6, dict(i), blocks[i], false).unwrap();
            assert!(again == in_order[i], "block {i}");
        }
        let enc = || encode(&data, 4, 65536);
        let first = enc();
        assert!(enc() == first);
    }

    #[test]
    fn the_header_is_reproducible() {
        let gz = encode(b"x", 3, 1);
        assert_eq!(&gz[..10], &[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255]);
    }

    #[test]
    fn compresses_about_as_well_as_one_stream() {
        let data = sample(8 * BLOCK);
        let par = encode(&data, 2, 65536).len();
        let mut one = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
        one.write_all(&data).unwrap();
        let one = one.finish().unwrap().len();
        assert!(
            par * 100 <= one * 105,
            "parallel {par} bytes, one stream {one}"
        );
    }

    #[test]
    fn a_failing_writer_is_an_error_not_a_hang() {
        struct Full;
        impl Write for Full {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Err(io::Error::other("disk full"))
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        assert!(ParGzEncoder::new(Full, 6, 2).is_err());
    }
}
