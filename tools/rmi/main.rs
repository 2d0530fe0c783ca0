use cairn_cli::args::Rmi;
use cairn_cli::out::Out;
use cairn_cli::Parser;
use cairn_cli::{each_subject, open_store, subjects, Fail};
use libcairn::image::remove::remove;
use libcairn::record::{ImageRecord, Kind};

fn main() {
    cairn_cli::main("cairn-rmi", || run(Rmi::parse()))
}

fn run(args: Rmi) -> Result<i32, Fail> {
    let store = open_store(&args.common)?;
    let mut out = Out::verb(args.format);
    each_subject(subjects::<ImageRecord>(&args.images)?, |s| {
        let r = remove(&store, &s.name, args.force)?;
        for t in r.untagged {
            let rec = ImageRecord {
                untagged: Some(t.clone()),
                ..Default::default()
            };
            if out.says() {
                out.done(&rec, &[&format!("Untagged: {t}")])?;
            } else {
                out.record_as(&rec.over(&s.record), &t)?;
            }
        }
        for d in r.deleted {
            let rec = ImageRecord {
                deleted: Some(d),
                layer: Some(d),
                ..Default::default()
            };
            out.done(&rec.over(&s.record), &[&format!("Deleted: {d}")])?;
        }
        Ok(())
    })
}
