//! Watchlists (`/v2/watchlists`): named lists of assets per account. Reading needs no
//! scope; creating, changing and deleting need `account:write`. Another account's
//! watchlist id is 404, as a missing one is.

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use paddock_core::ids::WatchlistId;
use paddock_core::store::{Conflict, Missing, StoreError};
use paddock_core::trading::assets::{self, Symbol};
use paddock_core::trading::watchlists::{self as rules, Watchlist};
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::auth::{AccountWrite, BearerGrant, Scoped};
use crate::error::{AlpacaErrorBody, ApiError};
use crate::extract::AlpacaJson;
use crate::state::AppState;
use crate::trading::assets::AssetResponse;
use crate::wire;

/// Alpaca's watchlist object, as alpaca-py's `Watchlist` parses it.
#[derive(Serialize, ToSchema)]
pub struct WatchlistResponse {
    #[schema(format = "uuid")]
    pub id: String,
    #[schema(format = "uuid")]
    pub account_id: String,
    pub name: String,
    #[serde(serialize_with = "wire::timestamp")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "wire::timestamp")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: DateTime<Utc>,
    /// In the order they were added.
    pub assets: Vec<AssetResponse>,
}

impl From<&Watchlist> for WatchlistResponse {
    fn from(w: &Watchlist) -> Self {
        Self {
            id: w.id.to_string(),
            account_id: w.account_id.to_string(),
            name: w.name.clone(),
            created_at: w.created_at,
            updated_at: w.updated_at,
            assets: w
                .symbols
                .iter()
                .filter_map(|s| assets::find(s.as_str()))
                .map(|a| AssetResponse::from(&a))
                .collect(),
        }
    }
}

fn not_found() -> ApiError {
    ApiError::not_found("watchlist not found")
}

fn watchlist_id(path: Result<Path<String>, PathRejection>) -> Result<WatchlistId, ApiError> {
    path.ok()
        .and_then(|Path(id)| id.parse().ok())
        .ok_or_else(not_found)
}

/// Store refusals that mean bad input: 422 with what to change.
fn store_error(error: StoreError) -> ApiError {
    match error {
        StoreError::Conflict(
            c @ (Conflict::WatchlistNameTaken
            | Conflict::TooManyWatchlists
            | Conflict::SymbolInWatchlist),
        ) => ApiError::unprocessable(c.to_string()),
        StoreError::Missing(Missing::WatchlistSymbol) => {
            ApiError::not_found(Missing::WatchlistSymbol.to_string())
        }
        other => other.into(),
    }
}

fn object(body: Value) -> Result<Map<String, Value>, ApiError> {
    match body {
        Value::Object(map) => Ok(map),
        _ => Err(ApiError::bad_request("the body must be a JSON object")),
    }
}

fn name(body: &Map<String, Value>) -> Result<Option<String>, ApiError> {
    match body.get("name") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => rules::check_name(s)
            .map(Some)
            .map_err(ApiError::unprocessable),
        Some(_) => Err(ApiError::unprocessable("name must be a string")),
    }
}

fn symbols(body: &Map<String, Value>) -> Result<Option<Vec<Symbol>>, ApiError> {
    match body.get("symbols") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => {
            let texts = items
                .iter()
                .map(|v| v.as_str())
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| ApiError::unprocessable("symbols must be a list of strings"))?;
            rules::check_symbols(texts)
                .map(Some)
                .map_err(ApiError::unprocessable)
        }
        Some(_) => Err(ApiError::unprocessable("symbols must be a list of strings")),
    }
}

#[utoipa::path(
    get,
    path = "/v2/watchlists",
    tag = "Trading API",
    summary = "List watchlists",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The account's watchlists", body = Vec<WatchlistResponse>),
        (status = 401, description = "Missing or invalid token", body = AlpacaErrorBody),
    )
)]
pub async fn list_watchlists(
    grant: BearerGrant,
    State(state): State<AppState>,
) -> Result<Json<Vec<WatchlistResponse>>, ApiError> {
    let lists = state.store.watchlists(grant.account_id).await?;
    Ok(Json(lists.iter().map(WatchlistResponse::from).collect()))
}

#[utoipa::path(
    post,
    path = "/v2/watchlists",
    tag = "Trading API",
    summary = "Create a watchlist",
    description = "`{\"name\": …, \"symbols\": [...]}`; names are unique per account. Needs \
                   the `account:write` scope.",
    request_body(content = Object, description = "The name and, optionally, symbols"),
    security(("bearer" = ["account:write"])),
    responses(
        (status = 200, description = "The new watchlist", body = WatchlistResponse),
        (status = 403, description = "No `account:write` scope", body = AlpacaErrorBody),
        (status = 422, description = "A bad name or symbol, or a name in use", body = AlpacaErrorBody),
    )
)]
pub async fn create_watchlist(
    scoped: Scoped<AccountWrite>,
    State(state): State<AppState>,
    AlpacaJson(body): AlpacaJson<Value>,
) -> Result<Json<WatchlistResponse>, ApiError> {
    let body = object(body)?;
    let name = name(&body)?.ok_or_else(|| ApiError::unprocessable("name is required"))?;
    let now = state.clock.now();
    let list = Watchlist {
        id: WatchlistId::random(),
        account_id: scoped.grant.account_id,
        name,
        symbols: symbols(&body)?.unwrap_or_default(),
        created_at: now,
        updated_at: now,
    };
    state
        .store
        .create_watchlist(&list)
        .await
        .map_err(store_error)?;
    Ok(Json(WatchlistResponse::from(&list)))
}

/// The watchlist as stored now, after a change.
async fn reread(
    state: &AppState,
    grant: &BearerGrant,
    id: WatchlistId,
) -> Result<Json<WatchlistResponse>, ApiError> {
    let list = state
        .store
        .watchlist(grant.account_id, id)
        .await?
        .ok_or_else(not_found)?;
    Ok(Json(WatchlistResponse::from(&list)))
}

#[utoipa::path(
    get,
    path = "/v2/watchlists/{watchlist_id}",
    tag = "Trading API",
    summary = "Get a watchlist",
    params(("watchlist_id" = String, Path)),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The watchlist", body = WatchlistResponse),
        (status = 404, description = "No such watchlist of this account", body = AlpacaErrorBody),
    )
)]
pub async fn get_watchlist(
    grant: BearerGrant,
    State(state): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<WatchlistResponse>, ApiError> {
    reread(&state, &grant, watchlist_id(id)?).await
}

#[utoipa::path(
    put,
    path = "/v2/watchlists/{watchlist_id}",
    tag = "Trading API",
    summary = "Rename a watchlist or replace its symbols",
    description = "`name` and `symbols` each replace what the list has; an absent one \
                   stays. Needs the `account:write` scope.",
    params(("watchlist_id" = String, Path)),
    request_body(content = Object, description = "A new name, new symbols, or both"),
    security(("bearer" = ["account:write"])),
    responses(
        (status = 200, description = "The watchlist", body = WatchlistResponse),
        (status = 403, description = "No `account:write` scope", body = AlpacaErrorBody),
        (status = 404, description = "No such watchlist of this account", body = AlpacaErrorBody),
        (status = 422, description = "A bad name or symbol, or a name in use", body = AlpacaErrorBody),
    )
)]
pub async fn update_watchlist(
    scoped: Scoped<AccountWrite>,
    State(state): State<AppState>,
    id: Result<Path<String>, PathRejection>,
    AlpacaJson(body): AlpacaJson<Value>,
) -> Result<Json<WatchlistResponse>, ApiError> {
    let id = watchlist_id(id)?;
    let body = object(body)?;
    let (name, symbols) = (name(&body)?, symbols(&body)?);
    if name.is_none() && symbols.is_none() {
        return Err(ApiError::unprocessable("give a name, symbols, or both"));
    }
    let replaced = state
        .store
        .replace_watchlist(
            scoped.grant.account_id,
            id,
            name.as_deref(),
            symbols.as_deref(),
            state.clock.now(),
        )
        .await
        .map_err(store_error)?;
    if !replaced {
        return Err(not_found());
    }
    reread(&state, &scoped.grant, id).await
}

#[utoipa::path(
    post,
    path = "/v2/watchlists/{watchlist_id}",
    tag = "Trading API",
    summary = "Add an asset to a watchlist",
    description = "`{\"symbol\": …}`. Needs the `account:write` scope.",
    params(("watchlist_id" = String, Path)),
    request_body(content = Object, description = "The symbol to add"),
    security(("bearer" = ["account:write"])),
    responses(
        (status = 200, description = "The watchlist", body = WatchlistResponse),
        (status = 403, description = "No `account:write` scope", body = AlpacaErrorBody),
        (status = 404, description = "No such watchlist of this account", body = AlpacaErrorBody),
        (status = 422, description = "A bad symbol, or one in the list already", body = AlpacaErrorBody),
    )
)]
pub async fn add_to_watchlist(
    scoped: Scoped<AccountWrite>,
    State(state): State<AppState>,
    id: Result<Path<String>, PathRejection>,
    AlpacaJson(body): AlpacaJson<Value>,
) -> Result<Json<WatchlistResponse>, ApiError> {
    let id = watchlist_id(id)?;
    let body = object(body)?;
    let symbol = match body.get("symbol") {
        Some(Value::String(s)) => rules::check_symbol(s).map_err(ApiError::unprocessable)?,
        _ => return Err(ApiError::unprocessable("symbol is required")),
    };
    let added = state
        .store
        .add_to_watchlist(scoped.grant.account_id, id, &symbol, state.clock.now())
        .await
        .map_err(store_error)?;
    if !added {
        return Err(not_found());
    }
    reread(&state, &scoped.grant, id).await
}

#[utoipa::path(
    delete,
    path = "/v2/watchlists/{watchlist_id}",
    tag = "Trading API",
    summary = "Delete a watchlist",
    params(("watchlist_id" = String, Path)),
    security(("bearer" = ["account:write"])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "No `account:write` scope", body = AlpacaErrorBody),
        (status = 404, description = "No such watchlist of this account", body = AlpacaErrorBody),
    )
)]
pub async fn delete_watchlist(
    scoped: Scoped<AccountWrite>,
    State(state): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    let id = watchlist_id(id)?;
    if !state
        .store
        .delete_watchlist(scoped.grant.account_id, id)
        .await?
    {
        return Err(not_found());
    }
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    delete,
    path = "/v2/watchlists/{watchlist_id}/{symbol}",
    tag = "Trading API",
    summary = "Remove an asset from a watchlist",
    params(("watchlist_id" = String, Path), ("symbol" = String, Path)),
    security(("bearer" = ["account:write"])),
    responses(
        (status = 200, description = "The watchlist", body = WatchlistResponse),
        (status = 403, description = "No `account:write` scope", body = AlpacaErrorBody),
        (status = 404, description = "No such watchlist, or the symbol is not in it", body = AlpacaErrorBody),
    )
)]
pub async fn remove_from_watchlist(
    scoped: Scoped<AccountWrite>,
    State(state): State<AppState>,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Result<Json<WatchlistResponse>, ApiError> {
    let Ok(Path((id, symbol))) = path else {
        return Err(not_found());
    };
    let id: WatchlistId = id.parse().map_err(|_| not_found())?;
    let symbol = rules::check_symbol(&symbol)
        .map_err(|_| ApiError::not_found(Missing::WatchlistSymbol.to_string()))?;
    let removed = state
        .store
        .remove_from_watchlist(scoped.grant.account_id, id, &symbol, state.clock.now())
        .await
        .map_err(store_error)?;
    if !removed {
        return Err(not_found());
    }
    reread(&state, &scoped.grant, id).await
}
