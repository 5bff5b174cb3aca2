//! Request bodies and query strings, parsed with paddock's own rejections: axum's
//! defaults answer in plain text, and every surface here answers in JSON.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
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
