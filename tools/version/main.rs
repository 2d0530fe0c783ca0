use cairn_cli::args::Version;
use cairn_cli::out::{Format, Out};
use cairn_cli::system::{version, Report};
use cairn_cli::Fail;
use cairn_cli::Parser;

fn main() {
    cairn_cli::main("cairn-version", || run(Version::parse()))
}

fn run(args: Version) -> Result<i32, Fail> {
    let report = version(
        option_env!("CAIRN_GIT_COMMIT").filter(|c| !c.is_empty()),
        env!("CAIRN_RUSTC_VERSION"),
    );
    let mut out = Out::new(Format::Json);
    Report {
        asked: &args.format,
        ..report
    }
    .print(&mut out)?;
    Ok(0)
}
