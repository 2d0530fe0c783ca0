use cairn_cli::args::Export;
use cairn_cli::{open_store, subjects_by, Fail};
use clap::Parser;
use std::io::{self, BufWriter, IsTerminal, Write};

fn main() {
    cairn_cli::main("cairn-export", || run(Export::parse()))
}

fn run(args: Export) -> Result<i32, Fail> {
    let store = open_store(&args.common)?;
    let given: Vec<String> = args.subject.iter().cloned().collect();
    let subjects = subjects_by(&given, &["container", "layer"])
        .map_err(|f| f.hint_msg("cairn export web > web.tar"))?;
    let name = &subjects[0].name;
    let layers = libcairn::export::view_layers(&store, name).map_err(|e| anyhow::anyhow!("{e}"))?;
    match &args.output {
        Some(path) => {
            // Staged beside the target and renamed, so a failure leaves no half file.
            let tmp = path.with_file_name(format!(
                ".{}.cairn-{}",
                path.file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or("export"),
                std::process::id()
            ));
            let res = (|| -> Result<(), Fail> {
                let f = std::fs::File::create(&tmp)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", tmp.display()))?;
                let w = libcairn::export::export(
                    &store,
                    &layers,
                    BufWriter::with_capacity(1 << 20, f),
                )?;
                w.into_inner().map_err(|e| e.into_error())?.sync_all()?;
                std::fs::rename(&tmp, path)?;
                Ok(())
            })();
            if res.is_err() {
                let _ = std::fs::remove_file(&tmp);
            }
            res?;
        }
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
