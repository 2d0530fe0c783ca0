//! Usage errors in one line. clap prints a usage error as a block (the
//! error, a tip, the usage, a pointer to --help); cairn's tools print every
//! error as one line, so a script's log keeps one line per failure.

/// clap's `Parser`, with its usage errors printed in one line: a tool
/// imports this in place of `clap::Parser` and calls `Args::parse()`.
pub trait Parser: clap::Parser {
    /// The arguments, or exit: `--help` and `--version` as clap prints
    /// them (status 0); a usage error as one line (status 2).
    fn parse() -> Self {
        match <Self as clap::Parser>::try_parse() {
            Ok(a) => a,
            Err(e) => exit(e, <Self as clap::CommandFactory>::command().get_name()),
        }
    }
}

impl<T: clap::Parser> Parser for T {}

/// Exit for clap's error `e` of the tool `name`, as [`Parser::parse`] does.
pub fn exit(e: clap::Error, name: &str) -> ! {
    use clap::error::ErrorKind as K;
    if matches!(
        e.kind(),
        K::DisplayHelp | K::DisplayVersion | K::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        e.exit()
    }
    eprintln!("{}", one_line(&e.render().to_string(), name));
    std::process::exit(2)
}

/// `NAME: error: WHAT (TIP); see 'NAME --help'` from clap's rendering:
/// its first paragraph, and its tip if it gives one.
fn one_line(rendered: &str, name: &str) -> String {
    let lines: Vec<&str> = rendered.lines().map(str::trim).collect();
    let end = lines
        .iter()
        .position(|l| l.is_empty())
        .unwrap_or(lines.len());
    let first = lines[..end].join(" ");
    let what = first.strip_prefix("error: ").unwrap_or(&first);
    let tip = lines[end..]
        .iter()
        .find_map(|l| l.strip_prefix("tip: "))
        .map(|t| format!(" ({t})"))
        .unwrap_or_default();
    crate::printable(&format!("{name}: error: {what}{tip}; see '{name} --help'"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_block_becomes_one_line_with_its_tip() {
        let block = "error: unexpected argument '-1' found\n\n  tip: to pass '-1' as a \
                     value, use '-- -1'\n\nUsage: cairn-run [OPTIONS] <IMAGE> [CMD]...\n\n\
                     For more information, try '--help'.\n";
        assert_eq!(
            one_line(block, "cairn-run"),
            "cairn-run: error: unexpected argument '-1' found (to pass '-1' as a value, \
             use '-- -1'); see 'cairn-run --help'"
        );
        let block = "error: the following required arguments were not provided:\n  \
                     <IMAGE>\n\nUsage: cairn-run <IMAGE>\n";
        assert_eq!(
            one_line(block, "cairn-run"),
            "cairn-run: error: the following required arguments were not provided: \
             <IMAGE>; see 'cairn-run --help'"
        );
    }
}
