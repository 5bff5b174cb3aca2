//! Watchlists on SQLite: a row per list, a row per symbol with its place in the list.
//! Every statement names the account, so another account's list is never touched.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use paddock_core::ids::{AccountId, WatchlistId};
use paddock_core::store::{Conflict, Missing, StoreError, StoreResult, WatchlistStore};
use paddock_core::trading::assets::Symbol;
use paddock_core::trading::watchlists::{MAX_WATCHLISTS, Watchlist};
use sqlx::{Row, SqliteConnection, SqliteExecutor};

use super::{SqliteStore, backend, corrupt, parse_field, parse_ts, ts, write_error};

async fn symbols_of<'c>(executor: impl SqliteExecutor<'c>, id: &str) -> StoreResult<Vec<Symbol>> {
    let texts: Vec<String> = sqlx::query_scalar(
        "SELECT symbol FROM watchlist_symbols WHERE watchlist_id = $1 ORDER BY position",
    )
    .bind(id)
    .fetch_all(executor)
    .await
    .map_err(backend)?;
    texts
        .iter()
        .map(|t| Symbol::parse(t).map_err(|e| corrupt(e.to_string())))
        .collect()
}

/// Whether the account has the list; and, in a write, takes SQLite's lock first.
async fn owns(tx: &mut SqliteConnection, account: AccountId, id: WatchlistId) -> StoreResult<bool> {
    let found = sqlx::query("SELECT 1 FROM watchlists WHERE id = $1 AND account_id = $2")
        .bind(id.to_string())
        .bind(account.to_string())
        .fetch_optional(&mut *tx)
        .await
        .map_err(backend)?;
    Ok(found.is_some())
}

async fn insert_symbols(
    tx: &mut SqliteConnection,
    id: WatchlistId,
    symbols: &[Symbol],
) -> StoreResult<()> {
    for (position, symbol) in symbols.iter().enumerate() {
        sqlx::query(
            "INSERT INTO watchlist_symbols (watchlist_id, position, symbol) VALUES ($1, $2, $3)",
        )
        .bind(id.to_string())
        .bind(position as i64)
        .bind(symbol.as_str())
        .execute(&mut *tx)
        .await
        .map_err(|e| write_error(e, Conflict::SymbolInWatchlist))?;
    }
    Ok(())
}

async fn touch(tx: &mut SqliteConnection, id: WatchlistId, now: DateTime<Utc>) -> StoreResult<()> {
    sqlx::query("UPDATE watchlists SET updated_at = $1 WHERE id = $2")
        .bind(ts(now))
        .bind(id.to_string())
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
    Ok(())
}

#[async_trait]
impl WatchlistStore for SqliteStore {
    async fn watchlists(&self, account: AccountId) -> StoreResult<Vec<Watchlist>> {
        let rows =
            sqlx::query("SELECT id FROM watchlists WHERE account_id = $1 ORDER BY created_at, id")
                .bind(account.to_string())
                .fetch_all(&self.reads)
                .await
                .map_err(backend)?;
        let mut lists = Vec::with_capacity(rows.len());
        for row in rows {
            let id: String = row.try_get("id").map_err(backend)?;
            if let Some(list) = self
                .watchlist(account, parse_field("watchlist id", &id)?)
                .await?
            {
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
        let mut conn = self.reads.acquire().await.map_err(backend)?;
        let Some(row) = sqlx::query(
            "SELECT name, created_at, updated_at FROM watchlists \
             WHERE id = $1 AND account_id = $2",
        )
        .bind(id.to_string())
        .bind(account.to_string())
        .fetch_optional(&mut *conn)
        .await
        .map_err(backend)?
        else {
            return Ok(None);
        };
        Ok(Some(Watchlist {
            id,
            account_id: account,
            name: row.try_get("name").map_err(backend)?,
            symbols: symbols_of(&mut *conn, &id.to_string()).await?,
            created_at: parse_ts(row.try_get("created_at").map_err(backend)?)?,
            updated_at: parse_ts(row.try_get("updated_at").map_err(backend)?)?,
        }))
    }

    async fn create_watchlist(&self, watchlist: &Watchlist) -> StoreResult<()> {
        let mut tx = self.write().await?;
        let (count, name_taken): (i64, bool) = sqlx::query_as(
            "SELECT COUNT(*), COALESCE(MAX(name = $2), 0) FROM watchlists WHERE account_id = $1",
        )
        .bind(watchlist.account_id.to_string())
        .bind(&watchlist.name)
        .fetch_one(&mut *tx)
        .await
        .map_err(backend)?;
        if name_taken {
            return Err(StoreError::Conflict(Conflict::WatchlistNameTaken));
        }
        if count >= MAX_WATCHLISTS as i64 {
            return Err(StoreError::Conflict(Conflict::TooManyWatchlists));
        }
        sqlx::query(
            "INSERT INTO watchlists (id, account_id, name, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(watchlist.id.to_string())
        .bind(watchlist.account_id.to_string())
        .bind(&watchlist.name)
        .bind(ts(watchlist.created_at))
        .bind(ts(watchlist.updated_at))
        .execute(&mut *tx)
        .await
        .map_err(|e| match &e {
            sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
                StoreError::Missing(Missing::Account)
            }
            _ => write_error(e, Conflict::IdTaken),
        })?;
        insert_symbols(&mut tx, watchlist.id, &watchlist.symbols).await?;
        tx.commit().await
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
        if !owns(&mut tx, account, id).await? {
            return Ok(false);
        }
        let clash = sqlx::query(
            "SELECT 1 FROM watchlists WHERE account_id = $1 AND name = $2 AND id <> $3",
        )
        .bind(account.to_string())
        .bind(name)
        .bind(id.to_string())
        .fetch_optional(&mut *tx)
        .await
        .map_err(backend)?;
        if clash.is_some() {
            return Err(StoreError::Conflict(Conflict::WatchlistNameTaken));
        }
        sqlx::query(
            "UPDATE watchlists SET name = COALESCE($1, name), updated_at = $2 WHERE id = $3",
        )
        .bind(name)
        .bind(ts(now))
        .bind(id.to_string())
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        if let Some(symbols) = symbols {
            sqlx::query("DELETE FROM watchlist_symbols WHERE watchlist_id = $1")
                .bind(id.to_string())
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
            insert_symbols(&mut tx, id, symbols).await?;
        }
        tx.commit().await?;
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
        if !owns(&mut tx, account, id).await? {
            return Ok(false);
        }
        let there =
            sqlx::query("SELECT 1 FROM watchlist_symbols WHERE watchlist_id = $1 AND symbol = $2")
                .bind(id.to_string())
                .bind(symbol.as_str())
                .fetch_optional(&mut *tx)
                .await
                .map_err(backend)?;
        if there.is_some() {
            return Err(StoreError::Conflict(Conflict::SymbolInWatchlist));
        }
        sqlx::query(
            "INSERT INTO watchlist_symbols (watchlist_id, position, symbol) VALUES ($1, \
             (SELECT COALESCE(MAX(position), -1) + 1 FROM watchlist_symbols \
              WHERE watchlist_id = $1), $2)",
        )
        .bind(id.to_string())
        .bind(symbol.as_str())
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        touch(&mut tx, id, now).await?;
        tx.commit().await?;
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
        if !owns(&mut tx, account, id).await? {
            return Ok(false);
        }
        let removed =
            sqlx::query("DELETE FROM watchlist_symbols WHERE watchlist_id = $1 AND symbol = $2")
                .bind(id.to_string())
                .bind(symbol.as_str())
                .execute(&mut *tx)
                .await
                .map_err(backend)?
                .rows_affected();
        if removed == 0 {
            return Err(StoreError::Missing(Missing::WatchlistSymbol));
        }
        touch(&mut tx, id, now).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn delete_watchlist(&self, account: AccountId, id: WatchlistId) -> StoreResult<bool> {
        let mut tx = self.write().await?;
        if !owns(&mut tx, account, id).await? {
            return Ok(false);
        }
        sqlx::query("DELETE FROM watchlist_symbols WHERE watchlist_id = $1")
            .bind(id.to_string())
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        sqlx::query("DELETE FROM watchlists WHERE id = $1")
            .bind(id.to_string())
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        tx.commit().await?;
        Ok(true)
    }
}
