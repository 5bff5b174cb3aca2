//! What several nodes on one database share beyond the records: failure throttles and
//! the invalidation log, whose growth they learn of through `NOTIFY`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use paddock_core::store::{
    ChangeFeed, Invalidation, InvalidationStore, StoreResult, ThrottleStore, Versioned,
};
use paddock_core::throttle::ThrottleWindow;
use sqlx::{Postgres, Row, Transaction};

use super::feed::{CHANNEL, NotifiedFeed};
use super::{PgStore, backend, corrupt};

/// Writes `change` to the invalidation log, in the transaction that makes it, and
/// notifies every listening node (PostgreSQL delivers the notification at commit, and
/// not at all on rollback).
///
/// The table lock serialises the writers of the log until they commit, so that
/// sequence numbers become visible in order: without it, a transaction holding seq 7
/// could commit after another's seq 8 had been read, and a node that had moved past 8
/// would never see 7. Readers (plain `SELECT`s) are not blocked; revocations are rare
/// enough that writers queueing costs nothing.
pub(super) async fn log_invalidation(
    tx: &mut Transaction<'static, Postgres>,
    change: &Invalidation,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let (kind, target) = change.encode();
    sqlx::query("LOCK TABLE invalidations IN EXCLUSIVE MODE")
        .execute(&mut **tx)
        .await
        .map_err(backend)?;
    sqlx::query("INSERT INTO invalidations (kind, target, created_at) VALUES ($1, $2, $3)")
        .bind(kind)
        .bind(target)
        .bind(now)
        .execute(&mut **tx)
        .await
        .map_err(backend)?;
    sqlx::query("SELECT pg_notify($1, '')")
        .bind(CHANNEL)
        .execute(&mut **tx)
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

#[async_trait]
impl InvalidationStore for PgStore {
    async fn invalidations_since(&self, seq: i64) -> StoreResult<Vec<(i64, Invalidation)>> {
        sqlx::query("SELECT seq, kind, target FROM invalidations WHERE seq > $1 ORDER BY seq")
            .bind(seq)
            .fetch_all(&self.pool)
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
        sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0)::BIGINT FROM invalidations")
            .fetch_one(&self.pool)
            .await
            .map_err(backend)
    }

    async fn change_feed(&self) -> StoreResult<Box<dyn ChangeFeed>> {
        let feed = NotifiedFeed::listen(self.connect.clone(), self.options.acquire_timeout).await?;
        Ok(Box::new(feed))
    }

    async fn purge_invalidations(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM invalidations WHERE created_at < $1")
            .bind(before)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(done.rows_affected())
    }
}

#[async_trait]
impl ThrottleStore for PgStore {
    async fn throttle(&self, key: &str) -> StoreResult<Option<Versioned<ThrottleWindow>>> {
        let row = sqlx::query("SELECT started, failures, version FROM throttles WHERE key = $1")
            .bind(key)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        let Some(row) = row else {
            return Ok(None);
        };
        let failures: i64 = row.try_get("failures").map_err(backend)?;
        Ok(Some(Versioned {
            value: ThrottleWindow {
                started: row.try_get("started").map_err(backend)?,
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
        let failures = i64::from(window.failures);
        let done = match expected {
            // A first save loses to a concurrent first save rather than overwriting it.
            None => sqlx::query(
                "INSERT INTO throttles (key, started, failures, version) \
                 VALUES ($1, $2, $3, 1) ON CONFLICT (key) DO NOTHING",
            )
            .bind(key)
            .bind(window.started)
            .bind(failures)
            .execute(&self.pool)
            .await
            .map_err(backend)?,
            Some(version) => sqlx::query(
                "UPDATE throttles SET started = $2, failures = $3, version = version + 1 \
                 WHERE key = $1 AND version = $4",
            )
            .bind(key)
            .bind(window.started)
            .bind(failures)
            .bind(version)
            .execute(&self.pool)
            .await
            .map_err(backend)?,
        };
        Ok(done.rows_affected() == 1)
    }

    async fn forget_throttle(&self, key: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM throttles WHERE key = $1")
            .bind(key)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn purge_throttles(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM throttles WHERE started < $1")
            .bind(before)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(done.rows_affected())
    }
}
