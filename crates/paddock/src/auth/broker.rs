//! The Broker API's caller: a broker with HTTP Basic `key_id:secret`.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use paddock_core::ids::BrokerKeyId;
use paddock_core::model::Broker;
use paddock_core::secret::BrokerSecret;

use super::basic::parse_basic;
use crate::error::ApiError;
use crate::state::AppState;
use crate::throttle::retry_after_secs;

/// An authenticated broker.
pub struct BrokerAuth(pub Broker);

const INVALID: &str = "the broker credentials are not valid";

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
        let key_id = BrokerKeyId::parse(&credentials.user)
            .map_err(|_| ApiError::broker_unauthorized(INVALID))?;
        let broker = state.store.broker_by_key_id(&key_id).await?;
        let secret = BrokerSecret::parse(&credentials.password).ok();
        match (broker, secret) {
            (Some(broker), Some(secret)) if broker.verify_secret(&secret) => Ok(BrokerAuth(broker)),
            // As for clients (auth::client): the right secret always passes; wrong ones
            // for an existing broker are counted and, past the limit, answered 429.
            (Some(_), _) => {
                let now = state.clock.now();
                let throttle = &state.throttles.broker_auth;
                throttle
                    .check(key_id.as_str(), now)
                    .map_err(|wait| ApiError::throttled(retry_after_secs(wait)))?;
                throttle.record_failure(key_id.as_str(), now);
                Err(ApiError::broker_unauthorized(INVALID))
            }
            (None, _) => Err(ApiError::broker_unauthorized(INVALID)),
        }
    }
}
