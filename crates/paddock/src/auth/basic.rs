//! HTTP Basic credentials (RFC 7617).

use axum::http::HeaderValue;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// The two halves of an HTTP Basic header, as sent.
pub struct BasicCredentials {
    pub user: String,
    pub password: String,
}

impl std::fmt::Debug for BasicCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BasicCredentials")
            .field("user", &self.user)
            .field("password", &"[redacted]")
            .finish()
    }
}

/// `Ok(None)` when the header uses another scheme; `Err` with what is wrong when it
/// claims to be Basic but is malformed.
pub fn parse_basic(value: &HeaderValue) -> Result<Option<BasicCredentials>, &'static str> {
    let value = value
        .to_str()
        .map_err(|_| "the Authorization header is not visible ASCII")?;
    let Some((scheme, encoded)) = value.trim().split_once(' ') else {
        return Ok(None);
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Ok(None);
    }
    let decoded = STANDARD
        .decode(encoded.trim())
        .map_err(|_| "the Basic credentials are not valid base64")?;
    let decoded =
        String::from_utf8(decoded).map_err(|_| "the Basic credentials are not valid UTF-8")?;
    let (user, password) = decoded
        .split_once(':')
        .ok_or("the Basic credentials have no `:` between id and secret")?;
    Ok(Some(BasicCredentials {
        user: user.to_owned(),
        password: password.to_owned(),
    }))
}
