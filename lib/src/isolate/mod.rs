//! Running containers: namespaces, the root file system (overlay view,
//! pivot_root, /proc, /dev), cgroups, capabilities and the process. All of
//! cairn's `unsafe` lives here and in `sys`.

pub mod caps;
pub mod cgroup;
pub mod config;
pub mod devices;
pub mod exe;
pub mod liveness;
pub mod overlay;
pub mod process;
pub mod seccomp;
