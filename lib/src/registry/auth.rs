//! Credentials and the challenge a registry answers with: docker's
//! `config.json`, `WWW-Authenticate`, Basic and Bearer.

use base64::Engine;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// How a registry wants to be authenticated, from its `WWW-Authenticate`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Challenge {
    Basic,
    /// A token from `realm`, for `service`.
    Bearer {
        realm: String,
        service: Option<String>,
    },
}

/// A user name and secret for one registry.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub password: String,
    /// An OAuth2 refresh token a token server handed out at login
    /// (docker's `identitytoken`): Bearer tokens are asked for with it
    /// instead of the password.
    pub identity_token: Option<String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Credentials({:?}, <secret>)", self.username)
    }
}

impl Credentials {
    /// A user name and password.
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Credentials {
        Credentials {
            username: username.into(),
            password: password.into(),
            identity_token: None,
        }
    }

    /// Only an identity token, as a credential helper hands one back.
    pub fn token(identity_token: impl Into<String>) -> Credentials {
        Credentials {
            identity_token: Some(identity_token.into()),
            ..Credentials::new("", "")
        }
    }

    /// The `Authorization` value of Basic auth.
    pub fn basic(&self) -> String {
        let raw = format!("{}:{}", self.username, self.password);
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(raw)
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("{path}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not docker's config.json")]
    Json {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("credential helper {program}: {message}")]
    Helper { program: String, message: String },
    #[error("{path}: the auth entry for {host} is not base64 of USER:PASSWORD")]
    BadEntry { path: PathBuf, host: String },
}

/// Split `k1="v1", k2=v2` into pairs; commas inside quotes stay.
fn params(s: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut rest = s.trim();
    while let Some(eq) = rest.find('=') {
        let key = rest[..eq]
            .trim()
            .trim_start_matches(',')
            .trim()
            .to_ascii_lowercase();
        let after = rest[eq + 1..].trim_start();
        let (value, tail) = match after.strip_prefix('"') {
            Some(q) => match q.find('"') {
                Some(end) => (&q[..end], &q[end + 1..]),
                None => (q, ""),
            },
            None => match after.find(',') {
                Some(c) => (&after[..c], &after[c..]),
                None => (after, ""),
            },
        };
        out.insert(key, value.to_string());
        rest = tail.trim_start().trim_start_matches(',');
    }
    out
}

/// Parse a `WWW-Authenticate` header; `None` for a scheme not spoken.
pub fn parse_challenge(header: &str) -> Option<Challenge> {
    let (scheme, rest) = header.trim().split_once(' ').unwrap_or((header.trim(), ""));
    match scheme.to_ascii_lowercase().as_str() {
        "basic" => Some(Challenge::Basic),
        "bearer" => {
            let mut p = params(rest);
            Some(Challenge::Bearer {
                realm: p.remove("realm")?,
                service: p.remove("service"),
            })
        }
        _ => None,
    }
}

/// docker's config file: `$DOCKER_CONFIG/config.json`, else
/// `~/.docker/config.json`.
pub fn docker_config_path() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("DOCKER_CONFIG").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(d).join("config.json"));
    }
    let home = std::env::var_os("HOME").filter(|h| !h.is_empty())?;
    Some(PathBuf::from(home).join(".docker/config.json"))
}

/// The host an `auths` key names: keys may be URLs
/// (`https://index.docker.io/v1/`).
fn key_host(key: &str) -> &str {
    let k = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    k.split('/').next().unwrap_or(k)
}

/// The names docker may have filed `host`'s credentials under.
fn aliases(host: &str) -> Vec<&str> {
    match host {
        super::DOCKER_HUB | "docker.io" | "index.docker.io" => {
            vec!["index.docker.io", "docker.io", super::DOCKER_HUB]
        }
        h => vec![h],
    }
}

/// The credential helper docker would use for `host` in this config:
/// the one `credHelpers` names for it, else the `credsStore` one.
pub(super) fn helper_for(cfg: &serde_json::Value, host: &str) -> Option<PathBuf> {
    let names = aliases(host);
    cfg.get("credHelpers")
        .and_then(|h| h.as_object())
        .and_then(|h| h.iter().find(|(k, _)| names.contains(&key_host(k))))
        .map(|(_, v)| v)
        .or_else(|| cfg.get("credsStore"))
        .and_then(|v| v.as_str())
        .filter(|v| !v.is_empty())
        .map(|h| PathBuf::from(format!("docker-credential-{h}")))
}

/// The server name docker files `host`'s credentials under (Docker Hub's
/// is its v1 URL).
pub fn server_key(host: &str) -> &str {
    match host {
        super::DOCKER_HUB | "docker.io" | "index.docker.io" => "https://index.docker.io/v1/",
        h => h,
    }
}

/// Whether an `auths` key of docker's config names `host`.
pub(super) fn key_names(key: &str, host: &str) -> bool {
    aliases(host).contains(&key_host(key))
}

/// The credentials `config.json` at `path` holds for `host`, if any. A
/// missing file holds none.
pub fn credentials_in(path: &Path, host: &str) -> Result<Option<Credentials>, AuthError> {
    let data = match std::fs::read(path) {
        Ok(d) => d,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(AuthError::Read {
                path: path.to_path_buf(),
                source,
            })
        }
    };
    let cfg: serde_json::Value =
        serde_json::from_slice(&data).map_err(|source| AuthError::Json {
            path: path.to_path_buf(),
            source,
        })?;
    let names = aliases(host);
    if let Some(helper) = helper_for(&cfg, host) {
        return from_helper(&helper, host);
    }
    let Some(auths) = cfg.get("auths").and_then(|a| a.as_object()) else {
        return Ok(None);
    };
    let Some((key, entry)) = auths.iter().find(|(k, _)| names.contains(&key_host(k))) else {
        return Ok(None);
    };
    let bad = || AuthError::BadEntry {
        path: path.to_path_buf(),
        host: key.clone(),
    };
    let field = |k: &str| {
        entry
            .get(k)
            .and_then(|v| v.as_str())
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };
    let mut creds = match field("auth") {
        Some(auth) => {
            let raw = base64::engine::general_purpose::STANDARD
                .decode(auth.trim())
                .map_err(|_| bad())?;
            let raw = String::from_utf8(raw).map_err(|_| bad())?;
            let (u, p) = raw.split_once(':').ok_or_else(bad)?;
            Some(Credentials::new(u, p))
        }
        None => field("username")
            .zip(field("password"))
            .map(|(u, p)| Credentials::new(u, p)),
    };
    // docker files a login that got a refresh token as `user:` plus
    // `identitytoken`.
    if let Some(t) = field("identitytoken") {
        let mut c = creds.unwrap_or_else(|| Credentials::new("", ""));
        c.identity_token = Some(t);
        creds = Some(c);
    }
    Ok(creds)
}

/// The user name docker's credential helpers file an identity token under.
pub(super) const TOKEN_USER: &str = "<token>";

/// Ask a docker credential helper (`docker-credential-NAME get`, the
/// server on stdin) for `host`'s credentials; none if it has none. The
/// user `<token>` marks the secret as an identity token.
pub fn from_helper(program: &Path, host: &str) -> Result<Option<Credentials>, AuthError> {
    let Some(text) = run_helper(program, "get", server_key(host).as_bytes())? else {
        return Ok(None);
    };
    let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| AuthError::Helper {
        program: program.display().to_string(),
        message: format!("not JSON: {e}"),
    })?;
    let field = |k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or_default();
    if field("Secret").is_empty() {
        return Ok(None);
    }
    if field("Username") == TOKEN_USER {
        return Ok(Some(Credentials::token(field("Secret"))));
    }
    Ok(Some(Credentials::new(field("Username"), field("Secret"))))
}

/// Run `docker-credential-NAME ACTION` (get, store, erase) with `input`
/// on stdin: its stdout, or none when it answers "credentials not found"
/// (a get or erase of what it does not hold).
pub(super) fn run_helper(
    program: &Path,
    action: &str,
    input: &[u8],
) -> Result<Option<String>, AuthError> {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let failed = |message: String| AuthError::Helper {
        program: program.display().to_string(),
        message,
    };
    let mut child = Command::new(program)
        .arg(action)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| failed(e.to_string()))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A helper that exits without reading says why on stderr: its
        // status and message tell more than the broken pipe would.
        let _ = stdin.write_all(input);
    }
    let out = child
        .wait_with_output()
        .map_err(|e| failed(e.to_string()))?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    if out.status.success() {
        return Ok(Some(text));
    }
    if text.contains("credentials not found") {
        return Ok(None);
    }
    let err = String::from_utf8_lossy(&out.stderr);
    Err(failed(
        format!("{action}: {} {}", text.trim(), err.trim())
            .trim()
            .to_string(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::TempDir;

    #[test]
    fn challenges_parse_as_registries_send_them() {
        assert_eq!(
            parse_challenge(r#"Basic realm="basic-realm""#),
            Some(Challenge::Basic)
        );
        assert_eq!(
            parse_challenge(
                r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull,push""#
            ),
            Some(Challenge::Bearer {
                realm: "https://auth.docker.io/token".into(),
                service: Some("registry.docker.io".into())
            })
        );
        assert_eq!(
            parse_challenge("bearer realm=http://t/x, service = s"),
            Some(Challenge::Bearer {
                realm: "http://t/x".into(),
                service: Some("s".into())
            })
        );
        assert_eq!(parse_challenge(r#"Bearer service="s""#), None, "no realm");
        assert_eq!(parse_challenge("Negotiate abc"), None);
    }

    #[test]
    fn credentials_come_from_docker_config_under_any_of_its_names() {
        let d = TempDir::new("auth-config");
        let p = d.path().join("config.json");
        assert_eq!(credentials_in(&p, "reg:5000").unwrap(), None, "no file");
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        let cfg = serde_json::json!({"auths": {
            "https://index.docker.io/v1/": {"auth": b64("hub:pw")},
            "reg:5000": {"auth": b64("me:p:w")},
            "other:1": {"username": "u", "password": "p"},
            "bad:1": {"auth": "%%%"},
            "tok:1": {"auth": b64("me:"), "identitytoken": "rt"},
        }});
        std::fs::write(&p, serde_json::to_vec(&cfg).unwrap()).unwrap();
        let get = |h: &str| {
            credentials_in(&p, h)
                .unwrap()
                .map(|c| (c.username, c.password))
        };
        assert_eq!(get("reg:5000"), Some(("me".into(), "p:w".into())));
        assert_eq!(
            get(super::super::DOCKER_HUB),
            Some(("hub".into(), "pw".into()))
        );
        assert_eq!(get("other:1"), Some(("u".into(), "p".into())));
        assert_eq!(get("reg:5001"), None);
        let mut with_token = Credentials::new("me", "");
        with_token.identity_token = Some("rt".into());
        assert_eq!(credentials_in(&p, "tok:1").unwrap(), Some(with_token));
        let e = credentials_in(&p, "bad:1").unwrap_err();
        assert!(e.to_string().contains("not base64"), "{e}");
        let c = Credentials::new("a", "b");
        assert_eq!(c.basic(), "Basic YTpi");
        assert_eq!(format!("{c:?}"), r#"Credentials("a", <secret>)"#);
    }
}

#[cfg(test)]
mod helpers {
    use super::*;
    use crate::testutil::TempDir;

    /// A shell script at `d/name`, written by a child process: a file this
    /// process held open for writing would be inherited by a child another
    /// test thread forks at that moment, and executing it would then fail
    /// with ETXTBSY ("Text file busy"), as it once did here.
    fn script(d: &TempDir, name: &str, body: &str) -> PathBuf {
        let p = d.path().join(name);
        let st = std::process::Command::new("sh")
            .args([
                "-c",
                r#"printf '#!/bin/sh\n%s\n' "$1" > "$2" && chmod 755 "$2""#,
            ])
            .args(["sh", body])
            .arg(&p)
            .status()
            .unwrap();
        assert!(st.success());
        p
    }

    #[test]
    fn a_credential_helper_is_asked_with_the_server_on_stdin() {
        let d = TempDir::new("auth-helper");
        let ok = script(
            &d,
            "ok",
            r#"read s; [ "$1" = get ] && printf '{"ServerURL":"%s","Username":"u-%s","Secret":"pw"}' "$s" "$s""#,
        );
        let c = from_helper(&ok, "reg:5000").unwrap().unwrap();
        assert_eq!(
            (c.username.as_str(), c.password.as_str()),
            ("u-reg:5000", "pw")
        );
        let c = from_helper(&ok, super::super::DOCKER_HUB).unwrap().unwrap();
        assert_eq!(c.username, "u-https://index.docker.io/v1/");
        let none = script(
            &d,
            "none",
            "echo credentials not found in native keychain; exit 1",
        );
        assert!(from_helper(&none, "reg:5000").unwrap().is_none());
        let token = script(&d, "token", r#"echo '{"Username":"<token>","Secret":"x"}'"#);
        let c = from_helper(&token, "reg:5000").unwrap().unwrap();
        assert_eq!(c, Credentials::token("x"));
        let broken = script(&d, "broken", "echo oops >&2; exit 3");
        let e = from_helper(&broken, "reg:5000").unwrap_err();
        assert!(e.to_string().contains("oops"), "{e}");
        let e = from_helper(&d.path().join("absent"), "reg:5000").unwrap_err();
        assert!(e.to_string().contains("absent"), "{e}");
    }
}
