//! A registry in a thread, for what a real one will not do on demand:
//! Bearer token auth from its own token endpoint, a blob transfer cut in
//! the middle, Range requests answered or ignored, pushes through Bearer
//! tokens. It serves an OCI image layout: `manifests/*` is the layout's
//! first manifest, `blobs/sha256:…` its blobs; what is pushed (blobs by
//! POST, PATCH and PUT, manifests by PUT) is kept in memory and served
//! first.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

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
    /// What was pushed, and the scopes tokens were asked for.
    pub written: Arc<Mutex<Written>>,
    stop: Arc<AtomicBool>,
}

/// What clients pushed.
#[derive(Default)]
pub struct Written {
    /// Blobs by `sha256:…`.
    pub blobs: HashMap<String, Vec<u8>>,
    /// Uploads in progress, by ID.
    uploads: HashMap<String, Vec<u8>>,
    /// Manifests by tag and by digest: bytes and media type.
    pub manifests: HashMap<String, (Vec<u8>, String)>,
    /// Every token request's query string.
    pub token_queries: Vec<String>,
    /// `METHOD path` of every write (POST, PATCH, PUT).
    pub requests: Vec<String>,
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
            written: Arc::default(),
            stop: Arc::default(),
        };
        let auth = Auth {
            tokens: fake.tokens.clone(),
            expire_every: fake.expire_every.clone(),
            floor: Arc::default(),
            uses: Arc::default(),
        };
        let stop = fake.stop.clone();
        let written = fake.written.clone();
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
                let (auth, cut, w) = (auth.clone(), cut.clone(), written.clone());
                std::thread::spawn(move || serve(conn, &layout, &host, &auth, &cut, &w));
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

fn sha256(data: &[u8]) -> String {
    use sha2::Digest;
    format!("sha256:{:x}", sha2::Sha256::digest(data))
}

/// A reply: status, extra header lines, body.
type Reply = (&'static str, String, Vec<u8>);

/// A write (or a read of what was written): the reply, if it is one.
fn write(method: &str, path: &str, body: Vec<u8>, st: &Mutex<Written>) -> Option<Reply> {
    let mut st = st.lock().unwrap();
    let (path, query) = path.split_once('?').unwrap_or((path, ""));
    let param = |k: &str| {
        query
            .split('&')
            .find_map(|p| p.strip_prefix(k)?.strip_prefix('='))
            .map(|v| v.replace("%3A", ":"))
    };
    if method != "GET" && method != "HEAD" {
        st.requests.push(format!("{method} {path}?{query}"));
    }
    let (name, rest) = path
        .strip_prefix("/v2/")?
        .split_once("/blobs/")
        .map(|(n, r)| (n, format!("blobs/{r}")))
        .or_else(|| {
            path.strip_prefix("/v2/")?
                .split_once("/manifests/")
                .map(|(n, r)| (n, format!("manifests/{r}")))
        })?;
    let created = |loc: String| ("201 Created", loc, Vec::new());
    match (method, rest.as_str()) {
        ("POST", "blobs/uploads/") => {
            if let Some(d) = param("mount") {
                if st.blobs.contains_key(&d) {
                    return Some(created(String::new()));
                }
            }
            let id = format!("u{}", st.uploads.len() + st.blobs.len());
            st.uploads.insert(id.clone(), Vec::new());
            let loc = format!("Location: /v2/{name}/blobs/uploads/{id}\r\n");
            Some(("202 Accepted", loc, Vec::new()))
        }
        ("PATCH" | "PUT", r) if r.starts_with("blobs/uploads/") => {
            let id = r.strip_prefix("blobs/uploads/").unwrap().to_string();
            let up = st.uploads.get_mut(&id)?;
            up.extend_from_slice(&body);
            if method == "PATCH" {
                let loc = format!("Location: /v2/{name}/blobs/uploads/{id}\r\n");
                return Some(("202 Accepted", loc, Vec::new()));
            }
            let data = st.uploads.remove(&id)?;
            if Some(sha256(&data)) != param("digest") {
                return Some(("400 Bad Request", String::new(), b"{}".to_vec()));
            }
            st.blobs.insert(sha256(&data), data);
            Some(created(String::new()))
        }
        ("PUT", r) if r.starts_with("manifests/") => {
            let d = sha256(&body);
            let media = String::from("application/vnd.oci.image.manifest.v1+json");
            st.manifests
                .insert(r.to_string(), (body.clone(), media.clone()));
            st.manifests.insert(format!("manifests/{d}"), (body, media));
            Some(created(format!("Docker-Content-Digest: {d}\r\n")))
        }
        ("GET" | "HEAD", r) if r.starts_with("blobs/sha256:") => {
            let b = st.blobs.get(r.strip_prefix("blobs/")?)?.clone();
            Some(("200 OK", String::new(), b))
        }
        ("GET", r) => {
            let (b, media) = st.manifests.get(r)?.clone();
            Some(("200 OK", format!("Content-Type: {media}\r\n"), b))
        }
        _ => None,
    }
}

fn serve(
    conn: TcpStream,
    layout: &std::path::Path,
    host: &str,
    auth: &Auth,
    cut: &Cut,
    written: &Mutex<Written>,
) {
    // A TLS hello (cairn tries https first) is refused, as a plain http
    // server answers it with an error at once.
    let mut first = [0u8; 1];
    if conn.peek(&mut first).is_err() || first[0] == 0x16 {
        return;
    }
    let mut r = BufReader::new(conn.try_clone().unwrap());
    let mut line = String::new();
    r.read_line(&mut line).unwrap_or(0);
    let method = line.split(' ').next().unwrap_or("").to_string();
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
    let mut body = Vec::new();
    if let Some(n) = headers
        .get("content-length")
        .and_then(|n| n.parse::<u64>().ok())
    {
        use std::io::Read;
        let _ = (&mut r).take(n).read_to_end(&mut body);
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
    if let Some(q) = path.strip_prefix("/token?") {
        written.lock().unwrap().token_queries.push(q.to_string());
    }
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
    if let Some((status, extra, b)) = write(&method, &path, body, written) {
        let send = if method == "HEAD" { 0 } else { b.len() };
        return reply(&mut w, status, &extra, &b, send);
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
            let send = if method == "HEAD" {
                0
            } else if !config && cut.now() {
                body.len() / 2
            } else {
                body.len()
            };
            reply(&mut w, status, &extra, body, send)
        }
        None => reply(&mut w, "404 Not Found", "", b"{}", 2),
    }
}
