//! Compiling docker's seccomp profile to a BPF program with libseccomp.
//!
//! Run by `lib/build.rs`, which embeds the program for docker's default
//! capabilities in the library, and by the unit tests, for other sets.
//! Self-contained (it is compiled into the build script as well), so its
//! errors are plain strings that the build prints.
//!
//! The rules are chosen as moby chooses them (`setupSeccomp` in
//! moby/profiles): a rule is dropped if its `excludes` name this
//! architecture or one of the container's capabilities, or a kernel version
//! the running kernel has reached; it is kept only if its `includes` name
//! this architecture (when they name any), every capability they list is
//! the container's, and the kernel has their version. Each kept rule goes
//! to libseccomp as runc gives it (`InitSeccomp`): one rule per system call
//! name, the argument conditions ANDed (or one rule each when two test the
//! same argument), a rule that repeats the default action skipped, a name
//! this architecture or libseccomp does not know skipped.

use libseccomp::{ScmpAction, ScmpArgCompare, ScmpCompareOp, ScmpFilterContext, ScmpSyscall};
use serde::Deserialize;
use std::io::{Read, Seek};
use std::os::fd::{FromRawFd, OwnedFd};

/// docker's default capabilities (moby `caps/defaults.go`), by number:
/// CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, SETGID, SETUID, SETPCAP,
/// NET_BIND_SERVICE, NET_RAW, SYS_CHROOT, MKNOD, AUDIT_WRITE, SETFCAP.
pub const DOCKER_CAPS: [u32; 14] = [0, 1, 3, 4, 5, 6, 7, 8, 10, 13, 18, 27, 29, 31];

/// Capability names by number (linux/capability.h).
const CAP_NAMES: [&str; 41] = [
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
];

/// This architecture as the profile's `arches` name it (Go's names, which
/// moby matches).
#[cfg(target_arch = "x86_64")]
const ARCH_NAME: &str = "amd64";
#[cfg(target_arch = "aarch64")]
const ARCH_NAME: &str = "arm64";

/// This architecture as libseccomp (and the OCI runtime spec) name it.
#[cfg(target_arch = "x86_64")]
pub const SCMP_ARCH: &str = "SCMP_ARCH_X86_64";
#[cfg(target_arch = "aarch64")]
pub const SCMP_ARCH: &str = "SCMP_ARCH_AARCH64";

/// `seccomp_data.arch` of the native ABI.
#[cfg(target_arch = "x86_64")]
pub const AUDIT_ARCH: u32 = 0xC000_003E;
#[cfg(target_arch = "aarch64")]
pub const AUDIT_ARCH: u32 = 0xC000_00B7;

/// x32 calls are x86_64's with this bit set in the number.
pub const X32_BIT: u32 = 0x4000_0000;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Profile {
    default_action: String,
    default_errno_ret: Option<i32>,
    /// The architectures docker adds to the filter; this filter serves the
    /// native one only.
    #[serde(rename = "archMap")]
    _arch_map: Vec<serde_json::Value>,
    syscalls: Vec<Rule>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Rule {
    names: Vec<String>,
    action: String,
    errno_ret: Option<i32>,
    #[serde(default)]
    args: Option<Vec<Arg>>,
    #[serde(default)]
    includes: Option<Condition>,
    #[serde(default)]
    excludes: Option<Condition>,
    #[serde(rename = "comment")]
    _comment: Option<String>,
}

/// When a rule applies (`includes`: all of these hold) or does not
/// (`excludes`: any of these holds).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Condition {
    #[serde(default)]
    caps: Vec<String>,
    #[serde(default)]
    arches: Vec<String>,
    min_kernel: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Arg {
    pub index: u32,
    pub value: u64,
    #[serde(default)]
    pub value_two: u64,
    /// libseccomp's name of the operator, `SCMP_CMP_EQ`, ...
    pub op: String,
}

/// The container a filter is for.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    /// Its capability bounding set, by number.
    pub caps: &'a [u32],
    /// The kernel's version, (major, minor).
    pub kernel: (u32, u32),
}

pub fn parse(text: &str) -> Result<Profile, String> {
    serde_json::from_str(text).map_err(|e| e.to_string())
}

fn has_cap(caps: &[u32], name: &str) -> Result<bool, String> {
    let n = CAP_NAMES
        .iter()
        .position(|c| *c == name)
        .ok_or_else(|| format!("unknown capability {name}"))?;
    Ok(caps.contains(&(n as u32)))
}

fn version(v: &str) -> Result<(u32, u32), String> {
    super::kernel::parse(v).ok_or_else(|| format!("minKernel {v:?} is not MAJOR.MINOR"))
}

/// The kernel versions at which the profile's rules change, lowest first,
/// starting with (0, 0): one program serves each range.
pub fn kernel_steps(p: &Profile) -> Result<Vec<(u32, u32)>, String> {
    let mut steps = vec![(0, 0)];
    for r in &p.syscalls {
        for c in [&r.includes, &r.excludes].into_iter().flatten() {
            if let Some(v) = &c.min_kernel {
                steps.push(version(v)?);
            }
        }
    }
    steps.sort_unstable();
    steps.dedup();
    Ok(steps)
}

/// Whether `rule` applies to `t`, by moby's reading of `includes` and
/// `excludes`.
fn applies(rule: &Rule, t: Target<'_>) -> Result<bool, String> {
    if let Some(ex) = &rule.excludes {
        if ex.arches.iter().any(|a| a == ARCH_NAME) {
            return Ok(false);
        }
        for c in &ex.caps {
            if has_cap(t.caps, c)? {
                return Ok(false);
            }
        }
        if let Some(v) = &ex.min_kernel {
            if t.kernel >= version(v)? {
                return Ok(false);
            }
        }
    }
    if let Some(inc) = &rule.includes {
        if !inc.arches.is_empty() && !inc.arches.iter().any(|a| a == ARCH_NAME) {
            return Ok(false);
        }
        for c in &inc.caps {
            if !has_cap(t.caps, c)? {
                return Ok(false);
            }
        }
        if let Some(v) = &inc.min_kernel {
            if t.kernel < version(v)? {
                return Ok(false);
            }
        }
    }
    Ok(true)
}

pub fn action(name: &str, errno: Option<i32>) -> Result<ScmpAction, String> {
    let errno_of = |what: &str| -> Result<i32, String> {
        match errno.unwrap_or(libc::EPERM) {
            e @ 0..=0xffff => Ok(e),
            e => Err(format!("{what} {e} is not a 16-bit value")),
        }
    };
    match name {
        "SCMP_ACT_ERRNO" => Ok(ScmpAction::Errno(errno_of("errnoRet")?)),
        // the tracer sees errnoRet as the event's message
        "SCMP_ACT_TRACE" => Ok(ScmpAction::Trace(errno_of("errnoRet")? as u16)),
        _ if errno.is_some() => Err(format!(
            "errnoRet with action {name}: only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take one"
        )),
        "SCMP_ACT_ALLOW"
        | "SCMP_ACT_KILL"
        | "SCMP_ACT_KILL_THREAD"
        | "SCMP_ACT_KILL_PROCESS"
        | "SCMP_ACT_TRAP"
        | "SCMP_ACT_LOG" => {
            ScmpAction::from_str(name, None).map_err(|e| format!("action {name}: {e}"))
        }
        "SCMP_ACT_NOTIFY" => Err(
            "action SCMP_ACT_NOTIFY is not supported (cairn has no seccomp agent to notify)".into(),
        ),
        _ => Err(format!("unsupported action {name}")),
    }
}

fn compare(a: &Arg) -> Result<ScmpArgCompare, String> {
    if a.index > 5 {
        return Err(format!("argument index {} (system calls have 6)", a.index));
    }
    let op: ScmpCompareOp =
        a.op.parse()
            .map_err(|e| format!("operator {}: {e}", a.op))?;
    Ok(match op {
        // the profile (as OCI) gives the mask as `value`, the datum as `valueTwo`
        ScmpCompareOp::MaskedEqual(_) => {
            ScmpArgCompare::new(a.index, ScmpCompareOp::MaskedEqual(a.value), a.value_two)
        }
        op => ScmpArgCompare::new(a.index, op, a.value),
    })
}

/// The native number of system call `name`, if this architecture has it
/// and libseccomp knows it.
pub fn number(name: &str) -> Option<i32> {
    let nr = ScmpSyscall::from_name(name).ok()?.as_raw_syscall();
    // negative: a call of another architecture only (libseccomp's pseudo numbers)
    (nr >= 0).then_some(nr)
}

/// The highest native call number the profile names, in any rule: calls
/// above it are newer than the profile (or than libseccomp).
pub fn last_known(p: &Profile) -> Option<u32> {
    last_of(p.syscalls.iter().flat_map(|r| &r.names))
}

/// The highest native call number among `names`.
pub fn last_of<'a>(names: impl Iterator<Item = &'a String>) -> Option<u32> {
    names.filter_map(|n| number(n)).max().map(|n| n as u32)
}

/// A libseccomp filter with `default` for calls no rule names, serving
/// the native architecture only: calls of the others (i386 and x32 on
/// x86_64) fail with EPERM.
pub fn new_filter(default: ScmpAction) -> Result<ScmpFilterContext, String> {
    let lib = |what: &str, e: libseccomp::error::SeccompError| format!("libseccomp: {what}: {e}");
    let mut ctx = ScmpFilterContext::new(default).map_err(|e| lib("a new filter", e))?;
    ctx.set_act_badarch(ScmpAction::Errno(libc::EPERM))
        .map_err(|e| lib("the action for other architectures", e))?;
    // a binary tree of the call numbers rather than a list, as runc asks
    ctx.set_ctl_optimize(2)
        .map_err(|e| lib("binary tree optimization", e))?;
    Ok(ctx)
}

/// libseccomp's filter for `t`.
fn filter(p: &Profile, t: Target<'_>) -> Result<ScmpFilterContext, String> {
    let default = action(&p.default_action, p.default_errno_ret)?;
    let mut ctx = new_filter(default)?;
    for rule in &p.syscalls {
        if !applies(rule, t)? {
            continue;
        }
        let act = action(&rule.action, rule.errno_ret)?;
        add_rule(
            &mut ctx,
            default,
            act,
            &rule.names,
            rule.args.as_deref().unwrap_or_default(),
        )?;
    }
    Ok(ctx)
}

/// Hand one rule to libseccomp as runc does: skipped when it repeats the
/// default action (libseccomp refuses it), one rule per system call name
/// (a name this architecture or libseccomp does not know skipped), the
/// argument conditions ANDed, or one rule each when two test the same
/// argument (runc's reading: either).
pub fn add_rule(
    ctx: &mut ScmpFilterContext,
    default: ScmpAction,
    act: ScmpAction,
    names: &[String],
    args: &[Arg],
) -> Result<(), String> {
    let conds = args.iter().map(compare).collect::<Result<Vec<_>, _>>()?;
    if act == default {
        return Ok(());
    }
    let mut per_arg = [0u8; 6];
    args.iter().for_each(|a| per_arg[a.index as usize] += 1);
    let sets: Vec<Vec<ScmpArgCompare>> = if per_arg.iter().any(|n| *n > 1) {
        conds.iter().map(|c| vec![*c]).collect()
    } else {
        vec![conds]
    };
    // With other architectures in the filter, a call only they have
    // (i386's socketcall, stat64, ...) goes to libseccomp by its pseudo
    // number, which it turns into theirs, as runc hands it over.
    let foreign = {
        use libseccomp::ScmpArch::*;
        let native = libseccomp::ScmpArch::native();
        [X86, X8664, X32, Arm, Aarch64]
            .into_iter()
            .any(|a| a != native && ctx.is_arch_present(a).unwrap_or(false))
    };
    for name in names {
        let nr = match (number(name), foreign) {
            (Some(nr), _) => nr,
            (None, true) => match ScmpSyscall::from_name(name) {
                Ok(s) => s.as_raw_syscall(),
                Err(_) => continue,
            },
            (None, false) => continue,
        };
        for set in &sets {
            match ctx.add_rule_conditional(act, nr, set) {
                // a pseudo number none of the filter's architectures has
                Err(_) if nr < 0 => break,
                r => r.map_err(|e| format!("libseccomp: the rule for {name}: {e}"))?,
            };
        }
    }
    Ok(())
}

/// The profile as the OCI runtime spec's `linux.seccomp` for `t`, the
/// rules chosen as for [`program`] (what docker writes to config.json).
/// The architectures are the native one only: that is what the compiled
/// program serves.
pub fn oci(p: &Profile, t: Target<'_>) -> Result<serde_json::Value, String> {
    use serde_json::{json, Map, Value};
    let mut syscalls = Vec::new();
    for rule in &p.syscalls {
        if !applies(rule, t)? {
            continue;
        }
        let mut r = Map::new();
        r.insert("names".into(), json!(rule.names));
        r.insert("action".into(), json!(rule.action));
        if let Some(e) = rule.errno_ret {
            r.insert("errnoRet".into(), json!(e));
        }
        if let Some(args) = rule.args.as_ref().filter(|a| !a.is_empty()) {
            let args: Vec<Value> = args
                .iter()
                .map(|a| {
                    let mut m = json!({"index": a.index, "value": a.value, "op": a.op});
                    if a.value_two != 0 {
                        m["valueTwo"] = json!(a.value_two);
                    }
                    m
                })
                .collect();
            r.insert("args".into(), Value::Array(args));
        }
        syscalls.push(Value::Object(r));
    }
    let mut out = json!({
        "defaultAction": p.default_action,
        "architectures": [SCMP_ARCH],
        "syscalls": syscalls,
    });
    if let Some(e) = p.default_errno_ret {
        out["defaultErrnoRet"] = json!(e);
    }
    Ok(out)
}

/// The BPF program libseccomp generated for `ctx`.
pub fn export(ctx: &ScmpFilterContext) -> Result<Vec<libc::sock_filter>, String> {
    // SAFETY: memfd_create with a static NUL-terminated name and flags only.
    let fd = unsafe { libc::memfd_create(c"cairn-seccomp".as_ptr(), libc::MFD_CLOEXEC) };
    if fd < 0 {
        return Err(format!("memfd_create: {}", std::io::Error::last_os_error()));
    }
    // SAFETY: fd was just created and is owned by nothing else.
    let mut f = std::fs::File::from(unsafe { OwnedFd::from_raw_fd(fd) });
    ctx.export_bpf(&f)
        .map_err(|e| format!("libseccomp: exporting the program: {e}"))?;
    let mut bytes = Vec::new();
    f.rewind()
        .and_then(|_| f.read_to_end(&mut bytes))
        .map_err(|e| format!("reading the exported program: {e}"))?;
    let size = std::mem::size_of::<libc::sock_filter>();
    if bytes.is_empty() || bytes.len() % size != 0 {
        return Err(format!("exported program of {} bytes", bytes.len()));
    }
    Ok(bytes
        .chunks_exact(size)
        .map(|c| libc::sock_filter {
            code: u16::from_ne_bytes([c[0], c[1]]),
            jt: c[2],
            jf: c[3],
            k: u32::from_ne_bytes([c[4], c[5], c[6], c[7]]),
        })
        .collect())
}

pub const LD_W_ABS: u16 = 0x20; // BPF_LD | BPF_W | BPF_ABS
pub const JEQ_K: u16 = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
pub const JGT_K: u16 = 0x25; // BPF_JMP | BPF_JGT | BPF_K
pub const JGE_K: u16 = 0x35; // BPF_JMP | BPF_JGE | BPF_K
pub const RET_K: u16 = 0x06; // BPF_RET | BPF_K
pub const RET_ERRNO: u32 = 0x0005_0000;
const NR: u32 = 0; // offsetof(seccomp_data, nr)
const ARCH: u32 = 4; // offsetof(seccomp_data, arch)
#[cfg(target_endian = "little")]
const ARG0_HI: u32 = 20; // offsetof(seccomp_data, args[0]) + 4
#[cfg(target_endian = "big")]
const ARG0_HI: u32 = 16;

fn ins(code: u16, jt: u8, jf: u8, k: u32) -> libc::sock_filter {
    libc::sock_filter { code, jt, jf, k }
}

/// The instructions run before libseccomp's program. Each either decides
/// or falls through to it, which judges everything else (other
/// architectures and x32 included):
///
/// - a call numbered above `last` fails with ENOSYS, as runc's stub does:
///   libc takes "not implemented" for a kernel without the call and falls
///   back to an older one;
/// - a `socket` whose family has bits above the low 32 fails with EPERM.
///   The kernel reads the family as an `int`, the profile's rules compare
///   64 bits: `socket(1 << 32 | AF_VSOCK)` would match "family > AF_VSOCK".
pub fn prefix(last: u32) -> Vec<libc::sock_filter> {
    let errno = |e: i32| RET_ERRNO | (e as u32 & 0xffff);
    vec![
        /* 0 */ ins(LD_W_ABS, 0, 0, ARCH),
        /* 1 */ ins(JEQ_K, 0, 8, AUDIT_ARCH), // other arch: to 10
        /* 2 */ ins(LD_W_ABS, 0, 0, NR),
        /* 3 */ ins(JGE_K, 6, 0, X32_BIT), // x32: to 10
        /* 4 */ ins(JGT_K, 0, 1, last), // newer than the profile: to 5
        /* 5 */ ins(RET_K, 0, 0, errno(libc::ENOSYS)),
        /* 6 */ ins(JEQ_K, 0, 3, libc::SYS_socket as u32), // not socket: to 10
        /* 7 */ ins(LD_W_ABS, 0, 0, ARG0_HI),
        /* 8 */ ins(JEQ_K, 1, 0, 0), // family fits an int: to 10
        /* 9 */ ins(RET_K, 0, 0, errno(libc::EPERM)),
    ]
}

/// The whole program for `t`.
pub fn program(p: &Profile, t: Target<'_>) -> Result<Vec<libc::sock_filter>, String> {
    let last = last_known(p).ok_or("the profile names no system call of this architecture")?;
    finish(prefix(last), &filter(p, t)?)
}

/// `prefix` followed by libseccomp's program for `ctx`, if the kernel
/// takes that many instructions.
pub fn finish(
    mut prog: Vec<libc::sock_filter>,
    ctx: &ScmpFilterContext,
) -> Result<Vec<libc::sock_filter>, String> {
    prog.extend(export(ctx)?);
    if prog.len() > 4096 {
        return Err(format!(
            "{} instructions, more than the kernel's 4096",
            prog.len()
        ));
    }
    Ok(prog)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_is_read_strictly() {
        let p = parse(super::super::PROFILE).unwrap();
        assert_eq!(p.default_action, "SCMP_ACT_ERRNO");
        assert_eq!(p.default_errno_ret, Some(libc::EPERM));
        assert_eq!(kernel_steps(&p).unwrap(), [(0, 0), (4, 8)]);
        // a field this code does not understand is an error, not ignored
        let odd = r#"{"defaultAction":"SCMP_ACT_ERRNO","archMap":[],"syscalls":[
            {"names":["read"],"action":"SCMP_ACT_ALLOW","includes":{"uid":0}}]}"#;
        assert!(parse(odd).unwrap_err().contains("uid"));
        let cap = r#"{"defaultAction":"SCMP_ACT_ERRNO","archMap":[],"syscalls":[
            {"names":["read"],"action":"SCMP_ACT_ALLOW","includes":{"caps":["CAP_NOPE"]}}]}"#;
        let t = Target {
            caps: &[],
            kernel: (6, 1),
        };
        let e = program(&parse(cap).unwrap(), t).unwrap_err();
        assert!(e.contains("CAP_NOPE"), "{e}");
        assert!(action("SCMP_ACT_NOTIFY", None).is_err());
    }
}
