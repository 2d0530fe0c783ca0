use cairn_cli::args::{Fsck, FsckFormat};
use cairn_cli::out::{Format, Out};
use cairn_cli::Parser;
use cairn_cli::{open_store, printable, Fail, EXIT_FAILED};
use libcairn::fsck::{check, repair, Finding};
use libcairn::record::FindingRecord;

fn main() {
    cairn_cli::main("cairn-fsck", || run(Fsck::parse()))
}

fn run(args: Fsck) -> Result<i32, Fail> {
    let store = open_store(&args.common)?;
    let mut out = Out::new(Format::Json);
    let (found, done) = if args.repair {
        repair(&store)?
    } else {
        (Vec::new(), Vec::new())
    };
    let left = check(&store)?;
    if args.format == FsckFormat::Json {
        // With --repair: each finding, mended or not, then any new one.
        let repaired = args.repair.then_some(true);
        for f in &found {
            let mended = repaired.map(|r| r && !left.contains(f));
            out.record(&record(f, mended))?;
        }
        for f in left.iter().filter(|f| !found.contains(f)) {
            out.record(&record(f, repaired.map(|_| false)))?;
        }
    } else {
        // After a repair, what it could not mend is listed a second time.
        let prefix = if args.repair { "still damaged: " } else { "" };
        let lines = (found.iter().map(ToString::to_string))
            .chain(done.iter().map(ToString::to_string))
            .chain(left.iter().map(|f| format!("{prefix}{f}")));
        for l in lines {
            out.raw(&format!("{}\n", printable(&l)))?;
        }
    }
    Ok(if left.is_empty() { 0 } else { EXIT_FAILED })
}

fn record(f: &Finding, repaired: Option<bool>) -> FindingRecord {
    FindingRecord {
        kind: f.kind.to_string(),
        id: f.id.clone(),
        problem: f.problem.code().to_string(),
        detail: f.problem.to_string(),
        repaired,
        ..Default::default()
    }
}
