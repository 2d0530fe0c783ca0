//! Sending blobs and manifests to one repository: `HEAD` first (a blob the
//! repository has is not sent), then a cross-repository mount where the
//! store knows another repository of the registry has the blob, then an
//! upload: `POST` opens it, and either one `PUT` to its `Location` carries
//! the whole blob, or `PATCH`es carry it in chunks (`Content-Range`) and an
//! empty `PUT` closes it. The registry checks the digest given with the
//! `PUT`.

use super::client::{Client, HttpError};
use super::push::{Blobs, PushFault};
use super::RegistryError;
use crate::digest::Digest;
use crate::store::Store;
use std::io::Read;
use ureq::http::{Response, StatusCode};
use ureq::{Body, SendBody};

/// How a blob got into the repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sent {
    /// It was there already.
    Present = 0,
    /// Mounted from another repository of the registry.
    Mounted = 1,
    /// Sent.
    Uploaded = 2,
}

/// A reader that tells `bytes` how far it got.
struct Counted<'a, R> {
    inner: R,
    done: u64,
    size: u64,
    bytes: &'a dyn Fn(u64, u64),
}

impl<R: Read> Read for Counted<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.done += n as u64;
        (self.bytes)(self.done, self.size);
        Ok(n)
    }
}

/// The repository pushed to.
pub struct Target<'a> {
    pub client: &'a Client,
    pub name: String,
    pub scope: String,
    /// Blobs larger than this go up in chunks of this size (0: never).
    pub chunk: u64,
}

fn header(resp: &Response<Body>, name: &str) -> Option<String> {
    resp.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

impl Target<'_> {
    fn fail(&self, what: &str, source: HttpError) -> RegistryError {
        RegistryError::Http {
            what: what.to_string(),
            source,
        }
    }

    /// A status other than `want`, as an error that says what to do.
    fn judge(
        &self,
        what: &str,
        url: &str,
        status: StatusCode,
        want: StatusCode,
    ) -> Result<(), RegistryError> {
        match status {
            s if s == want => Ok(()),
            s @ (StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) => Err(RegistryError::Denied {
                what: what.to_string(),
                status: s,
                host: self.client.host().to_string(),
            }),
            status => Err(self.fail(
                what,
                HttpError::Status {
                    url: url.to_string(),
                    status,
                },
            )),
        }
    }

    fn send(
        &self,
        what: &str,
        method: &str,
        url: &str,
        headers: &[(&str, String)],
        body: SendBody<'_>,
    ) -> Result<Response<Body>, RegistryError> {
        self.client
            .send(method, url, &self.scope, headers, body)
            .map_err(|e| self.fail(what, e))
    }

    /// Whether the repository has blob `d` (`HEAD`).
    fn has_blob(&self, d: &Digest) -> Result<bool, RegistryError> {
        let what = format!("blob {d}");
        let url = self.client.url(&self.name, "blobs", &d.to_string());
        let resp = self.send(&what, "HEAD", &url, &[], SendBody::none())?;
        match resp.status() {
            StatusCode::NOT_FOUND => Ok(false),
            s => self.judge(&what, &url, s, StatusCode::OK).map(|_| true),
        }
    }

    /// Put blob `d` in the repository: nothing if it is there, a mount
    /// from repository `from` of the same registry if one is named and
    /// the registry agrees, else an upload from `blobs`.
    /// `bytes(done, size)` hears how much of an upload went.
    pub fn send_blob(
        &self,
        store: &Store,
        blobs: &Blobs,
        d: &Digest,
        from: Option<&str>,
        bytes: &dyn Fn(u64, u64),
    ) -> Result<Sent, PushFault> {
        if self.has_blob(d)? {
            return Ok(Sent::Present);
        }
        let what = format!("blob {d}");
        let mut url = self.client.url(&self.name, "blobs", "uploads/");
        if let Some(from) = from {
            url = format!("{url}?mount={d}&from={from}");
        }
        let resp = self.send(&what, "POST", &url, &[], SendBody::none())?;
        // 201: mounted; 202: the registry opened an upload instead.
        if from.is_some() && resp.status() == StatusCode::CREATED {
            return Ok(Sent::Mounted);
        }
        self.judge(&what, &url, resp.status(), StatusCode::ACCEPTED)?;
        let location = self.location(&resp, &what)?;
        let (size, reader) = blobs.open(store, d)?;
        let reader = Box::new(Counted {
            inner: reader,
            done: 0,
            size,
            bytes,
        });
        match self.chunk > 0 && size > self.chunk {
            true => self.patch_chunks(&what, d, location, size, reader)?,
            false => self.put_whole(&what, d, &location, size, reader)?,
        }
        Ok(Sent::Uploaded)
    }

    /// The absolute `Location` of an upload.
    fn location(&self, resp: &Response<Body>, what: &str) -> Result<String, PushFault> {
        let location = header(resp, "location").ok_or_else(|| PushFault::NoLocation {
            what: what.to_string(),
        })?;
        Ok(self.client.absolute(&location))
    }

    /// `location` with `&digest=d` (or `?digest=d`) added.
    fn closing(location: &str, d: &Digest) -> String {
        let sep = if location.contains('?') { '&' } else { '?' };
        format!("{location}{sep}digest={d}")
    }

    /// One `PUT` of the whole blob, streamed, with the digest.
    fn put_whole(
        &self,
        what: &str,
        d: &Digest,
        location: &str,
        size: u64,
        mut reader: Box<dyn Read + '_>,
    ) -> Result<(), PushFault> {
        let headers = [
            ("Content-Length", size.to_string()),
            ("Content-Type", "application/octet-stream".to_string()),
        ];
        let put = Self::closing(location, d);
        let body = SendBody::from_reader(&mut reader);
        let resp = self.send(what, "PUT", &put, &headers, body)?;
        self.judge(what, location, resp.status(), StatusCode::CREATED)?;
        Ok(())
    }

    /// `PATCH`es of `chunk` bytes each (`Content-Range: START-END`, both
    /// inclusive), each to the `Location` the last one answered, then an
    /// empty `PUT` with the digest.
    fn patch_chunks(
        &self,
        what: &str,
        d: &Digest,
        mut location: String,
        size: u64,
        mut reader: Box<dyn Read + '_>,
    ) -> Result<(), PushFault> {
        let mut start = 0u64;
        while start < size {
            let n = self.chunk.min(size - start);
            let headers = [
                ("Content-Length", n.to_string()),
                ("Content-Range", format!("{start}-{}", start + n - 1)),
                ("Content-Type", "application/octet-stream".to_string()),
            ];
            let mut part = (&mut reader).take(n);
            let body = SendBody::from_reader(&mut part);
            let resp = self.send(what, "PATCH", &location, &headers, body)?;
            self.judge(what, &location, resp.status(), StatusCode::ACCEPTED)?;
            location = self.location(&resp, what)?;
            start += n;
        }
        let headers = [("Content-Length", "0".to_string())];
        let put = Self::closing(&location, d);
        let resp = self.send(what, "PUT", &put, &headers, SendBody::none())?;
        self.judge(what, &location, resp.status(), StatusCode::CREATED)?;
        Ok(())
    }

    /// `PUT` the manifest under `object` (a tag); its digest.
    pub fn put_manifest(
        &self,
        object: &str,
        media: &str,
        data: &[u8],
    ) -> Result<Digest, RegistryError> {
        let what = format!("manifest {object}");
        let url = self.client.url(&self.name, "manifests", object);
        let digest = Digest::of(data);
        let headers = [
            ("Content-Type", media.to_string()),
            ("Content-Length", data.len().to_string()),
        ];
        let mut body = data;
        let resp = self.send(
            &what,
            "PUT",
            &url,
            &headers,
            SendBody::from_reader(&mut body),
        )?;
        self.judge(&what, &url, resp.status(), StatusCode::CREATED)?;
        match header(&resp, "docker-content-digest").and_then(|v| v.parse::<Digest>().ok()) {
            Some(n) if n != digest => Err(RegistryError::Mismatch {
                what,
                expected: digest,
                actual: n,
            }),
            _ => Ok(digest),
        }
    }
}
