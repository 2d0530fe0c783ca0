//! How to reach a registry: which schemes to try and which certificates to
//! trust, as docker decides it.

use std::fs;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use ureq::tls::{Certificate, ClientCert, PemItem, PrivateKey, RootCerts, TlsConfig};

/// Where docker keeps a registry's own CA and client certificate.
pub const DOCKER_CERTS_D: &str = "/etc/docker/certs.d";

/// The system's CA bundle, first found wins (Debian, then Fedora).
const SYSTEM_BUNDLES: [&str; 2] = [
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
];

/// How to talk TLS to a registry.
#[derive(Debug, Clone)]
pub struct TlsOptions {
    /// Verify the registry's certificate. Off also allows plain http, as
    /// docker's `insecure-registries` does.
    pub verify: bool,
    /// A directory of `*.crt` CAs and a `*.cert`/`*.key` client pair, in
    /// place of `/etc/docker/certs.d/HOST:PORT`.
    pub cert_dir: Option<PathBuf>,
}

impl Default for TlsOptions {
    fn default() -> Self {
        TlsOptions {
            verify: true,
            cert_dir: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("{path}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: not a PEM certificate or key")]
    Pem { path: PathBuf, source: ureq::Error },
    #[error("{0}: a client certificate without its key (want NAME.cert and NAME.key)")]
    NoKey(PathBuf),
}

/// Whether plain http may be tried for `host` (`HOST[:PORT]`): loopback
/// only, as docker allows it without configuration.
pub fn plain_http_allowed(host: &str) -> bool {
    let name = match host.rsplit_once(':') {
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) && !h.ends_with(':') => h,
        _ => host,
    };
    let name = name.trim_start_matches('[').trim_end_matches(']');
    name == "localhost" || name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The schemes to try for `host`, in order.
pub fn schemes(host: &str, opts: &TlsOptions) -> &'static [&'static str] {
    if !opts.verify || plain_http_allowed(host) {
        &["https", "http"]
    } else {
        &["https"]
    }
}

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    fs::read(path).map_err(|source| TlsError::Read {
        path: path.to_path_buf(),
        source,
    })
}

fn pem_items(path: &Path) -> Result<Vec<PemItem<'static>>, TlsError> {
    let data = read(path)?;
    ureq::tls::parse_pem(&data)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|source| TlsError::Pem {
            path: path.to_path_buf(),
            source,
        })
}

/// The files of `dir` ending in `ext`, sorted; none if `dir` is absent.
fn files_with(dir: &Path, ext: &str) -> Result<Vec<PathBuf>, TlsError> {
    let rd = match fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(vec![]),
        Err(source) => {
            return Err(TlsError::Read {
                path: dir.to_path_buf(),
                source,
            })
        }
    };
    let mut out: Vec<PathBuf> = rd
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .collect();
    out.sort();
    Ok(out)
}

fn certificates(path: &Path) -> Result<Vec<Certificate<'static>>, TlsError> {
    Ok(pem_items(path)?
        .into_iter()
        .filter_map(|i| match i {
            PemItem::Certificate(c) => Some(c),
            _ => None,
        })
        .collect())
}

/// A client certificate pair of the registry's directory, if it has one.
fn client_cert(dir: &Path) -> Result<Option<ClientCert>, TlsError> {
    let Some(cert) = files_with(dir, "cert")?.into_iter().next() else {
        return Ok(None);
    };
    let key_path = cert.with_extension("key");
    let key: Option<PrivateKey<'static>> = match pem_items(&key_path) {
        Ok(items) => items.into_iter().find_map(|i| match i {
            PemItem::PrivateKey(k) => Some(k),
            _ => None,
        }),
        Err(TlsError::Read { .. }) => None,
        Err(e) => return Err(e),
    };
    let key = key.ok_or(TlsError::NoKey(cert.clone()))?;
    Ok(Some(ClientCert::new_with_certs(&certificates(&cert)?, key)))
}

/// The TLS configuration for `host`: the system's roots plus the
/// registry's own CAs (`--cert-dir`, else docker's certs.d directory).
pub fn config(host: &str, opts: &TlsOptions) -> Result<TlsConfig, TlsError> {
    let dir = opts
        .cert_dir
        .clone()
        .unwrap_or_else(|| Path::new(DOCKER_CERTS_D).join(host));
    let mut roots = Vec::new();
    let system = SYSTEM_BUNDLES.iter().map(Path::new).find(|p| p.is_file());
    if let Some(bundle) = system {
        roots.extend(certificates(bundle)?);
    }
    for ca in files_with(&dir, "crt")? {
        roots.extend(certificates(&ca)?);
    }
    // Without a system bundle and no CA of its own, Mozilla's roots.
    let roots = if system.is_none() && roots.is_empty() {
        RootCerts::WebPki
    } else {
        RootCerts::from(roots)
    };
    Ok(TlsConfig::builder()
        .root_certs(roots)
        .client_cert(client_cert(&dir)?)
        .disable_verification(!opts.verify)
        .build())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_is_for_loopback_only() {
        for ok in [
            "localhost",
            "localhost:5000",
            "127.0.0.1:5000",
            "127.3.2.1",
            "[::1]:5000",
        ] {
            assert!(plain_http_allowed(ok), "{ok}");
        }
        for no in [
            "registry-1.docker.io",
            "10.0.0.1:5000",
            "localhost.example:5000",
            "[::2]:5000",
            "128.0.0.1",
        ] {
            assert!(!plain_http_allowed(no), "{no}");
        }
        let o = TlsOptions::default();
        assert_eq!(schemes("quay.io", &o), ["https"]);
        assert_eq!(schemes("127.0.0.1:5000", &o), ["https", "http"]);
        let off = TlsOptions {
            verify: false,
            cert_dir: None,
        };
        assert_eq!(schemes("quay.io", &off), ["https", "http"]);
    }
}
