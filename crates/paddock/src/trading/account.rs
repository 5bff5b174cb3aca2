//! `GET /v2/account`: the account the token reaches on this base.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use paddock_core::trading::market::Market;
use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::BearerGrant;
use crate::cache::{AccountState, Rendered};
use crate::error::{AlpacaErrorBody, ApiError};
use crate::state::AppState;

/// Alpaca's account object. Money fields are decimal strings, as alpaca-py's
/// `TradeAccount` requires (a `Decimal` serializes as its exact string, normalized
/// here, without an allocation per field).
#[derive(Serialize, ToSchema)]
pub struct AccountResponse {
    #[schema(format = "uuid")]
    pub id: String,
    pub account_number: String,
    /// Always `ACTIVE` here.
    pub status: &'static str,
    pub crypto_status: &'static str,
    pub currency: &'static str,
    #[schema(value_type = String)]
    pub buying_power: Decimal,
    #[schema(value_type = String)]
    pub regt_buying_power: Decimal,
    #[schema(value_type = String)]
    pub daytrading_buying_power: Decimal,
    #[schema(value_type = String)]
    pub effective_buying_power: Decimal,
    #[schema(value_type = String)]
    pub non_marginable_buying_power: Decimal,
    #[schema(value_type = String)]
    pub options_buying_power: Decimal,
    #[schema(value_type = String)]
    pub cash: Decimal,
    #[schema(value_type = String)]
    pub accrued_fees: Decimal,
    #[schema(value_type = String)]
    pub pending_transfer_in: Decimal,
    #[schema(value_type = String)]
    pub pending_transfer_out: Decimal,
    #[schema(value_type = String)]
    pub portfolio_value: Decimal,
    #[schema(value_type = String)]
    pub equity: Decimal,
    #[schema(value_type = String)]
    pub last_equity: Decimal,
    #[schema(value_type = String)]
    pub long_market_value: Decimal,
    #[schema(value_type = String)]
    pub short_market_value: Decimal,
    #[schema(value_type = String)]
    pub position_market_value: Decimal,
    #[schema(value_type = String)]
    pub initial_margin: Decimal,
    #[schema(value_type = String)]
    pub maintenance_margin: Decimal,
    #[schema(value_type = String)]
    pub last_maintenance_margin: Decimal,
    #[schema(value_type = String)]
    pub sma: Decimal,
    #[schema(value_type = String)]
    pub multiplier: Decimal,
    pub pattern_day_trader: bool,
    pub trading_blocked: bool,
    pub transfers_blocked: bool,
    pub account_blocked: bool,
    pub trade_suspended_by_user: bool,
    pub shorting_enabled: bool,
    pub daytrade_count: u32,
    pub options_approved_level: u32,
    pub options_trading_level: u32,
    #[serde(serialize_with = "crate::wire::timestamp")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
    /// The date of the `last_*` figures.
    pub balance_asof: String,
}

impl AccountResponse {
    /// The account as of `now`, valued at `market`'s prices. A cash account
    /// (multiplier 1): equity is cash plus the holdings' value, and buying power is the
    /// cash that open buy orders do not hold back.
    pub fn new(state: &AccountState, market: &Market, now: DateTime<Utc>) -> Self {
        let account = &state.account;
        let long = market.value_of(&state.holdings);
        let reserved: Decimal = state
            .open_orders
            .iter()
            .map(|o| o.reserved_cash(market.price(&o.symbol).unwrap_or(Decimal::ZERO)))
            .sum();
        let buying_power = (account.cash - reserved).max(Decimal::ZERO).normalize();
        let equity = (account.cash + long).normalize();
        let long = long.normalize();
        let zero = Decimal::ZERO;
        Self {
            id: account.id.to_string(),
            account_number: account.account_number.clone(),
            status: "ACTIVE",
            crypto_status: "ACTIVE",
            currency: "USD",
            buying_power,
            regt_buying_power: buying_power,
            daytrading_buying_power: zero,
            effective_buying_power: buying_power,
            non_marginable_buying_power: buying_power,
            options_buying_power: buying_power,
            cash: account.cash.normalize(),
            accrued_fees: zero,
            pending_transfer_in: zero,
            pending_transfer_out: zero,
            portfolio_value: equity,
            equity,
            last_equity: equity,
            long_market_value: long,
            short_market_value: zero,
            position_market_value: long,
            initial_margin: zero,
            maintenance_margin: zero,
            last_maintenance_margin: zero,
            sma: zero,
            multiplier: Decimal::ONE,
            pattern_day_trader: false,
            trading_blocked: false,
            transfers_blocked: false,
            account_blocked: false,
            trade_suspended_by_user: state.config.suspend_trade,
            shorting_enabled: false,
            daytrade_count: 0,
            options_approved_level: 0,
            options_trading_level: 0,
            created_at: account.created_at,
            balance_asof: now.date_naive().to_string(),
        }
    }
}

#[utoipa::path(
    get,
    path = "/v2/account",
    tag = "Trading API",
    summary = "Get the account",
    description = "The account the token reaches on this base URL. Served on the live base \
                   (`/v2/account`) and on the paper base (`/paper/v2/account`).",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The account", body = AccountResponse),
        (status = 401, description = "Missing, invalid or revoked token, or a token without an account on this base", body = AlpacaErrorBody),
    )
)]
pub async fn get_account(
    grant: BearerGrant,
    State(state): State<AppState>,
) -> Result<Response, ApiError> {
    let account = super::account_state(&state, grant.account_id).await?;
    let market = super::market(&state).await?;
    let now = state.clock.now();
    let day = now.date_naive();
    let mut rendered = account
        .rendered
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let body = match &*rendered {
        Some(r) if Arc::ptr_eq(&r.market, &market) && r.day == day => r.body.clone(),
        _ => {
            let body = serde_json::to_vec(&AccountResponse::new(&account, &market, now))
                .map_err(|e| anyhow::anyhow!("an account does not serialize: {e}"))?;
            let body = Bytes::from(body);
            *rendered = Some(Rendered {
                market,
                day,
                body: body.clone(),
            });
            body
        }
    };
    Ok(([(CONTENT_TYPE, "application/json")], body).into_response())
}
