//! `POST /oauth/token` (SPEC §3.3, RFC 6749 §4.1.3): an app exchanges an authorization
//! code, from the browser flow or the Broker API, for an access token.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::HeaderMap;
use axum::http::header::{CACHE_CONTROL, PRAGMA};
use axum::response::{IntoResponse, Response};
use paddock_core::ids::GrantId;
use paddock_core::oauth::error::{OAuthError, OAuthErrorCode};
use paddock_core::oauth::grant::{Redemption, RedemptionRequest, TokenIssue, redeem};
use paddock_core::oauth::pkce::CodeVerifier;
use paddock_core::secret::{AccessToken, AuthCode};
use paddock_core::store::Invalidation;
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::{ClientCredentials, authenticate_client};
use crate::error::{ApiError, TokenErrorBody};
use crate::extract::oauth_form;
use crate::state::AppState;

/// The token request (RFC 6749 §4.1.3), form-encoded.
#[derive(ToSchema)]
#[expect(
    dead_code,
    reason = "documents the form body; the handler reads it as parameters"
)]
pub struct TokenRequest {
    /// Must be `authorization_code`.
    grant_type: String,
    /// The code from the authorization redirect or from `POST /v1/oauth/authorize`.
    code: String,
    /// Exactly the redirect_uri of the authorization request.
    redirect_uri: String,
    /// With `client_secret`, unless both are sent with HTTP Basic instead.
    client_id: Option<String>,
    client_secret: Option<String>,
    /// Required when the authorization request sent a code_challenge (RFC 7636).
    code_verifier: Option<String>,
}

/// A successful token response (RFC 6749 §5.1).
#[derive(Serialize, ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    /// Always `bearer`.
    pub token_type: &'static str,
    /// The granted scopes, in the order `account:write trading data`; empty for read-only.
    pub scope: String,
    /// Seconds until the token expires; absent when tokens live until revoked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_in: Option<i64>,
}

fn invalid_request(description: impl Into<std::borrow::Cow<'static, str>>) -> ApiError {
    ApiError::token(OAuthError::invalid_request(description))
}

#[utoipa::path(
    post,
    path = "/oauth/token",
    tag = "OAuth",
    summary = "Exchange an authorization code for an access token",
    description = "Client authentication by HTTP Basic (client_secret_basic) or in the body \
                   (client_secret_post), not both. Errors carry RFC 6749 and Alpaca keys.",
    request_body(content = TokenRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "The access token", body = TokenResponse),
        (status = 400, description = "invalid_request, invalid_grant, unsupported_grant_type", body = TokenErrorBody),
        (status = 401, description = "invalid_client", body = TokenErrorBody),
        (status = 429, description = "Too many failed client authentications", body = TokenErrorBody),
    )
)]
pub async fn token(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let params = oauth_form(&headers, body)?;
    let credentials = ClientCredentials::from_request(&headers, &params)?;
    match params.get("grant_type") {
        Some("authorization_code") => {}
        Some(_) => {
            return Err(ApiError::token(OAuthError::new(
                OAuthErrorCode::UnsupportedGrantType,
                "grant_type must be authorization_code",
            )));
        }
        None => return Err(invalid_request("grant_type is required")),
    }
    let client = authenticate_client(&state, &credentials).await?;
    let code = params
        .get("code")
        .ok_or_else(|| invalid_request("code is required"))?;
    let redirect_uri = params
        .get("redirect_uri")
        .ok_or_else(|| invalid_request("redirect_uri is required"))?;
    let verifier = params
        .get("code_verifier")
        .map(CodeVerifier::parse)
        .transpose()
        .map_err(|e| invalid_request(e.to_string()))?;
    let unknown_code = || {
        ApiError::token(OAuthError::invalid_grant(
            "the authorization code is not valid",
        ))
    };
    let code = AuthCode::parse(code).map_err(|_| unknown_code())?;

    let now = state.clock.now();
    let token = AccessToken::generate(&mut rand::rng());
    let issue = TokenIssue {
        id: GrantId::timed(),
        digest: token.digest(),
        issued_at: now,
        expires_at: state.settings.token_ttl.map(|ttl| now + ttl),
    };
    let request = RedemptionRequest {
        client_id: &client.client_id,
        redirect_uri,
        code_verifier: verifier.as_ref(),
    };
    let grant = match redeem(state.store.as_ref(), &code.digest(), &request, &issue).await? {
        Redemption::Issued(grant) => grant,
        Redemption::Refused(error) => return Err(ApiError::token(error)),
        Redemption::Replayed(revoked) => {
            for digest in revoked {
                state.caches.apply(&Invalidation::Token(digest));
            }
            tracing::warn!(client_id = %client.client_id, "authorization code replayed; its tokens are revoked");
            return Err(ApiError::token(OAuthError::invalid_grant(
                "this authorization code was already redeemed, so the access token issued \
                 from it has now been revoked (RFC 9700); start the authorization again \
                 for a new code",
            )));
        }
        Redemption::Unknown => return Err(unknown_code()),
    };
    let response = TokenResponse {
        access_token: token.expose().to_owned(),
        token_type: "bearer",
        scope: grant.scopes.to_string(),
        expires_in: state.settings.token_ttl.map(|ttl| ttl.num_seconds()),
    };
    Ok((
        [(CACHE_CONTROL, "no-store"), (PRAGMA, "no-cache")],
        Json(response),
    )
        .into_response())
}
