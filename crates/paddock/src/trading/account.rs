//! `GET /v2/account`: the account the token reaches on this base.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use paddock_core::model::Account;
use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::BearerGrant;
use crate::error::{AlpacaErrorBody, ApiError};
use crate::state::AppState;

/// Alpaca's account object. Money fields are decimal strings, as alpaca-py's
/// `TradeAccount` requires.
#[derive(Serialize, ToSchema)]
pub struct AccountResponse {
    #[schema(format = "uuid")]
    pub id: String,
    pub account_number: String,
    /// Always `ACTIVE` here.
    pub status: &'static str,
    pub crypto_status: &'static str,
    pub currency: &'static str,
    pub buying_power: String,
    pub regt_buying_power: String,
    pub daytrading_buying_power: String,
    pub effective_buying_power: String,
    pub non_marginable_buying_power: String,
    pub options_buying_power: String,
    pub cash: String,
    pub accrued_fees: String,
    pub pending_transfer_in: String,
    pub pending_transfer_out: String,
    pub portfolio_value: String,
    pub equity: String,
    pub last_equity: String,
    pub long_market_value: String,
    pub short_market_value: String,
    pub position_market_value: String,
    pub initial_margin: String,
    pub maintenance_margin: String,
    pub last_maintenance_margin: String,
    pub sma: String,
    pub multiplier: String,
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
    /// The account as of `now`. A cash account (multiplier 1) with no positions yet:
    /// equity and buying power are its cash.
    pub fn new(account: &Account, now: DateTime<Utc>) -> Self {
        let money = |d: Decimal| d.normalize().to_string();
        let zero = || "0".to_owned();
        let cash = money(account.cash);
        Self {
            id: account.id.to_string(),
            account_number: account.account_number.clone(),
            status: "ACTIVE",
            crypto_status: "ACTIVE",
            currency: "USD",
            buying_power: cash.clone(),
            regt_buying_power: cash.clone(),
            daytrading_buying_power: zero(),
            effective_buying_power: cash.clone(),
            non_marginable_buying_power: cash.clone(),
            options_buying_power: cash.clone(),
            cash: cash.clone(),
            accrued_fees: zero(),
            pending_transfer_in: zero(),
            pending_transfer_out: zero(),
            portfolio_value: cash.clone(),
            equity: cash.clone(),
            last_equity: cash,
            long_market_value: zero(),
            short_market_value: zero(),
            position_market_value: zero(),
            initial_margin: zero(),
            maintenance_margin: zero(),
            last_maintenance_margin: zero(),
            sma: zero(),
            multiplier: "1".into(),
            pattern_day_trader: false,
            trading_blocked: false,
            transfers_blocked: false,
            account_blocked: false,
            trade_suspended_by_user: false,
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
) -> Result<Json<AccountResponse>, ApiError> {
    let account = state
        .caches
        .accounts
        .get_or_load(grant.account_id, state.store.account(grant.account_id))
        .await?
        .ok_or_else(|| {
            anyhow::anyhow!(
                "token grants account {} which does not exist",
                grant.account_id
            )
        })?;
    Ok(Json(AccountResponse::new(&account, state.clock.now())))
}
