//! The one error type of every handler, and the only place that decides how an error
//! looks on the wire: Alpaca's `{"code", "message"}` on the Broker and Trading APIs,
//! the dual OAuth + Alpaca body on the token endpoint, and the `WWW-Authenticate`
//! challenges of RFC 6750 and RFC 7617.

use std::borrow::Cow;

use axum::Json;
use axum::http::header::{CACHE_CONTROL, PRAGMA, RETRY_AFTER, WWW_AUTHENTICATE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use paddock_core::oauth::error::{OAuthError, OAuthErrorCode};
use paddock_core::oauth::scope::Scope;
use paddock_core::store::{Conflict, StoreError};
use serde::Serialize;

#[derive(Debug)]
pub enum ApiError {
    /// Alpaca's error body, for the Broker API, the Trading API and the rest.
    Alpaca {
        status: StatusCode,
        message: Cow<'static, str>,
        challenge: Option<HeaderValue>,
        retry_after: Option<u64>,
    },
    /// The token endpoint's error: RFC 6749 §5.2 and Alpaca keys in one body.
    Token {
        error: OAuthError,
        status: StatusCode,
        challenge: Option<HeaderValue>,
        retry_after: Option<u64>,
    },
    /// The database could not be reached in time: 503 with `Retry-After`, in both
    /// shapes, since any surface may meet it.
    Unavailable(StoreError),
    /// Anything unexpected: logged in full, answered with a generic 500.
    Internal(anyhow::Error),
}

/// Alpaca's error body.
#[derive(Serialize, utoipa::ToSchema)]
pub struct AlpacaErrorBody {
    /// The HTTP status followed by a detail number, e.g. 40110000.
    pub code: u32,
    /// What went wrong and what to fix.
    pub message: String,
}

/// The token endpoint's error body: OAuth clients read `error`, Alpaca's read `code`
/// and `message`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct TokenErrorBody {
    /// An RFC 6749 §5.2 error code, e.g. `invalid_grant`.
    pub error: &'static str,
    pub error_description: String,
    pub code: u32,
    pub message: String,
}

/// Alpaca's numbering: the status, then a detail number.
fn alpaca_code(status: StatusCode) -> u32 {
    u32::from(status.as_u16()) * 100_000 + 10_000
}

const BASIC_CHALLENGE: &str = "Basic realm=\"paddock\", charset=\"UTF-8\"";

impl ApiError {
    fn alpaca(status: StatusCode, message: impl Into<Cow<'static, str>>) -> Self {
        Self::Alpaca {
            status,
            message: message.into(),
            challenge: None,
            retry_after: None,
        }
    }

    /// The status and Alpaca body this error answers with, for one entry of a
    /// multi-status list (`DELETE /v2/orders`, `DELETE /v2/positions`).
    pub fn parts(&self) -> (StatusCode, AlpacaErrorBody) {
        let (status, message) = match self {
            ApiError::Alpaca {
                status, message, ..
            } => (*status, message.to_string()),
            ApiError::Token { error, status, .. } => (*status, error.description.to_string()),
            ApiError::Unavailable(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "the database is unavailable; retry in a moment".into(),
            ),
            ApiError::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal server error".into(),
            ),
        };
        let code = alpaca_code(status);
        (status, AlpacaErrorBody { code, message })
    }

    /// 400: the request is malformed.
    pub fn bad_request(message: impl Into<Cow<'static, str>>) -> Self {
        Self::alpaca(StatusCode::BAD_REQUEST, message)
    }

    /// 401 on the Broker API (credentials, unknown or foreign client, wrong secret).
    pub fn broker_unauthorized(message: impl Into<Cow<'static, str>>) -> Self {
        Self::Alpaca {
            status: StatusCode::UNAUTHORIZED,
            message: message.into(),
            challenge: Some(HeaderValue::from_static(BASIC_CHALLENGE)),
            retry_after: None,
        }
    }

    /// 401 on the Trading API (RFC 6750 §3). `invalid_token` is left out when the
    /// request carried no token at all (§3.1).
    pub fn bearer_unauthorized(message: impl Into<Cow<'static, str>>, token_sent: bool) -> Self {
        let message = message.into();
        let challenge = if token_sent {
            format!(
                "Bearer realm=\"paddock\", error=\"invalid_token\", error_description=\"{}\"",
                quoted_string_safe(&message)
            )
        } else {
            "Bearer realm=\"paddock\"".to_owned()
        };
        Self::Alpaca {
            status: StatusCode::UNAUTHORIZED,
            message,
            challenge: HeaderValue::from_str(&challenge).ok(),
            retry_after: None,
        }
    }

    /// 403 on the Trading API: the token lacks `scope` (RFC 6750 §3.1).
    pub fn insufficient_scope(scope: Scope) -> Self {
        let message = format!(
            "the access token was not granted the `{scope}` scope this endpoint needs; \
             authorize the app again with scope={scope}",
            scope = scope.as_str()
        );
        let challenge = format!(
            "Bearer realm=\"paddock\", error=\"insufficient_scope\", \
             error_description=\"{}\", scope=\"{}\"",
            quoted_string_safe(&message),
            scope.as_str()
        );
        Self::Alpaca {
            status: StatusCode::FORBIDDEN,
            message: message.into(),
            challenge: HeaderValue::from_str(&challenge).ok(),
            retry_after: None,
        }
    }

    pub fn not_found(message: impl Into<Cow<'static, str>>) -> Self {
        Self::alpaca(StatusCode::NOT_FOUND, message)
    }

    /// 403: allowed to ask, but the account cannot do this (buying power, shares held).
    pub fn forbidden(message: impl Into<Cow<'static, str>>) -> Self {
        Self::alpaca(StatusCode::FORBIDDEN, message)
    }

    /// 422: well-formed, but the values cannot be honoured.
    pub fn unprocessable(message: impl Into<Cow<'static, str>>) -> Self {
        Self::alpaca(StatusCode::UNPROCESSABLE_ENTITY, message)
    }

    /// 429 with `Retry-After`.
    pub fn throttled(retry_after: u64) -> Self {
        Self::Alpaca {
            status: StatusCode::TOO_MANY_REQUESTS,
            message: format!("too many failed attempts; retry in {retry_after} s").into(),
            challenge: None,
            retry_after: Some(retry_after),
        }
    }

    /// An error of the token endpoint; 400, or 401 for `invalid_client` (RFC 6749 §5.2).
    pub fn token(error: OAuthError) -> Self {
        let status = match error.code {
            OAuthErrorCode::InvalidClient => StatusCode::UNAUTHORIZED,
            OAuthErrorCode::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
            OAuthErrorCode::TemporarilyUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::BAD_REQUEST,
        };
        Self::Token {
            error,
            status,
            challenge: None,
            retry_after: None,
        }
    }

    /// `invalid_client` for a client that authenticated with HTTP Basic: RFC 6749 §5.2
    /// requires the `WWW-Authenticate` challenge.
    pub fn token_basic_challenge(error: OAuthError) -> Self {
        Self::Token {
            error,
            status: StatusCode::UNAUTHORIZED,
            challenge: Some(HeaderValue::from_static(BASIC_CHALLENGE)),
            retry_after: None,
        }
    }

    /// 429 on the token endpoint, with `Retry-After`.
    pub fn token_throttled(retry_after: u64) -> Self {
        Self::Token {
            error: OAuthError::new(
                OAuthErrorCode::InvalidClient,
                format!("too many failed client authentications; retry in {retry_after} s"),
            ),
            status: StatusCode::TOO_MANY_REQUESTS,
            challenge: None,
            retry_after: Some(retry_after),
        }
    }
}

/// Keeps a message safe inside an RFC 7235 quoted-string.
fn quoted_string_safe(message: &str) -> String {
    message
        .chars()
        .filter(|c| *c != '"' && *c != '\\' && (' '..='~').contains(c))
        .collect()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::Alpaca {
                status,
                message,
                challenge,
                retry_after,
            } => {
                let body = AlpacaErrorBody {
                    code: alpaca_code(status),
                    message: message.into_owned(),
                };
                let mut response = (status, Json(body)).into_response();
                add_headers(&mut response, challenge, retry_after);
                response
            }
            ApiError::Token {
                error,
                status,
                challenge,
                retry_after,
            } => {
                let description = error.description.into_owned();
                let body = TokenErrorBody {
                    error: error.code.as_str(),
                    error_description: description.clone(),
                    code: alpaca_code(status),
                    message: description,
                };
                let mut response = (status, Json(body)).into_response();
                let headers = response.headers_mut();
                headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
                headers.insert(PRAGMA, HeaderValue::from_static("no-cache"));
                add_headers(&mut response, challenge, retry_after);
                response
            }
            ApiError::Unavailable(error) => {
                tracing::error!(error = %error, "the database is unavailable");
                let status = StatusCode::SERVICE_UNAVAILABLE;
                let message = "the database is unavailable; retry in a moment";
                let body = TokenErrorBody {
                    error: OAuthErrorCode::TemporarilyUnavailable.as_str(),
                    error_description: message.into(),
                    code: alpaca_code(status),
                    message: message.into(),
                };
                let mut response = (status, Json(body)).into_response();
                add_headers(&mut response, None, Some(1));
                response
            }
            ApiError::Internal(error) => {
                tracing::error!(error = format!("{error:#}"), "internal error");
                let status = StatusCode::INTERNAL_SERVER_ERROR;
                // Both shapes, so that whichever client asked finds its keys.
                let body = TokenErrorBody {
                    error: OAuthErrorCode::ServerError.as_str(),
                    error_description: "internal server error".into(),
                    code: alpaca_code(status),
                    message: "internal server error".into(),
                };
                (status, Json(body)).into_response()
            }
        }
    }
}

fn add_headers(response: &mut Response, challenge: Option<HeaderValue>, retry_after: Option<u64>) {
    let headers = response.headers_mut();
    if let Some(challenge) = challenge {
        headers.insert(WWW_AUTHENTICATE, challenge);
    }
    if let Some(secs) = retry_after {
        headers.insert(RETRY_AFTER, HeaderValue::from(secs));
    }
}

/// A store error that reaches a handler unhandled: a conflict or a missing record is
/// something the request asked for (409, 404); an unreachable database is 503; the
/// rest is a 500. Handlers that know better (a conflict meaning bad input, say) map
/// the error themselves first.
impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            // A random id that collided is the server's bad luck, not the caller's.
            StoreError::Conflict(Conflict::IdTaken) => Self::Internal(error.into()),
            StoreError::Conflict(conflict) => {
                Self::alpaca(StatusCode::CONFLICT, conflict.to_string())
            }
            StoreError::Missing(missing) => Self::not_found(missing.to_string()),
            StoreError::Unavailable(_) => Self::Unavailable(error),
            StoreError::Backend(_) => Self::Internal(error.into()),
        }
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(error: anyhow::Error) -> Self {
        ApiError::Internal(error)
    }
}
