//! `GET /v2/clock` and `GET /v2/calendar`: when the paper market is open. NYSE's
//! regular hours and holidays, or, with `--market always-open`, a market that never
//! closes and says so.

use axum::Json;
use axum::extract::State;
use chrono::{Datelike, NaiveDate};
use paddock_core::trading::clock::holidays::TABLE_YEARS;
use paddock_core::trading::clock::{TradingDay, new_york_rfc3339};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::BearerGrant;
use crate::error::{AlpacaErrorBody, ApiError};
use crate::extract::AlpacaQuery;
use crate::state::AppState;

/// Alpaca's clock: instants in New York time with their offset.
#[derive(Serialize, ToSchema)]
pub struct ClockResponse {
    /// Now, e.g. `2025-07-03T10:15:00.123456-04:00`.
    pub timestamp: String,
    pub is_open: bool,
    pub next_open: String,
    pub next_close: String,
}

#[utoipa::path(
    get,
    path = "/v2/clock",
    tag = "Trading API",
    summary = "The market clock",
    description = "Whether the market is open, and its next open and close, in New York \
                   time. With `--market always-open` the market is always open and \
                   `next_close` is a year away.",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The clock", body = ClockResponse),
        (status = 401, description = "Missing or invalid token", body = AlpacaErrorBody),
    )
)]
pub async fn get_clock(_grant: BearerGrant, State(state): State<AppState>) -> Json<ClockResponse> {
    let clock = state.settings.market.clock(state.clock.now());
    Json(ClockResponse {
        timestamp: new_york_rfc3339(clock.timestamp),
        is_open: clock.is_open,
        next_open: new_york_rfc3339(clock.next_open),
        next_close: new_york_rfc3339(clock.next_close),
    })
}

/// One trading day as Alpaca writes it: `open`/`close` as `HH:MM`, the extended
/// session as `HHMM`, New York time.
#[derive(Serialize, ToSchema)]
pub struct CalendarDay {
    #[schema(format = Date)]
    pub date: String,
    pub open: String,
    pub close: String,
    pub session_open: String,
    pub session_close: String,
    #[schema(format = Date)]
    pub settlement_date: String,
}

impl From<&TradingDay> for CalendarDay {
    fn from(day: &TradingDay) -> Self {
        Self {
            date: day.date.to_string(),
            open: day.open.format("%H:%M").to_string(),
            close: day.close.format("%H:%M").to_string(),
            session_open: day.session_open.format("%H%M").to_string(),
            session_close: day.session_close.format("%H%M").to_string(),
            settlement_date: day.settlement_date.to_string(),
        }
    }
}

/// A `start`/`end` bound: a date, or an RFC 3339 instant whose date is taken.
fn date_param(
    query: &paddock_core::form::Params,
    name: &str,
) -> Result<Option<NaiveDate>, ApiError> {
    let Some(value) = query.get(name) else {
        return Ok(None);
    };
    let date = value.get(..10).and_then(|d| d.parse::<NaiveDate>().ok());
    match date {
        Some(date) if value.len() == 10 || value.as_bytes().get(10) == Some(&b'T') => {
            Ok(Some(date))
        }
        _ => Err(ApiError::unprocessable(format!(
            "{name}={} is not a date; give YYYY-MM-DD",
            value.chars().take(40).collect::<String>()
        ))),
    }
}

#[utoipa::path(
    get,
    path = "/v2/calendar",
    tag = "Trading API",
    summary = "The market calendar",
    description = "The trading days from `start` to `end` (YYYY-MM-DD; by default the years \
                   of the built-in holiday table), with their open and close times in New \
                   York time. `date_type=SETTLEMENT` selects days by settlement date. A \
                   range of more than five years is 422.",
    params(
        ("start" = Option<String>, Query),
        ("end" = Option<String>, Query),
        ("date_type" = Option<String>, Query),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The trading days", body = Vec<CalendarDay>),
        (status = 401, description = "Missing or invalid token", body = AlpacaErrorBody),
        (status = 422, description = "A malformed date, a range too long, an unknown date_type", body = AlpacaErrorBody),
    )
)]
pub async fn get_calendar(
    _grant: BearerGrant,
    State(state): State<AppState>,
    AlpacaQuery(query): AlpacaQuery,
) -> Result<Json<Vec<CalendarDay>>, ApiError> {
    let first = |year| NaiveDate::from_ymd_opt(year, 1, 1);
    let last = |year| NaiveDate::from_ymd_opt(year, 12, 31);
    let default_start = first(*TABLE_YEARS.start()).ok_or_else(|| anyhow::anyhow!("a date"))?;
    let default_end = last(*TABLE_YEARS.end()).ok_or_else(|| anyhow::anyhow!("a date"))?;
    let start = date_param(&query, "start")?.unwrap_or(default_start);
    let end = date_param(&query, "end")?.unwrap_or(default_end);
    let by_settlement = match query.get("date_type") {
        None | Some("TRADING") => false,
        Some("SETTLEMENT") => true,
        Some(other) => {
            return Err(ApiError::unprocessable(format!(
                "date_type={} is not a known value; use TRADING or SETTLEMENT",
                other.chars().take(40).collect::<String>()
            )));
        }
    };
    if end < start {
        return Ok(Json(Vec::new()));
    }
    let market = state.settings.market;
    let days = if by_settlement {
        // A trade settles a few days after it is made: look that far back.
        let from = start - chrono::Days::new(10);
        market
            .calendar(from, end)
            .map_err(|e| ApiError::unprocessable(e.to_string()))?
            .into_iter()
            .filter(|d| (start..=end).contains(&d.settlement_date))
            .collect()
    } else {
        market
            .calendar(start, end)
            .map_err(|e| ApiError::unprocessable(e.to_string()))?
    };
    // A day whose settlement falls past 9999-12-31 cannot be written as a date
    // (schema fuzzing found `+10000-01-03`): the calendar ends with the last day that
    // settles within year 9999.
    Ok(Json(
        days.iter()
            .filter(|d| d.settlement_date.year() <= 9999)
            .map(CalendarDay::from)
            .collect(),
    ))
}
