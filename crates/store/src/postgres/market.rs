use async_trait::async_trait;
use chrono::{DateTime, Utc};
use paddock_core::money::to_nanos;
use paddock_core::store::{Invalidation, MarketStore, MarketTx, StoreResult, StoredPrice};
use paddock_core::trading::assets::Symbol;
use rust_decimal::Decimal;
use sqlx::postgres::PgRow;
use sqlx::{Postgres, Row, Transaction};

use super::nodes::log_invalidation;
use super::{PgStore, PgTx, backend, corrupt};

fn price_from_row(row: &PgRow) -> StoreResult<StoredPrice> {
    let symbol: String = row.try_get("symbol").map_err(backend)?;
    let price: Decimal = row.try_get("price").map_err(backend)?;
    Ok(StoredPrice {
        symbol: Symbol::parse(&symbol).map_err(|e| corrupt(e.to_string()))?,
        price: price.normalize(),
        updated_at: row.try_get("updated_at").map_err(backend)?,
    })
}

/// Sets `symbol`'s price in the transaction `tx`.
async fn upsert_price(
    tx: &mut Transaction<'static, Postgres>,
    symbol: &Symbol,
    price: Decimal,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    // The same bounds as SQLite's billionths, so that both refuse the same amounts.
    to_nanos(price).map_err(|e| corrupt(format!("price: {e}")))?;
    sqlx::query(
        "INSERT INTO prices (symbol, price, updated_at) VALUES ($1, $2, $3) \
         ON CONFLICT (symbol) DO UPDATE SET price = $2, updated_at = $3",
    )
    .bind(symbol.as_str())
    .bind(price)
    .bind(now)
    .execute(&mut **tx)
    .await
    .map_err(backend)?;
    Ok(())
}

#[async_trait]
impl MarketStore for PgStore {
    async fn prices(&self) -> StoreResult<Vec<StoredPrice>> {
        sqlx::query("SELECT symbol, price, updated_at FROM prices ORDER BY symbol COLLATE \"C\"")
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?
            .iter()
            .map(price_from_row)
            .collect()
    }

    async fn price(&self, symbol: &Symbol) -> StoreResult<Option<StoredPrice>> {
        sqlx::query("SELECT symbol, price, updated_at FROM prices WHERE symbol = $1")
            .bind(symbol.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?
            .as_ref()
            .map(price_from_row)
            .transpose()
    }

    async fn walk_tick(&self) -> StoreResult<Option<i64>> {
        sqlx::query_scalar("SELECT tick FROM price_walk WHERE id = 1")
            .fetch_one(&self.pool)
            .await
            .map_err(backend)
    }

    async fn set_price(
        &self,
        symbol: &Symbol,
        price: Decimal,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(backend)?;
        // Queue behind a walk's tick in progress, which read the prices it moves: the
        // price set here is then where the walk goes on from, not overwritten by it.
        sqlx::query("SELECT 1 FROM price_walk WHERE id = 1 FOR UPDATE")
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        upsert_price(&mut tx, symbol, price, now).await?;
        log_invalidation(&mut tx, &Invalidation::Prices, now).await?;
        tx.commit().await.map_err(backend)
    }
}

#[async_trait]
impl MarketTx for PgTx {
    async fn lock_walk(&mut self) -> StoreResult<Option<i64>> {
        sqlx::query_scalar("SELECT tick FROM price_walk WHERE id = 1 FOR UPDATE")
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
        sqlx::query("SELECT symbol, price, updated_at FROM prices ORDER BY symbol")
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
