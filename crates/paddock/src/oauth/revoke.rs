//! `POST /oauth/revoke` (SPEC §3.6, RFC 7009): an app revokes an access token it holds,
//! when its user signs out or disconnects it.

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::HeaderMap;
use axum::http::header::{CACHE_CONTROL, PRAGMA};
use axum::response::{IntoResponse, Response};
use paddock_core::oauth::error::OAuthError;
use paddock_core::secret::AccessToken;
use paddock_core::store::Invalidation;
use utoipa::ToSchema;

use crate::auth::{ClientCredentials, authenticate_client};
use crate::error::{ApiError, TokenErrorBody};
use crate::extract::oauth_form;
use crate::state::AppState;

/// The revocation request (RFC 7009 §2.1), form-encoded.
#[derive(ToSchema)]
#[expect(
    dead_code,
    reason = "documents the form body; the handler reads it as parameters"
)]
pub struct RevocationRequest {
    /// The access token to revoke.
    token: String,
    /// `access_token`, or left out. Any other value is ignored (RFC 7009 §2.1): paddock
    /// issues access tokens only.
    token_type_hint: Option<String>,
    /// With `client_secret`, unless both are sent with HTTP Basic instead.
    client_id: Option<String>,
    client_secret: Option<String>,
}

/// Revokes `token` if it was issued to the authenticated client.
///
/// - RFC 7009 §2.1: the client authenticates as at the token endpoint (RFC 6749 §2.3.1;
///   Basic or body, not both; throttled), and the server checks that the token was
///   issued to it.
/// - RFC 7009 §2.2: 200 whether or not there was anything to revoke: an unknown,
///   malformed or already revoked token, and a token of another client, all answer
///   the same empty 200. Another client's token is left alone, and the caller learns
///   nothing about it. The revocation is immediate: the next Trading API call with the
///   token gets 401.
/// - RFC 7009 §2.2.1: errors are RFC 6749 §5.2's, in the token endpoint's dual body.
#[utoipa::path(
    post,
    path = "/oauth/revoke",
    tag = "OAuth",
    summary = "Revoke an access token (RFC 7009)",
    description = "Client authentication as at the token endpoint. Answers 200 with an empty \
                   body whether the token was revoked now, was revoked before, is unknown, \
                   or belongs to another client (which is left untouched).",
    request_body(content = RevocationRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Done: the token, if it was yours, no longer works"),
        (status = 400, description = "invalid_request: token missing, a repeated parameter, not a form, or credentials sent both ways", body = TokenErrorBody),
        (status = 401, description = "invalid_client: unknown client, wrong secret, or disabled client", body = TokenErrorBody),
        (status = 429, description = "Too many failed client authentications", body = TokenErrorBody),
    )
)]
pub async fn revoke(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let params = oauth_form(&headers, body)?;
    let credentials = ClientCredentials::from_request(&headers, &params)?;
    let token = params.get("token").ok_or_else(|| {
        ApiError::token(OAuthError::invalid_request(
            "token is required: the access token to revoke",
        ))
    })?;
    let client = authenticate_client(&state, &credentials).await?;
    // A string that cannot be one of our tokens is unknown, and unknown is not an error.
    if let Ok(token) = AccessToken::parse(token) {
        let digest = token.digest();
        let own = state
            .store
            .token(&digest)
            .await?
            .is_some_and(|grant| grant.client_id == client.client_id);
        if own {
            state.store.revoke_token(&digest, state.clock.now()).await?;
            state.caches.apply(&Invalidation::Token(digest));
            tracing::info!(client_id = %client.client_id, "access token revoked by its client");
        }
    }
    Ok([(CACHE_CONTROL, "no-store"), (PRAGMA, "no-cache")].into_response())
}
