use cairn_cli::args::Load;
use cairn_cli::out::Out;
use cairn_cli::Parser;
use cairn_cli::{open_store, Fail};
use libcairn::image::load::{load, open_source};
use libcairn::record::ImageRecord;
use std::io::{self, IsTerminal, Write};

fn main() {
    cairn_cli::main("cairn-load", || run(Load::parse()))
}

fn run(args: Load) -> Result<i32, Fail> {
    let store = open_store(&args.common)?;
    let input = args.input.or(args.source).unwrap_or_else(|| "-".into());
    if input == "-" && io::stdin().is_terminal() {
        return Err(cairn_cli::usage(
            "no archive given: name a FILE or DIR, or pipe one into stdin",
        )
        .hint_msg("cairn load busybox.tar"));
    }
    let bad_input = |e: libcairn::image::load::LoadError| {
        // Hostile or broken archives fail like a failed operation (1), as
        // layer-unpack does; the store is left as it was either way.
        Fail {
            code: cairn_cli::EXIT_FAILED,
            error: anyhow::Error::new(e).context(input.clone()),
            hint: None,
        }
    };
    let (src, _staging) = open_source(&store, &input).map_err(bad_input)?;
    let tty = io::stderr().is_terminal();
    let mut progress = |image: usize, layer: usize, count: usize| {
        if tty {
            let _ = write!(
                io::stderr(),
                "\r\x1b[2Kloading image {}: layer {}/{}",
                image + 1,
                layer + 1,
                count
            );
        }
    };
    let loaded = load(&store, src.as_ref(), &mut progress).map_err(bad_input)?;
    libcairn::image::ids::note(&store);
    if tty {
        let _ = write!(io::stderr(), "\r\x1b[2K");
    }
    let mut out = Out::verb(args.format);
    for img in loaded {
        // docker names each tag loaded, or the ID of an untagged image
        let said: Vec<String> = match img.tags.is_empty() {
            true => vec![format!("Loaded image ID: {}", img.image_id)],
            false => img
                .tags
                .iter()
                .map(|t| format!("Loaded image: {t}"))
                .collect(),
        };
        let said: Vec<&str> = said.iter().map(String::as_str).collect();
        let rec = ImageRecord {
            layer: Some(img.layer),
            image_id: Some(img.image_id),
            tags: Some(img.tags),
            diff_ids: Some(img.diff_ids),
            layers: Some(img.layers),
            source_format: Some(img.format.to_string()),
            ..Default::default()
        };
        out.done(&rec, &said)?;
    }
    Ok(0)
}
