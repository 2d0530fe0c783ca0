//! `cairn fsck`: silent on a sound store; one line naming each damaged
//! object; `--repair` moves the broken aside and keeps the sound running.

use crate::harness::{busybox_image, s, Env};
use serde_json::Value;
use std::fs;
use std::path::PathBuf;

/// A store holding `busybox` (layer-unpack: a tar-split), `gz:1` (load of
/// a gzip archive: a blob kept as received, an image config), `app:1`
/// (commit on busybox) and `tiny:1` (build on busybox).
struct Images {
    env: Env,
    busybox: String,
    gz: String,
    app: String,
}

fn images(name: &str) -> Images {
    let env = Env::new(name);
    let busybox = busybox_image(&env);
    let peer = Env::new(&format!("{name}-peer"));
    let id = busybox_image(&peer);
    peer.cmd("tag").args([&id, "gz:1"]).ok();
    let archive = env.path("gz.tar");
    peer.cmd("save")
        .args(["--compress", "gzip", "-o"])
        .arg(&archive)
        .arg("gz:1")
        .ok();
    let loaded = env.cmd("load").arg(&archive).ok().record();
    let gz = s(&loaded, "layer").to_string();
    let c = env
        .cmd("union-mount")
        .args(["--no-mount", "busybox", "--", "sh", "-c", "echo hi > /hi"])
        .ok()
        .record();
    let container = s(&c, "container").to_string();
    env.cmd("isolate").arg(&container).ok();
    let app = env.cmd("commit").args([&container, "app:1"]).ok().record();
    let app = s(&app, "layer").to_string();
    env.cmd("rm").arg(&container).ok();
    let ctx = env.path("ctx");
    fs::create_dir_all(&ctx).unwrap();
    fs::write(
        ctx.join("Dockerfile"),
        "FROM busybox\nRUN echo built > /b\n",
    )
    .unwrap();
    env.cmd("build").args(["-t", "tiny:1"]).arg(&ctx).ok();
    Images {
        env,
        busybox,
        gz,
        app,
    }
}

fn layer_dir(env: &Env, id: &str) -> PathBuf {
    env.root
        .join("layers")
        .join(id.trim_start_matches("sha256:"))
}

fn blob(env: &Env, digest: &str) -> PathBuf {
    env.root
        .join("blobs/sha256")
        .join(digest.trim_start_matches("sha256:"))
}

fn layer_json(env: &Env, id: &str) -> Value {
    serde_json::from_slice(&fs::read(layer_dir(env, id).join("layer.json")).unwrap()).unwrap()
}

fn flip_last_byte(p: &std::path::Path) {
    let mut data = fs::read(p).unwrap();
    let n = data.len() - 1;
    data[n] ^= 0x20;
    fs::write(p, data).unwrap();
}

/// fsck fails with exactly one line, which starts with `prefix` and
/// contains `words`.
fn one_line(env: &Env, prefix: &str, words: &str) {
    let o = env.cmd("fsck").fails(1);
    let lines: Vec<&str> = o.stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{o}");
    assert!(lines[0].starts_with(prefix), "{o}");
    assert!(lines[0].contains(words), "{o}");
}

/// `--repair` mends the store: fsck then passes, and the images named
/// still run.
fn repaired(env: &Env, running: &[&str]) -> String {
    let o = env.cmd("fsck").arg("--repair").ok();
    assert!(
        o.stdout.lines().count() > 1,
        "the finding, then what was done\n{o}"
    );
    let again = env.cmd("fsck").ok();
    assert_eq!(again.stdout, "", "{again}");
    for image in running {
        env.cmd("run").args([image, "--", "true"]).ok();
    }
    o.stdout
}

#[test]
fn a_sound_store_passes_silently_and_repair_changes_nothing() {
    let i = images("fsck-sound");
    let o = i.env.cmd("fsck").ok();
    assert_eq!((o.stdout.as_str(), o.stderr.as_str()), ("", ""), "{o}");
    let before = i.env.snapshot();
    let r = i.env.cmd("fsck").arg("--repair").ok();
    assert_eq!(r.stdout, "", "{r}");
    for args in [&["--format", "json"][..], &["--repair", "--format", "json"]] {
        let o = i.env.cmd("fsck").args(args).ok();
        assert_eq!((o.stdout.as_str(), o.stderr.as_str()), ("", ""), "{o}");
    }
    assert_eq!(i.env.snapshot(), before);
}

#[test]
fn a_flipped_byte_in_a_kept_blob_drops_its_image_only() {
    let i = images("fsck-blob");
    let digest = layer_info_blob(&i.env, &i.gz);
    flip_last_byte(&blob(&i.env, &digest));
    one_line(&i.env, &format!("blob {digest}: content hashes to"), "");
    let out = repaired(&i.env, &["busybox", "app:1", "tiny:1"]);
    assert!(out.contains("untagged gz:1"), "{out}");
    assert!(i
        .env
        .root
        .join("lost+found")
        .join(format!("blob-{}", &digest[7..]))
        .is_file());
    assert!(!layer_dir(&i.env, &i.gz).exists());
}

#[test]
fn a_flipped_byte_in_a_rebuildable_blob_keeps_the_layer() {
    let i = images("fsck-rebuildable");
    let digest = layer_info_blob(&i.env, &i.busybox);
    flip_last_byte(&blob(&i.env, &digest));
    one_line(&i.env, &format!("blob {digest}:"), "content hashes to");
    // the same finding as a record, then mended
    let json = |args: &[&str], code: i32| -> Vec<serde_json::Map<String, Value>> {
        let c = i.env.cmd("fsck").args(["--format", "json"]).args(args);
        let o = if code == 0 { c.ok() } else { c.fails(code) };
        o.records()
    };
    let found = json(&[], 1);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        (
            s(&found[0], "kind"),
            s(&found[0], "id"),
            s(&found[0], "problem")
        ),
        ("blob", digest.as_str(), "content")
    );
    assert!(s(&found[0], "detail").starts_with("content hashes to"));
    assert!(found[0].get("repaired").is_none());
    let mended = json(&["--repair"], 0);
    assert_eq!(mended.len(), 1, "{mended:?}");
    assert_eq!(mended[0]["repaired"], Value::Bool(true));
    assert!(json(&[], 0).is_empty());
    for image in ["busybox", "app:1", "gz:1"] {
        i.env.cmd("run").args([image, "--", "true"]).ok();
    }
    // the tar-split rebuilds it when an image needs it again
    i.env.cmd("save").args(["-o", "b.tar", "busybox"]).ok();
    assert!(blob(&i.env, &digest).is_file());
    i.env.cmd("fsck").ok();
}

fn layer_info_blob(env: &Env, id: &str) -> String {
    let info: Value =
        serde_json::from_slice(&fs::read(layer_dir(env, id).join("info.json")).unwrap()).unwrap();
    info["blob"]["digest"].as_str().unwrap().to_string()
}

#[test]
fn a_changed_changeset_file_names_its_layer() {
    let i = images("fsck-changeset");
    let c = i
        .env
        .cmd("union-mount")
        .args(["--no-mount", "app:1", "--", "true"])
        .ok()
        .record();
    let container = s(&c, "container").to_string();
    flip_last_byte(&layer_dir(&i.env, &i.busybox).join("diff/etc/passwd"));
    one_line(
        &i.env,
        &format!("layer {}: its changeset hashes to", i.busybox),
        "not to its diff_id",
    );
    let out = repaired(&i.env, &["gz:1"]);
    for tag in ["busybox:latest", "app:1", "tiny:1"] {
        assert!(out.contains(&format!("untagged {tag}")), "{out}");
    }
    assert!(
        !layer_dir(&i.env, &i.app).exists(),
        "the layers above go too"
    );
    assert!(
        out.contains(&format!("moved container {container} aside")),
        "{out}"
    );
    let aside = i.env.root.join("lost+found");
    assert!(aside.join(format!("container-{container}")).is_dir());
}

#[test]
fn an_edited_parent_names_the_layer_and_drops_what_stands_on_it() {
    let i = images("fsck-parent");
    let p = layer_dir(&i.env, &i.app).join("layer.json");
    let mut meta = layer_json(&i.env, &i.app);
    meta["parent"] = Value::String(i.gz.clone());
    fs::write(&p, serde_json::to_vec(&meta).unwrap()).unwrap();
    one_line(
        &i.env,
        &format!("layer {}: layer.json hashes to", i.app),
        "not to the ID",
    );
    let out = repaired(&i.env, &["busybox", "gz:1", "tiny:1"]);
    assert!(out.contains("untagged app:1"), "{out}");
}

#[test]
fn a_missing_blob_is_named_with_what_needs_it() {
    let i = images("fsck-missing");
    let config = layer_json(&i.env, &i.gz)["image_config"]
        .as_str()
        .unwrap()
        .to_string();
    fs::remove_file(blob(&i.env, &config)).unwrap();
    // busybox, unpacked from the same tar, has the same config: the first
    // tag in the index that needs it is named
    one_line(
        &i.env,
        &format!("blob {config}: missing (needed by tag busybox:latest)"),
        "",
    );
    // the layers are sound: their tags get their documents written again
    let out = repaired(&i.env, &["busybox", "gz:1", "app:1", "tiny:1"]);
    for tag in ["busybox:latest", "gz:1"] {
        assert!(out.contains(&format!("manifest of {tag} again")), "{out}");
    }
    assert!(!out.contains("untagged") && !out.contains("aside"), "{out}");
}

#[test]
fn a_dangling_tag_is_named_and_dropped() {
    let i = images("fsck-dangling");
    i.env.cmd("tag").args([&i.busybox, "dangling:1"]).ok();
    let p = i.env.root.join("index.json");
    let gone = format!("sha256:{}", "0".repeat(64));
    let text = fs::read_to_string(&p).unwrap();
    let mut idx: Value = serde_json::from_str(&text).unwrap();
    for d in idx["manifests"].as_array_mut().unwrap() {
        if d["annotations"]["org.opencontainers.image.ref.name"] == "dangling:1" {
            d["annotations"]["io.cairn.layer"] = Value::String(gone.clone());
        }
    }
    fs::write(&p, serde_json::to_vec(&idx).unwrap()).unwrap();
    one_line(
        &i.env,
        "tag dangling:1: ",
        &format!("its layer {gone} is missing"),
    );
    let out = repaired(&i.env, &["busybox", "gz:1", "app:1", "tiny:1"]);
    assert_eq!(
        out,
        format!("tag dangling:1: its layer {gone} is missing\nuntagged dangling:1\n")
    );
}

/// The layer the image ID prefix `prefix` names, as `inspect` resolves it.
fn layer_of(env: &Env, prefix: &str) -> String {
    s(&env.cmd("inspect").arg(prefix).ok().record(), "layer").to_string()
}

/// Every layer tops an image that docker's image ID names: the writers
/// keep `image-ids.json` (layer -> image ID) up to date, a prefix of an
/// image ID resolves among more than a hundred images, readers do without
/// the file, and fsck checks it and builds it again.
#[test]
fn image_id_prefixes_resolve_through_the_index_that_fsck_checks() {
    let i = images("fsck-image-ids");
    let env = &i.env;
    let ctx = env.path("labels");
    fs::create_dir_all(&ctx).unwrap();
    let steps: String = (0..120).map(|n| format!("LABEL step={n}\n")).collect();
    fs::write(ctx.join("Dockerfile"), format!("FROM scratch\n{steps}")).unwrap();
    env.cmd("build").args(["-t", "labels:1"]).arg(&ctx).ok();
    let file = env.root.join("image-ids.json");
    let read = || -> std::collections::BTreeMap<String, String> {
        serde_json::from_slice(&fs::read(&file).unwrap()).unwrap()
    };
    let index = read();
    let layers = fs::read_dir(env.root.join("layers")).unwrap().count();
    assert!(layers > 120, "{layers}");
    assert_eq!(index.len(), layers);
    let all = env
        .cmd("images")
        .args(["-a", "--format", "json"])
        .ok()
        .records();
    assert_eq!(all.len(), layers);
    for rec in all.iter().step_by(50) {
        let (layer, id) = (s(rec, "layer"), s(rec, "image_id"));
        assert_eq!(index[layer], id);
        assert_eq!(layer_of(env, &id[7..19]), layer);
    }
    let o = env.cmd("fsck").ok();
    assert_eq!(o.stdout, "", "{o}");
    // Without the file, readers compute; the next writer builds it again.
    fs::remove_file(&file).unwrap();
    let (layer, id) = (s(&all[7], "layer"), s(&all[7], "image_id"));
    assert_eq!(layer_of(env, &id[7..19]), layer);
    assert!(!file.exists(), "a reader wrote the index");
    env.cmd("fsck").ok();
    env.cmd("build").args(["-t", "labels:1"]).arg(&ctx).ok();
    assert_eq!(read(), index);
    // A wrong entry is named and the file built again.
    let mut wrong = index.clone();
    let right = wrong.insert(layer.to_string(), format!("sha256:{}", "0".repeat(64)));
    fs::write(&file, serde_json::to_vec(&wrong).unwrap()).unwrap();
    one_line(env, "index image-ids.json: ", &format!("layer {layer}"));
    repaired(env, &["busybox", "app:1"]);
    assert_eq!(read()[layer], right.unwrap());
    assert_eq!(layer_of(env, &id[7..19]), layer);
}

/// A pseudo-random sequence (xorshift), seeded from the clock; the seed is
/// printed with any failure so a run can be repeated.
struct Rng(u64);

impl Rng {
    fn next(&mut self, below: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % below.max(1)
    }
}

/// Run `tool args` on `env`'s store and SIGKILL it after `delay`.
fn killed(env: &Env, tool: &str, args: &[&std::ffi::OsStr], delay: std::time::Duration) {
    let mut child = std::process::Command::new(crate::harness::bin(tool))
        .args(args)
        .env("CAIRN_ROOT", &env.root)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(delay);
    let _ = child.kill();
    child.wait().unwrap();
}

#[test]
fn kill_9_at_random_moments_of_load_unpack_commit_build_and_save_leaves_a_sound_store() {
    use std::ffi::OsStr;
    use std::time::{Duration, Instant};
    // a two-layer gzip archive, and a plain tar of a few megabytes
    let peer = Env::new("fsck-kill-peer");
    let base = busybox_image(&peer);
    let big: Vec<u8> = (0..3u32 << 20)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    let tar = crate::harness::TarBuilder::new()
        .dir("data", 0o755)
        .file("data/a", 0o644, &big[..2 << 20])
        .file("data/b", 0o644, &big[2 << 20..])
        .build();
    let tar_path = peer.path("big.tar");
    fs::write(&tar_path, &tar).unwrap();
    let mid = peer
        .cmd("layer-unpack")
        .arg(&tar_path)
        .args(["--parent", &base])
        .ok()
        .record();
    peer.cmd("tag").args([s(&mid, "layer"), "k:1"]).ok();
    let archive = peer.path("k.tar");
    peer.cmd("save")
        .args(["--compress", "gzip", "-o"])
        .arg(&archive)
        .arg("k:1")
        .ok();
    let seed = seed();
    let mut rng = Rng(seed);
    // how long each tool's last whole run took
    let mut whole: std::collections::HashMap<&str, Duration> = Default::default();
    let mut attempt = |env: &Env, round: usize, tool: &'static str, args: &[&OsStr]| {
        let t = whole.get(tool).copied().unwrap_or(Duration::from_secs(1));
        let delay = Duration::from_micros(rng.next(t.as_micros() as u64 + 1));
        killed(env, tool, args, delay);
        let o = env.cmd("fsck").run();
        assert!(
            o.code == Some(0) && o.stdout.is_empty(),
            "seed {seed}, round {round}: {tool} killed after {delay:?}\n{o}"
        );
        let t = Instant::now();
        env.cmd(tool).args(args).ok();
        whole.insert(tool, t.elapsed());
        env.cmd("fsck").ok();
    };
    for round in 0..3 {
        let env = Env::new(&format!("fsck-kill-{round}"));
        attempt(&env, round, "load", &[archive.as_os_str()]);
        attempt(&env, round, "layer-unpack", &[tar_path.as_os_str()]);
        let c = env
            .cmd("union-mount")
            .args(["--no-mount", "k:1", "--", "sh", "-c", "cat /data/* > /copy"])
            .ok()
            .record();
        let c = s(&c, "container").to_string();
        env.cmd("isolate").arg(&c).ok();
        attempt(&env, round, "commit", &[c.as_ref(), "k:2".as_ref()]);
        let ctx = env.path("ctx");
        fs::create_dir_all(&ctx).unwrap();
        fs::write(ctx.join("f"), b"copied\n").unwrap();
        fs::write(
            ctx.join("Dockerfile"),
            "FROM k:1\nRUN cat /data/* > /built\nCOPY f /f\n",
        )
        .unwrap();
        attempt(
            &env,
            round,
            "build",
            &["-t".as_ref(), "k:3".as_ref(), ctx.as_os_str()],
        );
        env.cmd("run")
            .args(["--rm", "k:3", "--", "sh", "-c", "test -s /built && cat /f"])
            .ok();
        let out = env.path("out.tar");
        attempt(
            &env,
            round,
            "save",
            &["-o".as_ref(), out.as_os_str(), "k:2".as_ref()],
        );
        // the commit that ran whole holds the copy
        env.cmd("run")
            .args(["k:2", "--", "test", "-s", "/copy"])
            .ok();
    }
}

/// A time seed for the kill tests (printed with a failure, to replay it).
fn seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1
}

/// `pull` from a registry this test starts: a two-layer image (busybox and
/// a few megabytes of data, gzip) pulled into a fresh store each round and
/// SIGKILLed twice at random moments of the pull (download, unpack,
/// publish, tagging): fsck passes after each kill, and the rerun succeeds.
#[test]
fn kill_9_at_random_moments_of_pull_leaves_a_sound_store() {
    use crate::registry::{Extras, Registry};
    use std::time::{Duration, Instant};
    let peer = Env::new("fsck-kill-pull-peer");
    let reg = Registry::start(&peer, "reg", Extras::default());
    let base = busybox_image(&peer);
    let big: Vec<u8> = (0..4u32 << 20)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    let tar = crate::harness::TarBuilder::new()
        .dir("data", 0o755)
        .file("data/a", 0o644, &big[..1 << 20])
        .file("data/b", 0o644, &big[1 << 20..])
        .build();
    let top = peer
        .cmd("layer-unpack")
        .args(["--parent", &base])
        .stdin(tar)
        .ok()
        .record();
    let dest = format!("{}/kill/pull:1", reg.host);
    peer.cmd("push").args([s(&top, "layer"), &dest]).ok();
    // how long a whole pull takes, to kill within it
    let timing = Env::new("fsck-kill-pull-timing");
    let t = Instant::now();
    timing.cmd("pull").arg(&dest).ok();
    let whole = t.elapsed().as_micros() as u64 + 1;
    let seed = seed();
    let mut rng = Rng(seed);
    for round in 0..4 {
        let env = Env::new(&format!("fsck-kill-pull-{round}"));
        for kill in 0..2 {
            let delay = Duration::from_micros(rng.next(whole));
            killed(&env, "pull", &[dest.as_ref()], delay);
            let o = env.cmd("fsck").run();
            assert!(
                o.code == Some(0) && o.stdout.is_empty(),
                "seed {seed}, round {round}, kill {kill}: pull killed after {delay:?}\n{o}"
            );
        }
        let rec = env.cmd("pull").arg(&dest).ok().record();
        assert_eq!(rec["diff_ids"].as_array().map(Vec::len), Some(2), "{rec:?}");
        env.cmd("fsck").ok();
    }
}

#[test]
fn a_check_beside_loads_and_removals_reports_nothing() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let env = Env::new("fsck-concurrent");
    busybox_image(&env);
    let peer = Env::new("fsck-concurrent-peer");
    let id = busybox_image(&peer);
    peer.cmd("tag").args([&id, "gz:1"]).ok();
    let archive = env.path("gz.tar");
    peer.cmd("save")
        .args(["--compress", "gzip", "-o"])
        .arg(&archive)
        .arg("gz:1")
        .ok();
    let stop = AtomicBool::new(false);
    /// Stops the writer however the checks end.
    struct Stop<'a>(&'a AtomicBool);
    impl Drop for Stop<'_> {
        fn drop(&mut self) {
            self.0.store(true, Ordering::Relaxed);
        }
    }
    std::thread::scope(|scope| {
        scope.spawn(|| {
            while !stop.load(Ordering::Relaxed) {
                env.cmd("load").arg(&archive).ok();
                env.cmd("rmi").arg("gz:1").ok();
            }
        });
        let _stop = Stop(&stop);
        for _ in 0..6 {
            let o = env.cmd("fsck").run();
            assert!(o.code == Some(0) && o.stdout.is_empty(), "{o}");
        }
    });
    env.cmd("fsck").ok();
}

/// Eight loads of archives sharing their base layer, then eight runs,
/// then four commits, each group all at once: every one succeeds, each
/// image holds what its writer put there, and fsck finds the store sound.
#[test]
fn eight_loads_eight_runs_and_four_commits_at_once_leave_a_sound_store() {
    let peer = Env::new("fsck-many-peer");
    let base = busybox_image(&peer);
    let archives: Vec<PathBuf> = (0..8)
        .map(|i| {
            let tar = crate::harness::TarBuilder::new()
                .file(&format!("mine-{i}"), 0o644, format!("{i}\n").as_bytes())
                .build();
            let top = peer
                .cmd("layer-unpack")
                .args(["--parent", &base])
                .stdin(tar)
                .ok()
                .record();
            let tag = format!("c{i}:1");
            peer.cmd("tag").args([s(&top, "layer"), &tag]).ok();
            let archive = peer.path(&format!("c{i}.tar"));
            let gz = if i % 2 == 0 { "gzip" } else { "none" };
            peer.cmd("save")
                .args(["--compress", gz, "-o"])
                .arg(&archive)
                .arg(&tag)
                .ok();
            archive
        })
        .collect();
    let env = Env::new("fsck-many");
    std::thread::scope(|scope| {
        for a in &archives {
            let env = &env;
            scope.spawn(move || env.cmd("load").arg(a).ok());
        }
    });
    let containers: Vec<String> = std::thread::scope(|scope| {
        let runs: Vec<_> = (0..8)
            .map(|i| {
                let env = &env;
                scope.spawn(move || {
                    let img = format!("c{i}:1");
                    let cmd = format!("cat /mine-{i} > /ran; cat /ran");
                    let o = env.cmd("run").args(["-d", &img, "sh", "-c", &cmd]).ok();
                    o.id()
                })
            })
            .collect();
        runs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for c in &containers {
        env.cmd("wait").arg(c).ok();
    }
    std::thread::scope(|scope| {
        for (i, c) in containers.iter().take(4).enumerate() {
            let env = &env;
            scope.spawn(move || env.cmd("commit").args([c, &format!("done{i}:1")]).ok());
        }
    });
    let o = env.cmd("fsck").run();
    assert!(o.code == Some(0) && o.stdout.is_empty(), "{o}");
    for i in 0..4 {
        let o = env
            .cmd("run")
            .args(["--rm", &format!("done{i}:1"), "cat", "/ran"])
            .ok();
        assert_eq!(o.stdout, format!("{i}\n"), "{o}");
    }
}

/// busybox, a container on it stopped after running `script`, and an
/// untagged layer on busybox nothing stands on: (container, layer).
fn stopped_and_dangling(env: &Env, script: &str) -> (String, String) {
    let base = busybox_image(env);
    let c = env
        .cmd("union-mount")
        .args(["--no-mount", "busybox", "--", "sh", "-c", script])
        .ok()
        .record();
    let stopped = s(&c, "container").to_string();
    env.cmd("isolate").arg(&stopped).ok();
    let tar = crate::harness::TarBuilder::new()
        .file("x", 0o644, b"x")
        .build();
    let dangling = env
        .cmd("layer-unpack")
        .args(["--parent", &base])
        .stdin(tar)
        .ok()
        .record();
    (stopped, s(&dangling, "layer").to_string())
}

#[test]
fn system_prune_removes_what_nothing_references_and_keeps_the_rest() {
    let env = Env::new("prune");
    let (stopped, dangling) = stopped_and_dangling(&env, "echo hi > /hi");
    env.cmd("commit").args([&stopped, "app:1"]).ok();
    let orphan = blob(&env, &sha256_hex(b"orphan"));
    fs::write(&orphan, b"orphan").unwrap();
    // everything is younger than the default ten minutes: nothing goes
    let o = env.cmd("system").arg("prune").ok();
    assert_eq!(o.stdout, "", "{o}");
    let o = env.cmd("system").args(["prune", "--min-age", "0"]).ok();
    let recs = o.records();
    assert_eq!(recs.len(), 2, "{o}");
    assert_eq!(recs[0]["container"], stopped.as_str());
    assert_eq!(recs[0]["removed"], true);
    assert_eq!(recs[1]["deleted"], dangling.as_str());
    // what each removal freed: the container's files, the layer's
    // directory and its blob (each at least a block)
    assert!(recs[0]["reclaimed_bytes"].as_u64().unwrap() >= 4096, "{o}");
    assert!(
        recs[1]["reclaimed_bytes"].as_u64().unwrap() >= 3 * 4096,
        "{o}"
    );
    assert!(!orphan.exists());
    env.cmd("fsck").ok();
    env.cmd("run").args(["app:1", "--", "cat", "/hi"]).ok();
    // --all: every image no container uses goes, tags first
    let o = env
        .cmd("system")
        .args(["prune", "-a", "--min-age", "0"])
        .ok();
    let untagged: Vec<String> = o
        .records()
        .iter()
        .filter_map(|r| Some(r.get("untagged")?.as_str()?.to_string()))
        .collect();
    assert_eq!(untagged, ["app:1", "busybox:latest"], "{o}");
    assert_eq!(fs::read_dir(env.root.join("layers")).unwrap().count(), 0);
    assert_eq!(
        fs::read_dir(env.root.join("blobs/sha256")).unwrap().count(),
        0
    );
    env.cmd("fsck").ok();
}

/// `container prune` removes stopped containers only; `image prune` the
/// dangling images (and with -a the unused ones) only, never a container.
#[test]
fn container_prune_and_image_prune_are_the_two_halves() {
    let env = Env::new("prune-halves");
    let (stopped, dangling) = stopped_and_dangling(&env, "true");
    let o = env.cmd("image").args(["prune", "--min-age", "0"]).ok();
    let recs = o.records();
    assert_eq!(recs.len(), 1, "{o}");
    assert_eq!(recs[0]["deleted"], dangling.as_str());
    // the stopped container is still there, and keeps busybox with -a
    let o = env
        .cmd("image")
        .args(["prune", "-a", "--min-age", "0"])
        .ok();
    assert_eq!(o.stdout, "", "{o}");
    env.cmd("inspect").arg(&stopped).ok();
    // what docker prints on a terminal
    let said = crate::habits::on_a_pty(&env, "container", "prune --min-age 0").replace('\r', "");
    let (head, total) = said.split_once("\n\nTotal reclaimed space: ").unwrap();
    assert_eq!(head, format!("Deleted Containers:\n{stopped}"), "{said}");
    assert!(total.ends_with("kB\n") || total.ends_with("MB\n"), "{said}");
    env.cmd("inspect").arg("busybox").ok();
    let said = crate::habits::on_a_pty(&env, "container", "prune --min-age 0");
    assert_eq!(said, "Total reclaimed space: 0B\r\n");
    env.cmd("fsck").ok();
}

fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    format!("{:x}", sha2::Sha256::digest(data))
}
