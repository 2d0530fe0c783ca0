//! `cairn volume create|ls|inspect|rm|prune`: the store's volumes.

use cairn_cli::args::{Volume, VolumeCommand};
use cairn_cli::out::{Format, Out};
use cairn_cli::Parser;
use cairn_cli::{each_subject, open_store, subjects, Fail};
use libcairn::record::{Kind, VolumeRecord};
use libcairn::volume::{self, VolumeError};
use libcairn::Store;

fn main() {
    cairn_cli::main("cairn-volume", || run(Volume::parse()))
}

/// A volume's record: its name, when it was made, where its content is.
fn record(store: &Store, v: &volume::Volume) -> VolumeRecord {
    VolumeRecord {
        volume: v.name.clone(),
        created: Some(v.created.clone()),
        anonymous: Some(v.anonymous),
        mountpoint: Some(volume::data_dir(store, &v.name)),
        ..Default::default()
    }
}

fn removed(name: String) -> VolumeRecord {
    VolumeRecord {
        volume: name,
        removed: Some(true),
        ..Default::default()
    }
}

fn run(args: Volume) -> Result<i32, Fail> {
    let store = open_store(&args.common)?;
    match args.command {
        VolumeCommand::Create { name, format } => {
            let v = volume::create(&store, name.as_deref())?;
            Out::new(Format::resolve(format, false)).record(&record(&store, &v))?;
        }
        VolumeCommand::Ls { quiet, format } => {
            let mut out = Out::new(Format::listing(format, quiet));
            let all = volume::list(&store)?;
            let table = out.format == Format::Table;
            if table {
                out.raw("DRIVER    VOLUME NAME\n")?;
            }
            for v in &all {
                match table {
                    true => out.raw(&format!("local     {}\n", v.name))?,
                    false => out.record(&record(&store, v))?,
                }
            }
        }
        VolumeCommand::Inspect { names } => {
            let mut out = Out::new(Format::Json);
            return each_subject(subjects::<VolumeRecord>(&names)?, |s| {
                let v = volume::get(&store, &s.name)?;
                let users = volume::users(&store, &v.name)?;
                let rec = VolumeRecord {
                    containers: Some(users.iter().map(|c| c.id).collect()),
                    ..record(&store, &v)
                };
                Ok(out.record(&rec.over(s.record))?)
            });
        }
        VolumeCommand::Rm {
            force,
            names,
            format,
        } => {
            let mut out = Out::new(Format::resolve(format, false));
            return each_subject(subjects::<VolumeRecord>(&names)?, |s| {
                match volume::remove(&store, &s.name) {
                    Err(VolumeError::NotFound(_)) if force => return Ok(()),
                    r => r?,
                }
                Ok(out.record(&removed(s.name.clone()).over(s.record))?)
            });
        }
        VolumeCommand::Prune { force: _, format } => {
            let mut out = Out::new(Format::resolve(format, false));
            for name in volume::prune(&store)? {
                out.record(&removed(name))?;
            }
        }
    }
    Ok(0)
}
