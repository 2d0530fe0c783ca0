//! `cairn pull` against real registries: Debian's docker-registry
//! (distribution 2.8) started by the test on 127.0.0.1 with its storage
//! in the test's directory, filled by skopeo, stopped when the test ends.

use crate::fixtures::peers;
use crate::harness::{s, wait_for, Env};
use serde_json::{json, Value};
use std::fs;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A registry this test started; killed (only it) when dropped.
pub(crate) struct Registry {
    child: Child,
    pub(crate) host: String,
    storage: PathBuf,
    /// Its config file and its directory, to start it again.
    config: PathBuf,
    dir: PathBuf,
    /// For a TLS registry: the directory with its CA (`ca.crt`).
    certs: Option<PathBuf>,
}

/// What a second registry adds to the plain one.
#[derive(Default)]
pub(crate) struct Extras {
    tls: bool,
    /// `user:password` for htpasswd Basic auth.
    htpasswd: Option<(&'static str, &'static str)>,
    /// distribution's token auth: the issuer's realm and certificate.
    token: Option<(String, PathBuf)>,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn run_ok(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A CA and a server certificate for 127.0.0.1 it signs, made by openssl:
/// the CA (`certs/ca.crt`, all a client needs) and the server's pair apart.
fn make_cert(dir: &Path) -> (PathBuf, PathBuf) {
    let (certs, keys) = (dir.join("certs"), dir.join("key"));
    fs::create_dir_all(&certs).unwrap();
    fs::create_dir_all(&keys).unwrap();
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    let (ca, ca_key) = (certs.join("ca.crt"), keys.join("ca.key"));
    let (crt, key, csr) = (
        keys.join("server.crt"),
        keys.join("server.key"),
        keys.join("server.csr"),
    );
    let ext = keys.join("san.ext");
    fs::write(&ext, "subjectAltName=IP:127.0.0.1,DNS:localhost\n").unwrap();
    run_ok(
        Command::new("openssl")
            .args(["req", "-x509", "-days", "2", "-subj", "/CN=cairn test CA"])
            .args(ec)
            .arg("-keyout")
            .arg(&ca_key)
            .arg("-out")
            .arg(&ca),
    );
    run_ok(
        Command::new("openssl")
            .args(["req", "-subj", "/CN=127.0.0.1"])
            .args(ec)
            .arg("-keyout")
            .arg(&key)
            .arg("-out")
            .arg(&csr),
    );
    run_ok(
        Command::new("openssl")
            .args(["x509", "-req", "-days", "2", "-CAcreateserial"])
            .arg("-in")
            .arg(&csr)
            .arg("-CA")
            .arg(&ca)
            .arg("-CAkey")
            .arg(&ca_key)
            .arg("-extfile")
            .arg(&ext)
            .arg("-out")
            .arg(&crt),
    );
    (crt, key)
}

impl Registry {
    pub(crate) fn start(env: &Env, name: &str, extras: Extras) -> Registry {
        let dir = env.path(name);
        let storage = dir.join("storage");
        fs::create_dir_all(&storage).unwrap();
        let port = free_port();
        let host = format!("127.0.0.1:{port}");
        let mut http = json!({"addr": host});
        let mut certs = None;
        if extras.tls {
            let (crt, key) = make_cert(&dir);
            http["tls"] = json!({"certificate": crt, "key": key});
            certs = Some(dir.join("certs"));
        }
        let mut config = json!({
            "version": 0.1,
            "log": {"level": "warn"},
            "storage": {"filesystem": {"rootdirectory": storage}, "delete": {"enabled": true}},
            "http": http,
        });
        if let Some((user, pass)) = extras.htpasswd {
            let line = run_ok(Command::new("htpasswd").args(["-Bbn", user, pass]));
            let p = dir.join("htpasswd");
            fs::write(&p, line.trim()).unwrap();
            config["auth"] = json!({"htpasswd": {"realm": "cairn-test", "path": p}});
        }
        if let Some((realm, cert)) = &extras.token {
            config["auth"] = json!({"token": {"realm": realm, "service": issuer::SERVICE,
                "issuer": issuer::ISSUER, "rootcertbundle": cert}});
        }
        // JSON is YAML
        let cfg = dir.join("config.yml");
        fs::write(&cfg, serde_json::to_vec_pretty(&config).unwrap()).unwrap();
        let mut r = Registry {
            child: Self::spawn(&cfg, &dir),
            host,
            storage,
            config: cfg,
            dir,
            certs,
        };
        r.wait();
        r
    }

    fn spawn(config: &Path, dir: &Path) -> Child {
        let log = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join("registry.log"))
            .unwrap();
        Command::new("docker-registry")
            .arg("serve")
            .arg(config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("docker-registry is installed (apt-get install docker-registry)")
    }

    fn wait(&mut self) {
        wait_for("the registry to listen", Duration::from_secs(20), || {
            TcpStream::connect(&self.host).is_ok()
        });
    }

    /// SIGKILL it (this process only).
    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Start it again on the same port and storage.
    fn restart(&mut self) {
        self.child = Self::spawn(&self.config, &self.dir);
        self.wait();
    }

    /// `skopeo copy SRC docker://HOST/DEST` with `args`.
    fn push(&self, src: &str, dest: &str, args: &[&str]) {
        let mut c = Command::new("skopeo");
        c.args(["copy", "--quiet"]).args(args);
        match &self.certs {
            Some(d) => c.arg("--dest-cert-dir").arg(d),
            None => c.arg("--dest-tls-verify=false"),
        };
        run_ok(c.arg(src).arg(format!("docker://{}/{dest}", self.host)));
    }

    /// `skopeo inspect [--config] --raw` of `name` in this registry.
    fn inspect(&self, name: &str, args: &[&str]) -> Vec<u8> {
        let mut c = Command::new("skopeo");
        c.arg("inspect").args(args);
        match &self.certs {
            Some(d) => c.arg("--cert-dir").arg(d),
            None => c.arg("--tls-verify=false"),
        };
        run_ok(c.arg(format!("docker://{}/{name}", self.host))).into_bytes()
    }

    /// Where the registry keeps a blob's bytes.
    fn blob_file(&self, digest: &str) -> PathBuf {
        let hex = digest.strip_prefix("sha256:").unwrap();
        self.storage
            .join("docker/registry/v2/blobs/sha256")
            .join(&hex[..2])
            .join(hex)
            .join("data")
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn sha256(data: &[u8]) -> String {
    use sha2::Digest;
    format!("sha256:{:x}", sha2::Sha256::digest(data))
}

/// The umoci-made busybox layout of the peers fixtures.
fn busybox_layout() -> String {
    format!("oci:{}:busybox:latest", peers().join("oci").display())
}

fn pull(env: &Env, reference: &str) -> serde_json::Map<String, Value> {
    env.cmd("pull").arg(reference).ok().record()
}

fn manifest_of(reg: &Registry, name: &str) -> Value {
    serde_json::from_slice(&reg.inspect(name, &["--raw"])).unwrap()
}

#[test]
fn pulled_images_keep_their_ids_and_run() {
    let env = Env::new("registry-pull");
    let reg = Registry::start(&env, "reg", Extras::default());
    let layout = busybox_layout();
    // zstd first: skopeo would reuse the gzip blobs the registry has
    reg.push(&layout, "team/bb:zstd", &["--dest-compress-format", "zstd"]);
    reg.push(&layout, "bb:oci", &[]);
    reg.push(&layout, "bb:docker", &["--format", "v2s2"]);
    let layer_types = |name: &str| -> Vec<String> {
        let m = manifest_of(&reg, name);
        let l = m["layers"].as_array().unwrap();
        l.iter()
            .map(|l| l["mediaType"].as_str().unwrap().to_string())
            .collect()
    };
    assert!(layer_types("team/bb:zstd")[0].ends_with("tar+zstd"));
    assert!(layer_types("bb:oci")[0].ends_with("v1.tar+gzip"));
    assert!(layer_types("bb:docker")[0].ends_with("rootfs.diff.tar.gzip"));
    for name in ["bb:oci", "bb:docker", "team/bb:zstd"] {
        let reference = format!("{}/{name}", reg.host);
        let rec = pull(&env, &reference);
        let config = reg.inspect(name, &["--config", "--raw"]);
        assert_eq!(s(&rec, "image_id"), sha256(&config), "{name}: the image ID");
        let manifest = reg.inspect(name, &["--raw"]);
        assert_eq!(s(&rec, "digest"), sha256(&manifest), "{name}");
        assert_eq!(s(&rec, "manifest"), sha256(&manifest), "{name}");
        assert_eq!(s(&rec, "tag"), reference);
        let out = env
            .cmd("run")
            .args(["--rm", &reference, "--", "echo", "hi"])
            .ok();
        assert_eq!(out.stdout.trim(), "hi", "{name}");
        // save writes the config as the registry had it: the same image ID
        let tar = env.path("saved.tar");
        let saved = env
            .cmd("save")
            .arg("-o")
            .arg(&tar)
            .arg(&reference)
            .ok()
            .record();
        assert_eq!(s(&saved, "image_id"), s(&rec, "image_id"), "{name}: save");
    }
    // zstd layers unpack to the same layers as gzip ones
    let d = |n: &str| pull(&env, &format!("{}/{n}", reg.host))["diff_ids"].clone();
    assert_eq!(d("bb:oci"), d("team/bb:zstd"));

    // pinned by digest: the same image, no tag
    let m = reg.inspect("bb:oci", &["--raw"]);
    let pinned = format!("{}/bb@{}", reg.host, sha256(&m));
    let rec = pull(&env, &pinned);
    assert!(rec.get("tag").is_none(), "{rec:?}");
    assert_eq!(s(&rec, "digest"), sha256(&m));

    // a pull again fetches nothing: the registry's layer blobs can go
    let before = env.snapshot();
    for l in manifest_of(&reg, "bb:oci")["layers"].as_array().unwrap() {
        fs::write(reg.blob_file(l["digest"].as_str().unwrap()), b"gone").unwrap();
    }
    pull(&env, &format!("{}/bb:oci", reg.host));
    assert_eq!(env.snapshot(), before, "a second pull changes nothing");
}

/// An OCI layout holding an index of two platforms of the busybox image:
/// the host's (amd64) and an arm64 one whose config differs.
fn multi_platform_layout(env: &Env) -> (String, String, String) {
    let src = peers().join("oci");
    let dir = env.path("multi");
    let blobs = dir.join("blobs/sha256");
    fs::create_dir_all(&blobs).unwrap();
    for e in fs::read_dir(src.join("blobs/sha256")).unwrap() {
        let e = e.unwrap();
        fs::copy(e.path(), blobs.join(e.file_name())).unwrap();
    }
    fs::copy(src.join("oci-layout"), dir.join("oci-layout")).unwrap();
    let put = |data: &[u8]| {
        let d = sha256(data);
        fs::write(blobs.join(&d[7..]), data).unwrap();
        d
    };
    let index: Value = serde_json::from_slice(&fs::read(src.join("index.json")).unwrap()).unwrap();
    let mdesc = index["manifests"][0].clone();
    let read = |d: &str| fs::read(blobs.join(&d[7..])).unwrap();
    let manifest: Value = serde_json::from_slice(&read(mdesc["digest"].as_str().unwrap())).unwrap();
    let config = read(manifest["config"]["digest"].as_str().unwrap());
    let mut arm: Value = serde_json::from_slice(&config).unwrap();
    arm["architecture"] = json!("arm64");
    let arm = serde_json::to_vec(&arm).unwrap();
    let mut arm_manifest = manifest.clone();
    arm_manifest["config"]["digest"] = json!(put(&arm));
    arm_manifest["config"]["size"] = json!(arm.len());
    let arm_manifest = serde_json::to_vec(&arm_manifest).unwrap();
    let desc = |d: String, size: usize, arch: &str| {
        json!({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": d,
               "size": size, "platform": {"os": "linux", "architecture": arch}})
    };
    let nested = json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [desc(put(&arm_manifest), arm_manifest.len(), "arm64"),
                      desc(mdesc["digest"].as_str().unwrap().into(), mdesc["size"].as_u64().unwrap() as usize, "amd64")]});
    let nested = serde_json::to_vec(&nested).unwrap();
    let top = json!({"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.index.v1+json", "digest": put(&nested),
        "size": nested.len(), "annotations": {"org.opencontainers.image.ref.name": "multi"}}]});
    fs::write(dir.join("index.json"), serde_json::to_vec(&top).unwrap()).unwrap();
    (
        format!("oci:{}:multi", dir.display()),
        sha256(&config),
        sha256(&arm),
    )
}

#[test]
fn an_index_gives_the_platform_asked_for() {
    let env = Env::new("registry-index");
    let reg = Registry::start(&env, "reg", Extras::default());
    let (layout, amd64, arm64) = multi_platform_layout(&env);
    reg.push(&layout, "multi:1", &["--all"]);
    let index = reg.inspect("multi:1", &["--raw"]);
    let reference = format!("{}/multi:1", reg.host);
    let host_arch = if cfg!(target_arch = "x86_64") {
        amd64
    } else {
        arm64.clone()
    };
    let rec = pull(&env, &reference);
    assert_eq!(s(&rec, "image_id"), host_arch, "this machine's platform");
    assert_eq!(s(&rec, "digest"), sha256(&index), "the index's digest");
    assert_ne!(s(&rec, "manifest"), s(&rec, "digest"));
    let rec = env
        .cmd("pull")
        .args(["--platform", "linux/arm64", &reference])
        .ok()
        .record();
    assert_eq!(s(&rec, "image_id"), arm64);
    let e = env
        .cmd("pull")
        .args(["--platform", "linux/s390x", &reference])
        .fails(1);
    assert!(
        e.stderr.contains("no image for linux/s390x"),
        "{}",
        e.stderr
    );
    assert!(
        e.stderr.contains("linux/arm64, linux/amd64"),
        "{}",
        e.stderr
    );
    let e = env
        .cmd("pull")
        .args(["--platform", "linux", &reference])
        .fails(2);
    assert!(e.stderr.contains("OS/ARCH"), "{}", e.stderr);

    // the same as a docker manifest list (skopeo converts the index)
    reg.push(&layout, "list:1", &["--all", "--format", "v2s2"]);
    let list = manifest_of(&reg, "list:1");
    assert_eq!(
        list["mediaType"],
        "application/vnd.docker.distribution.manifest.list.v2+json"
    );
    let reference = format!("{}/list:1", reg.host);
    let rec = env
        .cmd("pull")
        .args(["--platform", "linux/arm64", &reference])
        .ok()
        .record();
    assert_eq!(s(&rec, "image_id"), arm64);
    assert_eq!(s(&pull(&env, &reference), "image_id"), host_arch);
}

#[test]
fn a_failed_pull_names_what_failed_and_leaves_the_store_as_it_was() {
    let env = Env::new("registry-faults");
    let reg = Registry::start(&env, "reg", Extras::default());
    // the store holds an image already (one of its own making)
    crate::harness::busybox_image(&env);
    reg.push(&busybox_layout(), "bad:1", &[]);
    let before = env.snapshot();

    // the second layer blob's bytes are not its digest (distribution
    // serves it with the original digest header: only the client's check
    // catches it), so the first layer, published meanwhile, is taken back
    let layer = manifest_of(&reg, "bad:1")["layers"][1]["digest"]
        .as_str()
        .unwrap()
        .to_string();
    let f = reg.blob_file(&layer);
    let mut data = fs::read(&f).unwrap();
    let mid = data.len() / 2;
    data[mid] ^= 0xff;
    fs::write(&f, &data).unwrap();
    let reference = format!("{}/bad:1", reg.host);
    let e = env.cmd("pull").arg(&reference).fails(1);
    assert_eq!(e.stderr.lines().count(), 1, "{}", e.stderr);
    assert!(e.stderr.contains(&reference), "{}", e.stderr);
    assert!(e.stderr.contains(&layer), "names the blob: {}", e.stderr);
    assert_eq!(env.snapshot(), before, "corrupt blob: store unchanged");

    // an unknown tag
    let e = env.cmd("pull").arg(format!("{}/good:2", reg.host)).fails(1);
    assert!(
        e.stderr.contains("good:2") && e.stderr.contains("not found"),
        "{}",
        e.stderr
    );
    assert_eq!(env.snapshot(), before);

    // a registry that is gone
    let host = reg.host.clone();
    drop(reg);
    let e = env.cmd("pull").arg(format!("{host}/bad:1")).fails(1);
    assert!(
        e.stderr.contains("cannot reach the registry"),
        "{}",
        e.stderr
    );
    assert_eq!(e.stderr.lines().count(), 1, "{}", e.stderr);
    assert_eq!(env.snapshot(), before);
}

#[test]
fn a_tls_registry_with_basic_auth_takes_docker_credentials() {
    let env = Env::new("registry-tls-auth");
    let reg = Registry::start(
        &env,
        "reg",
        Extras {
            tls: true,
            htpasswd: Some(("cairn", "s3cret")),
            ..Default::default()
        },
    );
    let certs = reg.certs.clone().unwrap();
    reg.push(
        &busybox_layout(),
        "private:1",
        &["--dest-creds", "cairn:s3cret"],
    );
    let reference = format!("{}/private:1", reg.host);
    let docker_config = env.path("docker");
    fs::create_dir_all(&docker_config).unwrap();
    // no credentials: access denied, and the message says to log in
    let e = env
        .cmd("pull")
        .env("DOCKER_CONFIG", &docker_config)
        .arg("--cert-dir")
        .arg(&certs)
        .arg(&reference)
        .fails(1);
    assert!(
        e.stderr.contains("access denied") && e.stderr.contains("cairn login"),
        "{}",
        e.stderr
    );
    // an unknown CA: refused (no fallback to plain http)
    let e = env
        .cmd("pull")
        .env("DOCKER_CONFIG", &docker_config)
        .arg(&reference)
        .fails(1);
    assert!(
        e.stderr.contains("cannot reach the registry"),
        "{}",
        e.stderr
    );
    let auth = base64_of("cairn:s3cret");
    fs::write(
        docker_config.join("config.json"),
        serde_json::to_vec(&json!({"auths": {reg.host.clone(): {"auth": auth}}})).unwrap(),
    )
    .unwrap();
    let rec = env
        .cmd("pull")
        .env("DOCKER_CONFIG", &docker_config)
        .arg("--cert-dir")
        .arg(&certs)
        .arg(&reference)
        .ok()
        .record();
    let config = reg.inspect_with_creds("private:1");
    assert_eq!(s(&rec, "image_id"), sha256(&config));

    // a credential helper (credsStore) on PATH, asked with the host
    let bin = env.path("helpers");
    fs::create_dir_all(&bin).unwrap();
    let helper = bin.join("docker-credential-cairntest");
    let script = format!(
        "#!/bin/sh\nread s\n[ \"$s\" = {} ] && echo '{{\"Username\":\"cairn\",\"Secret\":\"s3cret\"}}'\n",
        reg.host
    );
    fs::write(&helper, script).unwrap();
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(&helper, fs::Permissions::from_mode(0o755)).unwrap();
    fs::write(
        docker_config.join("config.json"),
        br#"{"auths": {}, "credsStore": "cairntest"}"#,
    )
    .unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    env.cmd("rmi").arg(&reference).ok();
    let rec = env
        .cmd("pull")
        .env("DOCKER_CONFIG", &docker_config)
        .env("PATH", &path)
        .arg("--cert-dir")
        .arg(&certs)
        .arg(&reference)
        .ok()
        .record();
    assert_eq!(s(&rec, "image_id"), sha256(&config));
}

impl Registry {
    fn inspect_with_creds(&self, name: &str) -> Vec<u8> {
        self.inspect(name, &["--creds", "cairn:s3cret", "--config", "--raw"])
    }
}

fn base64_of(s: &str) -> String {
    let out = Command::new("base64")
        .args(["-w0"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(s.as_bytes())?;
            c.wait_with_output()
        })
        .unwrap();
    String::from_utf8(out.stdout).unwrap()
}

#[path = "peers/registry_fake.rs"]
mod fake;

#[test]
fn bearer_tokens_are_fetched_once_and_a_cut_transfer_changes_nothing() {
    let env = Env::new("registry-bearer-cut");
    let layout = peers().join("oci");
    let f = fake::Fake::start(layout.clone());
    let reference = format!("{}/bb:1", f.host);
    crate::harness::busybox_image(&env);
    let before = env.snapshot();

    // every blob is cut halfway: one line naming the reference and blob
    f.cut.store(true, std::sync::atomic::Ordering::Relaxed);
    let e = env.cmd("pull").arg(&reference).fails(1);
    assert_eq!(e.stderr.lines().count(), 1, "{}", e.stderr);
    assert!(e.stderr.contains(&reference), "{}", e.stderr);
    assert!(e.stderr.contains("blob sha256:"), "{}", e.stderr);
    assert_eq!(env.snapshot(), before, "a cut transfer leaves nothing");

    // the same pull afterwards succeeds; one token for the one scope
    f.cut.store(false, std::sync::atomic::Ordering::Relaxed);
    let tokens = f.tokens.load(std::sync::atomic::Ordering::Relaxed);
    let rec = pull(&env, &reference);
    assert_eq!(
        f.tokens.load(std::sync::atomic::Ordering::Relaxed),
        tokens + 1,
        "the token is cached for the run"
    );
    let index: Value =
        serde_json::from_slice(&fs::read(layout.join("index.json")).unwrap()).unwrap();
    let m = index["manifests"][0]["digest"].as_str().unwrap();
    let manifest: Value =
        serde_json::from_slice(&fs::read(layout.join("blobs/sha256").join(&m[7..])).unwrap())
            .unwrap();
    assert_eq!(
        s(&rec, "image_id"),
        manifest["config"]["digest"].as_str().unwrap()
    );
    let out = env
        .cmd("run")
        .args(["--rm", &reference, "--", "echo", "hi"])
        .ok();
    assert_eq!(out.stdout.trim(), "hi");

    // a token that expires during the pull is fetched again
    env.cmd("rmi").arg(&reference).ok();
    f.expire_every.store(2, std::sync::atomic::Ordering::SeqCst);
    let tokens = f.tokens.load(std::sync::atomic::Ordering::SeqCst);
    let again = pull(&env, &reference);
    assert_eq!(s(&again, "image_id"), s(&rec, "image_id"));
    assert!(f.tokens.load(std::sync::atomic::Ordering::SeqCst) > tokens + 1);
}

#[test]
fn login_checks_credentials_then_files_them_as_docker_does() {
    let env = Env::new("registry-login");
    let reg = Registry::start(
        &env,
        "reg",
        Extras {
            tls: true,
            htpasswd: Some(("cairn", "s3cret")),
            ..Default::default()
        },
    );
    let certs = reg.certs.clone().unwrap();
    reg.push(
        &busybox_layout(),
        "private:1",
        &["--dest-creds", "cairn:s3cret"],
    );
    let docker_config = env.path("docker");
    let config = docker_config.join("config.json");
    let login = |pass: &str| {
        env.cmd("login")
            .env("DOCKER_CONFIG", &docker_config)
            .arg("--cert-dir")
            .arg(&certs)
            .args(["-u", "cairn", "--password-stdin", &reg.host])
            .stdin(format!("{pass}\n"))
    };
    // a wrong password: one line, nothing written
    let e = login("wrong").fails(1);
    assert_eq!(e.stderr.lines().count(), 1, "{}", e.stderr);
    assert!(e.stderr.contains("refused"), "{}", e.stderr);
    assert!(!config.exists(), "nothing written");
    // an existing config keeps its other keys
    fs::create_dir_all(&docker_config).unwrap();
    fs::write(&config, br#"{"psFormat": "table {{.ID}}"}"#).unwrap();
    login("s3cret").ok();
    use std::os::unix::fs::PermissionsExt;
    let mode = fs::metadata(&config).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let v: Value = serde_json::from_slice(&fs::read(&config).unwrap()).unwrap();
    assert_eq!(v["psFormat"], "table {{.ID}}");
    assert_eq!(v["auths"][&reg.host]["auth"], base64_of("cairn:s3cret"));
    let reference = format!("{}/private:1", reg.host);
    let pull = || {
        env.cmd("pull")
            .env("DOCKER_CONFIG", &docker_config)
            .arg("--cert-dir")
            .arg(&certs)
            .arg(&reference)
    };
    let rec = pull().ok().record();
    assert_eq!(
        s(&rec, "image_id"),
        sha256(&reg.inspect_with_creds("private:1"))
    );
    // and push, with the same credentials
    let copy = format!("{}/private:copy", reg.host);
    let pushed = env
        .cmd("push")
        .env("DOCKER_CONFIG", &docker_config)
        .arg("--cert-dir")
        .arg(&certs)
        .args([&reference, &copy])
        .ok()
        .record();
    assert_eq!(s(&pushed, "image_id"), s(&rec, "image_id"));
    let creds = ["--creds", "cairn:s3cret", "--config", "--raw"];
    assert_eq!(
        sha256(&reg.inspect("private:copy", &creds)),
        s(&rec, "image_id")
    );
    env.cmd("logout")
        .env("DOCKER_CONFIG", &docker_config)
        .arg(&reg.host)
        .ok();
    let v: Value = serde_json::from_slice(&fs::read(&config).unwrap()).unwrap();
    assert_eq!(v["auths"], json!({}));
    assert_eq!(v["psFormat"], "table {{.ID}}");
    env.cmd("rmi").arg(&reference).ok();
    let e = pull().fails(1);
    assert!(e.stderr.contains("access denied"), "{}", e.stderr);

    // with a credsStore, login and logout go through the helper
    let bin = env.path("helpers");
    fs::create_dir_all(&bin).unwrap();
    let log = env.path("helper.log");
    let helper = bin.join("docker-credential-cairntest");
    let script = format!("#!/bin/sh\necho \"$1 $(cat)\" >> {}\n", log.display());
    fs::write(&helper, script).unwrap();
    fs::set_permissions(&helper, fs::Permissions::from_mode(0o755)).unwrap();
    fs::write(&config, br#"{"credsStore": "cairntest"}"#).unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    login("s3cret").env("PATH", &path).ok();
    env.cmd("logout")
        .env("DOCKER_CONFIG", &docker_config)
        .env("PATH", &path)
        .arg(&reg.host)
        .ok();
    let calls = fs::read_to_string(&log).unwrap();
    let lines: Vec<&str> = calls.lines().collect();
    assert_eq!(lines.len(), 2, "{calls}");
    let stored: Value = serde_json::from_str(lines[0].strip_prefix("store ").unwrap()).unwrap();
    assert_eq!(
        stored,
        json!({"ServerURL": reg.host, "Username": "cairn", "Secret": "s3cret"})
    );
    assert_eq!(lines[1], format!("erase {}", reg.host));
    assert_eq!(
        fs::read(&config).unwrap(),
        br#"{"credsStore": "cairntest"}"#
    );
}

#[test]
fn pushed_images_keep_their_ids_and_pull_back() {
    let env = Env::new("registry-push");
    let reg = Registry::start(&env, "reg", Extras::default());
    crate::harness::busybox_image(&env);
    let dest = format!("{}/team/bb:1", reg.host);
    let push = |args: &[&str]| env.cmd("push").args(args).ok();
    let out = push(&["busybox", &dest]);
    let rec = out.record();
    assert!(out.stderr.contains("2 blob(s) uploaded"), "{}", out.stderr);
    assert_eq!(s(&rec, "ref"), dest);
    let manifest = reg.inspect("team/bb:1", &["--raw"]);
    assert_eq!(s(&rec, "digest"), sha256(&manifest));
    let m: Value = serde_json::from_slice(&manifest).unwrap();
    assert_eq!(m["mediaType"], "application/vnd.oci.image.manifest.v1+json");
    assert_eq!(m["layers"].as_array().unwrap().len(), 1);
    assert!(m["layers"][0]["mediaType"]
        .as_str()
        .unwrap()
        .ends_with("tar+gzip"));
    let config = reg.inspect("team/bb:1", &["--config", "--raw"]);
    assert_eq!(s(&rec, "image_id"), sha256(&config), "the image ID");
    // skopeo copies it out whole, with the same config
    let oci = env.path("copied");
    run_ok(
        Command::new("skopeo")
            .args(["copy", "--quiet", "--src-tls-verify=false"])
            .arg(format!("docker://{dest}"))
            .arg(format!("oci:{}:bb", oci.display())),
    );
    let index: Value = serde_json::from_slice(&fs::read(oci.join("index.json")).unwrap()).unwrap();
    let md = index["manifests"][0]["digest"].as_str().unwrap();
    let blob = |d: &str| fs::read(oci.join("blobs/sha256").join(&d[7..])).unwrap();
    let copied: Value = serde_json::from_slice(&blob(md)).unwrap();
    assert_eq!(copied["config"]["digest"], s(&rec, "image_id"));

    // pushed again: every blob is there already
    let out = push(&["busybox", &dest]);
    assert!(
        out.stderr
            .contains("0 blob(s) uploaded, 0 mounted, 2 already there"),
        "{}",
        out.stderr
    );
    assert_eq!(s(&out.record(), "digest"), s(&rec, "digest"));

    // docker schema2, uncompressed, to another repository
    let docker = format!("{}/bb:docker", reg.host);
    let d = push(&[
        "--manifest-format",
        "docker",
        "--compress",
        "none",
        "busybox",
        &docker,
    ])
    .record();
    let m = manifest_of(&reg, "bb:docker");
    assert_eq!(
        m["mediaType"],
        "application/vnd.docker.distribution.manifest.v2+json"
    );
    assert_eq!(
        m["layers"][0]["mediaType"],
        "application/vnd.docker.image.rootfs.diff.tar"
    );
    assert_eq!(s(&d, "image_id"), s(&rec, "image_id"));
    let e = env
        .cmd("push")
        .args([
            "--manifest-format",
            "docker",
            "--compress",
            "zstd",
            "busybox",
            &docker,
        ])
        .fails(1);
    assert!(e.stderr.contains("zstd"), "{}", e.stderr);

    // a fresh store pulls both back, with the same image ID, and runs them
    let fresh = Env::new("registry-push-fresh");
    for reference in [&dest, &docker] {
        let pulled = pull(&fresh, reference);
        assert_eq!(s(&pulled, "image_id"), s(&rec, "image_id"), "{reference}");
        let out = fresh
            .cmd("run")
            .args(["--rm", reference, "--", "echo", "hi"])
            .ok();
        assert_eq!(out.stdout.trim(), "hi", "{reference}");
    }
}

#[test]
fn docker_pulls_and_runs_a_pushed_schema2_image() {
    let env = Env::new("registry-push-docker");
    let reg = Registry::start(&env, "reg", Extras::default());
    crate::harness::busybox_image(&env);
    // a name of this test's own, so a test run's engine holds it only here
    let dest = format!("{}/cairn-push-{}:docker", reg.host, std::process::id());
    let rec = env
        .cmd("push")
        .args(["--manifest-format", "docker", "busybox", &dest])
        .ok()
        .record();
    // dockerd treats 127.0.0.0/8 registries as insecure (plain http) by default
    let d = crate::fixtures::docker();
    d.ok(&["pull", "-q", &dest]);
    let id = d.ok(&["image", "inspect", "--format", "{{.Id}}", &dest]);
    assert_eq!(id.trim(), s(&rec, "image_id"));
    let out = d.ok(&["run", "--rm", "--network", "none", &dest, "echo", "hi"]);
    assert_eq!(out.trim(), "hi");
    d.ok(&["rmi", &dest]);
}

/// `docker pull`'s image ID and its output, and the manifest digest
/// `docker push` printed.
fn docker_push_digest(out: &str) -> String {
    let at = out
        .find("digest: sha256:")
        .expect("docker push prints the digest");
    out[at + 8..at + 8 + 71].to_string()
}

/// An image docker 20.10 pushed to a real registry (distribution, on
/// 127.0.0.1), pulled by docker and by cairn: the same manifest digest,
/// the one the push printed, in `images --digests`, `{{.Digest}}` and
/// `{{.RepoDigests}}`.
#[test]
fn a_pulled_image_shows_the_digests_docker_shows() {
    let env = Env::new("registry-digests");
    let reg = Registry::start(&env, "reg", Extras::default());
    let d = crate::fixtures::docker();
    let repo = format!("{}/digests-{}", reg.host, std::process::id());
    let name = format!("{repo}:1");
    crate::interop::same_image(&env, &name);
    let pushed = docker_push_digest(&d.ok(&["push", &name]));
    d.ok(&["rmi", &name]);
    d.ok(&["pull", "-q", &name]);
    env.cmd("rmi").arg(&name).ok();
    assert_eq!(s(&pull(&env, &name), "digest"), pushed);
    let images = "{{.Repository}} {{.Tag}} {{.Digest}} {{.ID}}";
    for args in [
        vec![repo.as_str(), "--digests", "--format", "table"],
        vec![repo.as_str(), "--format", images],
    ] {
        let ours = env.cmd("images").args(&args).ok().stdout;
        let theirs = d.ok(&[&["images"], &args[..]].concat());
        assert_eq!(ours, theirs, "images {args:?}");
        assert!(theirs.contains(&pushed), "{theirs}");
    }
    // docker's image (loaded once for every test) may have been pushed
    // elsewhere too: the entries of this repository
    let digests = |out: String| -> Vec<String> {
        let all: Vec<String> = serde_json::from_str(out.trim()).unwrap();
        all.into_iter().filter(|r| r.starts_with(&repo)).collect()
    };
    let t = ["-f", "{{json .RepoDigests}}", name.as_str()];
    let ours = env.cmd("inspect").args(["--type", "image"]).args(t).ok();
    let theirs = d.ok(&[&["image", "inspect"], &t[..]].concat());
    assert_eq!(digests(ours.stdout), digests(theirs));
    assert_eq!(
        digests(d.ok(&[&["image", "inspect"], &t[..]].concat())),
        [format!("{repo}@{pushed}")]
    );
}

#[test]
fn docker_and_skopeo_exchange_images_with_cairn_through_a_registry() {
    let env = Env::new("registry-interop");
    let reg = Registry::start(&env, "reg", Extras::default());
    crate::harness::busybox_image(&env);
    let d = crate::fixtures::docker();
    let ours = format!("{}/cairn-oci-{}:1", reg.host, std::process::id());
    // cairn's OCI manifest (the default): docker pulls and runs it
    let rec = env.cmd("push").args(["busybox", &ours]).ok().record();
    d.ok(&["pull", "-q", &ours]);
    let id = d.ok(&["image", "inspect", "--format", "{{.Id}}", &ours]);
    assert_eq!(id.trim(), s(&rec, "image_id"));
    let out = d.ok(&["run", "--rm", "--network", "none", &ours, "echo", "hi"]);
    assert_eq!(out.trim(), "hi");

    // docker pushes it on (as docker schema2): cairn pulls that and runs it
    let theirs = format!("{}/from-docker-{}:1", reg.host, std::process::id());
    d.ok(&["tag", &ours, &theirs]);
    let pushed = docker_push_digest(&d.ok(&["push", &theirs]));
    d.ok(&["rmi", &ours, &theirs]);
    let fresh = Env::new("registry-interop-fresh");
    let pulled = pull(&fresh, &theirs);
    assert_eq!(
        s(&pulled, "image_id"),
        s(&rec, "image_id"),
        "docker's image ID"
    );
    assert_eq!(s(&pulled, "digest"), pushed, "docker's manifest digest");
    let out = fresh
        .cmd("run")
        .args(["--rm", &theirs, "--", "echo", "hi"])
        .ok();
    assert_eq!(out.stdout.trim(), "hi");

    // pushed again elsewhere in the registry: docker's manifest, byte for
    // byte, and every blob mounted from the repository it came from
    let again = format!("{}/again:1", reg.host);
    let out = fresh.cmd("push").args([&theirs, &again]).ok();
    assert_eq!(
        s(&out.record(), "digest"),
        pushed,
        "the same manifest digest"
    );
    assert!(
        out.stderr
            .contains("0 blob(s) uploaded, 2 mounted, 0 already there; the manifest kept"),
        "{}",
        out.stderr
    );
    assert_eq!(sha256(&reg.inspect("again:1", &["--raw"])), pushed);
    // asked for another format, the manifest is made anew: same image
    let oci = format!("{}/again:oci", reg.host);
    let out = fresh
        .cmd("push")
        .args(["--manifest-format", "oci", &theirs, &oci])
        .ok();
    let made = out.record();
    assert_ne!(s(&made, "digest"), pushed);
    assert_eq!(s(&made, "image_id"), s(&rec, "image_id"));
    assert!(!out.stderr.contains("kept"), "{}", out.stderr);

    // skopeo copies a cairn push registry to registry keeping its digest,
    // and cairn pulls skopeo's copy back
    run_ok(
        Command::new("skopeo")
            .args([
                "copy",
                "--quiet",
                "--src-tls-verify=false",
                "--dest-tls-verify=false",
            ])
            .arg(format!("docker://{again}"))
            .arg(format!("docker://{}/skopeo:1", reg.host)),
    );
    assert_eq!(sha256(&reg.inspect("skopeo:1", &["--raw"])), pushed);
    let back = pull(&fresh, &format!("{}/skopeo:1", reg.host));
    assert_eq!(s(&back, "image_id"), s(&rec, "image_id"));

    // a skopeo-made manifest (not canonical JSON) survives a pull and a
    // push as it is
    reg.push(&busybox_layout(), "sk:1", &[]);
    let sk = sha256(&reg.inspect("sk:1", &["--raw"]));
    pull(&fresh, &format!("{}/sk:1", reg.host));
    let re = fresh
        .cmd("push")
        .args([
            &format!("{}/sk:1", reg.host),
            &format!("{}/sk2:1", reg.host),
        ])
        .ok()
        .record();
    assert_eq!(s(&re, "digest"), sk);
}

#[test]
fn large_blobs_go_up_in_chunks() {
    let env = Env::new("registry-chunks");
    let reg = Registry::start(&env, "reg", Extras::default());
    crate::harness::busybox_image(&env);
    let dest = format!("{}/chunked:1", reg.host);
    let out = env
        .cmd("push")
        .args(["--chunk-size", "100000", "busybox", &dest])
        .ok();
    let rec = out.record();
    assert!(out.stderr.contains("2 blob(s) uploaded"), "{}", out.stderr);
    let config = reg.inspect("chunked:1", &["--config", "--raw"]);
    assert_eq!(s(&rec, "image_id"), sha256(&config));
    let layer = manifest_of(&reg, "chunked:1")["layers"][0]["size"]
        .as_u64()
        .unwrap();
    assert!(layer > 300_000, "several chunks: {layer} bytes");
    let fresh = Env::new("registry-chunks-fresh");
    let pulled = pull(&fresh, &dest);
    assert_eq!(s(&pulled, "image_id"), s(&rec, "image_id"));
    let out = fresh
        .cmd("run")
        .args(["--rm", &dest, "--", "echo", "hi"])
        .ok();
    assert_eq!(out.stdout.trim(), "hi");
}

#[test]
fn a_cut_blob_transfer_resumes_with_a_range_request() {
    let env = Env::new("registry-resume");
    let layout = peers().join("oci");
    let f = fake::Fake::start(layout);
    let reference = format!("{}/bb:1", f.host);
    use std::sync::atomic::Ordering::SeqCst;
    // the first two layer transfers break halfway: both resume where
    // they broke and the pull completes
    f.cuts.store(2, SeqCst);
    let rec = pull(&env, &reference);
    assert_eq!(f.cuts.load(SeqCst), 0, "both cuts happened");
    assert!(f.ranges.load(SeqCst) >= 2, "resumed with Range");
    let out = env
        .cmd("run")
        .args(["--rm", &reference, "--", "echo", "hi"])
        .ok();
    assert_eq!(out.stdout.trim(), "hi");
    // a registry that ignores Range sends the whole blob again: the bytes
    // already passed on are dropped, and the pull is the same
    let fresh = Env::new("registry-resume-whole");
    f.ignore_range.store(true, SeqCst);
    let ranges = f.ranges.load(SeqCst);
    f.cuts.store(2, SeqCst);
    let again = pull(&fresh, &reference);
    assert_eq!(f.ranges.load(SeqCst), ranges, "no 206 served");
    assert_eq!(s(&again, "image_id"), s(&rec, "image_id"));
    assert_eq!(again["diff_ids"], rec["diff_ids"]);
}

#[test]
fn a_registry_killed_mid_pull_leaves_the_store_as_it_was_and_the_rerun_completes() {
    let env = Env::new("registry-killed");
    let mut reg = Registry::start(&env, "reg", Extras::default());
    // one large layer of random bytes, pushed uncompressed: a transfer
    // that lasts long enough to be cut
    let src = env.path("big");
    fs::create_dir_all(&src).unwrap();
    run_ok(
        Command::new("head")
            .args(["-c", "160M", "/dev/urandom"])
            .stdout(fs::File::create(src.join("random")).unwrap()),
    );
    let tar = env.path("big.tar");
    run_ok(
        Command::new("tar")
            .arg("-cf")
            .arg(&tar)
            .arg("-C")
            .arg(&src)
            .arg("random"),
    );
    fs::remove_dir_all(&src).unwrap();
    let layer = env
        .cmd("layer-unpack")
        .stdin(fs::read(&tar).unwrap())
        .ok()
        .record();
    fs::remove_file(&tar).unwrap();
    let dest = format!("{}/big:1", reg.host);
    env.cmd("push")
        .args(["--compress", "none", s(&layer, "layer"), &dest])
        .ok();

    let fresh = Env::new("registry-killed-fresh");
    crate::harness::busybox_image(&fresh);
    let before = fresh.snapshot();
    let child = Command::new(crate::harness::bin("pull"))
        .env("CAIRN_ROOT", &fresh.root)
        .arg(&dest)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // SIGKILL the registry once the blob is partly downloaded
    let tmp = fresh.root.join("tmp");
    let partial = || {
        fs::read_dir(&tmp).into_iter().flatten().flatten().any(|e| {
            fs::metadata(e.path().join("blob")).is_ok_and(|m| m.len() > 0 && m.len() < 150 << 20)
        })
    };
    wait_for("the download to start", Duration::from_secs(60), partial);
    reg.kill();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains(&dest) && stderr.contains("blob sha256:"),
        "{stderr}"
    );
    assert_eq!(fresh.snapshot(), before, "the store is as it was");

    reg.restart();
    let rec = pull(&fresh, &dest);
    assert_eq!(rec["diff_ids"][0], layer["diff_id"]);
}

#[test]
fn push_through_bearer_tokens_in_chunks() {
    let env = Env::new("registry-push-bearer");
    let f = fake::Fake::start(peers().join("oci"));
    crate::harness::busybox_image(&env);
    let dest = format!("{}/pushed:1", f.host);
    let out = env
        .cmd("push")
        .args(["--chunk-size", "100000", "busybox", &dest])
        .ok();
    let rec = out.record();
    assert!(out.stderr.contains("2 blob(s) uploaded"), "{}", out.stderr);
    {
        let w = f.written.lock().unwrap();
        let q = w.token_queries.join("\n");
        assert!(
            q.contains("repository%3Apushed%3Apull%2Cpush")
                || q.contains("repository:pushed:pull,push"),
            "{q}"
        );
        let patches = w.requests.iter().filter(|r| r.starts_with("PATCH")).count();
        assert!(patches > 2, "{:?}", w.requests);
        assert!(w
            .manifests
            .contains_key(&format!("manifests/{}", s(&rec, "digest"))));
    }
    let fresh = Env::new("registry-push-bearer-fresh");
    let pulled = pull(&fresh, &dest);
    assert_eq!(s(&pulled, "image_id"), s(&rec, "image_id"));
    assert_eq!(s(&pulled, "digest"), s(&rec, "digest"));
    let out = fresh
        .cmd("run")
        .args(["--rm", &dest, "--", "echo", "hi"])
        .ok();
    assert_eq!(out.stdout.trim(), "hi");
}

#[test]
fn progress_shows_a_line_per_layer_only_on_a_terminal() {
    let env = Env::new("registry-progress");
    let layout = peers().join("oci");
    let f = fake::Fake::start(layout.clone());
    let reference = format!("{}/bb:1", f.host);
    let out = env.cmd("pull").arg(&reference).ok();
    assert_eq!(
        out.stderr, "",
        "nothing on stderr when it is not a terminal"
    );
    let text = env.on_a_terminal("pull", Path::new(&reference));
    let index: Value =
        serde_json::from_slice(&fs::read(layout.join("index.json")).unwrap()).unwrap();
    let m = index["manifests"][0]["digest"].as_str().unwrap();
    let manifest: Value =
        serde_json::from_slice(&fs::read(layout.join("blobs/sha256").join(&m[7..])).unwrap())
            .unwrap();
    for l in manifest["layers"].as_array().unwrap() {
        let short = &l["digest"].as_str().unwrap()[7..19];
        assert!(text.contains(&format!("{short}: Pull complete")), "{text}");
    }
}

#[path = "peers/token_issuer.rs"]
mod issuer;

#[test]
fn distribution_verifies_the_bearer_tokens_of_a_pull_and_a_push() {
    let env = Env::new("registry-jwt");
    let iss = issuer::Issuer::start(&env.path("issuer"));
    let reg = Registry::start(
        &env,
        "reg",
        Extras {
            token: Some((iss.realm.clone(), iss.cert.clone())),
            ..Default::default()
        },
    );
    crate::harness::busybox_image(&env);
    let dest = format!("{}/tok/bb:1", reg.host);
    let rec = env.cmd("push").args(["busybox", &dest]).ok().record();
    assert!(iss.issued.load(std::sync::atomic::Ordering::SeqCst) >= 1);
    let fresh = Env::new("registry-jwt-fresh");
    let pulled = pull(&fresh, &dest);
    assert_eq!(s(&pulled, "image_id"), s(&rec, "image_id"));
    assert_eq!(s(&pulled, "digest"), s(&rec, "digest"));
    // tokens that grant nothing: refused, and the message says to log in
    iss.deny.store(true, std::sync::atomic::Ordering::SeqCst);
    let other = Env::new("registry-jwt-denied");
    let e = other.cmd("pull").arg(&dest).fails(1);
    assert!(
        e.stderr.contains("access denied") && e.stderr.contains("cairn login"),
        "{}",
        e.stderr
    );
}

/// A token server's refresh token, as `docker login` gets one and files it
/// (`identitytoken`): cairn redeems docker's with the OAuth2 refresh grant
/// and never sends the password again; `cairn login` files the same shape,
/// and docker pulls with it.
#[test]
fn identity_tokens_of_a_login_are_filed_and_redeemed_as_docker_does() {
    use std::sync::atomic::Ordering::SeqCst;
    let env = Env::new("registry-oauth");
    let iss = issuer::Issuer::with_login(&env.path("issuer"), "cairn", "s3cret");
    let reg = Registry::start(
        &env,
        "reg",
        Extras {
            token: Some((iss.realm.clone(), iss.cert.clone())),
            ..Default::default()
        },
    );
    let entry = |dir: &Path| -> Value {
        let v: Value = serde_json::from_slice(&fs::read(dir.join("config.json")).unwrap()).unwrap();
        v["auths"][&reg.host].clone()
    };
    let d = crate::fixtures::docker();
    let theirs = env.path("docker-config");
    let theirs_s = theirs.to_str().unwrap();
    d.ok(&[
        "--config", theirs_s, "login", "-u", "cairn", "-p", "s3cret", &reg.host,
    ]);
    let docker_entry = entry(&theirs);
    assert!(
        docker_entry["identitytoken"]
            .as_str()
            .unwrap_or("")
            .starts_with("rt-"),
        "docker files the refresh token: {docker_entry}"
    );

    crate::harness::busybox_image(&env);
    let dest = format!("{}/oauth/bb-{}:1", reg.host, std::process::id());
    let (basic, refreshed) = (iss.seen.basic.load(SeqCst), iss.seen.refreshed.load(SeqCst));
    let rec = env
        .cmd("push")
        .env("DOCKER_CONFIG", &theirs)
        .args(["busybox", &dest])
        .ok()
        .record();
    assert!(
        iss.seen.refreshed.load(SeqCst) > refreshed,
        "the refresh grant"
    );
    assert_eq!(iss.seen.basic.load(SeqCst), basic, "no password sent");

    let ours = env.path("cairn-config");
    let login = |pass: &str| {
        env.cmd("login")
            .env("DOCKER_CONFIG", &ours)
            .args(["-u", "cairn", "--password-stdin", &reg.host])
            .stdin(format!("{pass}\n"))
    };
    let e = login("wrong").fails(1);
    assert!(e.stderr.contains("refused"), "{}", e.stderr);
    assert!(!ours.join("config.json").exists(), "nothing written");
    login("s3cret").ok();
    let cairn_entry = entry(&ours);
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&cairn_entry), keys(&docker_entry), "{cairn_entry}");
    assert_eq!(cairn_entry["auth"], docker_entry["auth"]);
    assert_ne!(cairn_entry["identitytoken"], docker_entry["identitytoken"]);

    let refreshed = iss.seen.refreshed.load(SeqCst);
    let ours_s = ours.to_str().unwrap();
    d.ok(&["--config", ours_s, "pull", "-q", &dest]);
    assert!(
        iss.seen.refreshed.load(SeqCst) > refreshed,
        "docker redeems cairn's token"
    );
    let id = d.ok(&["image", "inspect", "--format", "{{.Id}}", &dest]);
    assert_eq!(id.trim(), s(&rec, "image_id"));
    d.ok(&["rmi", &dest]);
    let fresh = Env::new("registry-oauth-pull");
    let pulled = fresh
        .cmd("pull")
        .env("DOCKER_CONFIG", &ours)
        .arg(&dest)
        .ok()
        .record();
    assert_eq!(s(&pulled, "image_id"), s(&rec, "image_id"));
}

/// `push` on a terminal draws a line per layer as docker push does; piped,
/// stderr has only the one summary line.
#[test]
fn push_shows_a_line_per_layer_only_on_a_terminal() {
    let env = Env::new("registry-push-progress");
    let reg = Registry::start(&env, "reg", Extras::default());
    crate::harness::busybox_image(&env);
    let first = format!("{}/prog/bb:1", reg.host);
    let piped = env.cmd("push").args(["busybox", &first]).ok();
    assert_eq!(piped.stderr.lines().count(), 1, "{}", piped.stderr);
    let layers = manifest_of(&reg, "prog/bb:1")["layers"].clone();
    let on_a_terminal = |dest: &str| {
        let cmd = format!(
            "{} --root {} busybox {dest}",
            crate::harness::bin("push").display(),
            env.path("store").display()
        );
        let out = Command::new("script")
            .args(["-qec", &cmd, "/dev/null"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let again = on_a_terminal(&format!("{}/prog/bb:2", reg.host));
    let fresh = on_a_terminal(&format!("{}/other/bb:1", reg.host));
    for l in layers.as_array().unwrap() {
        let short = &l["digest"].as_str().unwrap()[7..19];
        assert!(
            again.contains(&format!("{short}: Layer already exists")),
            "{again}"
        );
        assert!(
            fresh.contains(&format!("{short}: Mounted"))
                || fresh.contains(&format!("{short}: Pushed")),
            "{fresh}"
        );
    }
}
