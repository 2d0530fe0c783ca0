//! The test harness: every test gets its own directory and store, runs the
//! real binaries, feeds stdin from a thread, and on failure prints the
//! command, its stdout and its stderr.

use serde_json::{Map, Value};
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub type Record = Map<String, Value>;

/// The path of a tool binary (`layer-unpack` → `cairn-layer-unpack`).
pub fn bin(tool: &str) -> PathBuf {
    let name = if tool == "cairn" {
        "cairn".to_string()
    } else {
        format!("cairn-{tool}")
    };
    let exe = PathBuf::from(env!("CARGO_BIN_EXE_cairn"));
    exe.with_file_name(name)
}

/// A test's own directory and store.
pub struct Env {
    pub dir: PathBuf,
    pub root: PathBuf,
}

impl Env {
    pub fn new(name: &str) -> Env {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join("t")
            .join(name);
        cleanup(&dir);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let root = dir.join("store");
        Env { dir, root }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.join(rel)
    }

    /// A command for `tool` on this env's store.
    pub fn cmd(&self, tool: &str) -> Cmd {
        let mut c = Command::new(bin(tool));
        c.env("CAIRN_ROOT", &self.root).current_dir(&self.dir);
        Cmd {
            c,
            stdin: None,
            label: tool.to_string(),
        }
    }

    /// A command for another program (`runc`, `crun`) in this env's
    /// directory.
    pub fn program(&self, prog: &str) -> Cmd {
        let mut c = Command::new(prog);
        c.current_dir(&self.dir);
        Cmd {
            c,
            stdin: None,
            label: prog.to_string(),
        }
    }

    /// Run `tool args…` and expect success; returns stdout's records.
    pub fn records(&self, tool: &str, args: &[&str]) -> Vec<Record> {
        self.cmd(tool).args(args).ok().records()
    }

    /// A listing of everything under the store: path, type, mode, owner,
    /// size, link target, and a digest of file contents.
    pub fn snapshot(&self) -> Vec<String> {
        snapshot(&self.root)
    }

    /// Run `tool ARG` on a terminal (script(1) gives it a pty), with a
    /// store of its own beside this env's; what the terminal showed.
    pub fn on_a_terminal(&self, tool: &str, arg: &Path) -> String {
        let cmd = format!(
            "{} --root {} {}",
            bin(tool).display(),
            self.path("store-tty").display(),
            arg.display()
        );
        let out = Command::new("script")
            .args(["-qec", &cmd, "/dev/null"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{tool} on a terminal: {out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

/// Take down what an earlier run of a test may have left running in `dir`:
/// container processes and their supervisors, and mounts. A pid read back
/// from an old state file is signalled only while it is still the process
/// that file recorded (see [`kill_if_ours`]).
/// A finished test takes its containers' processes and mounts down (its
/// files stay for a look): a killed tool's leftovers would otherwise keep
/// the tree busy for whoever removes it.
impl Drop for Env {
    fn drop(&mut self) {
        cleanup(&self.dir);
    }
}

fn cleanup(dir: &Path) {
    if let Ok(rd) = std::fs::read_dir(dir.join("store/containers")) {
        for e in rd.flatten() {
            if let Ok(st) = std::fs::read(e.path().join("state.json")) {
                if let Ok(v) = serde_json::from_slice::<Value>(&st) {
                    for (k, start) in [("supervisor", "supervisor_start"), ("pid", "pid_start")] {
                        if let (Some(p), Some(t)) = (v[k].as_i64(), v[start].as_u64()) {
                            kill_if_ours(p, t);
                        }
                    }
                }
            }
        }
    }
    // and their cgroups, named by container ID under each hierarchy's cairn/
    if let Ok(rd) = std::fs::read_dir(dir.join("store/containers")) {
        let ids: Vec<String> = rd
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        if let Ok(hier) = std::fs::read_dir("/sys/fs/cgroup") {
            let mut roots: Vec<PathBuf> = hier.flatten().map(|e| e.path().join("cairn")).collect();
            roots.push(PathBuf::from("/sys/fs/cgroup/cairn"));
            for r in roots {
                for id in &ids {
                    let _ = std::fs::remove_dir(r.join(id));
                }
            }
        }
    }
    // this env's own tree only: "t/ctr-state" is a prefix of "t/ctr-state-race"
    let top = dir.display().to_string();
    let under = format!("{top}/");
    let mut points: Vec<String> = std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split(' ').nth(4).map(String::from))
        .filter(|m| *m == top || m.starts_with(&under))
        .collect();
    points.sort_by_key(|p| std::cmp::Reverse(p.len()));
    for p in points {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&p)
            .status();
    }
}

/// The start time of a process (field 22 of /proc/PID/stat, clock ticks
/// after boot), if it exists.
fn start_time(pid: i32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces and parens: skip past the last ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    rest.split(' ').nth(19)?.parse().ok()
}

/// SIGKILL `pid` if it is still the process that started at `start` (as a
/// state file recorded it), never a process that reused its number. The
/// pid is pinned with a pidfd before its start time is read, so it cannot
/// be recycled between the check and the signal.
fn kill_if_ours(pid: i64, start: u64) {
    let Ok(pid) = i32::try_from(pid) else { return };
    if pid <= 1 {
        return;
    }
    // SAFETY: pidfd_open(2) takes a pid and flags and returns a new fd or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        return; // gone already
    }
    // SAFETY: pidfd_open returned a new fd that nothing else owns.
    let fd = unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd as i32) };
    if start_time(pid) == Some(start) {
        // SAFETY: pidfd_send_signal(2) on a valid pidfd, no siginfo, no flags.
        unsafe {
            libc::syscall(
                libc::SYS_pidfd_send_signal,
                std::os::fd::AsRawFd::as_raw_fd(&fd),
                libc::SIGKILL,
                std::ptr::null::<libc::siginfo_t>(),
                0,
            )
        };
    }
}

/// Poll `cond` until it holds, every 20 ms for at most `timeout`; panic
/// naming `what` when it never does. For waiting on something a test can
/// observe, instead of sleeping a fixed time and hoping.
/// The layer tar of the layer ID `layer`, as the store keeps it.
pub fn blob_of(env: &Env, layer: &str) -> Vec<u8> {
    let info: serde_json::Value = serde_json::from_slice(
        &std::fs::read(env.root.join("layers").join(&layer[7..]).join("info.json")).unwrap(),
    )
    .unwrap();
    let d = info["blob"]["digest"].as_str().unwrap();
    std::fs::read(env.root.join("blobs/sha256").join(&d[7..])).unwrap()
}

pub fn wait_for(what: &str, timeout: std::time::Duration, mut cond: impl FnMut() -> bool) {
    let start = std::time::Instant::now();
    while !cond() {
        if start.elapsed() > timeout {
            panic!("timed out after {timeout:?} waiting for {what}");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

pub fn snapshot(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    walk(root, root, &mut out);
    out.sort();
    out
}

fn walk(root: &Path, p: &Path, out: &mut Vec<String>) {
    let Ok(rd) = std::fs::read_dir(p) else { return };
    for e in rd.flatten() {
        let path = e.path();
        let m = std::fs::symlink_metadata(&path).unwrap();
        let rel = path.strip_prefix(root).unwrap().display().to_string();
        let extra = if m.file_type().is_symlink() {
            std::fs::read_link(&path).unwrap().display().to_string()
        } else if m.is_file() {
            let data = std::fs::read(&path).unwrap();
            format!("{:x}", sha2_of(&data))
        } else {
            String::new()
        };
        out.push(format!(
            "{rel} {:o} {}:{} {} {extra}",
            m.mode(),
            m.uid(),
            m.gid(),
            if m.is_dir() { 0 } else { m.size() }
        ));
        if m.is_dir() {
            walk(root, &path, out);
        }
    }
}

fn sha2_of(data: &[u8]) -> u128 {
    use sha2::Digest;
    let d = sha2::Sha256::digest(data);
    u128::from_be_bytes(d[..16].try_into().unwrap())
}

pub struct Cmd {
    pub c: Command,
    stdin: Option<Vec<u8>>,
    label: String,
}

pub struct Output {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub label: String,
}

impl Cmd {
    /// Any command, run (and reported on failure) as the tools are.
    pub fn new(c: Command, label: impl Into<String>) -> Cmd {
        Cmd {
            c,
            stdin: None,
            label: label.into(),
        }
    }
    pub fn arg(mut self, a: impl AsRef<std::ffi::OsStr>) -> Self {
        self.label.push(' ');
        self.label.push_str(&a.as_ref().to_string_lossy());
        self.c.arg(a);
        self
    }
    pub fn args<I: IntoIterator<Item = S>, S: AsRef<std::ffi::OsStr>>(mut self, args: I) -> Self {
        for a in args {
            self = self.arg(a);
        }
        self
    }
    pub fn stdin(mut self, data: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(data.into());
        self
    }
    /// Records as stdin, one per line.
    pub fn stdin_records(self, recs: &[Record]) -> Self {
        let mut s = String::new();
        for r in recs {
            s.push_str(&serde_json::to_string(r).unwrap());
            s.push('\n');
        }
        self.stdin(s)
    }
    pub fn env(mut self, k: &str, v: impl AsRef<std::ffi::OsStr>) -> Self {
        self.c.env(k, v);
        self
    }
    pub fn run(mut self) -> Output {
        self.c.stdout(Stdio::piped()).stderr(Stdio::piped());
        self.c.stdin(if self.stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
        let mut child = self
            .c
            .spawn()
            .unwrap_or_else(|e| panic!("spawning {}: {e}", self.label));
        let feeder = self.stdin.take().map(|data| {
            let mut w = child.stdin.take().unwrap();
            std::thread::spawn(move || {
                let _ = w.write_all(&data);
            })
        });
        let out = child.wait_with_output().unwrap();
        if let Some(f) = feeder {
            f.join().unwrap();
        }
        Output {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            label: self.label,
        }
    }
    /// Run and expect exit 0.
    pub fn ok(self) -> Output {
        let o = self.run();
        if o.code != Some(0) {
            panic!("expected success:\n{o}");
        }
        o
    }
    /// Run and expect exit `code`.
    pub fn fails(self, code: i32) -> Output {
        let o = self.run();
        if o.code != Some(code) {
            panic!("expected exit {code}:\n{o}");
        }
        o
    }
}

impl std::fmt::Display for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "$ {}\nexit: {:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.label, self.code, self.stdout, self.stderr
        )
    }
}

impl Output {
    pub fn records(&self) -> Vec<Record> {
        self.stdout
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| match serde_json::from_str::<Value>(l) {
                Ok(Value::Object(m)) => m,
                _ => panic!("stdout line is not a JSON object: {l:?}\n{self}"),
            })
            .collect()
    }
    pub fn record(&self) -> Record {
        let mut r = self.records();
        assert_eq!(r.len(), 1, "expected one record\n{self}");
        r.remove(0)
    }
    /// The `container` of the one record printed (`run -d`, `create`
    /// piped): the new container's 64-hex ID.
    pub fn id(&self) -> String {
        let id = s(&self.record(), "container").to_string();
        assert!(
            id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit()),
            "expected a container ID in the record\n{self}"
        );
        id
    }
}

pub fn s<'a>(r: &'a Record, k: &str) -> &'a str {
    r.get(k)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("record has no string {k:?}: {r:?}"))
}

/// A tar built in memory.
pub struct TarBuilder {
    b: tar::Builder<Vec<u8>>,
}

impl Default for TarBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl TarBuilder {
    pub fn new() -> TarBuilder {
        TarBuilder {
            b: tar::Builder::new(Vec::new()),
        }
    }
    fn header(kind: tar::EntryType, mode: u32, size: u64) -> tar::Header {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        h.set_mode(mode);
        h.set_size(size);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(1_700_000_000);
        h
    }
    pub fn dir(mut self, path: &str, mode: u32) -> Self {
        let mut h = Self::header(tar::EntryType::Directory, mode, 0);
        self.b.append_data(&mut h, path, &[][..]).unwrap();
        self
    }
    pub fn dir_owned(mut self, path: &str, mode: u32, uid: u64, gid: u64) -> Self {
        let mut h = Self::header(tar::EntryType::Directory, mode, 0);
        h.set_uid(uid);
        h.set_gid(gid);
        self.b.append_data(&mut h, path, &[][..]).unwrap();
        self
    }
    pub fn file(mut self, path: &str, mode: u32, data: &[u8]) -> Self {
        let mut h = Self::header(tar::EntryType::Regular, mode, data.len() as u64);
        self.b.append_data(&mut h, path, data).unwrap();
        self
    }
    pub fn file_owned(
        mut self,
        path: &str,
        mode: u32,
        uid: u64,
        gid: u64,
        mtime: u64,
        data: &[u8],
    ) -> Self {
        let mut h = Self::header(tar::EntryType::Regular, mode, data.len() as u64);
        h.set_uid(uid);
        h.set_gid(gid);
        h.set_mtime(mtime);
        self.b.append_data(&mut h, path, data).unwrap();
        self
    }
    pub fn symlink(mut self, path: &str, target: &str) -> Self {
        let mut h = Self::header(tar::EntryType::Symlink, 0o777, 0);
        self.b.append_link(&mut h, path, target).unwrap();
        self
    }
    pub fn hardlink(mut self, path: &str, target: &str) -> Self {
        let mut h = Self::header(tar::EntryType::Link, 0o644, 0);
        self.b.append_link(&mut h, path, target).unwrap();
        self
    }
    pub fn device(mut self, path: &str, kind: tar::EntryType, major: u32, minor: u32) -> Self {
        let mut h = Self::header(kind, 0o666, 0);
        h.set_device_major(major).unwrap();
        h.set_device_minor(minor).unwrap();
        self.b.append_data(&mut h, path, &[][..]).unwrap();
        self
    }
    /// A file preceded by a PAX header with the given records.
    pub fn pax_file(mut self, path: &str, pax: &[(&str, &[u8])], data: &[u8]) -> Self {
        self.b
            .append_pax_extensions(pax.iter().map(|(k, v)| (*k, *v)))
            .unwrap();
        let mut h = Self::header(tar::EntryType::Regular, 0o644, data.len() as u64);
        self.b.append_data(&mut h, path, data).unwrap();
        self
    }
    pub fn build(self) -> Vec<u8> {
        self.b.into_inner().unwrap()
    }
}

/// A minimal busybox root file system as a tar (from Debian's
/// busybox-static), with the applets tests use as symlinks.
pub fn busybox_tar() -> Vec<u8> {
    let bb = std::fs::read("/bin/busybox").expect("busybox-static is installed (/bin/busybox)");
    let mut t = TarBuilder::new()
        .dir("bin", 0o755)
        .dir("etc", 0o755)
        .dir("tmp", 0o1777)
        .file("bin/busybox", 0o755, &bb);
    let list = std::process::Command::new("/bin/busybox")
        .arg("--list")
        .output()
        .unwrap();
    for applet in String::from_utf8_lossy(&list.stdout).lines() {
        if applet != "busybox" && !applet.is_empty() {
            t = t.symlink(&format!("bin/{applet}"), "busybox");
        }
    }
    t.file(
        "etc/passwd",
        0o644,
        b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
    )
    .file("etc/group", 0o644, b"root:x:0:\nnogroup:x:65534:\n")
    .build()
}

/// A busybox image tagged `busybox:latest` in the env's store; returns its layer.
pub fn busybox_image(env: &Env) -> String {
    let r = env.cmd("layer-unpack").stdin(busybox_tar()).ok().record();
    let id = s(&r, "layer").to_string();
    env.cmd("tag").args([&id, "busybox"]).ok();
    id
}

/// The container IDs of the env's store (newest first) with their records.
pub fn ps_all(env: &Env) -> Vec<Record> {
    env.cmd("ps")
        .args(["-a", "--format", "json"])
        .ok()
        .records()
}

/// Mounts and cgroups that mention this env's store or containers.
pub fn leftovers(env: &Env) -> Vec<String> {
    let mut out = Vec::new();
    let root = env.root.display().to_string();
    for l in std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
    {
        if l.contains(&root) {
            out.push(format!("mount: {l}"));
        }
    }
    let ids: Vec<String> = std::fs::read_dir(env.root.join("containers"))
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    for c in [
        "memory", "pids", "cpu", "freezer", "cpuacct", "devices", "unified", "",
    ] {
        let dir = Path::new("/sys/fs/cgroup").join(c).join("cairn");
        if let Ok(rd) = std::fs::read_dir(&dir) {
            for e in rd.flatten() {
                let n = e.file_name().to_string_lossy().into_owned();
                if ids.contains(&n) {
                    out.push(format!("cgroup: {}", e.path().display()));
                }
            }
        }
    }
    out
}

/// The bytes a container wrote, both streams in order, from its log file
/// at `path` (docs/store.md, "The container log": a header, then per
/// message a 16-byte head whose bytes 4..8 are the length). A file from
/// an older cairn is raw bytes; a file not there is empty. For the tests
/// that watch a detached container's output as it comes.
pub fn log_text(path: &Path) -> String {
    const MAGIC: &[u8] = b"\0cairn-log 1\n";
    let data = std::fs::read(path).unwrap_or_default();
    let Some(mut rest) = data.strip_prefix(MAGIC) else {
        return String::from_utf8_lossy(&data).into_owned();
    };
    let mut out = Vec::new();
    while rest.len() >= 16 {
        let len = u32::from_be_bytes(rest[4..8].try_into().unwrap()) as usize;
        let Some(bytes) = rest.get(16..16 + len) else {
            break;
        };
        out.extend_from_slice(bytes);
        rest = &rest[16 + len..];
    }
    String::from_utf8_lossy(&out).into_owned()
}
