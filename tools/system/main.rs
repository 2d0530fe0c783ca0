use cairn_cli::args::{System, SystemCommand};
use cairn_cli::out::{Format, FormatArg, Out};
use cairn_cli::system::{df_headers, df_row, Layout, Report, DF_TABLE};
use cairn_cli::Parser;
use cairn_cli::{open_store, Fail};
use libcairn::prune::Scope;

fn main() {
    cairn_cli::main("cairn-system", || run(System::parse()))
}

fn run(args: System) -> Result<i32, Fail> {
    match args.command {
        SystemCommand::Prune(p) => {
            cairn_cli::prune::run(&args.common, Scope::System, p.all, &p.opts)
        }
        SystemCommand::Df {
            verbose: true,
            format,
        } => {
            let store = open_store(&args.common)?;
            let lines = libcairn::system::usage::lines(&store)?;
            let mut out = Out::new(Format::Json);
            let text = match Format::resolve(FormatArg::fixed(&format), true) {
                Format::Table => cairn_cli::df::verbose_text(&store, &lines)?,
                _ => lines
                    .iter()
                    .map(|l| Ok(serde_json::to_string(l)? + "\n"))
                    .collect::<Result<_, Fail>>()?,
            };
            out.raw(&text)?;
            out.flush()?;
            Ok(0)
        }
        SystemCommand::Df { format, .. } => {
            let store = open_store(&args.common)?;
            let usage = libcairn::system::df(&store)?;
            let mut out = Out::new(Format::Json);
            Report {
                asked: &format,
                docs: usage
                    .iter()
                    .map(serde_json::to_value)
                    .collect::<Result<_, _>>()?,
                tdocs: usage.iter().map(df_row).collect(),
                layout: Layout::Table(DF_TABLE, df_headers()),
            }
            .print(&mut out)?;
            Ok(0)
        }
    }
}
