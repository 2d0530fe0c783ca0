//! Bringing one layer tar into the store: decompress, hash and extract in a
//! single streaming pass, verify, then publish.

use super::meta::{BlobRef, LayerInfo, LayerMeta};
use super::{IoContext, Store, StoreError};
use crate::digest::{Digest, LayerId};
use crate::layer::stream::{self, StreamError};
use crate::layer::{self, Compression, UnpackError, UnpackOptions};
use std::fs;
use std::io::{self, BufReader, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error(transparent)]
    Unpack(#[from] UnpackError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{what} mismatch: expected {expected}, got {actual}")]
    Mismatch {
        what: &'static str,
        expected: Digest,
        actual: Digest,
    },
    #[error("reading input: {0}")]
    Input(io::Error),
}

/// What to verify and record.
#[derive(Default)]
pub struct IngestOptions<'a> {
    /// Metadata of the new layer; `diff_id` is filled in from the stream.
    pub meta: LayerMeta,
    /// Refuse unless the uncompressed stream hashes to this.
    pub expect_diff_id: Option<Digest>,
    /// Refuse unless the stream as received hashes to this.
    pub expect_blob: Option<Digest>,
    /// Called with the bytes of input consumed so far.
    pub progress: Option<&'a mut dyn FnMut(u64)>,
    /// For an uncompressed stream, keep a tar-split (`layers/<id>/tar-split`)
    /// instead of a second copy of the stream: the blob is rebuilt from the
    /// changeset, and verified, when an image first needs it
    /// ([`Store::layer_blob`]). A compressed stream is always kept as is.
    pub split: bool,
}

/// The result of an ingest.
#[derive(Debug, Clone)]
pub struct Ingested {
    pub id: LayerId,
    pub meta: LayerMeta,
    pub info: LayerInfo,
    pub compression: Compression,
    pub entries: u64,
}

/// Read a layer tar (plain, gzip or zstd) from `input` and publish it as a
/// new layer. Nothing is published unless the whole stream was read,
/// extracted and verified.
pub fn ingest_layer<R: Read + Send>(
    store: &Store,
    input: R,
    opts: IngestOptions<'_>,
) -> Result<Ingested, IngestError> {
    let mut input = BufReader::with_capacity(1 << 20, input);
    let compression = Compression::detect(&mut input).map_err(IngestError::Input)?;
    ingest_from(store, Feed::Read(input), compression, opts)
}

/// [`ingest_layer`] of a file: a plain layer in a regular file, kept as
/// a tar-split, is read through a mapping of it (see [`layer::mapped`]);
/// anything else as a stream.
pub fn ingest_layer_file(
    store: &Store,
    file: &fs::File,
    opts: IngestOptions<'_>,
) -> Result<Ingested, IngestError> {
    match opts
        .split
        .then(|| layer::mapped::Mapping::of(file))
        .flatten()
    {
        Some(map) if Compression::detect(&mut map.bytes()).ok() == Some(Compression::None) => {
            ingest_from(store, Feed::<fs::File>::Map(map), Compression::None, opts)
        }
        _ => ingest_layer(store, file, opts),
    }
}

/// Where an ingest's bytes come from.
enum Feed<R> {
    Read(BufReader<R>),
    Map(Arc<layer::mapped::Mapping>),
}

fn ingest_from<R: Read + Send>(
    store: &Store,
    feed: Feed<R>,
    compression: Compression,
    mut opts: IngestOptions<'_>,
) -> Result<Ingested, IngestError> {
    let lower = match &opts.meta.parent {
        Some(p) => store.stack(p)?,
        None => layer::Stack::default(),
    };
    let staging = store.stage("layer")?;
    let diff = staging.path().join("diff");
    fs::create_dir(&diff).at(&diff)?;
    let blob_path = staging.path().join("blob");
    let split_path = staging.path().join(layer::split::FILE_NAME);

    let seen = Arc::new(AtomicU64::new(0));
    let mut progress = opts.progress.take();
    let mut cb = |_: u64| {
        if let Some(p) = progress.as_mut() {
            p(seen.load(Ordering::Relaxed))
        }
    };
    let split = opts.split && compression == Compression::None;
    let recording = if split {
        let w = layer::split::SplitWriter::create(&split_path).at(&split_path)?;
        layer::split::Recording::new(w)
    } else {
        layer::split::Recording::off()
    };
    let blob_file = if split {
        None
    } else {
        Some(staging.create_file("blob")?.1)
    };
    // Read, decompress and hash on a second thread; extract on this one.
    let (unpacked, streamed) = std::thread::scope(|scope| {
        let (reader, worker) = match feed {
            Feed::Read(input) => stream::spawn(scope, input, compression, blob_file, seen.clone()),
            Feed::Map(map) => stream::spawn_mapped(scope, map, seen.clone()),
        };
        let unpacked = layer::unpack_chunks(
            reader,
            &diff,
            UnpackOptions {
                lower: Some(&lower),
                progress: Some(&mut cb),
                split: recording.clone(),
                writeback: true,
            },
        )
        .map(|(stats, reader)| {
            drop(reader);
            stats
        });
        let streamed = worker.join().unwrap_or_else(|_| {
            Err(StreamError::Input(io::Error::other(
                "the reading thread panicked",
            )))
        });
        (unpacked, streamed)
    });
    let (stats, sum) = outcome(unpacked, streamed, &blob_path)?;
    recording.finish().at(&split_path)?;
    let diff_id = sum.diff_id;
    let (blob_digest, blob_len) = (sum.blob_digest, sum.blob_len);

    check("diff_id", opts.expect_diff_id, diff_id)?;
    check("blob digest", opts.expect_blob, blob_digest)?;

    if !split {
        store.publish_blob_file(&blob_path, &blob_digest)?;
    }
    let mut meta = opts.meta;
    meta.diff_id = Some(diff_id);
    let info = LayerInfo {
        size: stats.size,
        blob: Some(BlobRef {
            digest: blob_digest,
            size: blob_len,
            media_type: compression.media_type().to_string(),
        }),
        remote: Vec::new(),
    };
    let id = store.publish_layer(staging, &meta, &info)?;
    Ok(Ingested {
        id,
        meta,
        info,
        compression,
        entries: stats.entries,
    })
}

/// What the extraction and the reading thread came to, as one result.
fn outcome(
    unpacked: Result<layer::Unpacked, UnpackError>,
    streamed: Result<stream::Summary, StreamError>,
    blob_path: &std::path::Path,
) -> Result<(layer::Unpacked, stream::Summary), IngestError> {
    match (unpacked, streamed) {
        (Ok(stats), Ok(sum)) => Ok((stats, sum)),
        // A hostile entry is the first thing to report, then what went
        // wrong with the stream itself (a corrupt trailer can show up only
        // after the tar extracted fine).
        (Err(e @ UnpackError::Refused { .. }), _) => Err(e.into()),
        (_, Err(StreamError::Input(e))) => {
            Err(UnpackError::Stream(format!("corrupt stream: {e}")).into())
        }
        (_, Err(StreamError::Blob(e))) => Err(e).at(blob_path).map_err(Into::into),
        (Err(e), _) => Err(e.into()),
        (Ok(_), Err(StreamError::Cancelled)) => unreachable!("the stream was read to its end"),
    }
}

/// The digest `what` is the one expected, if one is.
fn check(what: &'static str, expected: Option<Digest>, actual: Digest) -> Result<(), IngestError> {
    match expected {
        Some(expected) if expected != actual => Err(IngestError::Mismatch {
            what,
            expected,
            actual,
        }),
        _ => Ok(()),
    }
}

/// Publish a layer with no changeset (metadata only).
pub fn empty_layer(store: &Store, meta: LayerMeta) -> Result<LayerId, StoreError> {
    let mut meta = meta;
    meta.diff_id = None;
    let id = meta.id();
    if store.has_layer(&id) {
        return Ok(id);
    }
    let staging = store.stage("layer")?;
    store.publish_layer(staging, &meta, &LayerInfo::default())
}
