//! Running containers: the OCI runtime spec a container runs (`spec`),
//! and running it: namespaces, the root file system (overlay view,
//! pivot_root, /proc, /dev), cgroups, capabilities, the process, and
//! whether a recorded process is still alive. It is given paths and
//! settings, and knows neither the store nor images. All of cairn's
//! `unsafe` lives here and in `sys`.

pub mod attach;
pub mod caps;
pub mod cgroup;
pub mod config;
pub mod devices;
pub mod exe;
mod fsmount;
pub mod hooks;
mod idmap;
pub mod init;
pub use crate::liveness;
pub mod overlay;
pub mod process;
pub mod rootfs;
pub mod seccomp;
pub mod spec;
pub mod supervise;
mod sysfs;
pub mod tty;
