//! The Trading API v2: the resource server the access tokens unlock (SPEC §3.4).
//! One router, mounted twice: at the root for the live base and under `/paper` for
//! the paper base (so the OpenAPI document lists each path on both bases).

use std::sync::Arc;

use axum::Extension;
use chrono::{DateTime, Utc};
use paddock_core::env::Env;
use paddock_core::ids::AccountId;
use paddock_core::store::OrderQuery;
use paddock_core::trading::market::Market;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Base;
use crate::cache::AccountState;
use crate::error::ApiError;
use crate::state::AppState;

pub mod account;
pub mod activities;
pub mod assets;
pub mod clock;
pub mod configurations;
pub mod events;
pub mod history;
pub mod orders;
pub mod positions;
pub mod stream;
pub mod watchlists;

/// The market's prices now, from the node's cache (dropped whenever a price is set).
pub async fn market(state: &AppState) -> Result<Arc<Market>, ApiError> {
    let load = async {
        let stored = state.store.prices().await?;
        Ok::<_, ApiError>(Some(Arc::new(Market::new(&stored, state.settings.market))))
    };
    Ok(state
        .caches
        .market
        .get_or_load((), load)
        .await?
        .ok_or_else(|| anyhow::anyhow!("the market always loads"))?)
}

/// The account with its holdings and open orders, from the node's cache (dropped
/// whenever the account trades, on any node).
pub async fn account_state(state: &AppState, id: AccountId) -> Result<Arc<AccountState>, ApiError> {
    find_account_state(state, id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("a token grants account {id}, which does not exist").into())
}

/// [`account_state`], or `None` when there is no such account (which is not cached:
/// it may be created next).
pub async fn find_account_state(
    state: &AppState,
    id: AccountId,
) -> Result<Option<Arc<AccountState>>, ApiError> {
    let load = async {
        let Some(account) = state.store.account(id).await? else {
            return Ok::<_, ApiError>(None);
        };
        let config = state.store.account_config(id).await?;
        let holdings = state.store.holdings(id).await?;
        let open_orders = state.store.orders(id, &OrderQuery::all_open()).await?;
        Ok(Some(Arc::new(AccountState {
            account,
            config,
            holdings,
            open_orders,
            rendered: Default::default(),
        })))
    };
    state.caches.accounts.get_or_load(id, load).await
}

/// A field of a JSON body holding an amount: a JSON number (`1.0`) or a string
/// (`"1.0"`), as alpaca-py sends either; `None` when absent or null.
pub fn body_decimal(
    body: &serde_json::Map<String, serde_json::Value>,
    name: &str,
) -> Result<Option<rust_decimal::Decimal>, ApiError> {
    use std::str::FromStr;

    use rust_decimal::Decimal;
    use serde_json::Value;

    let parsed = match body.get(name) {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Number(n)) => {
            let s = n.to_string();
            Decimal::from_str(&s)
                .or_else(|_| Decimal::from_scientific(&s))
                .ok()
        }
        Some(Value::String(s)) => Decimal::from_str(s.trim()).ok(),
        Some(_) => None,
    };
    parsed
        .map(Some)
        .ok_or_else(|| ApiError::unprocessable(format!("{name} must be a number")))
}

/// A field of a JSON body that takes one of a type's wire names; `None` when absent or
/// null, 422 naming the accepted values otherwise.
pub fn body_choice<T>(
    body: &serde_json::Map<String, serde_json::Value>,
    name: &str,
    parse: fn(&str) -> Option<T>,
    names: fn() -> String,
) -> Result<Option<T>, ApiError> {
    use serde_json::Value;

    match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => parse(s).map(Some).ok_or_else(|| {
            ApiError::unprocessable(format!("{name}={s} is not valid; use one of {}", names()))
        }),
        Some(_) => Err(ApiError::unprocessable(format!(
            "{name} must be a string, one of {}",
            names()
        ))),
    }
}

/// A query parameter's bad value: 422 with what to give instead.
pub fn query_error(name: &str, value: &str, expected: &str) -> ApiError {
    ApiError::unprocessable(format!(
        "{name}={} is not valid; {expected}",
        value.chars().take(40).collect::<String>()
    ))
}

/// A query parameter's boolean, as SDKs send it (`true`, or Python's `True`); `false`
/// when absent.
pub fn query_bool(query: &paddock_core::form::Params, name: &str) -> Result<bool, ApiError> {
    match query.raw(name) {
        None | Some("false" | "False") => Ok(false),
        Some("true" | "True") => Ok(true),
        Some(other) => Err(query_error(name, other, "use true or false")),
    }
}

/// A query parameter's time: RFC 3339, or a date (its midnight UTC).
pub fn query_time(name: &str, value: &str) -> Result<DateTime<Utc>, ApiError> {
    DateTime::parse_from_rfc3339(value)
        .map(|t| t.with_timezone(&Utc))
        .or_else(|_| {
            value
                .parse::<chrono::NaiveDate>()
                .map(|d| d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc())
        })
        .map_err(|_| query_error(name, value, "give an RFC 3339 time or a date"))
}

/// The trade-updates stream on the `env` base: a WebSocket, so a plain route rather
/// than an OpenAPI operation (the README and SPEC §3.5 describe its protocol).
pub fn stream_router(env: Env) -> axum::Router<AppState> {
    axum::Router::new()
        .route("/stream", axum::routing::get(stream::trade_stream))
        .route("/stream/", axum::routing::get(stream::trade_stream))
        .layer(Extension(Base(env)))
}

/// The Trading API on the `env` base, each endpoint registered with its description.
pub fn router(env: Env) -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(account::get_account))
        .routes(routes!(activities::list_activities))
        .routes(routes!(activities::list_activities_of_type))
        .routes(routes!(history::portfolio_history))
        .routes(routes!(events::trade_events))
        .routes(routes!(
            configurations::get_configurations,
            configurations::patch_configurations
        ))
        .routes(routes!(assets::list_assets))
        .routes(routes!(assets::get_asset))
        .routes(routes!(clock::get_clock))
        .routes(routes!(clock::get_calendar))
        .routes(routes!(
            orders::submit_order,
            orders::list_orders,
            orders::cancel_all
        ))
        .routes(routes!(
            orders::get_order,
            orders::replace_order,
            orders::cancel_order
        ))
        .routes(routes!(orders::order_by_client_id))
        .routes(routes!(
            positions::list_positions,
            positions::close_all_positions
        ))
        .routes(routes!(positions::get_position, positions::close_position))
        .routes(routes!(
            watchlists::list_watchlists,
            watchlists::create_watchlist
        ))
        .routes(routes!(
            watchlists::get_watchlist,
            watchlists::update_watchlist,
            watchlists::add_to_watchlist,
            watchlists::delete_watchlist
        ))
        .routes(routes!(watchlists::remove_from_watchlist))
        .layer(Extension(Base(env)))
}
