//! `--init` in a bundle for another runtime, as docker gives it to runc.
//!
//! cairn's own init is cairn-isolate staying in the container as pid 1;
//! a bundle's runtime (runc, crun) starts the process itself, so that
//! init cannot come along. Docker's answer, followed here: the host's
//! static init (`docker-init`, which Debian's docker.io links to tini's
//! static build) is bind-mounted read-only at `/sbin/docker-init` and
//! the process becomes `/sbin/docker-init -- CMD...`. Read-only, so a
//! container that reaches it through `/proc/1/exe` cannot write it.

use oci_spec::runtime::{Mount, MountBuilder, Spec};
use std::io::Read;
use std::path::{Path, PathBuf};

/// Where the init is bound in the container, as docker binds it.
pub const TARGET: &str = "/sbin/docker-init";

/// The host programs tried for the init, in order: docker's name for it
/// first, then tini's static build under its own name.
const NAMES: [&str; 2] = ["docker-init", "tini-static"];

/// Why no init could be given to a bundle.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error("asks for --init, and a bundle needs a static init on the host (docker-init or tini-static on PATH), which there is none of: install tini, or create it without --init")]
    Missing,
    #[error("asks for --init, and {0} is not a statically linked program, which a container's root file system could not run: install tini's static build")]
    NotStatic(PathBuf),
    #[error("asks for --init, and {0} could not be read: {1}")]
    Unreadable(PathBuf, std::io::Error),
}

/// The host's static init: the first of [`NAMES`] on PATH, its links
/// followed (the bind mount needs the file itself).
pub fn find() -> Result<PathBuf, InitError> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = NAMES
        .iter()
        .flat_map(|n| std::env::split_paths(&path).map(move |d| d.join(n)))
        .find(|p| p.is_file())
        .ok_or(InitError::Missing)?;
    let real = found
        .canonicalize()
        .map_err(|e| InitError::Unreadable(found.clone(), e))?;
    if !is_static(&real).map_err(|e| InitError::Unreadable(real.clone(), e))? {
        return Err(InitError::NotStatic(real));
    }
    Ok(real)
}

/// Whether the ELF file at `p` runs without a dynamic loader: it has no
/// `PT_INTERP` program header. Anything that is not a 64-bit
/// little-endian ELF counts as not static.
fn is_static(p: &Path) -> std::io::Result<bool> {
    const PT_INTERP: u32 = 3;
    let mut head = Vec::new();
    std::fs::File::open(p)?
        .take(64 << 10)
        .read_to_end(&mut head)?;
    let u16_at = |o: usize| head.get(o..o + 2).map(|b| u16::from_le_bytes([b[0], b[1]]));
    let u32_at = |o: usize| {
        head.get(o..o + 4)
            .map(|b| u32::from_le_bytes(b.try_into().unwrap()))
    };
    let u64_at = |o: usize| {
        head.get(o..o + 8)
            .map(|b| u64::from_le_bytes(b.try_into().unwrap()))
    };
    // ELF magic, ELFCLASS64, ELFDATA2LSB
    if head.get(..6) != Some(b"\x7fELF\x02\x01".as_slice()) {
        return Ok(false);
    }
    let (Some(phoff), Some(size), Some(count)) = (u64_at(0x20), u16_at(0x36), u16_at(0x38)) else {
        return Ok(false);
    };
    let types: Option<Vec<u32>> = (0..usize::from(count))
        .map(|i| u32_at(phoff as usize + i * usize::from(size)))
        .collect();
    Ok(types.is_some_and(|t| !t.contains(&PT_INTERP)))
}

/// Give `spec` the init at `init`: its bind mount and the process run
/// under it, as docker's `--init` does.
pub fn apply(spec: &mut Spec, init: &Path) -> Result<(), oci_spec::OciSpecError> {
    let mount: Mount = MountBuilder::default()
        .destination(TARGET)
        .typ("bind")
        .source(init)
        .options(vec!["bind".to_string(), "ro".to_string()])
        .build()?;
    let mut mounts = spec.mounts().clone().unwrap_or_default();
    mounts.push(mount);
    spec.set_mounts(Some(mounts));
    if let Some(p) = spec.process_mut() {
        let mut args = vec![TARGET.to_string(), "--".to_string()];
        args.extend(p.args().clone().unwrap_or_default());
        p.set_args(Some(args));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dynamic_program_is_not_static_and_text_is_not_elf() {
        // the test binary itself needs the dynamic loader
        let me = std::env::current_exe().unwrap();
        assert!(!is_static(&me).unwrap());
        let dir = std::env::temp_dir().join(format!("cairn-init-{}", std::process::id()));
        std::fs::write(&dir, "#!/bin/sh\n").unwrap();
        assert!(!is_static(&dir).unwrap());
        std::fs::remove_file(&dir).unwrap();
    }

    #[test]
    fn busybox_static_is_static() {
        // busybox-static is installed by scripts/deps.sh on every machine
        // that runs the tests
        assert!(is_static(Path::new("/bin/busybox")).unwrap());
    }

    #[test]
    fn the_process_runs_under_the_init() {
        let mut spec = Spec::default();
        apply(&mut spec, Path::new("/usr/bin/tini-static")).unwrap();
        let args = spec.process().as_ref().unwrap().args().clone().unwrap();
        assert_eq!(&args[..2], [TARGET, "--"]);
        let m = spec.mounts().as_ref().unwrap().last().unwrap().clone();
        assert_eq!(m.destination(), Path::new(TARGET));
        assert_eq!(m.options().as_ref().unwrap(), &["bind", "ro"]);
    }
}
