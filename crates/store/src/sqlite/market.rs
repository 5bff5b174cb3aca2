use async_trait::async_trait;
use chrono::{DateTime, Utc};
use paddock_core::money::{from_nanos, to_nanos};
use paddock_core::store::{Invalidation, MarketStore, MarketTx, StoreResult, StoredPrice};
use paddock_core::trading::assets::Symbol;
use rust_decimal::Decimal;
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection};

use super::nodes::log_invalidation;
use super::{SqliteStore, SqliteTx, backend, corrupt, parse_ts, ts};

fn price_from_row(row: &SqliteRow) -> StoreResult<StoredPrice> {
    let symbol: String = row.try_get("symbol").map_err(backend)?;
    Ok(StoredPrice {
        symbol: Symbol::parse(&symbol).map_err(|e| corrupt(e.to_string()))?,
        price: from_nanos(row.try_get("price_nanos").map_err(backend)?),
        updated_at: parse_ts(row.try_get("updated_at").map_err(backend)?)?,
    })
}

/// Sets `symbol`'s price in the transaction `tx`.
async fn upsert_price(
    tx: &mut SqliteConnection,
    symbol: &Symbol,
    price: Decimal,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let nanos = to_nanos(price).map_err(|e| corrupt(format!("price: {e}")))?;
    sqlx::query(
        "INSERT INTO prices (symbol, price_nanos, updated_at) VALUES ($1, $2, $3) \
         ON CONFLICT (symbol) DO UPDATE SET price_nanos = $2, updated_at = $3",
    )
    .bind(symbol.as_str())
    .bind(nanos)
    .bind(ts(now))
    .execute(&mut *tx)
    .await
    .map_err(backend)?;
    Ok(())
}

#[async_trait]
impl MarketStore for SqliteStore {
    async fn prices(&self) -> StoreResult<Vec<StoredPrice>> {
        sqlx::query("SELECT symbol, price_nanos, updated_at FROM prices ORDER BY symbol")
            .fetch_all(&self.reads)
            .await
            .map_err(backend)?
            .iter()
            .map(price_from_row)
            .collect()
    }

    async fn price(&self, symbol: &Symbol) -> StoreResult<Option<StoredPrice>> {
        sqlx::query("SELECT symbol, price_nanos, updated_at FROM prices WHERE symbol = $1")
            .bind(symbol.as_str())
            .fetch_optional(&self.reads)
            .await
            .map_err(backend)?
            .as_ref()
            .map(price_from_row)
            .transpose()
    }

    async fn walk_tick(&self) -> StoreResult<Option<i64>> {
        sqlx::query_scalar("SELECT tick FROM price_walk WHERE id = 1")
            .fetch_one(&self.reads)
            .await
            .map_err(backend)
    }

    async fn set_price(
        &self,
        symbol: &Symbol,
        price: Decimal,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut tx = self.write().await?;
        upsert_price(&mut tx, symbol, price, now).await?;
        log_invalidation(&mut tx, &Invalidation::Prices, now).await?;
        tx.commit().await
    }
}

#[async_trait]
impl MarketTx for SqliteTx {
    async fn lock_walk(&mut self) -> StoreResult<Option<i64>> {
        // The unit of work already holds SQLite's write lock (BEGIN IMMEDIATE).
        sqlx::query_scalar("SELECT tick FROM price_walk WHERE id = 1")
            .fetch_one(&mut *self.tx)
            .await
            .map_err(backend)
    }

    async fn set_walk_tick(&mut self, tick: i64) -> StoreResult<()> {
        sqlx::query("UPDATE price_walk SET tick = $1 WHERE id = 1")
            .bind(tick)
            .execute(&mut *self.tx)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn stored_prices(&mut self) -> StoreResult<Vec<StoredPrice>> {
        sqlx::query("SELECT symbol, price_nanos, updated_at FROM prices ORDER BY symbol")
            .fetch_all(&mut *self.tx)
            .await
            .map_err(backend)?
            .iter()
            .map(price_from_row)
            .collect()
    }

    async fn put_price(
        &mut self,
        symbol: &Symbol,
        price: Decimal,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        upsert_price(&mut self.tx, symbol, price, now).await
    }

    async fn touch_prices(&mut self, now: DateTime<Utc>) -> StoreResult<()> {
        log_invalidation(&mut self.tx, &Invalidation::Prices, now).await
    }
}
