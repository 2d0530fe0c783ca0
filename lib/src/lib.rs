//! libcairn: the logic of cairn. No printing, no `process::exit`, no clap.
//!
//! # Layers
//!
//! The modules depend only downwards. Each row below names modules and what
//! they sit on; a module may use what it sits on and, through it, everything
//! beneath, and nothing else: not a module above it, not one beside it.
//! `lib/tests/layering.rs` reads this table and fails when a module reaches
//! outside it, or when a module is missing from it (a new module must be
//! placed before it can be used). Why this order: `docs/layering.md`.
//!
//! | module | sits on | holds |
//! |---|---|---|
//! | `digest` | | content digests and the IDs built on them |
//! | `liveness` | | whether a process recorded earlier (pid and start time) is still the one that was started |
//! | `userns` | `liveness` | the user namespace cairn runs in: whether it is rootless, and joining an ordinary user's shared namespaces |
//! | `sys` | | file-system calls nix does not wrap; handles opened relative to a directory fd |
//! | `error` | | an error and its causes as one line of text |
//! | `trace` | | phase stamps on `CLOCK_MONOTONIC` for finding where a command's time goes (`CAIRN_TRACE`) |
//! | `json` | | canonical JSON, as IDs are computed over it |
//! | `logfile` | | a log that rotates before it can fill the disk |
//! | `reference` | | image names as people type them |
//! | `template` | | the part of Go's text/template docker's `--format` is typed with (fields, pipelines, `if`, `range`, docker's functions), parsed and run over a JSON document |
//! | `filter` | | docker's `--filter KEY=VALUE` for listings: keys, labels, names, reference globs |
//! | `hostfiles` | | the /etc/hostname, /etc/hosts and /etc/resolv.conf cairn writes for a container |
//! | `layer` | `digest`, `sys`, `userns` | tar streams, whiteouts, diffs, compression |
//! | `store` | `layer`, `json`, `reference`, `hostfiles` | paths, atomic publish, locks, tags, container records |
//! | `net` | `store`, `trace` | container networks: the default bridge and user networks, veth pairs, addresses leased in the store, names in /etc/hosts, nftables NAT, isolation and published ports |
//! | `record` | `store`, `net` | the pipe protocol: a type per record kind, and their schemas |
//! | `image` | `store` | image configs, manifests and archives: load, save, tag, remove |
//! | `registry` | `store`, `image`, `layer`, `reference`, `error` | the OCI distribution API: references to manifests, auth, TLS, blobs streamed into layers |
//! | `isolate` | `sys`, `logfile`, `error`, `userns`, `liveness`, `trace` | the OCI runtime spec a container runs and running it: namespaces, rootfs, cgroups, seccomp, devices, capabilities, process liveness, supervision and the caller's terminal |
//! | `runtime` | `isolate` | an OCI runtime with runc's command line: a bundle's config.json run through `isolate`, state under a root directory |
//! | `volume` | `store` | volumes: `-v`, `--mount` and `--tmpfs` read into mounts, named and anonymous volumes in the store, filling one from an image |
//! | `container` | `image`, `isolate`, `volume`, `net` | a container's lifecycle: create, start, stop, commit, remove; its network, mounts and /etc files |
//! | `build` | `container` | Dockerfile builds |
//! | `export` | `container` | a container's filesystem as one tar |
//! | `graph` | `container` | what uses what: images, layers, containers |
//! | `inspect` | `graph`, `record`, `template` | what `inspect` shows of a container or an image: cairn's documents, and docker's (docker's keys and nesting) |
//! | `fsck` | `image`, `error` | checking every object of the store against its name, and moving the broken ones aside |
//! | `system` | `container`, `graph`, `volume`, `isolate`, `userns` | the store and the host as a whole: `info`, `system df` (and `-v`, per image, container and volume), containers' resource use (`stats`), and the schemas of these reports |
//! | `prune` | `container`, `fsck` | removing what nothing references: stopped containers, dangling images, unnamed blobs |

pub mod build;
pub mod container;
pub mod digest;
pub mod error;
pub mod export;
pub mod filter;
pub mod fsck;
pub mod graph;
pub mod hostfiles;
pub mod image;
pub mod inspect;
pub mod isolate;
pub mod json;
pub mod layer;
pub mod liveness;
pub mod logfile;
pub mod net;
pub mod prune;
pub mod record;
pub mod reference;
pub mod registry;
pub mod runtime;
pub mod store;
pub mod sys;
pub mod system;
pub mod template;
pub mod trace;
pub mod userns;
pub mod volume;

pub use digest::{ContainerId, Digest, LayerId};
pub use store::Store;

#[cfg(test)]
pub(crate) mod testutil;
