//! A seccomp filter in the spirit of docker's default profile: the system
//! calls docker allows only with CAP_SYS_ADMIN (or not at all) fail with
//! EPERM, `clone` may not create namespaces, `clone3` reports ENOSYS so libc
//! falls back to the filterable `clone`, `personality` is limited to the
//! values docker allows, and only the native system-call ABI is served.
//!
//! Docker's profile is an allow-list; this one denies the dangerous calls
//! that list leaves out for a container with the default capabilities and
//! allows the rest. Installed last, right before `execve`, after
//! `no_new_privs` (runc's order).

use std::io;

/// System calls that fail with EPERM.
fn denied() -> Vec<libc::c_long> {
    vec![
        libc::SYS_mount,
        libc::SYS_umount2,
        libc::SYS_unshare,
        libc::SYS_setns,
        libc::SYS_pivot_root,
        libc::SYS_keyctl,
        libc::SYS_add_key,
        libc::SYS_request_key,
        libc::SYS_bpf,
        libc::SYS_perf_event_open,
        libc::SYS_userfaultfd,
        libc::SYS_kexec_load,
        libc::SYS_kexec_file_load,
        libc::SYS_open_by_handle_at,
        libc::SYS_name_to_handle_at,
        libc::SYS_init_module,
        libc::SYS_finit_module,
        libc::SYS_delete_module,
        libc::SYS_reboot,
        libc::SYS_swapon,
        libc::SYS_swapoff,
        libc::SYS_acct,
        libc::SYS_settimeofday,
        libc::SYS_clock_settime,
        libc::SYS_clock_adjtime,
        libc::SYS_adjtimex,
        libc::SYS_syslog,
        libc::SYS_io_uring_setup,
        libc::SYS_io_uring_enter,
        libc::SYS_io_uring_register,
        libc::SYS_fsopen,
        libc::SYS_fsconfig,
        libc::SYS_fsmount,
        libc::SYS_fspick,
        libc::SYS_move_mount,
        libc::SYS_open_tree,
        libc::SYS_quotactl,
        libc::SYS_vhangup,
        libc::SYS_lookup_dcookie,
        #[cfg(target_arch = "x86_64")]
        libc::SYS_iopl,
        #[cfg(target_arch = "x86_64")]
        libc::SYS_ioperm,
        #[cfg(target_arch = "x86_64")]
        libc::SYS_uselib,
        #[cfg(target_arch = "x86_64")]
        libc::SYS_ustat,
        #[cfg(target_arch = "x86_64")]
        libc::SYS_sysfs,
    ]
}

#[cfg(target_arch = "x86_64")]
const AUDIT_ARCH: u32 = 0xC000_003E;
#[cfg(target_arch = "aarch64")]
const AUDIT_ARCH: u32 = 0xC000_00B7;

/// Namespace flags `clone` may not use: docker's mask 0x7E020000
/// (NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET).
const CLONE_NS_MASK: u32 = 0x7E02_0000;
/// `personality` values docker allows.
const PERSONALITIES: [u32; 5] = [0x0, 0x8, 0x20000, 0x20008, 0xffff_ffff];

const LD_W_ABS: u16 = 0x20; // BPF_LD | BPF_W | BPF_ABS
const JEQ_K: u16 = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
const JGE_K: u16 = 0x35; // BPF_JMP | BPF_JGE | BPF_K
const AND_K: u16 = 0x54; // BPF_ALU | BPF_AND | BPF_K
const RET_K: u16 = 0x06; // BPF_RET | BPF_K
const RET_ALLOW: u32 = 0x7fff_0000;
const RET_ERRNO: u32 = 0x0005_0000;
const NR: u32 = 0; // offsetof(seccomp_data, nr)
const ARCH: u32 = 4; // offsetof(seccomp_data, arch)
const ARG0_LO: u32 = 16; // offsetof(seccomp_data, args[0]), low word (little endian)
const X32_BIT: u32 = 0x4000_0000;

fn ins(code: u16, jt: u8, jf: u8, k: u32) -> libc::sock_filter {
    libc::sock_filter { code, jt, jf, k }
}

/// The filter program, as plain data (tested without installing it).
pub fn program() -> Vec<libc::sock_filter> {
    let errno = |e: i32| RET_ERRNO | (e as u32 & 0xffff);
    let mut p = vec![
        // only the native ABI
        ins(LD_W_ABS, 0, 0, ARCH),
        ins(JEQ_K, 1, 0, AUDIT_ARCH),
        ins(RET_K, 0, 0, errno(libc::EPERM)),
        ins(LD_W_ABS, 0, 0, NR),
        ins(JGE_K, 0, 1, X32_BIT),
        ins(RET_K, 0, 0, errno(libc::EPERM)),
        // clone: no namespace flags
        ins(JEQ_K, 0, 5, libc::SYS_clone as u32),
        ins(LD_W_ABS, 0, 0, ARG0_LO),
        ins(AND_K, 0, 0, CLONE_NS_MASK),
        ins(JEQ_K, 0, 1, 0),
        ins(RET_K, 0, 0, RET_ALLOW),
        ins(RET_K, 0, 0, errno(libc::EPERM)),
        ins(LD_W_ABS, 0, 0, NR),
        // clone3: ENOSYS, so libc falls back to clone
        ins(JEQ_K, 0, 1, libc::SYS_clone3 as u32),
        ins(RET_K, 0, 0, errno(libc::ENOSYS)),
    ];
    // personality: only the values docker allows
    let n = PERSONALITIES.len() as u8;
    p.push(ins(JEQ_K, 0, n + 3, libc::SYS_personality as u32));
    p.push(ins(LD_W_ABS, 0, 0, ARG0_LO));
    for (i, v) in PERSONALITIES.iter().enumerate() {
        // on a match jump to the ALLOW after the list
        p.push(ins(JEQ_K, n - i as u8, 0, *v));
    }
    p.push(ins(RET_K, 0, 0, errno(libc::EPERM)));
    p.push(ins(RET_K, 0, 0, RET_ALLOW));
    p.push(ins(LD_W_ABS, 0, 0, NR));
    for nr in denied() {
        p.push(ins(JEQ_K, 0, 1, nr as u32));
        p.push(ins(RET_K, 0, 0, errno(libc::EPERM)));
    }
    p.push(ins(RET_K, 0, 0, RET_ALLOW));
    p
}

/// Install the filter on this thread (and what it executes). Needs
/// `no_new_privs` (or CAP_SYS_ADMIN).
pub fn install() -> io::Result<()> {
    let mut prog = program();
    let fprog = libc::sock_fprog {
        len: prog.len() as u16,
        filter: prog.as_mut_ptr(),
    };
    // SAFETY: PR_SET_SECCOMP reads the sock_fprog and the program it points
    // at, both alive for the duration of the call.
    let rc = unsafe {
        libc::prctl(
            libc::PR_SET_SECCOMP,
            libc::SECCOMP_MODE_FILTER as libc::c_ulong,
            &fprog as *const libc::sock_fprog as libc::c_ulong,
            0,
            0,
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tiny interpreter for the instructions this module emits.
    fn run(prog: &[libc::sock_filter], arch: u32, nr: u32, arg0: u32) -> u32 {
        let mut acc = 0u32;
        let mut pc = 0usize;
        loop {
            let i = prog[pc];
            match i.code {
                LD_W_ABS => {
                    acc = match i.k {
                        NR => nr,
                        ARCH => arch,
                        ARG0_LO => arg0,
                        k => panic!("load of offset {k}"),
                    }
                }
                AND_K => acc &= i.k,
                JEQ_K => {
                    pc += if acc == i.k { i.jt } else { i.jf } as usize;
                }
                JGE_K => {
                    pc += if acc >= i.k { i.jt } else { i.jf } as usize;
                }
                RET_K => return i.k,
                c => panic!("opcode {c:#x}"),
            }
            pc += 1;
        }
    }

    #[test]
    fn decisions() {
        let p = program();
        let eperm = RET_ERRNO | libc::EPERM as u32;
        let a = AUDIT_ARCH;
        assert_eq!(run(&p, a, libc::SYS_read as u32, 0), RET_ALLOW);
        assert_eq!(run(&p, a, libc::SYS_mount as u32, 0), eperm);
        assert_eq!(run(&p, a, libc::SYS_unshare as u32, 0), eperm);
        assert_eq!(
            run(&p, a, libc::SYS_clone as u32, libc::SIGCHLD as u32),
            RET_ALLOW
        );
        assert_eq!(
            run(&p, a, libc::SYS_clone as u32, libc::CLONE_NEWUSER as u32),
            eperm
        );
        assert_eq!(
            run(&p, a, libc::SYS_clone3 as u32, 0),
            RET_ERRNO | libc::ENOSYS as u32
        );
        assert_eq!(run(&p, a, libc::SYS_personality as u32, 0), RET_ALLOW);
        assert_eq!(
            run(&p, a, libc::SYS_personality as u32, 0xffff_ffff),
            RET_ALLOW
        );
        assert_eq!(run(&p, a, libc::SYS_personality as u32, 0x0040_0000), eperm);
        assert_eq!(run(&p, a, libc::SYS_execve as u32, 0), RET_ALLOW);
        assert_eq!(run(&p, 0x4000_0003, libc::SYS_read as u32, 0), eperm);
        assert_eq!(run(&p, a, X32_BIT | 3, 0), eperm);
        assert!(p.len() < 4096);
    }
}
