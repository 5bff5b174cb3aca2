//! When an order may trade and when it ends unfilled, by its time in force (Alpaca's
//! meanings): `day` for the session it was placed for (the extended session for an
//! `extended_hours` order), `gtc` until canceled or 90 days, `opg` in the opening
//! auction only, `cls` in the closing auction only, `ioc` and `fok` at once.

use chrono::{DateTime, TimeDelta, Utc};

use crate::trading::clock::MarketMode;
use crate::trading::market::Market;
use crate::trading::orders::{NewOrder, Order, OrderRejection, TimeInForce};

/// How long a GTC order lives (Alpaca cancels them after 90 days).
pub const GTC_LIFETIME: TimeDelta = TimeDelta::days(90);

/// How long after the open (OPG) or the close (CLS) the auction's orders still trade:
/// time for the matcher's next pass, not a second session.
pub const AUCTION_WINDOW: TimeDelta = TimeDelta::minutes(5);

/// The last moment before the close a CLS order is taken (Alpaca: 15:50 New York).
pub const CLS_CUTOFF: TimeDelta = TimeDelta::minutes(10);

fn invalid(message: impl Into<String>) -> OrderRejection {
    OrderRejection::Invalid(message.into())
}

/// Whether `new` may be placed now: an auction order needs an auction to come.
pub fn admit(new: &NewOrder, market: &Market, now: DateTime<Utc>) -> Result<(), OrderRejection> {
    let tif = new.time_in_force;
    if !matches!(tif, TimeInForce::Opg | TimeInForce::Cls) {
        return Ok(());
    }
    let clock = market.clock();
    if clock.mode() == MarketMode::AlwaysOpen {
        return Err(invalid(format!(
            "{tif} orders trade in an auction at the open or close, and with --market \
             always-open the market never opens or closes; use day"
        )));
    }
    match tif {
        TimeInForce::Opg if clock.is_open(now) => Err(invalid(
            "opg orders are taken only while the market is closed; they trade at the next open",
        )),
        TimeInForce::Cls
            if clock.is_open(now) && now >= clock.next_close_after(now) - CLS_CUTOFF =>
        {
            Err(invalid(
                "cls orders are taken until 10 minutes before the close",
            ))
        }
        _ => Ok(()),
    }
}

/// Whether the session `new` trades in is open now: an order placed then is `new`,
/// else `accepted` until it opens.
pub fn session_open(new: &NewOrder, market: &Market, now: DateTime<Utc>) -> bool {
    if new.extended_hours {
        market.clock().is_extended_open(now)
    } else {
        market.is_open(now)
    }
}

/// The auction an OPG or CLS order trades in: the open or close after it was placed.
fn auction(order: &Order, market: &Market) -> Option<DateTime<Utc>> {
    let clock = market.clock();
    match order.time_in_force {
        TimeInForce::Opg => Some(clock.next_open_after(order.submitted_at)),
        TimeInForce::Cls => Some(clock.next_close_after(order.submitted_at)),
        _ => None,
    }
}

/// Whether `order` may trade at `now`.
pub fn can_trade(order: &Order, market: &Market, now: DateTime<Utc>) -> bool {
    if let Some(at) = auction(order, market) {
        return at <= now && now < at + AUCTION_WINDOW;
    }
    if order.extended_hours {
        market.clock().is_extended_open(now)
    } else {
        market.is_open(now)
    }
}

/// Whether `order`, still open, has outlived its time in force at `now`.
pub fn expired(order: &Order, market: &Market, now: DateTime<Utc>) -> bool {
    let clock = market.clock();
    match order.time_in_force {
        TimeInForce::Day if order.extended_hours => {
            now >= clock.next_extended_close_after(order.submitted_at)
        }
        TimeInForce::Day => now >= clock.next_close_after(order.submitted_at),
        TimeInForce::Gtc => now >= order.submitted_at + GTC_LIFETIME,
        TimeInForce::Opg | TimeInForce::Cls => {
            auction(order, market).is_some_and(|at| now >= at + AUCTION_WINDOW)
        }
        // Worked at once, or at the open when placed while closed.
        TimeInForce::Ioc | TimeInForce::Fok => false,
    }
}

/// Whether an order that could not fill when it traded ends there (canceled) rather
/// than resting: IOC and FOK, and the auction orders.
pub fn ends_unfilled(order: &Order) -> bool {
    matches!(
        order.time_in_force,
        TimeInForce::Ioc | TimeInForce::Fok | TimeInForce::Opg | TimeInForce::Cls
    )
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use rust_decimal::Decimal;

    use super::*;
    use crate::ids::{AccountId, OrderId};
    use crate::trading::assets;
    use crate::trading::clock::MarketClock;
    use crate::trading::orders::{Amount, OrderType, Side};

    /// Tuesday 2026-11-24 in New York (EST, UTC-5), at `h:m`.
    fn ny(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 24, 5, 0, 0).unwrap()
            + TimeDelta::hours(i64::from(h))
            + TimeDelta::minutes(i64::from(m))
    }

    fn nyse() -> Market {
        Market::new(&[], MarketClock::new(MarketMode::Nyse))
    }

    fn order(tif: TimeInForce, extended: bool, at: DateTime<Utc>) -> Order {
        let new = NewOrder {
            extended_hours: extended,
            limit_price: Some(Decimal::ONE),
            ..NewOrder::plain(Side::Buy, OrderType::Limit, Amount::Qty(Decimal::ONE), tif)
        };
        let asset = assets::find("AAPL").unwrap();
        Order::new(
            OrderId::random(),
            AccountId::random(),
            &asset,
            &new,
            true,
            at,
        )
    }

    #[test]
    fn extended_hours_orders_trade_before_the_open_and_after_the_close() {
        let market = nyse();
        let regular = order(TimeInForce::Day, false, ny(7, 0));
        let extended = order(TimeInForce::Day, true, ny(7, 0));
        assert!(!can_trade(&regular, &market, ny(7, 0)));
        assert!(can_trade(&extended, &market, ny(7, 0)));
        assert!(can_trade(&extended, &market, ny(19, 59)));
        assert!(!can_trade(&extended, &market, ny(20, 0)));
        assert!(!can_trade(&extended, &market, ny(3, 59)));
        assert!(expired(&regular, &market, ny(16, 0)));
        assert!(!expired(&extended, &market, ny(16, 0)));
        assert!(expired(&extended, &market, ny(20, 0)));
    }

    #[test]
    fn auction_orders_trade_only_in_their_auction() {
        let market = nyse();
        let opg = order(TimeInForce::Opg, false, ny(8, 0));
        assert!(!can_trade(&opg, &market, ny(9, 29)));
        assert!(can_trade(&opg, &market, ny(9, 30)));
        assert!(!expired(&opg, &market, ny(9, 34)));
        assert!(expired(&opg, &market, ny(9, 35)));
        let cls = order(TimeInForce::Cls, false, ny(11, 0));
        assert!(!can_trade(&cls, &market, ny(15, 59)));
        assert!(can_trade(&cls, &market, ny(16, 0)));
        assert!(expired(&cls, &market, ny(16, 5)));
        assert!(ends_unfilled(&cls) && ends_unfilled(&opg));
    }

    #[test]
    fn auction_orders_are_taken_only_when_an_auction_is_ahead() {
        let new =
            |tif| NewOrder::plain(Side::Buy, OrderType::Market, Amount::Qty(Decimal::ONE), tif);
        let market = nyse();
        assert!(admit(&new(TimeInForce::Opg), &market, ny(8, 0)).is_ok());
        assert!(admit(&new(TimeInForce::Opg), &market, ny(10, 0)).is_err());
        assert!(admit(&new(TimeInForce::Cls), &market, ny(15, 49)).is_ok());
        assert!(admit(&new(TimeInForce::Cls), &market, ny(15, 51)).is_err());
        let always = Market::new(&[], MarketClock::new(MarketMode::AlwaysOpen));
        assert!(admit(&new(TimeInForce::Opg), &always, ny(8, 0)).is_err());
        assert!(admit(&new(TimeInForce::Day), &always, ny(8, 0)).is_ok());
    }

    #[test]
    fn gtc_orders_live_ninety_days() {
        let market = nyse();
        let gtc = order(TimeInForce::Gtc, false, ny(10, 0));
        assert!(!expired(&gtc, &market, ny(10, 0) + TimeDelta::days(89)));
        assert!(expired(&gtc, &market, ny(10, 0) + TimeDelta::days(90)));
    }
}
