use cairn_cli::args::Tag;
use cairn_cli::out::Out;
use cairn_cli::Parser;
use cairn_cli::{open_store, subjects, Fail, FailExt};
use libcairn::image;
use libcairn::record::{ImageRecord, Kind};
use libcairn::reference::Reference;
use libcairn::store::refs;

fn main() {
    cairn_cli::main("cairn-tag", || run(Tag::parse()))
}

fn run(args: Tag) -> Result<i32, Fail> {
    let store = open_store(&args.common)?;
    let mut out = Out::verb(args.format);
    if args.delete {
        let mut code = 0;
        for name in &args.names {
            let r = Reference::parse(name).usage()?;
            match refs::remove(&store, &r.familiar())? {
                Some(layer) => {
                    let rec = ImageRecord {
                        layer: Some(layer),
                        untagged: Some(r.familiar()),
                        ..Default::default()
                    };
                    out.done(&rec, &[&format!("Untagged: {}", r.familiar())])?;
                }
                None => {
                    eprintln!("cairn-tag: error: no such tag: {}", r.familiar());
                    code = 1;
                }
            }
        }
        return Ok(code);
    }
    // SOURCE TARGET, docker's order; TARGET alone takes stdin's record.
    let (source, target) = match args.names.as_slice() {
        [target] => (vec![], target),
        [source, target] => (vec![source.clone()], target),
        _ => {
            return Err(cairn_cli::usage(
                "give SOURCE TARGET (or -d to remove several tags)",
            ))
        }
    };
    let reference = Reference::parse(target).usage()?;
    let subjects = subjects::<ImageRecord>(&source)?;
    if subjects.len() > 1 {
        return Err(cairn_cli::usage(
            "several records on stdin, but one tag can name only one image",
        ));
    }
    let subject = &subjects[0];
    let layer = image::resolve(&store, &subject.name)?;
    let docs = image::tag(&store, &reference, &layer)?;
    let rec = ImageRecord {
        layer: Some(layer),
        tag: Some(reference.familiar()),
        image_id: Some(docs.config_digest),
        ..Default::default()
    };
    out.done(&rec.over(&subject.record), &[])?;
    Ok(0)
}
