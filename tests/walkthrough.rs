//! README's first command, the docker-model walkthrough, runs green.

#[test]
fn walkthrough_runs_green() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let bin = crate::harness::bin("cairn");
    let out = std::process::Command::new("bash")
        .arg(root.join("scripts/walkthrough.sh"))
        .env("CAIRN_BIN", bin.parent().unwrap())
        .env_remove("CAIRN_ROOT")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "walkthrough failed:\n{stdout}\n{stderr}"
    );
    // a few things each step must show
    assert!(stdout.contains("/upper/happiness.txt"), "{stdout}");
    let paused = stdout
        .lines()
        .find(|l| l.starts_with("paused: "))
        .unwrap_or_else(|| panic!("{stdout}"));
    let (a, b) = paused["paused: ".len()..].split_once(" -> ").unwrap();
    assert_eq!(a, b, "the counter moved while paused");
    assert!(stdout.contains("hello from a RUN step"), "{stdout}");
    assert!(stdout.contains("\"cached\":5"), "{stdout}");
    assert!(stdout.contains("⟦process space: pid"), "{stdout}");
    assert!(stdout.contains("\"untagged\":\"counted:1\""), "{stdout}");
    // and it cleans up after itself: nothing of it left mounted
    let store = stdout
        .lines()
        .find_map(|l| l.split("The store is at ").nth(1))
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .to_string();
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(
        !mounts.contains(&store),
        "the walkthrough left a mount in {store}"
    );
    let work = std::path::Path::new(&store).parent().unwrap();
    let _ = std::fs::remove_dir_all(work);
}
