//! Opening a store: PostgreSQL nodes starting together, a schema newer than the
//! binary, a database (either backend) an older paddock left, a PostgreSQL that does
//! not answer.

use std::time::{Duration, Instant};

use chrono::DateTime;
use paddock_core::secret::Digest;
use paddock_store::{DatabaseUrl, OpenError, PgOptions, PgStore, open};

use super::{SchemaGuard, postgres_base};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_nodes_migrate_together_and_refuse_a_newer_schema() {
    let Some(base) = postgres_base() else {
        return;
    };
    let guard = SchemaGuard::create(&base).await;
    let url = DatabaseUrl::parse(&guard.url()).unwrap();
    // Three nodes starting at once: the migrator's advisory lock lets one migrate
    // while the others wait, then find nothing to do.
    let (a, b, c) = tokio::join!(open(&url), open(&url), open(&url));
    for opened in [a, b, c] {
        opened.unwrap().ping().await.unwrap();
    }

    let mut admin = <sqlx::PgConnection as sqlx::Connection>::connect(&base)
        .await
        .unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "INSERT INTO {}._sqlx_migrations (version, description, success, checksum, \
         execution_time) VALUES (9999, 'from the future', true, '\\x00', 0)",
        guard.schema
    )))
    .execute(&mut admin)
    .await
    .unwrap();
    match open(&url).await {
        Err(OpenError::NewerSchema { version, .. }) => assert_eq!(version, 9999),
        Err(other) => panic!("expected NewerSchema, got {other}"),
        Ok(_) => panic!("expected NewerSchema, got a store"),
    }
}

/// Opens `postgres://paddock:s3cret-pw@127.0.0.1:PORT/paddock` with a short acquire
/// timeout: it must fail within a bound, as `Connect`, with the password hidden.
async fn open_fails_fast_and_redacted(port: u16) -> String {
    let url = format!("postgres://paddock:s3cret-pw@127.0.0.1:{port}/paddock");
    let DatabaseUrl::Postgres(url) = DatabaseUrl::parse(&url).unwrap() else {
        panic!("a PostgreSQL URL");
    };
    let options = PgOptions {
        acquire_timeout: Duration::from_millis(300),
        ..PgOptions::default()
    };
    let started = Instant::now();
    let Err(error) = PgStore::open(&url, options).await else {
        panic!("nothing to open on port {port}");
    };
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert!(matches!(error, OpenError::Connect { .. }), "{error:?}");
    let shown = error.to_string();
    assert!(!shown.contains("s3cret-pw"), "{shown}");
    assert!(shown.contains("paddock:***@127.0.0.1"), "{shown}");
    shown
}

#[tokio::test]
async fn a_refused_postgres_connection_fails_fast_without_showing_the_password() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let shown = open_fails_fast_and_redacted(port).await;
    assert!(
        shown.contains("check that PostgreSQL is running"),
        "{shown}"
    );
}

#[tokio::test]
async fn a_silent_postgres_fails_fast_without_showing_the_password() {
    // Accepts connections and never answers, like a server that hangs.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = silent.local_addr().unwrap().port();
    let _held = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            held.push(socket);
        }
    });
    open_fails_fast_and_redacted(port).await;
}

/// A schema from before a spent code named its token (migrations 1 to 5, with a token
/// that names its code): once migrated, a replay of that code still revokes the token.
#[tokio::test]
async fn a_postgres_code_spent_before_the_link_moved_still_revokes_its_token() {
    let Some(base) = postgres_base() else {
        return;
    };
    let guard = SchemaGuard::create(&base).await;
    let pool = sqlx::PgPool::connect(&guard.url()).await.unwrap();
    migrations("postgres").await.run_to(5, &pool).await.unwrap();
    let (code, token) = (Digest::of("old code"), Digest::of("old token"));
    sqlx::raw_sql(
        "INSERT INTO users VALUES ('09d8585a-f555-4574-8b8f-9c425a3a76d8', 'a@b.c', 'x', \
         '2026-01-01T00:00:00Z');
         INSERT INTO brokers VALUES ('d88d3021-ad15-44bd-a504-8b62ea7306ff', 'B', \
         'BK4OLDFU9OHK0DHWEBVR', sha256('b'), '2026-01-01T00:00:00Z');
         INSERT INTO accounts (id, user_id, broker_id, env, account_number, cash, created_at) \
         VALUES ('eb5e157c-f03e-4671-a464-6a0649a4542f', \
         '09d8585a-f555-4574-8b8f-9c425a3a76d8', 'd88d3021-ad15-44bd-a504-8b62ea7306ff', \
         'paper', 'PA1', 0, '2026-01-01T00:00:00Z');
         INSERT INTO clients VALUES ('dfb6e06fcdb65cb9034ac9c8dcbe027f', \
         'd88d3021-ad15-44bd-a504-8b62ea7306ff', sha256('c'), 'App', '', 'https://a.example', \
         'https://a.example', 'https://a.example', 'ACTIVE', ARRAY['http://localhost/cb'], \
         false, '2026-01-01T00:00:00Z');",
    )
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO auth_codes (digest, client_id, user_id, redirect_uri, scopes, \
         paper_account_id, created_at, expires_at, redeemed_at) VALUES ($1, \
         'dfb6e06fcdb65cb9034ac9c8dcbe027f', '09d8585a-f555-4574-8b8f-9c425a3a76d8', \
         'http://localhost/cb', 'trading', 'eb5e157c-f03e-4671-a464-6a0649a4542f', \
         '2026-01-01T00:00:00Z', '2099-01-01T00:00:00Z', '2026-01-01T00:00:01Z')",
    )
    .bind(&code.as_bytes()[..])
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO tokens (digest, id, client_id, user_id, scopes, paper_account_id, \
         code_digest, created_at) VALUES ($1, '0193c2a4-7f00-7000-8000-000000000001', \
         'dfb6e06fcdb65cb9034ac9c8dcbe027f', '09d8585a-f555-4574-8b8f-9c425a3a76d8', \
         'trading', 'eb5e157c-f03e-4671-a464-6a0649a4542f', $2, '2026-01-01T00:00:01Z')",
    )
    .bind(&token.as_bytes()[..])
    .bind(&code.as_bytes()[..])
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;
    a_replay_revokes(&guard.url(), code, token).await;
}

/// A database file from before a spent code named its token (migrations 1 to 7, with
/// a token that names its code): once migrated, a replay of that code still revokes
/// the token.
#[tokio::test]
async fn a_sqlite_code_spent_before_the_link_moved_still_revokes_its_token() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    let pool = sqlite_at_version(&path, 7).await;
    let (code, token) = (Digest::of("old code"), Digest::of("old token"));
    sqlx::query(
        "INSERT INTO users VALUES ('09d8585a-f555-4574-8b8f-9c425a3a76d8', 'a@b.c', 'x', \
         '2026-01-01T00:00:00.000000Z');
         INSERT INTO brokers VALUES ('d88d3021-ad15-44bd-a504-8b62ea7306ff', 'B', \
         'BK4OLDFU9OHK0DHWEBVR', x'00', '2026-01-01T00:00:00.000000Z');
         INSERT INTO accounts (id, user_id, broker_id, env, account_number, created_at) \
         VALUES ('eb5e157c-f03e-4671-a464-6a0649a4542f', \
         '09d8585a-f555-4574-8b8f-9c425a3a76d8', 'd88d3021-ad15-44bd-a504-8b62ea7306ff', \
         'paper', 'PA1', '2026-01-01T00:00:00.000000Z');
         INSERT INTO clients VALUES ('dfb6e06fcdb65cb9034ac9c8dcbe027f', \
         'd88d3021-ad15-44bd-a504-8b62ea7306ff', x'00', 'App', '', 'https://a.example', \
         'https://a.example', 'https://a.example', 'ACTIVE', '[\"http://localhost/cb\"]', 0, \
         '2026-01-01T00:00:00.000000Z');
         INSERT INTO auth_codes VALUES ($1, 'dfb6e06fcdb65cb9034ac9c8dcbe027f', \
         '09d8585a-f555-4574-8b8f-9c425a3a76d8', 'http://localhost/cb', 'trading', NULL, \
         'eb5e157c-f03e-4671-a464-6a0649a4542f', NULL, '2026-01-01T00:00:00.000000Z', \
         '2099-01-01T00:00:00.000000Z', '2026-01-01T00:00:01.000000Z');
         INSERT INTO tokens VALUES ($2, '0193c2a4-7f00-7000-8000-000000000001', \
         'dfb6e06fcdb65cb9034ac9c8dcbe027f', '09d8585a-f555-4574-8b8f-9c425a3a76d8', \
         'trading', NULL, 'eb5e157c-f03e-4671-a464-6a0649a4542f', $1, \
         '2026-01-01T00:00:01.000000Z', NULL, NULL, NULL);",
    )
    .bind(&code.as_bytes()[..])
    .bind(&token.as_bytes()[..])
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;
    a_replay_revokes(&path.display().to_string(), code, token).await;
}

/// A database file from before cash was kept in billionths: once migrated, its text
/// cash is the same amount, exactly.
#[tokio::test]
async fn a_sqlite_account_with_text_cash_is_migrated_to_exact_billionths() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    let pool = sqlite_at_version(&path, 2).await;
    sqlx::raw_sql(
        "INSERT INTO users VALUES ('09d8585a-f555-4574-8b8f-9c425a3a76d8', 'a@b.c', 'x', \
         '2026-01-01T00:00:00.000000Z');
         INSERT INTO brokers VALUES ('d88d3021-ad15-44bd-a504-8b62ea7306ff', 'B', \
         'BK4OLDFU9OHK0DHWEBVR', x'00', '2026-01-01T00:00:00.000000Z');
         INSERT INTO accounts VALUES ('eb5e157c-f03e-4671-a464-6a0649a4542f', \
         '09d8585a-f555-4574-8b8f-9c425a3a76d8', 'd88d3021-ad15-44bd-a504-8b62ea7306ff', \
         'paper', 'PA1', '2500.123456789', '2026-01-01T00:00:00.000000Z');",
    )
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;

    let store = open(&DatabaseUrl::parse(&path.display().to_string()).unwrap())
        .await
        .unwrap();
    let id = "eb5e157c-f03e-4671-a464-6a0649a4542f".parse().unwrap();
    let account = store.account(id).await.unwrap().unwrap();
    assert_eq!(account.cash.to_string(), "2500.123456789");
}

/// A database file at `path` as an older paddock left it: migrated up to `version`.
async fn sqlite_at_version(path: &std::path::Path, version: i64) -> sqlx::SqlitePool {
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .foreign_keys(true);
    let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
    migrations("sqlite")
        .await
        .run_to(version, &pool)
        .await
        .unwrap();
    pool
}

/// The migrations of `backend` (`sqlite` or `postgres`) as this build has them, to
/// leave a database at an older version than the store would.
async fn migrations(backend: &str) -> sqlx::migrate::Migrator {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    sqlx::migrate::Migrator::new(dir.join(backend))
        .await
        .unwrap()
}

/// Opens the store at `url`, which migrates it, and replays `code`: the token issued
/// from it is revoked.
async fn a_replay_revokes(url: &str, code: Digest, token: Digest) {
    let store = open(&DatabaseUrl::parse(url).unwrap()).await.unwrap();
    let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
    let mut tx = store.begin().await.unwrap();
    assert_eq!(
        tx.revoke_tokens_of_code(&code, now).await.unwrap(),
        vec![token]
    );
    tx.commit().await.unwrap();
    let revoked = store.token(&token).await.unwrap().unwrap();
    assert_eq!(revoked.revoked_at, Some(now));
}
