//! The Trading API's caller: an app holding a Bearer access token (RFC 6750).

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use paddock_core::env::Env;
use paddock_core::ids::{AccountId, ClientId, UserId};
use paddock_core::scope::ScopeSet;
use paddock_core::secret::AccessToken;

use crate::error::ApiError;
use crate::state::AppState;

/// Which API base a request came in on: the live base (the root) or the paper base
/// (`/paper`). Set by the router, read by [`BearerGrant`].
#[derive(Clone, Copy, Debug)]
pub struct Base(pub Env);

/// A valid access token, resolved to what it grants on this request's base.
#[derive(Debug)]
pub struct BearerGrant {
    pub client_id: ClientId,
    pub user_id: UserId,
    pub scopes: ScopeSet,
    pub env: Env,
    /// The one account the token reaches on this base.
    pub account_id: AccountId,
}

fn bearer_token(parts: &Parts) -> Result<&str, ApiError> {
    let header = parts.headers.get(AUTHORIZATION).ok_or_else(|| {
        ApiError::bearer_unauthorized(
            "an access token is required: send `Authorization: Bearer <token>`",
            false,
        )
    })?;
    let value = header
        .to_str()
        .ok()
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"));
    match value {
        Some((_, token)) => Ok(token.trim()),
        None => Err(ApiError::bearer_unauthorized(
            "the Authorization header must be `Bearer <token>`",
            false,
        )),
    }
}

impl FromRequestParts<AppState> for BearerGrant {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Base(env) = *parts
            .extensions
            .get::<Base>()
            .ok_or_else(|| anyhow::anyhow!("route serves the Trading API without a Base"))?;
        let invalid = || ApiError::bearer_unauthorized("the access token is not valid", true);
        let token = AccessToken::parse(bearer_token(parts)?).map_err(|_| invalid())?;
        let digest = token.digest();
        let grant = state.store.token(&digest).await?.ok_or_else(invalid)?;
        let now = state.clock.now();
        grant
            .check_usable(now)
            .map_err(|refusal| ApiError::bearer_unauthorized(refusal.to_string(), true))?;
        let account_id = grant.accounts.for_env(env).ok_or_else(|| {
            ApiError::bearer_unauthorized(
                format!("the access token is not authorized for {env} trading on this base URL"),
                true,
            )
        })?;
        state.last_used.record(digest, now);
        Ok(BearerGrant {
            client_id: grant.client_id,
            user_id: grant.user_id,
            scopes: grant.scopes,
            env,
            account_id,
        })
    }
}
