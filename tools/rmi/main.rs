use cairn_cli::args::Rmi;
use cairn_cli::out::{Format, Out};
use cairn_cli::{open_store, subjects, Fail};
use clap::Parser;
use libcairn::image::remove::remove;
use serde_json::json;

fn main() {
    cairn_cli::main("cairn-rmi", || run(Rmi::parse()))
}

fn run(args: Rmi) -> Result<i32, Fail> {
    let store = open_store(&args.common)?;
    let mut out = Out::new(Format::resolve(args.format, false));
    let mut code = 0;
    for s in subjects(&args.images, "layer")? {
        match remove(&store, &s.name, args.force) {
            Ok(r) => {
                for t in r.untagged {
                    let mut rec = s.record.clone();
                    rec.insert("untagged".into(), json!(t));
                    out.record(&rec, "untagged")?;
                }
                for d in r.deleted {
                    let mut rec = s.record.clone();
                    rec.insert("deleted".into(), json!(d));
                    rec.insert("layer".into(), json!(d));
                    out.record(&rec, "deleted")?;
                }
            }
            Err(e) => {
                eprintln!("cairn-rmi: error: {e}");
                code = 1;
            }
        }
    }
    Ok(code)
}
