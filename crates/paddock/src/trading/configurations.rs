//! `GET/PATCH /v2/account/configurations`: the account's trading settings. Reading
//! needs no scope; changing needs `account:write`. A `PATCH` changes what it names and
//! leaves what is absent or `null` as it was (alpaca-py sends the whole object).

use axum::Json;
use axum::extract::State;
use paddock_core::store::Invalidation;
use paddock_core::trading::config::{
    self, AccountConfig, CheckWhen, ConfigError, ConfigPatch, ConfirmEmail,
};
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::auth::{AccountWrite, BearerGrant, Scoped};
use crate::error::{AlpacaErrorBody, ApiError};
use crate::extract::AlpacaJson;
use crate::state::AppState;
use crate::wire;

/// Alpaca's account configuration object, as alpaca-py's `AccountConfiguration` parses it.
#[derive(Serialize, ToSchema)]
pub struct ConfigurationsResponse {
    /// `both`, `entry` or `exit`.
    pub dtbp_check: &'static str,
    /// `all` or `none`.
    pub trade_confirm_email: &'static str,
    /// New orders are refused while true.
    pub suspend_trade: bool,
    /// Always true: the paper brokerage does not sell short.
    pub no_shorting: bool,
    /// Fractional and notional orders are refused while false.
    pub fractional_trading: bool,
    /// Always `"1"`: a cash account.
    pub max_margin_multiplier: String,
    /// `both`, `entry` or `exit`.
    pub pdt_check: &'static str,
    pub ptp_no_exception_entry: bool,
    pub max_options_trading_level: Option<u8>,
}

impl From<&AccountConfig> for ConfigurationsResponse {
    fn from(c: &AccountConfig) -> Self {
        Self {
            dtbp_check: c.dtbp_check.as_str(),
            trade_confirm_email: c.trade_confirm_email.as_str(),
            suspend_trade: c.suspend_trade,
            no_shorting: c.no_shorting,
            fractional_trading: c.fractional_trading,
            max_margin_multiplier: wire::amount(AccountConfig::MARGIN_MULTIPLIER),
            pdt_check: c.pdt_check.as_str(),
            ptp_no_exception_entry: c.ptp_no_exception_entry,
            max_options_trading_level: c.max_options_trading_level,
        }
    }
}

#[utoipa::path(
    get,
    path = "/v2/account/configurations",
    tag = "Trading API",
    summary = "Get the account's configurations",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The configurations", body = ConfigurationsResponse),
        (status = 401, description = "Missing or invalid token", body = AlpacaErrorBody),
    )
)]
pub async fn get_configurations(
    grant: BearerGrant,
    State(state): State<AppState>,
) -> Result<Json<ConfigurationsResponse>, ApiError> {
    let account = super::account_state(&state, grant.account_id).await?;
    Ok(Json(ConfigurationsResponse::from(&account.config)))
}

fn bad(name: &str, expected: &str) -> ApiError {
    ApiError::unprocessable(format!("{name} must be {expected}"))
}

fn flag(body: &Map<String, Value>, name: &str) -> Result<Option<bool>, ApiError> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(bad(name, "true or false")),
    }
}

/// The patch as the body names it; an unknown key is refused, so that a setting
/// paddock does not know is never silently dropped.
fn parse_patch(body: &Map<String, Value>) -> Result<ConfigPatch, ApiError> {
    const KNOWN: [&str; 9] = [
        "dtbp_check",
        "trade_confirm_email",
        "suspend_trade",
        "no_shorting",
        "fractional_trading",
        "max_margin_multiplier",
        "pdt_check",
        "ptp_no_exception_entry",
        "max_options_trading_level",
    ];
    if let Some(unknown) = body.keys().find(|k| !KNOWN.contains(&k.as_str())) {
        return Err(ApiError::unprocessable(format!(
            "{} is not a configuration; the settings are {}",
            unknown.chars().take(40).collect::<String>(),
            KNOWN.join(", ")
        )));
    }
    let max_margin_multiplier = super::body_decimal(body, "max_margin_multiplier")?;
    // A null means "unchanged", as for every setting (alpaca-py sends the whole object).
    let max_options_trading_level = match body.get("max_options_trading_level") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => Some(Some(
            n.as_u64()
                .and_then(|n| u8::try_from(n).ok())
                .ok_or_else(|| bad("max_options_trading_level", "0 to 3"))?,
        )),
        Some(_) => return Err(bad("max_options_trading_level", "0 to 3")),
    };
    Ok(ConfigPatch {
        dtbp_check: super::body_choice(body, "dtbp_check", CheckWhen::parse, CheckWhen::names)?,
        pdt_check: super::body_choice(body, "pdt_check", CheckWhen::parse, CheckWhen::names)?,
        trade_confirm_email: super::body_choice(
            body,
            "trade_confirm_email",
            ConfirmEmail::parse,
            ConfirmEmail::names,
        )?,
        suspend_trade: flag(body, "suspend_trade")?,
        no_shorting: flag(body, "no_shorting")?,
        fractional_trading: flag(body, "fractional_trading")?,
        ptp_no_exception_entry: flag(body, "ptp_no_exception_entry")?,
        max_margin_multiplier,
        max_options_trading_level,
    })
}

#[utoipa::path(
    patch,
    path = "/v2/account/configurations",
    tag = "Trading API",
    summary = "Change the account's configurations",
    description = "Changes the settings the body names; absent or `null` ones stay. Needs \
                   the `account:write` scope. `suspend_trade` refuses new orders; \
                   `fractional_trading: false` refuses fractional ones; \
                   `max_margin_multiplier` must be 1 and `no_shorting` true (a cash \
                   brokerage that does not sell short).",
    request_body(content = Object, description = "Alpaca's configuration object, whole or in part"),
    security(("bearer" = ["account:write"])),
    responses(
        (status = 200, description = "The configurations now", body = ConfigurationsResponse),
        (status = 403, description = "No `account:write` scope", body = AlpacaErrorBody),
        (status = 422, description = "A bad or unsupported value", body = AlpacaErrorBody),
    )
)]
pub async fn patch_configurations(
    scoped: Scoped<AccountWrite>,
    State(state): State<AppState>,
    AlpacaJson(body): AlpacaJson<Value>,
) -> Result<Json<ConfigurationsResponse>, ApiError> {
    let Value::Object(body) = body else {
        return Err(ApiError::bad_request("the body must be a JSON object"));
    };
    let patch = parse_patch(&body)?;
    let id = scoped.grant.account_id;
    let config = match config::update(state.store.as_ref(), id, &patch, state.clock.now()).await {
        Ok(config) => config,
        Err(ConfigError::Invalid(message)) => return Err(ApiError::unprocessable(message)),
        Err(ConfigError::Missing) => return Err(ApiError::not_found("the account does not exist")),
        Err(ConfigError::Store(e)) => return Err(e.into()),
    };
    state.caches.apply(&Invalidation::Account(id));
    Ok(Json(ConfigurationsResponse::from(&config)))
}
