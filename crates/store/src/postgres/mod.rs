//! The PostgreSQL backend: a connection pool, migrations embedded and applied at open
//! (under sqlx's advisory lock, so that nodes starting together do not race), and
//! LISTEN/NOTIFY to wake other nodes when the invalidation log grows.
//!
//! Every query uses unqualified table names, so that a URL carrying
//! `options[search_path]=SCHEMA` keeps paddock (and its `_sqlx_migrations`) in that
//! schema: tests and side-by-side deployments share one database that way.

use std::fmt::Display;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use paddock_core::secret::Digest;
use paddock_core::store::{Store, StoreError, StoreResult, Tx};
use sqlx::migrate::{MigrateError, Migrator};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection as _, PgConnection, PgPool, Postgres, Transaction};
use uuid::Uuid;

use crate::{OpenError, PostgresUrl};

mod accounts;
mod brokers;
mod clients;
mod errors;
mod feed;
mod grants;
mod market;
mod nodes;
mod sessions;
mod trading;
mod watchlists;

pub(crate) use errors::{backend, write_error};

static MIGRATOR: Migrator = sqlx::migrate!("./migrations/postgres");

/// How the store talks to PostgreSQL.
#[derive(Clone, Debug)]
pub struct PgOptions {
    /// How long a query waits for a pooled connection (and [`PgStore::open`] for its
    /// first one) before failing with `Unavailable`: a dead database answers within
    /// this bound instead of hanging the request.
    pub acquire_timeout: Duration,
    /// The most connections the pool opens; the change feed uses one more of its own.
    pub max_connections: u32,
}

impl PgOptions {
    /// The default [`PgOptions::acquire_timeout`].
    pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);
}

impl Default for PgOptions {
    fn default() -> Self {
        Self {
            acquire_timeout: Self::ACQUIRE_TIMEOUT,
            max_connections: 10,
        }
    }
}

pub struct PgStore {
    pool: PgPool,
    /// Kept for the change feed, which holds a connection of its own.
    connect: PgConnectOptions,
    options: PgOptions,
}

impl PgStore {
    /// Connects, then applies the migrations this binary has and the database lacks.
    /// Errors show the URL redacted, never its password.
    pub async fn open(url: &PostgresUrl, options: PgOptions) -> Result<Self, OpenError> {
        let shown = url.to_string();
        let connect_error = |reason: String| OpenError::Connect {
            path: shown.clone(),
            reason,
        };
        let mut connect = PgConnectOptions::from_str(url.expose())
            .map_err(|e| connect_error(format!("malformed URL ({e})")))?;
        // Named in `pg_stat_activity`, unless the URL names its connections itself.
        if connect.get_application_name().is_none() {
            connect = connect.application_name("paddock");
        }
        // A pool that cannot connect reports only that it timed out; one direct
        // connection first says why (refused, unknown host, authentication, no such
        // database), within the same bound.
        let hint = "check that PostgreSQL is running and accepts this host, port, user and \
                    database";
        let probe = tokio::time::timeout(
            options.acquire_timeout,
            PgConnection::connect_with(&connect),
        );
        match probe.await {
            Ok(Ok(probe)) => probe.close().await.ok(),
            Ok(Err(e)) => return Err(connect_error(format!("{e}; {hint}"))),
            Err(_) => {
                let waited = options.acquire_timeout;
                return Err(connect_error(format!(
                    "no answer within {waited:?}; {hint}"
                )));
            }
        };
        let pool = PgPoolOptions::new()
            .max_connections(options.max_connections)
            .acquire_timeout(options.acquire_timeout)
            .connect_with(connect.clone())
            .await
            .map_err(|e| connect_error(format!("{e}; {hint}")))?;
        // `run` takes PostgreSQL's advisory lock for the database (sqlx's default,
        // kept): a second node starting at the same time waits, then finds the
        // migrations applied.
        MIGRATOR.run(&pool).await.map_err(|e| match e {
            // A migration the database has but this binary does not: a newer paddock
            // wrote it.
            MigrateError::VersionMissing(version) => OpenError::NewerSchema {
                path: shown.clone(),
                version,
            },
            other => OpenError::Migrate {
                path: shown.clone(),
                reason: other.to_string(),
            },
        })?;
        Ok(Self {
            pool,
            connect,
            options,
        })
    }

    async fn write(&self) -> StoreResult<Transaction<'static, Postgres>> {
        self.pool.begin().await.map_err(backend)
    }
}

/// A unit of work: one PostgreSQL transaction (READ COMMITTED; each write that must
/// not race says how it avoids racing, like `spend_code`'s conditional update).
pub struct PgTx {
    tx: Transaction<'static, Postgres>,
}

#[async_trait]
impl Tx for PgTx {
    async fn commit(self: Box<Self>) -> StoreResult<()> {
        self.tx.commit().await.map_err(backend)
    }
}

#[async_trait]
impl Store for PgStore {
    async fn begin(&self) -> StoreResult<Box<dyn Tx>> {
        Ok(Box::new(PgTx {
            tx: self.write().await?,
        }))
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }
}

/// The UUID of a typed id, to bind as PostgreSQL's `UUID`. Core's ids show it only
/// through `Display`, which always writes a hyphenated UUID; should parsing it back
/// ever fail, the query is refused rather than run with a wrong id.
fn uuid(id: impl Display) -> StoreResult<Uuid> {
    let text = id.to_string();
    Uuid::parse_str(&text).map_err(|e| corrupt(format!("id `{text}`: {e}")))
}

fn digest_from(what: &str, bytes: &[u8]) -> StoreResult<Digest> {
    Digest::from_bytes(bytes).ok_or_else(|| corrupt(format!("{what} of {} bytes", bytes.len())))
}

fn parse_field<T: FromStr>(what: &str, text: &str) -> StoreResult<T>
where
    T::Err: Display,
{
    text.parse()
        .map_err(|e| corrupt(format!("{what} `{text}`: {e}")))
}

fn corrupt(message: String) -> StoreError {
    StoreError::Backend(format!("unreadable row: {message}").into())
}
