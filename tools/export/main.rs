use cairn_cli::args::Export;
use cairn_cli::{open_store, Fail};
use clap::Parser;
use libcairn::record;
use std::io::{self, BufWriter, IsTerminal, Write};

fn main() {
    cairn_cli::main("cairn-export", || run(Export::parse()))
}

fn run(args: Export) -> Result<i32, Fail> {
    let store = open_store(&args.common)?;
    let name = match &args.subject {
        Some(s) => s.clone(),
        None => {
            if io::stdin().is_terminal() {
                return Err(cairn_cli::usage("no container or image given")
                    .hint_msg("cairn export web > web.tar"));
            }
            let rec = record::read_records(io::stdin().lock())
                .next()
                .ok_or_else(|| {
                    cairn_cli::usage(
                        "no container or image given: no argument and no record on stdin",
                    )
                })?
                .map_err(|e| cairn_cli::usage(e.to_string()))?;
            record::field(&rec, "container")
                .or_else(|| record::field(&rec, "layer"))
                .ok_or_else(|| {
                    cairn_cli::usage("stdin record has neither \"container\" nor \"layer\"")
                })?
                .to_string()
        }
    };
    let layers =
        libcairn::export::view_layers(&store, &name).map_err(|e| anyhow::anyhow!("{e}"))?;
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
