//! `/v2/stocks/…`: one handler per endpoint, each needing the `data` scope.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use serde::Serialize;
use serde_json::Value;

use super::{
    BarJson, Feed, QuoteJson, SnapshotJson, TradeJson, asset, bars_request, check_common, page,
    symbols,
};
use crate::auth::DataGrant;
use crate::error::{AlpacaErrorBody, ApiError};
use crate::extract::AlpacaQuery;
use crate::state::AppState;

fn path_symbol(
    path: Result<Path<String>, PathRejection>,
) -> Result<paddock_core::trading::assets::Asset, ApiError> {
    let Path(symbol) = path.map_err(|_| ApiError::unprocessable("give a symbol"))?;
    asset(&symbol)
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct LatestTrades {
    trades: BTreeMap<String, TradeJson>,
}

#[utoipa::path(
    get,
    path = "/v2/stocks/trades/latest",
    tag = "Data API",
    summary = "Latest trades",
    description = "The latest trade of each of `symbols` (comma-separated): at the paper \
                   market's price now. Needs the `data` scope.",
    params(("symbols" = String, Query), ("feed" = Option<String>, Query)),
    security(("bearer" = ["data"])),
    responses(
        (status = 200, description = "By symbol", body = LatestTrades),
        (status = 403, description = "No `data` scope", body = AlpacaErrorBody),
        (status = 422, description = "An unknown symbol or feed", body = AlpacaErrorBody),
    )
)]
pub async fn latest_trades(
    _grant: DataGrant,
    State(state): State<AppState>,
    AlpacaQuery(query): AlpacaQuery,
) -> Result<Json<LatestTrades>, ApiError> {
    check_common(&query)?;
    let assets = symbols(&query)?;
    let feed = Feed::now(&state).await?;
    Ok(Json(LatestTrades {
        trades: assets
            .iter()
            .map(|a| (a.symbol.to_string(), feed.trade(a)))
            .collect(),
    }))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct LatestQuotes {
    quotes: BTreeMap<String, QuoteJson>,
}

#[utoipa::path(
    get,
    path = "/v2/stocks/quotes/latest",
    tag = "Data API",
    summary = "Latest quotes",
    description = "The latest quote of each of `symbols`: a cent either side of the paper \
                   market's price. Needs the `data` scope.",
    params(("symbols" = String, Query), ("feed" = Option<String>, Query)),
    security(("bearer" = ["data"])),
    responses(
        (status = 200, description = "By symbol", body = LatestQuotes),
        (status = 403, description = "No `data` scope", body = AlpacaErrorBody),
        (status = 422, description = "An unknown symbol or feed", body = AlpacaErrorBody),
    )
)]
pub async fn latest_quotes(
    _grant: DataGrant,
    State(state): State<AppState>,
    AlpacaQuery(query): AlpacaQuery,
) -> Result<Json<LatestQuotes>, ApiError> {
    check_common(&query)?;
    let assets = symbols(&query)?;
    let feed = Feed::now(&state).await?;
    Ok(Json(LatestQuotes {
        quotes: assets
            .iter()
            .map(|a| (a.symbol.to_string(), feed.quote(a)))
            .collect(),
    }))
}

#[utoipa::path(
    get,
    path = "/v2/stocks/snapshots",
    tag = "Data API",
    summary = "Snapshots",
    description = "Each of `symbols`' latest trade and quote, minute bar, and today's and the \
                   previous trading day's bars. Needs the `data` scope.",
    params(("symbols" = String, Query), ("feed" = Option<String>, Query)),
    security(("bearer" = ["data"])),
    responses(
        (status = 200, description = "By symbol", body = BTreeMap<String, SnapshotJson>),
        (status = 403, description = "No `data` scope", body = AlpacaErrorBody),
        (status = 422, description = "An unknown symbol or feed", body = AlpacaErrorBody),
    )
)]
pub async fn snapshots(
    _grant: DataGrant,
    State(state): State<AppState>,
    AlpacaQuery(query): AlpacaQuery,
) -> Result<Json<BTreeMap<String, SnapshotJson>>, ApiError> {
    check_common(&query)?;
    let assets = symbols(&query)?;
    let feed = Feed::now(&state).await?;
    Ok(Json(
        assets
            .iter()
            .map(|a| (a.symbol.to_string(), feed.snapshot(a)))
            .collect(),
    ))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct MultiBars {
    bars: BTreeMap<String, Vec<BarJson>>,
    next_page_token: Option<String>,
}

#[utoipa::path(
    get,
    path = "/v2/stocks/bars",
    tag = "Data API",
    summary = "Bars",
    description = "Bars of `symbols` with `timeframe` (1Min…59Min, 1Hour…23Hour, 1Day, \
                   1Week, 1Month) from `start` (default: today's midnight in New York) to \
                   `end` (default: now), at most `limit` (1–10000, default 1000) a page; \
                   `next_page_token` goes in `page_token` for the next. The last bar closes \
                   at the latest trade's price. Needs the `data` scope.",
    params(
        ("symbols" = String, Query),
        ("timeframe" = String, Query),
        ("start" = Option<String>, Query),
        ("end" = Option<String>, Query),
        ("limit" = Option<u32>, Query),
        ("page_token" = Option<String>, Query),
        ("feed" = Option<String>, Query),
    ),
    security(("bearer" = ["data"])),
    responses(
        (status = 200, description = "Bars by symbol", body = MultiBars),
        (status = 403, description = "No `data` scope", body = AlpacaErrorBody),
        (status = 422, description = "A bad parameter", body = AlpacaErrorBody),
    )
)]
pub async fn bars(
    _grant: DataGrant,
    State(state): State<AppState>,
    AlpacaQuery(query): AlpacaQuery,
) -> Result<Json<MultiBars>, ApiError> {
    let assets = symbols(&query)?;
    let request = bars_request(&query, state.clock.now(), assets.len())?;
    let feed = Feed::now(&state).await?;
    let (bars, next_page_token) = page(feed, assets, request).await?;
    Ok(Json(MultiBars {
        bars,
        next_page_token,
    }))
}

#[utoipa::path(
    get,
    path = "/v2/stocks/{symbol}/trades/latest",
    tag = "Data API",
    summary = "Latest trade of one symbol",
    params(("symbol" = String, Path)),
    security(("bearer" = ["data"])),
    responses(
        (status = 200, description = "`{symbol, trade}`", body = Object),
        (status = 403, description = "No `data` scope", body = AlpacaErrorBody),
        (status = 422, description = "An unknown symbol", body = AlpacaErrorBody),
    )
)]
pub async fn latest_trade(
    _grant: DataGrant,
    State(state): State<AppState>,
    symbol: Result<Path<String>, PathRejection>,
    AlpacaQuery(query): AlpacaQuery,
) -> Result<Json<Value>, ApiError> {
    check_common(&query)?;
    let asset = path_symbol(symbol)?;
    let feed = Feed::now(&state).await?;
    Ok(Json(
        serde_json::json!({"symbol": asset.symbol.as_str(), "trade": feed.trade(&asset)}),
    ))
}

#[utoipa::path(
    get,
    path = "/v2/stocks/{symbol}/quotes/latest",
    tag = "Data API",
    summary = "Latest quote of one symbol",
    params(("symbol" = String, Path)),
    security(("bearer" = ["data"])),
    responses(
        (status = 200, description = "`{symbol, quote}`", body = Object),
        (status = 403, description = "No `data` scope", body = AlpacaErrorBody),
        (status = 422, description = "An unknown symbol", body = AlpacaErrorBody),
    )
)]
pub async fn latest_quote(
    _grant: DataGrant,
    State(state): State<AppState>,
    symbol: Result<Path<String>, PathRejection>,
    AlpacaQuery(query): AlpacaQuery,
) -> Result<Json<Value>, ApiError> {
    check_common(&query)?;
    let asset = path_symbol(symbol)?;
    let feed = Feed::now(&state).await?;
    Ok(Json(
        serde_json::json!({"symbol": asset.symbol.as_str(), "quote": feed.quote(&asset)}),
    ))
}

#[utoipa::path(
    get,
    path = "/v2/stocks/{symbol}/snapshot",
    tag = "Data API",
    summary = "Snapshot of one symbol",
    params(("symbol" = String, Path)),
    security(("bearer" = ["data"])),
    responses(
        (status = 200, description = "The snapshot, with `symbol`", body = Object),
        (status = 403, description = "No `data` scope", body = AlpacaErrorBody),
        (status = 422, description = "An unknown symbol", body = AlpacaErrorBody),
    )
)]
pub async fn snapshot(
    _grant: DataGrant,
    State(state): State<AppState>,
    symbol: Result<Path<String>, PathRejection>,
    AlpacaQuery(query): AlpacaQuery,
) -> Result<Json<Value>, ApiError> {
    check_common(&query)?;
    let asset = path_symbol(symbol)?;
    let feed = Feed::now(&state).await?;
    let mut body = serde_json::to_value(feed.snapshot(&asset)).unwrap_or(Value::Null);
    body["symbol"] = Value::from(asset.symbol.as_str());
    Ok(Json(body))
}

#[utoipa::path(
    get,
    path = "/v2/stocks/{symbol}/bars",
    tag = "Data API",
    summary = "Bars of one symbol",
    description = "As `GET /v2/stocks/bars`, for one symbol: `{bars, symbol, next_page_token}`.",
    params(
        ("symbol" = String, Path),
        ("timeframe" = String, Query),
        ("start" = Option<String>, Query),
        ("end" = Option<String>, Query),
        ("limit" = Option<u32>, Query),
        ("page_token" = Option<String>, Query),
    ),
    security(("bearer" = ["data"])),
    responses(
        (status = 200, description = "`{bars, symbol, next_page_token}`", body = Object),
        (status = 403, description = "No `data` scope", body = AlpacaErrorBody),
        (status = 422, description = "A bad parameter", body = AlpacaErrorBody),
    )
)]
pub async fn symbol_bars(
    _grant: DataGrant,
    State(state): State<AppState>,
    symbol: Result<Path<String>, PathRejection>,
    AlpacaQuery(query): AlpacaQuery,
) -> Result<Json<Value>, ApiError> {
    let asset = path_symbol(symbol)?;
    let request = bars_request(&query, state.clock.now(), 1)?;
    let feed = Feed::now(&state).await?;
    let symbol = asset.symbol.to_string();
    let (mut bars, next_page_token) = page(feed, vec![asset], request).await?;
    Ok(Json(serde_json::json!({
        "bars": bars.remove(&symbol).unwrap_or_default(),
        "symbol": symbol,
        "next_page_token": next_page_token,
    })))
}
