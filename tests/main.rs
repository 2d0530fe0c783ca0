//! cairn's integration tests: the real binaries, as root, on real files.
//! One binary, a module per tool, plus pipelines, interop and hostile input.

mod fixtures;
mod harness;

mod adapters;
mod build;
mod commit;
mod compat;
mod complete;
mod containers;
mod containment;
mod cp;
mod differential;
mod docs;
mod fsck;
mod function_length;
mod graph;
mod habits;
mod hostile;
mod inspect;
mod interop;
mod lifecycle;
mod listing;
mod load;
mod logs;
mod network;
mod protocol;
mod records;
mod registry;
mod rootless;
mod runtime;
mod runtime_userns;
mod save;
mod system;
mod unpack;
mod volumes;
mod walkthrough;
