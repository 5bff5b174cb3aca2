//! The paper market: assets on both bases, and prices the admin CLI sets.

use paddock_core::env::Env;
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{TestApp, assert_alpaca_error, spawn_app};

async fn get(app: &TestApp, env: Env, path: &str, token: &str) -> reqwest::Response {
    app.http
        .get(app.api(env, path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn assets_are_listed_as_alpaca_shapes_them_on_both_bases() {
    let app = spawn_app().await;
    let token = app.token_for(&app.fx.client, app.fx.paper, "").await;
    let live = app.token_for(&app.fx.client, app.fx.live, "").await;
    for (env, token) in [(Env::Paper, &token), (Env::Live, &live)] {
        let response = get(&app, env, "/v2/assets", token).await;
        assert_eq!(response.status(), StatusCode::OK);
        let assets: Vec<Value> = response.json().await.unwrap();
        assert!(assets.len() >= 32, "{}", assets.len());
        for symbol in ["SPY", "QQQ", "AAPL"] {
            assert!(assets.iter().any(|a| a["symbol"] == symbol), "{symbol}");
        }
        let aapl = assets.iter().find(|a| a["symbol"] == "AAPL").unwrap();
        assert!(uuid::Uuid::parse_str(aapl["id"].as_str().unwrap()).is_ok());
        assert_eq!(aapl["class"], "us_equity");
        assert_eq!(aapl["exchange"], "NASDAQ");
        assert_eq!(aapl["status"], "active");
        for flag in [
            "tradable",
            "marginable",
            "shortable",
            "easy_to_borrow",
            "fractionable",
        ] {
            assert!(aapl[flag].is_boolean(), "{flag}");
        }
    }
    let anonymous = app
        .http
        .get(app.api(Env::Paper, "/v2/assets"))
        .send()
        .await
        .unwrap();
    assert_alpaca_error(anonymous, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn asset_filters_narrow_the_list_and_unknown_values_are_422() {
    let app = spawn_app().await;
    let token = app.token_for(&app.fx.client, app.fx.paper, "").await;
    let list = |query: &'static str| {
        let (app, token) = (&app, &token);
        async move {
            let response = get(app, Env::Paper, &format!("/v2/assets?{query}"), token).await;
            assert_eq!(response.status(), StatusCode::OK, "{query}");
            response.json::<Vec<Value>>().await.unwrap()
        }
    };
    let nasdaq = list("exchange=NASDAQ&status=active&asset_class=us_equity").await;
    assert!(!nasdaq.is_empty() && nasdaq.iter().all(|a| a["exchange"] == "NASDAQ"));
    assert!(list("status=inactive").await.is_empty());
    assert!(list("asset_class=crypto").await.is_empty());
    assert!(list("exchange=OTC").await.is_empty());
    assert!(list("attributes=has_options").await.is_empty());
    for query in [
        "status=sleeping",
        "exchange=MOON",
        "asset_class=bonds",
        "attributes=x",
    ] {
        let response = get(&app, Env::Paper, &format!("/v2/assets?{query}"), &token).await;
        let body = assert_alpaca_error(response, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert!(
            body["message"].as_str().unwrap().contains("use one of"),
            "{body}"
        );
    }
}

#[tokio::test]
async fn an_asset_is_found_by_symbol_or_id() {
    let app = spawn_app().await;
    let token = app.token_for(&app.fx.client, app.fx.paper, "").await;
    let by_symbol: Value = get(&app, Env::Paper, "/v2/assets/aapl", &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(by_symbol["symbol"], "AAPL");
    let id = by_symbol["id"].as_str().unwrap();
    let by_id: Value = get(&app, Env::Paper, &format!("/v2/assets/{id}"), &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(by_id, by_symbol);
    let missing = get(&app, Env::Paper, "/v2/assets/NOPE", &token).await;
    assert_alpaca_error(missing, StatusCode::NOT_FOUND).await;
}

/// Moves the app's clock to `at` (tokens live until revoked, so they survive it).
fn travel_to(app: &TestApp, at: &str) {
    let at: chrono::DateTime<chrono::Utc> = at.parse().unwrap();
    app.clock.advance(at - app.clock.now());
}

#[tokio::test]
async fn the_clock_follows_nyse_hours_in_new_york_time() {
    let app = spawn_app().await;
    let token = app.token_for(&app.fx.client, app.fx.paper, "").await;
    let clock = |at: &'static str| {
        let (app, token) = (&app, &token);
        async move {
            travel_to(app, at);
            let response = get(app, Env::Paper, "/v2/clock", token).await;
            assert_eq!(response.status(), StatusCode::OK);
            response.json::<Value>().await.unwrap()
        }
    };
    // 10:00 in New York on the day before Independence Day: open, closing early.
    let open = clock("2025-07-03T14:00:00Z").await;
    assert_eq!(open["is_open"], true);
    assert!(
        open["timestamp"].as_str().unwrap().ends_with("-04:00"),
        "{open}"
    );
    assert_eq!(open["next_close"], "2025-07-03T13:00:00-04:00");
    assert_eq!(open["next_open"], "2025-07-07T09:30:00-04:00");
    // Independence Day: closed until Monday.
    let holiday = clock("2025-07-04T15:00:00Z").await;
    assert_eq!(holiday["is_open"], false);
    assert_eq!(holiday["next_open"], "2025-07-07T09:30:00-04:00");
    assert_eq!(holiday["next_close"], "2025-07-07T16:00:00-04:00");
    // Winter: New York is five hours behind.
    let winter = clock("2025-01-06T14:29:59Z").await;
    assert_eq!(winter["is_open"], false);
    assert_eq!(winter["next_open"], "2025-01-06T09:30:00-05:00");
}

#[tokio::test]
async fn the_calendar_lists_trading_days_as_alpaca_writes_them() {
    let app = spawn_app().await;
    let token = app.token_for(&app.fx.client, app.fx.paper, "").await;
    let response = get(
        &app,
        Env::Paper,
        "/v2/calendar?start=2025-07-01&end=2025-07-31",
        &token,
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let days: Vec<Value> = response.json().await.unwrap();
    assert_eq!(days.len(), 22);
    assert!(days.iter().all(|d| d["date"] != "2025-07-04"), "a holiday");
    let early = days.iter().find(|d| d["date"] == "2025-07-03").unwrap();
    assert_eq!(early["open"], "09:30");
    assert_eq!(early["close"], "13:00");
    assert_eq!(early["session_open"], "0400");
    assert_eq!(early["session_close"], "2000");
    assert_eq!(early["settlement_date"], "2025-07-07");

    let settling = get(
        &app,
        Env::Paper,
        "/v2/calendar?start=2025-07-07&end=2025-07-07&date_type=SETTLEMENT",
        &token,
    )
    .await;
    let settling: Vec<Value> = settling.json().await.unwrap();
    assert_eq!(settling.len(), 1);
    assert_eq!(settling[0]["date"], "2025-07-03");

    // The calendar's last days: every date, settlement included, is YYYY-MM-DD.
    let last = get(
        &app,
        Env::Paper,
        "/v2/calendar?start=9999-12-20&end=9999-12-31",
        &token,
    )
    .await;
    let last: Vec<Value> = last.json().await.unwrap();
    assert!(!last.is_empty());
    for day in &last {
        for field in ["date", "settlement_date"] {
            let date = day[field].as_str().unwrap();
            assert!(date.len() == 10 && date.starts_with("9999-12-"), "{day}");
        }
    }

    for query in [
        "start=yesterday",
        "start=2025-13-01",
        "date_type=LUNAR",
        "start=2000-01-01&end=2030-01-01",
    ] {
        let response = get(&app, Env::Paper, &format!("/v2/calendar?{query}"), &token).await;
        assert_alpaca_error(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
}

#[tokio::test]
async fn an_always_open_market_says_so() {
    use paddock_core::trading::clock::{MarketClock, MarketMode};
    let app = crate::helpers::spawn_app_with(|s| {
        s.market = MarketClock::new(MarketMode::AlwaysOpen);
    })
    .await;
    let token = app.token_for(&app.fx.client, app.fx.paper, "").await;
    // A Sunday.
    travel_to(&app, "2025-07-06T12:00:00Z");
    let clock: Value = get(&app, Env::Paper, "/v2/clock", &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(clock["is_open"], true);
    assert!(
        clock["next_close"].as_str().unwrap().starts_with("2026-07"),
        "{clock}"
    );
}
