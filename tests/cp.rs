//! `cp` against docker's: `-L` and what lands where, with which owner, in
//! both directions, on the same container made the same way; and tar
//! streams copied in.

use crate::fixtures::docker;
use crate::harness::{Env, TarBuilder};
use crate::interop::same_image;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// Each entry under `dir` as `path type owner content`, sorted.
fn listing(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let m = std::fs::symlink_metadata(&p).unwrap();
            let rel = p.strip_prefix(dir).unwrap().display().to_string();
            let what = if m.file_type().is_symlink() {
                format!("-> {}", std::fs::read_link(&p).unwrap().display())
            } else if m.is_dir() {
                stack.push(p.clone());
                "dir".to_string()
            } else {
                std::fs::read_to_string(&p).unwrap().trim().to_string()
            };
            out.push(format!("{rel} {}:{} {what}", m.uid(), m.gid()));
        }
    }
    out.sort();
    out
}

#[test]
fn cp_follows_links_and_owns_as_docker() {
    let env = Env::new("cp-docker");
    let tag = same_image(&env, "cp-docker:1");
    let setup = "mkdir /data && echo x > /data/f && chown 1234:1234 /data/f && \
                 ln -s /data/f /link && ln -s /data /dlink && ln -s f /data/rel && sleep 60";
    let ours = env
        .cmd("run")
        .args(["-d", "--network", "none", &tag, "sh", "-c", setup])
        .ok();
    let ours = ours.id();
    let theirs = docker().ok(&["run", "-d", "--network", "none", &tag, "sh", "-c", setup]);
    let theirs = theirs.trim().to_string();
    std::thread::sleep(std::time::Duration::from_secs(2));
    // a host file owned by 1234, and a link to it
    let host = env.path("host");
    std::fs::create_dir_all(&host).unwrap();
    std::fs::write(host.join("h"), "h\n").unwrap();
    std::os::unix::fs::chown(host.join("h"), Some(1234), Some(1234)).unwrap();
    std::os::unix::fs::symlink(host.join("h"), host.join("hl")).unwrap();
    let hl = host.join("hl").display().to_string();
    let outs = |who: &str, c: &str| -> Vec<Vec<String>> {
        let dir = env.path(&format!("out-{who}"));
        std::fs::create_dir_all(dir.join("into")).unwrap();
        let d = |n: &str| dir.join(n).display().to_string();
        let copies: Vec<Vec<String>> = vec![
            vec![format!("{c}:/link"), d("plain")],
            vec!["-L".into(), format!("{c}:/link"), d("followed")],
            vec!["-L".into(), format!("{c}:/dlink"), d("dir")],
            vec!["-L".into(), format!("{c}:/link"), d("into") + "/"],
            vec!["-L".into(), format!("{c}:/data/rel"), d("relative")],
            vec![hl.clone(), format!("{c}:/tmp/in-plain")],
            vec!["-L".into(), hl.clone(), format!("{c}:/tmp/in-followed")],
            vec![
                "-a".into(),
                "-L".into(),
                hl.clone(),
                format!("{c}:/tmp/in-archive"),
            ],
        ];
        for args in &copies {
            match who {
                "ours" => {
                    env.cmd("cp").args(args).ok();
                }
                _ => {
                    let a: Vec<&str> = args.iter().map(String::as_str).collect();
                    docker().ok(&[&["cp"][..], &a].concat());
                }
            }
        }
        let inside = "for f in /tmp/in-*; do echo \"$f $(stat -c '%u:%g %F' $f)\"; done";
        let shown = match who {
            "ours" => env.cmd("exec").args([c, "sh", "-c", inside]).ok().stdout,
            _ => docker().ok(&["exec", c, "sh", "-c", inside]),
        };
        vec![listing(&dir), shown.lines().map(String::from).collect()]
    };
    let o = outs("ours", &ours);
    let t = outs("theirs", &theirs);
    docker().ok(&["rm", "-f", &theirs]);
    env.cmd("rm").args(["-f", &ours]).ok();
    assert_eq!(o[0], t[0], "copied out: ours, then docker's");
    assert_eq!(o[1], t[1], "copied in: ours, then docker's");
    // a container with a USER: -a gives it what is copied in, resolved in
    // the container's own passwd and group files. (docker 20.10 looks the
    // USER up in the host's passwd and fails on `1000:1000`: not copied.)
    let run = [
        "-d",
        "--network",
        "none",
        "-u",
        "1000:1000",
        &tag,
        "sleep",
        "60",
    ];
    let ours = env.cmd("run").args(run).ok().id();
    let h = host.join("h").display().to_string();
    let stat = |p: &str| {
        let o = env.cmd("exec").args([&ours, "stat", "-c", "%u:%g", p]).ok();
        o.stdout.trim().to_string()
    };
    env.cmd("cp").args([&h, &format!("{ours}:/tmp/plain")]).ok();
    env.cmd("cp")
        .args(["-a", &h, &format!("{ours}:/tmp/archive")])
        .ok();
    assert_eq!(stat("/tmp/plain"), "1234:1234");
    assert_eq!(stat("/tmp/archive"), "1000:1000");
    env.cmd("rm").args(["-f", &ours]).ok();
}

/// A tar stream copied in may hard-link to an earlier entry or to a file
/// already in the container; a link to neither is refused in one line
/// that says so, not with the bare "No such file or directory".
#[test]
fn cp_tar_hard_links_name_what_is_missing() {
    let env = Env::new("cp-hardlink");
    crate::harness::busybox_image(&env);
    let id = env
        .cmd("run")
        .args(["-d", "busybox", "sleep", "60"])
        .ok()
        .id();
    let tar = TarBuilder::new()
        .file("a", 0o644, b"A")
        .hardlink("b", "a")
        .hardlink("p", "etc/passwd")
        .build();
    let to = format!("{id}:/");
    env.cmd("cp").args(["-", &to]).stdin(tar).ok();
    let o = env
        .cmd("exec")
        .args([&id, "sh", "-c", "cat /b; head -c5 /p"])
        .ok();
    assert_eq!(o.stdout, "Aroot:");
    let tar = TarBuilder::new().hardlink("c", "no/such").build();
    let o = env.cmd("cp").args(["-", &to]).stdin(tar).fails(1);
    assert_eq!(o.stderr.lines().count(), 1, "{o}");
    assert!(
        o.stderr.contains(
            "hard link to no/such, which is neither an earlier entry nor in the container"
        ),
        "{o}"
    );
    env.cmd("rm").args(["-f", &id]).ok();
}
