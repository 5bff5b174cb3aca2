//! The rest of the Trading API: replacing orders, closing positions, configurations,
//! watchlists, activities and portfolio history; each with its scope rule and its 4xx
//! answers.

use paddock_core::env::Env;
use reqwest::{Method, StatusCode};
use rust_decimal::Decimal;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_alpaca_error};
use crate::trading::{dec, get_json, post_order, trading_app, wait_for_status};

async fn send(
    app: &TestApp,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> reqwest::Response {
    let mut request = app
        .http
        .request(method, app.api(Env::Paper, path))
        .bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.unwrap()
}

async fn ok_json(response: reqwest::Response) -> Value {
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

async fn buy(app: &TestApp, token: &str, symbol: &str, qty: u32) -> Value {
    let body = json!({"symbol": symbol, "qty": qty, "side": "buy", "type": "market",
                      "time_in_force": "day"});
    ok_json(post_order(app, token, body).await).await
}

#[tokio::test]
async fn a_replaced_order_ends_replaced_and_its_successor_rests_or_fills() {
    let (app, token) = trading_app().await;
    let body = json!({"symbol": "AAPL", "qty": 2, "side": "buy", "type": "limit",
                      "limit_price": "150", "time_in_force": "day"});
    let old = ok_json(post_order(&app, &token, body).await).await;
    let old_id = old["id"].as_str().unwrap();
    let path = format!("/v2/orders/{old_id}");

    let patch = json!({"qty": 3, "limit_price": 160, "client_order_id": "moved"});
    let new = ok_json(send(&app, &token, Method::PATCH, &path, Some(patch)).await).await;
    assert_eq!(new["status"], "new");
    assert_eq!(new["qty"], "3");
    assert_eq!(new["limit_price"], "160");
    assert_eq!(new["replaces"], old_id);
    assert_eq!(new["client_order_id"], "moved");
    let old = get_json(&app, &token, &path).await;
    assert_eq!(old["status"], "replaced");
    assert_eq!(old["replaced_by"], new["id"]);
    assert!(old["replaced_at"].is_string());
    let account = get_json(&app, &token, "/v2/account").await;
    assert_eq!(
        dec(&account["buying_power"]),
        Decimal::from(100_000 - 480),
        "only the new order holds funds back"
    );

    // A replaced order is no longer open: replacing or canceling it again is 422.
    let again = send(&app, &token, Method::PATCH, &path, Some(json!({"qty": 1}))).await;
    assert_alpaca_error(again, StatusCode::UNPROCESSABLE_ENTITY).await;

    // Raising the limit above the price fills the replacement at once.
    let new_path = format!("/v2/orders/{}", new["id"].as_str().unwrap());
    let raised = json!({"limit_price": "200"});
    let filled = ok_json(send(&app, &token, Method::PATCH, &new_path, Some(raised)).await).await;
    assert_eq!(filled["status"], "filled");
    assert_eq!(filled["filled_avg_price"], "190");
}

#[tokio::test]
async fn bad_replacements_are_refused_and_change_nothing() {
    let (app, token) = trading_app().await;
    let body = json!({"symbol": "AAPL", "qty": 1, "side": "buy", "type": "limit",
                      "limit_price": "150", "time_in_force": "gtc"});
    let order = ok_json(post_order(&app, &token, body).await).await;
    let path = format!("/v2/orders/{}", order["id"].as_str().unwrap());
    for (patch, status) in [
        (json!({}), StatusCode::UNPROCESSABLE_ENTITY),
        (json!({"stop_price": 100}), StatusCode::UNPROCESSABLE_ENTITY),
        (json!({"trail": 1}), StatusCode::UNPROCESSABLE_ENTITY),
        (json!({"qty": -1}), StatusCode::UNPROCESSABLE_ENTITY),
        (json!({"qty": "lots"}), StatusCode::UNPROCESSABLE_ENTITY),
        (json!({"side": "sell"}), StatusCode::UNPROCESSABLE_ENTITY),
        (
            json!({"time_in_force": "forever"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (json!({"qty": 100_000}), StatusCode::FORBIDDEN),
    ] {
        let response = send(&app, &token, Method::PATCH, &path, Some(patch.clone())).await;
        assert_alpaca_error(response, status).await;
    }
    let unchanged = get_json(&app, &token, &path).await;
    assert_eq!(unchanged["status"], "new");
    assert_eq!(unchanged["qty"], "1");

    let missing = send(
        &app,
        &token,
        Method::PATCH,
        "/v2/orders/7c2a6d0e-8f55-4e3a-9d1b-2f4c5e6a7b8c",
        Some(json!({"qty": 2})),
    )
    .await;
    assert_alpaca_error(missing, StatusCode::NOT_FOUND).await;
    let no_scope = app.token_for(&app.fx.client, app.fx.paper, "").await;
    let refused = send(
        &app,
        &no_scope,
        Method::PATCH,
        &path,
        Some(json!({"qty": 2})),
    )
    .await;
    assert_alpaca_error(refused, StatusCode::FORBIDDEN).await;
}

#[tokio::test]
async fn positions_close_in_part_or_whole() {
    let (app, token) = trading_app().await;
    buy(&app, &token, "AAPL", 10).await;
    buy(&app, &token, "SPY", 1).await;

    let sold = ok_json(
        send(
            &app,
            &token,
            Method::DELETE,
            "/v2/positions/AAPL?qty=2",
            None,
        )
        .await,
    )
    .await;
    assert_eq!(sold["side"], "sell");
    assert_eq!(sold["qty"], "2");
    assert_eq!(sold["status"], "filled");
    let half = send(
        &app,
        &token,
        Method::DELETE,
        "/v2/positions/AAPL?percentage=50",
        None,
    )
    .await;
    assert_eq!(ok_json(half).await["qty"], "4");
    let aapl = get_json(&app, &token, "/v2/positions/AAPL").await;
    assert_eq!(aapl["qty"], "4");

    for (query, status) in [
        ("qty=0", StatusCode::UNPROCESSABLE_ENTITY),
        ("percentage=101", StatusCode::UNPROCESSABLE_ENTITY),
        ("qty=1&percentage=5", StatusCode::UNPROCESSABLE_ENTITY),
        ("qty=abc", StatusCode::UNPROCESSABLE_ENTITY),
        ("qty=5", StatusCode::FORBIDDEN),
    ] {
        let path = format!("/v2/positions/AAPL?{query}");
        let response = send(&app, &token, Method::DELETE, &path, None).await;
        assert_alpaca_error(response, status).await;
    }
    let none = send(&app, &token, Method::DELETE, "/v2/positions/MSFT", None).await;
    assert_alpaca_error(none, StatusCode::NOT_FOUND).await;

    let bad = send(
        &app,
        &token,
        Method::DELETE,
        "/v2/positions?cancel_orders=maybe",
        None,
    )
    .await;
    assert_alpaca_error(bad, StatusCode::UNPROCESSABLE_ENTITY).await;
    let all = send(
        &app,
        &token,
        Method::DELETE,
        "/v2/positions?cancel_orders=true",
        None,
    )
    .await;
    assert_eq!(all.status(), StatusCode::MULTI_STATUS);
    let statuses: Vec<Value> = all.json().await.unwrap();
    let symbols: Vec<&str> = statuses
        .iter()
        .map(|s| s["symbol"].as_str().unwrap())
        .collect();
    assert_eq!(symbols, ["AAPL", "SPY"]);
    assert!(
        statuses
            .iter()
            .all(|s| s["status"] == 200 && s["body"]["side"] == "sell")
    );
    let positions = get_json(&app, &token, "/v2/positions").await;
    assert_eq!(positions, json!([]));
    let account = get_json(&app, &token, "/v2/account").await;
    assert_eq!(dec(&account["cash"]), Decimal::from(100_000));
}

#[tokio::test]
async fn shares_held_for_an_open_sell_are_not_available() {
    let (app, token) = trading_app().await;
    buy(&app, &token, "AAPL", 5).await;
    let sell = json!({"symbol": "AAPL", "qty": 3, "side": "sell", "type": "limit",
                      "limit_price": "250", "time_in_force": "gtc"});
    ok_json(post_order(&app, &token, sell).await).await;
    let aapl = get_json(&app, &token, "/v2/positions/AAPL").await;
    assert_eq!(aapl["qty"], "5");
    assert_eq!(aapl["qty_available"], "2");
}

#[tokio::test]
async fn configurations_change_what_they_name_and_govern_orders() {
    let (app, token) = trading_app().await;
    let config = get_json(&app, &token, "/v2/account/configurations").await;
    assert_eq!(config["suspend_trade"], false);
    assert_eq!(config["fractional_trading"], true);
    assert_eq!(config["max_margin_multiplier"], "1");
    assert_eq!(config["dtbp_check"], "entry");

    let writer = app
        .token_for(&app.fx.client, app.fx.paper, "account:write trading")
        .await;
    let refused = send(
        &app,
        &token,
        Method::PATCH,
        "/v2/account/configurations",
        Some(json!({"suspend_trade": true})),
    )
    .await;
    assert_alpaca_error(refused, StatusCode::FORBIDDEN).await;

    // alpaca-py sends the whole object back, nulls meaning "unchanged".
    let mut whole = config.clone();
    whole["suspend_trade"] = json!(true);
    whole["pdt_check"] = json!(null);
    whole["trade_confirm_email"] = json!("none");
    let changed = ok_json(
        send(
            &app,
            &writer,
            Method::PATCH,
            "/v2/account/configurations",
            Some(whole),
        )
        .await,
    )
    .await;
    assert_eq!(changed["suspend_trade"], true);
    assert_eq!(changed["trade_confirm_email"], "none");
    assert_eq!(changed["pdt_check"], "entry");
    let account = get_json(&app, &writer, "/v2/account").await;
    assert_eq!(account["trade_suspended_by_user"], true);
    let order = json!({"symbol": "AAPL", "qty": 1, "side": "buy", "type": "market",
                       "time_in_force": "day"});
    assert_alpaca_error(
        post_order(&app, &writer, order.clone()).await,
        StatusCode::FORBIDDEN,
    )
    .await;

    let patch = json!({"suspend_trade": false, "fractional_trading": false});
    ok_json(
        send(
            &app,
            &writer,
            Method::PATCH,
            "/v2/account/configurations",
            Some(patch),
        )
        .await,
    )
    .await;
    ok_json(post_order(&app, &writer, order).await).await;
    let fractional = json!({"symbol": "AAPL", "notional": 10, "side": "buy", "type": "market",
                            "time_in_force": "day"});
    assert_alpaca_error(
        post_order(&app, &writer, fractional).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;

    for bad in [
        json!({"dtbp_check": "sometimes"}),
        json!({"suspend_trade": "yes"}),
        json!({"max_margin_multiplier": "4"}),
        json!({"no_shorting": false}),
        json!({"max_options_trading_level": 9}),
        json!({"favourite_colour": "green"}),
    ] {
        let response = send(
            &app,
            &writer,
            Method::PATCH,
            "/v2/account/configurations",
            Some(bad.clone()),
        )
        .await;
        assert_alpaca_error(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let kept = get_json(&app, &writer, "/v2/account/configurations").await;
    assert_eq!(kept["fractional_trading"], false);
    assert_eq!(kept["dtbp_check"], "entry");
}

#[tokio::test]
async fn watchlists_are_the_accounts_own() {
    let (app, reader) = trading_app().await;
    let token = app
        .token_for(&app.fx.client, app.fx.paper, "account:write")
        .await;
    let create = json!({"name": "Tech", "symbols": ["AAPL", "msft"]});
    let refused = send(
        &app,
        &reader,
        Method::POST,
        "/v2/watchlists",
        Some(create.clone()),
    )
    .await;
    assert_alpaca_error(refused, StatusCode::FORBIDDEN).await;
    let list = ok_json(
        send(
            &app,
            &token,
            Method::POST,
            "/v2/watchlists",
            Some(create.clone()),
        )
        .await,
    )
    .await;
    assert_eq!(list["name"], "Tech");
    let symbols = |w: &Value| -> Vec<String> {
        w["assets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["symbol"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(symbols(&list), ["AAPL", "MSFT"]);
    assert_eq!(list["assets"][0]["class"], "us_equity");
    let id = list["id"].as_str().unwrap().to_owned();
    let path = format!("/v2/watchlists/{id}");

    let taken = send(&app, &token, Method::POST, "/v2/watchlists", Some(create)).await;
    assert_alpaca_error(taken, StatusCode::UNPROCESSABLE_ENTITY).await;

    let added = ok_json(
        send(
            &app,
            &token,
            Method::POST,
            &path,
            Some(json!({"symbol": "SPY"})),
        )
        .await,
    )
    .await;
    assert_eq!(symbols(&added), ["AAPL", "MSFT", "SPY"]);
    let twice = send(
        &app,
        &token,
        Method::POST,
        &path,
        Some(json!({"symbol": "SPY"})),
    )
    .await;
    assert_alpaca_error(twice, StatusCode::UNPROCESSABLE_ENTITY).await;
    let removed =
        ok_json(send(&app, &token, Method::DELETE, &format!("{path}/MSFT"), None).await).await;
    assert_eq!(symbols(&removed), ["AAPL", "SPY"]);
    let gone = send(&app, &token, Method::DELETE, &format!("{path}/MSFT"), None).await;
    assert_alpaca_error(gone, StatusCode::NOT_FOUND).await;

    let renamed = ok_json(
        send(
            &app,
            &token,
            Method::PUT,
            &path,
            Some(json!({"name": "Core", "symbols": ["QQQ"]})),
        )
        .await,
    )
    .await;
    assert_eq!(renamed["name"], "Core");
    assert_eq!(symbols(&renamed), ["QQQ"]);
    let listed = get_json(&app, &reader, "/v2/watchlists").await;
    assert_eq!(listed.as_array().unwrap().len(), 1);

    for bad in [
        json!({"name": ""}),
        json!({"name": "x", "symbols": ["NOPE"]}),
        json!({"name": "x", "symbols": ["AAPL", "AAPL"]}),
        json!({"symbols": "AAPL"}),
        json!({}),
    ] {
        let response = send(&app, &token, Method::PUT, &path, Some(bad.clone())).await;
        assert_alpaca_error(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    }

    // Another account sees none of it.
    let other = app
        .token_for(&app.fx.client, app.fx.paper2, "account:write")
        .await;
    assert_eq!(get_json(&app, &other, "/v2/watchlists").await, json!([]));
    for method in [Method::GET, Method::DELETE] {
        let response = send(&app, &other, method, &path, None).await;
        assert_alpaca_error(response, StatusCode::NOT_FOUND).await;
    }

    let deleted = send(&app, &token, Method::DELETE, &path, None).await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let missing = send(&app, &token, Method::GET, &path, None).await;
    assert_alpaca_error(missing, StatusCode::NOT_FOUND).await;
}

#[tokio::test]
async fn fills_are_activities_newest_first_and_page_by_token() {
    let (app, token) = trading_app().await;
    let first = buy(&app, &token, "AAPL", 1).await;
    buy(&app, &token, "SPY", 1).await;
    let third = buy(&app, &token, "MSFT", 1).await;
    let limit = json!({"symbol": "AAPL", "qty": 1, "side": "buy", "type": "limit",
                       "limit_price": "1", "time_in_force": "day"});
    ok_json(post_order(&app, &token, limit).await).await;

    let all = get_json(&app, &token, "/v2/account/activities").await;
    let all = all.as_array().unwrap();
    assert_eq!(all.len(), 3, "a resting order has no fill");
    assert_eq!(all[0]["order_id"], third["id"]);
    assert_eq!(all[2]["order_id"], first["id"]);
    assert_eq!(all[0]["activity_type"], "FILL");
    assert_eq!(all[0]["type"], "fill");
    assert_eq!(all[0]["side"], "buy");
    assert_eq!(all[0]["qty"], "1");
    assert_eq!(all[0]["cum_qty"], "1");
    assert_eq!(all[0]["leaves_qty"], "0");

    let page = get_json(
        &app,
        &token,
        &format!(
            "/v2/account/activities?page_size=1&page_token={}",
            all[0]["id"].as_str().unwrap()
        ),
    )
    .await;
    assert_eq!(page.as_array().unwrap().len(), 1);
    assert_eq!(page[0]["id"], all[1]["id"]);
    let ascending = get_json(&app, &token, "/v2/account/activities/FILL?direction=asc").await;
    assert_eq!(ascending[0]["id"], all[2]["id"]);
    let dividends = get_json(&app, &token, "/v2/account/activities?activity_types=DIV").await;
    assert_eq!(dividends, json!([]));

    for query in [
        "/v2/account/activities/NOPE",
        "/v2/account/activities?activity_types=FILL,NOPE",
        "/v2/account/activities?direction=sideways",
        "/v2/account/activities?page_size=0",
        "/v2/account/activities?page_token=garbage",
        "/v2/account/activities?date=yesterday",
    ] {
        let response = send(&app, &token, Method::GET, query, None).await;
        assert_alpaca_error(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
}

#[tokio::test]
async fn portfolio_history_replays_the_accounts_fills() {
    let (app, token) = trading_app().await;
    buy(&app, &token, "AAPL", 10).await;
    paddock::admin::set_price(
        app.store.as_ref(),
        "AAPL",
        "200".parse().unwrap(),
        app.clock.now(),
    )
    .await
    .unwrap();
    // The server hears of the new price through the store's change feed.
    let started = std::time::Instant::now();
    while get_json(&app, &token, "/v2/positions/AAPL").await["current_price"] != "200" {
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let history = get_json(
        &app,
        &token,
        "/v2/account/portfolio/history?period=1D&timeframe=1H&intraday_reporting=continuous",
    )
    .await;
    let equity = history["equity"].as_array().unwrap();
    let timestamps = history["timestamp"].as_array().unwrap();
    assert_eq!(equity.len(), timestamps.len());
    assert!(!equity.is_empty());
    assert!(timestamps.iter().all(Value::is_i64));
    assert_eq!(history["timeframe"], "1H");
    // The last point values the ten shares at today's price.
    assert_eq!(
        equity.last().unwrap().as_f64(),
        Some(100_100.0),
        "{history}"
    );
    assert!(history["base_value"].is_number());
    assert_eq!(
        history["profit_loss"].as_array().unwrap().len(),
        equity.len()
    );
    assert_eq!(history["cashflow"], json!({}));

    let daily = get_json(&app, &token, "/v2/account/portfolio/history").await;
    assert_eq!(daily["timeframe"], "1D");

    for query in [
        "period=1Y",
        "timeframe=2H",
        "intraday_reporting=sometimes",
        "pnl_reset=weekly",
        "extended_hours=maybe",
        "start=yesterday",
        "period=30D&timeframe=1Min&intraday_reporting=continuous",
        "start=2026-01-02T00:00:00Z&end=2026-01-01T00:00:00Z",
    ] {
        let path = format!("/v2/account/portfolio/history?{query}");
        let response = send(&app, &token, Method::GET, &path, None).await;
        assert_alpaca_error(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
}

#[tokio::test]
async fn a_replacement_of_a_resting_order_fills_when_the_price_moves() {
    let (app, token) = trading_app().await;
    let body = json!({"symbol": "AAPL", "qty": 1, "side": "buy", "type": "limit",
                      "limit_price": "100", "time_in_force": "gtc"});
    let old = ok_json(post_order(&app, &token, body).await).await;
    let path = format!("/v2/orders/{}", old["id"].as_str().unwrap());
    let new = ok_json(
        send(
            &app,
            &token,
            Method::PATCH,
            &path,
            Some(json!({"limit_price": "180"})),
        )
        .await,
    )
    .await;
    paddock::admin::set_price(
        app.store.as_ref(),
        "AAPL",
        "179".parse().unwrap(),
        app.clock.now(),
    )
    .await
    .unwrap();
    wait_for_status(&app, &token, new["id"].as_str().unwrap(), "filled").await;
    assert_eq!(get_json(&app, &token, &path).await["status"], "replaced");
}

#[tokio::test]
async fn a_bracket_guards_its_fill_and_one_leg_cancels_the_other() {
    let (app, token) = trading_app().await;
    let body = json!({"symbol": "AAPL", "qty": 10, "side": "buy", "type": "market",
                      "time_in_force": "gtc", "order_class": "bracket",
                      "take_profit": {"limit_price": 210},
                      "stop_loss": {"stop_price": 170}});
    let entry = ok_json(post_order(&app, &token, body).await).await;
    assert_eq!(entry["order_class"], "bracket");
    assert_eq!(entry["status"], "filled");
    let legs = entry["legs"].as_array().unwrap();
    assert_eq!(legs.len(), 2);
    assert_eq!(
        (&legs[0]["type"], &legs[0]["limit_price"]),
        (&json!("limit"), &json!("210"))
    );
    assert_eq!(
        (&legs[1]["type"], &legs[1]["stop_price"]),
        (&json!("stop"), &json!("170"))
    );
    assert!(
        legs.iter()
            .all(|l| l["status"] == "new" && l["side"] == "sell")
    );

    // The two legs sell the same ten shares: only one holds them back.
    let aapl = get_json(&app, &token, "/v2/positions/AAPL").await;
    assert_eq!(aapl["qty_available"], "0");

    // Nested, the legs appear under their entry only.
    let nested = get_json(&app, &token, "/v2/orders?status=all&nested=true").await;
    assert_eq!(nested.as_array().unwrap().len(), 1);
    assert_eq!(nested[0]["legs"].as_array().unwrap().len(), 2);
    let flat = get_json(&app, &token, "/v2/orders?status=all").await;
    assert_eq!(flat.as_array().unwrap().len(), 3);

    paddock::admin::set_price(
        app.store.as_ref(),
        "AAPL",
        "211".parse().unwrap(),
        app.clock.now(),
    )
    .await
    .unwrap();
    let take_profit = legs[0]["id"].as_str().unwrap();
    let stop_loss = legs[1]["id"].as_str().unwrap();
    wait_for_status(&app, &token, take_profit, "filled").await;
    wait_for_status(&app, &token, stop_loss, "canceled").await;
    let account = get_json(&app, &token, "/v2/account").await;
    assert_eq!(
        dec(&account["cash"]),
        Decimal::from(100_000 - 1_900 + 2_110)
    );
    assert_eq!(get_json(&app, &token, "/v2/positions").await, json!([]));
}

#[tokio::test]
async fn an_unfilled_entry_holds_its_legs_and_takes_them_when_canceled() {
    let (app, token) = trading_app().await;
    let body = json!({"symbol": "AAPL", "qty": 1, "side": "buy", "type": "limit",
                      "limit_price": 150, "time_in_force": "day", "order_class": "bracket",
                      "take_profit": {"limit_price": 160},
                      "stop_loss": {"stop_price": 140, "limit_price": 139}});
    let entry = ok_json(post_order(&app, &token, body).await).await;
    assert_eq!(entry["status"], "new");
    let legs = entry["legs"].as_array().unwrap();
    assert!(legs.iter().all(|l| l["status"] == "held"), "{legs:?}");
    assert_eq!(legs[1]["type"], "stop_limit");
    let account = get_json(&app, &token, "/v2/account").await;
    assert_eq!(dec(&account["buying_power"]), Decimal::from(100_000 - 150));

    let path = format!("/v2/orders/{}", entry["id"].as_str().unwrap());
    let shown = get_json(&app, &token, &path).await;
    assert_eq!(shown["legs"].as_array().unwrap().len(), 2);
    let canceled = send(&app, &token, Method::DELETE, &path, None).await;
    assert_eq!(canceled.status(), StatusCode::NO_CONTENT);
    for leg in legs {
        let leg = get_json(
            &app,
            &token,
            &format!("/v2/orders/{}", leg["id"].as_str().unwrap()),
        )
        .await;
        assert_eq!(leg["status"], "canceled");
    }
    assert_eq!(get_json(&app, &token, "/v2/orders").await, json!([]));
}

#[tokio::test]
async fn oco_and_oto_orders_work_as_alpaca_describes() {
    let (app, token) = trading_app().await;
    buy(&app, &token, "MSFT", 4).await;
    let price = dec(&get_json(&app, &token, "/v2/positions/MSFT").await["current_price"]);
    // OCO: alpaca-py may give the limit only in take_profit.
    let oco = json!({"symbol": "MSFT", "qty": 4, "side": "sell", "type": "limit",
                     "time_in_force": "gtc", "order_class": "oco",
                     "take_profit": {"limit_price": (price + Decimal::from(20)).to_string()},
                     "stop_loss": {"stop_price": (price - Decimal::from(20)).to_string()}});
    let first = ok_json(post_order(&app, &token, oco).await).await;
    assert_eq!(first["order_class"], "oco");
    assert_eq!(first["type"], "limit");
    let legs = first["legs"].as_array().unwrap();
    assert_eq!(legs.len(), 1);
    assert_eq!(
        (&legs[0]["type"], &legs[0]["status"]),
        (&json!("stop"), &json!("new"))
    );
    let low = (price - Decimal::from(25)).to_string();
    paddock::admin::set_price(
        app.store.as_ref(),
        "MSFT",
        low.parse().unwrap(),
        app.clock.now(),
    )
    .await
    .unwrap();
    wait_for_status(&app, &token, legs[0]["id"].as_str().unwrap(), "filled").await;
    wait_for_status(&app, &token, first["id"].as_str().unwrap(), "canceled").await;

    let oto = json!({"symbol": "SPY", "qty": 1, "side": "buy", "type": "market",
                     "time_in_force": "day", "order_class": "oto",
                     "stop_loss": {"stop_price": 1}});
    let entry = ok_json(post_order(&app, &token, oto).await).await;
    assert_eq!(entry["status"], "filled");
    assert_eq!(entry["legs"][0]["status"], "new");
    assert_eq!(entry["legs"][0]["stop_price"], "1");
}

#[tokio::test]
async fn malformed_groups_are_422_and_change_nothing() {
    let (app, token) = trading_app().await;
    let base = json!({"symbol": "AAPL", "qty": 1, "side": "buy", "type": "market",
                      "time_in_force": "day"});
    let with = |extra: Value| {
        let mut body = base.clone();
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };
    for body in [
        with(json!({"order_class": "bracket", "take_profit": {"limit_price": 210}})),
        with(
            json!({"order_class": "bracket", "take_profit": {"limit_price": 180},
                    "stop_loss": {"stop_price": 170}}),
        ),
        with(
            json!({"order_class": "bracket", "take_profit": {"limit_price": 210},
                    "stop_loss": {"stop_price": 195}}),
        ),
        with(json!({"order_class": "bracket", "take_profit": 210, "stop_loss": {"stop_price": 1}})),
        with(json!({"order_class": "bracket", "take_profit": {},
                    "stop_loss": {"stop_price": 170}})),
        with(
            json!({"order_class": "oto", "take_profit": {"limit_price": 210},
                    "stop_loss": {"stop_price": 170}}),
        ),
        with(
            json!({"order_class": "oco", "take_profit": {"limit_price": 210},
                    "stop_loss": {"stop_price": 170}}),
        ),
        with(json!({"take_profit": {"limit_price": 210}})),
        with(json!({"order_class": "bracket", "time_in_force": "ioc",
                    "take_profit": {"limit_price": 210}, "stop_loss": {"stop_price": 170}})),
        with(json!({"order_class": "triangle"})),
    ] {
        let response = post_order(&app, &token, body.clone()).await;
        let error = assert_alpaca_error(response, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert!(!error["message"].as_str().unwrap().is_empty(), "{body}");
    }
    assert_eq!(
        get_json(&app, &token, "/v2/orders?status=all").await,
        json!([])
    );
}

#[tokio::test]
async fn the_cli_shows_an_accounts_positions_and_open_orders() {
    let (app, token) = trading_app().await;
    buy(&app, &token, "AAPL", 3).await;
    let limit = json!({"symbol": "MSFT", "qty": 2, "side": "buy", "type": "limit",
                       "limit_price": "300.5", "time_in_force": "gtc",
                       "client_order_id": "cli-visible"});
    ok_json(post_order(&app, &token, limit).await).await;

    let paper = app.fx.paper.to_string();
    let show = |json: bool| {
        let mut args = vec!["--database", app.db.url.as_str()];
        if json {
            args.push("--json");
        }
        args.extend(["account", "show", paper.as_str()]);
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_paddock"))
            .args(&args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let shown: Value = serde_json::from_str(&show(true)).unwrap();
    assert_eq!(shown["id"], paper.as_str());
    assert_eq!(shown["cash"], "99430");
    assert_eq!(shown["equity"], "100000");
    assert_eq!(
        shown["positions"],
        json!([{"symbol": "AAPL", "qty": "3",
        "avg_entry_price": "190", "price": "190", "market_value": "570"}])
    );
    let orders = shown["open_orders"].as_array().unwrap();
    assert_eq!(orders.len(), 1);
    assert_eq!(orders[0]["client_order_id"], "cli-visible");
    assert_eq!(orders[0]["limit_price"], "300.5");
    assert_eq!(orders[0]["status"], "new");

    let text = show(false);
    assert!(text.contains("3 AAPL at 190"), "{text}");
    assert!(
        text.contains("buy 2 MSFT limit at 300.5 gtc, new (cli-visible)"),
        "{text}"
    );
}

/// Moves the app's clock to `at` (tokens live until revoked, so they survive it).
fn travel_to(app: &TestApp, at: &str) {
    let at: chrono::DateTime<chrono::Utc> = at.parse().unwrap();
    app.clock.advance(at - app.clock.now());
}

#[tokio::test]
async fn time_in_force_follows_nyse_sessions() {
    let app = crate::helpers::spawn_app_with(|s| {
        s.market = paddock_core::trading::clock::MarketClock::new(
            paddock_core::trading::clock::MarketMode::Nyse,
        )
    })
    .await;
    let token = app.token_for(&app.fx.client, app.fx.paper, "trading").await;
    let order = |tif: &str, kind: &str, extra: Value| {
        let mut body = json!({"symbol": "AAPL", "qty": 1, "side": "buy", "type": kind,
                              "time_in_force": tif});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };
    // Tuesday 2026-11-24, 08:00 in New York: pre-market.
    travel_to(&app, "2026-11-24T13:00:00Z");
    let opg = ok_json(post_order(&app, &token, order("opg", "market", json!({}))).await).await;
    assert_eq!(opg["status"], "accepted");
    let early = json!({"limit_price": "200", "extended_hours": true});
    let pre_market = ok_json(post_order(&app, &token, order("day", "limit", early)).await).await;
    assert_eq!(
        pre_market["status"], "filled",
        "extended hours trade before the open"
    );
    let regular = json!({"limit_price": "200"});
    let waits = ok_json(post_order(&app, &token, order("day", "limit", regular)).await).await;
    assert_eq!(waits["status"], "accepted");
    let cls = ok_json(post_order(&app, &token, order("cls", "market", json!({}))).await).await;
    assert_eq!(cls["status"], "accepted");
    let cls_limit = order("cls", "limit", json!({"limit_price": "100"}));
    let cls_limit = ok_json(post_order(&app, &token, cls_limit).await).await;
    let stop_opg = order("opg", "stop", json!({"stop_price": "200"}));
    assert_alpaca_error(
        post_order(&app, &token, stop_opg).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;

    // The open: the opening auction's order and the waiting day order fill.
    travel_to(&app, "2026-11-24T14:30:01Z");
    wait_for_status(&app, &token, opg["id"].as_str().unwrap(), "filled").await;
    wait_for_status(&app, &token, waits["id"].as_str().unwrap(), "filled").await;
    wait_for_status(&app, &token, cls["id"].as_str().unwrap(), "new").await;
    let late_opg = order("opg", "market", json!({}));
    assert_alpaca_error(
        post_order(&app, &token, late_opg).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let gtc = ok_json(
        post_order(
            &app,
            &token,
            order("gtc", "limit", json!({"limit_price": "100"})),
        )
        .await,
    )
    .await;

    // 15:55: too late for the closing auction; at the close, the CLS order fills.
    travel_to(&app, "2026-11-24T20:55:00Z");
    let late_cls = order("cls", "market", json!({}));
    assert_alpaca_error(
        post_order(&app, &token, late_cls).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    travel_to(&app, "2026-11-24T21:00:01Z");
    wait_for_status(&app, &token, cls["id"].as_str().unwrap(), "filled").await;
    // A closing-auction limit that does not cross is canceled there.
    wait_for_status(&app, &token, cls_limit["id"].as_str().unwrap(), "canceled").await;

    // A GTC order outlives the session, but not ninety days.
    travel_to(&app, "2026-11-25T15:00:00Z");
    assert_eq!(
        get_json(
            &app,
            &token,
            &format!("/v2/orders/{}", gtc["id"].as_str().unwrap())
        )
        .await["status"],
        "new"
    );
    travel_to(&app, "2027-02-23T15:00:00Z");
    wait_for_status(&app, &token, gtc["id"].as_str().unwrap(), "expired").await;
}

#[tokio::test]
async fn a_server_with_a_price_walk_moves_prices() {
    let app = crate::helpers::spawn_app_with(|s| {
        s.market = paddock_core::trading::clock::MarketClock::new(
            paddock_core::trading::clock::MarketMode::AlwaysOpen,
        );
        s.walk = Some(paddock_core::trading::walk::Walk {
            seed: 5,
            every: chrono::TimeDelta::milliseconds(100),
        });
    })
    .await;
    let token = app.token_for(&app.fx.client, app.fx.paper, "trading").await;
    buy(&app, &token, "AAPL", 1).await;
    let started = std::time::Instant::now();
    loop {
        let position = get_json(&app, &token, "/v2/positions/AAPL").await;
        let price = dec(&position["current_price"]);
        if price != Decimal::from(190) {
            assert_eq!(price.round_dp(2), price, "the walk moves in cents");
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "the price never moved"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_groups_prices_may_be_replaced_but_not_its_quantities() {
    let (app, token) = trading_app().await;
    let body = json!({"symbol": "AAPL", "qty": 2, "side": "buy", "type": "limit",
                      "limit_price": 150, "time_in_force": "gtc", "order_class": "oto",
                      "take_profit": {"limit_price": 160}});
    let entry = ok_json(post_order(&app, &token, body).await).await;
    let leg = entry["legs"][0]["id"].as_str().unwrap().to_owned();
    let leg_path = format!("/v2/orders/{leg}");
    // The held leg's price moves (its shares come with the entry's fill).
    let moved = send(
        &app,
        &token,
        Method::PATCH,
        &leg_path,
        Some(json!({"limit_price": 165})),
    )
    .await;
    let moved = ok_json(moved).await;
    assert_eq!(
        (&moved["status"], &moved["limit_price"]),
        (&json!("held"), &json!("165"))
    );
    let shown = get_json(
        &app,
        &token,
        &format!("/v2/orders/{}", entry["id"].as_str().unwrap()),
    )
    .await;
    let legs = shown["legs"].as_array().unwrap();
    assert_eq!(
        legs.len(),
        1,
        "the replaced leg is no longer listed: {legs:?}"
    );
    assert_eq!(legs[0]["id"], moved["id"]);
    for patch in [json!({"qty": 1}), json!({"time_in_force": "day"})] {
        let path = format!("/v2/orders/{}", entry["id"].as_str().unwrap());
        let response = send(&app, &token, Method::PATCH, &path, Some(patch)).await;
        assert_alpaca_error(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    }

    // Canceling the leg leaves the entry working.
    let leg_path = format!("/v2/orders/{}", moved["id"].as_str().unwrap());
    let canceled = send(&app, &token, Method::DELETE, &leg_path, None).await;
    assert_eq!(canceled.status(), StatusCode::NO_CONTENT);
    let entry_now = get_json(
        &app,
        &token,
        &format!("/v2/orders/{}", entry["id"].as_str().unwrap()),
    )
    .await;
    assert_eq!(entry_now["status"], "new");
}

#[tokio::test]
async fn a_filled_entrys_working_legs_are_listed_as_open_and_cancel_all_says_200() {
    let (app, token) = trading_app().await;
    let body = json!({"symbol": "AAPL", "qty": 3, "side": "buy", "type": "market",
                      "time_in_force": "gtc", "order_class": "bracket",
                      "take_profit": {"limit_price": 250}, "stop_loss": {"stop_price": 100}});
    ok_json(post_order(&app, &token, body).await).await;
    let open = get_json(&app, &token, "/v2/orders?status=open&nested=true").await;
    let open = open.as_array().unwrap();
    assert_eq!(open.len(), 2, "the two working legs: {open:?}");
    assert!(
        open.iter()
            .all(|o| o["side"] == "sell" && o["status"] == "new")
    );

    // A second bracket, unfilled: cancel-all ends both groups, every one 200.
    let resting = json!({"symbol": "AAPL", "qty": 1, "side": "buy", "type": "limit",
                         "limit_price": 150, "time_in_force": "gtc", "order_class": "bracket",
                         "take_profit": {"limit_price": 160}, "stop_loss": {"stop_price": 140}});
    ok_json(post_order(&app, &token, resting).await).await;
    let all = send(&app, &token, Method::DELETE, "/v2/orders", None).await;
    assert_eq!(all.status(), StatusCode::MULTI_STATUS);
    let statuses: Vec<Value> = all.json().await.unwrap();
    assert_eq!(statuses.len(), 5);
    assert!(statuses.iter().all(|s| s["status"] == 200), "{statuses:?}");
    assert_eq!(get_json(&app, &token, "/v2/orders").await, json!([]));
}

#[tokio::test]
async fn a_fractional_position_closes_with_fractional_buys_off() {
    let (app, token) = trading_app().await;
    let notional = json!({"symbol": "AAPL", "notional": 285, "side": "buy", "type": "market",
                          "time_in_force": "day"});
    ok_json(post_order(&app, &token, notional).await).await;
    let writer = app
        .token_for(&app.fx.client, app.fx.paper, "account:write trading")
        .await;
    let off = json!({"fractional_trading": false});
    ok_json(
        send(
            &app,
            &writer,
            Method::PATCH,
            "/v2/account/configurations",
            Some(off),
        )
        .await,
    )
    .await;
    let closed =
        ok_json(send(&app, &writer, Method::DELETE, "/v2/positions/AAPL", None).await).await;
    assert_eq!(
        (&closed["qty"], &closed["status"]),
        (&json!("1.5"), &json!("filled"))
    );
}
