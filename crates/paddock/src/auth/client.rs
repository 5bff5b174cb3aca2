//! Client authentication at the token endpoint (RFC 6749 §2.3.1): `client_secret_basic`
//! or `client_secret_post`, never both in one request.

use std::sync::Arc;

use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use paddock_core::form::{Params, decode};
use paddock_core::ids::ClientId;
use paddock_core::model::Client;
use paddock_core::oauth::error::OAuthError;
use paddock_core::secret::ClientSecret;

use super::basic::parse_basic;
use crate::error::ApiError;
use crate::state::AppState;
use crate::throttle::retry_after_secs;

/// The credentials a client presented, and how.
pub struct ClientCredentials {
    client_id: String,
    secret: String,
    via_basic: bool,
}

impl ClientCredentials {
    pub fn from_request(headers: &HeaderMap, params: &Params) -> Result<Self, ApiError> {
        let basic = match headers.get(AUTHORIZATION) {
            Some(value) => parse_basic(value).map_err(|problem| {
                ApiError::token_basic_challenge(OAuthError::invalid_client(problem))
            })?,
            None => None,
        };
        let Some(basic) = basic else {
            let client_id = params.get("client_id").ok_or_else(|| {
                ApiError::token(OAuthError::invalid_client(
                    "client authentication is required: send client_id and client_secret \
                     in the body or in an HTTP Basic Authorization header",
                ))
            })?;
            let secret = params.get("client_secret").ok_or_else(|| {
                ApiError::token(OAuthError::invalid_client("client_secret is required"))
            })?;
            return Ok(Self {
                client_id: client_id.to_owned(),
                secret: secret.to_owned(),
                via_basic: false,
            });
        };
        if params.contains("client_secret") {
            return Err(ApiError::token(OAuthError::invalid_request(
                "client credentials were sent both in the Authorization header and in the \
                 body; send them one way only",
            )));
        }
        // RFC 6749 §2.3.1: id and secret are form-urlencoded before base64.
        let undo_form_encoding = |part: &str| {
            decode(part.as_bytes()).map_err(|_| {
                ApiError::token_basic_challenge(OAuthError::invalid_client(
                    "the Basic credentials do not percent-decode to UTF-8",
                ))
            })
        };
        let client_id = undo_form_encoding(&basic.user)?;
        let secret = undo_form_encoding(&basic.password)?;
        if params
            .get("client_id")
            .is_some_and(|body_id| body_id != client_id)
        {
            return Err(ApiError::token(OAuthError::invalid_request(
                "client_id in the body differs from the one in the Authorization header",
            )));
        }
        Ok(Self {
            client_id,
            secret,
            via_basic: true,
        })
    }

    fn refuse(&self, description: &'static str) -> ApiError {
        let error = OAuthError::invalid_client(description);
        if self.via_basic {
            ApiError::token_basic_challenge(error)
        } else {
            ApiError::token(error)
        }
    }
}

const FAILED: &str = "client authentication failed: unknown client_id or wrong client_secret";

/// The active client these credentials prove, or `invalid_client`.
///
/// The right secret always passes: a client_id is public and a secret has 160 random
/// bits, so a lockout would only let anyone lock an app out. Wrong secrets for an
/// existing client are counted, and past the limit answered 429 until the window ends.
pub async fn authenticate_client(
    state: &AppState,
    credentials: &ClientCredentials,
) -> Result<Arc<Client>, ApiError> {
    let client_id =
        ClientId::parse(&credentials.client_id).map_err(|_| credentials.refuse(FAILED))?;
    let client = state.client(&client_id).await?;
    let secret = ClientSecret::parse(&credentials.secret).ok();
    let client = match (client, secret) {
        (Some(client), Some(secret)) if client.verify_secret(&secret) => client,
        (Some(_), _) => {
            // A wrong secret is counted; past the limit it is answered 429.
            state
                .throttles
                .client_auth
                .attempt(state.store.as_ref(), client_id.as_str(), state.clock.now())
                .await?
                .map_err(|wait| ApiError::token_throttled(retry_after_secs(wait)))?;
            return Err(credentials.refuse(FAILED));
        }
        // Nothing to guess for a client that does not exist: not counted, so that
        // made-up ids cannot fill the throttle table.
        (None, _) => return Err(credentials.refuse(FAILED)),
    };
    if !client.is_active() {
        return Err(credentials.refuse("the client is disabled"));
    }
    Ok(client)
}
