//! A hostile layer: a 10 KiB tar holding a 4 GiB sparse file (GNU tar
//! `--sparse`: the map of its data in the header, only the data in the
//! stream). Unpacked hole by hole as zeros, it takes 4 GiB of the host's
//! disk per 10 KiB pulled. docker's unpacker (Go's archive/tar `WriteTo`)
//! seeks past the holes; so must cairn, and the blob rebuilt from the
//! split must still be the exact tar.

use crate::harness::{s, Env};
use std::os::unix::fs::{FileExt, MetadataExt};

const GIB: u64 = 1 << 30;
const MIB: u64 = 1 << 20;

/// A sparse file: its length and its islands of data.
struct Sparse {
    name: &'static str,
    size: u64,
    data: Vec<(u64, Vec<u8>)>,
    /// Disk it may take once unpacked.
    disk: u64,
}

fn files() -> Vec<Sparse> {
    let noise: Vec<u8> = (0..3 * MIB).map(|i| (i * 7 + i / 4096) as u8).collect();
    vec![
        // 4 GiB, two islands of data, ending in a hole
        Sparse {
            name: "big",
            size: 4 * GIB,
            data: vec![
                (GIB + 12345, b"an island".to_vec()),
                (3 * GIB, b"another".to_vec()),
            ],
            disk: MIB,
        },
        // 3 MiB of data in 1 GiB: the writer thread's path, beginning
        // and ending in data
        Sparse {
            name: "writer",
            size: GIB,
            data: vec![
                (0, b"head".to_vec()),
                (100 * MIB + 5, noise),
                (GIB - 4, b"tail".to_vec()),
            ],
            disk: 4 * MIB,
        },
        // 600 KiB with a little data: the extracting thread's path
        Sparse {
            name: "little",
            size: 600 << 10,
            data: vec![(100 << 10, b"small".to_vec())],
            disk: 64 << 10,
        },
    ]
}

fn sha256_hex(path: &std::path::Path) -> String {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    let mut f = std::fs::File::open(path).unwrap();
    std::io::copy(&mut f, &mut h).unwrap();
    format!("{:x}", h.finalize())
}

#[test]
fn sparse_file_layer_stays_sparse_and_rebuilds_exactly() {
    let env = Env::new("containment-sparse");
    let src = env.path("src");
    std::fs::create_dir_all(&src).unwrap();
    let files = files();
    for f in &files {
        let file = std::fs::File::create(src.join(f.name)).unwrap();
        file.set_len(f.size).unwrap();
        for (off, bytes) in &f.data {
            file.write_at(bytes, *off).unwrap();
        }
    }
    let tar = env.path("sparse.tar");
    let st = std::process::Command::new("tar")
        .args(["--sparse", "--format=gnu", "--owner=0", "--group=0", "-C"])
        .arg(&src)
        .arg("-cf")
        .arg(&tar)
        .args(files.iter().map(|f| f.name))
        .status()
        .unwrap();
    assert!(st.success());
    std::fs::remove_dir_all(&src).unwrap();
    let tar_len = std::fs::metadata(&tar).unwrap().len();
    let data: u64 = files
        .iter()
        .flat_map(|f| &f.data)
        .map(|d| d.1.len() as u64)
        .sum();
    let claimed: u64 = files.iter().map(|f| f.size).sum();
    assert!(
        tar_len < data + (64 << 10),
        "a tar of {tar_len} bytes for {data} bytes of data in {claimed} bytes of files"
    );

    let r = env.cmd("layer-unpack").arg(&tar).ok().record();
    let layer = s(&r, "layer").to_string();
    let diff = env.root.join("layers").join(&layer[7..]).join("diff");
    for f in &files {
        let p = diff.join(f.name);
        let m = std::fs::symlink_metadata(&p).unwrap();
        assert!(m.is_file());
        assert_eq!(m.len(), f.size, "{}: size", f.name);
        assert!(
            m.blocks() * 512 <= f.disk,
            "{}: {} bytes of disk for a file of {} bytes of data (holes written out)",
            f.name,
            m.blocks() * 512,
            f.data.iter().map(|d| d.1.len()).sum::<usize>()
        );
        let file = std::fs::File::open(&p).unwrap();
        for (off, bytes) in &f.data {
            let mut got = vec![0u8; bytes.len() + 8];
            let n = file.read_at(&mut got, off.saturating_sub(4)).unwrap();
            let mut want = vec![0u8; n];
            let lead = (*off).min(4) as usize;
            want[lead..lead + bytes.len()].copy_from_slice(bytes);
            assert_eq!(&got[..n], &want[..], "{} at {off}", f.name);
        }
    }

    // The image's blob, rebuilt from the split over the sparse changeset,
    // is the tar, byte for byte: its sha256 is the diff ID.
    env.cmd("tag").args([&layer, "sparse"]).ok();
    let diff_id = s(&env.cmd("inspect").arg(&layer).ok().record(), "diff_id").to_string();
    let blob = env.root.join("blobs/sha256").join(&diff_id[7..]);
    assert_eq!(sha256_hex(&blob), diff_id[7..]);
    assert_eq!(sha256_hex(&blob), sha256_hex(&tar));
}
