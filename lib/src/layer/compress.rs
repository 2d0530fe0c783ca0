//! Compression of layer streams, detected by magic bytes.

use std::io::{self, BufRead, Read};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

/// The largest zstd window accepted (2^27 = 128 MiB), so a hostile frame
/// cannot make us allocate more (CVE-2014-9357's lesson: decompress in
/// process, with bounded memory).
pub const ZSTD_WINDOW_LOG_MAX: u32 = 27;

impl Compression {
    /// Look at the first bytes of `input` without consuming them.
    pub fn detect<R: BufRead>(input: &mut R) -> io::Result<Compression> {
        let head = input.fill_buf()?;
        Ok(if head.starts_with(&[0x1f, 0x8b]) {
            Compression::Gzip
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Compression::Zstd
        } else {
            Compression::None
        })
    }

    /// The OCI media type of a layer blob compressed this way.
    pub fn media_type(self) -> &'static str {
        match self {
            Compression::None => "application/vnd.oci.image.layer.v1.tar",
            Compression::Gzip => "application/vnd.oci.image.layer.v1.tar+gzip",
            Compression::Zstd => "application/vnd.oci.image.layer.v1.tar+zstd",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        }
    }

    /// A reader that decompresses `input`, in process, with bounded memory.
    pub fn decoder<'a, R: BufRead + 'a>(self, input: R) -> io::Result<Box<dyn Read + 'a>> {
        Ok(match self {
            Compression::None => Box::new(input),
            Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(input)),
            Compression::Zstd => {
                let mut d = zstd::stream::read::Decoder::with_buffer(input)?;
                d.window_log_max(ZSTD_WINDOW_LOG_MAX)?;
                Box::new(d)
            }
        })
    }
}
