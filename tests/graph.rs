//! The model drawn: `images --tree` and `--format dot`.

use crate::harness::{busybox_image, Env, TarBuilder};

#[test]
fn tree_and_dot_show_the_model() {
    let env = Env::new("graph");
    let base = busybox_image(&env);
    for (name, file) in [("one", "one.txt"), ("two", "two.txt")] {
        let r = env
            .cmd("layer-unpack")
            .args(["--parent", &base, "--created-by", &format!("ADD {file}")])
            .stdin(TarBuilder::new().file(file, 0o644, b"x\n").build())
            .ok()
            .record();
        env.cmd("tag")
            .args([r["layer"].as_str().unwrap(), name])
            .ok();
    }
    env.cmd("run")
        .args(["--name", "stopped", "one", "true"])
        .ok();
    let running = env
        .cmd("run")
        .args(["-d", "--name", "busy", "two", "sleep", "60"])
        .ok()
        .id();
    let tree = env.cmd("images").arg("--tree").ok().stdout;
    // the shared base once, at the root, with its two images above it
    let base_lines: Vec<&str> = tree.lines().filter(|l| l.contains(&base[7..19])).collect();
    assert_eq!(base_lines.len(), 1, "{tree}");
    assert!(
        tree.lines().next().unwrap().contains(&base[7..19]),
        "{tree}"
    );
    assert!(
        tree.contains("[one:latest]") && tree.contains("[two:latest]"),
        "{tree}"
    );
    assert!(tree.contains("├─") && tree.contains("└─"), "{tree}");
    // containers on top of their images, the running one with its process space
    let stopped = tree
        .lines()
        .find(|l| l.contains("stopped"))
        .unwrap_or_else(|| panic!("{tree}"));
    assert!(
        stopped.contains("Exited (0)") && stopped.contains("container"),
        "{tree}"
    );
    let busy = tree
        .lines()
        .find(|l| l.contains(" busy "))
        .unwrap_or_else(|| panic!("{tree}"));
    assert!(
        busy.contains("Running") && busy.contains("process space: pid"),
        "{tree}"
    );
    let one_at = tree.find("[one:latest]").unwrap();
    let stopped_at = tree.find("stopped").unwrap();
    assert!(
        stopped_at > one_at,
        "the container is drawn above (after) its image\n{tree}"
    );
    // sizes beside each
    assert!(tree.contains("1.98MB") || tree.contains("MB"), "{tree}");

    let dot = env
        .cmd("images")
        .args(["--tree", "--format", "dot"])
        .ok()
        .stdout;
    assert!(dot.starts_with("digraph cairn {"), "{dot}");
    let svg = env.path("store.svg");
    let mut child = std::process::Command::new("dot")
        .args(["-Tsvg", "-o"])
        .arg(&svg)
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("graphviz's dot is installed");
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), dot.as_bytes()).unwrap();
    assert!(child.wait().unwrap().success(), "dot rejected:\n{dot}");
    let svg = std::fs::read_to_string(svg).unwrap();
    assert!(svg.contains("<svg") && svg.contains("busy") && svg.contains(&base[7..19]));
    env.cmd("rm").args(["-f", &running]).ok();
}
