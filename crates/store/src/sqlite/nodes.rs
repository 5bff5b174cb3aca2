//! What several processes on one database share beyond the records: failure throttles
//! and the invalidation log. On SQLite the other processes are the admin CLI and any
//! second server on the same file.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use paddock_core::store::{
    ChangeFeed, Invalidation, InvalidationStore, StoreResult, ThrottleStore, Versioned,
};
use paddock_core::throttle::ThrottleWindow;
use sqlx::{Row, SqliteConnection};

use super::{SqliteStore, backend, corrupt, parse_ts, ts};

/// Writes `change` to the invalidation log, in the transaction that makes it.
pub(super) async fn log_invalidation(
    tx: &mut SqliteConnection,
    change: &Invalidation,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let (kind, target) = change.encode();
    sqlx::query("INSERT INTO invalidations (kind, target, created_at) VALUES ($1, $2, $3)")
        .bind(kind)
        .bind(target)
        .bind(ts(now))
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
    Ok(())
}

fn invalidation(kind: &str, target: &[u8]) -> StoreResult<Invalidation> {
    Invalidation::decode(kind, target).ok_or_else(|| {
        corrupt(format!(
            "an invalidation of kind `{kind}` that does not parse"
        ))
    })
}

/// SQLite has no notifications: a node looks at the log a few times a second, which
/// costs one indexed read.
struct Poll;

/// How long a node may go without looking at the log.
const POLL_EVERY: Duration = Duration::from_millis(100);

#[async_trait]
impl ChangeFeed for Poll {
    async fn next(&mut self) -> StoreResult<()> {
        tokio::time::sleep(POLL_EVERY).await;
        Ok(())
    }
}

#[async_trait]
impl InvalidationStore for SqliteStore {
    async fn invalidations_since(&self, seq: i64) -> StoreResult<Vec<(i64, Invalidation)>> {
        sqlx::query("SELECT seq, kind, target FROM invalidations WHERE seq > $1 ORDER BY seq")
            .bind(seq)
            .fetch_all(&self.reads)
            .await
            .map_err(backend)?
            .iter()
            .map(|row| {
                let kind: String = row.try_get("kind").map_err(backend)?;
                let target: Vec<u8> = row.try_get("target").map_err(backend)?;
                Ok((
                    row.try_get("seq").map_err(backend)?,
                    invalidation(&kind, &target)?,
                ))
            })
            .collect()
    }

    async fn latest_invalidation(&self) -> StoreResult<i64> {
        sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM invalidations")
            .fetch_one(&self.reads)
            .await
            .map_err(backend)
    }

    async fn change_feed(&self) -> StoreResult<Box<dyn ChangeFeed>> {
        Ok(Box::new(Poll))
    }

    async fn purge_invalidations(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        let delete =
            sqlx::query("DELETE FROM invalidations WHERE created_at < $1").bind(ts(before));
        let done = self.write_one(delete, backend).await?;
        Ok(done.rows_affected())
    }
}

#[async_trait]
impl ThrottleStore for SqliteStore {
    async fn throttle(&self, key: &str) -> StoreResult<Option<Versioned<ThrottleWindow>>> {
        let row = sqlx::query("SELECT started, failures, version FROM throttles WHERE key = $1")
            .bind(key)
            .fetch_optional(&self.reads)
            .await
            .map_err(backend)?;
        let Some(row) = row else {
            return Ok(None);
        };
        let failures: i64 = row.try_get("failures").map_err(backend)?;
        Ok(Some(Versioned {
            value: ThrottleWindow {
                started: parse_ts(row.try_get("started").map_err(backend)?)?,
                failures: u32::try_from(failures).unwrap_or(u32::MAX),
            },
            version: row.try_get("version").map_err(backend)?,
        }))
    }

    async fn save_throttle(
        &self,
        key: &str,
        window: &ThrottleWindow,
        expected: Option<i64>,
    ) -> StoreResult<bool> {
        let started = ts(window.started);
        let failures = i64::from(window.failures);
        let save = match expected {
            None => sqlx::query(
                "INSERT INTO throttles (key, started, failures, version) \
                 VALUES ($1, $2, $3, 1) ON CONFLICT (key) DO NOTHING",
            )
            .bind(key)
            .bind(started)
            .bind(failures),
            Some(version) => sqlx::query(
                "UPDATE throttles SET started = $2, failures = $3, version = version + 1 \
                 WHERE key = $1 AND version = $4",
            )
            .bind(key)
            .bind(started)
            .bind(failures)
            .bind(version),
        };
        let done = self.write_one(save, backend).await?;
        Ok(done.rows_affected() == 1)
    }

    async fn forget_throttle(&self, key: &str) -> StoreResult<()> {
        let delete = sqlx::query("DELETE FROM throttles WHERE key = $1").bind(key);
        self.write_one(delete, backend).await?;
        Ok(())
    }

    async fn purge_throttles(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        let delete = sqlx::query("DELETE FROM throttles WHERE started < $1").bind(ts(before));
        let done = self.write_one(delete, backend).await?;
        Ok(done.rows_affected())
    }
}
