//! Images: OCI manifests, configs and indexes, and docker-archive, in and
//! out. An image *is* its top layer; everything here is derived from the
//! layer chain, or kept as the exact bytes that came in.

pub mod change;
pub mod config;
pub mod docker;
pub mod ids;
pub mod load;
pub mod naming;
pub mod remove;
pub mod runtime_config;
pub mod save;

pub use config::{resolve, tag, write_documents, Documents};
