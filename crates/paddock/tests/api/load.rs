//! A mixed load on two nodes over one database (issue #11's load-correctness run):
//! tokens issued and codes redeemed on either node, calls made with them, orders placed
//! on both, tokens revoked, and a trade stream open on one node, for
//! `PADDOCK_LOAD_SECS` seconds (5 by default; `PADDOCK_LOAD_SECS=60` for the full run).

use crate::helpers::FetchJson;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::REDIRECT_URI;
use crate::nodes::{Cluster, access_token, refused_within_a_second};
use crate::process::Served;
use crate::stream::listening_at;
use futures_util::StreamExt;
use tokio_tungstenite::tungstenite::Message;

/// The node the `i`th request goes to, and the other one.
fn nodes(cluster: &Cluster, i: usize) -> (&Served, &Served) {
    if i.is_multiple_of(2) {
        (&cluster.a, &cluster.b)
    } else {
        (&cluster.b, &cluster.a)
    }
}

/// Every answer is the expected one, every token issued works on both nodes until it is
/// revoked and is refused on both within a second after, and every order's events
/// (new, fill) reach a stream on the other node exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mixed_load_on_two_nodes_keeps_every_promise() {
    let secs: u64 = std::env::var("PADDOCK_LOAD_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let cluster = Arc::new(Cluster::start_with(&["--market", "always-open"]).await);

    // The account's trade stream, on B, before any order.
    let code = cluster.code(&cluster.a).await;
    let trader = access_token(cluster.redeem(&cluster.a, &code, REDIRECT_URI).await).await;
    let mut socket = listening_at(&format!("{}/paper/stream", cluster.b.base), &trader).await;
    // Read all along (a stream that stops reading is cut off), until the stream has
    // been quiet for five seconds after the load.
    let reader = tokio::spawn(async move {
        let mut seen: HashMap<(String, String), usize> = HashMap::new();
        loop {
            let message = tokio::time::timeout(Duration::from_secs(5), socket.next()).await;
            let text = match message {
                Ok(Some(Ok(Message::Text(text)))) => text,
                Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => continue,
                Ok(other) => panic!("the stream ended: {other:?}"),
                Err(_) => return seen,
            };
            let update: Value = serde_json::from_str(&text).unwrap();
            let data = &update["data"];
            let key = (
                data["order"]["id"].as_str().unwrap().to_owned(),
                data["event"].as_str().unwrap().to_owned(),
            );
            *seen.entry(key).or_default() += 1;
        }
    });

    let deadline = Instant::now() + Duration::from_secs(secs);
    let issued = Arc::new(Mutex::new(Vec::<String>::new()));
    let revoked = Arc::new(Mutex::new(Vec::<String>::new()));
    let orders = Arc::new(Mutex::new(Vec::<String>::new()));
    let mut workers = Vec::new();

    // Issuers: a token from the Broker API, or a code from one node redeemed on the
    // other; each is used at once on the node that did not issue it.
    for worker in 0..4 {
        let (cluster, issued) = (Arc::clone(&cluster), Arc::clone(&issued));
        workers.push(tokio::spawn(async move {
            let mut i = worker;
            while Instant::now() < deadline {
                let (here, there) = nodes(&cluster, i);
                let token = if i % 4 < 2 {
                    let body = json!({
                        "client_id": cluster.fx.client.id(),
                        "client_secret": cluster.fx.client.client_secret,
                        "redirect_uri": REDIRECT_URI,
                        "scope": "trading",
                        "account_id": cluster.fx.paper.to_string(),
                    });
                    let response = cluster
                        .broker(here, Method::POST, "/v1/oauth/token")
                        .json(&body)
                        .send()
                        .await
                        .unwrap();
                    access_token(response).await
                } else {
                    let code = cluster.code(here).await;
                    access_token(cluster.redeem(there, &code, REDIRECT_URI).await).await
                };
                assert_eq!(cluster.account_status(there, &token).await, StatusCode::OK);
                issued.lock().unwrap().push(token);
                i += 1;
            }
        }));
    }
    // Traders: a market buy then a sell of the same share, alternating nodes.
    for worker in 0..2 {
        let (cluster, orders, trader) = (Arc::clone(&cluster), Arc::clone(&orders), trader.clone());
        workers.push(tokio::spawn(async move {
            let mut i = worker;
            while Instant::now() < deadline {
                for side in ["buy", "sell"] {
                    let (here, _) = nodes(&cluster, i);
                    let order: Value = cluster
                        .http
                        .post(format!("{}/paper/v2/orders", here.base))
                        .bearer_auth(&trader)
                        .json(&json!({"symbol": "KO", "qty": 1, "side": side,
                                      "type": "market", "time_in_force": "day"}))
                        .fetch_json()
                        .await;
                    assert_eq!(order["status"], "filled", "{order}");
                    orders
                        .lock()
                        .unwrap()
                        .push(order["id"].as_str().unwrap().to_owned());
                    i += 1;
                }
            }
        }));
    }
    // A revoker: revokes an issued token on one node every 100 ms, and checks that both
    // nodes refuse it within a second.
    {
        let (cluster, issued, revoked) = (
            Arc::clone(&cluster),
            Arc::clone(&issued),
            Arc::clone(&revoked),
        );
        workers.push(tokio::spawn(async move {
            let mut i = 0;
            while Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(100)).await;
                let Some(token) = issued.lock().unwrap().pop() else {
                    continue;
                };
                let (here, there) = nodes(&cluster, i);
                let response = cluster
                    .broker(here, Method::DELETE, &format!("/v1/oauth/token/{token}"))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), StatusCode::NO_CONTENT);
                refused_within_a_second(&cluster, here, &token).await;
                refused_within_a_second(&cluster, there, &token).await;
                revoked.lock().unwrap().push(token);
                i += 1;
            }
        }));
    }
    for worker in workers {
        worker.await.unwrap();
    }

    // Every order's two events arrived on B's stream, once each, and nothing else.
    let orders = orders.lock().unwrap().clone();
    let seen = reader.await.unwrap();
    assert_eq!(
        seen.len(),
        orders.len() * 2,
        "one (order, event) pair per event"
    );
    for id in &orders {
        for event in ["new", "fill"] {
            assert_eq!(
                seen.get(&(id.clone(), event.into())),
                Some(&1),
                "{id} {event}"
            );
        }
    }
    // Every token issued and not revoked still works on both nodes; the revoked do not.
    let issued = issued.lock().unwrap().clone();
    for token in &issued {
        for node in [&cluster.a, &cluster.b] {
            assert_eq!(cluster.account_status(node, token).await, StatusCode::OK);
        }
    }
    let revoked = revoked.lock().unwrap().clone();
    for token in &revoked {
        for node in [&cluster.a, &cluster.b] {
            assert_eq!(
                cluster.account_status(node, token).await,
                StatusCode::UNAUTHORIZED
            );
        }
    }
    let account: Value = cluster
        .http
        .get(format!("{}/paper/v2/account", cluster.a.base))
        .bearer_auth(&trader)
        .fetch_json()
        .await;
    eprintln!(
        "mixed load, {secs} s on two nodes: {} tokens issued, {} revoked, {} orders, {} events, cash {}",
        issued.len(),
        revoked.len(),
        orders.len(),
        seen.len(),
        account["cash"]
    );
    assert!(!orders.is_empty() && !issued.is_empty());
    // Each buy was sold again at the same (unmoved) price: not a cent made or lost.
    assert_eq!(account["cash"], "100000");
}
