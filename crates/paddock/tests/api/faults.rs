//! PostgreSQL out of reach: requests that need it answer 503 with a JSON body within
//! the pool's timeout, `/readyz` says not ready, and the node recovers by itself once
//! the database is back. The database is cut off by a TCP proxy the test owns, so the
//! shared server is never stopped.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use paddock::clock::Clock;
use paddock_store::DatabaseUrl;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

use crate::helpers::{REDIRECT_URI, fixture};
use crate::process::{Served, free_address};
use crate::testdb::{Backend, TestDb, backend};

/// Forwards connections from its own loopback port to PostgreSQL until stopped.
struct Proxy {
    address: SocketAddr,
    connections: Option<JoinSet<()>>,
}

impl Proxy {
    async fn start(address: SocketAddr, upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind(address).await.unwrap();
        let address = listener.local_addr().unwrap();
        let mut connections = JoinSet::new();
        connections.spawn(async move {
            let mut pipes = JoinSet::new();
            while let Ok((mut client, _)) = listener.accept().await {
                pipes.spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
            }
        });
        Self {
            address,
            connections: Some(connections),
        }
    }

    /// Stops listening and cuts every connection, as a database that went away.
    fn stop(&mut self) {
        // Dropping the set aborts the accept loop, whose own set of pipes goes with it.
        self.connections = None;
    }
}

fn skip(test: &str) {
    let line = format!("SKIP {test}: PostgreSQL only (PADDOCK_TEST_BACKEND=postgres)\n");
    let _ = std::io::Write::write_all(&mut std::io::stderr(), line.as_bytes());
}

// Several threads: the proxy runs on this test's runtime while the test waits,
// blocking, for the node to start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_out_of_reach_is_503_then_recovers_without_a_restart() {
    if backend() != Backend::Postgres {
        return skip("postgres_out_of_reach_is_503_then_recovers_without_a_restart");
    }
    let db = TestDb::new().await;
    let store = paddock_store::open(&DatabaseUrl::parse(&db.url).unwrap())
        .await
        .unwrap();
    let fx = fixture(store.as_ref(), &Clock::default()).await;
    drop(store);

    // The node reaches the database through the proxy only.
    let upstream: SocketAddr = "127.0.0.1:5432".parse().unwrap();
    let proxy_address: SocketAddr = free_address().parse().unwrap();
    let mut proxy = Proxy::start(proxy_address, upstream).await;
    let through_proxy = db
        .url
        .replacen("127.0.0.1:5432", &proxy.address.to_string(), 1)
        .replacen("localhost:5432", &proxy.address.to_string(), 1);
    assert_ne!(
        through_proxy, db.url,
        "the test database is on 127.0.0.1:5432"
    );
    let node = Served::node(
        &through_proxy,
        &free_address(),
        &["--database-timeout-secs", "1"],
    );

    let http = reqwest::Client::new();
    let issue = || {
        http.post(format!("{}/v1/oauth/token", node.base))
            .basic_auth(&fx.broker.key_id, Some(&fx.broker.secret))
            .json(&json!({
                "client_id": fx.client.id(),
                "client_secret": fx.client.client_secret,
                "redirect_uri": REDIRECT_URI,
                "scope": "",
                "account_id": fx.paper.to_string(),
            }))
            .send()
    };
    let ready = || http.get(format!("{}/readyz", node.base)).send();
    assert_eq!(issue().await.unwrap().status(), StatusCode::OK);
    assert_eq!(ready().await.unwrap().status(), StatusCode::OK);

    proxy.stop();
    for _ in 0..2 {
        let started = Instant::now();
        let response = issue().await.unwrap();
        let took = started.elapsed();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(response.headers().contains_key("retry-after"));
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["code"], 50_310_000, "{body}");
        assert!(
            body["message"].as_str().unwrap().contains("unavailable"),
            "{body}"
        );
        // The configured second, and some slack for a loaded machine.
        assert!(took < Duration::from_secs(3), "answered after {took:?}");
    }
    assert_eq!(
        ready().await.unwrap().status(),
        StatusCode::SERVICE_UNAVAILABLE
    );

    let _proxy = Proxy::start(proxy_address, upstream).await;
    let started = Instant::now();
    loop {
        if issue().await.unwrap().status() == StatusCode::OK {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "no recovery: {}",
            node.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(ready().await.unwrap().status(), StatusCode::OK);
}
