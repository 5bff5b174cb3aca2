//! Request bodies and query strings, parsed with paddock's own rejections: axum's
//! defaults answer in plain text, and every surface here answers in JSON.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use paddock_core::form::Params;
use paddock_core::oauth::error::OAuthError;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// Largest body any endpoint accepts.
pub const BODY_LIMIT: usize = 64 * 1024;

/// A JSON body on an Alpaca surface: malformed JSON is a 400 `{code, message}` that
/// says what is wrong. The content type is not insisted on, as Alpaca's is not.
pub struct AlpacaJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for AlpacaJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(body_rejection)?;
        serde_json::from_slice(&bytes).map(AlpacaJson).map_err(|e| {
            ApiError::bad_request(format!("the body is not valid JSON for this request: {e}"))
        })
    }
}

pub fn body_rejection(rejection: BytesRejection) -> ApiError {
    match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::Alpaca {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            message: format!("the body is larger than {BODY_LIMIT} bytes").into(),
            challenge: None,
            retry_after: None,
        },
        _ => ApiError::bad_request(format!("the body could not be read: {rejection}")),
    }
}

/// The form body of an OAuth endpoint (token, introspection, revocation: RFC 6749
/// §4.1.3, RFC 7662 §2.1, RFC 7009 §2.1), each parameter at most once. Anything else
/// is a 400 `invalid_request` in the token endpoint's dual body, never axum's plain text.
pub fn oauth_form(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Params, ApiError> {
    let invalid = |description: String| ApiError::token(OAuthError::invalid_request(description));
    let body = body.map_err(|e| invalid(format!("the body could not be read: {e}")))?;
    // The media type, parameters such as `charset` aside, compared as RFC 9110 says:
    // case-insensitively. A request without a Content-Type is read as a form.
    let form_media_type = |value: &HeaderValue| {
        value.to_str().is_ok_and(|ct| {
            let media_type = ct.split(';').next().unwrap_or_default().trim();
            media_type.eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
    };
    if headers
        .get(CONTENT_TYPE)
        .is_some_and(|ct| !form_media_type(ct))
    {
        return Err(invalid(
            "the body must be application/x-www-form-urlencoded (RFC 6749 section 3.2)".into(),
        ));
    }
    Params::parse(&body).map_err(|e| invalid(e.to_string()))
}

/// The query string of an Alpaca surface, each parameter at most once: a malformed or
/// repeated parameter is a 400 `{code, message}` that says so.
pub struct AlpacaQuery(pub Params);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for AlpacaQuery {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        Params::parse(query.as_bytes())
            .map(AlpacaQuery)
            .map_err(|e| ApiError::bad_request(format!("the query string is malformed: {e}")))
    }
}
