//! A log that cannot fill the disk: bytes are appended to `PATH` until it
//! would pass `max_size`, then `PATH` becomes `PATH.1` (`PATH.1` becomes
//! `PATH.2`, …) and a new `PATH` starts; at most `max_files` files are
//! kept, the oldest dropped. The bounds of docker's `local` log driver are
//! the default: 5 files of 20 MB.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

/// How big a log may grow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounds {
    /// Bytes per file (a file is cut at a line end when one is near).
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

/// An open, rotating log.
pub struct Rotating {
    path: PathBuf,
    bounds: Bounds,
    file: File,
    size: u64,
    /// The start of a line whose end has not come yet.
    pending: Vec<u8>,
}

/// The longest line held back to keep it whole (docker cuts log messages
/// at 16 KiB too).
pub const LINE_MAX: usize = 16 << 10;

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

impl Rotating {
    /// Open `path` for appending (it may hold an earlier run's output).
    pub fn open(path: &Path, bounds: Bounds) -> io::Result<Rotating> {
        let file = open_append(path)?;
        let size = file.metadata()?.len();
        Ok(Rotating {
            path: path.to_path_buf(),
            bounds: Bounds {
                max_files: bounds.max_files.max(1),
                ..bounds
            },
            file,
            size,
            pending: Vec::new(),
        })
    }

    fn rotate(&mut self) -> io::Result<()> {
        let n = self.bounds.max_files;
        if n <= 1 {
            self.file.set_len(0)?;
            self.size = 0;
            return Ok(());
        }
        let _ = std::fs::remove_file(numbered(&self.path, n - 1));
        for i in (1..n - 1).rev() {
            let _ = std::fs::rename(numbered(&self.path, i), numbered(&self.path, i + 1));
        }
        std::fs::rename(&self.path, numbered(&self.path, 1))?;
        self.file = open_append(&self.path)?;
        self.size = 0;
        Ok(())
    }

    /// Append `buf`. Lines are kept whole in one file: a line is held
    /// back until its end arrives (or it reaches [`LINE_MAX`], when it is
    /// written as it is, as docker cuts long messages), and a file is
    /// rotated before a line that would not fit in it.
    pub fn append(&mut self, buf: &[u8]) -> io::Result<()> {
        self.pending.extend_from_slice(buf);
        let end = match self.pending.iter().rposition(|&b| b == b'\n') {
            Some(i) => i + 1,
            None if self.pending.len() >= LINE_MAX => self.pending.len(),
            None => return Ok(()),
        };
        let lines: Vec<u8> = self.pending.drain(..end).collect();
        self.write_lines(&lines)
    }

    /// Write what is held back of a last, unfinished line.
    pub fn flush(&mut self) -> io::Result<()> {
        let rest = std::mem::take(&mut self.pending);
        self.write_lines(&rest)
    }

    fn write_lines(&mut self, mut buf: &[u8]) -> io::Result<()> {
        while !buf.is_empty() {
            let room = self.bounds.max_size.saturating_sub(self.size) as usize;
            if buf.len() <= room {
                self.write(buf)?;
                break;
            }
            match buf[..room].iter().rposition(|&b| b == b'\n') {
                Some(i) => {
                    self.write(&buf[..=i])?;
                    buf = &buf[i + 1..];
                }
                // a line longer than a whole file: cut it
                None if self.size == 0 => {
                    self.write(&buf[..room])?;
                    buf = &buf[room..];
                }
                None => {}
            }
            self.rotate()?;
        }
        Ok(())
    }

    fn write(&mut self, buf: &[u8]) -> io::Result<()> {
        self.file.write_all(buf)?;
        self.size += buf.len() as u64;
        Ok(())
    }

    /// Copy everything `from` gives until its end.
    pub fn copy_from(&mut self, mut from: impl Read) -> io::Result<()> {
        let mut buf = vec![0u8; 64 << 10];
        loop {
            match from.read(&mut buf) {
                Ok(0) => return self.flush(),
                Ok(n) => self.append(&buf[..n])?,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
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

/// Everything the log at `path` holds, its files in order, or only its
/// last `tail` lines; and where to [`Follow`] it from, just after.
pub fn read(path: &Path, tail: Option<usize>) -> io::Result<(Vec<u8>, Follow)> {
    use std::os::unix::fs::MetadataExt;
    let mut all = Vec::new();
    let mut follow = Follow {
        path: path.to_path_buf(),
        ino: 0,
        offset: 0,
    };
    for f in files(path) {
        let mut file = File::open(&f)?;
        let n = file.read_to_end(&mut all)?;
        if f == path {
            (follow.ino, follow.offset) = (file.metadata()?.ino(), n as u64);
        }
    }
    if let Some(n) = tail {
        // The start of the n-th line from the end (a last line without
        // its newline counts as a line).
        let body = all.strip_suffix(b"\n").unwrap_or(&all);
        let start = match n {
            0 => all.len(),
            _ => body
                .iter()
                .enumerate()
                .rev()
                .filter(|(_, &b)| b == b'\n')
                .nth(n - 1)
                .map_or(0, |(i, _)| i + 1),
        };
        all.drain(..start);
    }
    Ok((all, follow))
}

/// Where a reader of a growing log is: the current file and how much of
/// it was read. [`Follow::more`] gives what was appended since, across a
/// rotation.
pub struct Follow {
    path: PathBuf,
    ino: u64,
    offset: u64,
}

fn ino(path: &Path) -> Option<u64> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| m.ino())
}

impl Follow {
    /// The bytes appended since the last call. After a rotation the rest
    /// of the file read so far (now `PATH.1`) comes first.
    pub fn more(&mut self) -> io::Result<Vec<u8>> {
        use std::io::{Seek, SeekFrom};
        let mut out = Vec::new();
        let Some(ino) = ino(&self.path) else {
            return Ok(out);
        };
        if ino != self.ino {
            let old = numbered(&self.path, 1);
            if self::ino(&old) == Some(self.ino) {
                let mut f = File::open(&old)?;
                f.seek(SeekFrom::Start(self.offset))?;
                f.read_to_end(&mut out)?;
            }
            (self.ino, self.offset) = (ino, 0);
        }
        let mut f = File::open(&self.path)?;
        f.seek(SeekFrom::Start(self.offset))?;
        let n = f.read_to_end(&mut out)?;
        self.offset += n as u64;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_gives_the_files_in_order_and_the_tail() {
        let dir = crate::testutil::TempDir::new("logfile-read");
        let p = dir.path().join("log");
        let mut log = Rotating::open(
            &p,
            Bounds {
                max_size: 8,
                max_files: 3,
            },
        )
        .unwrap();
        log.append(b"a\nb\nc\nd\ne\nf\n").unwrap();
        assert_eq!(files(&p).len(), 2);
        assert_eq!(read(&p, None).unwrap().0, b"a\nb\nc\nd\ne\nf\n");
        assert_eq!(read(&p, Some(2)).unwrap().0, b"e\nf\n");
        assert_eq!(read(&p, Some(0)).unwrap().0, b"");
        assert_eq!(read(&p, Some(9)).unwrap().0, b"a\nb\nc\nd\ne\nf\n");
        let (_, mut follow) = read(&p, Some(1)).unwrap();
        log.append(b"g\nh\ni\n").unwrap();
        assert_eq!(follow.more().unwrap(), b"g\nh\ni\n");
        assert_eq!(follow.more().unwrap(), b"");
    }

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("cairn-logfile-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn rotates_within_bounds_and_keeps_the_newest() {
        let d = dir("rot");
        let p = d.join("log");
        let b = Bounds {
            max_size: 100,
            max_files: 3,
        };
        let mut l = Rotating::open(&p, b).unwrap();
        let mut all = Vec::new();
        // written in pieces that end mid-line
        for i in 0..200 {
            all.extend_from_slice(format!("line {i}\n").as_bytes());
        }
        for piece in all.chunks(7) {
            l.append(piece).unwrap();
        }
        l.flush().unwrap();
        let mut kept = Vec::new();
        for f in [numbered(&p, 2), numbered(&p, 1), p.clone()] {
            let data = std::fs::read(&f).unwrap();
            assert!(data.len() as u64 <= b.max_size, "{}", f.display());
            assert!(data.ends_with(b"\n"), "lines stay whole");
            assert!(data.starts_with(b"line "), "lines stay whole");
            kept.extend(data);
        }
        assert!(!numbered(&p, 3).exists());
        assert!(all.ends_with(&kept), "the newest output, in order");
        assert!(kept.len() > 200);
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn a_line_longer_than_a_file_is_cut() {
        let d = dir("long");
        let p = d.join("log");
        let b = Bounds {
            max_size: 10,
            max_files: 2,
        };
        let mut l = Rotating::open(&p, b).unwrap();
        l.append(&[b'x'; 35]).unwrap();
        l.flush().unwrap();
        assert_eq!(std::fs::read(&p).unwrap().len(), 5);
        assert_eq!(std::fs::read(numbered(&p, 1)).unwrap().len(), 10);
        let one = Bounds {
            max_size: 10,
            max_files: 1,
        };
        let mut l = Rotating::open(&d.join("one"), one).unwrap();
        l.append(&[b'y'; 25]).unwrap();
        l.flush().unwrap();
        assert_eq!(std::fs::read(d.join("one")).unwrap().len(), 5);
        let _ = std::fs::remove_dir_all(&d);
    }
}
