//! The optional random walk of prices (`serve --price-walk-seed`): every tick, each
//! listed asset's price moves by at most [`STEP`] up or down, by an amount drawn from
//! the seed, the symbol and the tick's number. The same seed from the same prices
//! gives the same path, and several nodes walk as one: a tick is taken by one unit
//! of work, which the others find done.

use chrono::{DateTime, TimeDelta, Utc};
use rust_decimal::{Decimal, RoundingStrategy};
use sha2::{Digest as _, Sha256};

use crate::store::{Store, StoreError};
use crate::trading::assets::{self, Symbol};
use crate::trading::market::Market;

/// The largest move of one tick: 0.2% of the price.
pub const STEP: Decimal = Decimal::from_parts(2, 0, 0, false, 3);

/// The most ticks caught up at once after every node was down: a walk resumes, it does
/// not replay a week.
pub const MAX_CATCH_UP: i64 = 1_000;

/// The lowest price a walk reaches: a cent.
const FLOOR: Decimal = Decimal::from_parts(1, 0, 0, false, 2);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Walk {
    pub seed: u64,
    /// How often prices move.
    pub every: TimeDelta,
}

impl Walk {
    /// The number of the tick `now` falls in.
    pub fn tick(&self, now: DateTime<Utc>) -> i64 {
        now.timestamp_millis()
            .div_euclid(self.every.num_milliseconds().max(1))
    }

    /// `price` after tick `tick`, in cents.
    pub fn step(&self, symbol: &Symbol, price: Decimal, tick: i64) -> Decimal {
        let digest = Sha256::digest(format!("paddock-walk:{}:{symbol}:{tick}", self.seed));
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(&digest[..8]);
        // A draw in [-1, 1], to a millionth.
        let draw = Decimal::new(
            (u64::from_be_bytes(bytes) % 2_000_001) as i64 - 1_000_000,
            6,
        );
        (price * (Decimal::ONE + STEP * draw))
            .round_dp_with_strategy(2, RoundingStrategy::MidpointNearestEven)
            .max(FLOOR)
    }
}

/// Moves every price by the ticks up to `now` that no node has taken yet; `true` when
/// it moved them (the caller's caches of prices are then stale). The first call on a
/// database only marks where the walk starts.
pub async fn advance(
    store: &dyn Store,
    walk: &Walk,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let tick = walk.tick(now);
    if store.walk_tick().await?.is_some_and(|last| last >= tick) {
        return Ok(false);
    }
    let mut tx = store.begin().await?;
    let first = match tx.lock_walk().await? {
        Some(last) if last >= tick => return Ok(false),
        Some(last) => (last + 1).max(tick - MAX_CATCH_UP + 1),
        None => tick + 1,
    };
    if first <= tick {
        let stored = tx.stored_prices().await?;
        let market = Market::new(&stored, Default::default());
        for asset in assets::listed() {
            let Some(mut price) = market.price(&asset.symbol) else {
                continue;
            };
            for k in first..=tick {
                price = walk.step(&asset.symbol, price, k);
            }
            tx.put_price(&asset.symbol, price, now).await?;
        }
        tx.touch_prices(now).await?;
    }
    tx.set_walk_tick(tick).await?;
    tx.commit().await?;
    Ok(first <= tick)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn walk(seed: u64) -> Walk {
        Walk {
            seed,
            every: TimeDelta::seconds(5),
        }
    }

    fn path(walk: &Walk, ticks: i64) -> Vec<Decimal> {
        let aapl = Symbol::parse("AAPL").unwrap();
        let mut price = Decimal::from(190);
        (0..ticks)
            .map(|k| {
                price = walk.step(&aapl, price, k);
                price
            })
            .collect()
    }

    #[test]
    fn a_seed_gives_one_path_and_another_seed_another() {
        assert_eq!(path(&walk(7), 200), path(&walk(7), 200));
        assert_ne!(path(&walk(7), 200), path(&walk(8), 200));
    }

    #[test]
    fn each_step_moves_at_most_the_step_and_stays_in_cents() {
        let mut before = Decimal::from(190);
        for price in path(&walk(42), 2_000) {
            let bound = before * STEP + Decimal::new(1, 2);
            assert!((price - before).abs() <= bound, "{before} -> {price}");
            assert!(price.scale() <= 2 && price >= FLOOR);
            before = price;
        }
    }

    #[test]
    fn ticks_count_from_the_epoch() {
        let w = walk(1);
        let at = DateTime::from_timestamp(1_000, 0).unwrap();
        assert_eq!(w.tick(at), 200);
        assert_eq!(w.tick(at + TimeDelta::milliseconds(4_999)), 200);
        assert_eq!(w.tick(at + TimeDelta::seconds(5)), 201);
    }
}
