//! Compiling a container's own `linux.seccomp` (the OCI runtime spec's
//! profile: `--security-opt seccomp=FILE` under docker, a profile written
//! into config.json) when the container is created, as runc and crun do:
//! libseccomp builds the program from the rules, handed over as
//! [`compile::add_rule`] hands docker's.
//!
//! The architectures the profile lists are served as runc serves them
//! (docker's lists i386 and x32 on x86_64): their calls get the rules'
//! decisions by name, libseccomp numbering them per ABI; a call of an ABI
//! it does not list fails with EPERM. What differs from runc, and why:
//!
//! - in front of libseccomp's program, unless the default action is
//!   permissive (allow, log) or is already ENOSYS, the same prefix as for
//!   docker's profile, for the native ABI: a call newer than every call
//!   the profile names fails with ENOSYS (runc's stub), and a `socket`
//!   family wider than an int with EPERM (another ABI's calls go to
//!   libseccomp's program as they are);
//! - SCMP_ACT_NOTIFY and a listener (`listenerPath`) are refused: cairn
//!   has no seccomp agent to pass the notification fd to.

use super::compile::{self, Arg};
use oci_spec::runtime::{LinuxSeccomp, LinuxSeccompAction, LinuxSeccompFilterFlag};

/// `seccomp(2)`'s flags (linux/seccomp.h).
const FLAG_TSYNC: u32 = 1;
const FLAG_LOG: u32 = 2;
const FLAG_SPEC_ALLOW: u32 = 4;

/// A compiled profile: the program, and the flags to load it with.
pub struct Compiled {
    pub program: Vec<libc::sock_filter>,
    pub flags: u32,
}

fn action(a: LinuxSeccompAction, errno: Option<u32>) -> Result<libseccomp::ScmpAction, String> {
    let errno = errno
        .map(|e| i32::try_from(e).map_err(|_| format!("errnoRet {e} is out of range")))
        .transpose()?;
    compile::action(&a.to_string(), errno)
}

fn flags(s: &LinuxSeccomp) -> Result<u32, String> {
    s.flags().iter().flatten().try_fold(0, |acc, f| {
        Ok(acc
            | match f {
                // the process is single-threaded when it loads the filter
                LinuxSeccompFilterFlag::SeccompFilterFlagTsync => FLAG_TSYNC,
                LinuxSeccompFilterFlag::SeccompFilterFlagLog => FLAG_LOG,
                LinuxSeccompFilterFlag::SeccompFilterFlagSpecAllow => FLAG_SPEC_ALLOW,
                other => return Err(format!("flag {other} is not supported")),
            })
    })
}

/// The program for `s` on this architecture.
pub fn compile(s: &LinuxSeccomp) -> Result<Compiled, String> {
    if let Some(p) = s.listener_path() {
        return Err(format!(
            "listenerPath {} is not supported (cairn has no seccomp agent to notify)",
            p.display()
        ));
    }
    let flags = flags(s)?;
    let default = action(s.default_action(), s.default_errno_ret())?;
    let mut ctx = compile::new_filter(default)?;
    for arch in s.architectures().iter().flatten() {
        let name = arch.to_string();
        let a: libseccomp::ScmpArch = name
            .parse()
            .map_err(|_| format!("architecture {name} is not known to libseccomp"))?;
        if a != libseccomp::ScmpArch::native() {
            ctx.add_arch(a)
                .map_err(|e| format!("libseccomp: adding architecture {name}: {e}"))?;
        }
    }
    let rules = s.syscalls().as_deref().unwrap_or_default();
    for r in rules {
        let act = action(r.action(), r.errno_ret())?;
        let args: Vec<Arg> = r
            .args()
            .iter()
            .flatten()
            .map(|a| Arg {
                index: u32::try_from(a.index()).unwrap_or(u32::MAX),
                value: a.value(),
                value_two: a.value_two().unwrap_or(0),
                op: a.op().to_string(),
            })
            .collect();
        compile::add_rule(&mut ctx, default, act, r.names(), &args)?;
    }
    let permissive = matches!(
        s.default_action(),
        LinuxSeccompAction::ScmpActAllow | LinuxSeccompAction::ScmpActLog
    );
    let enosys = s.default_action() == LinuxSeccompAction::ScmpActErrno
        && s.default_errno_ret() == Some(libc::ENOSYS as u32);
    let last = compile::last_of(rules.iter().flat_map(|r| r.names()));
    let prefix = match last {
        Some(last) if !permissive && !enosys => compile::prefix(last),
        _ => Vec::new(),
    };
    let program = compile::finish(prefix, &ctx)?;
    Ok(Compiled { program, flags })
}
