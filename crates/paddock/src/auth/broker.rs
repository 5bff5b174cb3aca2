//! The Broker API's caller: a broker with HTTP Basic `key_id:secret`.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use paddock_core::ids::BrokerKeyId;
use paddock_core::model::Broker;
use paddock_core::secret::BrokerSecret;
use paddock_core::store::StoreError;

use super::basic::parse_basic;
use crate::error::ApiError;
use crate::state::AppState;
use crate::throttle::retry_after_secs;

/// An authenticated broker.
pub struct BrokerAuth(pub Broker);

const INVALID: &str = "the broker credentials are not valid";

/// Why broker credentials were refused. Each surface words the refusal its own way
/// (Alpaca's body on the Broker API, the OAuth body at `/oauth/introspect`), so the
/// check itself says only what went wrong.
#[derive(Debug)]
pub enum BrokerAuthError {
    /// Unknown key id or wrong secret.
    Invalid,
    /// Too many wrong secrets for this key id: retry after this many seconds.
    Throttled(u64),
    Store(StoreError),
}

/// The broker that `key_id` and `secret` (the two halves of its HTTP Basic
/// credentials) prove, shared by the Broker API and the introspection endpoint so that
/// both count failures in the same throttle.
///
/// As for clients (auth::client): the right secret always passes; wrong ones for an
/// existing broker are counted and, past the limit, refused until the window ends.
pub async fn authenticate_broker(
    state: &AppState,
    key_id: &str,
    secret: &str,
) -> Result<Broker, BrokerAuthError> {
    let key_id = BrokerKeyId::parse(key_id).map_err(|_| BrokerAuthError::Invalid)?;
    let broker = state
        .broker(&key_id)
        .await
        .map_err(BrokerAuthError::Store)?;
    let secret = BrokerSecret::parse(secret).ok();
    match (broker, secret) {
        (Some(broker), Some(secret)) if broker.verify_secret(&secret) => Ok((*broker).clone()),
        (Some(_), _) => {
            // A wrong secret is counted; past the limit it is answered 429.
            state
                .throttles
                .broker_auth
                .attempt(state.store.as_ref(), key_id.as_str(), state.clock.now())
                .await
                .map_err(BrokerAuthError::Store)?
                .map_err(|wait| BrokerAuthError::Throttled(retry_after_secs(wait)))?;
            Err(BrokerAuthError::Invalid)
        }
        (None, _) => Err(BrokerAuthError::Invalid),
    }
}

impl FromRequestParts<AppState> for BrokerAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let header = parts.headers.get(AUTHORIZATION).ok_or_else(|| {
            ApiError::broker_unauthorized(
                "broker credentials are required: HTTP Basic with your key id and secret",
            )
        })?;
        let credentials = parse_basic(header)
            .map_err(ApiError::broker_unauthorized)?
            .ok_or_else(|| {
                ApiError::broker_unauthorized(
                    "the Authorization header must use the Basic scheme with your key id and secret",
                )
            })?;
        match authenticate_broker(state, &credentials.user, &credentials.password).await {
            Ok(broker) => Ok(BrokerAuth(broker)),
            Err(BrokerAuthError::Invalid) => Err(ApiError::broker_unauthorized(INVALID)),
            Err(BrokerAuthError::Throttled(secs)) => Err(ApiError::throttled(secs)),
            Err(BrokerAuthError::Store(e)) => Err(e.into()),
        }
    }
}
