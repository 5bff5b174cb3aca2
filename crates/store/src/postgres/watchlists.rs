//! Watchlists on PostgreSQL: a row per list, a row per symbol with its place in the
//! list. Writes lock the list's row (or, to create one, the account's), so that
//! concurrent changes of one list queue; every statement names the account.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use paddock_core::ids::{AccountId, WatchlistId};
use paddock_core::store::{Conflict, Missing, StoreError, StoreResult, WatchlistStore};
use paddock_core::trading::assets::Symbol;
use paddock_core::trading::watchlists::{MAX_WATCHLISTS, Watchlist};
use sqlx::{PgExecutor, Postgres, Row, Transaction};
use uuid::Uuid;

use super::{PgStore, backend, corrupt, write_error};

async fn symbols_of<'c>(
    executor: impl PgExecutor<'c>,
    id: WatchlistId,
) -> StoreResult<Vec<Symbol>> {
    let texts: Vec<String> = sqlx::query_scalar(
        "SELECT symbol FROM watchlist_symbols WHERE watchlist_id = $1 ORDER BY position",
    )
    .bind(id.as_uuid())
    .fetch_all(executor)
    .await
    .map_err(backend)?;
    texts
        .iter()
        .map(|t| Symbol::parse(t).map_err(|e| corrupt(e.to_string())))
        .collect()
}

/// Whether the account has the list, locking its row for the rest of the write.
async fn lock_owned(
    tx: &mut Transaction<'static, Postgres>,
    account: AccountId,
    id: WatchlistId,
) -> StoreResult<bool> {
    let found =
        sqlx::query("SELECT 1 FROM watchlists WHERE id = $1 AND account_id = $2 FOR UPDATE")
            .bind(id.as_uuid())
            .bind(account.as_uuid())
            .fetch_optional(&mut **tx)
            .await
            .map_err(backend)?;
    Ok(found.is_some())
}

async fn insert_symbols(
    tx: &mut Transaction<'static, Postgres>,
    id: WatchlistId,
    symbols: &[Symbol],
) -> StoreResult<()> {
    for (position, symbol) in symbols.iter().enumerate() {
        sqlx::query(
            "INSERT INTO watchlist_symbols (watchlist_id, position, symbol) VALUES ($1, $2, $3)",
        )
        .bind(id.as_uuid())
        .bind(position as i32)
        .bind(symbol.as_str())
        .execute(&mut **tx)
        .await
        .map_err(write_error)?;
    }
    Ok(())
}

async fn touch(
    tx: &mut Transaction<'static, Postgres>,
    id: WatchlistId,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    sqlx::query("UPDATE watchlists SET updated_at = $1 WHERE id = $2")
        .bind(now)
        .bind(id.as_uuid())
        .execute(&mut **tx)
        .await
        .map_err(backend)?;
    Ok(())
}

#[async_trait]
impl WatchlistStore for PgStore {
    async fn watchlists(&self, account: AccountId) -> StoreResult<Vec<Watchlist>> {
        let ids: Vec<Uuid> = sqlx::query_scalar(
            "SELECT id FROM watchlists WHERE account_id = $1 ORDER BY created_at, id",
        )
        .bind(account.as_uuid())
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        let mut lists = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(list) = self.watchlist(account, WatchlistId::from_uuid(id)).await? {
                lists.push(list);
            }
        }
        Ok(lists)
    }

    async fn watchlist(
        &self,
        account: AccountId,
        id: WatchlistId,
    ) -> StoreResult<Option<Watchlist>> {
        let Some(row) = sqlx::query(
            "SELECT name, created_at, updated_at FROM watchlists \
             WHERE id = $1 AND account_id = $2",
        )
        .bind(id.as_uuid())
        .bind(account.as_uuid())
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?
        else {
            return Ok(None);
        };
        Ok(Some(Watchlist {
            id,
            account_id: account,
            name: row.try_get("name").map_err(backend)?,
            symbols: symbols_of(&self.pool, id).await?,
            created_at: row.try_get("created_at").map_err(backend)?,
            updated_at: row.try_get("updated_at").map_err(backend)?,
        }))
    }

    async fn create_watchlist(&self, watchlist: &Watchlist) -> StoreResult<()> {
        let mut tx = self.write().await?;
        let account = sqlx::query("SELECT 1 FROM accounts WHERE id = $1 FOR UPDATE")
            .bind(watchlist.account_id.as_uuid())
            .fetch_optional(&mut *tx)
            .await
            .map_err(backend)?;
        if account.is_none() {
            return Err(StoreError::Missing(Missing::Account));
        }
        let count: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM watchlists WHERE account_id = $1")
                .bind(watchlist.account_id.as_uuid())
                .fetch_one(&mut *tx)
                .await
                .map_err(backend)?;
        if count >= MAX_WATCHLISTS as i64 {
            return Err(StoreError::Conflict(Conflict::TooManyWatchlists));
        }
        sqlx::query(
            "INSERT INTO watchlists (id, account_id, name, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(watchlist.id.as_uuid())
        .bind(watchlist.account_id.as_uuid())
        .bind(&watchlist.name)
        .bind(watchlist.created_at)
        .bind(watchlist.updated_at)
        .execute(&mut *tx)
        .await
        .map_err(write_error)?;
        insert_symbols(&mut tx, watchlist.id, &watchlist.symbols).await?;
        tx.commit().await.map_err(backend)
    }

    async fn replace_watchlist(
        &self,
        account: AccountId,
        id: WatchlistId,
        name: Option<&str>,
        symbols: Option<&[Symbol]>,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let mut tx = self.write().await?;
        if !lock_owned(&mut tx, account, id).await? {
            return Ok(false);
        }
        sqlx::query(
            "UPDATE watchlists SET name = COALESCE($1, name), updated_at = $2 WHERE id = $3",
        )
        .bind(name)
        .bind(now)
        .bind(id.as_uuid())
        .execute(&mut *tx)
        .await
        .map_err(write_error)?;
        if let Some(symbols) = symbols {
            sqlx::query("DELETE FROM watchlist_symbols WHERE watchlist_id = $1")
                .bind(id.as_uuid())
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
            insert_symbols(&mut tx, id, symbols).await?;
        }
        tx.commit().await.map_err(backend)?;
        Ok(true)
    }

    async fn add_to_watchlist(
        &self,
        account: AccountId,
        id: WatchlistId,
        symbol: &Symbol,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let mut tx = self.write().await?;
        if !lock_owned(&mut tx, account, id).await? {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO watchlist_symbols (watchlist_id, position, symbol) VALUES ($1, \
             (SELECT COALESCE(MAX(position), -1) + 1 FROM watchlist_symbols \
              WHERE watchlist_id = $1), $2)",
        )
        .bind(id.as_uuid())
        .bind(symbol.as_str())
        .execute(&mut *tx)
        .await
        .map_err(write_error)?;
        touch(&mut tx, id, now).await?;
        tx.commit().await.map_err(backend)?;
        Ok(true)
    }

    async fn remove_from_watchlist(
        &self,
        account: AccountId,
        id: WatchlistId,
        symbol: &Symbol,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let mut tx = self.write().await?;
        if !lock_owned(&mut tx, account, id).await? {
            return Ok(false);
        }
        let removed =
            sqlx::query("DELETE FROM watchlist_symbols WHERE watchlist_id = $1 AND symbol = $2")
                .bind(id.as_uuid())
                .bind(symbol.as_str())
                .execute(&mut *tx)
                .await
                .map_err(backend)?
                .rows_affected();
        if removed == 0 {
            return Err(StoreError::Missing(Missing::WatchlistSymbol));
        }
        touch(&mut tx, id, now).await?;
        tx.commit().await.map_err(backend)?;
        Ok(true)
    }

    async fn delete_watchlist(&self, account: AccountId, id: WatchlistId) -> StoreResult<bool> {
        let deleted = sqlx::query("DELETE FROM watchlists WHERE id = $1 AND account_id = $2")
            .bind(id.as_uuid())
            .bind(account.as_uuid())
            .execute(&self.pool)
            .await
            .map_err(backend)?
            .rows_affected();
        Ok(deleted > 0)
    }
}
