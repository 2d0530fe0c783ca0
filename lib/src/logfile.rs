//! A container's log: what its process wrote, per message its stream and
//! its time, in files that cannot fill the disk.
//!
//! Records are appended to `PATH` until it would pass `max_size`, then
//! `PATH` becomes `PATH.1` (`PATH.1` becomes `PATH.2`, …) and a new `PATH`
//! starts; at most `max_files` files are kept, the oldest dropped. The
//! bounds of docker's `local` log driver are the default: 5 files of 20 MB.
//!
//! The format (store format, docs/store.md): a file starts with [`MAGIC`];
//! then records, each a 16-byte head and the bytes. The head is the stream
//! (1 stdout, 2 stderr: the numbers of docker's stream frames), three zero
//! bytes, the length of the bytes as a big-endian u32 (at most
//! [`LINE_MAX`]), and the time the bytes were read, in nanoseconds since
//! the Unix epoch, as a big-endian i64. The bytes are one line with its
//! newline, or a part of a line cut at [`LINE_MAX`] (as docker cuts), or a
//! last line that never got its newline. A record is never split between
//! two files.
//!
//! A file that does not start with [`MAGIC`] was written by an older
//! cairn: raw bytes, read as stdout lines with no time. A writer that
//! finds one rotates it away first, so a file is always of one format.

use std::collections::VecDeque;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// How big a log may grow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounds {
    /// Bytes per file (a file holds at least one record, cut to fit).
    pub max_size: u64,
    /// Files kept, the current one included (at least 1).
    pub max_files: u32,
}

impl Default for Bounds {
    fn default() -> Self {
        Bounds {
            max_size: 20 << 20,
            max_files: 5,
        }
    }
}

/// The first bytes of a framed log file (a raw one from an older cairn
/// never starts with a NUL byte: it is a process's text).
pub const MAGIC: &[u8] = b"\0cairn-log 1\n";

/// The size of a record's head.
const HEAD: usize = 16;

/// The longest record: a longer line is cut (docker cuts log messages at
/// 16 KiB too).
pub const LINE_MAX: usize = 16 << 10;

/// The stream a record came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

impl Stream {
    /// Its number in a record's head (and in docker's stream frames).
    pub fn code(self) -> u8 {
        match self {
            Stream::Stdout => 1,
            Stream::Stderr => 2,
        }
    }

    pub fn from_code(c: u8) -> Option<Stream> {
        match c {
            1 => Some(Stream::Stdout),
            2 => Some(Stream::Stderr),
            _ => None,
        }
    }

    fn index(self) -> usize {
        usize::from(self.code() - 1)
    }
}

/// One message of the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub stream: Stream,
    /// Nanoseconds since the Unix epoch; `None` in an older cairn's log.
    pub time: Option<i64>,
    pub data: Vec<u8>,
}

fn now_ns() -> i64 {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(t.as_nanos()).unwrap_or(i64::MAX)
}

/// An open, rotating log.
pub struct Rotating {
    path: PathBuf,
    bounds: Bounds,
    file: File,
    size: u64,
    /// Per stream, the start of a line whose end has not come yet.
    pending: [Vec<u8>; 2],
}

fn numbered(path: &Path, n: u32) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(format!(".{n}"));
    PathBuf::from(p)
}

fn open_append(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o640)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
}

fn starts_framed(path: &Path) -> io::Result<bool> {
    let mut head = Vec::with_capacity(MAGIC.len());
    File::open(path)?
        .take(MAGIC.len() as u64)
        .read_to_end(&mut head)?;
    Ok(head == MAGIC)
}

/// The records `buf` holds whole, each up to a newline or [`LINE_MAX`]
/// bytes of a longer line (with `all`, the rest too); how many bytes
/// they take.
fn split_records(buf: &[u8], all: bool) -> (Vec<&[u8]>, usize) {
    let mut out = Vec::new();
    let mut start = 0;
    while start < buf.len() {
        let rest = &buf[start..];
        let window = &rest[..rest.len().min(LINE_MAX)];
        let n = match window.iter().position(|&b| b == b'\n') {
            Some(i) => i + 1,
            None if window.len() == LINE_MAX || all => window.len(),
            None => break,
        };
        out.push(&rest[..n]);
        start += n;
    }
    (out, start)
}

fn head(stream: Stream, len: usize, time: i64) -> [u8; HEAD] {
    let mut h = [0u8; HEAD];
    h[0] = stream.code();
    h[4..8].copy_from_slice(&(len as u32).to_be_bytes());
    h[8..].copy_from_slice(&time.to_be_bytes());
    h
}

impl Rotating {
    /// Open `path` for appending (it may hold an earlier run's output; an
    /// older cairn's raw log is rotated away first).
    pub fn open(path: &Path, bounds: Bounds) -> io::Result<Rotating> {
        let file = open_append(path)?;
        let size = file.metadata()?.len();
        let mut log = Rotating {
            path: path.to_path_buf(),
            bounds: Bounds {
                max_files: bounds.max_files.max(1),
                ..bounds
            },
            file,
            size,
            pending: [Vec::new(), Vec::new()],
        };
        if size == 0 {
            log.write(MAGIC)?;
        } else if !starts_framed(path)? {
            log.rotate()?;
        }
        Ok(log)
    }

    fn rotate(&mut self) -> io::Result<()> {
        let n = self.bounds.max_files;
        if n <= 1 {
            self.file.set_len(0)?;
        } else {
            let _ = std::fs::remove_file(numbered(&self.path, n - 1));
            for i in (1..n - 1).rev() {
                let _ = std::fs::rename(numbered(&self.path, i), numbered(&self.path, i + 1));
            }
            std::fs::rename(&self.path, numbered(&self.path, 1))?;
            self.file = open_append(&self.path)?;
        }
        self.size = 0;
        self.write(MAGIC)
    }

    /// Append `buf`, read from the process's `stream` now. Lines are kept
    /// whole: a line is held back until its end arrives (or it reaches
    /// [`LINE_MAX`], when that much is a record of its own).
    pub fn append(&mut self, stream: Stream, buf: &[u8]) -> io::Result<()> {
        self.write_pending(stream, buf, false)
    }

    /// Write what is held back of last, unfinished lines.
    pub fn flush(&mut self) -> io::Result<()> {
        self.write_pending(Stream::Stdout, &[], true)?;
        self.write_pending(Stream::Stderr, &[], true)
    }

    /// Write the whole records of what `stream` held back and `buf`.
    fn write_pending(&mut self, stream: Stream, buf: &[u8], all: bool) -> io::Result<()> {
        let mut pending = std::mem::take(&mut self.pending[stream.index()]);
        pending.extend_from_slice(buf);
        let (records, used) = split_records(&pending, all);
        let written = self.write_records(stream, now_ns(), &records);
        pending.drain(..used);
        self.pending[stream.index()] = pending;
        written
    }

    /// Write records in one write per file; a file is rotated before a
    /// record that would not fit in it. A record too big for an empty
    /// file is cut to what fits (at least a byte).
    fn write_records(&mut self, stream: Stream, time: i64, records: &[&[u8]]) -> io::Result<()> {
        let bytes: usize = records.iter().map(|r| HEAD + r.len()).sum();
        let mut batch = Vec::with_capacity(bytes);
        let mut size = self.size;
        let fresh = MAGIC.len() as u64;
        for rec in records {
            let mut data = *rec;
            while !data.is_empty() {
                let room = self.bounds.max_size.saturating_sub(size + HEAD as u64) as usize;
                if data.len() > room && size > fresh {
                    self.write(&std::mem::take(&mut batch))?;
                    self.rotate()?;
                    size = self.size;
                    continue;
                }
                let n = data.len().min(room.max(1));
                batch.extend_from_slice(&head(stream, n, time));
                batch.extend_from_slice(&data[..n]);
                size += (HEAD + n) as u64;
                data = &data[n..];
            }
        }
        self.write(&batch)
    }

    fn write(&mut self, buf: &[u8]) -> io::Result<()> {
        if !buf.is_empty() {
            self.file.write_all(buf)?;
            self.size += buf.len() as u64;
        }
        Ok(())
    }
}

/// A log's files that exist, oldest first: `PATH.N` … `PATH.1`, `PATH`.
pub fn files(path: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = (1..)
        .map(|n| numbered(path, n))
        .take_while(|p| p.exists())
        .collect();
    out.reverse();
    if path.exists() {
        out.push(path.to_path_buf());
    }
    out
}

/// How a file's bytes are to be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Framed,
    /// An older cairn's: stdout's bytes, no times.
    Raw,
}

/// The format of a file that starts with `start`; `None` while too little
/// of it was written to tell.
fn format_of(start: &[u8]) -> Option<Format> {
    if start.starts_with(MAGIC) {
        Some(Format::Framed)
    } else if MAGIC.starts_with(start) {
        None
    } else {
        Some(Format::Raw)
    }
}

fn damaged(path: &Path, offset: u64, what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!(
            "{}: damaged log at byte {offset}: {what}; remove the file to go on",
            path.display()
        ),
    )
}

/// The whole records of `buf`, the bytes of a `format` file from its
/// byte `at` on, given to `emit`; how many bytes they took. A raw file's
/// last, unfinished line is given too when `all`; a framed file's
/// unfinished record never is (its writer is still at it).
fn parse(
    format: Format,
    buf: &[u8],
    all: bool,
    (path, at): (&Path, u64),
    emit: &mut dyn FnMut(Record) -> io::Result<()>,
) -> io::Result<usize> {
    if format == Format::Raw {
        let (records, used) = split_records(buf, all);
        for data in records {
            emit(Record {
                stream: Stream::Stdout,
                time: None,
                data: data.to_vec(),
            })?;
        }
        return Ok(used);
    }
    let mut used = 0;
    while let Some(h) = buf.get(used..used + HEAD) {
        let len = u32::from_be_bytes([h[4], h[5], h[6], h[7]]) as usize;
        let offset = at + used as u64;
        let stream = Stream::from_code(h[0]).filter(|_| h[1..4] == [0, 0, 0]);
        let Some(stream) = stream else {
            return Err(damaged(path, offset, "not a record's head"));
        };
        if len > LINE_MAX {
            return Err(damaged(path, offset, "a record longer than 16 KiB"));
        }
        let Some(data) = buf.get(used + HEAD..used + HEAD + len) else {
            break;
        };
        let time = i64::from_be_bytes(h[8..16].try_into().unwrap_or_default());
        emit(Record {
            stream,
            time: Some(time),
            data: data.to_vec(),
        })?;
        used += HEAD + len;
    }
    Ok(used)
}

/// Where a reader of a growing log is: the current file, its format and
/// how much of it was read. [`Follow::more`] gives what was appended
/// since, across a rotation.
pub struct Follow {
    path: PathBuf,
    ino: u64,
    offset: u64,
    format: Option<Format>,
}

fn ino(path: &Path) -> Option<u64> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| m.ino())
}

impl Follow {
    /// A reader at the start of the current file (none yet: of the file
    /// that will be there).
    fn at_start(path: &Path) -> Follow {
        Follow {
            path: path.to_path_buf(),
            ino: ino(path).unwrap_or(0),
            offset: 0,
            format: None,
        }
    }

    /// Read `file` from where this reader is, records to `emit`.
    fn read_from(
        &mut self,
        file: &Path,
        all: bool,
        emit: &mut dyn FnMut(Record) -> io::Result<()>,
    ) -> io::Result<()> {
        let mut f = File::open(file)?;
        f.seek(SeekFrom::Start(self.offset))?;
        let mut buf = Vec::new();
        f.read_to_end(&mut buf)?;
        let mut at = 0;
        if self.format.is_none() {
            self.format = format_of(&buf);
            if self.format == Some(Format::Framed) {
                at = MAGIC.len();
            }
        }
        let Some(format) = self.format else {
            return Ok(());
        };
        let start = self.offset + at as u64;
        let used = parse(format, &buf[at..], all, (file, start), emit)?;
        self.offset = start + used as u64;
        Ok(())
    }

    /// The records appended since the last call, to `emit`. After a
    /// rotation the rest of the file read so far (now `PATH.1`) comes
    /// first.
    pub fn more(&mut self, emit: &mut dyn FnMut(Record) -> io::Result<()>) -> io::Result<()> {
        let Some(now) = ino(&self.path) else {
            return Ok(());
        };
        if now != self.ino {
            let old = numbered(&self.path, 1);
            if ino(&old) == Some(self.ino) {
                self.read_from(&old, true, emit)?;
            }
            (self.ino, self.offset, self.format) = (now, 0, None);
        }
        let path = self.path.clone();
        self.read_from(&path, true, emit)
    }
}

/// Give `emit` every record the log at `path` holds, its files in order,
/// or only its last `tail` records (lines, or parts of lines longer than
/// [`LINE_MAX`], as docker's `--tail` counts messages); where to
/// [`Follow`] it from, just after. Memory holds a file's bytes at a time
/// and the `tail` records.
pub fn read(
    path: &Path,
    tail: Option<usize>,
    mut emit: impl FnMut(Record) -> io::Result<()>,
) -> io::Result<Follow> {
    let mut kept: VecDeque<Record> = VecDeque::new();
    let mut keep = |r: Record| -> io::Result<()> {
        match tail {
            None => emit(r),
            Some(0) => Ok(()),
            Some(n) => {
                if kept.len() == n {
                    kept.pop_front();
                }
                kept.push_back(r);
                Ok(())
            }
        }
    };
    let mut follow = Follow::at_start(path);
    for f in files(path) {
        let mut reader = Follow::at_start(&f);
        reader.read_from(&f, true, &mut keep)?;
        if f == path {
            follow = reader;
        }
    }
    for r in kept {
        emit(r)?;
    }
    Ok(follow)
}

/// A record's time as `docker logs -t` prints it: RFC 3339 in UTC with
/// nine digits of fraction (docker's RFC3339NanoFixed); an older cairn's
/// record, which has none, gets the zero time, as docker prints one.
pub fn docker_time(time: Option<i64>) -> String {
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:9]Z"
    );
    time.and_then(|t| time::OffsetDateTime::from_unix_timestamp_nanos(t.into()).ok())
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_else(|| "0001-01-01T00:00:00.000000000Z".into())
}

/// How `logs` shows records: stdout's on one writer, stderr's on the
/// other, as docker's client does.
#[derive(Debug, Clone, Copy, Default)]
pub struct Show {
    /// Each line after its [`docker_time`] and a space.
    pub timestamps: bool,
    /// Only records of this time or later (ns since the epoch; a record
    /// with no time is older than any).
    pub since: Option<i64>,
    /// Only records of this time or earlier (docker's bounds are both
    /// inclusive).
    pub until: Option<i64>,
}

impl Show {
    /// Write `r` where it belongs, if it is in the time asked for.
    pub fn write(&self, r: &Record, out: &mut dyn Write, err: &mut dyn Write) -> io::Result<()> {
        let t = r.time.unwrap_or(i64::MIN);
        if self.since.is_some_and(|s| t < s) || self.until.is_some_and(|u| t > u) {
            return Ok(());
        }
        let put = |w: &mut dyn Write| {
            if self.timestamps {
                write!(w, "{} ", docker_time(r.time))?;
            }
            w.write_all(&r.data)
        };
        match r.stream {
            Stream::Stdout => put(out),
            Stream::Stderr => put(err),
        }
    }
}

/// A time `--since`/`--until` take, read as docker 20.10's client reads
/// one (`GetTimestamp` in its api/types/time), in nanoseconds since the
/// epoch:
///
/// - a duration before `now` (`10m`, `1h30m`, `1.5s`, `300ms`; not `0`),
///   to the whole second before it, as docker sends it;
/// - a date and time, `2026-12-02T10:00:00[.FRACTION]`, `2026-12-02T10:00`,
///   `2026-12-02T10` or a date alone `2026-12-02` (its midnight), with a
///   zone (`Z`, `+01:00`, `-05:00`) or without one: then in the local zone,
///   whose offset from UTC now is `local` seconds east (docker's
///   `time.FixedZone` of the current zone);
/// - a Unix time in seconds (with or without a fraction).
pub fn parse_time(s: &str, now: i64, local: i32) -> Option<i64> {
    const NS: i64 = 1_000_000_000;
    if s != "0" {
        if let Some(d) = duration_ns(s) {
            return Some(now.saturating_sub(d).div_euclid(NS) * NS);
        }
    }
    match calendar(s, local) {
        Some(t) => Some(t),
        // docker takes text with a `-` for a date, and fails on it
        None if s.contains('-') => None,
        None => seconds(s),
    }
}

/// `DATE[THH[:MM[:SS[.FRACTION]]]]` and a zone when `s` has one (docker's
/// rule: a `z`, `Z` or `+`, or three `-`), else in the zone `local`
/// seconds east of UTC. A fraction needs the seconds.
fn calendar(s: &str, local: i32) -> Option<i64> {
    use time::{Date, Month, PrimitiveDateTime, Time, UtcOffset};
    let zoned = s.contains(['z', 'Z', '+']) || s.matches('-').count() == 3;
    let (body, offset) = match zoned {
        false => (s, local),
        true => zone(s)?,
    };
    let (date, clock) = body.split_once('T').unwrap_or((body, ""));
    let num = |t: &str, len: std::ops::RangeInclusive<usize>| {
        (len.contains(&t.len()) && t.bytes().all(|b| b.is_ascii_digit()))
            .then(|| t.parse::<u32>().ok())
            .flatten()
    };
    let mut ymd = date.split('-');
    let (y, m, d) = (ymd.next()?, ymd.next()?, ymd.next()?);
    let month = Month::try_from(u8::try_from(num(m, 2..=2)?).ok()?).ok()?;
    let date = Date::from_calendar_date(num(y, 4..=4)? as i32, month, num(d, 2..=2)? as u8);
    let (hms, frac) = clock.split_once('.').unwrap_or((clock, ""));
    let mut parts = hms.split(':').filter(|_| !hms.is_empty());
    let mut field = |len| parts.next().map_or(Some(0), |p| num(p, len));
    let (h, min, sec) = (field(1..=2)?, field(2..=2)?, field(2..=2)?);
    let fraction = match frac {
        "" if !s.contains('.') => 0,
        f if hms.len() >= 7 && f.len() <= 9 => num(f, 1..=9)? * 10u32.pow(9 - f.len() as u32),
        _ => return None,
    };
    if parts.next().is_some() || ymd.next().is_some() || (s.contains('T') && clock.is_empty()) {
        return None;
    }
    let time = Time::from_hms_nano(h as u8, min as u8, sec as u8, fraction).ok()?;
    let at = PrimitiveDateTime::new(date.ok()?, time)
        .assume_offset(UtcOffset::from_whole_seconds(offset).ok()?);
    i64::try_from(at.unix_timestamp_nanos()).ok()
}

/// `s` without its zone (`Z`, `±HH:MM`), and the zone's seconds east.
fn zone(s: &str) -> Option<(&str, i32)> {
    if let Some(body) = s.strip_suffix('Z') {
        return Some((body, 0));
    }
    let (body, z) = s.split_at(s.len().checked_sub(6)?);
    let sign = match z.as_bytes()[0] {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let (hh, mm) = z[1..].split_once(':')?;
    let digits = |t: &str| t.len() == 2 && t.bytes().all(|b| b.is_ascii_digit());
    if !digits(hh) || !digits(mm) {
        return None;
    }
    Some((
        body,
        sign * (hh.parse::<i32>().ok()? * 3600 + mm.parse::<i32>().ok()? * 60),
    ))
}

/// `SECONDS[.FRACTION]` in nanoseconds.
fn seconds(s: &str) -> Option<i64> {
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    let digits = |d: &str| d.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || !digits(frac) || frac.len() > 9 {
        return None;
    }
    let frac = format!("{frac:0<9}").parse::<i64>().ok()?;
    whole
        .parse::<i64>()
        .ok()?
        .checked_mul(1_000_000_000)?
        .checked_add(frac)
}

/// A Go duration (`1h30m`, `1.5s`, `300ms`, `-5m`) in nanoseconds.
fn duration_ns(s: &str) -> Option<i64> {
    const UNITS: [(&str, f64); 8] = [
        ("ns", 1.0),
        ("us", 1e3),
        ("µs", 1e3),
        ("μs", 1e3),
        ("ms", 1e6),
        ("s", 1e9),
        ("m", 60e9),
        ("h", 3600e9),
    ];
    let (sign, s) = match s.as_bytes().first() {
        Some(b'-') => (-1.0, &s[1..]),
        Some(b'+') => (1.0, &s[1..]),
        _ => (1.0, s),
    };
    let mut rest = s;
    let mut total = 0f64;
    while !rest.is_empty() {
        let n = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .filter(|&n| n > 0)?;
        let value: f64 = rest[..n].parse().ok()?;
        rest = &rest[n..];
        let (unit, scale) = UNITS
            .iter()
            .filter(|(u, _)| rest.starts_with(u))
            .max_by_key(|(u, _)| u.len())?;
        total += value * scale;
        rest = &rest[unit.len()..];
    }
    (!s.is_empty() && total < i64::MAX as f64).then_some((sign * total) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(p: &Path, tail: Option<usize>) -> Vec<Record> {
        let mut out = Vec::new();
        read(p, tail, |r| {
            out.push(r);
            Ok(())
        })
        .unwrap();
        out
    }

    fn text(rs: &[Record]) -> String {
        rs.iter()
            .map(|r| format!("{}:{}", r.stream.code(), String::from_utf8_lossy(&r.data)))
            .collect()
    }

    fn bounds(max_size: u64, max_files: u32) -> Bounds {
        Bounds {
            max_size,
            max_files,
        }
    }

    #[test]
    fn streams_stay_apart_and_lines_whole() {
        let dir = crate::testutil::TempDir::new("logfile-streams");
        let p = dir.path().join("log");
        let mut log = Rotating::open(&p, Bounds::default()).unwrap();
        log.append(Stream::Stdout, b"o1\no").unwrap();
        log.append(Stream::Stderr, b"e").unwrap();
        log.append(Stream::Stderr, b"1\n").unwrap();
        log.append(Stream::Stdout, b"2\n").unwrap();
        log.append(Stream::Stderr, b"tail").unwrap();
        log.flush().unwrap();
        let rs = all(&p, None);
        assert_eq!(text(&rs), "1:o1\n2:e1\n1:o2\n2:tail");
        assert!(rs.iter().all(|r| r.time.is_some()));
        assert!(rs.windows(2).all(|w| w[0].time <= w[1].time));
        assert_eq!(text(&all(&p, Some(2))), "1:o2\n2:tail");
        assert_eq!(text(&all(&p, Some(0))), "");
        assert!(std::fs::read(&p).unwrap().starts_with(MAGIC));
    }

    #[test]
    fn since_and_until_both_take_their_own_time() {
        let show = Show {
            since: Some(100),
            until: Some(200),
            ..Show::default()
        };
        let mut out = Vec::new();
        for t in [99, 100, 150, 200, 201] {
            let r = Record {
                stream: Stream::Stdout,
                data: format!("{t}\n").into_bytes(),
                time: Some(t),
            };
            show.write(&r, &mut out, &mut std::io::sink()).unwrap();
        }
        assert_eq!(String::from_utf8(out).unwrap(), "100\n150\n200\n");
    }

    #[test]
    fn a_long_line_is_cut_at_line_max() {
        let dir = crate::testutil::TempDir::new("logfile-long");
        let p = dir.path().join("log");
        let mut log = Rotating::open(&p, Bounds::default()).unwrap();
        let line = [b'x'; LINE_MAX * 2 + 10];
        log.append(Stream::Stdout, &line).unwrap();
        log.append(Stream::Stdout, b"\n").unwrap();
        let lens: Vec<usize> = all(&p, None).iter().map(|r| r.data.len()).collect();
        assert_eq!(lens, [LINE_MAX, LINE_MAX, 11]);
    }

    #[test]
    fn follow_goes_on_across_rotations() {
        let dir = crate::testutil::TempDir::new("logfile-follow");
        let p = dir.path().join("log");
        let mut log = Rotating::open(&p, bounds(100, 3)).unwrap();
        log.append(Stream::Stdout, b"a\nb\n").unwrap();
        let mut seen = Vec::new();
        let mut follow = read(&p, Some(1), |r| {
            seen.push(r);
            Ok(())
        })
        .unwrap();
        assert_eq!(text(&seen), "1:b\n");
        for l in ["c\n", "d\n", "e\n", "f\n", "g\n"] {
            log.append(Stream::Stderr, l.as_bytes()).unwrap();
        }
        assert!(numbered(&p, 1).exists(), "rotated");
        seen.clear();
        follow
            .more(&mut |r| {
                seen.push(r);
                Ok(())
            })
            .unwrap();
        assert_eq!(text(&seen), "2:c\n2:d\n2:e\n2:f\n2:g\n");
        follow.more(&mut |_| panic!("nothing new")).unwrap();
    }

    #[test]
    fn rotates_within_bounds_and_keeps_the_newest() {
        let dir = crate::testutil::TempDir::new("logfile-rot");
        let p = dir.path().join("log");
        let b = bounds(400, 3);
        let mut l = Rotating::open(&p, b).unwrap();
        let mut written = String::new();
        // written in pieces that end mid-line
        for i in 0..200 {
            written.push_str(&format!("line {i}\n"));
        }
        for piece in written.as_bytes().chunks(7) {
            l.append(Stream::Stdout, piece).unwrap();
        }
        l.flush().unwrap();
        for f in [numbered(&p, 2), numbered(&p, 1), p.clone()] {
            assert!(std::fs::metadata(&f).unwrap().len() <= b.max_size);
        }
        assert!(!numbered(&p, 3).exists());
        let rs = all(&p, None);
        assert!(rs.iter().all(|r| r.data.starts_with(b"line ")));
        let kept: String = rs
            .iter()
            .map(|r| String::from_utf8_lossy(&r.data))
            .collect();
        assert!(written.ends_with(&kept), "the newest output, in order");
        assert!(kept.len() > 200);
    }

    #[test]
    fn a_record_bigger_than_a_file_is_cut() {
        let dir = crate::testutil::TempDir::new("logfile-cut");
        let p = dir.path().join("log");
        let mut l = Rotating::open(&p, bounds(MAGIC.len() as u64 + 26, 2)).unwrap();
        l.append(Stream::Stdout, &[b'x'; 35]).unwrap();
        l.flush().unwrap();
        let lens: Vec<usize> = all(&p, None).iter().map(|r| r.data.len()).collect();
        assert_eq!(lens, [10, 5]);
        let one = dir.path().join("one");
        let mut l = Rotating::open(&one, bounds(1, 1)).unwrap();
        l.append(Stream::Stdout, b"yy\n").unwrap();
        assert_eq!(text(&all(&one, None)), "1:\n");
    }

    #[test]
    fn an_older_raw_log_reads_as_stdout_and_is_rotated_away() {
        let dir = crate::testutil::TempDir::new("logfile-raw");
        let p = dir.path().join("log");
        std::fs::write(numbered(&p, 1), b"old1\n").unwrap();
        std::fs::write(&p, b"old2\nold3\nno end").unwrap();
        let rs = all(&p, None);
        assert_eq!(text(&rs), "1:old1\n1:old2\n1:old3\n1:no end");
        assert!(rs.iter().all(|r| r.time.is_none()));
        assert_eq!(text(&all(&p, Some(2))), "1:old3\n1:no end");
        let mut l = Rotating::open(&p, Bounds::default()).unwrap();
        l.append(Stream::Stderr, b"new\n").unwrap();
        assert_eq!(
            std::fs::read(numbered(&p, 1)).unwrap(),
            b"old2\nold3\nno end"
        );
        assert_eq!(text(&all(&p, Some(2))), "1:no end2:new\n");
    }

    #[test]
    fn a_damaged_log_is_an_error_naming_the_file() {
        let dir = crate::testutil::TempDir::new("logfile-bad");
        let p = dir.path().join("log");
        let mut bad = MAGIC.to_vec();
        bad.extend_from_slice(&[9; HEAD]);
        std::fs::write(&p, bad).unwrap();
        let e = read(&p, None, |_| Ok(())).err().unwrap();
        assert!(e.to_string().contains("damaged log at byte 13"), "{e}");
    }

    #[test]
    fn times_print_and_parse_as_docker_writes_them() {
        const S: i64 = 1_000_000_000;
        assert_eq!(
            docker_time(Some(1_700_000_000_000_001_000)),
            "2023-11-14T22:13:20.000001000Z"
        );
        assert_eq!(docker_time(None), "0001-01-01T00:00:00.000000000Z");
        let now = 1_700_000_000_000_000_000;
        let t = |s: &str| parse_time(s, now, 3600);
        assert_eq!(t("2023-11-14T22:13:20.000001Z"), Some(now + 1_000));
        assert_eq!(t("2023-11-14T23:13:20+01:00"), Some(now));
        assert_eq!(t("1700000000"), Some(now));
        assert_eq!(t("0"), Some(0));
        assert_eq!(t("1700000000.5"), Some(now + 500_000_000));
        // a duration: to the whole second before, as docker sends it
        assert_eq!(t("1h30m"), Some(now - 5_400_000_000_000));
        assert_eq!(t("300ms"), Some(now - S));
        assert_eq!(t("1.5s"), Some(now - 2 * S));
        assert_eq!(t("-5m"), Some(now + 300 * S));
        // no zone: local time, here an hour east of UTC
        assert_eq!(t("2023-11-14T23:13:20"), Some(now));
        assert_eq!(t("2023-11-14T23:13:20.5"), Some(now + S / 2));
        assert_eq!(t("2023-11-14T23:13"), Some(now - 20 * S));
        assert_eq!(t("2023-11-14T23"), Some(now - 800 * S));
        assert_eq!(t("2023-11-14"), Some(now - 83_600 * S));
        assert_eq!(t("2023-11-14Z"), Some(now - 80_000 * S));
        assert_eq!(t("2023-11-14-05:00"), Some(now - 62_000 * S));
        assert_eq!(t("2023-11-14T22:13Z"), Some(now - 20 * S));
        assert_eq!(t("2023-11-14T17-05:00"), Some(now - 800 * S));
        for bad in [
            "",
            "x",
            "10x",
            "m",
            "1.2.3",
            "2023-13-14",
            "2023-11-31",
            "2023-11-14T",
            "2023-11-14T25",
            "2023-11-14T10:00:00.",
            "2023-11-14T10.5",
            "2023-11-14T10:00:00:00",
            "2023-11-14z",
            "23-11-14",
            "-",
        ] {
            assert_eq!(t(bad), None, "{bad}");
        }
    }
}
