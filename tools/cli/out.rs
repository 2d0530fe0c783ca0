//! Writing records and tables to stdout.

use clap::ValueEnum;
use libcairn::record::{self, Kind};
use std::io::{self, BufWriter, IsTerminal, Stdout, Write};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// One JSON record per line.
    Json,
    /// Aligned columns for people.
    Table,
    /// The bare ID of each record, one per line.
    Id,
}

impl Format {
    /// A listing tool's format: bare IDs with `-q`, else as `resolve`.
    pub fn listing(asked: Option<Format>, quiet: bool) -> Format {
        if quiet {
            Format::Id
        } else {
            Format::resolve(asked, true)
        }
    }

    /// The output of a porcelain that makes a container (`run -d`,
    /// `create`): the bare ID, as docker prints it, on a terminal or with
    /// `--format table` (docker's words) or `id`; piped, the container
    /// record, so `cairn run -d IMAGE | cairn wait` works.
    pub fn made(asked: Option<Format>) -> Format {
        match asked {
            Some(Format::Table) => Format::Id,
            Some(f) => f,
            None if io::stdout().is_terminal() => Format::Id,
            None => Format::Json,
        }
    }

    /// The name `--format` takes for it, to pass it on to the plumbing.
    pub fn name(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Table => "table",
            Format::Id => "id",
        }
    }

    /// The format to use: the one asked for, else a table on a terminal
    /// for listing tools and JSON everywhere else.
    pub fn resolve(asked: Option<Format>, listing: bool) -> Format {
        match asked {
            Some(f) => f,
            None if listing && io::stdout().is_terminal() => Format::Table,
            None => Format::Json,
        }
    }
}

/// What a listing's `--format` asks: one of cairn's formats, Graphviz
/// (`images --tree`), or a Go template as docker's `--format` takes
/// (`{{.ID}}`, `table {{.ID}}\t{{.Image}}`, `{{json .}}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormatArg {
    Fixed(Format),
    Dot,
    Template(String),
}

impl FormatArg {
    /// `json`, `table`, `id` or a template (a text with `{{`).
    pub fn parse(s: &str) -> Result<FormatArg, String> {
        match s.trim() {
            "json" => Ok(FormatArg::Fixed(Format::Json)),
            "table" => Ok(FormatArg::Fixed(Format::Table)),
            "id" => Ok(FormatArg::Fixed(Format::Id)),
            _ if s.contains("{{") => Ok(FormatArg::Template(s.to_string())),
            _ => Err("use json, table, id or a Go template such as '{{.ID}}'".into()),
        }
    }

    /// As [`FormatArg::parse`], and `dot` (Graphviz).
    pub fn parse_with_dot(s: &str) -> Result<FormatArg, String> {
        match s.trim() {
            "dot" => Ok(FormatArg::Dot),
            _ => FormatArg::parse(s).map_err(|e| format!("{e}; or dot with --tree")),
        }
    }

    /// The fixed format asked, if one was.
    pub fn fixed(asked: &Option<FormatArg>) -> Option<Format> {
        match asked {
            Some(FormatArg::Fixed(f)) => Some(*f),
            _ => None,
        }
    }

    /// The template asked, if one was.
    pub fn template(asked: &Option<FormatArg>) -> Option<&str> {
        match asked {
            Some(FormatArg::Template(t)) => Some(t),
            _ => None,
        }
    }
}

/// clap's parser for `--format` FORMAT|TEMPLATE: [`FormatArg::parse`] (or
/// [`FormatArg::parse_with_dot`]), with the fixed names offered to shell
/// completion.
#[derive(Debug, Clone, Copy)]
pub struct FormatParser {
    pub dot: bool,
}

impl clap::builder::TypedValueParser for FormatParser {
    type Value = FormatArg;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<FormatArg, clap::Error> {
        let v = value.to_string_lossy();
        let parsed = if self.dot {
            FormatArg::parse_with_dot(&v)
        } else {
            FormatArg::parse(&v)
        };
        parsed.map_err(|why| {
            let name = arg.map_or("--format".into(), |a| a.to_string());
            clap::Error::raw(
                clap::error::ErrorKind::InvalidValue,
                format!("invalid value {v:?} for {name}: {why}\n"),
            )
            .with_cmd(cmd)
        })
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        let mut names = vec!["json", "table", "id"];
        if self.dot {
            names.push("dot");
        }
        Some(Box::new(
            names.into_iter().map(clap::builder::PossibleValue::new),
        ))
    }
}

/// Buffered stdout that writes records in the chosen format.
pub struct Out {
    pub format: Format,
    w: BufWriter<Stdout>,
    short_ids: bool,
    /// Say what was done in docker's words instead of writing records.
    say: bool,
}

impl Out {
    pub fn new(format: Format) -> Out {
        Out {
            format,
            w: BufWriter::new(io::stdout()),
            short_ids: false,
            say: false,
        }
    }

    /// Output of a tool that changes state (stop, rm, rmi, load, ...):
    /// records, except with `--format table` or on a terminal with no
    /// `--format` asked, where [`Out::done`] prints what docker prints.
    pub fn verb(asked: Option<Format>) -> Out {
        let mut out = Out::new(Format::resolve(asked, false));
        out.say = match asked {
            Some(f) => f == Format::Table,
            None => io::stdout().is_terminal(),
        };
        out
    }

    /// Whether this output is docker's words on a terminal.
    pub fn says(&self) -> bool {
        self.say
    }

    /// Write `rec`; on a terminal ([`Out::verb`]) the `lines` docker
    /// prints for it instead (none: nothing, as `docker tag` prints).
    pub fn done<K: Kind>(&mut self, rec: &K, lines: &[&str]) -> io::Result<()> {
        if !self.say {
            return self.record(rec);
        }
        for l in lines {
            writeln!(self.w, "{l}")?;
        }
        Ok(())
    }

    /// IDs cut to docker's 12 hex digits (`-q` without `--no-trunc`);
    /// `--format id` keeps them whole for pipelines.
    pub fn short_ids(mut self, short: bool) -> Out {
        self.short_ids = short;
        self
    }

    /// Write a record as JSON, or its ID for `--format id`.
    pub fn record<K: Kind>(&mut self, rec: &K) -> io::Result<()> {
        self.record_as(rec, &rec.id())
    }

    /// Write a record as JSON, or `id` for `--format id` (`rmi` prints the
    /// tag it removed).
    pub fn record_as<K: Kind>(&mut self, rec: &K, id: &str) -> io::Result<()> {
        match self.format {
            Format::Id if self.short_ids => writeln!(self.w, "{}", short_id(id)),
            Format::Id => writeln!(self.w, "{id}"),
            _ => record::write_record(&mut self.w, rec),
        }
    }

    pub fn raw(&mut self, s: &str) -> io::Result<()> {
        self.w.write_all(s.as_bytes())
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.w.flush()
    }
}

impl Drop for Out {
    fn drop(&mut self) {
        let _ = self.w.flush();
    }
}

/// An ID as docker shows it: 12 hex digits, without `sha256:`. Anything
/// else (a tag `rmi` prints) is left as it is.
pub fn short_id(id: &str) -> &str {
    let hex = id.strip_prefix("sha256:").unwrap_or(id);
    if hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        &hex[..12]
    } else {
        id
    }
}

/// Human sizes as docker prints them (`units.HumanSizeWithPrecision(n, 3)`):
/// decimal units, three significant digits: `0B`, `19B`, `1.98MB`.
pub fn human_size(n: u64) -> String {
    scaled(n, 1000.0, &["B", "kB", "MB", "GB", "TB", "PB", "EB"], 3)
}

/// Human sizes as docker's `units.HumanSize` prints them (`images`'
/// `VirtualSize`, `system df`'s image rows): four significant digits,
/// `1.982MB`.
pub fn human_size4(n: u64) -> String {
    scaled(n, 1000.0, &["B", "kB", "MB", "GB", "TB", "PB", "EB"], 4)
}

/// Binary sizes as docker's `units.BytesSize` prints them (`docker
/// stats`, `info`): four significant digits, `1.523MiB`, `7.654GiB`.
pub fn binary_size(n: u64) -> String {
    scaled(
        n,
        1024.0,
        &["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"],
        4,
    )
}

/// `n` in the largest unit below `base`, as Go's `%.{digits}g`.
fn scaled(n: u64, base: f64, units: &[&str], digits: i32) -> String {
    let mut v = n as f64;
    let mut i = 0;
    while v >= base && i < units.len() - 1 {
        v /= base;
        i += 1;
    }
    let s = if v == 0.0 {
        "0".to_string()
    } else {
        let decimals = digits - 1 - (v.abs().log10().floor() as i32);
        let s = format!("{:.*}", decimals.max(0) as usize, v);
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    };
    format!("{s}{}", units[i])
}

/// `3 weeks ago`, as docker's `units.HumanDuration` renders an age.
/// An RFC 3339 time, as the records carry them.
pub fn parse_time(t: &str) -> Option<time::OffsetDateTime> {
    time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok()
}

pub fn human_age(created: &str, now: time::OffsetDateTime) -> String {
    let Some(t) = parse_time(created) else {
        return "N/A".into();
    };
    if t.year() < 2000 {
        return "N/A".into();
    }
    let secs = (now - t).whole_seconds();
    format!("{} ago", human_duration(secs))
}

pub fn human_duration(secs: i64) -> String {
    let s = secs.max(0);
    if s < 1 {
        return "Less than a second".into();
    }
    if s == 1 {
        return "1 second".into();
    }
    if s < 60 {
        return format!("{s} seconds");
    }
    let m = s / 60;
    if m == 1 {
        return "About a minute".into();
    }
    if m < 60 {
        return format!("{m} minutes");
    }
    let h = (s as f64 / 3600.0).round() as i64;
    if h == 1 {
        return "About an hour".into();
    }
    if h < 48 {
        return format!("{h} hours");
    }
    if h < 24 * 7 * 2 {
        return format!("{} days", h / 24);
    }
    if h < 24 * 30 * 2 {
        return format!("{} weeks", h / 24 / 7);
    }
    if h < 24 * 365 * 2 {
        return format!("{} months", h / 24 / 30);
    }
    format!("{} years", h / 24 / 365)
}

/// Shorten to `n` characters with a trailing `…`, as docker does.
pub fn ellipsis(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        return s.to_string();
    }
    let mut out: String = s.chars().take(n - 1).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_like_docker() {
        assert_eq!(human_size(0), "0B");
        assert_eq!(human_size(19), "19B");
        assert_eq!(human_size(1_980_000), "1.98MB");
        assert_eq!(human_size(8_460_000), "8.46MB");
        assert_eq!(human_size(123_456_789), "123MB");
        assert_eq!(human_size(1000), "1kB");
        assert_eq!(human_size4(1_982_345), "1.982MB");
        assert_eq!(human_size4(123_456_789), "123.5MB");
        assert_eq!(binary_size(0), "0B");
        assert_eq!(binary_size(1_597_000), "1.523MiB");
        assert_eq!(binary_size(1023), "1023B");
        assert_eq!(binary_size(8_218_000_000), "7.654GiB");
    }

    #[test]
    fn durations_like_docker() {
        assert_eq!(human_duration(30), "30 seconds");
        assert_eq!(human_duration(3 * 7 * 24 * 3600), "3 weeks");
        assert_eq!(human_duration(3 * 3600), "3 hours");
    }
}
