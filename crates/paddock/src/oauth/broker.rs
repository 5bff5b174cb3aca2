//! The Broker API's OAuth endpoints (SPEC §3.1; seeds 000, 001, 003): a broker
//! looks up its clients, issues codes and tokens for its accounts, and revokes tokens.

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::http::header::CACHE_CONTROL;
use axum::response::{IntoResponse, Response};
use paddock_core::form::Params;
use paddock_core::ids::{AccountId, ClientId, GrantId};
use paddock_core::model::{Account, Broker, Client};
use paddock_core::oauth::grant::{AccountBinding, CodeGrant, NewToken};
use paddock_core::oauth::scope::ScopeSet;
use paddock_core::secret::{AccessToken, AuthCode, ClientSecret};
use paddock_core::store::Invalidation;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::BrokerAuth;
use crate::error::{AlpacaErrorBody, ApiError};
use crate::extract::AlpacaJson;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(get_client))
        .routes(routes!(issue_token))
        .routes(routes!(issue_code))
        .routes(routes!(revoke_token))
}

/// An OAuth client as the authorization page shows it (seed 003).
#[derive(Serialize, ToSchema)]
pub struct ClientResponse {
    /// 32 lowercase hex characters.
    pub client_id: String,
    pub name: String,
    pub description: String,
    pub url: String,
    /// URL of the app's terms of use.
    pub terms_of_use: String,
    /// URL of the app's privacy policy.
    pub privacy_policy: String,
    /// `ACTIVE` or `DISABLED`.
    pub status: &'static str,
    /// The registered redirect URIs, exact strings.
    pub redirect_uri: Vec<String>,
    /// Whether the app may be granted live accounts.
    pub live_trading_approved: bool,
}

impl From<&Client> for ClientResponse {
    fn from(client: &Client) -> Self {
        Self {
            client_id: client.client_id.to_string(),
            name: client.name.clone(),
            description: client.description.clone(),
            url: client.url.clone(),
            terms_of_use: client.terms_of_use.clone(),
            privacy_policy: client.privacy_policy.clone(),
            status: client.status.as_str(),
            redirect_uri: client
                .redirect_uris
                .iter()
                .map(|u| u.as_str().to_owned())
                .collect(),
            live_trading_approved: client.live_trading_approved,
        }
    }
}

/// The body of `POST /v1/oauth/token` and `POST /v1/oauth/authorize` (seed 000).
#[derive(ToSchema)]
pub struct BrokerGrantRequest {
    /// The OAuth client's id.
    pub client_id: String,
    /// The OAuth client's secret.
    pub client_secret: String,
    /// One of the client's registered redirect URIs.
    pub redirect_uri: String,
    /// Space-delimited scopes: `account:write`, `trading`, `data`; `general` or empty
    /// for read-only access.
    pub scope: String,
    /// The end user's account, one of this broker's.
    #[schema(format = "uuid")]
    pub account_id: String,
}

impl BrokerGrantRequest {
    /// Reads the body field by field, so that an error names the field to fix.
    fn from_json(body: &Value) -> Result<Self, ApiError> {
        let object = body
            .as_object()
            .ok_or_else(|| ApiError::bad_request("the body must be a JSON object"))?;
        let text = |name: &'static str| -> Result<String, ApiError> {
            match object.get(name) {
                Some(Value::String(s)) => Ok(s.clone()),
                None | Some(Value::Null) => {
                    Err(ApiError::bad_request(format!("{name} is required")))
                }
                Some(_) => Err(ApiError::bad_request(format!("{name} must be a string"))),
            }
        };
        // The seed types scope as "string/numeric": a number is accepted as text (and
        // then refused as an unknown scope), anything else is malformed.
        let scope = match object.get("scope") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            None | Some(Value::Null) => return Err(ApiError::bad_request("scope is required")),
            Some(_) => return Err(ApiError::bad_request("scope must be a string")),
        };
        Ok(Self {
            client_id: text("client_id")?,
            client_secret: text("client_secret")?,
            redirect_uri: text("redirect_uri")?,
            scope,
            account_id: text("account_id")?,
        })
    }
}

/// `POST /v1/oauth/token`'s answer (seed 001).
#[derive(Serialize, ToSchema)]
pub struct BrokerTokenResponse {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// The granted scopes; empty for read-only.
    pub scope: String,
}

/// `POST /v1/oauth/authorize`'s answer (seed 000).
#[derive(Serialize, ToSchema)]
pub struct BrokerCodeResponse {
    /// The authorization code, to redeem at `POST /oauth/token`.
    pub code: String,
    pub client_id: String,
    pub redirect_uri: String,
    /// The granted scopes; empty for read-only.
    pub scope: String,
}

/// The client, if it exists and is this broker's; someone else's client answers
/// exactly like a missing one.
async fn owned_client(
    state: &AppState,
    broker: &Broker,
    client_id: &str,
) -> Result<Client, ApiError> {
    let unknown =
        || ApiError::broker_unauthorized("client does not exist or you do not have access to it");
    let client_id = ClientId::parse(client_id).map_err(|_| unknown())?;
    state
        .client(&client_id)
        .await?
        .filter(|c| c.broker_id == broker.id)
        .map(|c| (*c).clone())
        .ok_or_else(unknown)
}

fn redirect_uri_registered(client: &Client, requested: &str) -> Result<(), ApiError> {
    match client.redirect_uri_for(requested) {
        Some(_) => Ok(()),
        None => Err(ApiError::unprocessable(format!(
            "redirect_uri `{}` is not registered for this client",
            requested.chars().take(200).collect::<String>()
        ))),
    }
}

fn parse_scope(scope: &str) -> Result<ScopeSet, ApiError> {
    ScopeSet::parse(scope).map_err(|e| ApiError::unprocessable(e.to_string()))
}

fn path_param(path: Result<Path<String>, PathRejection>) -> Result<String, ApiError> {
    path.map(|Path(p)| p)
        .map_err(|e| ApiError::bad_request(format!("malformed path: {e}")))
}

#[utoipa::path(
    get,
    path = "/v1/oauth/clients/{client_id}",
    tag = "Broker API",
    summary = "Get an OAuth client",
    description = "The client's details, to show on an authorization page. The optional \
                   parameters are checked against the client.",
    security(("broker_basic" = [])),
    params(
        ("client_id" = String, Path, description = "The OAuth client's id"),
        ("response_type" = Option<String>, Query, description = "`code` or `token`"),
        ("redirect_uri" = Option<String>, Query, description = "Must be registered for the client"),
        ("scope" = Option<String>, Query, description = "Requested scopes"),
    ),
    responses(
        (status = 200, description = "The client", body = ClientResponse),
        (status = 400, description = "Malformed query", body = AlpacaErrorBody),
        (status = 401, description = "Bad broker credentials, or the client does not exist or is not yours", body = AlpacaErrorBody),
        (status = 422, description = "response_type, redirect_uri or scope is invalid", body = AlpacaErrorBody),
    )
)]
async fn get_client(
    BrokerAuth(broker): BrokerAuth,
    State(state): State<AppState>,
    client_id: Result<Path<String>, PathRejection>,
    RawQuery(query): RawQuery,
) -> Result<Json<ClientResponse>, ApiError> {
    let client = owned_client(&state, &broker, &path_param(client_id)?).await?;
    let params = Params::parse(query.unwrap_or_default().as_bytes())
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    if let Some(response_type) = params.get("response_type")
        && !matches!(response_type, "code" | "token")
    {
        return Err(ApiError::unprocessable(
            "response_type must be `code` or `token`",
        ));
    }
    if let Some(redirect_uri) = params.get("redirect_uri") {
        redirect_uri_registered(&client, redirect_uri)?;
    }
    if let Some(scope) = params.get("scope") {
        parse_scope(scope)?;
    }
    Ok(Json(ClientResponse::from(&client)))
}

/// A Broker API grant request that passed every check.
struct CheckedGrant {
    client: Client,
    redirect_uri: String,
    scopes: ScopeSet,
    account: Account,
}

/// The checks shared by the token and code endpoints, in the order of the seed's
/// statuses: 401 for the client and its secret, then 422 for the values.
async fn check_grant(
    state: &AppState,
    broker: &Broker,
    body: &Value,
) -> Result<CheckedGrant, ApiError> {
    let request = BrokerGrantRequest::from_json(body)?;
    let client = owned_client(state, broker, &request.client_id).await?;
    let secret_ok = ClientSecret::parse(&request.client_secret)
        .is_ok_and(|secret| client.verify_secret(&secret));
    if !secret_ok {
        return Err(ApiError::broker_unauthorized("client_secret is incorrect"));
    }
    if !client.is_active() {
        return Err(ApiError::broker_unauthorized("the client is disabled"));
    }
    redirect_uri_registered(&client, &request.redirect_uri)?;
    let scopes = parse_scope(&request.scope)?;
    let not_yours = || {
        ApiError::unprocessable(format!(
            "account_id `{}` is not an account of yours",
            request.account_id.chars().take(64).collect::<String>()
        ))
    };
    let account_id: AccountId = request.account_id.parse().map_err(|_| not_yours())?;
    // From the node's cache: who owns an account, and where, never changes.
    let account = crate::trading::find_account_state(state, account_id)
        .await?
        .map(|cached| cached.account.clone())
        .filter(|a| a.broker_id == broker.id)
        .ok_or_else(not_yours)?;
    if !client.may_access(account.env) {
        return Err(ApiError::unprocessable(
            "the client is not approved for live trading, and the account is a live account",
        ));
    }
    Ok(CheckedGrant {
        client,
        redirect_uri: request.redirect_uri,
        scopes,
        account,
    })
}

/// Tokens must never be cached by anything between us and the caller (RFC 6749 §5.1).
fn no_store(json: impl Serialize) -> Response {
    ([(CACHE_CONTROL, "no-store")], Json(json)).into_response()
}

#[utoipa::path(
    post,
    path = "/v1/oauth/token",
    tag = "Broker API",
    summary = "Create an OAuth token",
    description = "Issues an access token for one of the broker's accounts directly.",
    security(("broker_basic" = [])),
    request_body = BrokerGrantRequest,
    responses(
        (status = 200, description = "The token", body = BrokerTokenResponse),
        (status = 400, description = "Malformed body", body = AlpacaErrorBody),
        (status = 401, description = "Bad broker credentials; the client does not exist, is not yours or is disabled; or client_secret is incorrect", body = AlpacaErrorBody),
        (status = 422, description = "redirect_uri or scope is invalid; the account is not yours; or a live account for a client not approved for live trading", body = AlpacaErrorBody),
    )
)]
async fn issue_token(
    BrokerAuth(broker): BrokerAuth,
    State(state): State<AppState>,
    AlpacaJson(body): AlpacaJson<Value>,
) -> Result<Response, ApiError> {
    let grant = check_grant(&state, &broker, &body).await?;
    let token = AccessToken::generate(&mut rand::rng());
    let now = state.clock.now();
    state
        .store
        .insert_token(&NewToken {
            id: GrantId::timed(),
            digest: token.digest(),
            client_id: grant.client.client_id,
            user_id: grant.account.user_id,
            scopes: grant.scopes,
            accounts: AccountBinding::single(grant.account.env, grant.account.id),
            created_at: now,
            expires_at: state.settings.token_ttl.map(|ttl| now + ttl),
        })
        .await?;
    Ok(no_store(BrokerTokenResponse {
        access_token: token.expose().to_owned(),
        token_type: "Bearer",
        scope: grant.scopes.to_string(),
    }))
}

#[utoipa::path(
    post,
    path = "/v1/oauth/authorize",
    tag = "Broker API",
    summary = "Authorize an OAuth token",
    description = "Issues an authorization code for one of the broker's accounts, to be \
                   exchanged at POST /oauth/token like one from the browser flow.",
    security(("broker_basic" = [])),
    request_body = BrokerGrantRequest,
    responses(
        (status = 200, description = "The code", body = BrokerCodeResponse),
        (status = 400, description = "Malformed body", body = AlpacaErrorBody),
        (status = 401, description = "Bad broker credentials; the client does not exist, is not yours or is disabled; or client_secret is incorrect", body = AlpacaErrorBody),
        (status = 422, description = "redirect_uri or scope is invalid; the account is not yours; or a live account for a client not approved for live trading", body = AlpacaErrorBody),
    )
)]
async fn issue_code(
    BrokerAuth(broker): BrokerAuth,
    State(state): State<AppState>,
    AlpacaJson(body): AlpacaJson<Value>,
) -> Result<Response, ApiError> {
    let grant = check_grant(&state, &broker, &body).await?;
    let code = AuthCode::generate(&mut rand::rng());
    let now = state.clock.now();
    state
        .store
        .insert_code(
            &code.digest(),
            &CodeGrant {
                client_id: grant.client.client_id.clone(),
                user_id: grant.account.user_id,
                redirect_uri: grant.redirect_uri.clone(),
                scopes: grant.scopes,
                accounts: AccountBinding::single(grant.account.env, grant.account.id),
                code_challenge: None,
                created_at: now,
                expires_at: now + state.settings.code_ttl,
            },
        )
        .await?;
    Ok(no_store(BrokerCodeResponse {
        code: code.expose().to_owned(),
        client_id: grant.client.client_id.to_string(),
        redirect_uri: grant.redirect_uri,
        scope: grant.scopes.to_string(),
    }))
}

#[utoipa::path(
    delete,
    path = "/v1/oauth/token/{token_id}",
    tag = "Broker API",
    summary = "Delete a token",
    description = "Revokes an access token issued to one of the broker's clients; it stops \
                   working at once. Revoking a revoked token again succeeds.",
    security(("broker_basic" = [])),
    params(("token_id" = String, Path, description = "The access token itself")),
    responses(
        (status = 204, description = "The token was revoked"),
        (status = 401, description = "Bad broker credentials", body = AlpacaErrorBody),
        (status = 404, description = "No such token among your clients' tokens", body = AlpacaErrorBody),
    )
)]
async fn revoke_token(
    BrokerAuth(broker): BrokerAuth,
    State(state): State<AppState>,
    token: Result<Path<String>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    let not_found = || ApiError::not_found("no such token among your clients' tokens");
    let token = AccessToken::parse(&path_param(token)?).map_err(|_| not_found())?;
    let digest = token.digest();
    state
        .store
        .token(&digest)
        .await?
        .filter(|grant| grant.client_broker_id == broker.id)
        .ok_or_else(not_found)?;
    state.store.revoke_token(&digest, state.clock.now()).await?;
    state.caches.apply(&Invalidation::Token(digest));
    Ok(StatusCode::NO_CONTENT)
}
