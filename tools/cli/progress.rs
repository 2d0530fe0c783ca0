//! Progress on stderr, only when stderr is a terminal.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

pub struct Progress {
    label: String,
    total: Option<u64>,
    last: Option<Instant>,
    enabled: bool,
}

impl Progress {
    pub fn new(label: impl Into<String>, total: Option<u64>) -> Progress {
        Progress {
            label: label.into(),
            total,
            last: None,
            enabled: std::io::stderr().is_terminal(),
        }
    }

    pub fn update(&mut self, done: u64) {
        if !self.enabled {
            return;
        }
        let now = Instant::now();
        if self
            .last
            .is_some_and(|t| now - t < Duration::from_millis(100))
        {
            return;
        }
        self.last = Some(now);
        let mb = done as f64 / 1e6;
        let line = match self.total {
            Some(t) if t > 0 => format!(
                "{}: {mb:.1} / {:.1} MB ({:.0}%)",
                self.label,
                t as f64 / 1e6,
                done as f64 * 100.0 / t as f64
            ),
            _ => format!("{}: {mb:.1} MB", self.label),
        };
        let mut e = std::io::stderr().lock();
        let _ = write!(e, "\r\x1b[2K{line}");
        let _ = e.flush();
    }

    pub fn finish(&mut self) {
        if self.enabled && self.last.is_some() {
            let _ = write!(std::io::stderr(), "\r\x1b[2K");
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}

/// Several lines of progress redrawn in place, as `docker pull` shows its
/// layers; only when stderr is a terminal. The last state stays on screen.
pub struct Lines {
    lines: Vec<String>,
    drawn: usize,
    last: Option<Instant>,
    enabled: bool,
}

impl Default for Lines {
    fn default() -> Self {
        Lines {
            lines: Vec::new(),
            drawn: 0,
            last: None,
            enabled: std::io::stderr().is_terminal(),
        }
    }
}

impl Lines {
    /// Set line `i` (lines are added as needed) and redraw, at most ten
    /// times a second.
    pub fn set(&mut self, i: usize, text: String) {
        if !self.enabled {
            return;
        }
        if self.lines.len() <= i {
            self.lines.resize(i + 1, String::new());
        }
        self.lines[i] = text;
        let now = Instant::now();
        if self
            .last
            .is_none_or(|t| now - t >= Duration::from_millis(100))
        {
            self.last = Some(now);
            self.draw();
        }
    }

    /// Draw every line again, over the ones drawn before.
    pub fn draw(&mut self) {
        if !self.enabled {
            return;
        }
        let mut e = std::io::stderr().lock();
        if self.drawn > 0 {
            let _ = write!(e, "\x1b[{}A", self.drawn);
        }
        for l in &self.lines {
            let _ = writeln!(e, "\r\x1b[2K{l}");
        }
        let _ = e.flush();
        self.drawn = self.lines.len();
    }
}
