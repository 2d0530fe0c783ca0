//! libcairn: the logic of cairn. No printing, no `process::exit`, no clap.
//!
//! Dependencies point one way: image → store → layer.

pub mod build;
pub mod container;
pub mod digest;
pub mod export;
pub mod graph;
pub mod image;
pub mod isolate;
pub mod json;
pub mod layer;
pub mod logfile;
pub mod record;
pub mod reference;
pub mod store;
pub mod sys;

pub use digest::{ContainerId, Digest, LayerId};
pub use store::Store;

#[cfg(test)]
pub(crate) mod testutil;
