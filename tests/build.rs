//! build: every instruction, the cache, failures, .dockerignore.

use crate::harness::{busybox_image, ps_all, s, Env};
use std::time::{Duration, Instant};

pub const DOCKERFILE: &str = r#"# a Dockerfile with every instruction cairn builds
FROM busybox
ARG VERSION=1
ENV APP=/app GREETING="hello there"
WORKDIR $APP
COPY msg.txt .
COPY dir /app/dir/
ADD arch.tar /unpacked/
COPY --chown=65534:65534 msg.txt /owned
RUN echo "version $VERSION" > version && \
    cat msg.txt
RUN ["/bin/sh", "-c", "echo exec-form > /app/exec"]
LABEL org.example.name=demo
EXPOSE 8080
VOLUME /data
USER root
STOPSIGNAL SIGTERM
SHELL ["/bin/sh", "-c"]
ENTRYPOINT ["/bin/sh", "-c"]
CMD ["cat /app/msg.txt /app/version /app/exec /unpacked/inner.txt"]
"#;

/// A build context with the files the Dockerfile above uses.
pub fn context(env: &Env) -> std::path::PathBuf {
    let ctx = env.path("ctx");
    std::fs::create_dir_all(ctx.join("dir/sub")).unwrap();
    std::fs::write(ctx.join("Dockerfile"), DOCKERFILE).unwrap();
    std::fs::write(ctx.join("msg.txt"), "from the context\n").unwrap();
    std::fs::write(ctx.join("dir/sub/x"), "x\n").unwrap();
    std::fs::write(ctx.join("dir/ignored.log"), "must not be copied\n").unwrap();
    std::fs::write(ctx.join(".dockerignore"), "**/*.log\n").unwrap();
    let inner = env.path("inner");
    std::fs::create_dir_all(&inner).unwrap();
    std::fs::write(inner.join("inner.txt"), "from the archive\n").unwrap();
    let st = std::process::Command::new("tar")
        .arg("-C")
        .arg(&inner)
        .arg("-cf")
        .arg(ctx.join("arch.tar"))
        .arg("inner.txt")
        .status()
        .unwrap();
    assert!(st.success());
    ctx
}

#[test]
fn build_every_instruction_and_run_it() {
    let env = Env::new("build-all");
    busybox_image(&env);
    let ctx = context(&env);
    let o = env.cmd("build").args(["-t", "demo:1"]).arg(&ctx).ok();
    let r = o.record();
    assert!(o.stderr.contains("Step 1/18 : FROM busybox"), "{o}");
    // the image runs and its CMD prints what the Dockerfile put there
    let run = env.cmd("run").arg("demo:1").ok();
    assert_eq!(
        run.stdout,
        "from the context\nversion 1\nexec-form\nfrom the archive\n"
    );
    // history: one row per instruction after FROM, on top of busybox
    let h = env.records("history", &["demo:1"]);
    assert_eq!(h.len(), 17 + 1, "{h:#?}");
    let by: Vec<String> = h
        .iter()
        .map(|r| r["created_by"].as_str().unwrap_or("").to_string())
        .collect();
    assert!(by[0].starts_with("/bin/sh -c #(nop)  CMD"), "{by:?}");
    assert!(
        by.iter().any(|b| b
            == "|1 VERSION=1 /bin/sh -c echo \"version $VERSION\" >     version &&     cat msg.txt"
            || b.starts_with("|1 VERSION=1 /bin/sh -c echo")),
        "{by:?}"
    );
    assert!(
        by.iter().any(|b| b == "/bin/sh -c #(nop) WORKDIR /app"),
        "{by:?}"
    );
    assert!(by.iter().any(|b| b.starts_with("/bin/sh -c #(nop) ADD file:") && b.ends_with(" in /unpacked/ ")), "{by:?}");
    // empty layers for metadata steps
    let empty = h.iter().filter(|r| r["empty_layer"] == true).count();
    assert_eq!(empty, 11, "{by:?}");
    let i = &env.records("inspect", &["demo:1"])[0];
    let cfg = &i["effective_config"];
    assert_eq!(cfg["Labels"]["org.example.name"], "demo");
    assert_eq!(cfg["ExposedPorts"], serde_json::json!({"8080/tcp": {}}));
    assert_eq!(cfg["Volumes"], serde_json::json!({"/data": {}}));
    assert_eq!(cfg["WorkingDir"], "/app");
    assert_eq!(cfg["StopSignal"], "SIGTERM");
    assert!(cfg["Env"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e == "GREETING=hello there"));
    // .dockerignore and --chown
    let o = env
        .cmd("run")
        .args([
            "--entrypoint",
            "",
            "demo:1",
            "sh",
            "-c",
            "ls /app/dir; stat -c '%u:%g' /owned",
        ])
        .ok();
    assert_eq!(o.stdout, "sub\n65534:65534\n", "{o}");
    // no build container is left behind
    assert_eq!(ps_all(&env).len(), 2, "only the two run containers");
    let _ = r;
}

#[test]
fn cache_reuses_and_invalidates() {
    let env = Env::new("build-cache");
    busybox_image(&env);
    let ctx = context(&env);
    let first = env.cmd("build").arg(&ctx).ok().record();
    let t = Instant::now();
    let again = env.cmd("build").arg(&ctx).ok();
    let took = t.elapsed();
    let again = again.record();
    assert_eq!(again["layer"], first["layer"]);
    assert_eq!(again["cached"], 17, "every step after FROM is reused");
    assert!(
        took < Duration::from_secs(1),
        "a cached rebuild took {took:?}"
    );
    // change a COPY source: that step and everything after it rebuild
    std::fs::write(ctx.join("dir/sub/x"), "changed\n").unwrap();
    let o = env.cmd("build").arg(&ctx).ok();
    let changed = o.record();
    assert_ne!(changed["layer"], first["layer"]);
    assert_eq!(
        changed["cached"], 4,
        "ARG, ENV, WORKDIR and the first COPY are reused\n{o}"
    );
    // --no-cache reuses nothing
    let nc = env.cmd("build").arg("--no-cache").arg(&ctx).ok().record();
    assert_eq!(nc["cached"], 0);
}

#[test]
fn failing_step_names_its_line_and_leaves_nothing() {
    let env = Env::new("build-fail");
    busybox_image(&env);
    let ctx = env.path("ctx");
    std::fs::create_dir_all(&ctx).unwrap();
    std::fs::write(
        ctx.join("Dockerfile"),
        "FROM busybox\nENV A=1\n\nRUN echo partial > /partial && exit 7\nCMD [\"true\"]\n",
    )
    .unwrap();
    env.cmd("images").ok();
    let layers_before = std::fs::read_dir(env.root.join("layers")).unwrap().count();
    let o = env.cmd("build").arg(&ctx).fails(1);
    assert!(o.stderr.contains("line 4"), "{o}");
    assert!(o.stderr.contains("non-zero code: 7"), "{o}");
    assert!(o.stdout.is_empty());
    assert!(ps_all(&env).is_empty(), "a build container was left behind");
    // only the complete ENV layer may stay (as docker keeps it for the cache)
    let layers_after = std::fs::read_dir(env.root.join("layers")).unwrap().count();
    assert!(
        layers_after <= layers_before + 1,
        "{layers_before} -> {layers_after}"
    );
    assert_eq!(std::fs::read_dir(env.root.join("tmp")).unwrap().count(), 0);
    assert!(crate::harness::leftovers(&env).is_empty());
    // and a bad instruction is refused before anything runs
    std::fs::write(ctx.join("Dockerfile"), "FROM busybox\nFROBNICATE x\n").unwrap();
    let o = env.cmd("build").arg(&ctx).fails(1);
    assert!(o.stderr.contains("line 2"), "{o}");
    let _ = s;
}

#[test]
fn from_scratch() {
    let env = Env::new("build-scratch");
    let ctx = env.path("ctx");
    std::fs::create_dir_all(&ctx).unwrap();
    std::fs::copy("/bin/busybox", ctx.join("busybox")).unwrap();
    std::fs::write(ctx.join("Dockerfile"), "FROM scratch\nCOPY busybox /bin/busybox\nCMD [\"/bin/busybox\", \"echo\", \"from scratch\"]\n").unwrap();
    env.cmd("build").args(["-t", "tiny"]).arg(&ctx).ok();
    let o = env.cmd("run").arg("tiny").ok();
    assert_eq!(o.stdout, "from scratch\n");
    let h = env.records("history", &["tiny"]);
    assert_eq!(h.len(), 2);
    assert!(h[1]["parent"].is_null());
}
