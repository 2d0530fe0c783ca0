//! Image references as people type them: `busybox`, `busybox:1.36`,
//! `docker.io/library/busybox:latest`, `registry:5000/team/app:v2`.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// Registry host (with port), if one was given and it is not docker.io.
    pub domain: Option<String>,
    /// Repository path, e.g. `busybox` or `team/app`.
    pub path: String,
    pub tag: String,
}

#[derive(Debug, thiserror::Error)]
#[error(
    "invalid image name {0:?}: expected NAME[:TAG] with a lowercase name (e.g. busybox:latest)"
)]
pub struct ReferenceError(pub String);

fn valid_component(c: &str) -> bool {
    // [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*
    let b = c.as_bytes();
    if b.is_empty() || !b[0].is_ascii_alphanumeric() || !b[b.len() - 1].is_ascii_alphanumeric() {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        let ch = b[i];
        if ch.is_ascii_lowercase() || ch.is_ascii_digit() {
            i += 1;
            continue;
        }
        match ch {
            b'.' => {
                if !b[i + 1].is_ascii_alphanumeric() {
                    return false;
                }
                i += 1
            }
            b'_' => {
                if b[i + 1] == b'_' {
                    i += 1;
                }
                if !b[i + 1].is_ascii_alphanumeric() {
                    return false;
                }
                i += 1;
            }
            b'-' => {
                while b[i] == b'-' {
                    i += 1;
                }
                if !b[i].is_ascii_alphanumeric() {
                    return false;
                }
            }
            _ => return false,
        }
    }
    true
}

fn valid_tag(t: &str) -> bool {
    let b = t.as_bytes();
    !b.is_empty()
        && b.len() <= 128
        && (b[0].is_ascii_alphanumeric() || b[0] == b'_')
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'))
}

impl Reference {
    pub fn parse(s: &str) -> Result<Reference, ReferenceError> {
        let err = || ReferenceError(s.to_string());
        if s.is_empty() || s.len() > 255 || s.contains('@') {
            return Err(err());
        }
        // The tag is after the last ':' that follows the last '/'.
        let last_slash = s.rfind('/').map(|i| i + 1).unwrap_or(0);
        let (name, tag) = match s[last_slash..].rfind(':') {
            Some(i) => (&s[..last_slash + i], &s[last_slash + i + 1..]),
            None => (s, "latest"),
        };
        if !valid_tag(tag) {
            return Err(err());
        }
        let mut parts: Vec<&str> = name.split('/').collect();
        let mut domain = None;
        if parts.len() > 1 {
            let first = parts[0];
            if first.contains('.') || first.contains(':') || first == "localhost" {
                domain = Some(first.to_string());
                parts.remove(0);
            }
        }
        if parts.is_empty() || !parts.iter().all(|p| valid_component(p)) {
            return Err(err());
        }
        if let Some(d) = &domain {
            if d == "docker.io" || d == "index.docker.io" {
                domain = None;
                if parts.len() == 2 && parts[0] == "library" {
                    parts.remove(0);
                }
            } else if !d
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-' | b':' | b'[' | b']'))
            {
                return Err(err());
            }
        }
        Ok(Reference {
            domain,
            path: parts.join("/"),
            tag: tag.to_string(),
        })
    }

    /// `busybox:latest`, as docker shows it.
    pub fn familiar(&self) -> String {
        match &self.domain {
            Some(d) => format!("{d}/{}:{}", self.path, self.tag),
            None => format!("{}:{}", self.path, self.tag),
        }
    }

    /// The repository part of the familiar form (`busybox`).
    pub fn repository(&self) -> String {
        match &self.domain {
            Some(d) => format!("{d}/{}", self.path),
            None => self.path.clone(),
        }
    }

    /// `docker.io/library/busybox:latest`, as containerd names images.
    pub fn full(&self) -> String {
        match &self.domain {
            Some(d) => format!("{d}/{}:{}", self.path, self.tag),
            None if self.path.contains('/') => format!("docker.io/{}:{}", self.path, self.tag),
            None => format!("docker.io/library/{}:{}", self.path, self.tag),
        }
    }
}

/// A reference as `pull` takes it: a name with a tag, a digest, or both
/// (`busybox`, `busybox@sha256:…`, `busybox:1.36@sha256:…`). With a
/// digest, the digest names the content and the tag is only a name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remote {
    pub name: Reference,
    /// `sha256:<64 hex>`, checked for form only.
    pub digest: Option<String>,
    /// Whether a tag was written (`latest` is implied otherwise).
    pub tagged: bool,
}

/// The registry docker.io names resolve to.
pub const DOCKER_HUB: &str = "registry-1.docker.io";

/// A repository as a registry was addressed (`HOST/PATH`, what a pull or
/// push records) in the form docker shows it in `images` and
/// `RepoDigests`: Docker Hub's without its host and `library/`
/// (`registry-1.docker.io/library/busybox` is `busybox`), others whole.
/// None when it is not a repository name.
pub fn familiar_repository(host_path: &str) -> Option<String> {
    let (host, path) = host_path.split_once('/')?;
    let name = match host {
        DOCKER_HUB | "index.docker.io" | "docker.io" => format!("docker.io/{path}"),
        _ => host_path.to_string(),
    };
    Reference::parse(&name).ok().map(|r| r.repository())
}

impl Remote {
    pub fn parse(s: &str) -> Result<Remote, ReferenceError> {
        let (name, digest) = match s.split_once('@') {
            Some((n, d)) => (n, Some(d)),
            None => (s, None),
        };
        if let Some(d) = digest {
            let hex = d.strip_prefix("sha256:").unwrap_or("");
            if hex.len() != 64
                || !hex
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
            {
                return Err(ReferenceError(s.to_string()));
            }
        }
        let last_slash = name.rfind('/').map(|i| i + 1).unwrap_or(0);
        let tagged = name[last_slash..].contains(':');
        let name = Reference::parse(name).map_err(|_| ReferenceError(s.to_string()))?;
        Ok(Remote {
            name,
            digest: digest.map(str::to_string),
            tagged,
        })
    }

    /// The host to talk to: `registry-1.docker.io` for docker.io names.
    pub fn host(&self) -> &str {
        self.name.domain.as_deref().unwrap_or(DOCKER_HUB)
    }

    /// The repository as the registry names it (`library/busybox` for
    /// docker.io's official images).
    pub fn repository(&self) -> String {
        match &self.name.domain {
            None if !self.name.path.contains('/') => format!("library/{}", self.name.path),
            _ => self.name.path.clone(),
        }
    }

    /// What to ask the registry's manifests endpoint for: the digest if
    /// there is one, else the tag.
    pub fn object(&self) -> &str {
        self.digest.as_deref().unwrap_or(&self.name.tag)
    }

    /// The tag to give the pulled image: none for a bare digest reference.
    pub fn tag(&self) -> Option<&Reference> {
        (self.tagged || self.digest.is_none()).then_some(&self.name)
    }
}

impl fmt::Display for Remote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.digest, self.tagged) {
            (Some(d), false) => write!(f, "{}@{d}", self.name.repository()),
            (Some(d), true) => write!(f, "{}@{d}", self.name.familiar()),
            (None, _) => f.write_str(&self.name.familiar()),
        }
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.familiar())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        let r = Reference::parse("busybox").unwrap();
        assert_eq!(r.familiar(), "busybox:latest");
        assert_eq!(r.full(), "docker.io/library/busybox:latest");
        assert_eq!(
            Reference::parse("docker.io/library/busybox:1.36")
                .unwrap()
                .familiar(),
            "busybox:1.36"
        );
        assert_eq!(
            Reference::parse("localhost:5000/a/b:v1")
                .unwrap()
                .familiar(),
            "localhost:5000/a/b:v1"
        );
        assert_eq!(
            Reference::parse("team/app:v2").unwrap().full(),
            "docker.io/team/app:v2"
        );
        for bad in [
            "Busybox",
            "a:b:c",
            "",
            "x@sha256:00",
            "a/../b",
            "-a",
            "a:",
            "a:-x",
        ] {
            assert!(Reference::parse(bad).is_err(), "{bad}");
        }
    }
}

#[cfg(test)]
mod edge_cases {
    use super::*;

    fn parts(s: &str) -> (Option<String>, String, String) {
        let r = Reference::parse(s).unwrap();
        (r.domain, r.path, r.tag)
    }

    #[test]
    fn domains_are_told_from_path_components() {
        assert_eq!(parts("a/b"), (None, "a/b".into(), "latest".into()));
        assert_eq!(
            parts("localhost/a"),
            (Some("localhost".into()), "a".into(), "latest".into())
        );
        assert_eq!(
            parts("reg.io/a"),
            (Some("reg.io".into()), "a".into(), "latest".into())
        );
        assert_eq!(
            parts("reg:5000/a:1"),
            (Some("reg:5000".into()), "a".into(), "1".into())
        );
        assert_eq!(
            parts("[::1]:5000/a"),
            (Some("[::1]:5000".into()), "a".into(), "latest".into())
        );
        // docker.io and its library/ are implied
        assert_eq!(
            parts("index.docker.io/library/a"),
            (None, "a".into(), "latest".into())
        );
        assert_eq!(
            parts("docker.io/team/a"),
            (None, "team/a".into(), "latest".into())
        );
        assert_eq!(
            parts("docker.io/library/a/b"),
            (None, "library/a/b".into(), "latest".into())
        );
        // a colon before the last slash is the port, not a tag
        assert_eq!(parts("reg:5000/a").2, "latest");
    }

    #[test]
    fn components_follow_the_distribution_grammar() {
        for ok in [
            "a", "a0", "a.b", "a_b", "a__b", "a-b", "a---b", "0", "a/b/c/d",
        ] {
            assert!(Reference::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "a___b", "a..b", "a._b", "_a", "a_", "a.", ".a", "a-", "a//b", "/a", "a/", "A/b",
            "a b", "a\u{e9}", "reg.io/", "reg!io/a",
        ] {
            assert!(Reference::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn tags_are_bounded() {
        assert_eq!(parts("a:_x.Y-1").2, "_x.Y-1");
        assert!(Reference::parse(&format!("a:{}", "t".repeat(128))).is_ok());
        assert!(Reference::parse(&format!("a:{}", "t".repeat(129))).is_err());
        assert!(Reference::parse(&"a".repeat(256)).is_err());
        for bad in ["a:.x", "a:x y", "a::x"] {
            assert!(Reference::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn forms_round_trip() {
        for s in [
            "busybox:1",
            "team/app:v2",
            "reg:5000/a/b:c",
            "localhost/x:latest",
        ] {
            let r = Reference::parse(s).unwrap();
            assert_eq!(r.familiar(), s);
            assert_eq!(r.to_string(), s);
            assert_eq!(Reference::parse(&r.full()).unwrap(), r, "{s}");
            assert_eq!(Reference::parse(&r.familiar()).unwrap(), r, "{s}");
        }
        assert_eq!(
            Reference::parse("reg:5000/a:1").unwrap().repository(),
            "reg:5000/a"
        );
        assert_eq!(Reference::parse("a:1").unwrap().repository(), "a");
    }
}

#[cfg(test)]
mod remote {
    use super::*;

    const D: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn hub_names_resolve_as_docker_resolves_them() {
        let r = Remote::parse("busybox").unwrap();
        assert_eq!(
            (r.host(), r.repository(), r.object()),
            (DOCKER_HUB, "library/busybox".into(), "latest")
        );
        assert_eq!(r.tag().unwrap().familiar(), "busybox:latest");
        let r = Remote::parse("docker.io/team/app:v2").unwrap();
        assert_eq!(
            (r.host(), r.repository(), r.object()),
            (DOCKER_HUB, "team/app".into(), "v2")
        );
        let r = Remote::parse("localhost:5000/x:1").unwrap();
        assert_eq!(
            (r.host(), r.repository(), r.object()),
            ("localhost:5000", "x".into(), "1")
        );
        // a registry's own library/ is not docker's
        assert_eq!(Remote::parse("127.0.0.1:5000/y").unwrap().repository(), "y");
        assert_eq!(
            Remote::parse("127.0.0.1:5000/y").unwrap().to_string(),
            "127.0.0.1:5000/y:latest"
        );
    }

    #[test]
    fn a_digest_names_the_content_and_a_tag_only_a_name() {
        let r = Remote::parse(&format!("reg:5000/a@{D}")).unwrap();
        assert_eq!(r.object(), D);
        assert!(r.tag().is_none(), "a bare digest tags nothing");
        assert_eq!(r.to_string(), format!("reg:5000/a@{D}"));
        let r = Remote::parse(&format!("a:1@{D}")).unwrap();
        assert_eq!(r.object(), D);
        assert_eq!(r.tag().unwrap().familiar(), "a:1");
        assert_eq!(r.to_string(), format!("a:1@{D}"));
        for bad in [
            "a@sha256:00",
            "a@md5:0123",
            "a@",
            "@sha256:x",
            &format!("A@{D}"),
            &format!("a@{}", D.to_uppercase()),
        ] {
            assert!(Remote::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn familiar_repositories_as_docker_shows_them() {
        let f = |s| familiar_repository(s);
        assert_eq!(
            f("registry-1.docker.io/library/busybox").as_deref(),
            Some("busybox")
        );
        assert_eq!(f("index.docker.io/team/app").as_deref(), Some("team/app"));
        assert_eq!(
            f("localhost:5000/x/y").as_deref(),
            Some("localhost:5000/x/y")
        );
        assert_eq!(
            f("quay.io/library/busybox").as_deref(),
            Some("quay.io/library/busybox")
        );
        assert_eq!(f("busybox"), None);
        assert_eq!(f("registry-1.docker.io/Bad"), None);
    }
}
