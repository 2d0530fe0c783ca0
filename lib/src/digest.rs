//! Content digests and the IDs built on them.
//!
//! Every ID that reaches a path is parsed first with the strict grammar
//! `^sha256:[a-f0-9]{64}$`; paths are built only from the validated hex, so
//! no name can climb out of the store (CVE-2014-9358, CVE-2024-3727).

use sha2::{Digest as _, Sha256};
use std::fmt;
use std::io::{self, Read, Write};
use std::str::FromStr;

/// A sha256 digest, `sha256:<64 lowercase hex>`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest([u8; 32]);

#[derive(Debug, thiserror::Error)]
#[error("invalid digest {0:?}: expected sha256:<64 lowercase hex>")]
pub struct DigestError(pub String);

impl Digest {
    pub fn from_bytes(raw: [u8; 32]) -> Self {
        Digest(raw)
    }

    /// The digest of `data`.
    pub fn of(data: &[u8]) -> Self {
        Digest(Sha256::digest(data).into())
    }

    /// Parse only the 64-hex part.
    pub fn from_hex(hex: &str) -> Result<Self, DigestError> {
        let b = hex.as_bytes();
        if b.len() != 64 {
            return Err(DigestError(hex.to_string()));
        }
        let mut out = [0u8; 32];
        for (i, pair) in b.chunks(2).enumerate() {
            let hi = hex_val(pair[0]).ok_or_else(|| DigestError(hex.to_string()))?;
            let lo = hex_val(pair[1]).ok_or_else(|| DigestError(hex.to_string()))?;
            out[i] = hi << 4 | lo;
        }
        Ok(Digest(out))
    }

    pub fn hex(&self) -> String {
        let mut s = String::with_capacity(64);
        for b in self.0 {
            s.push(HEX[(b >> 4) as usize] as char);
            s.push(HEX[(b & 15) as usize] as char);
        }
        s
    }

    /// The first 12 hex digits, as docker shows IDs.
    pub fn short(&self) -> String {
        self.hex()[..12].to_string()
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    }
}

impl FromStr for Digest {
    type Err = DigestError;
    fn from_str(s: &str) -> Result<Self, DigestError> {
        match s.strip_prefix("sha256:") {
            Some(hex) => Digest::from_hex(hex).map_err(|_| DigestError(s.to_string())),
            None => Err(DigestError(s.to_string())),
        }
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256:{}", self.hex())
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl serde::Serialize for Digest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Digest {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

macro_rules! id_type {
    ($(#[$m:meta])* $name:ident) => {
        $(#[$m])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Digest);

        impl $name {
            pub fn hex(&self) -> String {
                self.0.hex()
            }
            pub fn short(&self) -> String {
                self.0.short()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl FromStr for $name {
            type Err = DigestError;
            fn from_str(s: &str) -> Result<Self, DigestError> {
                s.parse().map($name)
            }
        }
    };
}

id_type!(
    /// A layer ID: the digest of the layer's canonical metadata JSON.
    LayerId
);

/// A container ID: 32 random bytes, written as 64 hex digits (as docker
/// writes container IDs; a container is not content-addressed, so it has
/// no `sha256:` prefix).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ContainerId(pub [u8; 32]);

impl ContainerId {
    /// A fresh random ID.
    pub fn random() -> std::io::Result<ContainerId> {
        let mut b = [0u8; 32];
        std::fs::File::open("/dev/urandom")?.read_exact(&mut b)?;
        Ok(ContainerId(b))
    }
    pub fn hex(&self) -> String {
        Digest(self.0).hex()
    }
    /// The first 12 hex digits, as docker shows container IDs.
    pub fn short(&self) -> String {
        self.hex()[..12].to_string()
    }
}

impl fmt::Display for ContainerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.hex())
    }
}

impl fmt::Debug for ContainerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.hex())
    }
}

impl FromStr for ContainerId {
    type Err = DigestError;
    fn from_str(s: &str) -> Result<Self, DigestError> {
        Digest::from_hex(s)
            .map(|d| ContainerId(d.0))
            .map_err(|_| DigestError(s.to_string()))
    }
}

impl serde::Serialize for ContainerId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for ContainerId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A running sha256 over everything that passes through.
#[derive(Clone, Default)]
pub struct Hasher {
    inner: Sha256,
    len: u64,
}

impl Hasher {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn update(&mut self, data: &[u8]) {
        self.inner.update(data);
        self.len += data.len() as u64;
    }
    pub fn len(&self) -> u64 {
        self.len
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    pub fn finish(self) -> Digest {
        Digest(self.inner.finalize().into())
    }
}

/// A writer that hashes and counts what it passes on.
pub struct HashingWriter<W> {
    inner: W,
    hasher: Hasher,
}

impl<W: Write> HashingWriter<W> {
    pub fn new(inner: W) -> Self {
        HashingWriter {
            inner,
            hasher: Hasher::new(),
        }
    }
    /// Digest and length of everything written, with the writer.
    pub fn finish(self) -> (Digest, u64, W) {
        let len = self.hasher.len();
        (self.hasher.finish(), len, self.inner)
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// A reader that copies every byte it hands out into a writer (the blob
/// being kept as received) and hashes it.
pub struct TeeReader<R, W> {
    inner: R,
    out: W,
    hasher: Hasher,
}

impl<R: Read, W: Write> TeeReader<R, W> {
    pub fn new(inner: R, out: W) -> Self {
        TeeReader {
            inner,
            out,
            hasher: Hasher::new(),
        }
    }
    pub fn len(&self) -> u64 {
        self.hasher.len()
    }
    pub fn is_empty(&self) -> bool {
        self.hasher.is_empty()
    }
    /// Copy the rest of the input, then return digest, length and the writer.
    pub fn finish(mut self) -> io::Result<(Digest, u64, W)> {
        io::copy(&mut self, &mut io::sink())?;
        self.out.flush()?;
        let len = self.hasher.len();
        Ok((self.hasher.finish(), len, self.out))
    }
}

impl<R: Read, W: Write> Read for TeeReader<R, W> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.out.write_all(&buf[..n])?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

/// `ChainID(L0..Ln)` as the OCI image spec defines it.
pub fn chain_id(diff_ids: &[Digest]) -> Option<Digest> {
    let mut it = diff_ids.iter();
    let mut chain = *it.next()?;
    for d in it {
        chain = Digest::of(format!("{chain} {d}").as_bytes());
    }
    Some(chain)
}

#[cfg(test)]
mod tests {
    use super::*;

    const EMPTY_TAR: &str =
        "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef";

    #[test]
    fn strict_grammar() {
        assert!(EMPTY_TAR.parse::<Digest>().is_ok());
        for bad in [
            "5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef",
            "sha256:5F70BF18A086007016E948B04AED3B82103A36BEA41755B6CDDFAF10ACE3C6EF",
            "sha256:../../etc/passwd",
            "sha256:5f70",
            "sha512:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef",
            "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6eg",
        ] {
            assert!(bad.parse::<Digest>().is_err(), "{bad}");
        }
    }

    #[test]
    fn chain_id_vectors() {
        let e: Digest = EMPTY_TAR.parse().unwrap();
        assert_eq!(Digest::of(&[0u8; 1024]), e);
        assert_eq!(chain_id(&[e]).unwrap(), e);
        assert_eq!(
            chain_id(&[e, e]).unwrap().to_string(),
            "sha256:170b376f64fb30995c140276be3d71dfb256b308d86183ca3b22aa93a79ad548"
        );
        assert_eq!(
            chain_id(&[e, e, e]).unwrap().to_string(),
            "sha256:7800f80a93336d416612f372faa5f69eb67b353ce6ae9535fa0848f8784c74b1"
        );
    }

    #[test]
    fn tee_reader_counts_padding() {
        let data = vec![7u8; 10000];
        let mut r = TeeReader::new(&data[..], io::sink());
        let mut first = [0u8; 100];
        r.read_exact(&mut first).unwrap();
        let (d, n, _) = r.finish().unwrap();
        assert_eq!(n, 10000);
        assert_eq!(d, Digest::of(&data));
    }
}
