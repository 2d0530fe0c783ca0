//! A token issuer in a thread, for distribution's own Bearer token auth:
//! the registry (configured with `auth: token:` and this issuer's
//! certificate as its root bundle) sends clients here, and verifies the
//! RS256 JWTs this hands out: `x5c` carries the self-signed certificate,
//! the claims grant what the scope asks (or nothing, while `deny` is set).
//! Signing is openssl's (`openssl dgst -sha256 -sign`).
//!
//! Started with a login ([`Issuer::with_login`]), it hands tokens only to
//! that user (Basic on a GET) or to a refresh token it gave out: a GET with
//! `offline_token=true` gets one, and the OAuth2 `refresh_token` grant (a
//! form POSTed to the realm, as docker sends its identity token) redeems it.

use base64::Engine;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
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
    /// What the issuer saw: refresh grants redeemed, Basic GETs accepted.
    pub seen: Arc<Seen>,
}

#[derive(Default)]
pub struct Seen {
    pub refreshed: AtomicUsize,
    pub basic: AtomicUsize,
    /// The `Authorization` a GET must carry, with a login.
    login: Option<String>,
    /// Refresh tokens handed out.
    refresh: Mutex<Vec<String>>,
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
        .replace("%20", " ")
}

impl Issuer {
    pub fn start(dir: &Path) -> Issuer {
        Issuer::serve(dir, Seen::default())
    }

    /// An issuer that knows one user and hands out refresh tokens.
    pub fn with_login(dir: &Path, user: &str, password: &str) -> Issuer {
        let basic = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        Issuer::serve(
            dir,
            Seen {
                login: Some(format!("Basic {basic}")),
                ..Seen::default()
            },
        )
    }

    fn serve(dir: &Path, seen: Seen) -> Issuer {
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
        let seen = Arc::new(seen);
        let (n, d, w) = (issued.clone(), deny.clone(), seen.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                serve(conn, &key, &x5c, &n, &d, &w);
            }
        });
        Issuer {
            realm,
            cert,
            issued,
            deny,
            seen,
        }
    }
}

/// One request: the method, the query or form parameters (decoded), the
/// `Authorization` header.
fn read_request(conn: &TcpStream) -> (String, Vec<(String, String)>, String) {
    use std::io::Read;
    let mut r = BufReader::new(conn.try_clone().unwrap());
    let mut line = String::new();
    r.read_line(&mut line).unwrap_or(0);
    let (mut auth, mut length) = (String::new(), 0);
    loop {
        let mut h = String::new();
        if r.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
            break;
        }
        let (k, v) = h.split_once(':').unwrap_or((&h, ""));
        match k.to_ascii_lowercase().as_str() {
            "authorization" => auth = v.trim().to_string(),
            "content-length" => length = v.trim().parse().unwrap_or(0),
            _ => {}
        }
    }
    let method = line.split(' ').next().unwrap_or("").to_string();
    let path = line.split(' ').nth(1).unwrap_or("");
    let mut params = path
        .split_once('?')
        .map(|(_, q)| q.to_string())
        .unwrap_or_default();
    if method == "POST" {
        let mut body = vec![0; length];
        r.read_exact(&mut body).unwrap();
        params = String::from_utf8(body).unwrap();
    }
    let params = params
        .split('&')
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| (k.to_string(), unescape(&v.replace('+', " "))))
        .collect();
    (method, params, auth)
}

fn refuse(mut w: TcpStream) {
    let _ = write!(
        w,
        "HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
}

fn serve(
    conn: TcpStream,
    key: &Path,
    x5c: &str,
    issued: &AtomicUsize,
    deny: &AtomicBool,
    seen: &Seen,
) {
    let (method, params, auth) = read_request(&conn);
    let param = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let mut refresh = None;
    if method == "POST" {
        let known = seen.refresh.lock().unwrap();
        if param("grant_type") != Some("refresh_token")
            || !known
                .iter()
                .any(|r| Some(r.as_str()) == param("refresh_token"))
        {
            return refuse(conn);
        }
        seen.refreshed.fetch_add(1, Ordering::SeqCst);
    } else if let Some(login) = &seen.login {
        if auth != *login {
            return refuse(conn);
        }
        seen.basic.fetch_add(1, Ordering::SeqCst);
        if param("offline_token") == Some("true") {
            let mut known = seen.refresh.lock().unwrap();
            let r = format!("rt-{}", known.len());
            known.push(r.clone());
            refresh = Some(r);
        }
    }
    let mut access = Vec::new();
    let scopes = params.iter().filter(|(k, _)| k == "scope");
    for scope in scopes.flat_map(|(_, v)| v.split(' ')) {
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
    let mut body = serde_json::json!({"token": jwt, "access_token": jwt});
    if let Some(r) = refresh {
        body["refresh_token"] = serde_json::json!(r);
    }
    let body = body.to_string();
    let mut w = conn;
    let _ = write!(
        w,
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}
