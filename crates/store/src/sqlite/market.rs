use async_trait::async_trait;
use chrono::{DateTime, Utc};
use paddock_core::money::{from_nanos, to_nanos};
use paddock_core::store::{Invalidation, MarketStore, StoreResult, StoredPrice};
use paddock_core::trading::assets::Symbol;
use rust_decimal::Decimal;
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use super::nodes::log_invalidation;
use super::{SqliteStore, backend, corrupt, parse_ts, ts};

fn price_from_row(row: &SqliteRow) -> StoreResult<StoredPrice> {
    let symbol: String = row.try_get("symbol").map_err(backend)?;
    Ok(StoredPrice {
        symbol: Symbol::parse(&symbol).map_err(|e| corrupt(e.to_string()))?,
        price: from_nanos(row.try_get("price_nanos").map_err(backend)?),
        updated_at: parse_ts(row.try_get("updated_at").map_err(backend)?)?,
    })
}

#[async_trait]
impl MarketStore for SqliteStore {
    async fn prices(&self) -> StoreResult<Vec<StoredPrice>> {
        sqlx::query("SELECT symbol, price_nanos, updated_at FROM prices ORDER BY symbol")
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?
            .iter()
            .map(price_from_row)
            .collect()
    }

    async fn price(&self, symbol: &Symbol) -> StoreResult<Option<StoredPrice>> {
        sqlx::query("SELECT symbol, price_nanos, updated_at FROM prices WHERE symbol = $1")
            .bind(symbol.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?
            .as_ref()
            .map(price_from_row)
            .transpose()
    }

    async fn set_price(
        &self,
        symbol: &Symbol,
        price: Decimal,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let nanos = to_nanos(price).map_err(|e| corrupt(format!("price: {e}")))?;
        let mut tx = self.write().await?;
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
        log_invalidation(&mut tx, &Invalidation::Prices, now).await?;
        tx.commit().await.map_err(backend)
    }
}
