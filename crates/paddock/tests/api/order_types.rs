//! The order types and times in force beyond market and limit (stop, trailing stop,
//! ioc, fok), the validation rules of each, and the scope every changing route needs,
//! on both bases.

use std::time::{Duration, Instant};

use paddock_core::env::Env;
use reqwest::{Method, StatusCode};
use rust_decimal::Decimal;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_alpaca_error, header};
use crate::trading::{get_json, post_order, trading_app, wait_for_status};

/// Moves `symbol`'s price as `paddock price set` does.
async fn set_price(app: &TestApp, symbol: &str, price: &str) {
    paddock::admin::set_price(
        app.store.as_ref(),
        symbol,
        price.parse().unwrap(),
        app.clock.now(),
    )
    .await
    .unwrap();
}

/// Polls the order until `holds` is true of it, for two seconds at most.
async fn wait_until(app: &TestApp, token: &str, id: &str, holds: impl Fn(&Value) -> bool) {
    let started = Instant::now();
    loop {
        let order = get_json(app, token, &format!("/v2/orders/{id}")).await;
        if holds(&order) {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "not within 2 s: {order}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn place(app: &TestApp, token: &str, body: Value) -> Value {
    let response = post_order(app, token, body).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

fn id(order: &Value) -> &str {
    order["id"].as_str().unwrap()
}

#[tokio::test]
async fn stop_orders_rest_until_the_price_reaches_their_stop_then_fill_at_market() {
    let (app, token) = trading_app().await;
    place(
        &app,
        &token,
        json!({"symbol": "AAPL", "qty": 10, "side": "buy", "type": "market", "time_in_force": "day"}),
    )
    .await;
    let sell_stop = place(
        &app,
        &token,
        json!({"symbol": "AAPL", "qty": 10, "side": "sell", "type": "stop",
               "stop_price": "180", "time_in_force": "gtc"}),
    )
    .await;
    let buy_stop = place(
        &app,
        &token,
        json!({"symbol": "TSLA", "qty": 1, "side": "buy", "type": "stop",
               "stop_price": 260, "time_in_force": "day"}),
    )
    .await;
    assert_eq!(sell_stop["status"], "new");
    assert_eq!(sell_stop["stop_price"], "180");
    assert_eq!(buy_stop["status"], "new");

    set_price(&app, "AAPL", "185").await;
    set_price(&app, "TSLA", "255").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    for order in [&sell_stop, &buy_stop] {
        let now = get_json(&app, &token, &format!("/v2/orders/{}", id(order))).await;
        assert_eq!(now["status"], "new", "short of its stop: {now}");
    }

    set_price(&app, "AAPL", "179").await;
    set_price(&app, "TSLA", "261.25").await;
    wait_for_status(&app, &token, id(&sell_stop), "filled").await;
    wait_for_status(&app, &token, id(&buy_stop), "filled").await;
    let sold = get_json(&app, &token, &format!("/v2/orders/{}", id(&sell_stop))).await;
    assert_eq!(
        sold["filled_avg_price"], "179",
        "a stop fills at the market"
    );
    let bought = get_json(&app, &token, &format!("/v2/orders/{}", id(&buy_stop))).await;
    assert_eq!(bought["filled_avg_price"], "261.25");
    let account = get_json(&app, &token, "/v2/account").await;
    let cash: Decimal = account["cash"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        cash,
        Decimal::from(100_000 - 1_900 + 1_790) - "261.25".parse::<Decimal>().unwrap()
    );
}

#[tokio::test]
async fn a_trailing_stop_follows_the_high_and_fills_on_the_pullback() {
    let (app, token) = trading_app().await;
    place(
        &app,
        &token,
        json!({"symbol": "AAPL", "qty": 4, "side": "buy", "type": "market", "time_in_force": "day"}),
    )
    .await;
    let trailing = place(
        &app,
        &token,
        json!({"symbol": "AAPL", "qty": 4, "side": "sell", "type": "trailing_stop",
               "trail_percent": "10", "time_in_force": "gtc"}),
    )
    .await;
    assert_eq!(trailing["status"], "new");
    assert_eq!(trailing["trail_percent"], "10");

    // Up to 200: the high water mark follows, so the stop is now 180.
    set_price(&app, "AAPL", "200").await;
    wait_until(&app, &token, id(&trailing), |o| o["hwm"] == "200").await;
    // 185 is above 180 (though below the 171 the first mark gave): it rests.
    set_price(&app, "AAPL", "185").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let resting = get_json(&app, &token, &format!("/v2/orders/{}", id(&trailing))).await;
    assert_eq!(resting["status"], "new", "{resting}");
    assert_eq!(resting["hwm"], "200", "the mark never falls");

    set_price(&app, "AAPL", "179.5").await;
    wait_for_status(&app, &token, id(&trailing), "filled").await;
    let filled = get_json(&app, &token, &format!("/v2/orders/{}", id(&trailing))).await;
    assert_eq!(filled["filled_avg_price"], "179.5");
    let positions = get_json(&app, &token, "/v2/positions").await;
    assert!(positions.as_array().unwrap().is_empty(), "{positions}");
}

#[tokio::test]
async fn ioc_and_fok_orders_fill_at_once_or_are_canceled() {
    let (app, token) = trading_app().await;
    for tif in ["ioc", "fok"] {
        let crossing = place(
            &app,
            &token,
            json!({"symbol": "KO", "qty": 2, "side": "buy", "type": "limit",
                   "limit_price": 1000, "time_in_force": tif}),
        )
        .await;
        wait_for_status(&app, &token, id(&crossing), "filled").await;
        let short = place(
            &app,
            &token,
            json!({"symbol": "KO", "qty": 2, "side": "buy", "type": "limit",
                   "limit_price": 1, "time_in_force": tif}),
        )
        .await;
        assert_eq!(short["time_in_force"], tif);
        wait_for_status(&app, &token, id(&short), "canceled").await;
    }
    let open = get_json(&app, &token, "/v2/orders").await;
    assert!(open.as_array().unwrap().is_empty(), "nothing left resting");
    let account = get_json(&app, &token, "/v2/account").await;
    assert_eq!(
        account["buying_power"], account["cash"],
        "nothing held back"
    );
}

#[tokio::test]
async fn every_rule_of_an_order_type_is_a_422_that_stores_nothing() {
    let (app, token) = trading_app().await;
    let long_id = "x".repeat(129);
    for (bad, says) in [
        (
            json!({"symbol": "KO", "qty": 1, "side": "sell", "type": "stop", "time_in_force": "day"}),
            "stop_price is required",
        ),
        (
            json!({"symbol": "KO", "qty": 1, "side": "sell", "type": "stop", "stop_price": 50,
                   "limit_price": 49, "time_in_force": "day"}),
            "limit_price is not allowed",
        ),
        (
            json!({"symbol": "KO", "qty": 1, "side": "sell", "type": "stop_limit",
                   "stop_price": 50, "time_in_force": "day"}),
            "limit_price is required",
        ),
        (
            json!({"symbol": "KO", "qty": 1, "side": "sell", "type": "trailing_stop",
                   "time_in_force": "day"}),
            "exactly one of trail_price and trail_percent",
        ),
        (
            json!({"symbol": "KO", "qty": 1, "side": "sell", "type": "trailing_stop",
                   "trail_price": 1, "trail_percent": 1, "time_in_force": "day"}),
            "exactly one of trail_price and trail_percent",
        ),
        (
            json!({"symbol": "KO", "qty": 1, "side": "sell", "type": "trailing_stop",
                   "trail_percent": 100, "time_in_force": "day"}),
            "trail_percent must be < 100",
        ),
        (
            json!({"symbol": "KO", "qty": 1, "side": "sell", "type": "limit", "limit_price": 70,
                   "trail_price": 1, "time_in_force": "day"}),
            "only for trailing_stop orders",
        ),
        (
            json!({"symbol": "KO", "notional": 50, "side": "buy", "type": "limit",
                   "limit_price": 60, "time_in_force": "day"}),
            "notional orders are only supported for market orders",
        ),
        (
            json!({"symbol": "KO", "qty": 1, "side": "buy", "type": "market",
                   "extended_hours": true, "time_in_force": "day"}),
            "extended hours orders must be DAY limit orders",
        ),
        (
            json!({"symbol": "KO", "qty": 1, "side": "buy", "type": "limit", "limit_price": 60,
                   "extended_hours": true, "time_in_force": "gtc"}),
            "extended hours orders must be DAY limit orders",
        ),
        (
            json!({"symbol": "KO", "qty": 1, "side": "buy", "type": "stop", "stop_price": 60,
                   "time_in_force": "opg"}),
            "market or limit orders",
        ),
        (
            json!({"symbol": "KO", "qty": 1, "side": "buy", "type": "market",
                   "time_in_force": "someday"}),
            "time_in_force",
        ),
        (
            json!({"symbol": "KO", "qty": 1, "side": "buy", "type": "market",
                   "extended_hours": "maybe", "time_in_force": "day"}),
            "extended_hours",
        ),
        (
            json!({"symbol": "KO", "qty": 1, "side": "buy", "type": "market",
                   "client_order_id": long_id, "time_in_force": "day"}),
            "client_order_id must be 1 to 128 characters",
        ),
    ] {
        let body = assert_alpaca_error(
            post_order(&app, &token, bad.clone()).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        let message = body["message"].as_str().unwrap();
        assert!(message.contains(says), "{bad} gave {message:?}");
    }
    let all = get_json(&app, &token, "/v2/orders?status=all").await;
    assert!(all.as_array().unwrap().is_empty(), "mistakes store nothing");
}

/// Every route that changes something, with the scope it needs (SPEC §2).
const CHANGES: [(&str, &str, &str); 12] = [
    ("POST", "/v2/orders", "trading"),
    ("PATCH", "/v2/orders/{order}", "trading"),
    ("DELETE", "/v2/orders/{order}", "trading"),
    ("DELETE", "/v2/orders", "trading"),
    ("DELETE", "/v2/positions", "trading"),
    ("DELETE", "/v2/positions/AAPL", "trading"),
    ("PATCH", "/v2/account/configurations", "account:write"),
    ("POST", "/v2/watchlists", "account:write"),
    ("PUT", "/v2/watchlists/{watchlist}", "account:write"),
    ("POST", "/v2/watchlists/{watchlist}", "account:write"),
    ("DELETE", "/v2/watchlists/{watchlist}", "account:write"),
    ("DELETE", "/v2/watchlists/{watchlist}/AAPL", "account:write"),
];

#[tokio::test]
async fn every_change_needs_its_scope_on_both_bases_and_reads_need_none() {
    let (app, _) = trading_app().await;
    for (env, account) in [(Env::Paper, app.fx.paper), (Env::Live, app.fx.live)] {
        let writer = app
            .token_for(&app.fx.client, account, "account:write")
            .await;
        let watchlist = app
            .http
            .post(app.api(env, "/v2/watchlists"))
            .bearer_auth(&writer)
            .json(&json!({"name": "mine", "symbols": ["AAPL"]}))
            .send()
            .await
            .unwrap();
        assert_eq!(watchlist.status(), StatusCode::OK);
        let watchlist: Value = watchlist.json().await.unwrap();
        let trader = app.token_for(&app.fx.client, account, "trading").await;
        let reader = app.token_for(&app.fx.client, account, "data").await;

        for (method, path, scope) in CHANGES {
            let path = path
                .replace("{order}", &uuid::Uuid::new_v4().to_string())
                .replace("{watchlist}", watchlist["id"].as_str().unwrap());
            // The token with the other scope, and one with only `data`, lack this one.
            let other = if scope == "trading" { &writer } else { &trader };
            for token in [other, &reader] {
                let response = app
                    .http
                    .request(
                        Method::from_bytes(method.as_bytes()).unwrap(),
                        app.api(env, &path),
                    )
                    .bearer_auth(token)
                    .json(&json!({}))
                    .send()
                    .await
                    .unwrap();
                let challenge = header(&response, "www-authenticate");
                assert!(
                    challenge.starts_with("Bearer")
                        && challenge.contains("error=\"insufficient_scope\"")
                        && challenge.contains(&format!("scope=\"{scope}\"")),
                    "{method} {path}: {challenge}"
                );
                let body = assert_alpaca_error(response, StatusCode::FORBIDDEN).await;
                assert!(
                    body["message"].as_str().unwrap().contains(scope),
                    "{method} {path}: {body}"
                );
            }
        }
        for read in [
            "/v2/account",
            "/v2/orders",
            "/v2/positions",
            "/v2/account/configurations",
            "/v2/watchlists",
            "/v2/account/activities",
            "/v2/account/portfolio/history",
        ] {
            let response = app
                .http
                .get(app.api(env, read))
                .bearer_auth(&reader)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::OK, "{env:?} {read}");
        }
    }
    // Nothing was changed by the refused calls: the watchlists are as made.
    let token = app
        .token_for(&app.fx.client, app.fx.paper, "account:write")
        .await;
    let lists = get_json(&app, &token, "/v2/watchlists").await;
    assert_eq!(lists.as_array().unwrap().len(), 1, "{lists}");
}
