//! Positions: what an account holds, valued at the market's prices (`GET`), and
//! closing them (`DELETE`, which places market sell orders; needs `trading`).

use std::str::FromStr;

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use paddock_core::form::Params;
use paddock_core::money::SCALE;
use paddock_core::store::Invalidation;
use paddock_core::trading::assets::{self, Symbol};
use paddock_core::trading::engine;
use paddock_core::trading::market::Market;
use paddock_core::trading::orders::{Amount, Holding, NewOrder, OrderType, Side, TimeInForce};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::auth::{BearerGrant, Scoped, Trading};
use crate::cache::AccountState;
use crate::error::{AlpacaErrorBody, ApiError};
use crate::extract::AlpacaQuery;
use crate::state::AppState;
use crate::trading::orders::{self, OrderResponse};
use crate::wire;

/// Alpaca's position object, as alpaca-py's `Position` parses it: amounts as strings.
#[derive(Serialize, ToSchema)]
pub struct PositionResponse {
    #[schema(format = "uuid")]
    pub asset_id: String,
    pub symbol: String,
    pub exchange: &'static str,
    pub asset_class: &'static str,
    pub asset_marginable: bool,
    pub avg_entry_price: String,
    pub qty: String,
    pub qty_available: String,
    /// Always `long`: the paper brokerage does not short.
    pub side: &'static str,
    pub market_value: String,
    pub cost_basis: String,
    pub unrealized_pl: String,
    pub unrealized_plpc: String,
    pub unrealized_intraday_pl: String,
    pub unrealized_intraday_plpc: String,
    pub current_price: String,
    pub lastday_price: String,
    pub change_today: String,
}

impl PositionResponse {
    /// `account`'s position in `symbol`: its shares held back by open sells are not
    /// available.
    fn new(
        symbol: &Symbol,
        holding: &Holding,
        account: &AccountState,
        market: &Market,
    ) -> Option<Self> {
        let asset = assets::find(symbol.as_str())?;
        let price = market.price(symbol).unwrap_or(holding.avg_entry_price);
        let held_for_orders: Decimal = account
            .open_orders
            .iter()
            .filter(|o| o.symbol == *symbol)
            .map(|o| o.reserved_qty(price))
            .sum();
        let value = holding.qty * price;
        let cost = holding.qty * holding.avg_entry_price;
        let pl = value - cost;
        let plpc = if cost.is_zero() {
            Decimal::ZERO
        } else {
            (pl / cost).round_dp_with_strategy(9, RoundingStrategy::MidpointNearestEven)
        };
        Some(Self {
            asset_id: asset.id.to_string(),
            symbol: symbol.to_string(),
            exchange: asset.exchange.as_str(),
            asset_class: "us_equity",
            asset_marginable: true,
            avg_entry_price: wire::amount(holding.avg_entry_price),
            qty: wire::amount(holding.qty),
            qty_available: wire::amount((holding.qty - held_for_orders).max(Decimal::ZERO)),
            side: "long",
            market_value: wire::amount(value),
            cost_basis: wire::amount(cost),
            unrealized_pl: wire::amount(pl),
            unrealized_plpc: wire::amount(plpc),
            unrealized_intraday_pl: wire::amount(pl),
            unrealized_intraday_plpc: wire::amount(plpc),
            current_price: wire::amount(price),
            lastday_price: wire::amount(price),
            change_today: "0".into(),
        })
    }
}

#[utoipa::path(
    get,
    path = "/v2/positions",
    tag = "Trading API",
    summary = "List positions",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The positions", body = Vec<PositionResponse>),
        (status = 401, description = "Missing or invalid token", body = AlpacaErrorBody),
    )
)]
pub async fn list_positions(
    grant: BearerGrant,
    State(state): State<AppState>,
) -> Result<Json<Vec<PositionResponse>>, ApiError> {
    let account = super::account_state(&state, grant.account_id).await?;
    let market = super::market(&state).await?;
    Ok(Json(
        account
            .holdings
            .iter()
            .filter_map(|(symbol, holding)| {
                PositionResponse::new(symbol, holding, &account, &market)
            })
            .collect(),
    ))
}

#[utoipa::path(
    get,
    path = "/v2/positions/{symbol_or_asset_id}",
    tag = "Trading API",
    summary = "Get a position",
    params(("symbol_or_asset_id" = String, Path)),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The position", body = PositionResponse),
        (status = 404, description = "No position in this asset", body = AlpacaErrorBody),
    )
)]
pub async fn get_position(
    grant: BearerGrant,
    State(state): State<AppState>,
    symbol_or_id: Result<Path<String>, PathRejection>,
) -> Result<Json<PositionResponse>, ApiError> {
    let not_found = || ApiError::not_found("position does not exist");
    let Path(symbol_or_id) = symbol_or_id.map_err(|_| not_found())?;
    let asset = assets::find(&symbol_or_id).ok_or_else(not_found)?;
    let account = super::account_state(&state, grant.account_id).await?;
    let market = super::market(&state).await?;
    account
        .holdings
        .iter()
        .find(|(symbol, _)| *symbol == asset.symbol)
        .and_then(|(symbol, holding)| PositionResponse::new(symbol, holding, &account, &market))
        .map(Json)
        .ok_or_else(not_found)
}

/// How much of a position to close: `qty` shares or `percentage` of it (rounded down
/// to the billionth of a share), or all of it.
fn close_qty(query: &Params, held: Decimal) -> Result<Decimal, ApiError> {
    let amount = |name: &str| -> Result<Option<Decimal>, ApiError> {
        query
            .get(name)
            .map(|text| {
                Decimal::from_str(text.trim())
                    .map_err(|_| ApiError::unprocessable(format!("{name} must be a number")))
            })
            .transpose()
    };
    match (amount("qty")?, amount("percentage")?) {
        (Some(_), Some(_)) => Err(ApiError::unprocessable("give qty or percentage, not both")),
        (Some(qty), None) if qty <= Decimal::ZERO => {
            Err(ApiError::unprocessable("qty must be > 0"))
        }
        (Some(qty), None) => Ok(qty),
        (None, Some(percent)) if percent <= Decimal::ZERO || percent > Decimal::ONE_HUNDRED => Err(
            ApiError::unprocessable("percentage must be > 0 and at most 100"),
        ),
        (None, Some(percent)) => Ok((held * percent / Decimal::ONE_HUNDRED)
            .round_dp_with_strategy(SCALE, RoundingStrategy::ToZero)),
        (None, None) => Ok(held),
    }
}

/// A market sell of `qty` shares: how a position closes.
fn closing_order(qty: Decimal) -> NewOrder {
    NewOrder::plain(
        Side::Sell,
        OrderType::Market,
        Amount::Qty(qty),
        TimeInForce::Day,
    )
}

#[utoipa::path(
    delete,
    path = "/v2/positions/{symbol_or_asset_id}",
    tag = "Trading API",
    summary = "Close a position",
    description = "Places a market sell for the position, or for `qty` shares of it, or \
                   for `percentage` of it. Needs the `trading` scope.",
    params(
        ("symbol_or_asset_id" = String, Path),
        ("qty" = Option<String>, Query, description = "Shares to sell"),
        ("percentage" = Option<String>, Query, description = "Percent of the position to sell"),
    ),
    security(("bearer" = ["trading"])),
    responses(
        (status = 200, description = "The closing order", body = OrderResponse),
        (status = 403, description = "No `trading` scope, or shares held for other orders", body = AlpacaErrorBody),
        (status = 404, description = "No position in this asset", body = AlpacaErrorBody),
        (status = 422, description = "A bad qty or percentage", body = AlpacaErrorBody),
    )
)]
pub async fn close_position(
    scoped: Scoped<Trading>,
    State(state): State<AppState>,
    symbol_or_id: Result<Path<String>, PathRejection>,
    AlpacaQuery(query): AlpacaQuery,
) -> Result<Json<OrderResponse>, ApiError> {
    let not_found = || ApiError::not_found("position does not exist");
    let Path(symbol_or_id) = symbol_or_id.map_err(|_| not_found())?;
    let asset = assets::find(&symbol_or_id).ok_or_else(not_found)?;
    let id = scoped.grant.account_id;
    let held = state
        .store
        .holdings(id)
        .await?
        .into_iter()
        .find(|(symbol, _)| *symbol == asset.symbol)
        .map(|(_, holding)| holding.qty)
        .ok_or_else(not_found)?;
    let qty = close_qty(&query, held)?;
    let now = state.clock.now();
    let result = engine::submit(
        state.store.as_ref(),
        id,
        &asset,
        closing_order(qty),
        state.settings.market,
        now,
    )
    .await;
    state.caches.apply(&Invalidation::Account(id));
    Ok(Json(OrderResponse::from(
        &result.map_err(orders::engine_error)?,
    )))
}

/// One position of `DELETE /v2/positions`: its symbol, the status of its closing, and
/// the closing order (or the error) as the single close would answer.
#[derive(Serialize, ToSchema)]
pub struct CloseStatus {
    pub symbol: String,
    /// The closing order's id; `null` when the closing was refused.
    #[schema(format = "uuid")]
    pub order_id: Option<String>,
    pub status: u16,
    #[schema(value_type = Object)]
    pub body: Value,
}

#[utoipa::path(
    delete,
    path = "/v2/positions",
    tag = "Trading API",
    summary = "Close every position",
    description = "Places a market sell for each position; with `cancel_orders=true`, \
                   cancels the open orders first. Needs the `trading` scope.",
    params(("cancel_orders" = Option<bool>, Query)),
    security(("bearer" = ["trading"])),
    responses(
        (status = 207, description = "Each position's closing", body = Vec<CloseStatus>),
        (status = 403, description = "No `trading` scope", body = AlpacaErrorBody),
        (status = 422, description = "A bad cancel_orders", body = AlpacaErrorBody),
    )
)]
pub async fn close_all_positions(
    scoped: Scoped<Trading>,
    State(state): State<AppState>,
    AlpacaQuery(query): AlpacaQuery,
) -> Result<Response, ApiError> {
    let cancel_orders = super::query_bool(&query, "cancel_orders")?;
    let id = scoped.grant.account_id;
    if cancel_orders {
        orders::cancel_every_open(&state, id).await?;
    }
    let mut statuses = Vec::new();
    for (symbol, holding) in state.store.holdings(id).await? {
        let Some(asset) = assets::find(symbol.as_str()) else {
            continue;
        };
        let now = state.clock.now();
        let order = closing_order(holding.qty);
        let clock = state.settings.market;
        let result = engine::submit(state.store.as_ref(), id, &asset, order, clock, now).await;
        statuses.push(match result {
            Ok(order) => CloseStatus {
                symbol: symbol.to_string(),
                order_id: Some(order.id.to_string()),
                status: 200,
                body: serde_json::to_value(OrderResponse::from(&order)).unwrap_or(Value::Null),
            },
            Err(e) => {
                let (status, body) = orders::engine_error(e).parts();
                CloseStatus {
                    symbol: symbol.to_string(),
                    order_id: None,
                    status: status.as_u16(),
                    body: serde_json::json!({
                        "code": body.code,
                        "message": body.message,
                        "symbol": symbol.as_str(),
                    }),
                }
            }
        });
    }
    state.caches.apply(&Invalidation::Account(id));
    Ok((StatusCode::MULTI_STATUS, Json(statuses)).into_response())
}
