//! Account activities (`/v2/account/activities`, `/v2/account/activities/{type}`):
//! the account's fills, as Alpaca's `FILL` activities. The paper brokerage has no
//! dividends, transfers or fees, so every other known type lists nothing; an unknown
//! type is 422.

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use paddock_core::ids::AccountId;
use paddock_core::store::{FillQuery, FillRecord};
use paddock_core::trading::clock::new_york::new_york_instant;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::BearerGrant;
use crate::error::{AlpacaErrorBody, ApiError};
use crate::extract::AlpacaQuery;
use crate::state::AppState;
use crate::wire;

/// Every activity type Alpaca's Trading API names; only `FILL` has entries here.
const ACTIVITY_TYPES: [&str; 40] = [
    "FILL", "TRANS", "MISC", "ACATC", "ACATS", "CFEE", "CSD", "CSW", "DIV", "DIVCGL", "DIVCGS",
    "DIVFEE", "DIVFT", "DIVNRA", "DIVROC", "DIVTW", "DIVTXEX", "FEE", "INT", "INTNRA", "INTTW",
    "JNL", "JNLC", "JNLS", "MA", "NC", "OPASN", "OPCA", "OPCSH", "OPEXC", "OPEXP", "OPTRD", "PTC",
    "PTR", "REORG", "SC", "SSO", "SSP", "SPLIT", "VOF",
];

/// The most activities one page holds (Alpaca's `page_size` bound).
const MAX_PAGE_SIZE: u32 = 100;

/// Alpaca's `FILL` activity, as alpaca-py's `TradeActivity` parses it.
#[derive(Serialize, ToSchema)]
pub struct FillActivity {
    /// The fill's time and execution id: `20261124153000123::<uuid>`; a page token.
    pub id: String,
    #[schema(format = "uuid")]
    pub account_id: String,
    /// Always `FILL`.
    pub activity_type: &'static str,
    #[serde(serialize_with = "wire::timestamp")]
    #[schema(value_type = String, format = DateTime)]
    pub transaction_time: DateTime<Utc>,
    /// Always `fill`: paddock fills an order whole.
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub price: String,
    pub qty: String,
    pub side: &'static str,
    pub symbol: String,
    pub leaves_qty: String,
    #[schema(format = "uuid")]
    pub order_id: String,
    pub cum_qty: String,
    pub order_status: &'static str,
}

impl FillActivity {
    fn new(account: AccountId, f: &FillRecord) -> Self {
        Self {
            id: format!("{}::{}", f.at.format("%Y%m%d%H%M%S%3f"), f.execution_id),
            account_id: account.to_string(),
            activity_type: "FILL",
            transaction_time: f.at,
            kind: "fill",
            price: wire::amount(f.price),
            qty: wire::amount(f.qty),
            side: f.side.as_str(),
            symbol: f.symbol.to_string(),
            leaves_qty: "0".into(),
            order_id: f.order_id.to_string(),
            cum_qty: wire::amount(f.order_filled_qty),
            order_status: f.order_status.as_str(),
        }
    }
}

/// The types a request asks for, each checked; `None` for all.
fn types(list: Option<&str>) -> Result<Option<Vec<&str>>, ApiError> {
    list.map(check_types).transpose()
}

/// A comma-separated list of activity types, each one Alpaca names.
pub fn check_types(list: &str) -> Result<Vec<&'static str>, ApiError> {
    list.split(',')
        .map(|t| {
            ACTIVITY_TYPES
                .iter()
                .copied()
                .find(|known| *known == t.trim())
                .ok_or_else(|| {
                    super::query_error(
                        "activity_types",
                        t,
                        "use FILL, TRANS, DIV, … (Alpaca's activity types)",
                    )
                })
        })
        .collect()
}

/// Alpaca's activity filters; an unknown value is 422.
fn fill_query(query: &paddock_core::form::Params) -> Result<FillQuery, ApiError> {
    let ascending = match query.get("direction").unwrap_or("desc") {
        "asc" => true,
        "desc" => false,
        other => return Err(super::query_error("direction", other, "use asc or desc")),
    };
    let limit = match query.raw("page_size") {
        None => MAX_PAGE_SIZE,
        Some(text) => text
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=MAX_PAGE_SIZE).contains(n))
            .ok_or_else(|| super::query_error("page_size", text, "give 1 to 100"))?,
    };
    let page_after = match query.get("page_token") {
        None => None,
        Some(token) => Some(
            token
                .rsplit("::")
                .next()
                .and_then(|id| Uuid::parse_str(id).ok())
                .ok_or_else(|| {
                    super::query_error("page_token", token, "give the id of an activity")
                })?,
        ),
    };
    let mut after = query
        .get("after")
        .map(|v| super::query_time("after", v))
        .transpose()?;
    let mut until = query
        .get("until")
        .map(|v| super::query_time("until", v))
        .transpose()?;
    if let Some(text) = query.get("date") {
        // One day in New York, as Alpaca's `date` means.
        let date: NaiveDate = text
            .parse()
            .map_err(|_| super::query_error("date", text, "give a date, YYYY-MM-DD"))?;
        let next = date
            .succ_opt()
            .ok_or_else(|| super::query_error("date", text, "give a date, YYYY-MM-DD"))?;
        after = Some(new_york_instant(date, NaiveTime::MIN) - chrono::TimeDelta::microseconds(1));
        until = Some(new_york_instant(next, NaiveTime::MIN));
    }
    Ok(FillQuery {
        after,
        until,
        ascending,
        limit,
        page_after,
    })
}

async fn list(
    state: &AppState,
    account: AccountId,
    wanted: Option<Vec<&str>>,
    query: &paddock_core::form::Params,
) -> Result<Json<Vec<FillActivity>>, ApiError> {
    let fill_query = fill_query(query)?;
    if wanted.is_some_and(|types| !types.contains(&"FILL")) {
        return Ok(Json(Vec::new()));
    }
    let fills = state.store.fills(account, &fill_query).await?;
    Ok(Json(
        fills
            .iter()
            .map(|f| FillActivity::new(account, f))
            .collect(),
    ))
}

#[utoipa::path(
    get,
    path = "/v2/account/activities",
    tag = "Trading API",
    summary = "List account activities",
    description = "The account's fills as `FILL` activities, newest first. Filters: \
                   `activity_types` (comma-separated), `date`, `after`, `until`, \
                   `direction`, `page_size` (1–100), `page_token` (an activity's id). \
                   Other activity types (dividends, transfers, fees) never occur in the \
                   paper brokerage, so they list nothing.",
    params(
        ("activity_types" = Option<String>, Query, description = "comma-separated, e.g. FILL"),
        ("date" = Option<String>, Query, description = "a day, YYYY-MM-DD"),
        ("after" = Option<String>, Query, description = "RFC 3339 time or date"),
        ("until" = Option<String>, Query, description = "RFC 3339 time or date"),
        ("direction" = Option<String>, Query, description = "asc or desc"),
        ("page_size" = Option<u32>, Query, description = "1 to 100"),
        ("page_token" = Option<String>, Query, description = "an activity's id"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The activities", body = Vec<FillActivity>),
        (status = 401, description = "Missing or invalid token", body = AlpacaErrorBody),
        (status = 422, description = "An unknown type or filter value", body = AlpacaErrorBody),
    )
)]
pub async fn list_activities(
    grant: BearerGrant,
    State(state): State<AppState>,
    AlpacaQuery(query): AlpacaQuery,
) -> Result<Json<Vec<FillActivity>>, ApiError> {
    let wanted = types(query.get("activity_types"))?;
    list(&state, grant.account_id, wanted, &query).await
}

#[utoipa::path(
    get,
    path = "/v2/account/activities/{activity_type}",
    tag = "Trading API",
    summary = "List account activities of one type",
    params(
        ("activity_type" = String, Path),
        ("date" = Option<String>, Query, description = "a day, YYYY-MM-DD"),
        ("after" = Option<String>, Query, description = "RFC 3339 time or date"),
        ("until" = Option<String>, Query, description = "RFC 3339 time or date"),
        ("direction" = Option<String>, Query, description = "asc or desc"),
        ("page_size" = Option<u32>, Query, description = "1 to 100"),
        ("page_token" = Option<String>, Query, description = "an activity's id"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The activities", body = Vec<FillActivity>),
        (status = 401, description = "Missing or invalid token", body = AlpacaErrorBody),
        (status = 422, description = "An unknown type or filter value", body = AlpacaErrorBody),
    )
)]
pub async fn list_activities_of_type(
    grant: BearerGrant,
    State(state): State<AppState>,
    kind: Result<Path<String>, PathRejection>,
    AlpacaQuery(query): AlpacaQuery,
) -> Result<Json<Vec<FillActivity>>, ApiError> {
    let Ok(Path(kind)) = kind else {
        return Err(ApiError::unprocessable("give an activity type"));
    };
    let wanted = types(Some(&kind))?;
    list(&state, grant.account_id, wanted, &query).await
}
