//! The Data API under the `data` scope: latest trades and quotes, snapshots and bars,
//! multi- and single-symbol, with pagination that neither repeats nor skips a bar.

use std::collections::HashSet;

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{TestApp, assert_alpaca_error, spawn_app_with};

async fn app_and_token(scope: &str) -> (TestApp, String) {
    let app = spawn_app_with(|s| {
        s.market = paddock_core::trading::clock::MarketClock::new(
            paddock_core::trading::clock::MarketMode::AlwaysOpen,
        )
    })
    .await;
    let token = app.token_for(&app.fx.client, app.fx.paper, scope).await;
    (app, token)
}

async fn get(app: &TestApp, token: &str, path: &str) -> reqwest::Response {
    app.http
        .get(format!("{}{path}", app.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

async fn json(app: &TestApp, token: &str, path: &str) -> Value {
    let response = get(app, token, path).await;
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    response.json().await.unwrap()
}

#[tokio::test]
async fn latest_trades_quotes_and_snapshots_follow_the_market() {
    let (app, token) = app_and_token("data").await;
    paddock::admin::set_price(
        app.store.as_ref(),
        "AAPL",
        "201.5".parse().unwrap(),
        app.clock.now(),
    )
    .await
    .unwrap();
    let started = std::time::Instant::now();
    let trades = loop {
        let trades = json(&app, &token, "/v2/stocks/trades/latest?symbols=AAPL,SPY").await;
        if trades["trades"]["AAPL"]["p"] == 201.5 || started.elapsed().as_secs() > 2 {
            break trades;
        }
        // The server hears of the price through its change feed.
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    assert_eq!(trades["trades"]["AAPL"]["p"], 201.5);
    assert!(trades["trades"]["SPY"]["p"].is_f64() || trades["trades"]["SPY"]["p"].is_u64());
    let quotes = json(&app, &token, "/v2/stocks/quotes/latest?symbols=AAPL").await;
    assert_eq!(quotes["quotes"]["AAPL"]["ap"], 201.51);
    assert_eq!(quotes["quotes"]["AAPL"]["bp"], 201.49);
    let one = json(&app, &token, "/v2/stocks/AAPL/trades/latest").await;
    assert_eq!(
        (&one["symbol"], &one["trade"]["p"]),
        (&Value::from("AAPL"), &Value::from(201.5))
    );
    let snaps = json(&app, &token, "/v2/stocks/snapshots?symbols=AAPL").await;
    assert_eq!(snaps["AAPL"]["minuteBar"]["c"], 201.5);
    assert!(snaps["AAPL"]["prevDailyBar"].is_object());
    let snap = json(&app, &token, "/v2/stocks/AAPL/snapshot").await;
    assert_eq!(snap["symbol"], "AAPL");
    assert_eq!(snap["latestQuote"]["ap"], 201.51);
}

#[tokio::test]
async fn bars_page_without_repeating_or_skipping() {
    let (app, token) = app_and_token("data").await;
    let start = (app.clock.now() - chrono::TimeDelta::hours(5)).to_rfc3339();
    let query = format!(
        "symbols=AAPL,SPY&timeframe=15Min&start={}",
        url::form_urlencoded::byte_serialize(start.as_bytes()).collect::<String>()
    );
    let whole = json(&app, &token, &format!("/v2/stocks/bars?{query}")).await;
    assert_eq!(whole["next_page_token"], Value::Null);
    let count = |v: &Value, s: &str| v["bars"][s].as_array().map_or(0, Vec::len);
    let (aapl, spy) = (count(&whole, "AAPL"), count(&whole, "SPY"));
    assert!((20..=21).contains(&aapl) && aapl == spy, "{aapl} {spy}");

    let mut seen: Vec<(String, String)> = Vec::new();
    let mut token_param = String::new();
    loop {
        let page = json(
            &app,
            &token,
            &format!("/v2/stocks/bars?{query}&limit=7{token_param}"),
        )
        .await;
        for (symbol, bars) in page["bars"].as_object().unwrap() {
            for bar in bars.as_array().unwrap() {
                seen.push((symbol.clone(), bar["t"].as_str().unwrap().to_owned()));
            }
        }
        match page["next_page_token"].as_str() {
            Some(next) => token_param = format!("&page_token={next}"),
            None => break,
        }
    }
    let unique: HashSet<_> = seen.iter().collect();
    assert_eq!(seen.len(), aapl + spy);
    assert_eq!(unique.len(), seen.len(), "no bar twice");
    let one = json(
        &app,
        &token,
        &format!(
            "/v2/stocks/SPY/bars?timeframe=1Day&limit=3&start={}",
            url::form_urlencoded::byte_serialize(
                (app.clock.now() - chrono::TimeDelta::days(10))
                    .to_rfc3339()
                    .as_bytes()
            )
            .collect::<String>()
        ),
    )
    .await;
    assert_eq!(one["symbol"], "SPY");
    assert_eq!(one["bars"].as_array().unwrap().len(), 3);
    assert!(one["next_page_token"].is_string());
}

#[tokio::test]
async fn the_data_api_needs_the_data_scope_and_good_parameters() {
    let (app, token) = app_and_token("data").await;
    let trading = app.token_for(&app.fx.client, app.fx.paper, "trading").await;
    assert_alpaca_error(
        get(&app, &trading, "/v2/stocks/trades/latest?symbols=AAPL").await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let anonymous = app
        .http
        .get(format!("{}/v2/stocks/trades/latest?symbols=AAPL", app.base))
        .send()
        .await
        .unwrap();
    assert_alpaca_error(anonymous, StatusCode::UNAUTHORIZED).await;
    for path in [
        "/v2/stocks/trades/latest",
        "/v2/stocks/trades/latest?symbols=NOPE",
        "/v2/stocks/quotes/latest?symbols=AAPL&feed=moon",
        "/v2/stocks/bars?symbols=AAPL",
        "/v2/stocks/bars?symbols=AAPL&timeframe=2Day",
        "/v2/stocks/bars?symbols=AAPL&timeframe=1Min&limit=0",
        "/v2/stocks/bars?symbols=AAPL&timeframe=1Min&page_token=garbage",
        "/v2/stocks/bars?symbols=AAPL&timeframe=1Min&sort=sideways",
        "/v2/stocks/NOPE/bars?timeframe=1Min",
        // A forged token reaching back to 1970 ("AAPL|0").
        "/v2/stocks/bars?symbols=AAPL&timeframe=1Min&page_token=QUFQTHww",
        // Too far back for minute bars: the past is walked bar by bar.
        "/v2/stocks/AAPL/bars?timeframe=1Min&start=2020-01-01T00:00:00Z",
    ] {
        assert_alpaca_error(
            get(&app, &token, path).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
}
