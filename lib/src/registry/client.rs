//! One registry over HTTP: the `/v2/` ping, the challenge it answers with,
//! and authenticated GETs. Blocking: a pull is a few large sequential
//! transfers, and threads give what concurrency it needs.

use super::auth::{self, Challenge, Credentials};
use super::tls::{self, TlsOptions};
use super::RegistryError;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;
use ureq::http::{Response, StatusCode};
use ureq::{Agent, Body};

/// The largest token response read.
const MAX_TOKEN: u64 = 1 << 20;

/// Who cairn says it is to an OAuth2 token server.
const CLIENT_ID: &str = "cairn";

/// A registry, pinged and ready for authenticated requests.
pub struct Client {
    agent: Agent,
    /// `https://host:port` or `http://host:port`.
    base: String,
    host: String,
    challenge: Option<Challenge>,
    credentials: Option<Credentials>,
    /// Bearer tokens by scope, for the run.
    tokens: Mutex<HashMap<String, String>>,
    /// The OAuth2 refresh token tokens are asked for with: the identity
    /// token of the credentials, or the one the token server handed out.
    refresh: Mutex<Option<String>>,
    /// Ask the token server for a refresh token (as `docker login` does).
    offline: bool,
}

/// What went wrong with one request.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("{url}")]
    Transport {
        url: String,
        #[source]
        source: Box<ureq::Error>,
    },
    #[error("{url}: {status}")]
    Status { url: String, status: StatusCode },
}

fn agent(tls: ureq::tls::TlsConfig) -> Agent {
    Agent::config_builder()
        .tls_config(tls)
        .http_status_as_error(false)
        .timeout_connect(Some(Duration::from_secs(30)))
        .timeout_recv_response(Some(Duration::from_secs(120)))
        .user_agent(concat!("cairn/", env!("CARGO_PKG_VERSION")))
        .build()
        .into()
}

fn transport(url: &str) -> impl FnOnce(ureq::Error) -> HttpError + '_ {
    move |e| HttpError::Transport {
        url: url.to_string(),
        source: Box::new(e),
    }
}

impl Client {
    /// Reach `host`: https first and, where allowed, plain http; learn how
    /// it wants to be authenticated from its `/v2/` answer.
    pub fn connect(host: &str, opts: &TlsOptions) -> Result<Client, RegistryError> {
        let credentials = match auth::docker_config_path() {
            Some(p) => auth::credentials_in(&p, host)?,
            None => None,
        };
        Client::connect_as(host, opts, credentials)
    }

    /// Reach `host` as [`Client::connect`] does, with these credentials
    /// instead of docker's stored ones.
    pub fn connect_as(
        host: &str,
        opts: &TlsOptions,
        credentials: Option<Credentials>,
    ) -> Result<Client, RegistryError> {
        let tls = tls::config(host, opts).map_err(|source| RegistryError::Tls {
            host: host.to_string(),
            source,
        })?;
        let agent = agent(tls);
        let mut first_error = None;
        for scheme in tls::schemes(host, opts) {
            let base = format!("{scheme}://{host}");
            let url = format!("{base}/v2/");
            let resp = match agent.get(&url).call() {
                Ok(r) => r,
                Err(e) => {
                    first_error.get_or_insert_with(|| transport(&url)(e));
                    continue;
                }
            };
            let challenge = match resp.status() {
                s if s.is_success() => None,
                StatusCode::UNAUTHORIZED => resp
                    .headers()
                    .get("www-authenticate")
                    .and_then(|v| v.to_str().ok())
                    .and_then(auth::parse_challenge),
                // An https registry answers plain http with a 400: what
                // went wrong is what https said.
                _ if first_error.is_some() => continue,
                status => {
                    return Err(RegistryError::NotARegistry {
                        host: host.to_string(),
                        source: HttpError::Status { url, status },
                    })
                }
            };
            return Ok(Client {
                agent,
                base,
                host: host.to_string(),
                challenge,
                refresh: Mutex::new(credentials.as_ref().and_then(|c| c.identity_token.clone())),
                credentials,
                tokens: Mutex::new(HashMap::new()),
                offline: false,
            });
        }
        Err(RegistryError::Unreachable {
            host: host.to_string(),
            source: first_error.expect("at least one scheme is tried"),
        })
    }

    pub fn host(&self) -> &str {
        &self.host
    }

    /// The status of an authenticated `GET /v2/` (a token for no scope
    /// when the registry wants Bearer): 200 when the credentials are good.
    /// A token refused comes back as its status, as the registry would
    /// refuse the request itself.
    pub fn check(&self) -> Result<StatusCode, HttpError> {
        let url = format!("{}/v2/", self.base);
        match self.get(&url, "", &[]) {
            Ok(r) => Ok(r.status()),
            Err(HttpError::Status { status, .. }) => Ok(status),
            Err(e) => Err(e),
        }
    }

    /// `https://host/v2/REPOSITORY/KIND/OBJECT`.
    pub fn url(&self, repository: &str, kind: &str, object: &str) -> String {
        format!("{}/v2/{repository}/{kind}/{object}", self.base)
    }

    /// Ask the token server for a refresh token with the next token, as
    /// `docker login` does: [`Client::refresh_token`] has it afterwards.
    pub fn offline(mut self) -> Client {
        self.offline = true;
        self
    }

    /// The refresh token the token server handed out, if it did.
    pub fn refresh_token(&self) -> Option<String> {
        self.refresh.lock().expect("refresh token").clone()
    }

    /// A Bearer token for `scope`, fetched once per run: with the refresh
    /// token (an OAuth2 POST) where there is one, else a GET with the user
    /// name and password.
    fn token(&self, realm: &str, service: Option<&str>, scope: &str) -> Result<String, HttpError> {
        if let Some(t) = self.tokens.lock().expect("token cache").get(scope) {
            return Ok(t.clone());
        }
        let refresh = self.refresh_token();
        let mut resp = match &refresh {
            Some(r) => self.oauth_token(realm, service, scope, r)?,
            None => self.basic_token(realm, service, scope)?,
        };
        if !resp.status().is_success() {
            return Err(HttpError::Status {
                url: realm.to_string(),
                status: resp.status(),
            });
        }
        let data = resp
            .body_mut()
            .with_config()
            .limit(MAX_TOKEN)
            .read_to_vec()
            .map_err(transport(realm))?;
        let v: serde_json::Value = serde_json::from_slice(&data).unwrap_or_default();
        let field = |k: &str| v.get(k).and_then(|t| t.as_str()).filter(|t| !t.is_empty());
        if let Some(r) = field("refresh_token") {
            *self.refresh.lock().expect("refresh token") = Some(r.to_string());
        }
        let token = field("token")
            .or_else(|| field("access_token"))
            .unwrap_or_default()
            .to_string();
        self.tokens
            .lock()
            .expect("token cache")
            .insert(scope.to_string(), token.clone());
        Ok(token)
    }

    /// `GET realm?scope=&service=` with Basic credentials, if any.
    fn basic_token(
        &self,
        realm: &str,
        service: Option<&str>,
        scope: &str,
    ) -> Result<Response<Body>, HttpError> {
        let mut req = self.agent.get(realm);
        if !scope.is_empty() {
            req = req.query("scope", scope);
        }
        if let Some(s) = service {
            req = req.query("service", s);
        }
        if self.offline {
            req = req
                .query("offline_token", "true")
                .query("client_id", CLIENT_ID);
        }
        if let Some(c) = self.credentials.as_ref().filter(|c| !c.password.is_empty()) {
            req = req.header("Authorization", c.basic());
        }
        req.call().map_err(transport(realm))
    }

    /// The OAuth2 refresh-token grant: a form POSTed to `realm`.
    fn oauth_token(
        &self,
        realm: &str,
        service: Option<&str>,
        scope: &str,
        refresh: &str,
    ) -> Result<Response<Body>, HttpError> {
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh),
            ("service", service.unwrap_or_default()),
            ("scope", scope),
            ("client_id", CLIENT_ID),
        ];
        self.agent
            .post(realm)
            .send_form(form)
            .map_err(transport(realm))
    }

    /// The `Authorization` header for a request in `scope`, if any.
    fn authorization(&self, scope: &str) -> Result<Option<String>, HttpError> {
        Ok(match &self.challenge {
            None => None,
            Some(Challenge::Basic) => self.credentials.as_ref().map(Credentials::basic),
            Some(Challenge::Bearer { realm, service }) => {
                let t = self.token(realm, service.as_deref(), scope)?;
                (!t.is_empty()).then(|| format!("Bearer {t}"))
            }
        })
    }

    /// Send `method` to `url` with authorization for `scope`, `headers`
    /// and `body`; any status comes back, for the caller to judge. Not
    /// sent again on a refused token: a body streams once.
    pub fn send(
        &self,
        method: &str,
        url: &str,
        scope: &str,
        headers: &[(&str, String)],
        body: ureq::SendBody<'_>,
    ) -> Result<Response<Body>, HttpError> {
        let mut req = ureq::http::Request::builder().method(method).uri(url);
        for (k, v) in headers {
            req = req.header(*k, v);
        }
        if let Some(a) = self.authorization(scope)? {
            req = req.header("Authorization", a);
        }
        let req = req.body(body).map_err(|e| transport(url)(e.into()))?;
        self.agent.run(req).map_err(transport(url))
    }

    /// An absolute URL for a `Location` the registry answered with (it may
    /// be a path only).
    pub fn absolute(&self, location: &str) -> String {
        match location.starts_with('/') {
            true => format!("{}{location}", self.base),
            false => location.to_string(),
        }
    }

    /// GET `url` with authorization for `scope` and `headers`; any status comes back
    /// as a response, for the caller to judge. A Bearer token refused
    /// (it expired during a long pull) is dropped and fetched again, once.
    pub fn get(
        &self,
        url: &str,
        scope: &str,
        headers: &[(&str, String)],
    ) -> Result<Response<Body>, HttpError> {
        let send = || {
            let mut req = self.agent.get(url);
            for (k, v) in headers {
                req = req.header(*k, v);
            }
            let auth = self.authorization(scope)?;
            if let Some(a) = &auth {
                req = req.header("Authorization", a);
            }
            req.call().map_err(transport(url)).map(|r| (r, auth))
        };
        let (resp, used) = send()?;
        let bearer = matches!(self.challenge, Some(Challenge::Bearer { .. }));
        if resp.status() != StatusCode::UNAUTHORIZED || !bearer {
            return Ok(resp);
        }
        {
            // Another thread may have replaced the token already: drop it
            // only if it is the one refused.
            let mut tokens = self.tokens.lock().expect("token cache");
            let refused = used.as_deref().and_then(|u| u.strip_prefix("Bearer "));
            if tokens.get(scope).map(String::as_str) == refused {
                tokens.remove(scope);
            }
        }
        send().map(|(r, _)| r)
    }
}
