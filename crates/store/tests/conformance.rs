//! The store conformance suite: every test runs, through core's traits only, against
//! a fresh SQLite file and, when `PADDOCK_TEST_DATABASE_URL` is set, against
//! PostgreSQL in a schema of its own (created for the test, dropped after it, also
//! when it fails). The backends must answer alike.

#![expect(
    clippy::unwrap_used,
    reason = "a test helper that cannot go on should fail loudly, as a test does"
)]

use std::io::Write as _;
use std::sync::{Arc, Once};

use chrono::{DateTime, Duration, Utc};
use paddock_core::env::Env;
use paddock_core::ids::{AccountId, BrokerId, BrokerKeyId, ClientId, GrantId, UserId};
use paddock_core::model::{Account, Broker, Client, ClientStatus, User};
use paddock_core::oauth::grant::{AccountBinding, CodeGrant, NewToken};
use paddock_core::oauth::redirect::RedirectUri;
use paddock_core::oauth::scope::ScopeSet;
use paddock_core::password::{Email, PasswordHash};
use paddock_core::secret::Digest;
use paddock_core::store::Store;
use paddock_store::{DatabaseUrl, open};
use rust_decimal::Decimal;
use sqlx::Connection as _;

// A test crate's root finds its modules beside it: these live in conformance/.
#[path = "conformance/account_records.rs"]
mod account_records;
#[path = "conformance/grants.rs"]
mod grants;
#[path = "conformance/market.rs"]
mod market;
#[path = "conformance/nodes.rs"]
mod nodes;
#[path = "conformance/opening.rs"]
mod opening;
#[path = "conformance/records.rs"]
mod records;
#[path = "conformance/trading.rs"]
mod trading;

const DATABASE_VAR: &str = "PADDOCK_TEST_DATABASE_URL";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Sqlite,
    Postgres,
}

/// A store on a fresh database, and what removes that database afterwards. The store
/// is declared first, so that its pool is dropped before the schema is.
pub struct Backend {
    pub store: Arc<dyn Store>,
    pub kind: Kind,
    /// PostgreSQL: the test's schema, which also names its connections.
    pub schema: Option<String>,
    /// Held for their Drop, which removes the database.
    _dir: Option<tempfile::TempDir>,
    _schema: Option<SchemaGuard>,
}

impl Backend {
    async fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let url = dir.path().join("paddock.db").display().to_string();
        let store = open(&DatabaseUrl::parse(&url).expect("a path"))
            .await
            .expect("the SQLite store opens");
        Self {
            store,
            kind: Kind::Sqlite,
            schema: None,
            _dir: Some(dir),
            _schema: None,
        }
    }

    /// `None` (after saying so once, past the harness's capture) when no PostgreSQL
    /// server is configured.
    async fn postgres() -> Option<Self> {
        let Ok(base) = std::env::var(DATABASE_VAR) else {
            static SKIP: Once = Once::new();
            SKIP.call_once(|| {
                let line = format!("SKIP postgres conformance: {DATABASE_VAR} is not set\n");
                std::io::stderr().write_all(line.as_bytes()).ok();
            });
            return None;
        };
        let guard = SchemaGuard::create(&base).await;
        let store = open(&DatabaseUrl::parse(&guard.url()).expect("a postgres URL"))
            .await
            .expect("the PostgreSQL store opens");
        Some(Self {
            store,
            kind: Kind::Postgres,
            schema: Some(guard.schema.clone()),
            _dir: None,
            _schema: Some(guard),
        })
    }
}

/// The PostgreSQL server of the tests, if any.
pub fn postgres_base() -> Option<String> {
    std::env::var(DATABASE_VAR).ok()
}

/// A schema `paddock_t_<random>` of the test database, dropped (with everything in
/// it) when the guard is, whether the test passed or panicked.
pub struct SchemaGuard {
    base: String,
    pub schema: String,
}

impl SchemaGuard {
    pub async fn create(base: &str) -> Self {
        let schema = format!("paddock_t_{}", uuid::Uuid::new_v4().simple());
        let mut admin = sqlx::PgConnection::connect(base)
            .await
            .expect("PADDOCK_TEST_DATABASE_URL accepts connections");
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
            .execute(&mut admin)
            .await
            .expect("CREATE SCHEMA");
        admin.close().await.ok();
        Self {
            base: base.to_owned(),
            schema,
        }
    }

    /// The test database's URL with this schema as the search path; the connections
    /// carry the schema's name too, so that the guard can find and end them.
    pub fn url(&self) -> String {
        let sep = if self.base.contains('?') { '&' } else { '?' };
        format!(
            "{}{sep}options[search_path]={s}&application_name={s}",
            self.base,
            s = self.schema
        )
    }
}

impl Drop for SchemaGuard {
    fn drop(&mut self) {
        // Drop may run inside the test's runtime (even while unwinding), where one
        // cannot block on a future: a thread with a runtime of its own does the work.
        let base = self.base.clone();
        let schema = self.schema.clone();
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime");
            runtime.block_on(async move {
                let mut admin = sqlx::PgConnection::connect(&base).await?;
                // Connections the test left behind (a pool still closing, a feed)
                // would hold locks that DROP SCHEMA waits for.
                sqlx::query(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                     WHERE application_name = $1 AND pid <> pg_backend_pid()",
                )
                .bind(&schema)
                .execute(&mut admin)
                .await?;
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                    "DROP SCHEMA IF EXISTS {schema} CASCADE"
                )))
                .execute(&mut admin)
                .await?;
                admin.close().await
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            let line = format!("could not drop test schema {}: {dropped:?}\n", self.schema);
            std::io::stderr().write_all(line.as_bytes()).ok();
        }
    }
}

/// Declares each test function once per backend: `sqlite::NAME` and `postgres::NAME`.
macro_rules! conformance {
    ($($module:ident::$name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    crate::$module::$name(&super::Backend::sqlite().await).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(backend) = super::Backend::postgres().await {
                        crate::$module::$name(&backend).await;
                    }
                }
            )*
        }
    };
}

conformance! {
    records::brokers_are_stored_listed_and_unique,
    records::users_are_stored_listed_and_unique,
    records::accounts_keep_exact_cash_and_their_rules,
    records::clients_are_stored_listed_and_changed,
    records::sessions_expire_and_are_deleted,
    grants::a_code_is_redeemed_once_and_a_replay_revokes,
    grants::concurrent_redemptions_issue_one_token,
    grants::codes_redeemed_at_once_each_end_as_alone,
    grants::a_dropped_unit_of_work_changes_nothing,
    grants::tokens_are_revoked_listed_and_touched,
    grants::expired_codes_are_purged,
    grants::grants_written_at_once_fail_only_where_they_are_wrong,
    nodes::throttles_are_saved_with_a_version_check,
    nodes::every_change_is_logged_in_order,
    nodes::the_change_feed_wakes_after_a_change,
    nodes::a_follower_of_the_log_misses_nothing,
    market::prices_are_set_replaced_and_listed_exactly,
    market::the_walk_takes_each_tick_once_and_follows_its_seed,
    trading::orders_fill_rest_cancel_and_keep_exact_amounts,
    trading::orders_trade_at_the_price_stored_when_they_trade,
    account_records::configurations_default_and_are_kept_per_account,
    account_records::watchlists_keep_order_names_and_owners,
    account_records::replacements_and_fills_read_back,
}

// Fixtures: records that satisfy every rule, at times the test chooses.

/// A fixed instant, `secs` from a base, with microseconds that must survive storage.
pub fn at(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_700_000_000 + secs, 123_456_000).expect("a valid time")
}

/// A paper account, with its user and broker, stored.
pub async fn paper_account(store: &dyn Store) -> Account {
    let (u, k) = (user(1), broker(1));
    store.create_user(&u).await.unwrap();
    store.create_broker(&k).await.unwrap();
    let a = account(&u, &k, Env::Paper, 1);
    store.create_account(&a).await.unwrap();
    a
}

pub fn broker(created: i64) -> Broker {
    Broker {
        id: BrokerId::random(),
        name: format!("Broker {created}"),
        key_id: key_id(),
        secret_digest: Digest::of(&format!("broker secret {created}")),
        created_at: at(created),
    }
}

pub fn user(created: i64) -> User {
    let id = UserId::random();
    User {
        id,
        email: Email::parse(&format!("{}@example.com", id)).expect("an e-mail"),
        password_hash: PasswordHash::from_stored("$argon2id$v=19$m=19456,t=2,p=1$x$y".into()),
        created_at: at(created),
    }
}

pub fn account(user: &User, broker: &Broker, env: Env, created: i64) -> Account {
    let id = AccountId::random();
    Account {
        id,
        user_id: user.id,
        broker_id: broker.id,
        env,
        account_number: id.to_string()[..12].to_owned(),
        cash: Decimal::from(100_000),
        created_at: at(created),
    }
}

pub fn client(broker: &Broker, created: i64) -> Client {
    Client {
        client_id: client_id(),
        broker_id: broker.id,
        secret_digest: Digest::of(&format!("client secret {created}")),
        name: format!("App {created}"),
        description: "Charts".into(),
        url: "https://app.example".into(),
        terms_of_use: "https://app.example/terms".into(),
        privacy_policy: "https://app.example/privacy".into(),
        status: ClientStatus::Active,
        redirect_uris: vec![
            RedirectUri::parse("https://app.example/cb").expect("a URI"),
            RedirectUri::parse("http://127.0.0.1/cb").expect("a URI"),
        ],
        live_trading_approved: true,
        created_at: at(created),
    }
}

/// A user with a paper account and a client, all stored: what a grant needs.
pub struct Grantable {
    pub broker: Broker,
    pub user: User,
    pub paper: Account,
    pub client: Client,
}

pub async fn grantable(store: &dyn Store) -> Grantable {
    let broker = broker(0);
    let user = user(0);
    let paper = account(&user, &broker, Env::Paper, 0);
    let client = client(&broker, 0);
    store.create_broker(&broker).await.expect("broker");
    store.create_user(&user).await.expect("user");
    store.create_account(&paper).await.expect("account");
    store.create_client(&client).await.expect("client");
    Grantable {
        broker,
        user,
        paper,
        client,
    }
}

impl Grantable {
    pub fn code(&self, created: i64) -> CodeGrant {
        CodeGrant {
            client_id: self.client.client_id.clone(),
            user_id: self.user.id,
            redirect_uri: "https://app.example/cb".into(),
            scopes: ScopeSet::parse("trading data").expect("scopes"),
            accounts: AccountBinding::single(Env::Paper, self.paper.id),
            code_challenge: None,
            created_at: at(created),
            expires_at: at(created) + Duration::minutes(10),
        }
    }

    pub fn token(&self, secret: &str, created: i64, expires: Option<i64>) -> NewToken {
        NewToken {
            id: GrantId::random(),
            digest: Digest::of(secret),
            client_id: self.client.client_id.clone(),
            user_id: self.user.id,
            scopes: ScopeSet::parse("trading").expect("scopes"),
            accounts: AccountBinding::single(Env::Paper, self.paper.id),
            created_at: at(created),
            expires_at: expires.map(at),
        }
    }
}

/// A random client id: a UUID's 32 hex digits are one.
pub fn client_id() -> ClientId {
    ClientId::parse(&uuid::Uuid::new_v4().simple().to_string()).expect("32 hex digits")
}

fn key_id() -> BrokerKeyId {
    let hex = uuid::Uuid::new_v4().simple().to_string().to_uppercase();
    BrokerKeyId::parse(&format!("BK{}", &hex[..18])).expect("BK and 18 of A-Z0-9")
}
