//! The Data API (stocks), under the `data` scope, at the server's root as alpaca-py's
//! `StockHistoricalDataClient(oauth_token=…, url_override=ROOT)` calls it: latest
//! trades and quotes, snapshots and bars, in the multi-symbol form
//! (`/v2/stocks/…?symbols=`) and the single-symbol form (`/v2/stocks/{symbol}/…`). The
//! numbers come from the paper market: the latest trade is at the price now, and the
//! bars are core's made-up past that ends there (`trading::bars`). Alpaca sends market
//! data as JSON numbers, not strings.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, NaiveTime, TimeDelta, Utc};
use paddock_core::form::Params;
use paddock_core::trading::assets::{self, Asset};
use paddock_core::trading::bars::{Bar, BarLength, History};
use paddock_core::trading::clock::new_york::new_york_instant;
use paddock_core::trading::clock::to_new_york;
use paddock_core::trading::market::Market;
use rust_decimal::Decimal;
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::ApiError;
use crate::state::AppState;
use crate::trading::{query_error, query_time};
use crate::wire::float as number;

pub mod stocks;

/// The most symbols one request names.
const MAX_SYMBOLS: usize = 100;
/// The most bars one page holds (Alpaca's bound), and how many when not said.
const MAX_LIMIT: usize = 10_000;
const DEFAULT_LIMIT: usize = 1_000;
/// The feeds Alpaca names; the paper market serves them all the same data.
const FEEDS: [&str; 6] = ["iex", "sip", "otc", "delayed_sip", "boats", "overnight"];
const ADJUSTMENTS: [&str; 5] = ["raw", "split", "dividend", "spin-off", "all"];

/// The Data API's routes (the live base only: market data is not an account's).
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(stocks::latest_trades))
        .routes(routes!(stocks::latest_quotes))
        .routes(routes!(stocks::snapshots))
        .routes(routes!(stocks::bars))
        .routes(routes!(stocks::latest_trade))
        .routes(routes!(stocks::latest_quote))
        .routes(routes!(stocks::snapshot))
        .routes(routes!(stocks::symbol_bars))
}

/// A listed asset by symbol, or 422 naming it.
fn asset(symbol: &str) -> Result<Asset, ApiError> {
    assets::find_listed(symbol).map_err(ApiError::unprocessable)
}

/// The `symbols` a multi-symbol request names, each listed, in the order given.
fn symbols(query: &Params) -> Result<Vec<Asset>, ApiError> {
    let list = query
        .get("symbols")
        .ok_or_else(|| ApiError::unprocessable("symbols is required, e.g. symbols=AAPL,SPY"))?;
    let mut out: Vec<Asset> = Vec::new();
    for text in list.split(',').filter(|s| !s.trim().is_empty()) {
        let asset = asset(text.trim())?;
        if !out.iter().any(|a| a.symbol == asset.symbol) {
            out.push(asset);
        }
    }
    if out.len() > MAX_SYMBOLS {
        return Err(ApiError::unprocessable(format!(
            "at most {MAX_SYMBOLS} symbols at once"
        )));
    }
    Ok(out)
}

/// Checks the parameters every data request may carry.
fn check_common(query: &Params) -> Result<(), ApiError> {
    if let Some(feed) = query.get("feed")
        && !FEEDS.contains(&feed)
    {
        return Err(query_error(
            "feed",
            feed,
            &format!("use one of {}", FEEDS.join(", ")),
        ));
    }
    if let Some(currency) = query.get("currency")
        && currency != "USD"
    {
        return Err(query_error("currency", currency, "only USD is served"));
    }
    Ok(())
}

/// Alpaca's latest trade: `t, x, p, s, c, i, z`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct TradeJson {
    #[serde(serialize_with = "crate::wire::timestamp")]
    #[schema(value_type = String, format = DateTime)]
    t: DateTime<Utc>,
    x: &'static str,
    p: f64,
    s: u64,
    c: Vec<&'static str>,
    i: u64,
    z: &'static str,
}

/// Alpaca's latest quote: `t, ax, ap, as, bx, bp, bs, c, z`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct QuoteJson {
    #[serde(serialize_with = "crate::wire::timestamp")]
    #[schema(value_type = String, format = DateTime)]
    t: DateTime<Utc>,
    ax: &'static str,
    ap: f64,
    #[serde(rename = "as")]
    ask_size: u64,
    bx: &'static str,
    bp: f64,
    bs: u64,
    c: Vec<&'static str>,
    z: &'static str,
}

/// Alpaca's bar: `t, o, h, l, c, v, n, vw`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct BarJson {
    #[serde(serialize_with = "crate::wire::timestamp")]
    #[schema(value_type = String, format = DateTime)]
    t: DateTime<Utc>,
    o: f64,
    h: f64,
    l: f64,
    c: f64,
    v: u64,
    n: u64,
    vw: f64,
}

impl From<&Bar> for BarJson {
    fn from(b: &Bar) -> Self {
        Self {
            t: b.start,
            o: number(b.open),
            h: number(b.high),
            l: number(b.low),
            c: number(b.close),
            v: b.volume,
            n: b.trades,
            vw: number(b.vwap),
        }
    }
}

/// Alpaca's snapshot of one symbol.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SnapshotJson {
    latest_trade: TradeJson,
    latest_quote: QuoteJson,
    minute_bar: Option<BarJson>,
    daily_bar: Option<BarJson>,
    prev_daily_bar: Option<BarJson>,
}

/// What the Data API reads for one request: the market's prices and its made-up past.
struct Feed {
    market: std::sync::Arc<Market>,
    history: History,
}

impl Feed {
    async fn now(state: &AppState) -> Result<Self, ApiError> {
        let market = crate::trading::market(state).await?;
        let history = History {
            seed: state.settings.walk.map_or(0, |w| w.seed),
            clock: market.clock(),
            now: state.clock.now(),
        };
        Ok(Self { market, history })
    }

    fn price(&self, asset: &Asset) -> Decimal {
        self.market
            .price(&asset.symbol)
            .unwrap_or(asset.reference_price)
    }

    /// The latest trade: at the price now, in the current minute.
    fn trade(&self, asset: &Asset) -> TradeJson {
        let minute = BarLength::Minutes(1).start_of(self.history.now);
        TradeJson {
            t: minute,
            x: "V",
            p: number(self.price(asset)),
            s: 100,
            c: vec!["@"],
            i: minute.timestamp().unsigned_abs(),
            z: "C",
        }
    }

    /// The latest quote: a cent either side of the price now.
    fn quote(&self, asset: &Asset) -> QuoteJson {
        let price = self.price(asset);
        let cent = Decimal::new(1, 2);
        QuoteJson {
            t: self.history.now,
            ax: "V",
            ap: number(price + cent),
            ask_size: 2,
            bx: "V",
            bp: number((price - cent).max(cent)),
            bs: 3,
            c: vec!["R"],
            z: "C",
        }
    }

    fn bars(
        &self,
        asset: &Asset,
        length: BarLength,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: usize,
    ) -> Vec<Bar> {
        self.history
            .bars(&asset.symbol, length, self.price(asset), from, until, limit)
    }

    fn snapshot(&self, asset: &Asset) -> SnapshotJson {
        let now = self.history.now;
        let minute = self.bars(
            asset,
            BarLength::Minutes(1),
            now - TimeDelta::minutes(1),
            now,
            2,
        );
        let days = self.bars(asset, BarLength::Day, now - TimeDelta::days(10), now, 20);
        let today = BarLength::Day.start_of(now);
        let daily = days.iter().rfind(|b| b.start == today);
        let previous = days.iter().rfind(|b| b.start < today);
        SnapshotJson {
            latest_trade: self.trade(asset),
            latest_quote: self.quote(asset),
            minute_bar: minute.last().map(BarJson::from),
            daily_bar: daily.map(BarJson::from),
            prev_daily_bar: previous.map(BarJson::from),
        }
    }
}

/// A bars request's window and page.
struct BarsRequest {
    length: BarLength,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    limit: usize,
    /// Where this page starts: a symbol, and the first bar's start within it.
    page: Option<(String, DateTime<Utc>)>,
}

/// The most bars one request walks back through, over all its symbols: the made-up
/// past is drawn bar by bar from now, so a far `start` costs what it reaches back.
const MAX_WALK: i64 = 100_000;

fn bars_request(
    query: &Params,
    now: DateTime<Utc>,
    symbols: usize,
) -> Result<BarsRequest, ApiError> {
    check_common(query)?;
    let length_text = query
        .get("timeframe")
        .ok_or_else(|| ApiError::unprocessable("timeframe is required, e.g. timeframe=1Day"))?;
    let length = BarLength::parse(length_text).ok_or_else(|| {
        query_error(
            "timeframe",
            length_text,
            "use 1Min…59Min, 1Hour…23Hour, 1Day, 1Week or 1Month",
        )
    })?;
    let start = match query.get("start") {
        Some(text) => query_time("start", text)?,
        // Alpaca's default: the start of the day, in New York.
        None => new_york_instant(to_new_york(now).date_naive(), NaiveTime::MIN),
    };
    let end = match query.get("end") {
        Some(text) => query_time("end", text)?,
        None => now,
    };
    if end < start {
        return Err(ApiError::unprocessable("end must not be before start"));
    }
    let limit = match query.raw("limit") {
        None => DEFAULT_LIMIT,
        Some(text) => text
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| query_error("limit", text, "give 1 to 10000"))?,
    };
    if let Some(adjustment) = query.get("adjustment")
        && !ADJUSTMENTS.contains(&adjustment)
    {
        return Err(query_error(
            "adjustment",
            adjustment,
            &format!("use one of {}", ADJUSTMENTS.join(", ")),
        ));
    }
    match query.get("sort") {
        None | Some("asc") => {}
        Some(other) => {
            return Err(query_error(
                "sort",
                other,
                "bars come oldest first: use asc",
            ));
        }
    }
    if length.bars_back(start, now).saturating_mul(symbols as i64) > MAX_WALK {
        return Err(ApiError::unprocessable(format!(
            "that reaches back over {MAX_WALK} bars; give a later start, a longer timeframe or \
             fewer symbols"
        )));
    }
    let page = query.get("page_token").map(decode_page).transpose()?;
    // A token continues a request like this one: its bar lies in the window (so the
    // walk back to it is bounded as the window's is).
    if let Some((_, at)) = &page
        && (*at < start || *at > end)
    {
        return Err(ApiError::unprocessable(
            "page_token does not continue this request; send the same start and end",
        ));
    }
    Ok(BarsRequest {
        length,
        start,
        end,
        limit,
        page,
    })
}

fn encode_page(symbol: &str, at: DateTime<Utc>) -> String {
    URL_SAFE_NO_PAD.encode(format!("{symbol}|{}", at.timestamp()))
}

fn decode_page(token: &str) -> Result<(String, DateTime<Utc>), ApiError> {
    let bad = || {
        query_error(
            "page_token",
            token,
            "give the next_page_token of a response",
        )
    };
    let text = URL_SAFE_NO_PAD
        .decode(token)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(bad)?;
    let (symbol, secs) = text.split_once('|').ok_or_else(bad)?;
    let at = secs
        .parse::<i64>()
        .ok()
        .and_then(|s| DateTime::from_timestamp(s, 0))
        .ok_or_else(bad)?;
    Ok((symbol.to_owned(), at))
}

/// Whether the page token names one of the request's symbols (422 otherwise, rather
/// than starting over and letting a client that follows tokens loop).
fn page_symbol_listed(request: &BarsRequest, assets: &[Asset]) -> Result<(), ApiError> {
    match &request.page {
        Some((symbol, _)) if !assets.iter().any(|a| a.symbol.as_str() == symbol) => {
            Err(ApiError::unprocessable(
                "page_token does not continue this request; send the same symbols",
            ))
        }
        _ => Ok(()),
    }
}

/// One page of bars of `assets` (in the order given, each oldest first), and the token
/// of the next page when there is more. Walking back is CPU work: it runs off the
/// async workers.
async fn page(
    feed: Feed,
    assets: Vec<Asset>,
    request: BarsRequest,
) -> Result<(BTreeMap<String, Vec<BarJson>>, Option<String>), ApiError> {
    page_symbol_listed(&request, &assets)?;
    tokio::task::spawn_blocking(move || page_of_bars(&feed, &assets, &request))
        .await
        .map_err(|e| anyhow::anyhow!("the bars task failed: {e}").into())
}

fn page_of_bars(
    feed: &Feed,
    assets: &[Asset],
    request: &BarsRequest,
) -> (BTreeMap<String, Vec<BarJson>>, Option<String>) {
    let mut out: BTreeMap<String, Vec<BarJson>> = BTreeMap::new();
    let mut left = request.limit;
    let skip = match &request.page {
        Some((symbol, _)) => match assets.iter().position(|a| a.symbol.as_str() == symbol) {
            Some(i) => i,
            // Checked by the handler (`page_symbol_listed`): not reached.
            None => return (out, None),
        },
        None => 0,
    };
    for (i, asset) in assets.iter().enumerate().skip(skip) {
        let from = match &request.page {
            Some((symbol, at)) if i == skip && asset.symbol.as_str() == symbol => *at,
            _ => request.start,
        };
        // One more than fits, to know whether a next page starts within this symbol.
        let bars = feed.bars(asset, request.length, from, request.end, left + 1);
        if bars.len() > left {
            let next = encode_page(asset.symbol.as_str(), bars[left].start);
            out.insert(
                asset.symbol.to_string(),
                bars[..left].iter().map(BarJson::from).collect(),
            );
            return (out, Some(next));
        }
        left -= bars.len();
        if !bars.is_empty() {
            out.insert(
                asset.symbol.to_string(),
                bars.iter().map(BarJson::from).collect(),
            );
        }
        if left == 0 {
            let next = assets
                .get(i + 1)
                .map(|a| encode_page(a.symbol.as_str(), request.start));
            return (out, next);
        }
    }
    (out, None)
}
