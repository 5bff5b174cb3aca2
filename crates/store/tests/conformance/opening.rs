//! Opening a PostgreSQL store: nodes starting together, a schema newer than the
//! binary, a database that does not answer.

use std::time::{Duration, Instant};

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
