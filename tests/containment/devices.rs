//! No device policy: a container keeps CAP_MKNOD (docker's default caps
//! do too), so it can make a node for any device; the policy is what must
//! stop it opening one. docker's default (moby's default device rules,
//! runc's `AllowedDevices`): mknod of any char or block device is allowed,
//! opening is allowed only for null, zero, full, random, urandom, tty,
//! console, ptmx and the pts; anything else is refused with EPERM.
//! The default policy is attacked through `cairn run` and through
//! `cairn-runtime` on a bundle carrying docker's device rules.

use super::image_with;
use super::via::Via;
use crate::harness::{leftovers, Env};

/// (name, type, major, minor, docker's default lets the container open it)
const DEVICES: &[(&str, &str, u32, u32, bool)] = &[
    ("null", "c", 1, 3, true),
    ("zero", "c", 1, 5, true),
    ("full", "c", 1, 7, true),
    ("random", "c", 1, 8, true),
    ("urandom", "c", 1, 9, true),
    ("tty", "c", 5, 0, true),
    ("console", "c", 5, 1, true),
    ("ptmx", "c", 5, 2, true),
    ("pts0", "c", 136, 0, true),
    ("kvm", "c", 10, 232, false),
    ("fuse", "c", 10, 229, false),
    ("loop-control", "c", 10, 237, false),
    ("loop0", "b", 7, 0, false),
    ("mem", "c", 1, 1, false),
    ("kmsg", "c", 1, 11, false),
    ("tty0", "c", 4, 0, false),
    ("vcs", "c", 7, 0, false),
    ("sda", "b", 8, 0, false),
    ("blk-253-0", "b", 253, 0, false),
    ("btrfs-control", "c", 10, 234, false),
];

/// The host's first disk (`/sys/block/*` that is not a loop, ram or zram
/// device) as (name, major, minor), so the host's real disk is attacked
/// whatever this machine calls it.
fn host_disk() -> Option<(String, u32, u32)> {
    let mut disks: Vec<(String, u32, u32)> = std::fs::read_dir("/sys/block")
        .ok()?
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            if ["loop", "ram", "zram", "dm-", "md", "sr", "nbd"]
                .iter()
                .any(|p| name.starts_with(p))
            {
                return None;
            }
            let dev = std::fs::read_to_string(e.path().join("dev")).ok()?;
            let (maj, min) = dev.trim().split_once(':')?;
            Some((name, maj.parse().ok()?, min.parse().ok()?))
        })
        .collect();
    disks.sort();
    disks.into_iter().next()
}

/// `devices NAME TYPE MAJOR MINOR...` inside a container of `attack`
/// started `via`, (`cairn run` with `run_flags` first); returns each
/// NAME's open result.
fn attack(
    env: &Env,
    via: Via,
    run_flags: &[&str],
    devices: &[(String, String, u32, u32)],
) -> Vec<String> {
    let mut args: Vec<String> = vec!["devices".into()];
    for (name, kind, major, minor) in devices {
        args.extend([
            name.clone(),
            kind.clone(),
            major.to_string(),
            minor.to_string(),
        ]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (cmd, _bundle) = match via {
        Via::Cairn => {
            let run = env.cmd("run").args(run_flags);
            (run.args(["attack", "--"]).args(&args), None)
        }
        Via::Runtime => {
            let privileged = run_flags == ["--privileged"];
            assert!(
                privileged || run_flags.is_empty(),
                "flags of cairn run's own"
            );
            via.run_as(env, privileged, "attack", &args)
        }
    };
    let o = cmd.ok();
    let lines: Vec<String> = o.stdout.lines().map(str::to_string).collect();
    assert_eq!(lines.len(), devices.len(), "{o}");
    lines
}

fn table() -> Vec<(String, String, u32, u32, bool)> {
    let mut t: Vec<(String, String, u32, u32, bool)> = DEVICES
        .iter()
        .map(|&(n, k, ma, mi, ok)| (n.to_string(), k.to_string(), ma, mi, ok))
        .collect();
    if let Some((name, ma, mi)) = host_disk() {
        t.push((format!("host-{name}"), "b".into(), ma, mi, false));
    }
    t
}

/// Parse "NAME mknod=E open=E".
fn parse(line: &str) -> (&str, &str, &str) {
    let mut it = line.split(' ');
    let name = it.next().unwrap_or("");
    let mknod = it
        .next()
        .and_then(|f| f.strip_prefix("mknod="))
        .unwrap_or("?");
    let open = it
        .next()
        .and_then(|f| f.strip_prefix("open="))
        .unwrap_or("?");
    (name, mknod, open)
}

#[test]
fn only_dockers_default_devices_open() {
    let env = Env::new("containment-devices");
    image_with(&env, "attack", &["devices"]);
    let table = table();
    let devices: Vec<_> = table
        .iter()
        .map(|(n, k, ma, mi, _)| (n.clone(), k.clone(), *ma, *mi))
        .collect();
    let mut wrong = Vec::new();
    for via in Via::BOTH {
        let lines = attack(&env, via, &[], &devices);
        for ((name, kind, ma, mi, allowed), line) in table.iter().zip(&lines) {
            let (got, mknod, open) = parse(line);
            assert_eq!(got, name, "{via:?}: {line}");
            // mknod is allowed for every device (the `m` rule for c *:* and b *:*).
            if mknod != "ok" {
                wrong.push(format!(
                    "{via:?}: {line}: docker lets mknod {kind} {ma}:{mi} succeed"
                ));
                continue;
            }
            // Only "refused by the policy" (EPERM) counts: an allowed device
            // may still fail to open for its own reasons (tty without a
            // controlling terminal: ENXIO; pts0 outside its devpts: EIO; no
            // such driver).
            let refused = open == "EPERM";
            if refused == *allowed {
                let want = if *allowed { "not EPERM" } else { "EPERM" };
                wrong.push(format!(
                    "{via:?}: {line}: docker's default policy says open={want}"
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert!(leftovers(&env).is_empty(), "{:?}", leftovers(&env));
}

#[test]
fn privileged_opts_out_of_the_device_policy() {
    let env = Env::new("containment-devices-privileged");
    image_with(&env, "attack", &["devices"]);
    let kvm = [("kvm".to_string(), "c".to_string(), 10, 232)];
    for via in Via::BOTH {
        let lines = attack(&env, via, &["--privileged"], &kvm);
        let (_, mknod, open) = parse(&lines[0]);
        assert_eq!(mknod, "ok", "{via:?}: {}", lines[0]);
        assert_ne!(
            open, "EPERM",
            "{via:?}: --privileged allows every device: {}",
            lines[0]
        );
    }
    assert!(leftovers(&env).is_empty(), "{:?}", leftovers(&env));
}

#[test]
fn exec_is_held_to_the_device_policy_too() {
    let env = Env::new("containment-devices-exec");
    image_with(&env, "attack", &["devices"]);
    let id = env
        .cmd("run")
        .args(["-d", "attack", "--", "sleep", "100"])
        .ok()
        .id();
    let o = env
        .cmd("exec")
        .args([
            &id, "devices", "kvm", "c", "10", "232", "null", "c", "1", "3",
        ])
        .ok();
    env.cmd("rm").args(["-f", &id]).ok();
    let lines: Vec<&str> = o.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{o}");
    assert_eq!(
        parse(lines[0]).2,
        "EPERM",
        "an exec'd process opened kvm: {o}"
    );
    assert_ne!(parse(lines[1]).2, "EPERM", "{o}");
    assert!(leftovers(&env).is_empty(), "{:?}", leftovers(&env));
}
