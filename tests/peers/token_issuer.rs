//! A token issuer in a thread, for distribution's own Bearer token auth:
//! the registry (configured with `auth: token:` and this issuer's
//! certificate as its root bundle) sends clients here, and verifies the
//! RS256 JWTs this hands out: `x5c` carries the self-signed certificate,
//! the claims grant what the scope asks (or nothing, while `deny` is set).
//! Signing is openssl's (`openssl dgst -sha256 -sign`).

use base64::Engine;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

pub const ISSUER: &str = "cairn-test-issuer";
pub const SERVICE: &str = "cairn-test-registry";

pub struct Issuer {
    pub realm: String,
    /// The certificate the registry trusts (PEM).
    pub cert: PathBuf,
    /// Tokens handed out.
    pub issued: Arc<AtomicUsize>,
    /// While set, tokens grant nothing.
    pub deny: Arc<AtomicBool>,
}

fn b64url(data: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(data)
}

fn unescape(s: &str) -> String {
    s.replace("%3A", ":")
        .replace("%3a", ":")
        .replace("%2C", ",")
        .replace("%2c", ",")
        .replace("%2F", "/")
        .replace("%2f", "/")
}

impl Issuer {
    pub fn start(dir: &Path) -> Issuer {
        std::fs::create_dir_all(dir).unwrap();
        let (key, cert) = (dir.join("issuer.key"), dir.join("issuer.crt"));
        let out = Command::new("openssl")
            .args([
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            ])
            .args(["-subj", "/CN=cairn test token issuer"])
            .arg("-keyout")
            .arg(&key)
            .arg("-out")
            .arg(&cert)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        let der = Command::new("openssl")
            .args(["x509", "-outform", "DER", "-in"])
            .arg(&cert)
            .output()
            .unwrap()
            .stdout;
        let x5c = base64::engine::general_purpose::STANDARD.encode(der);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let realm = format!("http://{}/token", listener.local_addr().unwrap());
        let issued: Arc<AtomicUsize> = Arc::default();
        let deny: Arc<AtomicBool> = Arc::default();
        let (n, d) = (issued.clone(), deny.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                serve(conn, &key, &x5c, &n, &d);
            }
        });
        Issuer {
            realm,
            cert,
            issued,
            deny,
        }
    }
}

fn serve(conn: TcpStream, key: &Path, x5c: &str, issued: &AtomicUsize, deny: &AtomicBool) {
    let mut r = BufReader::new(conn.try_clone().unwrap());
    let mut line = String::new();
    r.read_line(&mut line).unwrap_or(0);
    loop {
        let mut h = String::new();
        if r.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
            break;
        }
    }
    let path = line.split(' ').nth(1).unwrap_or("");
    let query = path.split_once('?').map(|(_, q)| q).unwrap_or("");
    let mut access = Vec::new();
    for scope in query.split('&').filter_map(|p| p.strip_prefix("scope=")) {
        let scope = unescape(scope);
        let mut parts = scope.splitn(3, ':');
        let (kind, name, actions) = (parts.next(), parts.next(), parts.next());
        if let (Some(kind), Some(name), Some(actions)) = (kind, name, actions) {
            let actions: Vec<&str> = match deny.load(Ordering::SeqCst) {
                true => vec![],
                false => actions.split(',').collect(),
            };
            access.push(serde_json::json!({"type": kind, "name": name, "actions": actions}));
        }
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let n = issued.fetch_add(1, Ordering::SeqCst);
    let header = serde_json::json!({"typ": "JWT", "alg": "RS256", "x5c": [x5c]});
    let claims = serde_json::json!({
        "iss": ISSUER, "sub": "cairn", "aud": SERVICE, "exp": now + 300,
        "nbf": now - 10, "iat": now, "jti": format!("t{n}"), "access": access,
    });
    let input = format!(
        "{}.{}",
        b64url(&serde_json::to_vec(&header).unwrap()),
        b64url(&serde_json::to_vec(&claims).unwrap())
    );
    let mut sign = Command::new("openssl")
        .args(["dgst", "-sha256", "-sign"])
        .arg(key)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    sign.stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let sig = sign.wait_with_output().unwrap().stdout;
    let jwt = format!("{input}.{}", b64url(&sig));
    let body = serde_json::json!({"token": jwt, "access_token": jwt}).to_string();
    let mut w = conn;
    let _ = write!(
        w,
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}
