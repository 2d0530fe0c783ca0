//! The command-line side of cairn: argument definitions (clap), output
//! formats, error reporting and exit codes. Every `tools/<verb>/main.rs` is a
//! thin wrapper over this crate and libcairn.

pub mod args;
pub mod complete;
pub mod container;
pub mod df;
pub mod docs;
pub mod listing;
pub mod out;
pub mod pause;
pub mod porcelain;
pub mod progress;
pub mod prune;
pub mod runtime;
pub mod system;
pub mod tree;
pub mod usage;

use anyhow::Context;
use std::io::{self, IsTerminal};
use std::path::PathBuf;

pub use libcairn;
pub use usage::Parser;

/// Exit status of a failed operation.
pub const EXIT_FAILED: i32 = 1;
/// Exit status of bad usage or unusable input.
pub const EXIT_USAGE: i32 = 2;

/// An error with the exit status it should end the process with.
#[derive(Debug)]
pub struct Fail {
    pub code: i32,
    pub error: anyhow::Error,
    pub hint: Option<String>,
}

impl<E: Into<anyhow::Error>> From<E> for Fail {
    fn from(e: E) -> Self {
        Fail {
            code: EXIT_FAILED,
            error: e.into(),
            hint: None,
        }
    }
}

/// A usage error (exit 2).
pub fn usage(msg: impl std::fmt::Display) -> Fail {
    Fail {
        code: EXIT_USAGE,
        error: anyhow::anyhow!("{msg}"),
        hint: None,
    }
}

pub trait FailExt<T> {
    /// Mark the error as a usage / unusable-input error (exit 2).
    fn usage(self) -> Result<T, Fail>;
    /// Add a hint line.
    fn hint(self, hint: impl Into<String>) -> Result<T, Fail>;
}

impl<T, E: Into<Fail>> FailExt<T> for Result<T, E> {
    fn usage(self) -> Result<T, Fail> {
        self.map_err(|e| {
            let mut f: Fail = e.into();
            f.code = EXIT_USAGE;
            f
        })
    }
    fn hint(self, hint: impl Into<String>) -> Result<T, Fail> {
        self.map_err(|e| {
            let mut f: Fail = e.into();
            f.hint = Some(hint.into());
            f
        })
    }
}

/// Marks an error that was already printed.
#[derive(Debug)]
struct Silent;

impl std::fmt::Display for Silent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("(reported above)")
    }
}

impl std::error::Error for Silent {}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    })
}

/// One printable line: control characters (from hostile names or binary
/// input quoted in an error) are escaped.
pub fn printable(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\n' | '\r' | '\t' => out.push(' '),
            c if c.is_control() || c == '\u{fffd}' => out.extend(c.escape_default()),
            c => out.push(c),
        }
    }
    out
}

/// The error and each of its causes on one line, outermost first: every
/// error names only its own level, so each level is printed once.
pub fn chain_message(e: &anyhow::Error) -> String {
    libcairn::error::one_line(e.as_ref())
}

/// Run a tool's body and exit with its status. Errors are printed once, on
/// one line: `cairn-<verb>: error: <context>: <cause>`. A closed stdout
/// (`| head`) ends the tool quietly with status 0.
pub fn main(tool: &'static str, body: impl FnOnce() -> Result<i32, Fail>) -> ! {
    let _ = TOOL.set(tool);
    libcairn::trace::mark("main");
    let code = match body() {
        Ok(code) => code,
        Err(f) if is_broken_pipe(&f.error) => 0,
        Err(f) => {
            report(&f);
            f.code
        }
    };
    libcairn::trace::mark("exit");
    print_trace(tool);
    std::process::exit(code)
}

/// [`main`] for a tool whose process enters a container or stays in one
/// (exec, and isolate's pid 1 with `--init`): first re-execute from a
/// sealed view of the binary, so nothing in the container can reach the
/// host's file through `/proc/PID/exe` (libcairn::isolate::exe).
pub fn sealed_main(tool: &'static str, body: impl FnOnce() -> Result<i32, Fail>) -> ! {
    sealed_main_if(tool, true, body)
}

/// [`sealed_main`] when `seal`, else [`main`]: the re-execution costs
/// about a millisecond, which a tool pays only when it needs it.
pub fn sealed_main_if(
    tool: &'static str,
    seal: bool,
    body: impl FnOnce() -> Result<i32, Fail>,
) -> ! {
    if seal {
        if let Err(e) = libcairn::isolate::exe::run_sealed() {
            eprintln!("{tool}: error: re-executing from a sealed view of the binary: {e}");
            std::process::exit(125);
        }
    }
    main(tool, body)
}

/// With `CAIRN_TRACE` set: the phase marks on stderr, one a line, as
/// `TOOL: trace: SECONDS LABEL` (`CLOCK_MONOTONIC`, as `strace -ttt`'s).
fn print_trace(tool: &str) {
    for (ns, label) in libcairn::trace::take() {
        eprintln!(
            "{tool}: trace: {}.{:06} {label}",
            ns / 1_000_000_000,
            ns % 1_000_000_000 / 1000
        );
    }
}

/// The name errors are printed under, set by [`main`].
static TOOL: std::sync::OnceLock<&'static str> = std::sync::OnceLock::new();

/// The environment variable through which a porcelain tool hands its name
/// to the plumbing it runs ([`porcelain::tool`]), so that their errors are
/// printed under the command the user typed: `cairn-run: error: …`, not
/// `cairn-union-mount: error: …`.
pub const ERRORS_AS: &str = "CAIRN_ERRORS_AS";

/// The name this process prints its errors under: the outermost
/// porcelain's ([`ERRORS_AS`]), else its own.
pub fn error_name() -> String {
    match std::env::var(ERRORS_AS) {
        Ok(n) if n.starts_with("cairn") && n.len() < 64 && !n.contains(char::is_control) => n,
        _ => TOOL.get().copied().unwrap_or("cairn").to_string(),
    }
}

/// Print an error (and its hint) on stderr, unless it was already printed.
fn report(f: &Fail) {
    if f.error.is::<Silent>() {
        return;
    }
    let tool = error_name();
    let msg = printable(&chain_message(&f.error));
    eprintln!("{tool}: error: {msg}");
    if let Some(h) = &f.hint {
        eprintln!("{tool}: hint: {h}");
    }
}

/// The store root: `--root`, else `$CAIRN_ROOT` (clap reads it), else the
/// default of design.md; made absolute, as paths into the store are
/// handed to the kernel and to other processes (mount sources, bundles).
pub fn store_root(root: &Option<PathBuf>) -> PathBuf {
    let root = root.clone().unwrap_or_else(libcairn::Store::default_root);
    std::path::absolute(&root).unwrap_or(root)
}

/// `SOURCE_DATE_EPOCH`, when set: seconds since the epoch that clamp
/// mtimes and set `created` (reproducible builds and commits).
pub fn source_date_epoch() -> Result<Option<i64>, Fail> {
    match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(v) if !v.is_empty() => v.parse::<i64>().map(Some).map_err(|_| {
            usage(format!(
                "SOURCE_DATE_EPOCH={v:?} is not a number of seconds"
            ))
        }),
        _ => Ok(None),
    }
}

/// Parse image names (NAME[:TAG]) given on the command line.
pub fn references(names: &[String]) -> Result<Vec<libcairn::reference::Reference>, Fail> {
    names
        .iter()
        .map(|t| libcairn::reference::Reference::parse(t))
        .collect::<Result<Vec<_>, _>>()
        .usage()
}

/// Open the store named by the common options.
pub fn open_store(common: &args::Common) -> Result<libcairn::Store, Fail> {
    let root = store_root(&common.root);
    libcairn::userns::enter(&root)
        .with_context(|| format!("entering the rootless namespace of {}", root.display()))?;
    let store = libcairn::Store::open(&root)
        .with_context(|| format!("opening store {}", root.display()))?;
    Ok(store)
}

/// Subjects from the arguments or, when there are none, from the records
/// on stdin, read as `U` (a record kind, or `AnyRecord`). With no argument
/// and stdin a terminal, a usage error with a hint instead of waiting.
pub fn subjects<U: Upstream>(args: &[String]) -> Result<Vec<Subject<U>>, Fail> {
    if !args.is_empty() {
        return Ok(libcairn::record::subjects(args, io::empty())?);
    }
    if io::stdin().is_terminal() {
        let names = U::FIELDS
            .iter()
            .map(|f| format!("{f:?}"))
            .collect::<Vec<_>>();
        return Err(usage("no subject given").hint_msg(format!(
            "name one as an argument, or pipe in records carrying {}",
            names.join(" or ")
        )));
    }
    let s = stdin_subjects()?;
    if s.is_empty() {
        return Err(usage(
            "no subject given: no argument and no record on stdin",
        ));
    }
    Ok(s)
}

pub use libcairn::record::{Subject, Upstream};

/// The subjects of the records on stdin, as [`subjects`] reads them
/// (none when stdin is empty).
pub fn stdin_subjects<U: Upstream>() -> Result<Vec<Subject<U>>, Fail> {
    libcairn::record::subjects(&[], io::stdin().lock()).usage()
}

/// Apply `each` to every subject, as `docker rm a b c` does: a subject
/// that fails is reported on a line of its own and the others go on; the
/// status is 1 at the end when any failed. A closed stdout stops at once.
pub fn each_subject<S>(
    subjects: impl IntoIterator<Item = S>,
    mut each: impl FnMut(S) -> Result<(), Fail>,
) -> Result<i32, Fail> {
    let mut code = 0;
    for s in subjects {
        if let Err(f) = each(s) {
            if is_broken_pipe(&f.error) {
                return Err(f);
            }
            report(&f);
            code = EXIT_FAILED;
        }
    }
    Ok(code)
}

impl Fail {
    /// An error already reported (by a plumbing command on the same
    /// stderr): exit with its status, print nothing more.
    pub fn silent(mut self) -> Fail {
        self.error = anyhow::Error::new(Silent);
        self
    }

    pub fn hint_msg(mut self, h: impl Into<String>) -> Fail {
        self.hint = Some(h.into());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::chain_message;
    use anyhow::Context;
    use libcairn::store::StoreError;
    use std::io;

    #[test]
    fn a_cause_contained_in_its_parent_is_still_printed() {
        let e: anyhow::Error = Err::<(), _>(io::Error::other("no space"))
            .context("layer 2: no space")
            .unwrap_err();
        assert_eq!(chain_message(&e), "layer 2: no space: no space");
    }

    #[test]
    fn a_nested_error_prints_each_level_once() {
        let enoent = io::Error::from_raw_os_error(libc::ENOENT);
        let e = Err::<(), _>(StoreError::Io {
            path: "/s/index.json".into(),
            source: enoent,
        })
        .context("opening store /s")
        .unwrap_err();
        let msg = chain_message(&e);
        assert_eq!(
            msg,
            "opening store /s: /s/index.json: No such file or directory (os error 2)"
        );
        for level in ["opening store", "/s/index.json", "No such file"] {
            assert_eq!(msg.matches(level).count(), 1, "{level}: {msg}");
        }
    }
}
