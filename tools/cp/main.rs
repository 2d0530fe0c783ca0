//! cairn-cp: files between a container and the host, as docker cp.

use cairn_cli::args::Cp;
use cairn_cli::Parser;
use cairn_cli::{open_store, usage, Fail};
use libcairn::container::copy::{self, Location};
use std::io::{self, IsTerminal, Write};

fn main() {
    cairn_cli::main("cairn-cp", || run(Cp::parse()))
}

fn run(args: Cp) -> Result<i32, Fail> {
    let store = open_store(&args.common)?;
    let o = copy::Options {
        archive: args.archive,
        follow: args.follow_link,
    };
    match (Location::parse(&args.src), Location::parse(&args.dest)) {
        (Location::Container { name, path }, Location::Host(dest)) => {
            let c = store.resolve_container(&name)?;
            copy::copy_out(&store, &c, &path, &dest, o)?;
        }
        (Location::Container { name, path }, Location::Stream) => {
            if io::stdout().is_terminal() {
                return Err(usage("refusing to write a tar to a terminal")
                    .hint_msg("redirect stdout, or pipe it into `tar -x`"));
            }
            let c = store.resolve_container(&name)?;
            let out = io::BufWriter::new(io::stdout().lock());
            copy::archive_out(&store, &c, &path, out, o)?.flush()?;
        }
        (Location::Host(src), Location::Container { name, path }) => {
            let c = store.resolve_container(&name)?;
            copy::copy_in(&store, &c, &src, &path, o)?;
        }
        (Location::Stream, Location::Container { name, path }) => {
            let c = store.resolve_container(&name)?;
            copy::extract_in(&store, &c, io::stdin().lock(), &path, args.archive)?;
        }
        (Location::Container { .. }, Location::Container { .. }) => {
            return Err(usage("copying between containers is not supported")
                .hint_msg("copy out to the host, then in"));
        }
        _ => {
            return Err(usage("one of SRC and DEST must be CONTAINER:PATH")
                .hint_msg("e.g. `cairn cp web:/etc/hosts .` or `cairn cp file web:/tmp`"));
        }
    }
    Ok(0)
}
