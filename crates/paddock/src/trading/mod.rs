//! The Trading API v2: the resource server the access tokens unlock (SPEC §3.4).
//! One router, mounted twice: at the root for the live base and under `/paper` for
//! the paper base (so the OpenAPI document lists each path on both bases).

use std::sync::Arc;

use axum::Extension;
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
pub mod assets;
pub mod clock;
pub mod orders;
pub mod positions;

/// Every open order of an account (core's engine caps how many there can be).
pub fn all_open() -> OrderQuery {
    OrderQuery {
        open: Some(true),
        after: None,
        until: None,
        limit: paddock_core::trading::engine::MAX_OPEN_ORDERS,
        ascending: true,
        symbols: Vec::new(),
        side: None,
    }
}

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
    let load = async {
        let Some(account) = state.store.account(id).await? else {
            return Ok::<_, ApiError>(None);
        };
        let holdings = state.store.holdings(id).await?;
        let open_orders = state.store.orders(id, &all_open()).await?;
        Ok(Some(Arc::new(AccountState {
            account,
            holdings,
            open_orders,
        })))
    };
    state
        .caches
        .accounts
        .get_or_load(id, load)
        .await?
        .ok_or_else(|| anyhow::anyhow!("a token grants account {id}, which does not exist").into())
}

/// The Trading API on the `env` base, each endpoint registered with its description.
pub fn router(env: Env) -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(account::get_account))
        .routes(routes!(assets::list_assets))
        .routes(routes!(assets::get_asset))
        .routes(routes!(clock::get_clock))
        .routes(routes!(clock::get_calendar))
        .routes(routes!(
            orders::submit_order,
            orders::list_orders,
            orders::cancel_all
        ))
        .routes(routes!(orders::get_order, orders::cancel_order))
        .routes(routes!(orders::order_by_client_id))
        .routes(routes!(positions::list_positions))
        .routes(routes!(positions::get_position))
        .layer(Extension(Base(env)))
}
