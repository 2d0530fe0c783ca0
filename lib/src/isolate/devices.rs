//! The device policy: which device nodes a container's processes may make
//! (`mknod`) and open.
//!
//! The policy is one list of [`Rule`]s, read in order with the semantics of
//! the cgroup v1 devices controller, and applied in either of two ways:
//!
//! - **v1**: each rule becomes one line written to the container's
//!   `devices.allow` or `devices.deny` ([`Rule::v1_line`]); the kernel
//!   keeps the resulting list.
//! - **v2**: there is no devices controller; the list is folded into what
//!   the v1 kernel would have kept ([`Policy`]) and compiled into a
//!   `BPF_PROG_TYPE_CGROUP_DEVICE` program ([`Policy::program`]), loaded
//!   and attached to the container's cgroup ([`attach`]). The kernel runs it
//!   for every mknod and open of a device node by a process in that cgroup.
//!
//! [`DEFAULT`] is docker's default policy: every device may be made, and
//! only null, zero, full, random, urandom, tty, console, ptmx and the
//! pseudo-terminals may be opened. Making a node is harmless on its own;
//! opening it is what reaches the driver, and that needs `r` or `w`.

use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};

use rbpf::insn_builder::{Arch, BpfCode, Cond, Instruction, IntoBytes, MemSize, Source};

/// The kind of device a rule is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Every device: the rule sets the default and drops all earlier rules.
    All,
    /// Character devices.
    Char,
    /// Block devices.
    Block,
}

/// Access bits, the values of the kernel's `BPF_DEVCG_ACC_*`.
pub mod access {
    /// Make a node (`mknod`).
    pub const MKNOD: u8 = 1;
    /// Open for reading.
    pub const READ: u8 = 2;
    /// Open for writing.
    pub const WRITE: u8 = 4;
    /// All three.
    pub const RWM: u8 = READ | WRITE | MKNOD;
}

/// One line of a device policy: allow or deny `access` to the devices of
/// `kind` with that major and minor number (`None`: any).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rule {
    /// Allow (or deny) the access.
    pub allow: bool,
    /// Which kind of device.
    pub kind: Kind,
    /// The major number, or any.
    pub major: Option<u32>,
    /// The minor number, or any.
    pub minor: Option<u32>,
    /// A set of [`access`] bits.
    pub access: u8,
}

const fn allow_char(major: u32, minor: Option<u32>) -> Rule {
    Rule {
        allow: true,
        kind: Kind::Char,
        major: Some(major),
        minor,
        access: access::RWM,
    }
}

/// Docker's default device policy (moby's default device rules and runc's
/// allowed devices): deny everything, allow `mknod` of any character or
/// block device, allow opening the harmless character devices and the
/// pseudo-terminals. Nothing else may be opened, fuse included: moby's
/// explicit deny of `c 10:229` after these rules changes nothing the list
/// does not already say, and runc refuses it on cgroup v1 ("cannot punch
/// hole in existing wildcard rule"), so it is left out.
pub const DEFAULT: &[Rule] = &[
    Rule {
        allow: false,
        kind: Kind::All,
        major: None,
        minor: None,
        access: access::RWM,
    },
    Rule {
        allow: true,
        kind: Kind::Char,
        major: None,
        minor: None,
        access: access::MKNOD,
    },
    Rule {
        allow: true,
        kind: Kind::Block,
        major: None,
        minor: None,
        access: access::MKNOD,
    },
    allow_char(1, Some(3)), // null
    allow_char(1, Some(5)), // zero
    allow_char(1, Some(7)), // full
    allow_char(1, Some(8)), // random
    allow_char(1, Some(9)), // urandom
    allow_char(5, Some(0)), // tty
    allow_char(5, Some(1)), // console
    allow_char(5, Some(2)), // ptmx
    allow_char(136, None),  // pts/*
];

/// No policy (`--privileged`): every device may be made and opened.
pub const ALLOW_ALL: &[Rule] = &[Rule {
    allow: true,
    kind: Kind::All,
    major: None,
    minor: None,
    access: access::RWM,
}];

fn access_string(bits: u8) -> String {
    [
        (access::READ, 'r'),
        (access::WRITE, 'w'),
        (access::MKNOD, 'm'),
    ]
    .iter()
    .filter(|(b, _)| bits & b != 0)
    .map(|&(_, c)| c)
    .collect()
}

impl Rule {
    /// The v1 control file this rule is written to and the line written
    /// (`("devices.allow", "c 1:3 rwm")`; a rule for all devices is `a`).
    pub fn v1_line(&self) -> (&'static str, String) {
        let file = if self.allow {
            "devices.allow"
        } else {
            "devices.deny"
        };
        let num = |n: Option<u32>| n.map_or_else(|| "*".to_string(), |n| n.to_string());
        let line = match self.kind {
            Kind::All => "a".to_string(),
            Kind::Char | Kind::Block => format!(
                "{} {}:{} {}",
                if self.kind == Kind::Char { 'c' } else { 'b' },
                num(self.major),
                num(self.minor),
                access_string(self.access)
            ),
        };
        (file, line)
    }
}

/// An exception to a [`Policy`]'s default, always for one kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Exception {
    /// [`Kind::Char`] or [`Kind::Block`].
    pub kind: Kind,
    /// The major number, or any.
    pub major: Option<u32>,
    /// The minor number, or any.
    pub minor: Option<u32>,
    /// The [`access`] bits it is about.
    pub access: u8,
}

impl Exception {
    fn covers(&self, kind: Kind, major: u32, minor: u32) -> bool {
        self.kind == kind
            && self.major.is_none_or(|m| m == major)
            && self.minor.is_none_or(|m| m == minor)
    }
}

/// What a rule list amounts to, as the v1 kernel keeps it: a default and a
/// list of exceptions to it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    /// Whatever no exception covers is allowed (or denied).
    pub default_allow: bool,
    /// The exceptions, in the order they were first made.
    pub exceptions: Vec<Exception>,
}

impl Policy {
    /// Fold `rules` the way the v1 devices controller does, starting from
    /// its root's "allow all": a rule for all devices sets the default and
    /// drops every exception; a rule that goes against the default adds its
    /// access to the exception for exactly that kind and numbers (or makes
    /// one); a rule that agrees with the default takes its access away from
    /// that exception (so denying `c 10:229` under a deny default changes
    /// nothing, and `mknod` of it stays allowed by `c *:* m`).
    pub fn from_rules(rules: &[Rule]) -> Policy {
        let mut p = Policy {
            default_allow: true,
            exceptions: Vec::new(),
        };
        for r in rules {
            if r.kind == Kind::All {
                p.default_allow = r.allow;
                p.exceptions.clear();
                continue;
            }
            let same = |e: &Exception| e.kind == r.kind && e.major == r.major && e.minor == r.minor;
            if r.allow == p.default_allow {
                for e in p.exceptions.iter_mut().filter(|e| same(e)) {
                    e.access &= !r.access;
                }
                p.exceptions.retain(|e| e.access != 0);
            } else if let Some(e) = p.exceptions.iter_mut().find(|e| same(e)) {
                e.access |= r.access;
            } else if r.access != 0 {
                p.exceptions.push(Exception {
                    kind: r.kind,
                    major: r.major,
                    minor: r.minor,
                    access: r.access,
                });
            }
        }
        p
    }

    /// Whether `access` (a set of [`access`] bits, as one open asks for
    /// read and write at once) to the device is allowed. Under a deny
    /// default, one exception must grant all of it; under an allow default,
    /// any exception that names part of it refuses it.
    pub fn permits(&self, kind: Kind, major: u32, minor: u32, access: u8) -> bool {
        let mut covering = self
            .exceptions
            .iter()
            .filter(|e| e.covers(kind, major, minor));
        if self.default_allow {
            !covering.any(|e| e.access & access != 0)
        } else {
            covering.any(|e| access & !e.access == 0)
        }
    }

    /// The policy as a `BPF_PROG_TYPE_CGROUP_DEVICE` program (raw eBPF
    /// instructions): it reads the kernel's `struct bpf_cgroup_dev_ctx`
    /// (`access_type` = access << 16 | type, then `major`, `minor`), tries
    /// each exception in turn and returns 1 (allow) or 0 (refuse, EPERM)
    /// exactly as [`Policy::permits`] answers.
    pub fn program(&self) -> Vec<u8> {
        // r2 = type, r3 = access, r4 = major, r5 = minor.
        let mut code = BpfCode::new();
        for (dst, off) in [(2u8, 0i16), (3, 0), (4, 4), (5, 8)] {
            code.load_x(MemSize::Word)
                .set_dst(dst)
                .set_src(1)
                .set_off(off)
                .push();
        }
        code.bit_and(Source::Imm, Arch::X32)
            .set_dst(2)
            .set_imm(0xffff)
            .push();
        code.right_shift(Source::Imm, Arch::X32)
            .set_dst(3)
            .set_imm(16)
            .push();
        for e in &self.exceptions {
            exception_block(&mut code, e, self.default_allow);
        }
        return_imm(&mut code, i32::from(self.default_allow));
        (&code).into_bytes().to_vec()
    }
}

/// The kernel's `BPF_DEVCG_DEV_*` value of a kind.
fn dev_type(kind: Kind) -> i32 {
    match kind {
        Kind::Block => 1,
        Kind::Char => 2,
        // An exception never has this kind.
        Kind::All => 0,
    }
}

fn return_imm(code: &mut BpfCode, value: i32) {
    code.mov(Source::Imm, Arch::X32)
        .set_dst(0)
        .set_imm(value)
        .push();
    code.exit().push();
}

/// One exception: a run of "not this one: skip to the next" tests, then
/// the return of the exception's verdict (the opposite of the default).
fn exception_block(code: &mut BpfCode, e: &Exception, default_allow: bool) {
    // (register, value) pairs that must be equal, tested before the access.
    let mut equal = vec![(2u8, dev_type(e.kind))];
    if let Some(m) = e.major {
        equal.push((4, m as i32));
    }
    if let Some(m) = e.minor {
        equal.push((5, m as i32));
    }
    // Under a deny default the exception grants access only if the request
    // asks for nothing beyond its bits: r1 = r3 & !bits must be 0. Under an
    // allow default it refuses any request sharing a bit: r1 = r3 & bits
    // must be non-zero. Every access the kernel asks about is 1 to 7, so
    // an exception with all three bits needs no test under a deny default.
    let access_test = default_allow || e.access != access::RWM;
    // A failed test jumps over what is left of the block: the tests after
    // it, the access test's three instructions and the return's two.
    let tail = if access_test { 3 } else { 0 } + 2;
    for (i, &(reg, value)) in equal.iter().enumerate() {
        code.jump_conditional(Cond::NotEquals, Source::Imm)
            .set_dst(reg)
            .set_imm(value)
            .set_off((equal.len() - 1 - i + tail) as i16)
            .push();
    }
    if access_test {
        let mask = if default_allow {
            i32::from(e.access)
        } else {
            i32::from(!e.access & access::RWM)
        };
        code.mov(Source::Reg, Arch::X32)
            .set_dst(1)
            .set_src(3)
            .push();
        code.bit_and(Source::Imm, Arch::X32)
            .set_dst(1)
            .set_imm(mask)
            .push();
        let cond = if default_allow {
            Cond::Equals
        } else {
            Cond::NotEquals
        };
        code.jump_conditional(cond, Source::Imm)
            .set_dst(1)
            .set_imm(0)
            .set_off(2)
            .push();
    }
    return_imm(code, i32::from(!default_allow));
}

/// Errors from loading or attaching a device program.
#[derive(Debug, thiserror::Error)]
pub enum DevicesError {
    /// Opening the cgroup directory failed.
    #[error("{path}")]
    Open {
        /// The cgroup directory.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// The kernel refused the program (`bpf(BPF_PROG_LOAD)`).
    #[error("loading the device policy as a BPF program{}{log}", if log.is_empty() { "" } else { "; the verifier says: " })]
    Load {
        /// The errno.
        source: io::Error,
        /// The last line of the kernel verifier's log, if any.
        log: String,
    },
    /// The kernel refused to attach the program to the cgroup.
    #[error("{path}: attaching the device policy's BPF program (is the kernel built with CONFIG_CGROUP_BPF?)")]
    Attach {
        /// The cgroup directory.
        path: PathBuf,
        /// The errno.
        source: io::Error,
    },
}

// From <linux/bpf.h>.
const BPF_PROG_LOAD: libc::c_long = 5;
const BPF_PROG_ATTACH: libc::c_long = 8;
const BPF_PROG_TYPE_CGROUP_DEVICE: u32 = 15;
const BPF_CGROUP_DEVICE: u32 = 6;
const BPF_F_ALLOW_MULTI: u32 = 2;

/// The leading fields of `union bpf_attr` for `BPF_PROG_LOAD`; the kernel
/// reads the ones past `size` as zero.
#[repr(C)]
#[derive(Default)]
struct ProgLoadAttr {
    prog_type: u32,
    insn_cnt: u32,
    insns: u64,
    license: u64,
    log_level: u32,
    log_size: u32,
    log_buf: u64,
    kern_version: u32,
    prog_flags: u32,
}

/// The fields of `union bpf_attr` for `BPF_PROG_ATTACH`.
#[repr(C)]
#[derive(Default)]
struct ProgAttachAttr {
    target_fd: u32,
    attach_bpf_fd: u32,
    attach_type: u32,
    attach_flags: u32,
}

/// `bpf(cmd, attr, sizeof attr)`.
///
/// # Safety
/// `attr` must be the attribute struct `cmd` expects, and every pointer in
/// it valid for what the kernel does with it.
unsafe fn bpf<T>(cmd: libc::c_long, attr: &mut T) -> io::Result<libc::c_long> {
    // SAFETY: the caller vouches for attr; its size is passed along.
    let r = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            cmd,
            attr as *mut T,
            std::mem::size_of::<T>() as libc::c_uint,
        )
    };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

fn load(insns: &[u8], log: Option<&mut [u8]>) -> io::Result<OwnedFd> {
    const LICENSE: &[u8] = b"Apache-2.0\0";
    let mut attr = ProgLoadAttr {
        prog_type: BPF_PROG_TYPE_CGROUP_DEVICE,
        insn_cnt: (insns.len() / 8) as u32,
        insns: insns.as_ptr() as u64,
        license: LICENSE.as_ptr() as u64,
        ..Default::default()
    };
    if let Some(buf) = log {
        attr.log_level = 1;
        attr.log_size = buf.len() as u32;
        attr.log_buf = buf.as_mut_ptr() as u64;
    }
    // SAFETY: attr is BPF_PROG_LOAD's, its pointers refer to insns, the
    // static license and log, all alive across the call.
    let fd = unsafe { bpf(BPF_PROG_LOAD, &mut attr)? };
    // SAFETY: on success bpf returns a new fd that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

/// Load `policy` as a device program and attach it to the cgroup2
/// directory `dir` with `BPF_F_ALLOW_MULTI` (programs of the cgroups above
/// still run, and all must allow). It stays attached as long as the
/// cgroup exists; removing the directory detaches it.
pub fn attach(dir: &Path, policy: &Policy) -> Result<(), DevicesError> {
    let insns = policy.program();
    let prog = match load(&insns, None) {
        Ok(fd) => fd,
        Err(source) => {
            // Again with the verifier's log, for the error message.
            let mut buf = vec![0u8; 1 << 16];
            let _ = load(&insns, Some(&mut buf));
            let text = String::from_utf8_lossy(&buf);
            let log = text
                .trim_end_matches('\0')
                .lines()
                .rfind(|l| !l.trim().is_empty())
                .unwrap_or("")
                .to_string();
            return Err(DevicesError::Load { source, log });
        }
    };
    let cgroup = File::open(dir).map_err(|source| DevicesError::Open {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut attr = ProgAttachAttr {
        target_fd: cgroup.as_raw_fd() as u32,
        attach_bpf_fd: prog.as_raw_fd() as u32,
        attach_type: BPF_CGROUP_DEVICE,
        attach_flags: BPF_F_ALLOW_MULTI,
    };
    // SAFETY: attr is BPF_PROG_ATTACH's and holds no pointers.
    unsafe { bpf(BPF_PROG_ATTACH, &mut attr) }.map_err(|source| DevicesError::Attach {
        path: dir.to_path_buf(),
        source,
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::access::*;
    use super::*;

    /// Every access the kernel can ask about.
    const ACCESSES: [u8; 7] = [1, 2, 3, 4, 5, 6, 7];

    fn run(prog: &[u8], kind: Kind, major: u32, minor: u32, access: u8) -> u64 {
        let mut ctx = Vec::with_capacity(12);
        ctx.extend_from_slice(&((u32::from(access) << 16) | dev_type(kind) as u32).to_ne_bytes());
        ctx.extend_from_slice(&major.to_ne_bytes());
        ctx.extend_from_slice(&minor.to_ne_bytes());
        let vm = rbpf::EbpfVmRaw::new(Some(prog)).expect("rbpf accepts the program");
        vm.execute_program(&mut ctx).expect("program runs")
    }

    /// The program answers as the policy does, for every kind, access and
    /// a spread of numbers around those the rules name.
    fn program_matches_policy(rules: &[Rule]) {
        let policy = Policy::from_rules(rules);
        let prog = policy.program();
        let mut numbers: Vec<u32> = vec![0, 1, 2, 3, 4, 7, 136, 254, 4095, 1 << 19];
        for r in rules {
            numbers.extend(r.major.into_iter().chain(r.minor));
            numbers.extend(
                r.major
                    .map(|m| m + 1)
                    .into_iter()
                    .chain(r.minor.map(|m| m + 1)),
            );
        }
        numbers.sort_unstable();
        numbers.dedup();
        for kind in [Kind::Char, Kind::Block] {
            for &major in &numbers {
                for &minor in &numbers {
                    for access in ACCESSES {
                        let want = policy.permits(kind, major, minor, access);
                        let got = run(&prog, kind, major, minor, access);
                        assert_eq!(
                            got,
                            u64::from(want),
                            "{kind:?} {major}:{minor} access {access} under {policy:?}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn devices_default_is_dockers_table() {
        let p = Policy::from_rules(DEFAULT);
        assert!(!p.default_allow);
        let open = READ | WRITE;
        // (kind, major, minor, may open)
        let table = [
            (Kind::Char, 1, 3, true),     // null
            (Kind::Char, 1, 5, true),     // zero
            (Kind::Char, 1, 7, true),     // full
            (Kind::Char, 1, 8, true),     // random
            (Kind::Char, 1, 9, true),     // urandom
            (Kind::Char, 5, 0, true),     // tty
            (Kind::Char, 5, 1, true),     // console
            (Kind::Char, 5, 2, true),     // ptmx
            (Kind::Char, 136, 0, true),   // pts/0
            (Kind::Char, 136, 999, true), // pts/999
            (Kind::Char, 10, 229, false), // fuse
            (Kind::Char, 10, 232, false), // kvm
            (Kind::Char, 10, 237, false), // loop-control
            (Kind::Char, 1, 1, false),    // mem
            (Kind::Char, 1, 11, false),   // kmsg
            (Kind::Char, 4, 0, false),    // tty0
            (Kind::Block, 7, 0, false),   // loop0
            (Kind::Block, 8, 0, false),   // sda
            (Kind::Block, 1, 3, false),   // a block device numbered as null
        ];
        for (kind, major, minor, may_open) in table {
            let what = format!("{kind:?} {major}:{minor}");
            assert!(p.permits(kind, major, minor, MKNOD), "mknod {what}");
            assert_eq!(p.permits(kind, major, minor, open), may_open, "open {what}");
            assert_eq!(p.permits(kind, major, minor, READ), may_open, "read {what}");
            assert_eq!(
                p.permits(kind, major, minor, WRITE),
                may_open,
                "write {what}"
            );
        }
        assert!(Policy::from_rules(ALLOW_ALL).permits(Kind::Char, 10, 232, RWM));
    }

    #[test]
    fn devices_v1_lines() {
        let lines: Vec<String> = DEFAULT
            .iter()
            .map(|r| {
                let (file, line) = r.v1_line();
                format!("{file} {line}")
            })
            .collect();
        assert_eq!(
            lines,
            [
                "devices.deny a",
                "devices.allow c *:* m",
                "devices.allow b *:* m",
                "devices.allow c 1:3 rwm",
                "devices.allow c 1:5 rwm",
                "devices.allow c 1:7 rwm",
                "devices.allow c 1:8 rwm",
                "devices.allow c 1:9 rwm",
                "devices.allow c 5:0 rwm",
                "devices.allow c 5:1 rwm",
                "devices.allow c 5:2 rwm",
                "devices.allow c 136:* rwm",
            ]
        );
        assert_eq!(ALLOW_ALL[0].v1_line(), ("devices.allow", "a".to_string()));
    }

    #[test]
    fn devices_folding_follows_v1() {
        let rule = |allow, kind, major, minor, access| Rule {
            allow,
            kind,
            major,
            minor,
            access,
        };
        // Under a deny default a deny removes exactly that exception's bits.
        let p = Policy::from_rules(&[
            rule(false, Kind::All, None, None, RWM),
            rule(true, Kind::Char, Some(1), Some(3), READ),
            rule(true, Kind::Char, Some(1), Some(3), WRITE),
            rule(true, Kind::Char, Some(1), Some(5), RWM),
            rule(false, Kind::Char, Some(1), Some(5), WRITE | MKNOD),
            rule(true, Kind::Char, Some(2), None, MKNOD),
            rule(false, Kind::Char, Some(2), None, MKNOD),
        ]);
        assert_eq!(
            p.exceptions,
            [
                Exception {
                    kind: Kind::Char,
                    major: Some(1),
                    minor: Some(3),
                    access: READ | WRITE
                },
                Exception {
                    kind: Kind::Char,
                    major: Some(1),
                    minor: Some(5),
                    access: READ
                },
            ]
        );
        // Under an allow default the roles swap.
        let p = Policy::from_rules(&[
            rule(false, Kind::Block, Some(8), None, WRITE),
            rule(true, Kind::Block, Some(8), None, RWM),
            rule(false, Kind::Char, None, Some(7), READ),
        ]);
        assert!(p.default_allow);
        assert!(p.permits(Kind::Block, 8, 0, WRITE));
        assert!(!p.permits(Kind::Char, 3, 7, READ | WRITE));
        assert!(p.permits(Kind::Char, 3, 7, WRITE));
        // A rule for all devices starts over.
        let p = Policy::from_rules(&[
            rule(true, Kind::Char, Some(1), Some(3), RWM),
            rule(true, Kind::All, None, None, RWM),
        ]);
        assert_eq!(
            p,
            Policy {
                default_allow: true,
                exceptions: vec![]
            }
        );
    }

    #[test]
    fn devices_program_answers_as_the_policy() {
        program_matches_policy(DEFAULT);
        program_matches_policy(ALLOW_ALL);
        program_matches_policy(&[]);
        let rule = |allow, kind, major, minor, access| Rule {
            allow,
            kind,
            major,
            minor,
            access,
        };
        program_matches_policy(&[
            rule(false, Kind::Block, Some(8), None, WRITE),
            rule(false, Kind::Char, None, Some(7), READ | MKNOD),
            rule(false, Kind::Char, Some(10), Some(229), RWM),
        ]);
        program_matches_policy(&[
            rule(false, Kind::All, None, None, RWM),
            rule(true, Kind::Block, None, Some(0), READ),
            rule(true, Kind::Char, Some(4), None, WRITE | MKNOD),
            rule(true, Kind::Char, Some(1), Some(1), RWM),
        ]);
    }

    /// The first cgroup2 mount in mountinfo.
    fn cgroup2_mount() -> Option<PathBuf> {
        let text = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
        text.lines().find_map(|l| {
            let (left, right) = l.split_once(" - ")?;
            let point = left.split(' ').nth(4)?;
            right.starts_with("cgroup2 ").then(|| PathBuf::from(point))
        })
    }

    /// Removes the test's cgroup2 directory, whatever happens.
    struct Dir(PathBuf);
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir(&self.0);
        }
    }

    /// In a child that first moves itself into the cgroup `dir`: open
    /// /dev/null, make a node for kvm (c 10:232) at `node` and open it.
    /// Returns the three errnos (0: success).
    fn attempt(dir: &Path, node: &Path) -> [i32; 3] {
        use std::ffi::CString;
        use std::io::Read;
        use std::os::unix::ffi::OsStrExt;
        use std::os::unix::process::CommandExt;
        let procs = CString::new(dir.join("cgroup.procs").as_os_str().as_bytes()).unwrap();
        let _ = std::fs::remove_file(node);
        let node = CString::new(node.as_os_str().as_bytes()).unwrap();
        let (r, w_end) = nix::unistd::pipe().unwrap();
        let w = w_end.as_raw_fd();
        let mut cmd = std::process::Command::new("/bin/true");
        // SAFETY: between fork and exec the closure only makes system calls
        // on memory prepared before the fork, and ends with _exit.
        unsafe {
            cmd.pre_exec(move || {
                let errno = || *libc::__errno_location();
                let fd = libc::open(procs.as_ptr(), libc::O_WRONLY);
                if fd < 0 || libc::write(fd, b"0".as_ptr().cast(), 1) != 1 {
                    libc::_exit(100);
                }
                libc::close(fd);
                let mut out = [0i32; 3];
                let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR);
                out[0] = if null < 0 { errno() } else { 0 };
                let dev = libc::makedev(10, 232);
                out[1] = if libc::mknod(node.as_ptr(), libc::S_IFCHR | 0o600, dev) < 0 {
                    errno()
                } else {
                    0
                };
                let kvm = libc::open(node.as_ptr(), libc::O_RDWR | libc::O_NONBLOCK);
                out[2] = if kvm < 0 { errno() } else { 0 };
                libc::write(w, out.as_ptr().cast(), std::mem::size_of_val(&out));
                libc::_exit(0);
            });
        }
        let status = cmd.status().unwrap();
        drop(w_end);
        assert_eq!(
            status.code(),
            Some(0),
            "the child could not join {}",
            dir.display()
        );
        let mut buf = Vec::new();
        File::from(r).read_to_end(&mut buf).unwrap();
        assert_eq!(buf.len(), 12);
        let n = |i: usize| i32::from_ne_bytes(buf[i * 4..i * 4 + 4].try_into().unwrap());
        [n(0), n(1), n(2)]
    }

    #[test]
    fn devices_program_refuses_open_in_a_cgroup2() {
        let Some(root) = cgroup2_mount() else {
            eprintln!("no cgroup2 mount: the kernel part of this test is skipped");
            return;
        };
        let node = std::env::temp_dir().join(format!("cairn-devices-kvm-{}", std::process::id()));
        let name = format!("cairn-devices-test-{}", std::process::id());
        let before = Dir(root.join(format!("{name}-none")));
        std::fs::create_dir(&before.0).unwrap();
        let [null, mknod, kvm] = attempt(&before.0, &node);
        let _ = std::fs::remove_file(&node);
        if kvm == libc::EPERM || mknod != 0 || null != 0 {
            eprintln!("devices already restricted here ({null} {mknod} {kvm}): skipped");
            return;
        }
        let with = Dir(root.join(name));
        std::fs::create_dir(&with.0).unwrap();
        attach(&with.0, &Policy::from_rules(DEFAULT)).unwrap();
        let got = attempt(&with.0, &node);
        let _ = std::fs::remove_file(&node);
        assert_eq!(got, [0, 0, libc::EPERM], "open null, mknod kvm, open kvm");
    }

    #[test]
    fn devices_default_program_is_small() {
        // 6 to read the context, at most 7 per exception, 2 to return.
        let n = Policy::from_rules(DEFAULT).program().len() / 8;
        assert!(n <= 6 + 7 * 11 + 2, "{n} instructions");
    }
}
