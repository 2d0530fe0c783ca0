//! The pipe protocol that every cairn tool speaks, specified here once.
//!
//! # Records
//!
//! A tool writes **records** to stdout: one JSON object per line (NDJSON),
//! UTF-8, nothing else. Keys are `snake_case`, in sorted order. Layer IDs
//! and digests are strings `sha256:<64 hex>`; container IDs are 64 hex
//! digits. Times are RFC 3339 strings.
//!
//! Every record is of one **kind**, named by its subject field, and each
//! kind is a type in this module whose fields are documented there and in a
//! JSON Schema generated from it (a test keeps the files in step):
//!
//! | kind | subject | type | schema | written by |
//! |---|---|---|---|---|
//! | layer | `layer` | [`LayerRecord`] | `docs/layer.schema.json` | layer-unpack, commit, history |
//! | image | `layer` | [`ImageRecord`] | `docs/image.schema.json` | load, save -o, build, tag, images, rmi |
//! | container | `container` | [`ContainerRecord`] | `docs/container.schema.json` | union-mount, isolate, ps, stop, kill, pause, unpause, rm |
//! | volume | `volume` | [`VolumeRecord`] | `docs/volume.schema.json` | volume |
//! | network | `network` | [`NetworkRecord`] | `docs/network.schema.json` | network |
//! | finding | `id` | [`FindingRecord`] | `docs/finding.schema.json` | fsck `--format json` |
//!
//! A field means one thing in every kind (`layer` is always a layer ID,
//! `size` always bytes), so a record carried from one kind into another
//! stays valid. A field a tool may set to "unknown" is written as `null`
//! (`history`'s `created`); a field a tool does not set is left out.
//!
//! `inspect` prints documents, not records: the stored metadata and state
//! of a container or layer with computed fields (`state`, `effective_config`,
//! `path`, …), over the upstream fields and with `container` or `layer` set,
//! so they still feed other tools. Their shape follows the store's files,
//! not this protocol; they are typed and have schemas all the same:
//!
//! | document | subject | type | schema |
//! |---|---|---|---|
//! | an image's | `layer` | [`ImageInspect`] | `docs/inspect-image.schema.json` |
//! | a container's | `container` | [`ContainerInspect`] | `docs/inspect-container.schema.json` |
//!
//! On a terminal (and for `-f`) `inspect` prints docker's documents
//! instead, a JSON array with docker's keys (`crate::inspect`); they are
//! for people and templates, never on the pipe.
//!
//! # Subjects and passthrough
//!
//! A tool takes its subjects from its positional arguments or, when none are
//! given, from the records on stdin: each input record's subject field
//! (`layer`, `container`, …) names one subject. A tool reads the record as
//! the kind it takes ([`subjects`]): a container record when it takes a
//! container, an image record when it takes an image (a layer or container
//! record read for its `layer` is a valid image record too, as a field
//! means the same in every kind), either for `inspect` and `export`
//! ([`AnyRecord`]). A record whose fields do not have their kind's types
//! (`"exit_code": "3"`, a `layer` that is not a layer ID) is unusable input.
//!
//! A tool writes one output record per input record, in input order,
//! **carrying every upstream field through** and adding or replacing only
//! its own ([`Kind::over`]), so a pipeline accumulates context. Fields a
//! tool does not know are never dropped (each kind keeps them in its
//! `extra`); the schemas allow them (`additionalProperties: true`).
//!
//! A tool given no subject at all (no argument, empty stdin) fails with a
//! usage error (exit 2). With no argument and stdin a terminal it does not
//! wait for input: usage error with a hint.
//!
//! # isolate: the child's output and the record
//!
//! `isolate` runs a process that may write to stdout itself, so it keeps
//! the record stream apart from it:
//!
//! - container named by an argument: the process owns stdout and stderr,
//!   and isolate prints no record (`cairn isolate web -- cat f > out`);
//! - container from a record on stdin (a pipeline): stdout is the record
//!   stream; the process's stdout goes to stderr, and when it exits isolate
//!   writes one container record with `status`, `exit_code` (and
//!   `oom_killed` when the OOM killer struck), then exits with the
//!   process's status;
//! - `-d`: the output goes to the container's log and isolate writes one
//!   container record at once, with `status` `running` and `pid`.
//!
//! Several records on stdin run one container each, in turn. One that
//! isolate cannot run (no such container, a start that fails) is reported
//! on its own line and the others still run; the exit status is then
//! isolate's own failure status (below) of the last such failure, else the
//! status of the last process that did not exit 0, else 0. With one
//! subject this is simply the process's status or isolate's failure.
//!
//! # Formats
//!
//! `--format json` (one record per line), `--format table` (aligned columns
//! for people) and `--format id` (the bare subject ID per line, for `$(…)`).
//! Listing tools default to `table` when stdout is a terminal and `json`
//! otherwise. Porcelain that changes state (stop, kill, rm, pause,
//! unpause, restart, rmi, tag, commit, load) prints, on a terminal with no
//! `--format` asked, what docker prints instead (the name given,
//! `Untagged: …`, `Deleted: …`, the new image's ID, `Loaded image: …`,
//! nothing for tag); the other tools always default to `json`.
//!
//! # Diagnostics and exit status
//!
//! stderr carries errors (`cairn-<tool>: error: …`, one line, naming the
//! subject), hints (`cairn-<tool>: hint: …`) and progress (only when stderr
//! is a terminal). No record is written for a failed subject. Exit status:
//! 0 ok, 1 the operation failed, 2 bad usage or unusable input. A tool
//! given several subjects goes on past a failed one and exits 1 at the end
//! (as `docker rm a b`). The tools that run a process and pass its status
//! on, `isolate`, `run`, `start` and `exec`, exit with the process's
//! status, 128+N when it died of signal N, and, as docker's, 125 / 126 /
//! 127 for their own failures: 125 anything of theirs (no such image or
//! container, a bad limit such as `-m lots`, a container already running),
//! 126 the command cannot be executed, 127 it was not found. Only an
//! argument clap cannot parse (an unknown flag) is 2 for them too. A tool
//! that finds stdout closed (`| head`) exits 0 quietly. This paragraph is
//! the one place the exit statuses are written down.

mod inspect;
mod kinds;
mod schema;

pub use inspect::{ContainerInspect, ImageInspect};
pub use kinds::{
    ContainerRecord, FindingRecord, ImageRecord, Kind, LayerRecord, NetworkRecord, Nullable,
    PublishedPort, VolumeRecord,
};
pub use schema::schemas;

use serde::Serialize;
use serde_json::{Map, Value};
use std::io::{self, BufRead, Write};

/// One record: a JSON object.
pub type Record = Map<String, Value>;

#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("stdin line {line}: not a JSON object: {reason}")]
    NotAnObject { line: usize, reason: String },
    /// `field`: the names looked for, quoted (`"layer" or "container"`).
    #[error("stdin line {line}: record has no {field} field")]
    MissingField { line: usize, field: String },
    /// A field of the wrong type for the record's kind (`exit_code: "3"`).
    #[error("stdin line {line}: not a valid {kind} record: {reason}")]
    Invalid {
        line: usize,
        kind: &'static str,
        reason: String,
    },
    #[error("reading stdin")]
    Io(#[from] io::Error),
}

/// Read the records on `input`, one JSON object per line; blank lines are
/// skipped.
pub fn read_records<R: BufRead>(input: R) -> impl Iterator<Item = Result<Record, RecordError>> {
    input
        .lines()
        .enumerate()
        .filter_map(|(i, line)| match line {
            Err(e) => Some(Err(RecordError::Io(e))),
            Ok(l) if l.trim().is_empty() => None,
            Ok(l) => Some(match serde_json::from_str::<Value>(&l) {
                Ok(Value::Object(m)) => Ok(m),
                Ok(other) => Err(RecordError::NotAnObject {
                    line: i + 1,
                    reason: format!("found {}", kind(&other)),
                }),
                Err(e) => Err(RecordError::NotAnObject {
                    line: i + 1,
                    reason: e.to_string(),
                }),
            }),
        })
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The string value of `field` in `rec`, if it is a string.
fn field<'a>(rec: &'a Record, field: &str) -> Option<&'a str> {
    rec.get(field).and_then(Value::as_str)
}

/// What a tool reads a record on stdin as: a kind, or [`AnyRecord`] for
/// the tools that take a container or an image.
pub trait Upstream: Serialize + Sized {
    /// The fields that can name the subject, the first found winning.
    const FIELDS: &'static [&'static str];
    /// What the record is called in errors (`container record`, …).
    const WHAT: &'static str;
    /// The record, whose subject `field` (one of [`Self::FIELDS`]) names.
    fn read(rec: Record, field: &str) -> Result<Self, serde_json::Error>;
}

impl<K: Kind> Upstream for K {
    const FIELDS: &'static [&'static str] = &[K::SUBJECT];
    const WHAT: &'static str = K::NAME;
    fn read(rec: Record, _: &str) -> Result<K, serde_json::Error> {
        serde_json::from_value(Value::Object(rec))
    }
}

/// A record naming a container or an image: by its `container` if it has
/// one, else by its `layer`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum AnyRecord {
    Container(ContainerRecord),
    Image(ImageRecord),
}

impl Upstream for AnyRecord {
    const FIELDS: &'static [&'static str] = &["container", "layer"];
    const WHAT: &'static str = "container or image";
    fn read(rec: Record, field: &str) -> Result<AnyRecord, serde_json::Error> {
        match field {
            "container" => ContainerRecord::read(rec, field).map(AnyRecord::Container),
            _ => ImageRecord::read(rec, field).map(AnyRecord::Image),
        }
    }
}

/// A subject to work on: its name and, when it came from stdin, the
/// record that named it (`None` for an argument).
#[derive(Debug, Clone)]
pub struct Subject<U> {
    pub name: String,
    pub record: Option<U>,
}

/// Subjects from `args` or, if there are none, from the records on `input`,
/// each named by the first of `U::FIELDS` it has and read as a `U`. Returns
/// them all, so an error in line 5 is found before work starts on line 1.
pub fn subjects<U: Upstream, R: BufRead>(
    args: &[String],
    input: R,
) -> Result<Vec<Subject<U>>, RecordError> {
    if !args.is_empty() {
        return Ok(args
            .iter()
            .map(|a| Subject {
                name: a.clone(),
                record: None,
            })
            .collect());
    }
    let mut out = Vec::new();
    for (i, rec) in read_records(input).enumerate() {
        let rec = rec?;
        let found = U::FIELDS
            .iter()
            .find_map(|f| field(&rec, f).map(|n| (n.to_string(), *f)));
        let Some((name, f)) = found else {
            return Err(RecordError::MissingField {
                line: i + 1,
                field: U::FIELDS
                    .iter()
                    .map(|f| format!("{f:?}"))
                    .collect::<Vec<_>>()
                    .join(" or "),
            });
        };
        let record = U::read(rec, f).map_err(|e| RecordError::Invalid {
            line: i + 1,
            kind: U::WHAT,
            reason: e.to_string(),
        })?;
        out.push(Subject {
            name,
            record: Some(record),
        });
    }
    Ok(out)
}

/// Write one record as a line of JSON, its keys in sorted order.
pub fn write_record<W: Write, K: Kind>(out: &mut W, rec: &K) -> io::Result<()> {
    serde_json::to_writer(&mut *out, &rec.to_record())?;
    out.write_all(b"\n")
}

/// Render rows as left-aligned columns separated by three spaces, as the
/// docker CLI does. The last column is not padded.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if i < widths.len() {
                widths[i] = widths[i].max(cell.chars().count());
            }
        }
    }
    let mut s = String::new();
    let line = |s: &mut String, cells: Vec<&str>| {
        let n = cells.len();
        for (i, c) in cells.into_iter().enumerate() {
            s.push_str(c);
            if i + 1 < n {
                let pad = widths[i] - c.chars().count() + 3;
                s.extend(std::iter::repeat_n(' ', pad));
            }
        }
        // trailing spaces of empty last cells are noise
        while s.ends_with(' ') {
            s.pop();
        }
        s.push('\n');
    };
    line(&mut s, headers.to_vec());
    for row in rows {
        line(&mut s, row.iter().map(String::as_str).collect());
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_from_stdin_keep_unknown_fields() {
        let a = format!("sha256:{}", "aa".repeat(32));
        let input = format!("{{\"layer\":\"{a}\",\"mine\":[1,2]}}\n\n");
        let s = subjects::<ImageRecord, _>(&[], input.as_bytes()).unwrap();
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].name, a);
        let rec = s[0].record.as_ref().unwrap();
        assert_eq!(rec.extra["mine"], serde_json::json!([1, 2]));
    }

    #[test]
    fn args_win_over_stdin() {
        let s = subjects::<ImageRecord, _>(&["a".into()], &b"{\"layer\":\"b\"}\n"[..]).unwrap();
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].name, "a");
        assert!(s[0].record.is_none());
    }

    #[test]
    fn bad_lines_are_named() {
        let e = subjects::<ImageRecord, _>(&[], &b"{\"layer\":\"a\"}\n[1]\n"[..]).unwrap_err();
        assert!(e.to_string().contains("line 1"), "not an ID: {e}");
        let e = subjects::<ImageRecord, _>(&[], &b"[1]\n"[..]).unwrap_err();
        assert!(e.to_string().contains("line 1"), "{e}");
        let e = subjects::<ImageRecord, _>(&[], &b"{\"other\":1}\n"[..]).unwrap_err();
        assert!(e.to_string().contains("\"layer\""), "{e}");
        let c = "07".repeat(32);
        let line = format!("{{\"container\":\"{c}\",\"exit_code\":\"3\"}}\n");
        let e = subjects::<ContainerRecord, _>(&[], line.as_bytes()).unwrap_err();
        assert!(e.to_string().contains("container record"), "{e}");
    }

    #[test]
    fn any_record_is_typed_by_its_subject_field() {
        let c = "07".repeat(32);
        let l = format!("sha256:{}", "aa".repeat(32));
        let input = format!("{{\"container\":\"{c}\",\"layer\":\"{l}\"}}\n{{\"layer\":\"{l}\"}}\n");
        let s = subjects::<AnyRecord, _>(&[], input.as_bytes()).unwrap();
        assert_eq!(s[0].name, c);
        assert!(matches!(s[0].record, Some(AnyRecord::Container(_))));
        assert_eq!(s[1].name, l);
        assert!(matches!(s[1].record, Some(AnyRecord::Image(_))));
    }

    #[test]
    fn table_aligns() {
        let t = table(&["A", "BB"], &[vec!["xxxx".into(), "y".into()]]);
        assert_eq!(t, "A      BB\nxxxx   y\n");
    }
}
