//! `GET /v2/positions` and `GET /v2/positions/{symbol_or_asset_id}`: what an account
//! holds, valued at the market's prices.

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use paddock_core::trading::assets::{self, Symbol};
use paddock_core::trading::market::Market;
use paddock_core::trading::orders::Holding;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::BearerGrant;
use crate::error::{AlpacaErrorBody, ApiError};
use crate::state::AppState;
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
    fn new(symbol: &Symbol, holding: &Holding, market: &Market) -> Option<Self> {
        let asset = assets::find(symbol.as_str())?;
        let price = market.price(symbol).unwrap_or(holding.avg_entry_price);
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
            qty_available: wire::amount(holding.qty),
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
            .filter_map(|(symbol, holding)| PositionResponse::new(symbol, holding, &market))
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
        .and_then(|(symbol, holding)| PositionResponse::new(symbol, holding, &market))
        .map(Json)
        .ok_or_else(not_found)
}
