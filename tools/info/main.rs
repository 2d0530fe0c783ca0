use cairn_cli::args::Info;
use cairn_cli::out::{Format, Out};
use cairn_cli::system::{info, Layout, Report};
use cairn_cli::Parser;
use cairn_cli::{open_store, Fail};

fn main() {
    cairn_cli::main("cairn-info", || run(Info::parse()))
}

fn run(args: Info) -> Result<i32, Fail> {
    let store = open_store(&args.common)?;
    let (rec, tdoc, text) = info(&libcairn::system::info(&store)?)?;
    let mut out = Out::new(Format::Json);
    Report {
        asked: &args.format,
        docs: vec![rec],
        tdocs: vec![tdoc],
        layout: Layout::Text(text),
    }
    .print(&mut out)?;
    Ok(0)
}
