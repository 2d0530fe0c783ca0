//! Errors as text.
//!
//! Every error of libcairn names only its own level in its message (what
//! was being done, on which path or ID) and gives its cause as its
//! `source()`; it never repeats the cause in its message. The whole story
//! is the chain, read outermost first, as anyhow and thiserror intend. A
//! report that can carry only text (a child's message to its parent over a
//! pipe, a field of a record) takes the chain as one line from
//! [`one_line`], the one place that walks it.

use std::error::Error;

/// The error and each of its causes, outermost first, joined by `": "`:
/// `layer 2 (blobs/sha256/ab…): blobs/sha256/ab…: No space left on device`.
/// Every level is printed, also one whose text happens to be part of the
/// level above it.
pub fn one_line(e: &dyn Error) -> String {
    let mut out = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        out.push_str(": ");
        out.push_str(&c.to_string());
        cause = c.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("reading {path}")]
    struct Read {
        path: &'static str,
        #[source]
        source: std::io::Error,
    }

    #[derive(Debug, thiserror::Error)]
    #[error("layer {index}")]
    struct Layer {
        index: usize,
        #[source]
        source: Read,
    }

    #[test]
    fn each_level_once_outermost_first() {
        let e = Layer {
            index: 2,
            source: Read {
                path: "/x",
                source: std::io::Error::from_raw_os_error(libc::ENOSPC),
            },
        };
        assert_eq!(
            one_line(&e),
            "layer 2: reading /x: No space left on device (os error 28)"
        );
    }

    #[test]
    fn a_cause_contained_in_its_parent_is_still_printed() {
        // "/x" is part of "reading /x": a dedup by substring would drop it.
        let e = Read {
            path: "/x",
            source: std::io::Error::other("/x"),
        };
        assert_eq!(one_line(&e), "reading /x: /x");
    }

    #[test]
    fn an_error_without_a_cause_is_its_message() {
        let e = std::io::Error::other("no");
        assert_eq!(one_line(&e), "no");
    }
}
