//! `login` and `logout`: credentials checked against a registry, then kept
//! where docker keeps them (its `config.json`, or the credential helper it
//! names), so docker and cairn read each other's logins.

use super::auth::{self, AuthError, Credentials};
use super::client::Client;
use super::{RegistryError, TlsOptions};
use base64::Engine;
use serde_json::{json, Map, Value};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use ureq::http::StatusCode;

/// What went wrong logging in or out.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("{host}: the registry refused these credentials ({status}); nothing was stored")]
    Refused { host: String, status: StatusCode },
    #[error("{host}: checking the credentials")]
    Check {
        host: String,
        source: Box<RegistryError>,
    },
    #[error("{host}: the registry answered GET /v2/ with {status}")]
    Status { host: String, status: StatusCode },
    #[error("no place for docker's config.json: set DOCKER_CONFIG or HOME")]
    NoConfig,
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error("writing {path}")]
    Write { path: PathBuf, source: io::Error },
    #[error("{path}: not a JSON object; fix or remove it")]
    NotObject { path: PathBuf },
}

/// Where a login went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stored {
    /// Into this `config.json`'s `auths`.
    Config(PathBuf),
    /// Through this credential helper.
    Helper(String),
}

/// The registry host a `login`/`logout` argument names, as docker reads
/// it: none, `docker.io` or `index.docker.io` is Docker Hub; a URL gives
/// its host.
pub fn registry_host(arg: Option<&str>) -> String {
    let a = arg.unwrap_or("");
    let a = a
        .strip_prefix("https://")
        .or_else(|| a.strip_prefix("http://"))
        .unwrap_or(a);
    match a.split('/').next().unwrap_or("") {
        "" | "docker.io" | "index.docker.io" => super::DOCKER_HUB.to_string(),
        h => h.to_string(),
    }
}

/// Check `credentials` against `host` (`GET /v2/` through its challenge,
/// as `docker login` does), then store them: nothing is stored when the
/// registry refuses them. A token server that hands out a refresh token
/// gets that stored instead of the password, as docker does.
pub fn login(
    host: &str,
    mut credentials: Credentials,
    tls: &TlsOptions,
) -> Result<Stored, LoginError> {
    let check = |source| LoginError::Check {
        host: host.to_string(),
        source: Box::new(source),
    };
    let client = Client::connect_as(host, tls, Some(credentials.clone()))
        .map_err(check)?
        .offline();
    let status = client.check().map_err(|source| {
        check(RegistryError::Http {
            what: "GET /v2/".into(),
            source,
        })
    })?;
    match status {
        s if s.is_success() => {}
        s @ (StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) => {
            return Err(LoginError::Refused {
                host: host.to_string(),
                status: s,
            })
        }
        status => {
            return Err(LoginError::Status {
                host: host.to_string(),
                status,
            })
        }
    }
    if let Some(t) = client.refresh_token() {
        credentials.password.clear();
        credentials.identity_token = Some(t);
    }
    let path = auth::docker_config_path().ok_or(LoginError::NoConfig)?;
    store(&path, host, &credentials)
}

/// Store `credentials` for `host` as docker does: through the helper the
/// config at `path` names (an identity token as user `<token>`), else as
/// base64 `user:password` in its `auths`, with `identitytoken` beside it.
pub fn store(path: &Path, host: &str, credentials: &Credentials) -> Result<Stored, LoginError> {
    let mut cfg = read(path)?;
    if let Some(helper) = auth::helper_for(&Value::Object(cfg.clone()), host) {
        let (user, secret) = match &credentials.identity_token {
            Some(t) => (auth::TOKEN_USER, t),
            None => (credentials.username.as_str(), &credentials.password),
        };
        let msg = json!({
            "ServerURL": auth::server_key(host),
            "Username": user,
            "Secret": secret,
        });
        auth::run_helper(&helper, "store", &serde_json::to_vec(&msg).expect("JSON"))?;
        return Ok(Stored::Helper(helper.display().to_string()));
    }
    let raw = format!("{}:{}", credentials.username, credentials.password);
    let mut entry = json!({"auth": base64::engine::general_purpose::STANDARD.encode(raw)});
    if let Some(t) = &credentials.identity_token {
        entry["identitytoken"] = json!(t);
    }
    let auths = cfg
        .entry("auths")
        .or_insert_with(|| Value::Object(Map::new()));
    if !auths.is_object() {
        *auths = Value::Object(Map::new());
    }
    let auths = auths.as_object_mut().expect("made an object");
    auths.retain(|k, _| !auth::key_names(k, host));
    auths.insert(auth::server_key(host).to_string(), entry);
    write(path, &cfg)?;
    Ok(Stored::Config(path.to_path_buf()))
}

/// Forget `host`'s credentials: erase them from the helper the config
/// names, and drop its `auths` entries. Whether there was anything to
/// forget in the config file.
pub fn logout(host: &str) -> Result<bool, LoginError> {
    let path = auth::docker_config_path().ok_or(LoginError::NoConfig)?;
    erase(&path, host)
}

/// [`logout`] with the config at `path`.
pub fn erase(path: &Path, host: &str) -> Result<bool, LoginError> {
    let mut cfg = read(path)?;
    if let Some(helper) = auth::helper_for(&Value::Object(cfg.clone()), host) {
        auth::run_helper(&helper, "erase", auth::server_key(host).as_bytes())?;
    }
    let Some(auths) = cfg.get_mut("auths").and_then(Value::as_object_mut) else {
        return Ok(false);
    };
    let before = auths.len();
    auths.retain(|k, _| !auth::key_names(k, host));
    if auths.len() == before {
        return Ok(false);
    }
    write(path, &cfg)?;
    Ok(true)
}

/// The config at `path` as a JSON object; a missing file is an empty one.
fn read(path: &Path) -> Result<Map<String, Value>, LoginError> {
    let data = match std::fs::read(path) {
        Ok(d) => d,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Map::new()),
        Err(source) => {
            return Err(AuthError::Read {
                path: path.to_path_buf(),
                source,
            }
            .into())
        }
    };
    match serde_json::from_slice(&data) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(LoginError::NotObject {
            path: path.to_path_buf(),
        }),
        Err(source) => Err(AuthError::Json {
            path: path.to_path_buf(),
            source,
        }
        .into()),
    }
}

/// Replace the config at `path` whole: a 0600 temporary file in the same
/// directory, synced, renamed over it (a reader sees the old file or the
/// new one, never half of one).
fn write(path: &Path, cfg: &Map<String, Value>) -> Result<(), LoginError> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    let err = |source| LoginError::Write {
        path: path.to_path_buf(),
        source,
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(err)?;
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("config");
    let tmp = dir.join(format!(".{name}.{}", crate::store::random_hex()));
    let result = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        let mut data = serde_json::to_vec_pretty(cfg).expect("JSON");
        data.push(b'\n');
        f.write_all(&data)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::TempDir;
    use std::os::unix::fs::PermissionsExt;

    fn creds(u: &str, p: &str) -> Credentials {
        Credentials::new(u, p)
    }

    #[test]
    fn a_login_is_filed_as_docker_files_it_and_other_keys_stay() {
        let d = TempDir::new("login-store");
        let p = d.path().join("sub/config.json");
        store(&p, "reg:5000", &creds("me", "pw")).unwrap();
        let mode = std::fs::metadata(&p).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(
            auth::credentials_in(&p, "reg:5000").unwrap(),
            Some(creds("me", "pw"))
        );
        std::fs::write(
            &p,
            r#"{"auths": {"http://reg:5000/v2/": {"auth": "eDp5"}, "o:1": {"auth": "eDp5"}}, "psFormat": "x"}"#,
        )
        .unwrap();
        store(&p, "reg:5000", &creds("me", "new")).unwrap();
        let v: Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
        assert_eq!(v["psFormat"], "x");
        let keys: Vec<&String> = v["auths"].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["o:1", "reg:5000"]);
        store(&p, crate::reference::DOCKER_HUB, &creds("h", "p")).unwrap();
        let v: Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
        assert!(v["auths"]["https://index.docker.io/v1/"].is_object());
        assert!(erase(&p, "reg:5000").unwrap());
        assert!(!erase(&p, "reg:5000").unwrap());
        assert_eq!(auth::credentials_in(&p, "reg:5000").unwrap(), None);
        assert_eq!(
            auth::credentials_in(&p, "o:1").unwrap(),
            Some(creds("x", "y"))
        );
        let mut token = creds("me", "");
        token.identity_token = Some("rt".into());
        store(&p, "tok:1", &token).unwrap();
        assert_eq!(auth::credentials_in(&p, "tok:1").unwrap(), Some(token));
        let leftovers = std::fs::read_dir(p.parent().unwrap()).unwrap().count();
        assert_eq!(leftovers, 1, "no temporary file left");
        std::fs::write(&p, "[]").unwrap();
        let e = store(&p, "reg:5000", &creds("a", "b")).unwrap_err();
        assert!(e.to_string().contains("not a JSON object"), "{e}");
    }
}
