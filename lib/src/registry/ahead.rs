//! Layer blobs downloading ahead of the unpack.
//!
//! Layers unpack one after the other (each against the ones below it), but
//! their blobs can download at once. A few workers fetch the blobs the
//! store lacks into staging files under `tmp/`; when the unpack reaches a
//! layer, it reads that file as it grows (waiting for the worker when it
//! catches up), or, for a layer no worker has started, takes the blob
//! straight from the socket. The unpack checks every blob's digest either
//! way; a staging file is removed as soon as its layer is done with.

use super::resume::Resuming;
use super::{Progress, RegistryError, Repo};
use crate::digest::Digest;
use crate::error::one_line;
use crate::store::{Staging, Store};
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};

/// How many blobs download ahead at once (the unpack may stream one more).
pub const WORKERS: usize = 3;

enum State {
    /// Nobody has it: a worker may take it, or the unpack streams it.
    Idle,
    /// Not fetched ahead: in the store already, or the unpack has it.
    Off,
    /// A worker is writing it; `written` bytes are in the file so far.
    Running {
        path: PathBuf,
        written: u64,
        _staging: Staging,
    },
    /// All of it is in the file.
    Done { path: PathBuf, _staging: Staging },
    /// The download failed: the registry's error (taken by the first to
    /// see it) and its text.
    Failed(Option<RegistryError>, String),
}

struct Slot {
    state: Mutex<State>,
    changed: Condvar,
}

impl Slot {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The blobs of one pull, each fetched ahead or not.
pub struct Ahead {
    slots: Vec<Slot>,
    next: AtomicUsize,
    /// Set when the pull is over (done or failed): workers stop.
    pub stop: AtomicBool,
}

/// What the unpack reads a layer blob from.
pub enum Claim<'a> {
    /// Nobody fetched it: stream it from the registry.
    Stream,
    /// A worker has it (or had it): read its file as it grows.
    Follow(Follow<'a>),
    /// The worker's download failed.
    Failed(Option<RegistryError>, String),
}

impl Ahead {
    /// Slots for `blobs`; those `store` has already are never fetched ahead.
    pub fn new(store: &Store, blobs: &[Digest]) -> Ahead {
        let slots = blobs
            .iter()
            .map(|b| Slot {
                state: Mutex::new(if store.has_blob(b) {
                    State::Off
                } else {
                    State::Idle
                }),
                changed: Condvar::new(),
            })
            .collect();
        Ahead {
            slots,
            next: AtomicUsize::new(0),
            stop: AtomicBool::new(false),
        }
    }

    /// Layer `index` for the unpack: what to read it from.
    pub fn claim(&self, index: usize) -> Claim<'_> {
        let slot = &self.slots[index];
        let mut st = slot.lock();
        match &mut *st {
            State::Idle | State::Off => {
                *st = State::Off;
                Claim::Stream
            }
            State::Failed(e, msg) => Claim::Failed(e.take(), msg.clone()),
            State::Running { path, .. } | State::Done { path, .. } => match File::open(&*path) {
                Ok(file) => Claim::Follow(Follow { file, pos: 0, slot }),
                Err(e) => Claim::Failed(None, format!("{}: {e}", path.display())),
            },
        }
    }

    /// The registry's error for layer `index`'s failed download, once.
    pub fn failure(&self, index: usize) -> Option<RegistryError> {
        match &mut *self.slots.get(index)?.lock() {
            State::Failed(e, _) => e.take(),
            _ => None,
        }
    }

    /// A worker: take the next idle blob, download it into a staging
    /// file, until none is left or the pull is over.
    pub fn work(
        &self,
        store: &Store,
        repo: &Repo<'_>,
        blobs: &[Digest],
        sizes: &[u64],
        progress: super::Report<'_>,
    ) {
        loop {
            let i = self.next.fetch_add(1, Ordering::Relaxed);
            if i >= self.slots.len() || self.stop.load(Ordering::Relaxed) {
                return;
            }
            let slot = &self.slots[i];
            let file = {
                let mut st = slot.lock();
                if !matches!(*st, State::Idle) {
                    continue;
                }
                match store
                    .stage("pull")
                    .and_then(|s| s.create_file("blob").map(|(p, f)| (s, p, f)))
                {
                    Ok((staging, path, file)) => {
                        *st = State::Running {
                            path,
                            written: 0,
                            _staging: staging,
                        };
                        file
                    }
                    Err(e) => {
                        *st = State::Failed(None, one_line(&e));
                        continue;
                    }
                }
            };
            let outcome = self.download(i, (&blobs[i], sizes[i]), file, repo, progress);
            let mut st = slot.lock();
            *st = match (std::mem::replace(&mut *st, State::Off), outcome) {
                (State::Running { path, _staging, .. }, Ok(())) => State::Done { path, _staging },
                (State::Running { .. }, Err(e)) => {
                    let msg = one_line(&e);
                    State::Failed(Some(e), msg)
                }
                // the unpack is done with it (or gave up): leave it off
                (other, _) => other,
            };
            slot.changed.notify_all();
        }
    }

    /// Copy blob `index` from the registry into `file`, telling the slot
    /// how far it got.
    fn download(
        &self,
        index: usize,
        (blob, size): (&Digest, u64),
        mut file: File,
        repo: &Repo<'_>,
        progress: super::Report<'_>,
    ) -> Result<(), RegistryError> {
        let what = format!("layer {index}, blob {blob}");
        let mut body = Resuming::open(repo, *blob, size, what.clone())?;
        let mut buf = vec![0u8; 1 << 20];
        let slot = &self.slots[index];
        let mut done = 0u64;
        let failed = |e: io::Error| RegistryError::Transfer {
            what: what.clone(),
            source: e,
        };
        loop {
            if self.stop.load(Ordering::Relaxed) {
                return Err(failed(io::Error::other("the pull stopped")));
            }
            let n = match body.read(&mut buf) {
                Ok(0) => return Ok(()),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(failed(e)),
            };
            file.write_all(&buf[..n]).map_err(failed)?;
            done += n as u64;
            if let Some(p) = progress {
                p(Progress::Bytes { index, done });
            }
            let mut st = slot.lock();
            match &mut *st {
                State::Running { written, .. } => *written = done,
                // the unpack gave up on it
                _ => return Ok(()),
            }
            slot.changed.notify_all();
        }
    }
}

/// Reads a blob's staging file as its worker writes it.
pub struct Follow<'a> {
    file: File,
    pos: u64,
    slot: &'a Slot,
}

impl Read for Follow<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut st = self.slot.lock();
        let end = loop {
            match &mut *st {
                State::Running { written, .. } if *written > self.pos => break *written,
                State::Running { .. } => {
                    st = self
                        .slot
                        .changed
                        .wait(st)
                        .unwrap_or_else(|e| e.into_inner());
                }
                State::Done { .. } => break u64::MAX,
                State::Failed(_, msg) => return Err(io::Error::other(msg.clone())),
                State::Idle | State::Off => {
                    return Err(io::Error::other("the download was abandoned"))
                }
            }
        };
        drop(st);
        let want = buf
            .len()
            .min((end - self.pos).min(usize::MAX as u64) as usize);
        let n = self.file.read_at(&mut buf[..want], self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl Drop for Follow<'_> {
    /// The layer is done with (or given up): its staging file goes.
    fn drop(&mut self) {
        let mut st = self.slot.lock();
        if !matches!(*st, State::Failed(..)) {
            *st = State::Off;
        }
        self.slot.changed.notify_all();
    }
}
