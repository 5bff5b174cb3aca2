//! `GET /v2/account/portfolio/history`: the account's equity over a window, worked
//! out by core's `trading::history` from the account now and its fills since. Alpaca
//! sends these series as JSON numbers, not strings.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use paddock_core::form::Params;
use paddock_core::store::FillQuery;
use paddock_core::trading::clock::new_york::new_york_instant;
use paddock_core::trading::history::{
    self, HistoryRequest, Ledger, Period, PnlReset, Reporting, Timeframe,
};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::BearerGrant;
use crate::error::{AlpacaErrorBody, ApiError};
use crate::extract::AlpacaQuery;
use crate::state::AppState;
use crate::wire::float as number;

/// The most fills a history replays: far more than a paper account makes by hand.
const MAX_FILLS: u32 = 100_000;

/// Alpaca's portfolio history, as alpaca-py's `PortfolioHistory` parses it.
#[derive(Serialize, ToSchema)]
pub struct PortfolioHistoryResponse {
    /// Seconds since the epoch, one per point.
    pub timestamp: Vec<i64>,
    pub equity: Vec<f64>,
    pub profit_loss: Vec<f64>,
    pub profit_loss_pct: Vec<Option<f64>>,
    /// The equity profit and loss count from: the first point's.
    pub base_value: f64,
    pub timeframe: &'static str,
    /// Cash flows by activity type; the paper brokerage has none.
    pub cashflow: BTreeMap<String, Vec<f64>>,
}

fn choice<T: Copy>(
    query: &Params,
    name: &str,
    parse: fn(&str) -> Option<T>,
    names: fn() -> String,
) -> Result<Option<T>, ApiError> {
    query
        .get(name)
        .map(|text| {
            parse(text)
                .ok_or_else(|| super::query_error(name, text, &format!("use one of {}", names())))
        })
        .transpose()
}

fn date(query: &Params, name: &str) -> Result<Option<NaiveDate>, ApiError> {
    query
        .get(name)
        .map(|text| {
            text.parse()
                .map_err(|_| super::query_error(name, text, "give a date, YYYY-MM-DD"))
        })
        .transpose()
}

/// The window and shape the query asks for (Alpaca's parameters; an unknown value is
/// 422).
fn request(query: &Params, now: DateTime<Utc>) -> Result<(HistoryRequest, Timeframe), ApiError> {
    let period = query
        .get("period")
        .map(|text| {
            Period::parse(text).ok_or_else(|| {
                super::query_error("period", text, "give a number and D, W, M or A, e.g. 1M")
            })
        })
        .transpose()?;
    let extended = super::query_bool(query, "extended_hours")?;
    if let Some(types) = query.get("cashflow_types") {
        super::activities::check_types(types)?;
    }
    let start = match (query.get("start"), date(query, "date_start")?) {
        (Some(text), _) => Some(super::query_time("start", text)?),
        (None, Some(day)) => Some(new_york_instant(day, NaiveTime::MIN)),
        (None, None) => None,
    };
    let end = match (query.get("end"), date(query, "date_end")?) {
        (Some(text), _) => Some(super::query_time("end", text)?),
        (None, Some(day)) => Some(
            day.succ_opt()
                .map(|next| new_york_instant(next, NaiveTime::MIN))
                .unwrap_or(now),
        ),
        (None, None) => None,
    };
    let too_far = || ApiError::unprocessable("the period reaches outside the calendar");
    let period = period.unwrap_or(Period::parse("1M").ok_or_else(too_far)?);
    let (start, end) = match (start, end) {
        (Some(start), Some(end)) => (start, end),
        (Some(start), None) => (start, period.after(start).ok_or_else(too_far)?.min(now)),
        (None, Some(end)) => (period.before(end).ok_or_else(too_far)?, end),
        (None, None) => (period.before(now).ok_or_else(too_far)?, now),
    };
    if end < start {
        return Err(ApiError::unprocessable("end must not be before start"));
    }
    let timeframe = choice(query, "timeframe", Timeframe::parse, Timeframe::names)?
        .unwrap_or_else(|| Timeframe::default_for(end - start));
    let reporting = choice(
        query,
        "intraday_reporting",
        Reporting::parse,
        Reporting::names,
    )?
    .unwrap_or(if extended {
        Reporting::ExtendedHours
    } else {
        Reporting::MarketHours
    });
    let pnl_reset = choice(query, "pnl_reset", PnlReset::parse, PnlReset::names)?;
    let pnl_reset = match timeframe {
        // One point a day: a per-day reset would make every day's profit zero.
        Timeframe::Day1 => PnlReset::NoReset,
        _ => pnl_reset.unwrap_or(PnlReset::PerDay),
    };
    Ok((
        HistoryRequest {
            start,
            end,
            timeframe,
            reporting,
            pnl_reset,
        },
        timeframe,
    ))
}

#[utoipa::path(
    get,
    path = "/v2/account/portfolio/history",
    tag = "Trading API",
    summary = "Get the portfolio history",
    description = "Equity and profit/loss over a window: `period` (e.g. 1D, 1W, 1M, 1A; \
                   default 1M), `timeframe` (1Min, 5Min, 15Min, 1H, 1D), \
                   `intraday_reporting` (market_hours, extended_hours, continuous), \
                   `start`/`end` (RFC 3339) or `date_start`/`date_end`, `extended_hours`, \
                   `pnl_reset` (per_day, no_reset). paddock keeps no price history: at each \
                   point a holding is valued at its latest fill price up to then, and at \
                   today's price from now on.",
    params(
        ("period" = Option<String>, Query, description = "e.g. 1D, 1W, 1M, 1A"),
        ("timeframe" = Option<String>, Query, description = "1Min, 5Min, 15Min, 1H or 1D"),
        ("intraday_reporting" = Option<String>, Query, description = "market_hours, extended_hours or continuous"),
        ("start" = Option<String>, Query, description = "RFC 3339"),
        ("end" = Option<String>, Query, description = "RFC 3339"),
        ("date_start" = Option<String>, Query, description = "YYYY-MM-DD"),
        ("date_end" = Option<String>, Query, description = "YYYY-MM-DD"),
        ("extended_hours" = Option<bool>, Query),
        ("pnl_reset" = Option<String>, Query, description = "per_day or no_reset"),
        ("cashflow_types" = Option<String>, Query, description = "comma-separated activity types"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The history", body = PortfolioHistoryResponse),
        (status = 401, description = "Missing or invalid token", body = AlpacaErrorBody),
        (status = 422, description = "A bad parameter, or too many points", body = AlpacaErrorBody),
    )
)]
pub async fn portfolio_history(
    grant: BearerGrant,
    State(state): State<AppState>,
    AlpacaQuery(query): AlpacaQuery,
) -> Result<Json<PortfolioHistoryResponse>, ApiError> {
    let now = state.clock.now();
    let (request, timeframe) = request(&query, now)?;
    // From the store, not the node's cache (which may not have heard of the latest
    // fill yet): the account and its fills as they are now, read back to back.
    let id = grant.account_id;
    let account = state
        .store
        .account(id)
        .await?
        .ok_or_else(|| ApiError::not_found("the account does not exist"))?;
    let holdings = state.store.holdings(id).await?;
    let market = super::market(&state).await?;
    let query = FillQuery {
        after: Some(request.start),
        until: None,
        ascending: true,
        limit: MAX_FILLS,
        page_after: None,
    };
    let fills = state.store.fills(id, &query).await?;
    if fills.len() >= MAX_FILLS as usize {
        return Err(ApiError::unprocessable(format!(
            "the account has more than {MAX_FILLS} fills since start; ask for a shorter period"
        )));
    }
    let ledger = Ledger {
        created_at: account.created_at,
        cash: account.cash,
        holdings: &holdings,
        fills: &fills,
    };
    let history =
        history::history(&request, &ledger, &market, now).map_err(ApiError::unprocessable)?;
    Ok(Json(PortfolioHistoryResponse {
        timestamp: history.points.iter().map(|p| p.at.timestamp()).collect(),
        equity: history.points.iter().map(|p| number(p.equity)).collect(),
        profit_loss: history
            .points
            .iter()
            .map(|p| number(p.profit_loss))
            .collect(),
        profit_loss_pct: history
            .points
            .iter()
            .map(|p| p.profit_loss_pct.map(number))
            .collect(),
        base_value: number(history.base_value),
        timeframe: timeframe.as_str(),
        cashflow: BTreeMap::new(),
    }))
}
