//! Containment: each test is a hostile container (or a hostile image, or
//! build context) attacking cairn the way it would in the wild, with small
//! static programs built by the test from `c/*.c`. Each attack got through
//! once; each test fails if it gets through again. What docker's defaults
//! say about the same attempt is written beside the assertion.

use crate::harness::{busybox_tar, s, Env, TarBuilder};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

mod bounds;
mod build_context;
mod commit_race;
mod cp_race;
mod devices;
mod exec_exe;
mod init_exe;
mod leaks;
mod mount_race;
mod passwd;
mod readers;
mod rm_links;
mod seccomp;
mod sparse;
mod terminal;
pub mod via;

/// The static binary of the attack program `c/<name>.c`, built once per
/// test run with the system's C compiler (`cc -static`, glibc's libc.a).
pub fn program(name: &str) -> PathBuf {
    static BUILT: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("attack");
    let out = dir.join(name);
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    if built.iter().any(|n| n == name) {
        return out;
    }
    std::fs::create_dir_all(&dir).unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/containment/c")
        .join(format!("{name}.c"));
    let o = Command::new("cc")
        .args(["-static", "-O2", "-Wall", "-D_GNU_SOURCE", "-o"])
        .arg(&out)
        .arg(&src)
        .arg("-lpthread")
        .output()
        .expect("running cc (Debian's gcc and libc6-dev)");
    assert!(
        o.status.success(),
        "cc {}:\n{}",
        src.display(),
        String::from_utf8_lossy(&o.stderr)
    );
    built.push(name.to_string());
    out
}

/// The busybox root file system with the attack programs `names` added
/// as /bin/<name>, tagged `IMAGE` in the env's store; returns its layer.
pub fn image_with(env: &Env, tag: &str, names: &[&str]) -> String {
    let base = env.cmd("layer-unpack").stdin(busybox_tar()).ok().record();
    let mut t = TarBuilder::new();
    for n in names {
        let bin = std::fs::read(program(n)).unwrap();
        t = t.file(&format!("bin/{n}"), 0o755, &bin);
    }
    let top = env
        .cmd("layer-unpack")
        .args(["--parent", s(&base, "layer")])
        .stdin(t.build())
        .ok()
        .record();
    let id = s(&top, "layer").to_string();
    env.cmd("tag").args([&id, tag]).ok();
    id
}

/// Attempts at a race and what they gave: how many, how many succeeded,
/// and every distinct failure.
#[derive(Default, Debug)]
pub struct Tally {
    pub tries: usize,
    pub ok: usize,
    pub errors: Vec<String>,
}

impl Tally {
    /// One attempt, by its exit code and stderr. A failure must say why
    /// in one line, and never be a panic.
    pub fn add(&mut self, code: Option<i32>, stderr: &str) {
        self.tries += 1;
        if code == Some(0) {
            self.ok += 1;
            return;
        }
        let line = stderr.trim().to_string();
        assert!(
            !line.is_empty() && !line.contains('\n') && !line.contains("panicked"),
            "a failed attempt must say why in one line: {line:?}\n{self:?}"
        );
        if !self.errors.contains(&line) {
            self.errors.push(line);
        }
    }

    /// Something got through to be checked.
    pub fn some_ok(&self) {
        assert!(self.ok > 0, "no attempt succeeded: {self:?}");
    }

    /// Something got through, and every failure said `why` (for a walk
    /// racing the container: "changed while being read").
    pub fn some_ok_and_failures_say(&self, why: &str) {
        self.some_ok();
        for e in &self.errors {
            assert!(
                e.contains(why),
                "a failed attempt must say, in one line, {why:?}: {e}\n{self:?}"
            );
        }
    }
}

/// Run `cmd` (no stdin) and give it `secs` seconds: a command still
/// running then is killed and the test fails, saying it hung.
pub fn within(mut cmd: crate::harness::Cmd, secs: u64) -> crate::harness::Output {
    use std::io::Read;
    use std::process::Stdio;
    use std::time::{Duration, Instant};
    let label = format!("{:?}", cmd.c);
    cmd.c
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.c.spawn().unwrap();
    let start = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if start.elapsed() > Duration::from_secs(secs) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{label} hung: still running after {secs} s");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let (mut stdout, mut stderr) = (String::new(), String::new());
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    crate::harness::Output {
        code: status.code(),
        stdout,
        stderr,
        label,
    }
}
