//! layer-unpack against a second tar implementation (parser bugs recur): the
//! same archives, written by Python's tarfile in ustar, GNU and PAX form,
//! are extracted by GNU tar and by cairn, and the trees must agree.

use crate::harness::{s, snapshot, Env};
use std::path::Path;

const GEN: &str = r##"
import io, sys, tarfile
out, fmt = sys.argv[1], {"ustar": tarfile.USTAR_FORMAT, "gnu": tarfile.GNU_FORMAT, "pax": tarfile.PAX_FORMAT}[sys.argv[2]]
def info(name, kind=tarfile.REGTYPE, mode=0o644, uid=0, gid=0, mtime=1_600_000_000, **kw):
    ti = tarfile.TarInfo(name); ti.type = kind; ti.mode = mode; ti.uid = uid; ti.gid = gid; ti.mtime = mtime
    for k, v in kw.items(): setattr(ti, k, v)
    return ti
long = "deep/" + "/".join(["d%02d" % i for i in range(12)])
with tarfile.open(out, "w", format=fmt) as t:
    t.addfile(info("top", tarfile.DIRTYPE, 0o751, mtime=1_500_000_000))
    data = b"hello world\n" * 1000
    t.addfile(info("top/file", size=len(data), mode=0o640, uid=1001, gid=1002), io.BytesIO(data))
    t.addfile(info("top/hard", tarfile.LNKTYPE, linkname="top/file"))
    t.addfile(info("top/sym", tarfile.SYMTYPE, 0o777, linkname="../top/file"))
    t.addfile(info("top/suid", size=3, mode=0o4755), io.BytesIO(b"#!\n"))
    t.addfile(info("top/sticky", tarfile.DIRTYPE, 0o1777))
    t.addfile(info("top/fifo", tarfile.FIFOTYPE, 0o600))
    t.addfile(info("top/null", tarfile.CHRTYPE, 0o666, devmajor=1, devminor=3))
    t.addfile(info("top/loop", tarfile.BLKTYPE, 0o660, devmajor=7, devminor=0))
    t.addfile(info("top/empty", size=0), io.BytesIO(b""))
    if fmt != tarfile.USTAR_FORMAT:
        name = long + "/" + "n" * 120
        t.addfile(info(name, size=4), io.BytesIO(b"long"))
        t.addfile(info("top/longlink", tarfile.SYMTYPE, 0o777, linkname="/" + "l" * 150))
        t.addfile(info("top/bigid", size=1, uid=3_000_000, gid=3_000_001), io.BytesIO(b"x"))
    if fmt == tarfile.PAX_FORMAT:
        t.addfile(info("top/unicode-\u00e9\u6f22", size=2), io.BytesIO(b"u\n"))
"##;

fn listing(root: &Path) -> Vec<String> {
    // the snapshot lines (path, mode, owner, size, content digest or link)
    // plus mtimes of non-directories
    use std::os::unix::fs::MetadataExt;
    snapshot(root)
        .into_iter()
        .map(|l| {
            let rel = l.split(' ').next().unwrap().to_string();
            let m = std::fs::symlink_metadata(root.join(&rel)).unwrap();
            let t = if m.is_dir() { 0 } else { m.mtime() };
            format!("{l} {t} {}", m.rdev())
        })
        .collect()
}

#[test]
fn gnu_tar_and_cairn_extract_the_same_tree() {
    let env = Env::new("differential");
    let gen = env.path("gen.py");
    std::fs::write(&gen, GEN).unwrap();
    for fmt in ["ustar", "gnu", "pax"] {
        let tar = env.path(&format!("{fmt}.tar"));
        let st = std::process::Command::new("python3")
            .arg(&gen)
            .arg(&tar)
            .arg(fmt)
            .status()
            .unwrap();
        assert!(st.success(), "python could not write the {fmt} tar");
        let by_tar = env.path(&format!("tar-{fmt}"));
        std::fs::create_dir(&by_tar).unwrap();
        let st = std::process::Command::new("tar")
            .args(["--same-owner", "-p", "--numeric-owner", "-xf"])
            .arg(&tar)
            .arg("-C")
            .arg(&by_tar)
            .status()
            .unwrap();
        assert!(st.success(), "GNU tar could not extract the {fmt} tar");
        let r = env.cmd("layer-unpack").arg(&tar).ok().record();
        let diff = env
            .root
            .join("layers")
            .join(&s(&r, "layer")[7..])
            .join("diff");
        let (a, b) = (listing(&by_tar), listing(&diff));
        assert!(a.len() >= 10, "{fmt}: GNU tar extracted only {a:?}");
        assert!(
            a.iter()
                .any(|l| l.starts_with("top/file 100640 1001:1002 12000 ")),
            "{fmt}: {a:#?}"
        );
        let only_tar: Vec<&String> = a.iter().filter(|l| !b.contains(l)).collect();
        let only_cairn: Vec<&String> = b.iter().filter(|l| !a.contains(l)).collect();
        assert!(
            only_tar.is_empty() && only_cairn.is_empty(),
            "{fmt}: GNU tar and cairn disagree\nonly GNU tar:\n{only_tar:#?}\nonly cairn:\n{only_cairn:#?}"
        );
    }
}
