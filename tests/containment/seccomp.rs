//! The seccomp attack: system calls docker's default profile refuses to a
//! container with docker's default capabilities, tried from inside
//! `cairn run` by `c/seccomp.c`, which prints `name=ok` or `name=ERRNO`
//! for each. Each answer is compared with what docker's default profile
//! (moby/profiles `seccomp/default.json`) says; the rule is named beside it.
//! The attack runs through `cairn run` and through `cairn-runtime` on a
//! bundle carrying the profile as docker writes it.

use super::image_with;
use super::via::Via;
use crate::harness::Env;

/// (attempt, docker's answer, the profile's rule).
const DOCKER: &[(&str, &str, &str)] = &[
    ("kcmp", "EPERM", "kcmp: only with CAP_SYS_PTRACE"),
    (
        "set_mempolicy",
        "EPERM",
        "set_mempolicy: only with CAP_SYS_NICE",
    ),
    (
        "get_mempolicy",
        "EPERM",
        "get_mempolicy: only with CAP_SYS_NICE",
    ),
    (
        "move_pages",
        "EPERM",
        "move_pages: in no rule (default action)",
    ),
    (
        "fanotify_init",
        "EPERM",
        "fanotify_init: only with CAP_SYS_ADMIN",
    ),
    (
        "socket_vsock",
        "EPERM",
        "socket: family < 38, == 39 or > 40 (AF_VSOCK is 40)",
    ),
    (
        "socket_alg",
        "EPERM",
        "socket: family < 38, == 39 or > 40 (AF_ALG is 38)",
    ),
    // The kernel reads 1<<32|40 as AF_VSOCK; docker's 64-bit "> 40" admits it,
    // cairn refuses a family that does not fit an int.
    (
        "socket_vsock_wide",
        "EPERM",
        "socket: the family rules, read as the kernel reads an int",
    ),
    ("unshare_user", "EPERM", "unshare: only with CAP_SYS_ADMIN"),
    ("mount", "EPERM", "mount: only with CAP_SYS_ADMIN"),
    ("keyctl", "EPERM", "keyctl: in no rule (default action)"),
    ("bpf", "EPERM", "bpf: only with CAP_SYS_ADMIN or CAP_BPF"),
    (
        "userfaultfd",
        "EPERM",
        "userfaultfd: in no rule (default action)",
    ),
    (
        "clone_newuser",
        "EPERM",
        "clone: flags & 0x7E020000 == 0 unless CAP_SYS_ADMIN",
    ),
    (
        "clone_newns",
        "EPERM",
        "clone: flags & 0x7E020000 == 0 unless CAP_SYS_ADMIN",
    ),
    (
        "personality_bad",
        "EPERM",
        "personality: 0x0, 0x8, 0x20000, 0x20008, 0xffffffff only",
    ),
    (
        "clone3",
        "ENOSYS",
        "clone3: SCMP_ACT_ERRNO errnoRet 38 unless CAP_SYS_ADMIN",
    ),
    // Newer than every call the profile names: runc's ENOSYS stub.
    ("file_getattr", "ENOSYS", "none: newer than the profile"),
    ("nr_1000", "ENOSYS", "none: newer than the profile"),
    // docker admits x32 (archMap); `cairn run` serves the native ABI only.
    // Through the runtime the bundle lists x32 as docker's does: the
    // kernel answers, as under runc (checked apart).
    (
        "x32_getpid",
        "EPERM",
        "archMap SCMP_ARCH_X32 (cairn: native ABI only)",
    ),
    ("getpid", "ok", "the allow-list"),
    ("personality_0", "ok", "personality: value 0x0"),
    ("personality_query", "ok", "personality: value 0xffffffff"),
    ("socket_inet", "ok", "socket: family < 38"),
    ("socket_unix", "ok", "socket: family < 38"),
    ("clone", "ok", "clone: no namespace flags"),
    ("fork", "ok", "clone: no namespace flags"),
    // libc tries clone3, takes ENOSYS for "not implemented" and uses clone
    (
        "thread",
        "ok",
        "clone3 ENOSYS, then clone: no namespace flags",
    ),
];

fn answers(stdout: &str) -> Vec<(&str, &str)> {
    stdout.lines().filter_map(|l| l.split_once('=')).collect()
}

#[test]
fn seccomp_is_docker_default_profile() {
    let env = Env::new("containment-seccomp");
    image_with(&env, "attack", &["seccomp"]);
    for via in Via::BOTH {
        let (cmd, _bundle) = via.run(&env, "attack", &["/bin/seccomp"]);
        let out = cmd.ok();
        let got = answers(&out.stdout);
        let wrong: Vec<String> = DOCKER
            .iter()
            .filter(|(name, _, _)| via == Via::Cairn || *name != "x32_getpid")
            .filter_map(|(name, want, rule)| {
                let have = got.iter().find(|(n, _)| n == name).map(|(_, r)| *r);
                (have != Some(*want)).then(|| {
                    format!(
                        "{name}: {} where docker says {want} ({rule})",
                        have.unwrap_or("nothing")
                    )
                })
            })
            .collect();
        assert!(
            wrong.is_empty(),
            "{via:?}: differs from docker's default profile:\n  {}\n{out}",
            wrong.join("\n  ")
        );
        assert_eq!(got.len(), DOCKER.len(), "{via:?}: {out}");
        if via == Via::Runtime {
            let x32 = got.iter().find(|(n, _)| *n == "x32_getpid");
            assert!(x32.is_some_and(|(_, r)| *r != "EPERM"), "{out}");
        }
    }
}

#[test]
fn privileged_has_no_filter() {
    let env = Env::new("containment-seccomp-privileged");
    image_with(&env, "attack", &["seccomp"]);
    for via in Via::BOTH {
        let (cmd, _bundle) = via.run_as(&env, true, "attack", &["/bin/seccomp"]);
        let out = cmd.ok();
        let got = answers(&out.stdout);
        let get = |name: &str| got.iter().find(|(n, _)| *n == name).map(|(_, r)| *r);
        // the kernel answers, with every capability
        assert_eq!(get("kcmp"), Some("ok"), "{via:?}: {out}");
        assert_eq!(get("clone3"), Some("ok"), "{via:?}: {out}");
        assert_eq!(get("set_mempolicy"), Some("ok"), "{via:?}: {out}");
        assert_ne!(get("nr_1000"), Some("EPERM"), "{via:?}: {out}");
        assert_eq!(get("getpid"), Some("ok"), "{via:?}: {out}");
    }
}
