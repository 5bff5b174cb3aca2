//! `POST /oauth/introspect` (SPEC §3.6, RFC 7662): what a brokerage's API gateway, or an
//! app, calls to learn whether an access token is active and what it grants.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::HeaderMap;
use axum::http::header::{AUTHORIZATION, CACHE_CONTROL, PRAGMA};
use axum::response::{IntoResponse, Response};
use paddock_core::form::Params;
use paddock_core::ids::BrokerKeyId;
use paddock_core::oauth::error::OAuthError;
use paddock_core::oauth::grant::TokenGrant;
use paddock_core::oauth::introspection::Introspector;
use paddock_core::secret::AccessToken;
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::{
    BasicCredentials, BrokerAuthError, ClientCredentials, authenticate_broker, authenticate_client,
    parse_basic,
};
use crate::error::{ApiError, TokenErrorBody};
use crate::extract::oauth_form;
use crate::state::AppState;

/// The introspection request (RFC 7662 §2.1), form-encoded.
#[derive(ToSchema)]
#[expect(
    dead_code,
    reason = "documents the form body; the handler reads it as parameters"
)]
pub struct IntrospectionRequest {
    /// The access token to look at.
    token: String,
    /// `access_token`, or left out; ignored, since paddock issues access tokens only.
    token_type_hint: Option<String>,
    /// A client may authenticate in the body (client_secret_post) instead of with
    /// HTTP Basic; a broker always uses HTTP Basic.
    client_id: Option<String>,
    client_secret: Option<String>,
}

/// RFC 7662 §2.2. An inactive token is exactly `{"active": false}`: whether it is
/// unknown, revoked, expired, its client disabled or not the caller's to see is not
/// told apart, so that nothing leaks about tokens the caller may not see.
#[derive(Default, Serialize, ToSchema)]
pub struct IntrospectionResponse {
    pub active: bool,
    /// The granted scopes, the very string the token response gave: known scopes in
    /// the order `account:write trading data`, empty for read-only access.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// `Bearer`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_type: Option<&'static str>,
    /// The user who authorized the token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    /// When the token was issued, in seconds since the epoch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    /// When the token expires, in seconds since the epoch; absent when it lives until
    /// revoked (the default).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    /// The issuer, as in the metadata.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// paddock's extension: the live account the token reaches, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub live_account_id: Option<String>,
    /// paddock's extension: the paper account the token reaches, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paper_account_id: Option<String>,
}

impl IntrospectionResponse {
    pub fn inactive() -> Self {
        Self::default()
    }

    /// What an active token grants, as a gateway needs it to route and authorize a call.
    pub fn active(grant: &TokenGrant, issuer: &str) -> Self {
        Self {
            active: true,
            scope: Some(grant.scopes.to_string()),
            client_id: Some(grant.client_id.to_string()),
            token_type: Some("Bearer"),
            sub: Some(grant.user_id.to_string()),
            iat: Some(grant.created_at.timestamp()),
            exp: grant.expires_at.map(|at| at.timestamp()),
            iss: Some(issuer.to_owned()),
            live_account_id: grant.accounts.live().map(|id| id.to_string()),
            paper_account_id: grant.accounts.paper().map(|id| id.to_string()),
        }
    }
}

/// Who is asking, as the request claims before any secret is checked. The HTTP Basic
/// user tells the two apart: a broker key id is `BK` and 18 upper-case characters, a
/// client_id 32 lower-case hex characters.
enum Claimed {
    Broker(BasicCredentials),
    Client(ClientCredentials),
}

impl Claimed {
    fn from_request(headers: &HeaderMap, params: &Params) -> Result<Self, ApiError> {
        let broker = headers
            .get(AUTHORIZATION)
            .and_then(|value| parse_basic(value).ok().flatten())
            .filter(|basic| BrokerKeyId::parse(&basic.user).is_ok());
        let Some(broker) = broker else {
            return ClientCredentials::from_request(headers, params).map(Claimed::Client);
        };
        if params.contains("client_id") || params.contains("client_secret") {
            return Err(ApiError::token(OAuthError::invalid_request(
                "broker credentials in the Authorization header and client credentials in \
                 the body; authenticate one way only",
            )));
        }
        Ok(Claimed::Broker(broker))
    }

    async fn authenticate(self, state: &AppState) -> Result<Introspector, ApiError> {
        match self {
            Claimed::Client(credentials) => {
                let client = authenticate_client(state, &credentials).await?;
                Ok(Introspector::Client(client.client_id.clone()))
            }
            Claimed::Broker(basic) => {
                match authenticate_broker(state, &basic.user, &basic.password).await {
                    Ok(broker) => Ok(Introspector::Broker(broker.id)),
                    Err(BrokerAuthError::Invalid) => Err(ApiError::token_basic_challenge(
                        OAuthError::invalid_client("the broker credentials are not valid"),
                    )),
                    Err(BrokerAuthError::Throttled(secs)) => Err(ApiError::token_throttled(secs)),
                    Err(BrokerAuthError::Store(e)) => Err(e.into()),
                }
            }
        }
    }
}

/// Tells the caller whether `token` is active and, if so, what it grants.
///
/// - RFC 7662 §2.1: the caller must authenticate. An OAuth client does so as at the
///   token endpoint (RFC 6749 §2.3.1: Basic or body, not both; throttled) and learns
///   only about its own tokens. A broker's API gateway uses the broker's HTTP Basic
///   key id and secret, those of the Broker API, and learns about the tokens of the
///   clients the broker owns. `token_type_hint` is accepted and ignored.
/// - RFC 7662 §2.2: 200 with `active` decided by the same rule as the Trading API's
///   Bearer check (`TokenGrant::check_usable`); inactive is exactly `{"active":false}`.
///   Looking does not count as a use: the token's last-use time is not touched.
/// - RFC 7662 §2.3: errors are RFC 6749 §5.2's, in the token endpoint's dual body;
///   401 `invalid_client` for bad credentials.
/// - RFC 7662 §4: `Cache-Control: no-store`, since the answer changes on revocation.
#[utoipa::path(
    post,
    path = "/oauth/introspect",
    tag = "OAuth",
    summary = "Introspect an access token (RFC 7662)",
    description = "Callers authenticate with HTTP Basic: an OAuth client with its client_id and \
                   client_secret (or client_secret_post in the body) sees only its own tokens; a \
                   broker (an API gateway) with its Broker API key id and secret sees the tokens \
                   of its own clients. Any other token, and any unknown, malformed, revoked or \
                   expired token, or one whose client is disabled, is {\"active\": false}.",
    request_body(content = IntrospectionRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Whether the token is active, and what it grants", body = IntrospectionResponse),
        (status = 400, description = "invalid_request: token missing, a repeated parameter, not a form, or credentials sent both ways", body = TokenErrorBody),
        (status = 401, description = "invalid_client: unknown client or broker, wrong secret, or disabled client", body = TokenErrorBody),
        (status = 429, description = "Too many failed authentications", body = TokenErrorBody),
    )
)]
pub async fn introspect(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let params = oauth_form(&headers, body)?;
    let claimed = Claimed::from_request(&headers, &params)?;
    let token = params.get("token").ok_or_else(|| {
        ApiError::token(OAuthError::invalid_request(
            "token is required: the access token to introspect",
        ))
    })?;
    let caller = claimed.authenticate(&state).await?;
    // A string that cannot be one of our tokens is simply not active.
    let grant = match AccessToken::parse(token) {
        Ok(token) => state.grant(token.digest()).await?,
        Err(_) => None,
    };
    let now = state.clock.now();
    let response = match grant {
        Some(grant) if grant.is_active_for(&caller, now) => {
            IntrospectionResponse::active(&grant, &state.settings.issuer)
        }
        _ => IntrospectionResponse::inactive(),
    };
    Ok((
        [(CACHE_CONTROL, "no-store"), (PRAGMA, "no-cache")],
        Json(response),
    )
        .into_response())
}
