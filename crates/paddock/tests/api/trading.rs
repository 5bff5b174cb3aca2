//! Orders and positions through the Trading API: market fills, resting orders that the
//! matcher fills when a price moves, cancels, the account's funds, scopes and errors.

use std::time::{Duration, Instant};

use paddock_core::env::Env;
use paddock_core::trading::clock::{MarketClock, MarketMode};
use reqwest::StatusCode;
use rust_decimal::Decimal;
use serde_json::{Value, json};

use crate::helpers::{FetchJson, TestApp, assert_alpaca_error, header, spawn_app_with};

/// A server whose market never closes, and a paper token with `trading`.
pub async fn trading_app() -> (TestApp, String) {
    let app = spawn_app_with(|s| s.market = MarketClock::new(MarketMode::AlwaysOpen)).await;
    let token = app.token_for(&app.fx.client, app.fx.paper, "trading").await;
    (app, token)
}

pub async fn post_order(app: &TestApp, token: &str, body: Value) -> reqwest::Response {
    app.http
        .post(app.api(Env::Paper, "/v2/orders"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

pub async fn get_json(app: &TestApp, token: &str, path: &str) -> Value {
    let response = app
        .http
        .get(app.api(Env::Paper, path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    response.json().await.unwrap()
}

pub fn dec(v: &Value) -> Decimal {
    v.as_str().unwrap().parse().unwrap()
}

#[tokio::test]
async fn a_market_buy_fills_at_once_and_the_account_shows_it() {
    let (app, token) = trading_app().await;
    let response = post_order(
        &app,
        &token,
        json!({"symbol": "AAPL", "qty": 2.0, "side": "buy", "type": "market", "time_in_force": "day"}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let order: Value = response.json().await.unwrap();
    assert!(uuid::Uuid::parse_str(order["id"].as_str().unwrap()).is_ok());
    assert_eq!(order["status"], "filled");
    assert_eq!(order["qty"], "2");
    assert_eq!(order["filled_qty"], "2");
    assert_eq!(order["filled_avg_price"], "190");
    assert_eq!(order["type"], "market");
    assert_eq!(order["order_class"], "simple");
    assert_eq!(order["asset_class"], "us_equity");
    for field in ["created_at", "updated_at", "submitted_at", "filled_at"] {
        assert!(order[field].is_string(), "{field}");
    }

    let account = get_json(&app, &token, "/v2/account").await;
    assert_eq!(dec(&account["cash"]), Decimal::from(100_000 - 380));
    assert_eq!(dec(&account["long_market_value"]), Decimal::from(380));
    assert_eq!(dec(&account["equity"]), Decimal::from(100_000));
    let positions = get_json(&app, &token, "/v2/positions").await;
    assert_eq!(positions.as_array().unwrap().len(), 1);
    let aapl = get_json(&app, &token, "/v2/positions/aapl").await;
    assert_eq!(aapl["qty"], "2");
    assert_eq!(aapl["avg_entry_price"], "190");
    assert_eq!(aapl["side"], "long");
    let id = order["id"].as_str().unwrap();
    let again = get_json(&app, &token, &format!("/v2/orders/{id}")).await;
    assert_eq!(again["status"], "filled");
    let closed = get_json(&app, &token, "/v2/orders?status=closed").await;
    assert_eq!(closed.as_array().unwrap().len(), 1);
    let open = get_json(&app, &token, "/v2/orders").await;
    assert!(open.as_array().unwrap().is_empty(), "open by default");
}

/// Polls the order until `status`, for a second at most.
pub async fn wait_for_status(app: &TestApp, token: &str, id: &str, status: &str) {
    let started = Instant::now();
    loop {
        let order = get_json(app, token, &format!("/v2/orders/{id}")).await;
        if order["status"] == status {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "still {} after 2 s",
            order["status"]
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_limit_order_rests_then_fills_when_the_cli_moves_the_price() {
    let (app, token) = trading_app().await;
    let body = json!({"symbol": "MSFT", "qty": "3", "side": "buy", "type": "limit",
                      "limit_price": "400", "time_in_force": "gtc", "client_order_id": "mine-1"});
    let order: Value = post_order(&app, &token, body).await.json().await.unwrap();
    assert_eq!(order["status"], "new", "{order}");
    assert_eq!(order["limit_price"], "400");
    let account = get_json(&app, &token, "/v2/account").await;
    assert_eq!(
        dec(&account["buying_power"]),
        Decimal::from(100_000 - 1_200),
        "the open buy holds back its cost at its limit"
    );
    let by_client = get_json(
        &app,
        &token,
        "/v2/orders:by_client_order_id?client_order_id=mine-1",
    )
    .await;
    assert_eq!(by_client["id"], order["id"]);

    // The operator moves the price from the CLI's code path (another process would too).
    paddock::admin::set_price(
        app.store.as_ref(),
        "MSFT",
        "395.5".parse().unwrap(),
        app.clock.now(),
    )
    .await
    .unwrap();
    let id = order["id"].as_str().unwrap();
    wait_for_status(&app, &token, id, "filled").await;
    let filled = get_json(&app, &token, &format!("/v2/orders/{id}")).await;
    assert_eq!(filled["filled_avg_price"], "395.5");
    let account = get_json(&app, &token, "/v2/account").await;
    assert_eq!(dec(&account["cash"]), "98813.5".parse::<Decimal>().unwrap());
}

#[tokio::test]
async fn orders_are_canceled_once_and_only_by_their_account() {
    let (app, token) = trading_app().await;
    let body = json!({"symbol": "SPY", "qty": 1, "side": "buy", "type": "limit",
                      "limit_price": 500, "time_in_force": "day"});
    let order: Value = post_order(&app, &token, body.clone())
        .await
        .json()
        .await
        .unwrap();
    let path = app.api(
        Env::Paper,
        &format!("/v2/orders/{}", order["id"].as_str().unwrap()),
    );

    let other = app
        .token_for(&app.fx.client, app.fx.paper2, "trading")
        .await;
    let foreign = app
        .http
        .delete(&path)
        .bearer_auth(&other)
        .send()
        .await
        .unwrap();
    assert_alpaca_error(foreign, StatusCode::NOT_FOUND).await;

    let canceled = app
        .http
        .delete(&path)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(canceled.status(), StatusCode::NO_CONTENT);
    let again = app
        .http
        .delete(&path)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let body = assert_alpaca_error(again, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(
        body["message"].as_str().unwrap().contains("canceled"),
        "{body}"
    );

    // Cancel all: 207 with one status per open order.
    for price in [480, 490] {
        let limit = json!({"symbol": "SPY", "qty": 1, "side": "buy", "type": "limit",
                           "limit_price": price, "time_in_force": "day"});
        post_order(&app, &token, limit).await;
    }
    let all = app
        .http
        .delete(app.api(Env::Paper, "/v2/orders"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(all.status(), StatusCode::MULTI_STATUS);
    let statuses: Vec<Value> = all.json().await.unwrap();
    assert_eq!(statuses.len(), 2);
    assert!(
        statuses
            .iter()
            .all(|s| s["status"] == 200 && s["body"]["status"] == "canceled")
    );
}

#[tokio::test]
async fn what_the_account_cannot_cover_is_403_and_changes_nothing() {
    let (app, token) = trading_app().await;
    let too_much = json!({"symbol": "SPY", "qty": 200, "side": "buy", "type": "market", "time_in_force": "day"});
    let body = assert_alpaca_error(
        post_order(&app, &token, too_much).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(body["message"], "insufficient buying power");
    let unheld = json!({"symbol": "AAPL", "qty": 1, "side": "sell", "type": "market", "time_in_force": "day"});
    let body = assert_alpaca_error(
        post_order(&app, &token, unheld).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("insufficient qty"),
        "{body}"
    );
    let account = get_json(&app, &token, "/v2/account").await;
    assert_eq!(dec(&account["cash"]), Decimal::from(100_000));
    let all = get_json(&app, &token, "/v2/orders?status=all").await;
    assert!(all.as_array().unwrap().is_empty());
}

#[tokio::test]
async fn a_notional_order_buys_a_fraction_of_a_share() {
    let (app, token) = trading_app().await;
    let body = json!({"symbol": "AAPL", "notional": 100, "side": "buy", "type": "market", "time_in_force": "day"});
    let order: Value = post_order(&app, &token, body).await.json().await.unwrap();
    assert_eq!(order["notional"], "100");
    assert!(order["qty"].is_null());
    assert_eq!(order["filled_qty"], "0.526315789");
    let position = get_json(&app, &token, "/v2/positions/AAPL").await;
    assert_eq!(position["qty"], "0.526315789");
}

#[tokio::test]
async fn a_reused_client_order_id_and_malformed_orders_are_422() {
    let (app, token) = trading_app().await;
    let first = json!({"symbol": "KO", "qty": 1, "side": "buy", "type": "market",
                       "time_in_force": "day", "client_order_id": "same"});
    assert_eq!(
        post_order(&app, &token, first.clone()).await.status(),
        StatusCode::OK
    );
    let body = assert_alpaca_error(
        post_order(&app, &token, first).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("client_order_id"),
        "{body}"
    );

    for bad in [
        json!({"qty": 1, "side": "buy", "type": "market", "time_in_force": "day"}),
        json!({"symbol": "NOPE", "qty": 1, "side": "buy", "type": "market", "time_in_force": "day"}),
        json!({"symbol": "KO", "qty": 1, "side": "hold", "type": "market", "time_in_force": "day"}),
        json!({"symbol": "KO", "qty": 1, "side": "buy", "type": "magic", "time_in_force": "day"}),
        json!({"symbol": "KO", "qty": 1, "notional": 5, "side": "buy", "type": "market", "time_in_force": "day"}),
        json!({"symbol": "KO", "qty": 0, "side": "buy", "type": "market", "time_in_force": "day"}),
        json!({"symbol": "KO", "qty": "x", "side": "buy", "type": "market", "time_in_force": "day"}),
        json!({"symbol": "KO", "qty": 1, "side": "buy", "type": "limit", "time_in_force": "day"}),
        json!({"symbol": "KO", "qty": 0.5, "side": "buy", "type": "market", "time_in_force": "gtc"}),
        json!({"symbol": "KO", "qty": "10000000000000000000000000000", "side": "buy", "type": "market", "time_in_force": "day"}),
        json!({"symbol": "KO", "qty": 1, "side": "sell", "type": "limit", "limit_price": 1e12, "time_in_force": "day"}),
        json!({"symbol": "KO", "notional": 0.5, "side": "buy", "type": "market", "time_in_force": "day"}),
    ] {
        assert_alpaca_error(
            post_order(&app, &token, bad.clone()).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let not_an_object = post_order(&app, &token, json!(["an", "array"])).await;
    assert_alpaca_error(not_an_object, StatusCode::BAD_REQUEST).await;
    let all = get_json(&app, &token, "/v2/orders?status=all").await;
    assert_eq!(all.as_array().unwrap().len(), 1, "mistakes store nothing");
}

#[tokio::test]
async fn placing_orders_needs_the_trading_scope_reading_does_not() {
    let app = spawn_app_with(|s| s.market = MarketClock::new(MarketMode::AlwaysOpen)).await;
    let read_only = app.token_for(&app.fx.client, app.fx.paper, "").await;
    let body =
        json!({"symbol": "KO", "qty": 1, "side": "buy", "type": "market", "time_in_force": "day"});
    let refused = post_order(&app, &read_only, body).await;
    let challenge = header(&refused, "www-authenticate");
    assert!(
        challenge.contains("insufficient_scope") && challenge.contains("trading"),
        "{challenge}"
    );
    assert_alpaca_error(refused, StatusCode::FORBIDDEN).await;
    get_json(&app, &read_only, "/v2/orders").await;
    get_json(&app, &read_only, "/v2/positions").await;
}

#[tokio::test]
async fn order_list_filters_work_and_unknown_values_are_422() {
    let (app, token) = trading_app().await;
    for symbol in ["KO", "PFE", "T"] {
        let body = json!({"symbol": symbol, "qty": 1, "side": "buy", "type": "market", "time_in_force": "day"});
        post_order(&app, &token, body).await;
    }
    let two = get_json(&app, &token, "/v2/orders?status=all&limit=2&direction=asc").await;
    let symbols: Vec<&str> = two
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["symbol"].as_str().unwrap())
        .collect();
    assert_eq!(symbols, ["KO", "PFE"]);
    let chosen = get_json(
        &app,
        &token,
        "/v2/orders?status=all&symbols=T,KO&side=buy&nested=True",
    )
    .await;
    assert_eq!(chosen.as_array().unwrap().len(), 2);
    for bad in [
        "status=sleeping",
        "limit=0",
        "limit=lots",
        "direction=up",
        "side=hold",
        "after=yesterday",
    ] {
        let response = app
            .http
            .get(app.api(Env::Paper, &format!("/v2/orders?{bad}")))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_alpaca_error(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
}

/// Twenty buys at once, each affordable alone, on one account: the account lock lets
/// no two spend the same cash.
#[tokio::test]
async fn concurrent_orders_never_overspend() {
    let (app, token) = trading_app().await;
    let orders: Vec<_> = (0..20)
        .map(|_| {
            let request = app
                .http
                .post(app.api(Env::Paper, "/v2/orders"))
                .bearer_auth(&token)
                .json(&json!({"symbol": "SPY", "qty": 100, "side": "buy", "type": "market", "time_in_force": "day"}));
            tokio::spawn(request.send())
        })
        .collect();
    let mut filled = 0;
    for order in orders {
        match order.await.unwrap().unwrap().status() {
            StatusCode::OK => filled += 1,
            StatusCode::FORBIDDEN => {}
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(filled, 1, "100 SPY costs 55,000 of 100,000");
    let account = get_json(&app, &token, "/v2/account").await;
    assert_eq!(dec(&account["cash"]), Decimal::from(45_000));
}

/// A market order placed while the market is closed waits for the open; if the price
/// moved past what the account can pay by then, it is rejected (as Alpaca rejects an
/// order that fails its buying-power check when it trades) rather than retried forever.
#[tokio::test]
async fn an_order_the_account_can_no_longer_cover_at_the_open_is_rejected() {
    let app = crate::helpers::spawn_app().await;
    let token = app.token_for(&app.fx.client, app.fx.paper, "trading").await;
    let travel = |at: &str| {
        let at: chrono::DateTime<chrono::Utc> = at.parse().unwrap();
        app.clock.advance(at - app.clock.now());
    };
    // A Saturday: NYSE is closed.
    travel("2025-07-05T15:00:00Z");
    let body = json!({"symbol": "SPY", "qty": 150, "side": "buy", "type": "market", "time_in_force": "day"});
    let order: Value = post_order(&app, &token, body).await.json().await.unwrap();
    assert_eq!(order["status"], "accepted", "{order}");
    let affordable =
        json!({"symbol": "KO", "qty": 1, "side": "buy", "type": "market", "time_in_force": "day"});
    let waiting: Value = post_order(&app, &token, affordable)
        .await
        .json()
        .await
        .unwrap();

    paddock::admin::set_price(
        app.store.as_ref(),
        "SPY",
        Decimal::from(700),
        app.clock.now(),
    )
    .await
    .unwrap();
    // Monday, 10:00 in New York.
    travel("2025-07-07T14:00:00Z");
    wait_for_status(&app, &token, order["id"].as_str().unwrap(), "rejected").await;
    wait_for_status(&app, &token, waiting["id"].as_str().unwrap(), "filled").await;
    let rejected = get_json(
        &app,
        &token,
        &format!("/v2/orders/{}", order["id"].as_str().unwrap()),
    )
    .await;
    assert_eq!(rejected["failed_at"], rejected["updated_at"], "{rejected}");
    assert!(rejected["canceled_at"].is_null());
    let open = get_json(&app, &token, "/v2/orders").await;
    assert!(
        open.as_array().unwrap().is_empty(),
        "a rejected order is closed"
    );
    // The trade updates say so: every event so far, as Server-Sent Events.
    let until = (app.clock.now() + chrono::TimeDelta::milliseconds(200)).to_rfc3339();
    let url = app.api(Env::Paper, "/v2/events/trades");
    let events = app
        .http
        .get(crate::stream::with(
            &url,
            &[("since", "0"), ("until", &until)],
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let spy: Vec<Value> = crate::stream::sse_events(&events)
        .into_iter()
        .filter(|(_, d)| d["order"]["id"] == order["id"])
        .map(|(_, d)| d)
        .collect();
    let kinds: Vec<&str> = spy.iter().map(|d| d["event"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["new", "rejected"]);
    assert_eq!(spy[1]["order"]["status"], "rejected");
    let account = get_json(&app, &token, "/v2/account").await;
    assert_eq!(dec(&account["cash"]), Decimal::from(100_000 - 62));
}

/// Found by schema fuzzing: a typed query parameter sent empty (`limit=`) was taken as
/// absent, and three lists' filters were missing from /openapi.json.
#[tokio::test]
async fn typed_filters_sent_empty_are_422_and_every_filter_is_documented() {
    let (app, token) = trading_app().await;
    let data = app.token_for(&app.fx.client, app.fx.paper, "data").await;
    for (path, token) in [
        ("/paper/v2/orders?limit=", &token),
        ("/paper/v2/orders?nested=", &token),
        ("/paper/v2/account/activities?page_size=", &token),
        ("/v2/stocks/bars?symbols=AAPL&timeframe=1Day&limit=", &data),
    ] {
        let response = app
            .http
            .get(app.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_alpaca_error(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    }

    let doc: Value = app.http.get(app.url("/openapi.json")).fetch_json().await;
    for (path, names) in [
        (
            "/v2/orders",
            &[
                "status",
                "limit",
                "after",
                "until",
                "direction",
                "nested",
                "symbols",
                "side",
            ][..],
        ),
        (
            "/v2/account/activities",
            &[
                "activity_types",
                "date",
                "after",
                "until",
                "direction",
                "page_size",
                "page_token",
            ],
        ),
        (
            "/v2/account/portfolio/history",
            &[
                "period",
                "timeframe",
                "start",
                "end",
                "extended_hours",
                "pnl_reset",
            ],
        ),
    ] {
        for base in ["", "/paper"] {
            let params = &doc["paths"][format!("{base}{path}")]["get"]["parameters"];
            let documented: Vec<&str> = params
                .as_array()
                .unwrap_or_else(|| panic!("{base}{path} has no parameters"))
                .iter()
                .filter(|p| p["in"] == "query")
                .map(|p| p["name"].as_str().unwrap())
                .collect();
            for name in names {
                assert!(documented.contains(name), "{base}{path} lacks {name}");
            }
        }
    }
}
