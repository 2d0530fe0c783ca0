use cairn_cli::args::Fsck;
use cairn_cli::out::{Format, Out};
use cairn_cli::{open_store, printable, Fail, EXIT_FAILED};
use clap::Parser;
use libcairn::fsck::{check, repair};

fn main() {
    cairn_cli::main("cairn-fsck", || run(Fsck::parse()))
}

fn run(args: Fsck) -> Result<i32, Fail> {
    let store = open_store(&args.common)?;
    let mut lines: Vec<String> = Vec::new();
    // After a repair, what it could not mend is listed a second time.
    let mut prefix = "";
    if args.repair {
        let (found, done) = repair(&store)?;
        lines.extend(found.iter().map(ToString::to_string));
        lines.extend(done.iter().map(ToString::to_string));
        prefix = "still damaged: ";
    }
    let left = check(&store)?;
    lines.extend(left.iter().map(|f| format!("{prefix}{f}")));
    let mut out = Out::new(Format::Json);
    for l in lines {
        out.raw(&format!("{}\n", printable(&l)))?;
    }
    Ok(if left.is_empty() { 0 } else { EXIT_FAILED })
}
