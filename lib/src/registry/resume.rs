//! A layer blob read from the registry that survives a cut connection.
//!
//! When the transfer breaks (the connection drops, or the body ends short
//! of the size the manifest gives), the blob is asked for again from the
//! byte reached, with `Range: bytes=N-`, after a pause that doubles each
//! time, at most [`RESUMES`] times per blob. A `206` whose
//! `Content-Range` starts at N continues the stream; a registry that
//! ignores the Range answers `200` with the whole blob, whose first N
//! bytes are read and dropped, so the reader downstream sees one
//! unbroken stream either way. Whoever reads it checks the digest of the
//! whole, as for any blob.

use super::{RegistryError, Repo};
use crate::digest::Digest;
use std::io::{self, Read};
use std::time::Duration;
use ureq::http::StatusCode;

/// How many times one blob is asked for again.
pub const RESUMES: u32 = 5;
/// The first pause before asking again; it doubles each time.
const PAUSE: Duration = Duration::from_millis(250);

/// A blob's bytes from the registry, resumed where the transfer broke.
pub struct Resuming<'a> {
    repo: &'a Repo<'a>,
    blob: Digest,
    what: String,
    /// The size the manifest gives.
    size: u64,
    inner: Box<dyn Read + Send + 'a>,
    /// Bytes passed on so far.
    done: u64,
    /// Bytes of a whole blob sent again to drop before going on.
    skip: u64,
    resumes: u32,
}

/// Where a `Content-Range: bytes START-END/TOTAL` starts.
fn range_start(resp: &ureq::http::Response<ureq::Body>) -> Option<u64> {
    let v = resp.headers().get("content-range")?.to_str().ok()?;
    let v = v.trim().strip_prefix("bytes")?.trim_start();
    v.split('-').next()?.trim().parse().ok()
}

impl<'a> Resuming<'a> {
    /// `GET` blob `blob` of `size` bytes; `what` names it in errors.
    pub fn open(
        repo: &'a Repo<'a>,
        blob: Digest,
        size: u64,
        what: String,
    ) -> Result<Resuming<'a>, RegistryError> {
        let resp = repo.get("blobs", &blob.to_string(), &[], &what)?;
        Ok(Resuming {
            repo,
            blob,
            what,
            size,
            inner: Box::new(resp.into_body().into_reader()),
            done: 0,
            skip: 0,
            resumes: 0,
        })
    }

    /// Ask for the rest of the blob, after `cause` broke the transfer;
    /// `cause` again once the resumes are spent.
    fn reopen(&mut self, mut cause: io::Error) -> io::Result<()> {
        loop {
            if self.resumes >= RESUMES {
                return Err(cause);
            }
            std::thread::sleep(PAUSE * 2u32.pow(self.resumes));
            self.resumes += 1;
            let range = [("Range", format!("bytes={}-", self.done))];
            let resp = match self
                .repo
                .get("blobs", &self.blob.to_string(), &range, &self.what)
            {
                Ok(r) => r,
                Err(e) => {
                    cause = io::Error::other(crate::error::one_line(&e));
                    continue;
                }
            };
            self.skip = match resp.status() {
                StatusCode::PARTIAL_CONTENT if range_start(&resp) == Some(self.done) => 0,
                StatusCode::OK => self.done,
                s => {
                    let msg = format!("a Range request for bytes {}- answered {s}", self.done);
                    return Err(io::Error::other(msg));
                }
            };
            self.inner = Box::new(resp.into_body().into_reader());
            return Ok(());
        }
    }
}

impl Read for Resuming<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut scratch = [0u8; 8192];
        loop {
            let r = match self.skip {
                0 => self.inner.read(buf),
                n => {
                    let k = scratch.len().min(n.min(usize::MAX as u64) as usize);
                    self.inner.read(&mut scratch[..k])
                }
            };
            match r {
                Ok(0) if self.skip == 0 && self.done >= self.size => return Ok(0),
                Ok(0) => {
                    let short =
                        format!("the blob ended after {} of {} bytes", self.done, self.size);
                    self.reopen(io::Error::new(io::ErrorKind::UnexpectedEof, short))?
                }
                Ok(n) if self.skip > 0 => self.skip -= n as u64,
                Ok(n) => {
                    self.done += n as u64;
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => self.reopen(e)?,
            }
        }
    }
}
