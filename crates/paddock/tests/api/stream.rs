//! The trade-updates WebSocket (SPEC §3.5) with a real WebSocket client: the
//! authentication exchange, listening, one message per order event, frames of both
//! kinds, and the stream closed when its token is revoked.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use paddock_core::env::Env;
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async};

use crate::helpers::{FetchJson, TestApp};
use crate::trading::{post_order, trading_app};

pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

async fn connect(app: &TestApp, env: Env, path: &str) -> Socket {
    let url = app.api(env, path).replacen("http://", "ws://", 1);
    connect_async(url)
        .await
        .expect("the stream accepts a WebSocket")
        .0
}

/// The next JSON message, within two seconds; `None` when the server closed.
pub async fn next(socket: &mut Socket) -> Option<Value> {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(2), socket.next())
            .await
            .expect("a message within two seconds");
        match message {
            Some(Ok(Message::Text(text))) => return Some(serde_json::from_str(&text).unwrap()),
            Some(Ok(Message::Binary(bytes))) => {
                return Some(serde_json::from_slice(&bytes).unwrap());
            }
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return None,
            Some(Ok(other)) => panic!("unexpected frame {other:?}"),
        }
    }
}

pub async fn send(socket: &mut Socket, value: Value) {
    socket
        .send(Message::Text(value.to_string().into()))
        .await
        .unwrap();
}

fn authenticate(token: &str) -> Value {
    json!({"action": "authenticate", "data": {"oauth_token": token}})
}

async fn listening(app: &TestApp, token: &str) -> Socket {
    listening_at(&app.api(Env::Paper, "/stream"), token).await
}

/// A trade stream at `url` (the server's `http://` one), authenticated with `token`
/// and listening to trade updates, each reply checked.
pub async fn listening_at(url: &str, token: &str) -> Socket {
    let (mut socket, _) = connect_async(url.replacen("http://", "ws://", 1))
        .await
        .expect("the stream accepts a WebSocket");
    send(&mut socket, authenticate(token)).await;
    assert_eq!(
        next(&mut socket).await.unwrap(),
        json!({"stream": "authorization", "data": {"status": "authorized", "action": "authenticate"}})
    );
    send(
        &mut socket,
        json!({"action": "listen", "data": {"streams": ["trade_updates"]}}),
    )
    .await;
    assert_eq!(
        next(&mut socket).await.unwrap(),
        json!({"stream": "listening", "data": {"streams": ["trade_updates"]}})
    );
    socket
}

/// The next trade update's `data`.
async fn update(socket: &mut Socket) -> Value {
    let message = next(socket).await.expect("a trade update");
    assert_eq!(message["stream"], "trade_updates", "{message}");
    message["data"].clone()
}

/// An idle stream is pinged every 20 seconds, so that proxies keep it open; a client
/// that answers (tungstenite does, by itself) stays connected and still gets its
/// updates.
#[tokio::test]
async fn an_idle_stream_is_pinged_every_twenty_seconds_and_stays_open() {
    let (app, token) = trading_app().await;
    let mut socket = listening(&app, &token).await;
    let started = std::time::Instant::now();
    let frame = tokio::time::timeout(Duration::from_secs(30), socket.next())
        .await
        .expect("a frame within 30 seconds");
    assert!(matches!(frame, Some(Ok(Message::Ping(_)))), "{frame:?}");
    let waited = started.elapsed();
    assert!(
        (Duration::from_secs(19)..Duration::from_secs(25)).contains(&waited),
        "pinged after {waited:?}"
    );
    socket.flush().await.unwrap(); // the queued pong
    let market = json!({"symbol": "AAPL", "qty": 1, "side": "buy", "type": "market",
                        "time_in_force": "day"});
    let order: Value = post_order(&app, &token, market).await.json().await.unwrap();
    let new = update(&mut socket).await;
    assert_eq!(
        (&new["event"], &new["order"]["id"]),
        (&json!("new"), &order["id"])
    );
}

#[tokio::test]
async fn every_order_event_is_one_trade_update() {
    let (app, token) = trading_app().await;
    let mut socket = listening(&app, &token).await;

    let market = json!({"symbol": "AAPL", "qty": 2, "side": "buy", "type": "market",
                        "time_in_force": "day"});
    let order: Value = post_order(&app, &token, market).await.json().await.unwrap();
    let new = update(&mut socket).await;
    assert_eq!(new["event"], "new");
    assert_eq!(new["order"]["id"], order["id"]);
    assert_eq!(new["order"]["status"], "new", "the order as it stood then");
    assert!(new["timestamp"].is_string() && new.get("price").is_none());
    let fill = update(&mut socket).await;
    assert_eq!(fill["event"], "fill");
    assert_eq!((&fill["price"], &fill["qty"]), (&json!("190"), &json!("2")));
    assert_eq!(fill["position_qty"], "2");
    assert!(uuid::Uuid::parse_str(fill["execution_id"].as_str().unwrap()).is_ok());
    assert_eq!(fill["order"]["status"], "filled");
    assert_eq!(fill["order"]["filled_qty"], "2");

    // A limit order rests, is replaced, and the replacement is canceled.
    let limit = json!({"symbol": "AAPL", "qty": 1, "side": "buy", "type": "limit",
                       "limit_price": "150", "time_in_force": "gtc"});
    let resting: Value = post_order(&app, &token, limit).await.json().await.unwrap();
    assert_eq!(update(&mut socket).await["event"], "new");
    let path = format!("/v2/orders/{}", resting["id"].as_str().unwrap());
    let replacement: Value = app
        .http
        .patch(app.api(Env::Paper, &path))
        .bearer_auth(&token)
        .json(&json!({"limit_price": "151"}))
        .fetch_json()
        .await;
    let replaced = update(&mut socket).await;
    assert_eq!(replaced["event"], "replaced");
    assert_eq!(replaced["order"]["replaced_by"], replacement["id"]);
    assert_eq!(update(&mut socket).await["order"]["id"], replacement["id"]);
    let path = format!("/v2/orders/{}", replacement["id"].as_str().unwrap());
    app.http
        .delete(app.api(Env::Paper, &path))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let canceled = update(&mut socket).await;
    assert_eq!(canceled["event"], "canceled");
    assert_eq!(canceled["order"]["status"], "canceled");

    // Another account's orders are not this stream's.
    let other = app
        .token_for(&app.fx.client, app.fx.paper2, "trading")
        .await;
    let theirs = json!({"symbol": "SPY", "qty": 1, "side": "buy", "type": "market",
                        "time_in_force": "day"});
    post_order(&app, &other, theirs).await;
    let quiet = tokio::time::timeout(Duration::from_millis(1_500), socket.next()).await;
    assert!(
        quiet.is_err() || matches!(quiet, Ok(Some(Ok(Message::Ping(_))))),
        "{quiet:?}"
    );
}

#[tokio::test]
async fn nothing_comes_before_the_reply_to_authenticate() {
    let (app, token) = trading_app().await;
    let mut socket = connect(&app, Env::Paper, "/stream/").await;
    let early = tokio::time::timeout(Duration::from_millis(500), socket.next()).await;
    assert!(early.is_err(), "the server spoke first: {early:?}");
    // Binary frames carry JSON as well as text frames do.
    let auth = authenticate(&token).to_string().into_bytes();
    socket.send(Message::Binary(auth.into())).await.unwrap();
    assert_eq!(
        next(&mut socket).await.unwrap()["data"]["status"],
        "authorized"
    );
}

#[tokio::test]
async fn a_refused_token_is_told_so_and_the_stream_closes() {
    let (app, token) = trading_app().await;
    for (env, token) in [
        (Env::Paper, "not-a-token".to_owned()),
        // The fixture's paper token reaches no live account.
        (Env::Live, token.clone()),
    ] {
        let mut socket = connect(&app, env, "/stream").await;
        send(&mut socket, authenticate(&token)).await;
        assert_eq!(
            next(&mut socket).await.unwrap(),
            json!({"stream": "authorization", "data": {"status": "unauthorized", "action": "authenticate"}})
        );
        assert_eq!(next(&mut socket).await, None, "then the connection closes");
    }
    // Listening before authenticating is refused the same way.
    let mut socket = connect(&app, Env::Paper, "/stream").await;
    send(
        &mut socket,
        json!({"action": "listen", "data": {"streams": ["trade_updates"]}}),
    )
    .await;
    assert_eq!(
        next(&mut socket).await.unwrap()["data"]["status"],
        "unauthorized"
    );
    assert_eq!(next(&mut socket).await, None);
}

#[tokio::test]
async fn a_revoked_tokens_stream_closes_within_a_second() {
    let (app, token) = trading_app().await;
    let mut socket = listening(&app, &token).await;
    let revoked = app
        .http
        .delete(format!("{}/v1/oauth/token/{token}", app.base))
        .basic_auth(&app.fx.broker.key_id, Some(&app.fx.broker.secret))
        .send()
        .await
        .unwrap();
    assert!(revoked.status().is_success(), "{}", revoked.status());
    let started = std::time::Instant::now();
    let told = next(&mut socket).await.unwrap();
    assert_eq!(told["data"]["status"], "unauthorized");
    assert_eq!(next(&mut socket).await, None);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
}

pub fn with(url: &str, params: &[(&str, &str)]) -> String {
    url::Url::parse_with_params(url, params)
        .unwrap()
        .to_string()
}

/// The `(id, data)` of each event in an SSE body.
pub fn sse_events(body: &str) -> Vec<(i64, Value)> {
    body.split("\n\n")
        .filter_map(|block| {
            let id = block
                .lines()
                .find_map(|l| l.strip_prefix("id:"))?
                .trim()
                .parse()
                .ok()?;
            let data = block.lines().find_map(|l| l.strip_prefix("data:"))?.trim();
            Some((id, serde_json::from_str(data).unwrap()))
        })
        .collect()
}

#[tokio::test]
async fn trade_updates_come_as_server_sent_events_with_resume() {
    let (app, token) = trading_app().await;
    let before = app.clock.now() - chrono::TimeDelta::seconds(1);
    for symbol in ["AAPL", "SPY"] {
        let market = json!({"symbol": symbol, "qty": 1, "side": "buy", "type": "market",
                            "time_in_force": "day"});
        post_order(&app, &token, market).await;
    }
    let until = (app.clock.now() + chrono::TimeDelta::milliseconds(200)).to_rfc3339();
    let url = app.api(Env::Paper, "/v2/events/trades");
    let response = app
        .http
        .get(with(
            &url,
            &[("since", &before.to_rfc3339()), ("until", &until)],
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let events = sse_events(&response.text().await.unwrap());
    let kinds: Vec<&str> = events
        .iter()
        .map(|(_, d)| d["event"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["new", "fill", "new", "fill"]);
    assert_eq!(events[3].1["order"]["symbol"], "SPY");
    assert_eq!(events[3].1["event_id"], events[3].0.to_string());

    // Resumed after the second event, only the last two come.
    let resumed = app
        .http
        .get(with(&url, &[("until", &until)]))
        .header("Last-Event-ID", events[1].0.to_string())
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let ids: Vec<i64> = sse_events(&resumed).iter().map(|(id, _)| *id).collect();
    assert_eq!(ids, [events[2].0, events[3].0]);

    // Open-ended: a new order's events arrive while the stream is open.
    let mut live = app.http.get(&url).bearer_auth(&token).send().await.unwrap();
    let limit = json!({"symbol": "AAPL", "qty": 1, "side": "buy", "type": "limit",
                       "limit_price": "100", "time_in_force": "gtc"});
    post_order(&app, &token, limit).await;
    let mut seen = String::new();
    while !seen.contains("data:") {
        let chunk = tokio::time::timeout(Duration::from_secs(2), live.chunk())
            .await
            .expect("an event within two seconds")
            .unwrap()
            .expect("the stream stays open");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(seen.contains("\"event\":\"new\""), "{seen}");

    let refused = app.http.get(&url).send().await.unwrap();
    assert_eq!(refused.status(), 401);
    let bad = app
        .http
        .get(with(&url, &[("since", "yesterday")]))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 422);
}

#[tokio::test]
async fn a_reconnecting_client_listens_since_its_last_event_and_misses_nothing() {
    let (app, token) = trading_app().await;
    let mut socket = listening(&app, &token).await;
    let market = json!({"symbol": "AAPL", "qty": 1, "side": "buy", "type": "market",
                        "time_in_force": "day"});
    post_order(&app, &token, market.clone()).await;
    let first = update(&mut socket).await;
    drop(socket);
    // While it is away: the first order's fill is already sent; a second order comes.
    post_order(&app, &token, market).await;
    let mut socket = connect(&app, Env::Paper, "/stream").await;
    send(&mut socket, authenticate(&token)).await;
    next(&mut socket).await.unwrap();
    let listen = json!({"action": "listen",
                        "data": {"streams": ["trade_updates"], "since": first["event_id"]}});
    send(&mut socket, listen).await;
    assert_eq!(next(&mut socket).await.unwrap()["stream"], "listening");
    let kinds: Vec<String> = [
        update(&mut socket).await,
        update(&mut socket).await,
        update(&mut socket).await,
    ]
    .iter()
    .map(|u| u["event"].as_str().unwrap().to_owned())
    .collect();
    assert_eq!(
        kinds,
        ["fill", "new", "fill"],
        "everything after the last event seen"
    );
}

#[tokio::test]
async fn a_client_that_does_not_read_is_cut_off_and_stalls_nothing() {
    let (app, token) = trading_app().await;
    // A client with a tiny receive buffer, so that the server's writes back up at once.
    let address: std::net::SocketAddr = app.base.trim_start_matches("http://").parse().unwrap();
    let tcp = tokio::net::TcpSocket::new_v4().unwrap();
    tcp.set_recv_buffer_size(2_048).unwrap();
    let tcp = tcp.connect(address).await.unwrap();
    let url = app
        .api(Env::Paper, "/stream")
        .replacen("http://", "ws://", 1);
    let (mut slow, _) = tokio_tungstenite::client_async(url, MaybeTlsStream::Plain(tcp))
        .await
        .unwrap();
    send(&mut slow, authenticate(&token)).await;
    next(&mut slow).await.unwrap();
    send(
        &mut slow,
        json!({"action": "listen", "data": {"streams": ["trade_updates"]}}),
    )
    .await;
    next(&mut slow).await.unwrap();
    let mut reader = listening(&app, &token).await;

    // The slow client reads nothing from here on. Thousands of events (more than the
    // loopback's socket buffers hold), placed through the engine in-process for speed;
    // a stream that reads keeps up, and HTTP orders are answered at once.
    let clock = paddock_core::trading::clock::MarketClock::new(
        paddock_core::trading::clock::MarketMode::AlwaysOpen,
    );
    let aapl = paddock_core::trading::assets::find("AAPL").unwrap();
    let reading = tokio::spawn(async move {
        let mut seen = 0;
        while seen < 6_000 {
            update(&mut reader).await;
            seen += 1;
        }
        seen
    });
    for i in 0..3_000 {
        let side = if i % 2 == 0 { "buy" } else { "sell" };
        let new = paddock_core::trading::orders::NewOrder::plain(
            paddock_core::trading::orders::Side::parse(side).unwrap(),
            paddock_core::trading::orders::OrderType::Market,
            paddock_core::trading::orders::Amount::Qty(rust_decimal::Decimal::ONE),
            paddock_core::trading::orders::TimeInForce::Day,
        );
        paddock_core::trading::engine::submit(
            app.store.as_ref(),
            app.fx.paper,
            &aapl,
            new,
            clock,
            app.clock.now(),
        )
        .await
        .unwrap();
    }
    let started = std::time::Instant::now();
    let order = json!({"symbol": "SPY", "qty": 1, "side": "buy", "type": "market",
                       "time_in_force": "day"});
    assert_eq!(post_order(&app, &token, order).await.status(), 200);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "an order waited on a stream"
    );
    assert_eq!(
        reading.await.unwrap(),
        6_000,
        "the reading stream got every event"
    );
    // After the send timeout the server lets the slow client go: reading now drains
    // what was in flight, then the connection ends.
    tokio::time::sleep(Duration::from_secs(7)).await;
    let mut drained = 0;
    loop {
        match tokio::time::timeout(Duration::from_secs(2), slow.next()).await {
            Ok(Some(Ok(Message::Text(_) | Message::Ping(_)))) => drained += 1,
            Ok(Some(Ok(Message::Close(frame)))) => {
                let reason = frame.map(|f| f.reason.to_string()).unwrap_or_default();
                assert!(reason.contains("not reading"), "{reason}");
                break;
            }
            Ok(None | Some(Err(_))) => break,
            Ok(Some(Ok(other))) => panic!("unexpected {other:?}"),
            Err(_) => panic!("the server kept the slow client after {drained} messages"),
        }
    }
    assert!(
        drained < 6_000,
        "the server stopped sending to it ({drained} of 6000 arrived)"
    );
}

#[tokio::test]
async fn a_resting_limit_order_fills_on_the_stream_when_the_price_crosses() {
    let (app, token) = trading_app().await;
    let mut socket = listening(&app, &token).await;
    let limit = json!({"symbol": "MSFT", "qty": 2, "side": "buy", "type": "limit",
                       "limit_price": "300", "time_in_force": "gtc"});
    let order: Value = post_order(&app, &token, limit).await.json().await.unwrap();
    let new = update(&mut socket).await;
    assert_eq!(
        (&new["event"], &new["order"]["status"]),
        (&json!("new"), &json!("new"))
    );
    paddock::admin::set_price(
        app.store.as_ref(),
        "MSFT",
        "299".parse().unwrap(),
        app.clock.now(),
    )
    .await
    .unwrap();
    let fill = update(&mut socket).await;
    assert_eq!(fill["event"], "fill");
    assert_eq!(fill["order"]["id"], order["id"]);
    assert_eq!((&fill["price"], &fill["qty"]), (&json!("299"), &json!("2")));
    assert_eq!(fill["order"]["filled_avg_price"], "299");
}
