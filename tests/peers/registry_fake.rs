//! A registry in a thread, for what a real one will not do on demand:
//! Bearer token auth from its own token endpoint, a blob transfer cut in
//! the middle, Range requests answered or ignored. It serves an OCI image layout read-only: `manifests/*`
//! is the layout's first manifest, `blobs/sha256:…` its blobs.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

pub struct Fake {
    pub host: String,
    /// Token requests served; the Nth token is `tok-N`.
    pub tokens: Arc<AtomicUsize>,
    /// Once, after this many more uses (0: never), every token issued so
    /// far expires: it is refused with a 401, as an expired one is.
    pub expire_every: Arc<AtomicUsize>,
    /// While set, every blob but configs is sent half, then the connection
    /// closes (the Content-Length promises all of it).
    pub cut: Arc<AtomicBool>,
    /// The next this many blob transfers (configs aside) are cut halfway.
    pub cuts: Arc<AtomicUsize>,
    /// Range requests answered with a 206.
    pub ranges: Arc<AtomicUsize>,
    /// While set, a Range request gets the whole blob (200).
    pub ignore_range: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
}

impl Fake {
    pub fn start(layout: PathBuf) -> Fake {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let host = listener.local_addr().unwrap().to_string();
        let fake = Fake {
            host: host.clone(),
            tokens: Arc::default(),
            expire_every: Arc::default(),
            cut: Arc::default(),
            cuts: Arc::default(),
            ranges: Arc::default(),
            ignore_range: Arc::default(),
            stop: Arc::default(),
        };
        let auth = Auth {
            tokens: fake.tokens.clone(),
            expire_every: fake.expire_every.clone(),
            floor: Arc::default(),
            uses: Arc::default(),
        };
        let stop = fake.stop.clone();
        let cut = Cut {
            always: fake.cut.clone(),
            next: fake.cuts.clone(),
            ranges: fake.ranges.clone(),
            ignore_range: fake.ignore_range.clone(),
        };
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stop.load(Ordering::Relaxed) {
                    return;
                }
                let Ok(conn) = conn else { continue };
                let (layout, host) = (layout.clone(), host.clone());
                let (auth, cut) = (auth.clone(), cut.clone());
                std::thread::spawn(move || serve(conn, &layout, &host, &auth, &cut));
            }
        });
        fake
    }
}

/// The token endpoint's state.
#[derive(Clone)]
struct Auth {
    tokens: Arc<AtomicUsize>,
    expire_every: Arc<AtomicUsize>,
    /// Tokens numbered below this are expired.
    floor: Arc<AtomicUsize>,
    /// Uses since the last expiry.
    uses: Arc<AtomicUsize>,
}

impl Auth {
    fn issue(&self) -> String {
        format!("tok-{}", self.tokens.fetch_add(1, Ordering::SeqCst) + 1)
    }

    fn accepts(&self, header: Option<&String>) -> bool {
        let Some(n) = header
            .and_then(|h| h.strip_prefix("Bearer tok-"))
            .and_then(|n| n.parse::<usize>().ok())
        else {
            return false;
        };
        if n < self.floor.load(Ordering::SeqCst) {
            return false;
        }
        let every = self.expire_every.load(Ordering::SeqCst);
        if every > 0 && self.uses.fetch_add(1, Ordering::SeqCst) + 1 >= every {
            self.expire_every.store(0, Ordering::SeqCst);
            self.floor
                .store(self.tokens.load(Ordering::SeqCst) + 1, Ordering::SeqCst);
        }
        true
    }
}

impl Drop for Fake {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = TcpStream::connect(&self.host); // wake the accept loop
    }
}

/// How blob transfers go wrong, and Range requests.
#[derive(Clone)]
struct Cut {
    always: Arc<AtomicBool>,
    next: Arc<AtomicUsize>,
    ranges: Arc<AtomicUsize>,
    ignore_range: Arc<AtomicBool>,
}

impl Cut {
    /// Whether this transfer is cut.
    fn now(&self) -> bool {
        self.always.load(Ordering::Relaxed)
            || self
                .next
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok()
    }
}

fn serve(conn: TcpStream, layout: &std::path::Path, host: &str, auth: &Auth, cut: &Cut) {
    // A TLS hello (cairn tries https first) is refused, as a plain http
    // server answers it with an error at once.
    let mut first = [0u8; 1];
    if conn.peek(&mut first).is_err() || first[0] == 0x16 {
        return;
    }
    let mut r = BufReader::new(conn.try_clone().unwrap());
    let mut line = String::new();
    r.read_line(&mut line).unwrap_or(0);
    let path = line.split(' ').nth(1).unwrap_or("").to_string();
    let mut headers = HashMap::new();
    loop {
        let mut h = String::new();
        if r.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    let mut w = conn;
    let reply = |w: &mut TcpStream, status: &str, extra: &str, body: &[u8], send: usize| {
        let head = format!(
            "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n{extra}\r\n",
            body.len()
        );
        let _ = w.write_all(head.as_bytes());
        let _ = w.write_all(&body[..send]);
    };
    if path.starts_with("/token") {
        let body = format!(r#"{{"token":"{}"}}"#, auth.issue());
        return reply(
            &mut w,
            "200 OK",
            "Content-Type: application/json\r\n",
            body.as_bytes(),
            body.len(),
        );
    }
    if !auth.accepts(headers.get("authorization")) {
        let challenge =
            format!("WWW-Authenticate: Bearer realm=\"http://{host}/token\",service=\"fake\"\r\n");
        return reply(&mut w, "401 Unauthorized", &challenge, b"{}", 2);
    }
    let blob = |hex: &str| std::fs::read(layout.join("blobs/sha256").join(hex)).ok();
    if path == "/v2/" {
        return reply(&mut w, "200 OK", "", b"{}", 2);
    }
    if path.contains("/manifests/") {
        let index: serde_json::Value =
            serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
        let d = index["manifests"][0]["digest"].as_str().unwrap();
        let body = blob(&d[7..]).unwrap();
        let ct = "Content-Type: application/vnd.oci.image.manifest.v1+json\r\n";
        return reply(&mut w, "200 OK", ct, &body, body.len());
    }
    match path
        .split_once("/blobs/sha256:")
        .and_then(|(_, hex)| blob(hex))
    {
        Some(whole) => {
            let config = whole.first() == Some(&b'{');
            let from = headers
                .get("range")
                .and_then(|r| r.strip_prefix("bytes="))
                .and_then(|r| r.strip_suffix('-'))
                .and_then(|n| n.parse::<usize>().ok())
                .filter(|n| *n < whole.len() && !cut.ignore_range.load(Ordering::Relaxed));
            let (status, extra, body) = match from {
                Some(n) => {
                    cut.ranges.fetch_add(1, Ordering::SeqCst);
                    let range = format!(
                        "Content-Range: bytes {n}-{}/{}\r\n",
                        whole.len() - 1,
                        whole.len()
                    );
                    ("206 Partial Content", range, &whole[n..])
                }
                None => ("200 OK", String::new(), &whole[..]),
            };
            let send = if !config && cut.now() {
                body.len() / 2
            } else {
                body.len()
            };
            reply(&mut w, status, &extra, body, send)
        }
        None => reply(&mut w, "404 Not Found", "", b"{}", 2),
    }
}
