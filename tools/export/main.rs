use cairn_cli::args::Export;
use cairn_cli::Parser;
use cairn_cli::{open_store, subjects, Fail};
use libcairn::record::AnyRecord;
use std::io::{self, BufWriter, IsTerminal, Write};

fn main() {
    cairn_cli::main("cairn-export", || run(Export::parse()))
}

fn run(args: Export) -> Result<i32, Fail> {
    let store = open_store(&args.common)?;
    let given: Vec<String> = args.subject.iter().cloned().collect();
    let subjects =
        subjects::<AnyRecord>(&given).map_err(|f| f.hint_msg("cairn export web > web.tar"))?;
    let name = &subjects[0].name;
    let layers = libcairn::export::view_layers(&store, name)?;
    match &args.output {
        Some(path) => libcairn::export::export_to_file(&store, &layers, path)?,
        None => {
            if io::stdout().is_terminal() {
                return Err(cairn_cli::usage("refusing to write a tar to a terminal")
                    .hint_msg("use -o FILE or redirect stdout"));
            }
            let w = libcairn::export::export(
                &store,
                &layers,
                BufWriter::with_capacity(1 << 20, io::stdout().lock()),
            )?;
            w.into_inner().map_err(|e| e.into_error())?.flush()?;
        }
    }
    Ok(0)
}
