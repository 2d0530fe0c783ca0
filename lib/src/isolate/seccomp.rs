//! docker's default seccomp profile, applied to every container that is
//! not `--privileged`.
//!
//! The profile is data: `seccomp/default.json`, moby's file as moby ships it
//! (origin and license in `seccomp/README.md`). It is an allow-list: a call
//! it does not name fails with EPERM. Some of its rules hold only for a
//! container with a capability (`mount`, `unshare`, `bpf`, `clone3` need
//! CAP_SYS_ADMIN; `kcmp` and `ptrace` CAP_SYS_PTRACE; `set_mempolicy`
//! CAP_SYS_NICE, ...), some test an argument (`clone` without namespace
//! flags, the `personality` values docker lists, `socket` of any family
//! but AF_ALG and AF_VSOCK).
//!
//! `lib/build.rs` compiles it with libseccomp (`seccomp/compile.rs`, which
//! chooses the rules as moby does and hands them to libseccomp as runc
//! does) for docker's default capabilities, the only set a cairn container
//! has, and this module embeds the result: starting a container only loads
//! it, where compiling would cost milliseconds. In front of libseccomp's
//! program, a call newer than the profile fails with ENOSYS (so libc falls
//! back to the older call, as under runc), and a `socket` family wider than
//! an int with EPERM. Only the native system-call ABI is served: i386 and
//! x32 calls fail with EPERM (docker admits both, and i386's `socketcall`
//! reaches `socket` with no family check). `docs/seccomp.md` has the rules.
//!
//! A container's spec may carry another profile (`linux.seccomp`:
//! `--security-opt seccomp=FILE` under docker, docker's own default as
//! that docker writes it, a profile in a bundle's config.json): [`Filter`]
//! takes docker's default as cairn writes it from the embedded programs
//! and compiles any other with libseccomp when the container is created
//! (`seccomp/oci.rs`), as runc and crun do.
//!
//! The filter is installed last, right before `execve`, after
//! `no_new_privs` (runc's order).

// docker's profile is compiled by build.rs; a container's own is compiled
// here (`oci`) with the same helpers
#[cfg_attr(not(test), allow(dead_code))]
mod compile;
mod kernel;
mod oci;

use oci_spec::runtime::LinuxSeccomp;
use std::borrow::Cow;
use std::io;

include!(concat!(env!("OUT_DIR"), "/seccomp_programs.rs"));

/// docker's default profile (moby's `seccomp/default.json`), as build.rs
/// compiled it.
#[cfg(test)]
const PROFILE: &str = include_str!("seccomp/default.json");

/// The one architecture a filter serves, as libseccomp names it.
pub const NATIVE_ARCH: &str = compile::SCMP_ARCH;

/// What went wrong installing the filter.
#[derive(Debug, thiserror::Error)]
pub enum SeccompError {
    #[error("the seccomp filter has {0} instructions; the kernel takes 1 to 4096")]
    TooLong(usize),
    #[error("loading the seccomp filter")]
    Load(#[source] io::Error),
    /// The container's own profile cannot be compiled.
    #[error("{0}")]
    Profile(String),
}

/// The running kernel's version; (0, 0) if unreadable, so that a rule
/// wanting a newer kernel does not apply.
pub fn kernel_version() -> (u32, u32) {
    nix::sys::utsname::uname()
        .ok()
        .and_then(|u| u.release().to_str().and_then(kernel::parse))
        .unwrap_or((0, 0))
}

/// The filter for a container with docker's default capabilities on a
/// kernel of version `kernel`.
pub fn program(kernel: (u32, u32)) -> &'static [libc::sock_filter] {
    PROGRAMS
        .iter()
        .rev()
        .find(|(from, _)| *from <= kernel)
        .or(PROGRAMS.first())
        .map(|(_, p)| *p)
        .unwrap_or_default()
}

/// docker's default profile for docker's default capabilities on a kernel
/// of version `kernel`, as the OCI runtime spec's `linux.seccomp` (what
/// docker writes to config.json, for the native architecture only).
pub fn default_spec(kernel: (u32, u32)) -> LinuxSeccomp {
    let text = SPECS
        .iter()
        .rev()
        .find(|(from, _)| *from <= kernel)
        .or(SPECS.first())
        .map(|(_, s)| *s)
        .unwrap_or_default();
    serde_json::from_str(text).expect("build.rs writes a valid linux.seccomp")
}

/// [`default_spec`] for the running kernel, read once.
pub fn default_spec_here() -> &'static LinuxSeccomp {
    static SPEC: std::sync::OnceLock<LinuxSeccomp> = std::sync::OnceLock::new();
    SPEC.get_or_init(|| default_spec(kernel_version()))
}

/// A container's seccomp filter: the program and the flags it is loaded
/// with.
#[derive(Clone)]
pub struct Filter {
    program: Cow<'static, [libc::sock_filter]>,
    flags: u32,
}

impl Filter {
    /// The filter for the profile `s`: docker's default (as cairn writes
    /// it) is the program build.rs compiled, taken as it is; any other is
    /// compiled now (a few milliseconds).
    pub fn from_spec(s: &LinuxSeccomp) -> Result<Filter, SeccompError> {
        if s == default_spec_here() {
            return Ok(Filter {
                program: Cow::Borrowed(program(kernel_version())),
                flags: 0,
            });
        }
        let c = oci::compile(s).map_err(SeccompError::Profile)?;
        Ok(Filter {
            program: Cow::Owned(c.program),
            flags: c.flags,
        })
    }

    /// Its instructions.
    pub fn program(&self) -> &[libc::sock_filter] {
        &self.program
    }

    /// Install it on this thread (and what it executes). Needs
    /// `no_new_privs` (or CAP_SYS_ADMIN).
    pub fn install(&self) -> Result<(), SeccompError> {
        let prog = &self.program;
        let len = u16::try_from(prog.len())
            .ok()
            .filter(|n| (1..=4096).contains(n))
            .ok_or(SeccompError::TooLong(prog.len()))?;
        let fprog = libc::sock_fprog {
            len,
            filter: prog.as_ptr().cast_mut(),
        };
        // SAFETY: seccomp(SECCOMP_SET_MODE_FILTER) reads the sock_fprog and
        // the program it points at (alive for the call), and writes neither.
        let rc = unsafe {
            libc::syscall(
                libc::SYS_seccomp,
                libc::SECCOMP_SET_MODE_FILTER,
                self.flags as libc::c_ulong,
                &fprog as *const libc::sock_fprog,
            )
        };
        if rc < 0 {
            return Err(SeccompError::Load(io::Error::last_os_error()));
        }
        Ok(())
    }
}

impl PartialEq for Filter {
    fn eq(&self, o: &Filter) -> bool {
        let key = |i: &libc::sock_filter| (i.code, i.jt, i.jf, i.k);
        self.flags == o.flags && self.program.iter().map(key).eq(o.program.iter().map(key))
    }
}

impl Eq for Filter {}

impl std::fmt::Debug for Filter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Filter")
            .field("instructions", &self.program.len())
            .field("flags", &self.flags)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::compile::{
        self, Target, AUDIT_ARCH, JEQ_K, JGE_K, JGT_K, LD_W_ABS, RET_ERRNO, RET_K, X32_BIT,
    };
    use super::*;
    use crate::isolate::caps::DEFAULT_CAPS;

    #[test]
    fn the_spec_form_is_the_profile_for_dockers_capabilities() {
        let p = compile::parse(PROFILE).unwrap();
        for kernel in [(4, 0), (6, 1)] {
            let t = Target {
                caps: &DEFAULT_CAPS,
                kernel,
            };
            let want: LinuxSeccomp = serde_json::from_value(compile::oci(&p, t).unwrap()).unwrap();
            assert_eq!(default_spec(kernel), want);
        }
        let s = default_spec((6, 1));
        let names: Vec<&str> = s
            .syscalls()
            .iter()
            .flatten()
            .flat_map(|r| r.names().iter().map(|n| n.as_str()))
            .collect();
        assert!(names.contains(&"read"));
        // a rule for CAP_SYS_ADMIN only is not a default container's
        assert!(!names.contains(&"mount"));
    }

    const RET_ALLOW: u32 = 0x7fff_0000;
    const EPERM: u32 = RET_ERRNO | libc::EPERM as u32;
    const ENOSYS: u32 = RET_ERRNO | libc::ENOSYS as u32;

    /// A classic-BPF interpreter for seccomp programs: the instructions
    /// libseccomp and the prefix emit, over a `seccomp_data`.
    fn run(prog: &[libc::sock_filter], arch: u32, nr: u32, args: &[u64]) -> u32 {
        let mut data = [0u8; 64];
        data[0..4].copy_from_slice(&nr.to_ne_bytes());
        data[4..8].copy_from_slice(&arch.to_ne_bytes());
        for (i, a) in args.iter().enumerate() {
            data[16 + 8 * i..24 + 8 * i].copy_from_slice(&a.to_ne_bytes());
        }
        let (mut acc, mut pc) = (0u32, 0usize);
        loop {
            let i = prog[pc];
            let k = i.k;
            let jump = |c: bool| if c { i.jt } else { i.jf } as usize;
            pc += 1;
            match i.code {
                LD_W_ABS => {
                    let o = k as usize;
                    acc = u32::from_ne_bytes(data[o..o + 4].try_into().unwrap());
                }
                0x54 => acc &= k,         // BPF_ALU | BPF_AND | BPF_K
                0x05 => pc += k as usize, // BPF_JMP | BPF_JA
                JEQ_K => pc += jump(acc == k),
                JGT_K => pc += jump(acc > k),
                JGE_K => pc += jump(acc >= k),
                0x45 => pc += jump(acc & k != 0), // BPF_JMP | BPF_JSET | BPF_K
                RET_K => return k,
                c => panic!("opcode {c:#x} at {}", pc - 1),
            }
        }
    }

    fn compiled(caps: &[u32], kernel: (u32, u32)) -> Vec<libc::sock_filter> {
        let p = compile::parse(PROFILE).unwrap();
        compile::program(&p, Target { caps, kernel }).unwrap()
    }

    fn nr(n: libc::c_long) -> u32 {
        n as u32
    }

    fn same(a: &[libc::sock_filter], b: &[libc::sock_filter]) -> bool {
        let key = |i: &libc::sock_filter| (i.code, i.jt, i.jf, i.k);
        a.iter().map(key).eq(b.iter().map(key))
    }

    #[test]
    fn embedded_programs_are_the_profile() {
        assert_eq!(compile::DOCKER_CAPS, DEFAULT_CAPS);
        let p = compile::parse(PROFILE).unwrap();
        let steps = compile::kernel_steps(&p).unwrap();
        assert_eq!(PROGRAMS.len(), steps.len());
        for ((from, prog), step) in PROGRAMS.iter().zip(steps) {
            assert_eq!(*from, step);
            assert!(same(prog, &compiled(&DEFAULT_CAPS, step)), "{step:?}");
            assert!(prog.len() <= 4096, "{} instructions", prog.len());
        }
        assert!(same(program((6, 1)), &compiled(&DEFAULT_CAPS, (6, 1))));
        assert!(same(program((4, 7)), &compiled(&DEFAULT_CAPS, (4, 7))));
        assert!(same(program(kernel_version()), program((99, 0))));
    }

    /// docker's answers for a container with its default capabilities.
    #[test]
    fn default_capabilities() {
        let p = program((6, 1));
        let call = |n: libc::c_long, args: &[u64]| run(p, AUDIT_ARCH, nr(n), args);
        // the allow-list
        assert_eq!(call(libc::SYS_read, &[]), RET_ALLOW);
        assert_eq!(call(libc::SYS_getpid, &[]), RET_ALLOW);
        assert_eq!(call(libc::SYS_execve, &[]), RET_ALLOW);
        assert_eq!(call(libc::SYS_chroot, &[]), RET_ALLOW); // CAP_SYS_CHROOT is a default
        assert_eq!(call(libc::SYS_ptrace, &[]), RET_ALLOW); // minKernel 4.8
                                                            // calls only CAP_SYS_ADMIN (or another cap) opens, or none
        for n in [
            libc::SYS_mount,
            libc::SYS_umount2,
            libc::SYS_unshare,
            libc::SYS_setns,
            libc::SYS_bpf,
            libc::SYS_keyctl,
            libc::SYS_add_key,
            libc::SYS_kcmp,
            libc::SYS_set_mempolicy,
            libc::SYS_get_mempolicy,
            libc::SYS_move_pages,
            libc::SYS_fanotify_init,
            libc::SYS_open_by_handle_at,
            libc::SYS_perf_event_open,
            libc::SYS_userfaultfd,
            libc::SYS_io_uring_setup,
            libc::SYS_init_module,
            libc::SYS_reboot,
            libc::SYS_pivot_root,
        ] {
            assert_eq!(call(n, &[]), EPERM, "system call {n}");
        }
        // clone: no namespace flags
        let sigchld = libc::SIGCHLD as u64;
        assert_eq!(call(libc::SYS_clone, &[sigchld]), RET_ALLOW);
        let thread = (libc::CLONE_VM | libc::CLONE_THREAD | libc::CLONE_SIGHAND) as u64;
        assert_eq!(call(libc::SYS_clone, &[thread]), RET_ALLOW);
        for ns in [
            libc::CLONE_NEWUSER,
            libc::CLONE_NEWNS,
            libc::CLONE_NEWPID,
            libc::CLONE_NEWNET,
            libc::CLONE_NEWCGROUP,
        ] {
            assert_eq!(call(libc::SYS_clone, &[ns as u64 | sigchld]), EPERM);
        }
        // clone3 cannot be filtered by its flags: ENOSYS, and libc falls back
        assert_eq!(call(libc::SYS_clone3, &[]), ENOSYS);
        // personality: the values docker lists
        for v in [0, 8, 0x20000, 0x20008, 0xffff_ffff] {
            assert_eq!(call(libc::SYS_personality, &[v]), RET_ALLOW, "{v:#x}");
        }
        assert_eq!(call(libc::SYS_personality, &[0x0040_0000]), EPERM);
        assert_eq!(call(libc::SYS_personality, &[1 << 32]), EPERM);
        // socket: every family but AF_ALG and AF_VSOCK
        for f in [
            libc::AF_UNIX,
            libc::AF_INET,
            libc::AF_INET6,
            libc::AF_NETLINK,
        ] {
            assert_eq!(call(libc::SYS_socket, &[f as u64]), RET_ALLOW, "family {f}");
        }
        assert_eq!(call(libc::SYS_socket, &[39]), RET_ALLOW); // AF_NFC
        assert_eq!(call(libc::SYS_socket, &[44]), RET_ALLOW); // AF_XDP
        assert_eq!(call(libc::SYS_socket, &[libc::AF_ALG as u64]), EPERM);
        assert_eq!(call(libc::SYS_socket, &[libc::AF_VSOCK as u64]), EPERM);
        // the kernel reads an int: wider values are refused, not "> AF_VSOCK"
        assert_eq!(call(libc::SYS_socket, &[1 << 32 | 40]), EPERM);
        assert_eq!(call(libc::SYS_socket, &[1 << 32 | 2]), EPERM);
    }

    #[test]
    fn calls_newer_than_the_profile_are_enosys() {
        let p = program((6, 1));
        let last = compile::last_known(&compile::parse(PROFILE).unwrap()).unwrap();
        assert!(last >= libc::SYS_clone3 as u32, "{last}");
        assert_eq!(run(p, AUDIT_ARCH, last, &[]), RET_ALLOW);
        assert_eq!(run(p, AUDIT_ARCH, last + 1, &[]), ENOSYS);
        assert_eq!(run(p, AUDIT_ARCH, 1000, &[]), ENOSYS);
        assert_eq!(run(p, AUDIT_ARCH, X32_BIT - 1, &[]), ENOSYS);
        // a gap in the table below the last call is the profile's default
        #[cfg(target_arch = "x86_64")]
        assert_eq!(run(p, AUDIT_ARCH, 400, &[]), EPERM);
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn only_the_native_abi() {
        let p = program((6, 1));
        let i386 = 0x4000_0003;
        assert_eq!(run(p, i386, 20, &[]), EPERM); // getpid
        assert_eq!(run(p, i386, 102, &[]), EPERM); // socketcall
        assert_eq!(run(p, AUDIT_ARCH, X32_BIT | 39, &[]), EPERM); // getpid
        assert_eq!(run(p, AUDIT_ARCH, X32_BIT | 2000, &[]), EPERM);
    }

    #[test]
    fn capabilities_open_their_rules() {
        let with = |extra: &[u32]| {
            let mut caps = DEFAULT_CAPS.to_vec();
            caps.extend_from_slice(extra);
            compiled(&caps, (6, 1))
        };
        let a = AUDIT_ARCH;
        let admin = with(&[21]);
        assert_eq!(run(&admin, a, nr(libc::SYS_mount), &[]), RET_ALLOW);
        assert_eq!(run(&admin, a, nr(libc::SYS_unshare), &[]), RET_ALLOW);
        let newuser = libc::CLONE_NEWUSER as u64;
        assert_eq!(run(&admin, a, nr(libc::SYS_clone), &[newuser]), RET_ALLOW);
        assert_eq!(run(&admin, a, nr(libc::SYS_clone3), &[]), RET_ALLOW);
        assert_eq!(run(&admin, a, nr(libc::SYS_kcmp), &[]), EPERM);
        let ptrace = with(&[19]);
        assert_eq!(run(&ptrace, a, nr(libc::SYS_kcmp), &[]), RET_ALLOW);
        assert_eq!(run(&ptrace, a, nr(libc::SYS_mount), &[]), EPERM);
        let nice = with(&[23]);
        assert_eq!(run(&nice, a, nr(libc::SYS_set_mempolicy), &[]), RET_ALLOW);
        // without CAP_SYS_CHROOT, no chroot
        let none = compiled(&[], (6, 1));
        assert_eq!(run(&none, a, nr(libc::SYS_chroot), &[]), EPERM);
        assert_eq!(run(&none, a, nr(libc::SYS_read), &[]), RET_ALLOW);
    }

    #[test]
    fn min_kernel_rules() {
        // ptrace is open to all only from 4.8 (a seccomp bypass before it)
        let old = program((4, 7));
        assert_eq!(run(old, AUDIT_ARCH, nr(libc::SYS_ptrace), &[]), EPERM);
        assert_eq!(run(old, AUDIT_ARCH, nr(libc::SYS_read), &[]), RET_ALLOW);
        let new = program((4, 8));
        assert_eq!(run(new, AUDIT_ARCH, nr(libc::SYS_ptrace), &[]), RET_ALLOW);
    }

    fn own(profile: serde_json::Value) -> Result<Filter, SeccompError> {
        Filter::from_spec(&serde_json::from_value(profile).unwrap())
    }

    #[test]
    fn dockers_default_is_the_embedded_program() {
        let f = Filter::from_spec(default_spec_here()).unwrap();
        assert!(matches!(f.program, Cow::Borrowed(_)));
        assert!(same(f.program(), program(kernel_version())));
    }

    #[test]
    fn a_profile_of_the_containers_own_is_compiled() {
        let f = own(serde_json::json!({
            "defaultAction": "SCMP_ACT_ALLOW",
            "syscalls": [
                {"names": ["getcwd", "no_such_call"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13},
                {"names": ["personality"], "action": "SCMP_ACT_ERRNO",
                 "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]},
                {"names": ["getpid"], "action": "SCMP_ACT_ALLOW"}
            ]
        }))
        .unwrap();
        let p = f.program();
        let call = |n: libc::c_long, args: &[u64]| run(p, AUDIT_ARCH, nr(n), args);
        assert_eq!(call(libc::SYS_getcwd, &[]), RET_ERRNO | 13);
        assert_eq!(call(libc::SYS_personality, &[8]), EPERM);
        assert_eq!(call(libc::SYS_personality, &[0]), RET_ALLOW);
        assert_eq!(call(libc::SYS_read, &[]), RET_ALLOW);
        // a permissive default: newer calls are allowed too
        assert_eq!(call(1000, &[]), RET_ALLOW);
        // and no way around the rules through another ABI: x32's and
        // i386's `mkdir` would not be the native one the rule names
        #[cfg(target_arch = "x86_64")]
        {
            assert_eq!(run(p, AUDIT_ARCH, X32_BIT | 79, &[]), EPERM); // getcwd
            assert_eq!(run(p, 0x4000_0003, 183, &[]), EPERM); // i386 getcwd
        }
        // an allow-list gets the prefix: newer calls are ENOSYS
        let f = own(serde_json::json!({
            "defaultAction": "SCMP_ACT_ERRNO",
            "flags": ["SECCOMP_FILTER_FLAG_LOG"],
            "syscalls": [{"names": ["read", "getpid"], "action": "SCMP_ACT_ALLOW"}]
        }))
        .unwrap();
        assert_eq!(f.flags, 2);
        let p = f.program();
        assert_eq!(run(p, AUDIT_ARCH, nr(libc::SYS_read), &[]), RET_ALLOW);
        assert_eq!(run(p, AUDIT_ARCH, nr(libc::SYS_write), &[]), EPERM);
        // above the highest call named: newer than the profile (runc's stub)
        #[cfg(target_arch = "x86_64")]
        assert_eq!(run(p, AUDIT_ARCH, nr(libc::SYS_getcwd), &[]), ENOSYS);
        assert_eq!(run(p, AUDIT_ARCH, 1000, &[]), ENOSYS);
    }

    #[test]
    fn what_cannot_be_compiled_is_named() {
        let refused = |profile: serde_json::Value, word: &str| {
            let e = own(profile).unwrap_err().to_string();
            assert!(e.contains(word), "{e}");
        };
        refused(
            serde_json::json!({"defaultAction": "SCMP_ACT_ALLOW",
                "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]}),
            "SCMP_ACT_NOTIFY",
        );
        refused(
            serde_json::json!({"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "/run/agent"}),
            "listenerPath",
        );
        refused(
            serde_json::json!({"defaultAction": "SCMP_ACT_ALLOW",
                "flags": ["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"]}),
            "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
        );
        refused(
            serde_json::json!({"defaultAction": "SCMP_ACT_ALLOW",
                "syscalls": [{"names": ["read"], "action": "SCMP_ACT_KILL", "errnoRet": 1}]}),
            "errnoRet",
        );
        refused(
            serde_json::json!({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"],
                "action": "SCMP_ACT_ERRNO", "args": [{"index": 6, "value": 0, "op": "SCMP_CMP_EQ"}]}]}),
            "index 6",
        );
    }
}
