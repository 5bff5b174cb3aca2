//! A mixed load on two nodes over one database (issue #11's load-correctness run):
//! tokens issued and codes redeemed on either node, calls made with them, orders placed
//! on both, tokens revoked, and a trade stream open on one node, for
//! `PADDOCK_LOAD_SECS` seconds (5 by default; `PADDOCK_LOAD_SECS=60` for the full run).
//! Two thirds of the way through, node A is killed with `kill -9` and B takes all the
//! load; at the end A is started again on the same database.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::{FetchJson, REDIRECT_URI};
use crate::nodes::{Cluster, access_token, refused_within_a_second};
use crate::process::Served;
use crate::stream::listening_at;

/// The cluster under load, and whether node A has been killed yet.
struct Run {
    cluster: Cluster,
    a_killed: AtomicBool,
    /// Requests to A that its kill cut off before they were answered.
    cut_off: AtomicUsize,
    /// Of those, orders (which may have traded all the same).
    orders_cut_off: AtomicUsize,
}

impl Run {
    /// The node the `i`th request goes to, and the other one; B for both once A is
    /// killed.
    fn nodes(&self, i: usize) -> (&Served, &Served) {
        let (a, b) = (&self.cluster.a, &self.cluster.b);
        if self.a_killed.load(Ordering::SeqCst) {
            (b, b)
        } else if i.is_multiple_of(2) {
            (a, b)
        } else {
            (b, a)
        }
    }

    /// The nodes still running.
    fn alive(&self) -> Vec<&Served> {
        if self.a_killed.load(Ordering::SeqCst) {
            vec![&self.cluster.b]
        } else {
            vec![&self.cluster.a, &self.cluster.b]
        }
    }

    /// The one failure the run allows: a request to A that A's kill cut off.
    fn expect_cut_off(&self, error: reqwest::Error) {
        let to_a = error
            .url()
            .is_some_and(|url| url.as_str().starts_with(&self.cluster.a.base));
        // A body that came whole but is not the JSON expected is a failure, not a cut.
        assert!(
            self.a_killed.load(Ordering::SeqCst) && to_a && !error.is_decode(),
            "a request failed: {error}"
        );
        self.cut_off.fetch_add(1, Ordering::SeqCst);
    }
}

/// Sends `request` and reads its JSON answer, which must have `status`; an error only
/// when the request or its answer was cut off.
async fn answer(request: RequestBuilder, status: StatusCode) -> Result<Value, reqwest::Error> {
    let response = request.send().await?;
    assert_eq!(response.status(), status, "{}", response.url());
    response.json().await
}

/// Every answer is the expected one, every token issued works on both nodes until it is
/// revoked and is refused on both within a second after, every order's events (new,
/// fill) reach a stream on B exactly once, a node's `kill -9` loses nothing it answered,
/// and B's memory stays flat.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mixed_load_on_two_nodes_keeps_every_promise() {
    let secs: u64 = std::env::var("PADDOCK_LOAD_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let cluster = Cluster::start_with(&["--market", "always-open"]).await;

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

    let run = Arc::new(Run {
        cluster,
        a_killed: AtomicBool::new(false),
        cut_off: AtomicUsize::new(0),
        orders_cut_off: AtomicUsize::new(0),
    });
    let started = Instant::now();
    let deadline = started + Duration::from_secs(secs);
    let kill_at = started + Duration::from_secs(secs) * 2 / 3;
    let issued = Arc::new(Mutex::new(Vec::<String>::new()));
    let revoked = Arc::new(Mutex::new(Vec::<String>::new()));
    let orders = Arc::new(Mutex::new(Vec::<String>::new()));
    let mut workers = Vec::new();

    // Issuers: a token from the Broker API, or a code from one node redeemed on the
    // other; each is used at once on the node that did not issue it.
    for worker in 0..4 {
        let (run, issued) = (Arc::clone(&run), Arc::clone(&issued));
        workers.push(tokio::spawn(async move {
            let cluster = &run.cluster;
            let grant = cluster.grant_body(cluster.fx.paper, "trading");
            let mut i = worker;
            while Instant::now() < deadline {
                let (here, there) = run.nodes(i);
                i += 1;
                let step = async {
                    let broker = |path: &str| cluster.broker(here, Method::POST, path).json(&grant);
                    let answered = if i % 4 < 2 {
                        answer(broker("/v1/oauth/token"), StatusCode::OK).await?
                    } else {
                        let code = answer(broker("/v1/oauth/authorize"), StatusCode::OK).await?;
                        let code = code["code"].as_str().unwrap();
                        let redemption = cluster.redemption(there, code, REDIRECT_URI);
                        answer(redemption, StatusCode::OK).await?
                    };
                    let token = answered["access_token"].as_str().unwrap().to_owned();
                    let call = cluster
                        .http
                        .get(format!("{}/paper/v2/account", there.base))
                        .bearer_auth(&token);
                    let called = answer(call, StatusCode::OK).await;
                    // Answered 200, so it must survive even if the call was cut off;
                    // listed only now, so that the revoker cannot take it first.
                    issued.lock().unwrap().push(token);
                    called.map(drop)
                };
                if let Err(error) = step.await {
                    run.expect_cut_off(error);
                }
            }
        }));
    }
    // Traders: a market buy then a sell of the same share, alternating nodes. After an
    // order whose answer was cut off (it may or may not have traded), a trader buys
    // again, so that it never sells a share it has not bought.
    for worker in 0..2 {
        let (run, orders, trader) = (Arc::clone(&run), Arc::clone(&orders), trader.clone());
        workers.push(tokio::spawn(async move {
            let (mut i, mut side) = (worker, "buy");
            while Instant::now() < deadline {
                let (here, _) = run.nodes(i);
                i += 1;
                let request = run
                    .cluster
                    .http
                    .post(format!("{}/paper/v2/orders", here.base))
                    .bearer_auth(&trader)
                    .json(&json!({"symbol": "KO", "qty": 1, "side": side,
                                  "type": "market", "time_in_force": "day"}));
                match answer(request, StatusCode::OK).await {
                    Ok(order) => {
                        assert_eq!(order["status"], "filled", "{order}");
                        let id = order["id"].as_str().unwrap().to_owned();
                        orders.lock().unwrap().push(id);
                        side = if side == "buy" { "sell" } else { "buy" };
                    }
                    Err(error) => {
                        run.expect_cut_off(error);
                        run.orders_cut_off.fetch_add(1, Ordering::SeqCst);
                        side = "buy";
                    }
                }
            }
        }));
    }
    // A revoker: revokes an issued token on one node every 100 ms, and checks that the
    // nodes refuse it within a second. It is also the one that kills A, between two
    // revocations, so that its checks need no exception for the kill.
    {
        let (run, issued, revoked) = (Arc::clone(&run), Arc::clone(&issued), Arc::clone(&revoked));
        workers.push(tokio::spawn(async move {
            let cluster = &run.cluster;
            let mut i = 0;
            while Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(100)).await;
                if Instant::now() >= kill_at && !run.a_killed.load(Ordering::SeqCst) {
                    run.a_killed.store(true, Ordering::SeqCst);
                    let killed = std::process::Command::new("kill")
                        .args(["-9", &cluster.a.pid().to_string()])
                        .status()
                        .unwrap();
                    assert!(killed.success());
                }
                let Some(token) = issued.lock().unwrap().pop() else {
                    continue;
                };
                let (here, _) = run.nodes(i);
                i += 1;
                let path = format!("/v1/oauth/token/{token}");
                let response = cluster.broker(here, Method::DELETE, &path).send().await;
                assert_eq!(response.unwrap().status(), StatusCode::NO_CONTENT);
                for node in run.alive() {
                    refused_within_a_second(cluster, node, &token).await;
                }
                revoked.lock().unwrap().push(token);
            }
        }));
    }
    // B's resident memory through the run, sampled every 250 ms.
    let memory = {
        let run = Arc::clone(&run);
        tokio::spawn(async move {
            let mut samples = Vec::new();
            while Instant::now() < deadline {
                samples.push(run.cluster.b.resident_bytes().expect("B is running"));
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            samples
        })
    };
    for worker in workers {
        worker.await.unwrap();
    }
    let memory = memory.await.unwrap();
    let run = Arc::into_inner(run).expect("every worker has ended");
    let mut cluster = run.cluster;
    assert!(
        run.a_killed.into_inner(),
        "the run ended before A was killed"
    );

    // Every answered order's two events arrived on B's stream, once each. An order
    // whose answer the kill cut off may have traded too: its events arrived once each
    // as well, and there are at most as many such orders as cut-off order requests.
    let orders = orders.lock().unwrap().clone();
    let seen = reader.await.unwrap();
    for id in &orders {
        for event in ["new", "fill"] {
            assert_eq!(
                seen.get(&(id.clone(), event.into())),
                Some(&1),
                "{id} {event}"
            );
        }
    }
    assert!(
        seen.values().all(|&count| count == 1),
        "an event came twice"
    );
    let unanswered = seen.len() - orders.len() * 2;
    let cut_off = run.cut_off.into_inner();
    assert!(
        unanswered <= run.orders_cut_off.into_inner() * 2,
        "events of orders never placed"
    );

    // A comes back on the same database. Every token issued and not revoked works on
    // both nodes; the revoked do not.
    cluster.a = cluster.restarted(&cluster.a, &["--market", "always-open"]);
    let issued = issued.lock().unwrap().clone();
    let revoked = revoked.lock().unwrap().clone();
    for node in [&cluster.a, &cluster.b] {
        for token in &issued {
            let status = cluster.account_status(node, token).await;
            assert_eq!(status, StatusCode::OK, "a token answered 200 is lost");
        }
        for token in &revoked {
            let status = cluster.account_status(node, token).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED);
        }
    }
    let account: Value = cluster
        .http
        .get(format!("{}/paper/v2/account", cluster.a.base))
        .bearer_auth(&trader)
        .fetch_json()
        .await;

    // Memory is flat: B's largest footprint in the run's last third (when it carries
    // the whole load) is within a bound of its largest in the first.
    let third = memory.len() / 3;
    let mib = |bytes: u64| bytes as f64 / f64::from(1 << 20);
    let first = mib(*memory[..third].iter().max().unwrap());
    let last = mib(*memory[memory.len() - third..].iter().max().unwrap());
    eprintln!(
        "mixed load, {secs} s on two nodes (A killed at {:.1} s): {} tokens issued, {} revoked, \
         {} orders, {} events, {cut_off} requests cut off by the kill, cash {}, equity {}; \
         B's resident memory {first:.1} MiB at most in the first third, {last:.1} MiB in the last",
        (kill_at - started).as_secs_f64(),
        issued.len(),
        revoked.len(),
        orders.len(),
        seen.len(),
        account["cash"],
        account["equity"],
    );
    assert!(!orders.is_empty() && !issued.is_empty());
    assert!(
        last <= first * 1.25 + 8.0,
        "B's memory grew from {first:.1} to {last:.1} MiB"
    );
    // Every share was bought and sold at the same (unmoved) price, and the kill may
    // have left a few held: the account's worth has not moved a cent.
    assert_eq!(account["equity"], "100000");
}
