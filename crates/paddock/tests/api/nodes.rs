//! Several `paddock serve` processes on one database behave as one server: any node
//! answers any step of a flow, a revocation on one reaches the others within a
//! second, throttles count across nodes, and a node killed mid-run loses nothing it
//! answered. On the run's backend: PostgreSQL, or one SQLite file shared by processes.

use std::time::{Duration, Instant};

use paddock::clock::Clock;
use paddock_store::DatabaseUrl;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::browser::{hidden, redirect_param};
use crate::helpers::{
    FetchJson, Fixture, LOOPBACK_REDIRECT_URI, REDIRECT_URI, USER_EMAIL, USER_PASSWORD, fixture,
    header,
};
use crate::process::{Served, free_address};
use crate::testdb::TestDb;

/// Two nodes on one fresh database, with the usual fixture in it.
pub struct Cluster {
    pub a: Served,
    pub b: Served,
    pub fx: Fixture,
    pub http: reqwest::Client,
    db: TestDb,
}

impl Cluster {
    async fn start() -> Self {
        Self::start_with(&[]).await
    }

    /// Two nodes started with `extra` `serve` flags.
    pub async fn start_with(extra: &[&str]) -> Self {
        let db = TestDb::new().await;
        let store = paddock_store::open(&DatabaseUrl::parse(&db.url).unwrap())
            .await
            .unwrap();
        let fx = fixture(store.as_ref(), &Clock::default()).await;
        drop(store);
        let (a, b) = (free_address(), free_address());
        Self {
            a: Served::node(&db.url, &a, extra),
            b: Served::node(&db.url, &b, extra),
            fx,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .cookie_store(true)
                .build()
                .unwrap(),
            db,
        }
    }

    pub fn grant_body(&self, account: paddock_core::ids::AccountId, scope: &str) -> Value {
        json!({
            "client_id": self.fx.client.id(),
            "client_secret": self.fx.client.client_secret,
            "redirect_uri": REDIRECT_URI,
            "scope": scope,
            "account_id": account.to_string(),
        })
    }

    pub fn broker(
        &self,
        node: &Served,
        method: reqwest::Method,
        path: &str,
    ) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", node.base))
            .basic_auth(&self.fx.broker.key_id, Some(&self.fx.broker.secret))
    }

    pub async fn code(&self, node: &Served) -> String {
        let response = self
            .broker(node, reqwest::Method::POST, "/v1/oauth/authorize")
            .json(&self.grant_body(self.fx.paper, "trading"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.unwrap();
        body["code"].as_str().unwrap().to_owned()
    }

    pub fn redemption(
        &self,
        node: &Served,
        code: &str,
        redirect_uri: &str,
    ) -> reqwest::RequestBuilder {
        self.http.post(format!("{}/oauth/token", node.base)).form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("client_id", self.fx.client.id()),
            ("client_secret", &self.fx.client.client_secret),
            ("redirect_uri", redirect_uri),
        ])
    }

    pub async fn redeem(&self, node: &Served, code: &str, redirect_uri: &str) -> reqwest::Response {
        self.redemption(node, code, redirect_uri)
            .send()
            .await
            .unwrap()
    }

    /// GETs `url` with `token` until its JSON satisfies `holds`, for `within` at most;
    /// returns that JSON.
    pub async fn poll(
        &self,
        url: &str,
        token: &str,
        within: Duration,
        holds: impl Fn(&Value) -> bool,
    ) -> Value {
        let started = Instant::now();
        loop {
            let seen: Value = self.http.get(url).bearer_auth(token).fetch_json().await;
            if holds(&seen) {
                return seen;
            }
            assert!(started.elapsed() < within, "{url}: {seen}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// `node` (one of the two, killed before) started again on its address with
    /// `extra` flags.
    pub fn restarted(&self, node: &Served, extra: &[&str]) -> Served {
        Served::node(&self.db.url, node.base.trim_start_matches("http://"), extra)
    }

    pub async fn account_status(&self, node: &Served, token: &str) -> StatusCode {
        self.http
            .get(format!("{}/paper/v2/account", node.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .status()
    }
}

pub async fn access_token(response: reqwest::Response) -> String {
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_owned()
}

/// Polls until `node` refuses `token`; returns how long that took.
pub async fn refused_within_a_second(cluster: &Cluster, node: &Served, token: &str) -> Duration {
    let started = Instant::now();
    loop {
        if cluster.account_status(node, token).await == StatusCode::UNAUTHORIZED {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "{} still honours the revoked token after a second",
            node.base
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn a_code_from_one_node_is_redeemed_on_the_other() {
    let cluster = Cluster::start().await;
    let code = cluster.code(&cluster.a).await;
    let token = access_token(cluster.redeem(&cluster.b, &code, REDIRECT_URI).await).await;
    for node in [&cluster.a, &cluster.b] {
        assert_eq!(cluster.account_status(node, &token).await, StatusCode::OK);
    }
    // The code is spent everywhere: A refuses it too, and revokes the token.
    let again = cluster.redeem(&cluster.a, &code, REDIRECT_URI).await;
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);
    for node in [&cluster.a, &cluster.b] {
        refused_within_a_second(&cluster, node, &token).await;
    }
}

#[tokio::test]
async fn a_login_on_one_node_and_the_consent_on_the_other() {
    let cluster = Cluster::start().await;
    let (a, b) = (&cluster.a.base, &cluster.b.base);
    let redirect: String =
        url::form_urlencoded::byte_serialize(LOOPBACK_REDIRECT_URI.as_bytes()).collect();
    let authorize = format!(
        "/oauth/authorize?response_type=code&client_id={}&redirect_uri={redirect}\
         &state=hop&scope=trading&env=paper",
        cluster.fx.client.id()
    );
    let http = &cluster.http;
    let login_page = http.get(format!("{a}{authorize}")).send().await.unwrap();
    let html = login_page.text().await.unwrap();
    let login = http
        .post(format!("{a}/login"))
        .form(&[
            ("csrf", hidden(&html, "csrf").as_str()),
            ("return_to", hidden(&html, "return_to").as_str()),
            ("email", USER_EMAIL),
            ("password", USER_PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::SEE_OTHER, "signed in on A");

    // The session and the CSRF token are the database's and the browser's, not A's.
    let consent = http.get(format!("{b}{authorize}")).send().await.unwrap();
    assert_eq!(consent.status(), StatusCode::OK);
    let html = consent.text().await.unwrap();
    assert!(
        html.contains("value=\"allow\""),
        "a consent page on B: {html}"
    );
    let paper = cluster.fx.paper.to_string();
    let allowed = http
        .post(format!("{b}/oauth/authorize"))
        .form(&[
            ("csrf", hidden(&html, "csrf").as_str()),
            ("request", hidden(&html, "request").as_str()),
            ("decision", "allow"),
            ("paper_account", paper.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(allowed.status(), StatusCode::SEE_OTHER);
    let code = redirect_param(&header_of(&allowed), "code").expect("a code");
    let token = access_token(
        cluster
            .redeem(&cluster.a, &code, LOOPBACK_REDIRECT_URI)
            .await,
    )
    .await;
    assert_eq!(
        cluster.account_status(&cluster.b, &token).await,
        StatusCode::OK
    );
}

fn header_of(response: &reqwest::Response) -> String {
    header(response, "location")
}

#[tokio::test]
async fn a_token_revoked_on_one_node_is_refused_on_the_other_within_a_second() {
    let cluster = Cluster::start().await;
    let code = cluster.code(&cluster.a).await;
    let token = access_token(cluster.redeem(&cluster.a, &code, REDIRECT_URI).await).await;
    // B has checked the token, so it holds it in its grant cache.
    assert_eq!(
        cluster.account_status(&cluster.b, &token).await,
        StatusCode::OK
    );
    let revoked = cluster
        .broker(
            &cluster.a,
            reqwest::Method::DELETE,
            &format!("/v1/oauth/token/{token}"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), StatusCode::NO_CONTENT);
    let delay = refused_within_a_second(&cluster, &cluster.b, &token).await;
    let line = format!("revocation on node A reached node B in {delay:?}\n");
    let _ = std::io::Write::write_all(&mut std::io::stderr(), line.as_bytes());
    assert_eq!(
        cluster.account_status(&cluster.a, &token).await,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn fifty_concurrent_redemptions_across_two_nodes_yield_one_token_then_revoke_it() {
    let cluster = Cluster::start().await;
    let code = cluster.code(&cluster.a).await;
    let attempts: Vec<_> = (0..50)
        .map(|i| {
            let node = if i % 2 == 0 { &cluster.a } else { &cluster.b };
            tokio::spawn(cluster.redemption(node, &code, REDIRECT_URI).send())
        })
        .collect();
    let mut responses = Vec::new();
    for attempt in attempts {
        responses.push(attempt.await.unwrap().unwrap());
    }
    let mut tokens = Vec::new();
    for response in responses {
        match response.status() {
            StatusCode::OK => tokens.push(access_token(response).await),
            StatusCode::BAD_REQUEST => {}
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(tokens.len(), 1, "exactly one redemption wins");
    // Every other attempt was a replay, which revokes the one token, on both nodes.
    for node in [&cluster.a, &cluster.b] {
        refused_within_a_second(&cluster, node, &tokens[0]).await;
    }
}

#[tokio::test]
async fn failed_logins_are_counted_across_nodes() {
    let cluster = Cluster::start().await;
    let http = &cluster.http;
    let attempt = |node: &Served| {
        let base = node.base.clone();
        async move {
            let page = http.get(format!("{base}/login")).send().await.unwrap();
            let html = page.text().await.unwrap();
            http.post(format!("{base}/login"))
                .form(&[
                    ("csrf", hidden(&html, "csrf").as_str()),
                    ("return_to", "/account/apps"),
                    ("email", USER_EMAIL),
                    ("password", "not the password"),
                ])
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    // Five failures for one address, spread over both nodes...
    for i in 0..5 {
        let node = if i % 2 == 0 { &cluster.a } else { &cluster.b };
        assert_eq!(
            attempt(node).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "attempt {i}"
        );
    }
    // ...are five in all: both nodes now refuse the address.
    for node in [&cluster.a, &cluster.b] {
        assert_eq!(
            attempt(node).await,
            StatusCode::TOO_MANY_REQUESTS,
            "{}",
            node.base
        );
    }
}

#[tokio::test]
async fn failed_client_authentications_are_counted_across_nodes() {
    let cluster = Cluster::start().await;
    let wrong = "0".repeat(40);
    let attempt = |node: &Served| {
        cluster
            .http
            .post(format!("{}/oauth/token", node.base))
            .basic_auth(cluster.fx.client.id(), Some(&wrong))
            .form(&[("grant_type", "authorization_code"), ("code", "x")])
            .send()
    };
    for i in 0..20 {
        let node = if i % 2 == 0 { &cluster.a } else { &cluster.b };
        let status = attempt(node).await.unwrap().status();
        assert_eq!(status, StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    for node in [&cluster.a, &cluster.b] {
        let status = attempt(node).await.unwrap().status();
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{}", node.base);
    }
}

/// `kill -9` while tokens are being issued: every token answered 200 works after a
/// restart.
#[tokio::test]
async fn a_node_killed_mid_issuance_loses_no_answered_token() {
    let mut cluster = Cluster::start().await;
    let body = cluster.grant_body(cluster.fx.paper, "");
    let issued = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let issuers: Vec<_> = (0..4)
        .map(|_| {
            let http = cluster.http.clone();
            let url = format!("{}/v1/oauth/token", cluster.a.base);
            let (key, secret) = (
                cluster.fx.broker.key_id.clone(),
                cluster.fx.broker.secret.clone(),
            );
            let (body, issued) = (body.clone(), issued.clone());
            tokio::spawn(async move {
                loop {
                    let response = http
                        .post(&url)
                        .basic_auth(&key, Some(&secret))
                        .json(&body)
                        .send()
                        .await;
                    let Ok(response) = response else { return };
                    if response.status() != StatusCode::OK {
                        return;
                    }
                    let Ok(body) = response.json::<Value>().await else {
                        return;
                    };
                    if let Some(token) = body["access_token"].as_str() {
                        issued.lock().unwrap().push(token.to_owned());
                    }
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(700)).await;
    cluster.a.kill_hard();
    for issuer in issuers {
        let _ = issuer.await;
    }
    let issued = issued.lock().unwrap().clone();
    assert!(
        issued.len() > 10,
        "only {} tokens issued before the kill",
        issued.len()
    );
    // B never stopped, and A comes back on the same database: every token A answered
    // is there.
    cluster.a = cluster.restarted(&cluster.a, &[]);
    for node in [&cluster.a, &cluster.b] {
        for token in &issued {
            assert_eq!(
                cluster.account_status(node, token).await,
                StatusCode::OK,
                "a token answered 200 before the kill is lost"
            );
        }
    }
}

#[tokio::test]
async fn orders_on_two_nodes_fill_on_a_cli_price_move_and_never_overspend() {
    let cluster = Cluster::start_with(&["--market", "always-open"]).await;
    let code = cluster.code(&cluster.a).await;
    let token = access_token(cluster.redeem(&cluster.a, &code, REDIRECT_URI).await).await;
    let order = |node: &Served, body: Value| {
        cluster
            .http
            .post(format!("{}/paper/v2/orders", node.base))
            .bearer_auth(&token)
            .json(&body)
    };
    let limit = json!({"symbol": "AAPL", "qty": 1, "side": "buy", "type": "limit",
                       "limit_price": "180", "time_in_force": "gtc"});
    let placed: Value = order(&cluster.a, limit).fetch_json().await;
    assert_eq!(placed["status"], "new", "{placed}");

    // The operator's CLI, a third process, moves the price; a node's matcher fills it.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_paddock"))
        .args(["--database", &cluster.db.url, "price", "set", "AAPL", "179"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let path = format!(
        "{}/paper/v2/orders/{}",
        cluster.b.base,
        placed["id"].as_str().unwrap()
    );
    let seen = cluster
        .poll(&path, &token, Duration::from_secs(3), |o| {
            o["status"] == "filled"
        })
        .await;
    assert_eq!(seen["filled_avg_price"], "179");

    // Each node prices from its market snapshot, which hears of the CLI's price within
    // a second (what several nodes promise): wait until both show it.
    for node in [&cluster.a, &cluster.b] {
        let position = format!("{}/paper/v2/positions/AAPL", node.base);
        let within = Duration::from_secs(1);
        cluster
            .poll(&position, &token, within, |p| p["current_price"] == "179")
            .await;
    }

    // Twenty market buys of 50 shares ($8,950 each) race over both nodes: as many
    // fill as the $99,821 left covers, and no more.
    let buy = json!({"symbol": "AAPL", "qty": 50, "side": "buy", "type": "market",
                     "time_in_force": "day"});
    let sends: Vec<_> = (0..20)
        .map(|i| {
            let node = if i % 2 == 0 { &cluster.a } else { &cluster.b };
            tokio::spawn(order(node, buy.clone()).send())
        })
        .collect();
    let mut statuses = Vec::new();
    for send in sends {
        statuses.push(send.await.unwrap().unwrap().status());
    }
    let filled = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::FORBIDDEN)
        .count();
    assert_eq!((filled, refused), (11, 9), "{statuses:?}");
    let account: Value = cluster
        .http
        .get(format!("{}/paper/v2/account", cluster.a.base))
        .bearer_auth(&token)
        .fetch_json()
        .await;
    assert_eq!(account["cash"], "1371");
}

#[tokio::test]
async fn a_stream_on_one_node_carries_the_other_nodes_orders_and_closes_on_revoke() {
    use crate::stream::{listening_at, next};

    let cluster = Cluster::start_with(&["--market", "always-open"]).await;
    let code = cluster.code(&cluster.a).await;
    let token = access_token(cluster.redeem(&cluster.a, &code, REDIRECT_URI).await).await;
    let mut socket = listening_at(&format!("{}/paper/stream", cluster.b.base), &token).await;
    // The same events as Server-Sent Events, also from B.
    let mut events = cluster
        .http
        .get(format!("{}/paper/v2/events/trades", cluster.b.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(events.status(), StatusCode::OK);

    let order = json!({"symbol": "AAPL", "qty": 1, "side": "buy", "type": "market",
                       "time_in_force": "day"});
    let placed: Value = cluster
        .http
        .post(format!("{}/paper/v2/orders", cluster.a.base))
        .bearer_auth(&token)
        .json(&order)
        .fetch_json()
        .await;
    for event in ["new", "fill"] {
        let update = next(&mut socket).await.unwrap();
        assert_eq!(update["data"]["event"], event, "{update}");
        assert_eq!(update["data"]["order"]["id"], placed["id"]);
    }
    let mut body = String::new();
    let complete = |body: &str| {
        let end = body.rfind("\n\n").map_or(0, |i| i + 2);
        crate::stream::sse_events(&body[..end])
    };
    while complete(&body).len() < 2 {
        let chunk = tokio::time::timeout(Duration::from_secs(2), events.chunk())
            .await
            .expect("events within two seconds")
            .unwrap()
            .expect("the event stream is open");
        body.push_str(&String::from_utf8_lossy(&chunk));
    }
    let kinds: Vec<Value> = complete(&body)
        .into_iter()
        .map(|(_, d)| d["event"].clone())
        .collect();
    assert_eq!(kinds, [json!("new"), json!("fill")]);

    let revoked = cluster
        .broker(
            &cluster.a,
            reqwest::Method::DELETE,
            &format!("/v1/oauth/token/{token}"),
        )
        .send()
        .await
        .unwrap();
    assert!(revoked.status().is_success());
    let started = Instant::now();
    assert_eq!(
        next(&mut socket).await.unwrap()["data"]["status"],
        "unauthorized"
    );
    assert_eq!(next(&mut socket).await, None, "then B closes the stream");
    // B's event stream ends too.
    loop {
        let chunk = tokio::time::timeout(Duration::from_secs(1), events.chunk())
            .await
            .expect("the event stream ends within a second of the revocation");
        if !matches!(chunk, Ok(Some(_))) {
            break;
        }
    }
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_stream_client_of_a_killed_node_resumes_on_its_restart_and_misses_nothing() {
    use crate::stream::{next, send};

    let mut cluster = Cluster::start_with(&["--market", "always-open"]).await;
    let code = cluster.code(&cluster.a).await;
    let token = access_token(cluster.redeem(&cluster.a, &code, REDIRECT_URI).await).await;
    let b_address = cluster.b.base.trim_start_matches("http://").to_owned();
    let stream_url = format!("ws://{b_address}/paper/stream");
    let auth = json!({"action": "authenticate", "data": {"oauth_token": token}});
    let order = json!({"symbol": "AAPL", "qty": 1, "side": "buy", "type": "market",
                       "time_in_force": "day"});
    let place = |order: Value| {
        cluster
            .http
            .post(format!("{}/paper/v2/orders", cluster.a.base))
            .bearer_auth(&token)
            .json(&order)
            .send()
    };

    let (mut socket, _) = tokio_tungstenite::connect_async(&stream_url).await.unwrap();
    send(&mut socket, auth.clone()).await;
    send(
        &mut socket,
        json!({"action": "listen", "data": {"streams": ["trade_updates"]}}),
    )
    .await;
    next(&mut socket).await.unwrap();
    next(&mut socket).await.unwrap();
    place(order.clone()).await.unwrap();
    next(&mut socket).await.unwrap();
    let last = next(&mut socket).await.unwrap()["data"]["event_id"].clone();

    // B dies; orders go on through A meanwhile; B comes back on the same address.
    cluster.b.kill_hard();
    assert_eq!(next(&mut socket).await, None);
    place(order.clone()).await.unwrap();
    place(order).await.unwrap();
    cluster.b = cluster.restarted(&cluster.b, &["--market", "always-open"]);

    let (mut socket, _) = tokio_tungstenite::connect_async(&stream_url).await.unwrap();
    send(&mut socket, auth).await;
    assert_eq!(
        next(&mut socket).await.unwrap()["data"]["status"],
        "authorized"
    );
    let listen = json!({"action": "listen", "data": {"streams": ["trade_updates"], "since": last}});
    send(&mut socket, listen).await;
    assert_eq!(next(&mut socket).await.unwrap()["stream"], "listening");
    let mut events = Vec::new();
    for _ in 0..4 {
        events.push(next(&mut socket).await.unwrap()["data"]["event"].clone());
    }
    assert_eq!(events, ["new", "fill", "new", "fill"]);
}
