//! A plain layer given as a regular file, read through one read-only
//! mapping instead of `read`: the reading thread hashes the file's pages
//! where they are and hands them on as chunks, and the thread that writes
//! a file writes it from them, so the stream is never copied into a
//! buffer first. Both cores are busy through an unpack, so the copy saved
//! is time saved (benches/README.md has the numbers).
//!
//! Three things a mapping brings that `read` does not, and how they are met:
//!
//! - Memory: touched pages of a mapping count as the process's own. Each
//!   chunk drops its pages (`MADV_DONTNEED`) when its last holder is done,
//!   and holds one of the pool's buffers as a token, so as many chunks are
//!   alive at most as when the stream is read.
//! - A file that changes while mapped: the pages hashed may not be the
//!   pages written. Only a file that no other user may write is mapped.
//! - A file that shrinks while mapped: touching a page past its new end
//!   raises SIGBUS, which would kill the process with no word. A handler
//!   catches a SIGBUS whose address is inside a live mapping of this
//!   module and ends the process with a one-line error (what a `kill -9`
//!   leaves: nothing published, the staging directory swept later); any
//!   other SIGBUS is delivered as before.

use super::chunk::{Chunk, Pool, CHUNK};
use std::fs::File;
use std::os::fd::AsRawFd;
use std::os::unix::fs::MetadataExt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// Mappings alive at once at most (one per unpack running in the
/// process); a file that finds no free slot is read instead.
const SLOTS: usize = 8;

/// The live mappings' ranges, `[start, end)`; 0 when the slot is free.
static STARTS: [AtomicUsize; SLOTS] = [const { AtomicUsize::new(0) }; SLOTS];
static ENDS: [AtomicUsize; SLOTS] = [const { AtomicUsize::new(0) }; SLOTS];

/// One read-only mapping of a whole file.
pub struct Mapping {
    addr: usize,
    len: usize,
    slot: usize,
}

// SAFETY: the mapping is read-only and lives until the last chunk of it
// is dropped (each holds an Arc); its pages may be read from any thread.
unsafe impl Send for Mapping {}
unsafe impl Sync for Mapping {}

impl Mapping {
    /// Map `file` if it is a regular, non-empty file and a slot is free;
    /// `None` when it is to be read instead.
    pub fn of(file: &File) -> Option<Arc<Mapping>> {
        let meta = file.metadata().ok()?;
        let len = usize::try_from(meta.len()).ok()?;
        if !meta.is_file() || len == 0 {
            return None;
        }
        // The pages are hashed first and written out later: a file that
        // changes in between would give a layer that is not what its
        // digest says (and pass a check of an expected diff ID). read()
        // hashes and writes one copy. So only a file no one but this
        // user may write is mapped; the others are read.
        if meta.uid() != nix::unistd::geteuid().as_raw() || meta.mode() & 0o022 != 0 {
            return None;
        }
        install_handler();
        let slot = (0..SLOTS).find(|&i| {
            STARTS[i]
                .compare_exchange(0, usize::MAX, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
        })?;
        // SAFETY: a fresh read-only shared mapping of an open file; no
        // existing memory is touched.
        let addr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ,
                libc::MAP_SHARED,
                file.as_raw_fd(),
                0,
            )
        };
        if addr == libc::MAP_FAILED {
            STARTS[slot].store(0, Ordering::Release);
            return None;
        }
        // SAFETY: advice on the mapping just made.
        unsafe { libc::madvise(addr, len, libc::MADV_SEQUENTIAL) };
        let addr = addr as usize;
        ENDS[slot].store(addr + len, Ordering::Release);
        STARTS[slot].store(addr, Ordering::Release);
        Some(Arc::new(Mapping { addr, len, slot }))
    }

    /// The whole file.
    pub fn bytes(&self) -> &[u8] {
        // SAFETY: `len` bytes mapped at `addr` for as long as self lives.
        unsafe { std::slice::from_raw_parts(self.addr as *const u8, self.len) }
    }

    /// The pages of `range` are not needed again: give them back.
    pub(crate) fn release(&self, range: std::ops::Range<usize>) {
        // SAFETY: the range lies inside the mapping (chunks start at
        // multiples of CHUNK, which is page-aligned); the pages are read
        // from the file again if touched, which no holder does after this.
        unsafe {
            libc::madvise(
                (self.addr + range.start) as *mut libc::c_void,
                range.len(),
                libc::MADV_DONTNEED,
            )
        };
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        STARTS[self.slot].store(usize::MAX, Ordering::Release);
        // SAFETY: no chunk of the mapping is left (they hold the Arc).
        unsafe { libc::munmap(self.addr as *mut libc::c_void, self.len) };
        ENDS[self.slot].store(0, Ordering::Release);
        STARTS[self.slot].store(0, Ordering::Release);
    }
}

/// The mapping's chunks, in order, each `CHUNK` bytes but the last, each
/// holding a buffer of `pool` as its token.
pub fn chunks<'m>(map: &'m Arc<Mapping>, pool: &'m mut Pool) -> impl Iterator<Item = Chunk> + 'm {
    (0..map.len.div_ceil(CHUNK)).map(move |i| {
        let start = i * CHUNK;
        let end = (start + CHUNK).min(map.len);
        Chunk::mapped(map.clone(), start..end, pool.token())
    })
}

const MESSAGE: &[u8] =
    b"cairn: the layer file shrank while it was read (SIGBUS); nothing was stored\n";

extern "C" fn on_sigbus(_: libc::c_int, info: *mut libc::siginfo_t, _: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid siginfo to an SA_SIGINFO handler.
    let addr = unsafe { (*info).si_addr() } as usize;
    let ours = (0..SLOTS).any(|i| {
        let start = STARTS[i].load(Ordering::Acquire);
        start != 0 && start != usize::MAX && addr >= start && addr < ENDS[i].load(Ordering::Acquire)
    });
    // SAFETY: write, _exit, signal and sigaction are async-signal-safe.
    unsafe {
        if ours {
            libc::write(2, MESSAGE.as_ptr().cast(), MESSAGE.len());
            libc::_exit(1);
        }
        // Not ours: deliver it as if no handler were set (the faulting
        // access runs again and the default action ends the process).
        libc::signal(libc::SIGBUS, libc::SIG_DFL);
    }
}

fn install_handler() {
    use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let sa = SigAction::new(
            SigHandler::SigAction(on_sigbus),
            SaFlags::SA_SIGINFO,
            SigSet::empty(),
        );
        // SAFETY: the handler calls only async-signal-safe functions and
        // reads atomics. Without it a shrinking file still fails the
        // unpack, only with no word of why.
        let _ = unsafe { sigaction(Signal::SIGBUS, &sa) };
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn a_file_maps_in_chunks_that_give_their_pages_back() {
        let dir = crate::testutil::TempDir::new("mapped");
        let p = dir.path().join("f");
        let data: Vec<u8> = (0..(CHUNK * 2 + 100)).map(|i| (i % 251) as u8).collect();
        File::create(&p).unwrap().write_all(&data).unwrap();
        // its mode is set, not left to the umask the tests run under: a
        // group-writable file is not mapped
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        let f = File::open(&p).unwrap();
        let map = Mapping::of(&f).expect("a regular file maps");
        let mut pool = Pool::default();
        let got: Vec<u8> = chunks(&map, &mut pool)
            .flat_map(|c| c.bytes().to_vec())
            .collect();
        assert_eq!(got, data);
        // nor one that another user may write
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o664)).unwrap();
        assert!(Mapping::of(&File::open(&p).unwrap()).is_none());
        // an empty file and a directory are read, not mapped
        File::create(dir.path().join("e")).unwrap();
        assert!(Mapping::of(&File::open(dir.path().join("e")).unwrap()).is_none());
        assert!(Mapping::of(&File::open(dir.path()).unwrap()).is_none());
    }
}
