//! The SQLite backend: one file, WAL journal, migrations embedded and applied at open.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};
use paddock_core::store::{Conflict, Missing, Store, StoreError, StoreResult, Tx};
use sqlx::migrate::{MigrateError, Migrator};
use sqlx::query::Query;
use sqlx::sqlite::{
    SqliteArguments, SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteQueryResult,
    SqliteSynchronous,
};
use sqlx::{ConnectOptions, Sqlite, SqliteConnection, SqlitePool};

use batch::Lent;

use crate::OpenError;

mod accounts;
mod batch;
mod brokers;
mod clients;
mod grants;
mod market;
mod nodes;
mod sessions;
mod trading;
mod watchlists;

static MIGRATOR: Migrator = sqlx::migrate!("./migrations/sqlite");

/// A pool of readers and one writer on one file. SQLite has one writer at a time:
/// writers that each held a connection of a shared pool would meet in SQLite's busy
/// handler, which waits by sleeping (milliseconds at a time, growing), so a burst of
/// token issuance queued in sleeps. All writes go through `batch`, the writer task on
/// a connection of its own, and queue in order there; reads use `reads`, which WAL
/// lets run beside the writer.
pub struct SqliteStore {
    reads: SqlitePool,
    batch: batch::GroupCommit,
    checkpoints: tokio::task::AbortHandle,
}

impl Drop for SqliteStore {
    fn drop(&mut self) {
        self.checkpoints.abort();
    }
}

/// The WAL pages past which the writer's commit runs SQLite's own checkpoint (its
/// default is 1,000). That commit copies what the task beside it has not yet copied
/// and syncs the database file, and the requests of its group wait for it: the fewer
/// pages, the shorter that wait. At 300, the p99 of paced issuance and redemption was
/// 7–9 ms against 10–11 ms at 1,000, and 14–28 ms at 10,000 (BENCHMARKS.md).
const WRITER_CHECKPOINT_PAGES: &str = "300";

/// How often the WAL is checkpointed beside the writer.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(100);

/// Copies the WAL's committed pages into the database file from a reader's
/// connection, beside the writer. SQLite's own checkpoint runs inside the commit that
/// takes the WAL past 1,000 pages, and the writes and the sync it makes there stall
/// every request waiting for the group; the pages already copied here it skips.
async fn checkpoint(reads: SqlitePool) {
    let mut every = tokio::time::interval(CHECKPOINT_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        // A checkpoint that fails (the disk, say) is tried again at the next tick,
        // and the writer's own still runs.
        if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&reads)
            .await
        {
            tracing::debug!(error = %e, "WAL checkpoint failed");
        }
    }
}

impl SqliteStore {
    pub async fn open(path: &Path) -> Result<Self, OpenError> {
        let shown = path.display().to_string();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
            && !dir.is_dir()
        {
            return Err(OpenError::MissingDirectory {
                path: shown,
                dir: dir.display().to_string(),
            });
        }
        // Pragmas go in the connect options, so that every pooled connection has them.
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // Every commit is synced: a revocation, once answered, survives a power loss.
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            // A statement's own journal (kept so that a many-row INSERT that fails
            // halfway undoes only itself) in memory rather than in a temporary file:
            // it is never needed after a crash.
            .pragma("temp_store", "memory")
            .busy_timeout(Duration::from_secs(10));
        let cannot_connect = |e: sqlx::Error| OpenError::Connect {
            path: shown.clone(),
            reason: format!("{e}; check the path and its permissions"),
        };
        // The writer first: it creates the file and applies the migrations.
        let writer_options = options
            .clone()
            .pragma("wal_autocheckpoint", WRITER_CHECKPOINT_PAGES);
        let mut writer = writer_options.connect().await.map_err(cannot_connect)?;
        MIGRATOR.run(&mut writer).await.map_err(|e| match e {
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
        let reads = SqlitePoolOptions::new()
            .max_connections(8)
            // A read needs no round trip to check its connection first.
            .test_before_acquire(false)
            .connect_with(options.clone())
            .await
            .map_err(cannot_connect)?;
        let batch =
            batch::GroupCommit::start(writer_options, writer).map_err(|e| OpenError::Connect {
                path: shown.clone(),
                reason: format!("cannot start the writer thread: {e}"),
            })?;
        Ok(Self {
            checkpoints: tokio::spawn(checkpoint(reads.clone())).abort_handle(),
            reads,
            batch,
        })
    }
}

/// A unit of work: a savepoint in the writer's group transaction (begun with `BEGIN
/// IMMEDIATE`, which takes the write lock up front), committed with its group.
pub struct SqliteTx {
    tx: Lent,
}

#[async_trait]
impl Tx for SqliteTx {
    async fn commit(self: Box<Self>) -> StoreResult<()> {
        self.tx.commit().await
    }
}

impl SqliteStore {
    /// A unit of work of this backend's own type, for the writes that change several
    /// rows together.
    async fn write(&self) -> StoreResult<Lent> {
        self.batch.lend().await
    }

    /// Runs one statement as a unit of work of its own; a failure of the statement is
    /// told by `error`.
    async fn write_one(
        &self,
        statement: Query<'_, Sqlite, SqliteArguments>,
        error: impl FnOnce(sqlx::Error) -> StoreError,
    ) -> StoreResult<SqliteQueryResult> {
        let mut unit = self.write().await?;
        let done = statement.execute(&mut *unit).await.map_err(error)?;
        unit.commit().await?;
        Ok(done)
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn begin(&self) -> StoreResult<Box<dyn Tx>> {
        Ok(Box::new(SqliteTx {
            tx: self.write().await?,
        }))
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1")
            .execute(&self.reads)
            .await
            .map_err(backend)?;
        Ok(())
    }
}

/// Timestamps are stored as fixed-width RFC 3339 text in UTC, so that comparing the
/// text in SQL compares the instants.
fn ts(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn parse_ts(text: &str) -> StoreResult<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| corrupt(format!("timestamp `{text}`: {e}")))
}

fn parse_opt_ts(text: Option<String>) -> StoreResult<Option<DateTime<Utc>>> {
    text.as_deref().map(parse_ts).transpose()
}

fn parse_field<T: FromStr>(what: &str, text: &str) -> StoreResult<T>
where
    T::Err: std::fmt::Display,
{
    text.parse()
        .map_err(|e| corrupt(format!("{what} `{text}`: {e}")))
}

fn corrupt(message: String) -> StoreError {
    StoreError::Backend(format!("unreadable row: {message}").into())
}

/// A database error: `Unavailable` when the database could not be reached in time
/// (the request may succeed later), else `Backend`.
fn backend(e: sqlx::Error) -> StoreError {
    match e {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
            StoreError::Unavailable(e.to_string())
        }
        e => StoreError::Backend(Box::new(e)),
    }
}

/// Maps a violation of the one unique constraint a write can break to `unique`.
/// SQLite does not name its constraints in errors, so each write first checks, in its
/// transaction, what else could conflict (and what it refers to), leaving only one
/// constraint to be broken by the insert itself.
fn write_error(e: sqlx::Error, unique: Conflict) -> StoreError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(unique),
        _ => backend(e),
    }
}

/// `Missing(what)` unless `exists` (a `SELECT 1 … WHERE key = $1`) finds `id`,
/// checked inside `tx`.
async fn must_exist(
    tx: &mut SqliteConnection,
    exists: &'static str,
    id: String,
    what: Missing,
) -> StoreResult<()> {
    let found = sqlx::query(exists)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(backend)?;
    match found {
        Some(_) => Ok(()),
        None => Err(StoreError::Missing(what)),
    }
}

#[cfg(test)]
mod tests {
    use paddock_core::ids::{ClientId, GrantId};
    use paddock_core::oauth::grant::{PresentedCode, TokenIssue};
    use paddock_core::secret::Digest;
    use paddock_core::store::{GrantStore, ThrottleStore};
    use paddock_core::throttle::ThrottleWindow;

    use super::*;

    /// A code presented for redemption whose requester gave up while it waited, and
    /// that then formed a group alone: the group still ends its transaction, so that
    /// the next unit of work can begin one.
    #[tokio::test]
    async fn a_redemption_abandoned_alone_in_its_group_leaves_the_writer_usable() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("s.db")).await.unwrap();
        let held = store.begin().await.unwrap();
        let presented = PresentedCode {
            code: Digest::of("a code nobody waits for"),
            client_id: ClientId::parse("dfb6e06fcdb65cb9034ac9c8dcbe027f").unwrap(),
            redirect_uri: "http://localhost/cb".into(),
            code_verifier: None,
            issue: TokenIssue {
                id: GrantId::timed(),
                digest: Digest::of("its token"),
                issued_at: DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
                expires_at: None,
            },
        };
        let gave_up =
            tokio::time::timeout(Duration::from_millis(50), store.redeem_code(presented)).await;
        assert!(
            gave_up.is_err(),
            "the writer was held, so the redemption waited"
        );
        held.commit().await.unwrap();
        // The writer takes the abandoned redemption as a group of its own.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let window = ThrottleWindow {
            started: DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
            failures: 1,
        };
        assert!(store.save_throttle("after", &window, None).await.unwrap());
    }

    #[tokio::test]
    async fn the_writer_checkpoints_early() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("s.db")).await.unwrap();
        let mut unit = store.write().await.unwrap();
        let pages: i64 = sqlx::query_scalar("PRAGMA wal_autocheckpoint")
            .fetch_one(&mut *unit)
            .await
            .unwrap();
        assert_eq!(pages.to_string(), WRITER_CHECKPOINT_PAGES);
    }

    #[tokio::test]
    async fn every_commit_is_synced() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("s.db")).await.unwrap();
        let level: i64 = sqlx::query_scalar("PRAGMA synchronous")
            .fetch_one(&store.reads)
            .await
            .unwrap();
        assert_eq!(
            level, 2,
            "synchronous=FULL: an answered revocation survives power loss"
        );
    }

    /// A few pages written reach the database file itself within moments: SQLite's
    /// own checkpoint would wait for 1,000 of them, so only the task beside the writer
    /// puts them there.
    #[tokio::test]
    async fn the_wal_is_checkpointed_beside_the_writer() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let store = SqliteStore::open(&path).await.unwrap();
        let key = "a key to find in the database file";
        let window = ThrottleWindow {
            started: DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
            failures: 1,
        };
        assert!(store.save_throttle(key, &window, None).await.unwrap());
        let started = std::time::Instant::now();
        loop {
            let file = std::fs::read(&path).unwrap();
            if file.windows(key.len()).any(|w| w == key.as_bytes()) {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "the row is still only in the WAL"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
