//! The Trading API's caller: an app holding a Bearer access token (RFC 6750).
//!
//! [`check_bearer`] is the check itself, a plain function (token, base → grant, or why
//! not) that the extractors here call and that the trade stream's `authenticate`
//! message will call. [`BearerGrant`] is the extractor of read routes; [`Scoped`] is
//! that of routes that need a scope, answering 403 `insufficient_scope` without it.

use std::marker::PhantomData;
use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use paddock_core::env::Env;
use paddock_core::ids::{AccountId, ClientId, UserId};
use paddock_core::oauth::grant::{TokenGrant, TokenRefusal};
use paddock_core::oauth::scope::{Scope, ScopeSet};
use paddock_core::secret::AccessToken;
use paddock_core::store::StoreError;

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

/// Why a token is not honoured on a base.
#[derive(Debug, thiserror::Error)]
pub enum BearerRefusal {
    /// Not one of our tokens, or unknown to the store.
    #[error("the access token is not valid")]
    Invalid,
    #[error("{0}")]
    Refused(TokenRefusal),
    #[error("the access token is not authorized for {0} trading on this base URL")]
    WrongBase(Env),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The grant of `token` if it is usable now: from the node's grant cache when it holds
/// the token, else with one read of the store. Records the use (in memory, written in
/// batches).
async fn usable_grant(state: &AppState, token: &str) -> Result<Arc<TokenGrant>, BearerRefusal> {
    let token = AccessToken::parse(token).map_err(|_| BearerRefusal::Invalid)?;
    let digest = token.digest();
    let grant = state.grant(digest).await?.ok_or(BearerRefusal::Invalid)?;
    let now = state.clock.now();
    grant.check_usable(now).map_err(BearerRefusal::Refused)?;
    state.last_used.record(digest, now);
    Ok(grant)
}

/// Checks `token` for the API base of `env`.
pub async fn check_bearer(
    state: &AppState,
    token: &str,
    env: Env,
) -> Result<BearerGrant, BearerRefusal> {
    let grant = usable_grant(state, token).await?;
    let account_id = grant
        .accounts
        .for_env(env)
        .ok_or(BearerRefusal::WrongBase(env))?;
    Ok(BearerGrant {
        client_id: grant.client_id.clone(),
        user_id: grant.user_id,
        scopes: grant.scopes,
        env,
        account_id,
    })
}

/// A valid access token with the `data` scope, whatever its accounts' bases: the Data
/// API's caller (market data belongs to no account).
#[derive(Debug)]
pub struct DataGrant {
    pub client_id: ClientId,
}

impl FromRequestParts<AppState> for DataGrant {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let grant = usable_grant(state, bearer_token(&parts.headers)?).await?;
        if !grant.scopes.contains(Scope::Data) {
            return Err(ApiError::insufficient_scope(Scope::Data));
        }
        Ok(Self {
            client_id: grant.client_id.clone(),
        })
    }
}

impl From<BearerRefusal> for ApiError {
    fn from(refusal: BearerRefusal) -> Self {
        match refusal {
            BearerRefusal::Store(e) => e.into(),
            refusal => ApiError::bearer_unauthorized(refusal.to_string(), true),
        }
    }
}

/// The token of an `Authorization: Bearer` header.
pub fn bearer_token(headers: &HeaderMap) -> Result<&str, ApiError> {
    let header = headers.get(AUTHORIZATION).ok_or_else(|| {
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
        Ok(check_bearer(state, bearer_token(&parts.headers)?, env).await?)
    }
}

/// A scope a route needs, as a type: `Scoped<Trading>` in a handler's signature.
pub trait RequiredScope {
    const SCOPE: Scope;
}

/// Orders and positions (SPEC §2).
#[derive(Debug)]
pub struct Trading;
impl RequiredScope for Trading {
    const SCOPE: Scope = Scope::Trading;
}

/// Account configuration and watchlists.
#[derive(Debug)]
pub struct AccountWrite;
impl RequiredScope for AccountWrite {
    const SCOPE: Scope = Scope::AccountWrite;
}

/// A valid access token that was granted `S`: 401 without a valid token, 403
/// `insufficient_scope` (RFC 6750 §3.1) with one that lacks the scope.
#[derive(Debug)]
pub struct Scoped<S> {
    pub grant: BearerGrant,
    scope: PhantomData<S>,
}

impl<S: RequiredScope> Scoped<S> {
    fn new(grant: BearerGrant) -> Result<Self, ApiError> {
        if grant.scopes.contains(S::SCOPE) {
            Ok(Self {
                grant,
                scope: PhantomData,
            })
        } else {
            Err(ApiError::insufficient_scope(S::SCOPE))
        }
    }
}

impl<S: RequiredScope + Send> FromRequestParts<AppState> for Scoped<S> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        Self::new(BearerGrant::from_request_parts(parts, state).await?)
    }
}

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;
    use axum::response::IntoResponse;

    use super::*;

    fn grant(scopes: ScopeSet) -> BearerGrant {
        BearerGrant {
            client_id: ClientId::parse("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa").unwrap(),
            user_id: UserId::random(),
            scopes,
            env: Env::Paper,
            account_id: AccountId::random(),
        }
    }

    #[test]
    fn a_grant_without_the_scope_is_refused_with_403_insufficient_scope() {
        assert!(Scoped::<Trading>::new(grant(ScopeSet::READ_ONLY.with(Scope::Trading))).is_ok());
        let refused = Scoped::<Trading>::new(grant(ScopeSet::READ_ONLY.with(Scope::Data)))
            .unwrap_err()
            .into_response();
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
        let challenge = refused.headers()["www-authenticate"].to_str().unwrap();
        assert!(
            challenge.contains("error=\"insufficient_scope\"")
                && challenge.contains("scope=\"trading\""),
            "{challenge}"
        );
    }
}
