//! Redirect URIs: what a client may register, and how a requested one is matched.
//!
//! Matching is exact string comparison (RFC 9700 §4.1.3), with one exception from
//! RFC 8252 §7.3: a loopback redirect (`http://127.0.0.1`, `http://[::1]`,
//! `http://localhost`) matches whatever its port, because native apps bind an
//! ephemeral port at run time. Everything else about it must still match exactly.

use std::fmt;

use serde::{Deserialize, Serialize};
use url::Url;

/// A redirect URI a client has registered: absolute, without a fragment, not a
/// script-bearing scheme.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RedirectUri(String);

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum InvalidRedirectUri {
    #[error("redirect URI `{0}` is not an absolute URI")]
    NotAbsolute(String),
    #[error("redirect URI `{0}` must not contain a fragment (RFC 6749 §3.1.2)")]
    Fragment(String),
    #[error("redirect URI `{0}` uses a scheme that cannot be a redirect target")]
    ForbiddenScheme(String),
    #[error("redirect URI is longer than {MAX_LEN} characters")]
    TooLong,
    #[error(
        "redirect URI `{0}` must be printable ASCII without spaces; percent-encode anything else"
    )]
    Characters(String),
}

const MAX_LEN: usize = 2000;

impl RedirectUri {
    pub fn parse(s: &str) -> Result<Self, InvalidRedirectUri> {
        if s.len() > MAX_LEN {
            return Err(InvalidRedirectUri::TooLong);
        }
        // What is registered is matched and sent back byte for byte: no control
        // characters (a header could not carry them), no raw non-ASCII.
        if !s.bytes().all(|b| b.is_ascii_graphic()) {
            let shown: String = s.chars().filter(|c| !c.is_control()).take(200).collect();
            return Err(InvalidRedirectUri::Characters(shown));
        }
        let url = Url::parse(s).map_err(|_| InvalidRedirectUri::NotAbsolute(s.to_owned()))?;
        if url.fragment().is_some() || s.contains('#') {
            return Err(InvalidRedirectUri::Fragment(s.to_owned()));
        }
        let forbidden = ["javascript", "data", "vbscript", "file", "blob", "about"];
        if forbidden.contains(&url.scheme()) {
            return Err(InvalidRedirectUri::ForbiddenScheme(s.to_owned()));
        }
        if url.cannot_be_a_base() && !s.contains(":/") {
            // `mailto:x`, `urn:x`: nothing a browser can be sent back to.
            return Err(InvalidRedirectUri::NotAbsolute(s.to_owned()));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `requested` may be used where this URI is registered.
    pub fn matches(&self, requested: &str) -> bool {
        if self.0 == requested {
            return true;
        }
        match (split_loopback(&self.0), split_loopback(requested)) {
            (Some(registered), Some(requested)) => {
                registered.host == requested.host && registered.rest == requested.rest
            }
            _ => false,
        }
    }
}

impl fmt::Debug for RedirectUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RedirectUri({:?})", self.0)
    }
}

impl fmt::Display for RedirectUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for RedirectUri {
    type Error = InvalidRedirectUri;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<RedirectUri> for String {
    fn from(uri: RedirectUri) -> Self {
        uri.0
    }
}

/// The first registered URI that `requested` matches.
pub fn find_match<'a>(registered: &'a [RedirectUri], requested: &str) -> Option<&'a RedirectUri> {
    registered.iter().find(|r| r.matches(requested))
}

struct Loopback<'a> {
    host: &'a str,
    rest: &'a str,
}

/// Splits `http://HOST[:PORT]REST` where HOST is a loopback name, textually, so that
/// nothing but the port is allowed to differ (no normalisation of case, dots or escapes).
fn split_loopback(uri: &str) -> Option<Loopback<'_>> {
    let after_scheme = uri.strip_prefix("http://")?;
    let end = after_scheme
        .find(['/', '?', '#'])
        .unwrap_or(after_scheme.len());
    let (authority, rest) = after_scheme.split_at(end);
    let host = ["127.0.0.1", "[::1]", "localhost"]
        .into_iter()
        .find(|h| authority.starts_with(h))?;
    let port = &authority[host.len()..];
    let valid_port = port.is_empty()
        || port.strip_prefix(':').is_some_and(|digits| {
            (1..=5).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
        });
    valid_port.then_some(Loopback { host, rest })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(s: &str) -> RedirectUri {
        RedirectUri::parse(s).unwrap()
    }

    #[test]
    fn exact_match_only_for_ordinary_uris() {
        let r = uri("https://app.example.com/callback");
        assert!(r.matches("https://app.example.com/callback"));
        assert!(!r.matches("https://app.example.com/callback/"));
        assert!(!r.matches("https://app.example.com/callback?x=1"));
        assert!(!r.matches("https://APP.example.com/callback"));
        assert!(!r.matches("https://app.example.com:443/callback"));
        assert!(!r.matches("https://app.example.com.evil.com/callback"));
    }

    #[test]
    fn loopback_may_vary_its_port_only() {
        let r = uri("http://127.0.0.1/callback");
        assert!(r.matches("http://127.0.0.1:53412/callback"));
        assert!(!r.matches("http://127.0.0.1:53412/other"));
        assert!(!r.matches("http://127.0.0.1:53412/callback?x=1"));
        assert!(!r.matches("https://127.0.0.1:53412/callback"));
        assert!(!r.matches("http://127.0.0.1:abc/callback"));
        assert!(!r.matches("http://127.0.0.1:53412@evil.com/callback"));
        let r = uri("http://localhost:3000/cb");
        assert!(r.matches("http://localhost:8000/cb"));
        assert!(r.matches("http://localhost/cb"));
        assert!(!r.matches("http://127.0.0.1:3000/cb"));
        assert!(!r.matches("http://localhost.evil.com/cb"));
        let r = uri("http://[::1]:1/cb");
        assert!(r.matches("http://[::1]:65535/cb"));
        let r = uri("http://localhost");
        assert!(r.matches("http://localhost:8080"));
        assert!(!r.matches("http://localhost:8080/"));
    }

    #[test]
    fn registration_rejects_fragments_relative_and_script_uris() {
        assert!(RedirectUri::parse("www.example.com/oauth_redirect").is_err());
        assert!(RedirectUri::parse("https://a.example/cb#frag").is_err());
        assert!(RedirectUri::parse("javascript:alert(1)").is_err());
        assert!(RedirectUri::parse("data:text/html,hi").is_err());
        assert!(RedirectUri::parse("com.example.app:/oauth2redirect").is_ok());
        assert!(RedirectUri::parse("http://localhost").is_ok());
        assert!(RedirectUri::parse("https://a.example/cb\r\nSet-Cookie:x").is_err());
        assert!(RedirectUri::parse("https://a.example/c b").is_err());
        assert!(RedirectUri::parse("https://a.example/caf\u{e9}").is_err());
    }
}
