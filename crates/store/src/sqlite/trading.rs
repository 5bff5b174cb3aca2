//! The paper brokerage on SQLite: orders, holdings and trade events, amounts in
//! integer billionths.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use paddock_core::ids::{AccountId, OrderId};
use paddock_core::money::{from_nanos, to_nanos};
use paddock_core::store::{
    Conflict, FillQuery, FillRecord, Invalidation, OrderQuery, StoreError, StoreResult,
    StreamEvent, TradingStore, TradingTx,
};
use paddock_core::trading::assets::Symbol;
use paddock_core::trading::config::AccountConfig;
use paddock_core::trading::orders::{
    Amount, FillEvent, Holding, Order, OrderClass, OrderStatus, OrderType, Side, TimeInForce,
    TradeEvent, TradeEventKind, Trigger,
};
use rust_decimal::Decimal;
use sqlx::sqlite::SqliteRow;
use sqlx::{AssertSqlSafe, QueryBuilder, Row, Sqlite};

use super::nodes::log_invalidation;
use super::{SqliteStore, SqliteTx, backend, corrupt, parse_field, parse_opt_ts, parse_ts, ts};

const ORDER_COLUMNS: &str = "id, account_id, client_order_id, symbol, asset_id, side, kind, \
     time_in_force, qty_nanos, notional_nanos, filled_qty_nanos, filled_avg_price_nanos, \
     limit_price_nanos, stop_price_nanos, trail_price_nanos, trail_percent_nanos, \
     water_mark_nanos, stopped, extended_hours, status, created_at, updated_at, submitted_at, \
     filled_at, canceled_at, expired_at, replaces, replaced_by, replaced_at, order_class, \
     parent_id";

fn nanos(amount: Decimal) -> StoreResult<i64> {
    to_nanos(amount).map_err(|e| corrupt(format!("amount: {e}")))
}

fn opt_nanos(amount: Option<Decimal>) -> StoreResult<Option<i64>> {
    amount.map(nanos).transpose()
}

fn decimal(row: &SqliteRow, column: &str) -> StoreResult<Decimal> {
    Ok(from_nanos(row.try_get(column).map_err(backend)?))
}

fn opt_decimal(row: &SqliteRow, column: &str) -> StoreResult<Option<Decimal>> {
    let value: Option<i64> = row.try_get(column).map_err(backend)?;
    Ok(value.map(from_nanos))
}

pub(super) fn wire<T>(
    row: &SqliteRow,
    column: &str,
    parse: fn(&str) -> Option<T>,
) -> StoreResult<T> {
    let text: String = row.try_get(column).map_err(backend)?;
    parse(&text).ok_or_else(|| corrupt(format!("{column} `{text}`")))
}

fn order_from_row(row: &SqliteRow) -> StoreResult<Order> {
    let kind = wire(row, "kind", OrderType::parse)?;
    let side = wire(row, "side", Side::parse)?;
    let amount = match (
        opt_decimal(row, "qty_nanos")?,
        opt_decimal(row, "notional_nanos")?,
    ) {
        (Some(qty), None) => Amount::Qty(qty),
        (None, Some(notional)) => Amount::Notional(notional),
        _ => {
            return Err(corrupt(
                "an order with both or neither of qty and notional".into(),
            ));
        }
    };
    let symbol: String = row.try_get("symbol").map_err(backend)?;
    Ok(Order {
        id: parse_field("order id", row.try_get("id").map_err(backend)?)?,
        account_id: parse_field("account id", row.try_get("account_id").map_err(backend)?)?,
        client_order_id: row.try_get("client_order_id").map_err(backend)?,
        symbol: Symbol::parse(&symbol).map_err(|e| corrupt(e.to_string()))?,
        asset_id: parse_field("asset id", row.try_get("asset_id").map_err(backend)?)?,
        side,
        kind,
        time_in_force: wire(row, "time_in_force", TimeInForce::parse)?,
        amount,
        filled_qty: decimal(row, "filled_qty_nanos")?,
        filled_avg_price: opt_decimal(row, "filled_avg_price_nanos")?,
        trigger: Trigger {
            kind,
            side,
            limit_price: opt_decimal(row, "limit_price_nanos")?,
            stop_price: opt_decimal(row, "stop_price_nanos")?,
            trail_price: opt_decimal(row, "trail_price_nanos")?,
            trail_percent: opt_decimal(row, "trail_percent_nanos")?,
            stopped: row.try_get("stopped").map_err(backend)?,
            water_mark: opt_decimal(row, "water_mark_nanos")?,
        },
        extended_hours: row.try_get("extended_hours").map_err(backend)?,
        status: wire(row, "status", OrderStatus::parse)?,
        created_at: parse_ts(row.try_get("created_at").map_err(backend)?)?,
        updated_at: parse_ts(row.try_get("updated_at").map_err(backend)?)?,
        submitted_at: parse_ts(row.try_get("submitted_at").map_err(backend)?)?,
        filled_at: parse_opt_ts(row.try_get("filled_at").map_err(backend)?)?,
        canceled_at: parse_opt_ts(row.try_get("canceled_at").map_err(backend)?)?,
        expired_at: parse_opt_ts(row.try_get("expired_at").map_err(backend)?)?,
        replaces: opt_id(row, "replaces")?,
        replaced_by: opt_id(row, "replaced_by")?,
        replaced_at: parse_opt_ts(row.try_get("replaced_at").map_err(backend)?)?,
        class: wire(row, "order_class", OrderClass::parse)?,
        parent_id: opt_id(row, "parent_id")?,
    })
}

fn opt_id(row: &SqliteRow, column: &str) -> StoreResult<Option<OrderId>> {
    let text: Option<String> = row.try_get(column).map_err(backend)?;
    text.map(|t| parse_field("order id", &t)).transpose()
}

/// The order columns' `SELECT` with `filter`, a constant of this file.
fn select_orders(filter: &str) -> AssertSqlSafe<String> {
    AssertSqlSafe(format!("SELECT {ORDER_COLUMNS} FROM orders WHERE {filter}"))
}

fn holding_from_row(row: &SqliteRow) -> StoreResult<Holding> {
    Ok(Holding {
        qty: decimal(row, "qty_nanos")?,
        avg_entry_price: decimal(row, "avg_entry_price_nanos")?,
    })
}

#[async_trait]
impl TradingStore for SqliteStore {
    async fn orders(&self, account: AccountId, query: &OrderQuery) -> StoreResult<Vec<Order>> {
        let mut sql = QueryBuilder::<Sqlite>::new(format!(
            "SELECT {ORDER_COLUMNS} FROM orders WHERE account_id = "
        ));
        sql.push_bind(account.to_string());
        if let Some(open) = query.open {
            sql.push(" AND is_open = ").push_bind(open);
        }
        if let Some(after) = query.after {
            sql.push(" AND submitted_at > ").push_bind(ts(after));
        }
        if let Some(until) = query.until {
            sql.push(" AND submitted_at < ").push_bind(ts(until));
        }
        if let Some(side) = query.side {
            sql.push(" AND side = ").push_bind(side.as_str());
        }
        if !query.symbols.is_empty() {
            sql.push(" AND symbol IN (");
            let mut list = sql.separated(", ");
            for symbol in &query.symbols {
                list.push_bind(symbol.as_str().to_owned());
            }
            sql.push(")");
        }
        sql.push(if query.ascending {
            " ORDER BY submitted_at, id LIMIT "
        } else {
            " ORDER BY submitted_at DESC, id DESC LIMIT "
        });
        sql.push_bind(i64::from(query.limit));
        sql.build()
            .fetch_all(&self.reads)
            .await
            .map_err(backend)?
            .iter()
            .map(order_from_row)
            .collect()
    }

    async fn order(&self, account: AccountId, id: OrderId) -> StoreResult<Option<Order>> {
        sqlx::query(select_orders("account_id = $1 AND id = $2"))
            .bind(account.to_string())
            .bind(id.to_string())
            .fetch_optional(&self.reads)
            .await
            .map_err(backend)?
            .as_ref()
            .map(order_from_row)
            .transpose()
    }

    async fn order_by_client_id(
        &self,
        account: AccountId,
        client_order_id: &str,
    ) -> StoreResult<Option<Order>> {
        sqlx::query(select_orders("account_id = $1 AND client_order_id = $2"))
            .bind(account.to_string())
            .bind(client_order_id)
            .fetch_optional(&self.reads)
            .await
            .map_err(backend)?
            .as_ref()
            .map(order_from_row)
            .transpose()
    }

    async fn holdings(&self, account: AccountId) -> StoreResult<Vec<(Symbol, Holding)>> {
        sqlx::query(
            "SELECT symbol, qty_nanos, avg_entry_price_nanos FROM positions \
             WHERE account_id = $1 ORDER BY symbol",
        )
        .bind(account.to_string())
        .fetch_all(&self.reads)
        .await
        .map_err(backend)?
        .iter()
        .map(|row| {
            let symbol: String = row.try_get("symbol").map_err(backend)?;
            Ok((
                Symbol::parse(&symbol).map_err(|e| corrupt(e.to_string()))?,
                holding_from_row(row)?,
            ))
        })
        .collect()
    }

    async fn open_orders(&self) -> StoreResult<Vec<Order>> {
        sqlx::query(select_orders("is_open = 1 ORDER BY submitted_at, id"))
            .fetch_all(&self.reads)
            .await
            .map_err(backend)?
            .iter()
            .map(order_from_row)
            .collect()
    }

    async fn legs(&self, account: AccountId, parents: &[OrderId]) -> StoreResult<Vec<Order>> {
        if parents.is_empty() {
            return Ok(Vec::new());
        }
        let mut sql = QueryBuilder::<Sqlite>::new(format!(
            "SELECT {ORDER_COLUMNS} FROM orders WHERE account_id = "
        ));
        sql.push_bind(account.to_string())
            .push(" AND parent_id IN (");
        let mut list = sql.separated(", ");
        for parent in parents {
            list.push_bind(parent.to_string());
        }
        sql.push(") ORDER BY submitted_at, id");
        sql.build()
            .fetch_all(&self.reads)
            .await
            .map_err(backend)?
            .iter()
            .map(order_from_row)
            .collect()
    }

    async fn trade_events_after(
        &self,
        account: AccountId,
        after: i64,
        limit: u32,
    ) -> StoreResult<Vec<StreamEvent>> {
        let order_columns: Vec<String> = ORDER_COLUMNS
            .split(", ")
            .map(|c| format!("o.{c}"))
            .collect();
        let sql = format!(
            "SELECT e.seq AS ev_seq, e.event AS ev_kind, e.at AS ev_at, e.price_nanos AS \
             ev_price, e.qty_nanos AS ev_qty, e.position_qty_nanos AS ev_position_qty, \
             e.execution_id AS ev_execution_id, {} FROM trade_events e \
             JOIN orders o ON o.id = e.order_id \
             WHERE e.account_id = $1 AND e.seq > $2 ORDER BY e.seq LIMIT $3",
            order_columns.join(", ")
        );
        sqlx::query(AssertSqlSafe(sql))
            .bind(account.to_string())
            .bind(after)
            .bind(i64::from(limit))
            .fetch_all(&self.reads)
            .await
            .map_err(backend)?
            .iter()
            .map(|row| {
                let order = order_from_row(row)?;
                let execution: Option<String> = row.try_get("ev_execution_id").map_err(backend)?;
                let fill = match execution {
                    Some(id) => Some(FillEvent {
                        price: decimal(row, "ev_price")?,
                        qty: decimal(row, "ev_qty")?,
                        position_qty: decimal(row, "ev_position_qty")?,
                        execution_id: parse_field("execution id", &id)?,
                    }),
                    None => None,
                };
                Ok(StreamEvent {
                    seq: row.try_get("ev_seq").map_err(backend)?,
                    event: TradeEvent {
                        account_id: account,
                        order_id: order.id,
                        kind: wire(row, "ev_kind", TradeEventKind::parse)?,
                        at: parse_ts(row.try_get("ev_at").map_err(backend)?)?,
                        fill,
                    },
                    order,
                })
            })
            .collect()
    }

    async fn latest_trade_event(&self, account: AccountId) -> StoreResult<i64> {
        sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM trade_events WHERE account_id = $1")
            .bind(account.to_string())
            .fetch_one(&self.reads)
            .await
            .map_err(backend)
    }

    async fn trade_event_before(&self, account: AccountId, at: DateTime<Utc>) -> StoreResult<i64> {
        sqlx::query_scalar(
            "SELECT COALESCE(MIN(seq) - 1, (SELECT COALESCE(MAX(seq), 0) FROM trade_events \
             WHERE account_id = $1)) FROM trade_events WHERE account_id = $1 AND at >= $2",
        )
        .bind(account.to_string())
        .bind(ts(at))
        .fetch_one(&self.reads)
        .await
        .map_err(backend)
    }

    async fn fills(&self, account: AccountId, query: &FillQuery) -> StoreResult<Vec<FillRecord>> {
        let mut sql = QueryBuilder::<Sqlite>::new(
            "SELECT e.execution_id, e.order_id, e.at, e.price_nanos, e.qty_nanos, o.symbol, \
             o.side, o.filled_qty_nanos, o.status FROM trade_events e \
             JOIN orders o ON o.id = e.order_id \
             WHERE e.event = 'fill' AND e.account_id = ",
        );
        sql.push_bind(account.to_string());
        if let Some(after) = query.after {
            sql.push(" AND e.at > ").push_bind(ts(after));
        }
        if let Some(until) = query.until {
            sql.push(" AND e.at < ").push_bind(ts(until));
        }
        if let Some(page) = query.page_after {
            sql.push(if query.ascending {
                " AND e.seq > "
            } else {
                " AND e.seq < "
            });
            sql.push("(SELECT seq FROM trade_events WHERE execution_id = ")
                .push_bind(page.to_string())
                .push(" AND account_id = ")
                .push_bind(account.to_string())
                .push(")");
        }
        sql.push(if query.ascending {
            " ORDER BY e.seq LIMIT "
        } else {
            " ORDER BY e.seq DESC LIMIT "
        });
        sql.push_bind(i64::from(query.limit));
        sql.build()
            .fetch_all(&self.reads)
            .await
            .map_err(backend)?
            .iter()
            .map(|row| {
                let symbol: String = row.try_get("symbol").map_err(backend)?;
                Ok(FillRecord {
                    execution_id: parse_field(
                        "execution id",
                        row.try_get("execution_id").map_err(backend)?,
                    )?,
                    order_id: parse_field("order id", row.try_get("order_id").map_err(backend)?)?,
                    symbol: Symbol::parse(&symbol).map_err(|e| corrupt(e.to_string()))?,
                    side: wire(row, "side", Side::parse)?,
                    price: decimal(row, "price_nanos")?,
                    qty: decimal(row, "qty_nanos")?,
                    at: parse_ts(row.try_get("at").map_err(backend)?)?,
                    order_filled_qty: decimal(row, "filled_qty_nanos")?,
                    order_status: wire(row, "status", OrderStatus::parse)?,
                })
            })
            .collect()
    }
}

#[async_trait]
impl TradingTx for SqliteTx {
    async fn lock_cash(&mut self, account: AccountId) -> StoreResult<Option<Decimal>> {
        // The unit of work already holds SQLite's write lock (BEGIN IMMEDIATE).
        let cash: Option<i64> = sqlx::query_scalar("SELECT cash_nanos FROM accounts WHERE id = $1")
            .bind(account.to_string())
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(backend)?;
        Ok(cash.map(from_nanos))
    }

    async fn account_config(&mut self, account: AccountId) -> StoreResult<AccountConfig> {
        super::accounts::read_config(&mut *self.tx, account).await
    }

    async fn set_account_config(
        &mut self,
        account: AccountId,
        config: &AccountConfig,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        super::accounts::write_config(&mut self.tx, account, config, now).await
    }

    async fn set_cash(&mut self, account: AccountId, cash: Decimal) -> StoreResult<()> {
        sqlx::query("UPDATE accounts SET cash_nanos = $1 WHERE id = $2")
            .bind(nanos(cash)?)
            .bind(account.to_string())
            .execute(&mut *self.tx)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn touch_account(&mut self, account: AccountId, now: DateTime<Utc>) -> StoreResult<()> {
        log_invalidation(&mut self.tx, &Invalidation::Account(account), now).await
    }

    async fn open_orders_of(&mut self, account: AccountId) -> StoreResult<Vec<Order>> {
        sqlx::query(select_orders("account_id = $1 AND is_open = 1"))
            .bind(account.to_string())
            .fetch_all(&mut *self.tx)
            .await
            .map_err(backend)?
            .iter()
            .map(order_from_row)
            .collect()
    }

    async fn order_of(&mut self, account: AccountId, id: OrderId) -> StoreResult<Option<Order>> {
        sqlx::query(select_orders("account_id = $1 AND id = $2"))
            .bind(account.to_string())
            .bind(id.to_string())
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(backend)?
            .as_ref()
            .map(order_from_row)
            .transpose()
    }

    async fn legs_of(&mut self, account: AccountId, parent: OrderId) -> StoreResult<Vec<Order>> {
        sqlx::query(select_orders(
            "account_id = $1 AND parent_id = $2 ORDER BY submitted_at, id",
        ))
        .bind(account.to_string())
        .bind(parent.to_string())
        .fetch_all(&mut *self.tx)
        .await
        .map_err(backend)?
        .iter()
        .map(order_from_row)
        .collect()
    }

    async fn holding(
        &mut self,
        account: AccountId,
        symbol: &Symbol,
    ) -> StoreResult<Option<Holding>> {
        sqlx::query(
            "SELECT qty_nanos, avg_entry_price_nanos FROM positions \
             WHERE account_id = $1 AND symbol = $2",
        )
        .bind(account.to_string())
        .bind(symbol.as_str())
        .fetch_optional(&mut *self.tx)
        .await
        .map_err(backend)?
        .as_ref()
        .map(holding_from_row)
        .transpose()
    }

    async fn set_holding(
        &mut self,
        account: AccountId,
        symbol: &Symbol,
        holding: Option<Holding>,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let done =
            match holding {
                Some(h) => sqlx::query(
                    "INSERT INTO positions (account_id, symbol, qty_nanos, avg_entry_price_nanos, \
                 updated_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (account_id, symbol) \
                 DO UPDATE SET qty_nanos = $3, avg_entry_price_nanos = $4, updated_at = $5",
                )
                .bind(account.to_string())
                .bind(symbol.as_str())
                .bind(nanos(h.qty)?)
                .bind(nanos(h.avg_entry_price)?)
                .bind(ts(now))
                .execute(&mut *self.tx)
                .await,
                None => {
                    sqlx::query("DELETE FROM positions WHERE account_id = $1 AND symbol = $2")
                        .bind(account.to_string())
                        .bind(symbol.as_str())
                        .execute(&mut *self.tx)
                        .await
                }
            };
        done.map_err(backend)?;
        Ok(())
    }

    async fn insert_order(&mut self, order: &Order) -> StoreResult<()> {
        let (qty, notional) = match order.amount {
            Amount::Qty(qty) => (Some(qty), None),
            Amount::Notional(notional) => (None, Some(notional)),
        };
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO orders ({ORDER_COLUMNS}, is_open) VALUES ($1, $2, $3, $4, $5, $6, $7, \
             $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, \
             $25, $26, $27, $28, $29, $30, $31, $32)"
        )))
        .bind(order.id.to_string())
        .bind(order.account_id.to_string())
        .bind(&order.client_order_id)
        .bind(order.symbol.as_str())
        .bind(order.asset_id.to_string())
        .bind(order.side.as_str())
        .bind(order.kind.as_str())
        .bind(order.time_in_force.as_str())
        .bind(opt_nanos(qty)?)
        .bind(opt_nanos(notional)?)
        .bind(nanos(order.filled_qty)?)
        .bind(opt_nanos(order.filled_avg_price)?)
        .bind(opt_nanos(order.trigger.limit_price)?)
        .bind(opt_nanos(order.trigger.stop_price)?)
        .bind(opt_nanos(order.trigger.trail_price)?)
        .bind(opt_nanos(order.trigger.trail_percent)?)
        .bind(opt_nanos(order.trigger.water_mark)?)
        .bind(order.trigger.stopped)
        .bind(order.extended_hours)
        .bind(order.status.as_str())
        .bind(ts(order.created_at))
        .bind(ts(order.updated_at))
        .bind(ts(order.submitted_at))
        .bind(order.filled_at.map(ts))
        .bind(order.canceled_at.map(ts))
        .bind(order.expired_at.map(ts))
        .bind(order.replaces.map(|id| id.to_string()))
        .bind(order.replaced_by.map(|id| id.to_string()))
        .bind(order.replaced_at.map(ts))
        .bind(order.class.as_str())
        .bind(order.parent_id.map(|id| id.to_string()))
        .bind(order.status.is_open())
        .execute(&mut *self.tx)
        .await
        .map_err(order_conflict)?;
        Ok(())
    }

    async fn update_order(&mut self, order: &Order) -> StoreResult<()> {
        sqlx::query(
            "UPDATE orders SET filled_qty_nanos = $1, filled_avg_price_nanos = $2, \
             water_mark_nanos = $3, stopped = $4, status = $5, is_open = $6, updated_at = $7, \
             filled_at = $8, canceled_at = $9, expired_at = $10, replaced_by = $11, \
             replaced_at = $12, parent_id = $13 WHERE id = $14",
        )
        .bind(nanos(order.filled_qty)?)
        .bind(opt_nanos(order.filled_avg_price)?)
        .bind(opt_nanos(order.trigger.water_mark)?)
        .bind(order.trigger.stopped)
        .bind(order.status.as_str())
        .bind(order.status.is_open())
        .bind(ts(order.updated_at))
        .bind(order.filled_at.map(ts))
        .bind(order.canceled_at.map(ts))
        .bind(order.expired_at.map(ts))
        .bind(order.replaced_by.map(|id| id.to_string()))
        .bind(order.replaced_at.map(ts))
        .bind(order.parent_id.map(|id| id.to_string()))
        .bind(order.id.to_string())
        .execute(&mut *self.tx)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn insert_event(&mut self, event: &TradeEvent) -> StoreResult<()> {
        let fill = event.fill;
        sqlx::query(
            "INSERT INTO trade_events (account_id, order_id, event, at, price_nanos, qty_nanos, \
             position_qty_nanos, execution_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(event.account_id.to_string())
        .bind(event.order_id.to_string())
        .bind(event.kind.as_str())
        .bind(ts(event.at))
        .bind(opt_nanos(fill.map(|f| f.price))?)
        .bind(opt_nanos(fill.map(|f| f.qty))?)
        .bind(opt_nanos(fill.map(|f| f.position_qty))?)
        .bind(fill.map(|f| f.execution_id.to_string()))
        .execute(&mut *self.tx)
        .await
        .map_err(backend)?;
        Ok(())
    }
}

/// The two unique constraints an order's insert can break, told apart by the columns
/// SQLite names in its message (it does not name constraints): one statement checks
/// and writes, with no read beforehand.
fn order_conflict(e: sqlx::Error) -> StoreError {
    let unique = match &e {
        sqlx::Error::Database(db) if db.message().contains("orders.client_order_id") => {
            Conflict::ClientOrderIdTaken
        }
        _ => Conflict::IdTaken,
    };
    super::write_error(e, unique)
}
