//! OAuth 2.0 error responses (RFC 6749 §4.1.2.1 and §5.2).

use std::borrow::Cow;
use std::fmt;

/// The `error` codes an authorization or token endpoint answers with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OAuthErrorCode {
    /// A parameter is missing, repeated, malformed or unsupported (RFC 6749 §4.1.2.1, §5.2).
    InvalidRequest,
    /// Client authentication failed: unknown client, wrong secret, disabled client
    /// (RFC 6749 §5.2). Answered with 401.
    InvalidClient,
    /// The authorization code is invalid, expired, used, or bound to another client or
    /// redirect URI, or its PKCE verifier does not match (RFC 6749 §5.2, RFC 7636 §4.6).
    InvalidGrant,
    /// The client may not use this grant or response type (RFC 6749 §4.1.2.1, §5.2).
    UnauthorizedClient,
    /// The `grant_type` is not one this server supports (RFC 6749 §5.2).
    UnsupportedGrantType,
    /// A requested scope is unknown or malformed (RFC 6749 §4.1.2.1, §5.2).
    InvalidScope,
    /// The resource owner or the server denied the request (RFC 6749 §4.1.2.1).
    AccessDenied,
    /// The `response_type` is not one this server supports (RFC 6749 §4.1.2.1).
    UnsupportedResponseType,
    /// An unexpected condition stopped the server (RFC 6749 §4.1.2.1).
    ServerError,
    /// The server is temporarily overloaded or throttling (RFC 6749 §4.1.2.1).
    TemporarilyUnavailable,
}

impl OAuthErrorCode {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::InvalidScope => "invalid_scope",
            Self::AccessDenied => "access_denied",
            Self::UnsupportedResponseType => "unsupported_response_type",
            Self::ServerError => "server_error",
            Self::TemporarilyUnavailable => "temporarily_unavailable",
        }
    }
}

/// An OAuth error code with a description that tells the client what to fix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OAuthError {
    pub code: OAuthErrorCode,
    pub description: Cow<'static, str>,
}

/// Longer than any description paddock writes; bounds what a request can echo.
const MAX_DESCRIPTION: usize = 300;

/// RFC 6749 §5.2: `error_description` is limited to %x20-21 / %x23-5B / %x5D-7E.
fn is_description_char(c: char) -> bool {
    matches!(c, ' '..='!' | '#'..='[' | ']'..='~')
}

impl OAuthError {
    /// An error with `description`, kept to the characters RFC 6749 allows (others
    /// become `?`) and to a bounded length, since it may echo a request's input.
    pub fn new(code: OAuthErrorCode, description: impl Into<Cow<'static, str>>) -> Self {
        let description = description.into();
        let clean =
            description.len() <= MAX_DESCRIPTION && description.chars().all(is_description_char);
        let description = if clean {
            description
        } else {
            description
                .chars()
                .take(MAX_DESCRIPTION)
                .map(|c| if is_description_char(c) { c } else { '?' })
                .collect::<String>()
                .into()
        };
        Self { code, description }
    }

    pub fn invalid_request(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(OAuthErrorCode::InvalidRequest, description)
    }

    pub fn invalid_client(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(OAuthErrorCode::InvalidClient, description)
    }

    pub fn invalid_grant(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(OAuthErrorCode::InvalidGrant, description)
    }

    pub fn invalid_scope(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(OAuthErrorCode::InvalidScope, description)
    }

    pub fn access_denied(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(OAuthErrorCode::AccessDenied, description)
    }
}

impl fmt::Display for OAuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.description)
    }
}

impl std::error::Error for OAuthError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_keep_to_the_characters_rfc_6749_allows() {
        let e = OAuthError::invalid_scope("unknown scope `a\"b\\c\n\u{e9}`");
        assert_eq!(e.description, "unknown scope `a?b?c??`");
        let long = OAuthError::invalid_request("x".repeat(1000));
        assert_eq!(long.description.len(), MAX_DESCRIPTION);
        let fine = OAuthError::invalid_request("code is required");
        assert!(matches!(fine.description, Cow::Borrowed(_)));
    }
}
