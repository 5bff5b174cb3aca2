//! A fresh database for one test: a SQLite file in a temporary directory or, when the
//! run is on PostgreSQL (`PADDOCK_TEST_BACKEND=postgres` with
//! `PADDOCK_TEST_DATABASE_URL`), a schema of its own in that database, dropped when
//! the test ends, passed or failed.

use std::path::PathBuf;

use sqlx::{AssertSqlSafe, Connection as _};

// Schema and table names below are ours (a UUID, the catalogue's), never input.

/// Which backend this run of the suite is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub fn backend() -> Backend {
    match std::env::var("PADDOCK_TEST_BACKEND").as_deref() {
        Ok("postgres") => Backend::Postgres,
        Ok("sqlite") | Err(_) => Backend::Sqlite,
        Ok(other) => panic!("PADDOCK_TEST_BACKEND={other}: use sqlite or postgres"),
    }
}

fn postgres_url() -> String {
    std::env::var("PADDOCK_TEST_DATABASE_URL")
        .expect("PADDOCK_TEST_BACKEND=postgres needs PADDOCK_TEST_DATABASE_URL")
}

pub struct TestDb {
    /// What `--database` takes: a file path, or a PostgreSQL URL whose search_path is
    /// this test's schema.
    pub url: String,
    /// The SQLite file, on SQLite.
    pub path: Option<PathBuf>,
    schema: Option<String>,
    _dir: tempfile::TempDir,
}

impl TestDb {
    pub async fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        match backend() {
            Backend::Sqlite => {
                let path = dir.path().join("paddock.db");
                Self {
                    url: path.to_str().expect("utf-8 path").to_owned(),
                    path: Some(path),
                    schema: None,
                    _dir: dir,
                }
            }
            Backend::Postgres => {
                let base = postgres_url();
                let schema = format!("paddock_t_{}", uuid::Uuid::new_v4().simple());
                let mut conn = sqlx::PgConnection::connect(&base)
                    .await
                    .expect("connect to PADDOCK_TEST_DATABASE_URL");
                sqlx::query(AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
                    .execute(&mut conn)
                    .await
                    .expect("create the test schema");
                let separator = if base.contains('?') { '&' } else { '?' };
                Self {
                    // Named after the schema, so that the drop can end what is left.
                    url: format!(
                        "{base}{separator}options[search_path]={schema}&application_name={schema}"
                    ),
                    path: None,
                    schema: Some(schema),
                    _dir: dir,
                }
            }
        }
    }

    /// Everything the database holds, as bytes to search: the SQLite file and its WAL,
    /// or the text of every row of every table of the schema.
    pub async fn contents(&self) -> Vec<u8> {
        if let Some(path) = &self.path {
            let mut bytes = std::fs::read(path).unwrap();
            if let Ok(more) = std::fs::read(path.with_extension("db-wal")) {
                bytes.extend(more);
            }
            return bytes;
        }
        let schema = self.schema.as_deref().unwrap();
        let mut conn = sqlx::PgConnection::connect(&postgres_url()).await.unwrap();
        let tables: Vec<String> = sqlx::query_scalar(
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = $1",
        )
        .bind(schema)
        .fetch_all(&mut conn)
        .await
        .unwrap();
        let mut bytes = Vec::new();
        for table in tables {
            let rows: Option<String> = sqlx::query_scalar(AssertSqlSafe(format!(
                "SELECT string_agg(t::text, E'\\n') FROM {schema}.\"{table}\" t"
            )))
            .fetch_one(&mut conn)
            .await
            .unwrap();
            bytes.extend(rows.unwrap_or_default().into_bytes());
        }
        bytes
    }
}

impl Drop for TestDb {
    /// Drops the schema from a thread of its own: a drop cannot await, and the test's
    /// runtime may be the one ending. Its connections are ended first: one the app
    /// left inside a transaction (its runtime blocked by this very drop, or gone)
    /// would hold locks that DROP SCHEMA waits for.
    fn drop(&mut self) {
        let Some(schema) = self.schema.take() else {
            return;
        };
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async {
                let mut conn = sqlx::PgConnection::connect(&postgres_url()).await.ok()?;
                sqlx::query(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                     WHERE application_name = $1 AND pid <> pg_backend_pid()",
                )
                .bind(&schema)
                .execute(&mut conn)
                .await
                .ok()?;
                sqlx::query(AssertSqlSafe(format!(
                    "DROP SCHEMA IF EXISTS {schema} CASCADE"
                )))
                .execute(&mut conn)
                .await
                .ok()
            })
        })
        .join();
        if !matches!(dropped, Ok(Some(_))) {
            eprintln!("could not drop the test schema");
        }
    }
}
