//! `spawn_app()`: the real server on an ephemeral loopback port with a fresh SQLite
//! file, fixtures made through the same admin operations the CLI uses, and typed
//! helpers for the requests the tests repeat.

use std::sync::Arc;

use paddock::admin::{self, ClientRegistration, CreatedBroker, CreatedClient};
use paddock::clock::Clock;
use paddock::config::Settings;
use paddock::server;
use paddock::state::AppState;
use paddock_core::env::Env;
use paddock_core::ids::AccountId;
use paddock_core::model::ClientStatus;
use paddock_core::store::Store;
use paddock_store::DatabaseUrl;
use reqwest::{Response, StatusCode};
use rust_decimal::Decimal;
use serde_json::{Value, json};

use crate::testdb::TestDb;

pub const USER_EMAIL: &str = "trader@example.com";
pub const USER_PASSWORD: &str = "correct horse battery";
/// A user whose one account is held at the other broker: nothing to offer the fixture's
/// clients.
pub const OTHER_EMAIL: &str = "other@example.com";
/// Registered for every fixture client.
pub const REDIRECT_URI: &str = "https://app.example.com/oauth/callback";
/// Registered too: a loopback redirect, whose port may vary (RFC 8252 §7.3).
pub const LOOPBACK_REDIRECT_URI: &str = "http://127.0.0.1/callback";

pub struct TestApp {
    /// `http://127.0.0.1:PORT`, the live base and the OAuth issuer.
    pub base: String,
    /// No redirects followed, cookies kept.
    pub http: reqwest::Client,
    pub store: Arc<dyn Store>,
    pub clock: Clock,
    /// The running server's state, for the few tests that look inside.
    pub state: AppState,
    /// The test's own database: `db.url` is what `--database` takes.
    pub db: TestDb,
    pub fx: Fixture,
}

/// What every test starts with.
pub struct Fixture {
    pub broker: CreatedBroker,
    /// Another broker, with its own client and account: what `broker` must not reach.
    pub other_broker: CreatedBroker,
    pub live: AccountId,
    pub paper: AccountId,
    /// A second paper account of the same user.
    pub paper2: AccountId,
    /// An account of `other_broker`.
    pub foreign_account: AccountId,
    /// `broker`'s client, approved for live trading.
    pub client: CreatedClient,
    /// `broker`'s client, not approved for live trading.
    pub paper_client: CreatedClient,
    /// `other_broker`'s client.
    pub foreign_client: CreatedClient,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// `spawn_app`, with settings changed by `configure` (the issuer, say).
pub async fn spawn_app_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    let db = TestDb::new().await;
    let url = DatabaseUrl::parse(&db.url).expect("db url");
    let store = paddock_store::open(&url).await.expect("open store");
    let clock = Clock::default();
    let fx = fixture(store.as_ref(), &clock).await;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    let mut settings = Settings {
        // Tests flush token use themselves, when they look at it.
        usage_flush_every: std::time::Duration::from_secs(3600),
        ..Settings::new(&base)
    };
    configure(&mut settings);
    let state = AppState::new(store.clone(), settings, clock.clone());
    tokio::spawn(server::run(listener, state.clone(), std::future::pending()));

    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .expect("http client");
    TestApp {
        base,
        http,
        store,
        clock,
        state,
        db,
        fx,
    }
}

pub async fn fixture(store: &dyn Store, clock: &Clock) -> Fixture {
    let now = clock.now();
    let broker = admin::create_broker(store, "Test Brokerage", now)
        .await
        .expect("broker");
    let other_broker = admin::create_broker(store, "Other Brokerage", now)
        .await
        .expect("broker");
    let user = admin::create_user(store, USER_EMAIL, USER_PASSWORD.into(), now)
        .await
        .expect("user")
        .id;
    let other_user = admin::create_user(store, OTHER_EMAIL, USER_PASSWORD.into(), now)
        .await
        .expect("user")
        .id;
    let account = |user, broker, env| async move {
        admin::create_account(store, user, broker, env, Decimal::from(100_000), now)
            .await
            .expect("account")
            .id
    };
    let live = account(user, broker.id, Env::Live).await;
    let paper = account(user, broker.id, Env::Paper).await;
    let paper2 = account(user, broker.id, Env::Paper).await;
    let foreign_account = account(other_user, other_broker.id, Env::Paper).await;
    let client = |broker, name: &str, live_trading_approved| {
        let registration = ClientRegistration {
            broker,
            name: name.to_owned(),
            redirect_uris: vec![REDIRECT_URI.into(), LOOPBACK_REDIRECT_URI.into()],
            description: format!("{name}, for tests"),
            url: "https://app.example.com".into(),
            terms_of_use: "https://app.example.com/terms".into(),
            privacy_policy: "https://app.example.com/privacy".into(),
            live_trading_approved,
        };
        async move {
            admin::create_client(store, registration, now)
                .await
                .expect("client")
        }
    };
    Fixture {
        client: client(broker.id, "Charting App", true).await,
        paper_client: client(broker.id, "Paper Bot", false).await,
        foreign_client: client(other_broker.id, "Foreign App", true).await,
        broker,
        other_broker,
        live,
        paper,
        paper2,
        foreign_account,
    }
}

/// A client's credentials, as an app holds them.
pub struct Creds<'a> {
    pub id: &'a str,
    pub secret: &'a str,
}

impl<'a> From<&'a CreatedClient> for Creds<'a> {
    fn from(c: &'a CreatedClient) -> Self {
        Creds {
            id: c.id(),
            secret: &c.client_secret,
        }
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The base URL of `env`'s Trading API.
    pub fn api(&self, env: Env, path: &str) -> String {
        match env {
            Env::Live => self.url(path),
            Env::Paper => self.url(&format!("/paper{path}")),
        }
    }

    /// A Broker API request with this fixture's broker credentials.
    pub fn broker(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, self.url(path))
            .basic_auth(&self.fx.broker.key_id, Some(&self.fx.broker.secret))
    }

    /// The Broker API grant body of seed 000 for `client` and `account`.
    pub fn grant_body(&self, client: &CreatedClient, account: AccountId, scope: &str) -> Value {
        json!({
            "client_id": client.id(),
            "client_secret": client.client_secret,
            "redirect_uri": REDIRECT_URI,
            "scope": scope,
            "account_id": account.to_string(),
        })
    }

    pub async fn broker_post(&self, path: &str, body: &Value) -> Response {
        self.broker(reqwest::Method::POST, path)
            .json(body)
            .send()
            .await
            .expect("request")
    }

    /// A code from `POST /v1/oauth/authorize`, for `client` and `account`.
    pub async fn code_for(
        &self,
        client: &CreatedClient,
        account: AccountId,
        scope: &str,
    ) -> String {
        let response = self
            .broker_post(
                "/v1/oauth/authorize",
                &self.grant_body(client, account, scope),
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.expect("json");
        body["code"].as_str().expect("code").to_owned()
    }

    /// A `POST /oauth/token` with client credentials in HTTP Basic, for the test to
    /// give a body.
    pub fn token_request_basic(&self, id: &str, secret: &str) -> reqwest::RequestBuilder {
        self.http
            .post(self.url("/oauth/token"))
            .basic_auth(id, Some(secret))
    }

    /// `POST /oauth/token` with the credentials in the body.
    pub async fn redeem(&self, code: &str, creds: Creds<'_>, redirect_uri: &str) -> Response {
        self.http
            .post(self.url("/oauth/token"))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("client_id", creds.id),
                ("client_secret", creds.secret),
                ("redirect_uri", redirect_uri),
            ])
            .send()
            .await
            .expect("request")
    }

    /// An access token for `account`, through the Broker API code flow.
    pub async fn token_for(
        &self,
        client: &CreatedClient,
        account: AccountId,
        scope: &str,
    ) -> String {
        let code = self.code_for(client, account, scope).await;
        let response = self.redeem(&code, client.into(), REDIRECT_URI).await;
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.expect("json");
        body["access_token"].as_str().expect("token").to_owned()
    }

    /// Waits until this node has heard that `client` became `status` in the store, as
    /// when another process changes it: it keeps clients and grants in memory until the
    /// invalidation log tells it otherwise, within a second.
    pub async fn heard_of_client_status(&self, client: &CreatedClient, status: ClientStatus) {
        let id = paddock_core::ids::ClientId::parse(client.id()).unwrap();
        let active = status == ClientStatus::Active;
        let caches = &self.state.caches;
        within_a_second(|| async {
            caches
                .clients
                .get(&id)
                .is_none_or(|c| c.is_active() == active)
                && !caches
                    .grants
                    .any(|g| g.client_id == id && g.client_active != active)
        })
        .await;
    }

    pub async fn get_account(&self, env: Env, token: &str) -> Response {
        self.http
            .get(self.api(env, "/v2/account"))
            .bearer_auth(token)
            .send()
            .await
            .expect("request")
    }
}

/// Sends a request and reads its answer's JSON body, whatever the status.
pub trait FetchJson {
    async fn fetch_json<T: serde::de::DeserializeOwned>(self) -> T;
}

impl FetchJson for reqwest::RequestBuilder {
    async fn fetch_json<T: serde::de::DeserializeOwned>(self) -> T {
        self.send().await.unwrap().json().await.unwrap()
    }
}

/// Asserts Alpaca's error shape, `{"code": int, "message": str}`, and returns the body.
pub async fn assert_alpaca_error(response: Response, status: StatusCode) -> Value {
    assert_eq!(response.status(), status, "unexpected status");
    assert_json(&response);
    let body: Value = response.json().await.expect("json body");
    let code = body["code"].as_u64().expect("integer code");
    assert_eq!(
        code / 100_000,
        u64::from(status.as_u16()),
        "code starts with the status"
    );
    let message = body["message"].as_str().expect("string message");
    assert!(!message.is_empty(), "a message that says what to fix");
    body
}

/// Asserts the token endpoint's dual error body and returns it.
pub async fn assert_token_error(response: Response, status: StatusCode, error: &str) -> Value {
    assert_eq!(response.status(), status, "unexpected status");
    assert_json(&response);
    assert_eq!(header(&response, "cache-control"), "no-store");
    let body: Value = response.json().await.expect("json body");
    assert_eq!(body["error"], error, "{body}");
    assert!(
        body["error_description"]
            .as_str()
            .is_some_and(|d| !d.is_empty())
    );
    assert!(body["code"].is_u64());
    assert_eq!(body["message"], body["error_description"]);
    body
}

pub fn assert_json(response: &Response) {
    assert_eq!(header(response, "content-type"), "application/json");
}

pub fn header(response: &Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// Waits until `condition` holds, for at most a second (how long a change made
/// elsewhere may take to reach a node's caches); fails the test otherwise. Returns how
/// long it took.
pub async fn within_a_second<F, Fut>(mut condition: F) -> std::time::Duration
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let started = std::time::Instant::now();
    loop {
        if condition().await {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(1),
            "not within a second"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}
