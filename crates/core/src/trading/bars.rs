//! Market data for the Data API: bars, the latest trade and quote, made up from the
//! simulator's price. paddock keeps no tick history, so a symbol's past is a path drawn
//! backwards from its price now: each bar's move is drawn from the seed, the symbol,
//! the timeframe and the bar's start. The latest bar closes at the price now (the
//! latest trade's), and the same seed and price give the same bars.

use std::collections::VecDeque;

use chrono::{DateTime, Datelike, Months, NaiveDate, NaiveTime, TimeDelta, Utc, Weekday};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};
use sha2::{Digest as _, Sha256};

use crate::trading::assets::Symbol;
use crate::trading::clock::{MarketClock, new_york, to_new_york};

/// A bar's length, as Alpaca writes it: `1Min`…`59Min`, `1Hour`…`23Hour`, `1Day`,
/// `1Week`, `1Month` (and `Min`/`Hour`/`Day`/`Week`/`Month` alone for one).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BarLength {
    Minutes(u32),
    Hours(u32),
    Day,
    Week,
    Month,
}

impl BarLength {
    pub fn parse(text: &str) -> Option<Self> {
        let split = text
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len());
        let (count, unit) = text.split_at(split);
        let count: u32 = if count.is_empty() {
            1
        } else {
            count.parse().ok()?
        };
        match (unit, count) {
            ("Min" | "T", 1..=59) => Some(Self::Minutes(count)),
            ("Hour" | "H", 1..=23) => Some(Self::Hours(count)),
            ("Day" | "D", 1) => Some(Self::Day),
            ("Week" | "W", 1) => Some(Self::Week),
            ("Month" | "M", 1) => Some(Self::Month),
            _ => None,
        }
    }

    pub fn name(self) -> String {
        match self {
            Self::Minutes(n) => format!("{n}Min"),
            Self::Hours(n) => format!("{n}Hour"),
            Self::Day => "1Day".into(),
            Self::Week => "1Week".into(),
            Self::Month => "1Month".into(),
        }
    }

    /// The start of the bar `at` falls in: minutes and hours from the epoch, days,
    /// weeks (Monday) and months at midnight in New York.
    pub fn start_of(self, at: DateTime<Utc>) -> DateTime<Utc> {
        let fixed = |step: i64| {
            let secs = at.timestamp().div_euclid(step) * step;
            DateTime::from_timestamp(secs, 0).unwrap_or(at)
        };
        let date = to_new_york(at).date_naive();
        let midnight = |d: NaiveDate| new_york::new_york_instant(d, NaiveTime::MIN);
        match self {
            Self::Minutes(n) => fixed(i64::from(n) * 60),
            Self::Hours(n) => fixed(i64::from(n) * 3_600),
            Self::Day => midnight(date),
            Self::Week => midnight(date.week(Weekday::Mon).first_day()),
            Self::Month => midnight(date.with_day(1).unwrap_or(date)),
        }
    }

    /// About how long a bar lasts (a month as 30 days): for bounding how far back a
    /// request walks.
    pub fn approximate(self) -> TimeDelta {
        match self {
            Self::Minutes(n) => TimeDelta::minutes(i64::from(n)),
            Self::Hours(n) => TimeDelta::hours(i64::from(n)),
            Self::Day => TimeDelta::days(1),
            Self::Week => TimeDelta::weeks(1),
            Self::Month => TimeDelta::days(30),
        }
    }

    /// About how many bars lie between `from` and `now`: what walking back to `from`
    /// costs.
    pub fn bars_back(self, from: DateTime<Utc>, now: DateTime<Utc>) -> i64 {
        (now - from).num_seconds().max(0) / self.approximate().num_seconds().max(1) + 1
    }

    /// The start of the bar after the one starting at `start`.
    pub fn next(self, start: DateTime<Utc>) -> DateTime<Utc> {
        let date = to_new_york(start).date_naive();
        let midnight = |d: NaiveDate| new_york::new_york_instant(d, NaiveTime::MIN);
        match self {
            Self::Minutes(n) => start + TimeDelta::minutes(i64::from(n)),
            Self::Hours(n) => start + TimeDelta::hours(i64::from(n)),
            Self::Day => midnight(date + TimeDelta::days(1)),
            Self::Week => midnight(date + TimeDelta::days(7)),
            Self::Month => midnight(date.checked_add_months(Months::new(1)).unwrap_or(date)),
        }
    }

    /// The start of the bar before the one starting at `start`.
    fn previous(self, start: DateTime<Utc>) -> DateTime<Utc> {
        self.start_of(start - TimeDelta::seconds(1))
    }

    /// How far one bar moves at most, as a fraction of the price: wider for longer bars.
    fn reach(self) -> Decimal {
        let minutes: i64 = match self {
            Self::Minutes(n) => i64::from(n),
            Self::Hours(n) => i64::from(n) * 60,
            Self::Day => 390,
            Self::Week => 1_950,
            Self::Month => 8_190,
        };
        // About 0.1% a minute, growing with the square root of the bar's length.
        let root = Decimal::from((minutes as f64).sqrt().round() as i64).max(Decimal::ONE);
        Decimal::new(1, 3) * root
    }

    /// Whether a bar starting at `start` has trades: intraday bars while the extended
    /// session runs, day bars on trading days, every week and month.
    fn trades(self, start: DateTime<Utc>, clock: MarketClock) -> bool {
        match self {
            Self::Minutes(_) | Self::Hours(_) => clock.is_extended_open(start),
            Self::Day => clock.trading_day(to_new_york(start).date_naive()).is_some(),
            Self::Week | Self::Month => true,
        }
    }
}

/// One bar: Alpaca's `t, o, h, l, c, v, n, vw`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bar {
    pub start: DateTime<Utc>,
    pub open: Decimal,
    pub high: Decimal,
    pub low: Decimal,
    pub close: Decimal,
    pub volume: u64,
    pub trades: u64,
    pub vwap: Decimal,
}

/// The simulator's made-up past, for one seed, as it looks at `now`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct History {
    pub seed: u64,
    pub clock: MarketClock,
    pub now: DateTime<Utc>,
}

fn cents(d: Decimal) -> Decimal {
    d.round_dp_with_strategy(2, RoundingStrategy::MidpointNearestEven)
        .max(Decimal::new(1, 2))
}

impl History {
    /// A draw in [-1, 1] and one in [0, 1], for this symbol, length and bar.
    fn draws(
        &self,
        symbol: &Symbol,
        length: BarLength,
        start: DateTime<Utc>,
    ) -> (Decimal, Decimal) {
        let digest = Sha256::digest(format!(
            "paddock-bars:{}:{symbol}:{}:{}",
            self.seed,
            length.name(),
            start.timestamp()
        ));
        let word = |i: usize| {
            let mut bytes = [0u8; 8];
            bytes.copy_from_slice(&digest[i..i + 8]);
            u64::from_be_bytes(bytes)
        };
        let signed = Decimal::new((word(0) % 2_000_001) as i64 - 1_000_000, 6);
        let unsigned = Decimal::new((word(8) % 1_000_001) as i64, 6);
        (signed, unsigned)
    }

    /// The bars of `symbol` with trades that start in `[from, until)`, oldest first, at
    /// most `limit` of them, for a market whose price is `price` now. Walks back
    /// from the bar under way (which closes at `price`), so the cost grows with how far
    /// back `from` is, not with how many bars are asked for.
    pub fn bars(
        &self,
        symbol: &Symbol,
        length: BarLength,
        price: Decimal,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: usize,
    ) -> Vec<Bar> {
        let now = self.now;
        let until = until.min(length.next(length.start_of(now)));
        let mut start = length.start_of(now);
        let mut close = cents(price);
        // Newest first while walking back; only the oldest `limit` are kept.
        let mut out: VecDeque<Bar> = VecDeque::new();
        while start >= length.start_of(from) {
            let (change, spread) = self.draws(symbol, length, start);
            let open = cents(close / (Decimal::ONE + length.reach() * change));
            if start >= from && start < until && length.trades(start, self.clock) {
                let wick = length.reach() * spread / Decimal::from(2);
                let high = cents(open.max(close) * (Decimal::ONE + wick));
                let low = cents(open.min(close) * (Decimal::ONE - wick));
                let volume = 1_000 + (spread * Decimal::from(99_000)).to_u64().unwrap_or(0);
                out.push_back(Bar {
                    start,
                    open,
                    high,
                    low,
                    close,
                    volume,
                    trades: volume / 100 + 1,
                    vwap: cents((open + high + low + close) / Decimal::from(4)),
                });
                if out.len() > limit {
                    out.pop_front();
                }
            }
            close = open;
            start = length.previous(start);
        }
        out.into_iter().rev().collect()
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::trading::clock::MarketMode;

    fn history(mode: MarketMode, now: DateTime<Utc>) -> History {
        History {
            seed: 3,
            clock: MarketClock::new(mode),
            now,
        }
    }

    fn aapl() -> Symbol {
        Symbol::parse("AAPL").unwrap()
    }

    #[test]
    fn lengths_parse_as_alpaca_writes_them() {
        assert_eq!(BarLength::parse("1Min"), Some(BarLength::Minutes(1)));
        assert_eq!(BarLength::parse("15Min"), Some(BarLength::Minutes(15)));
        assert_eq!(BarLength::parse("1Hour"), Some(BarLength::Hours(1)));
        assert_eq!(BarLength::parse("1Day"), Some(BarLength::Day));
        assert_eq!(BarLength::parse("Week"), Some(BarLength::Week));
        for bad in ["", "0Min", "60Min", "2Day", "1Year", "Min1", "-1Min"] {
            assert_eq!(BarLength::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_last_bar_closes_at_the_price_now_and_bars_chain() {
        let now = Utc.with_ymd_and_hms(2026, 11, 24, 15, 7, 30).unwrap();
        let h = history(MarketMode::AlwaysOpen, now);
        let length = BarLength::Minutes(5);
        let bars = h.bars(
            &aapl(),
            length,
            Decimal::from(190),
            now - TimeDelta::hours(1),
            now,
            1_000,
        );
        assert_eq!(
            bars.len(),
            12,
            "those that start within the hour, the last under way"
        );
        assert_eq!(bars.last().unwrap().close, Decimal::from(190));
        assert_eq!(
            bars.last().unwrap().start,
            Utc.with_ymd_and_hms(2026, 11, 24, 15, 5, 0).unwrap()
        );
        for pair in bars.windows(2) {
            assert_eq!(pair[0].close, pair[1].open);
            assert_eq!(length.next(pair[0].start), pair[1].start);
        }
        for bar in &bars {
            assert!(bar.low <= bar.open.min(bar.close) && bar.high >= bar.open.max(bar.close));
        }
        let again = h.bars(
            &aapl(),
            length,
            Decimal::from(190),
            now - TimeDelta::hours(1),
            now,
            1_000,
        );
        assert_eq!(bars, again, "the same seed and price give the same bars");
        let other = History { seed: 4, ..h };
        assert_ne!(
            bars,
            other.bars(
                &aapl(),
                length,
                Decimal::from(190),
                now - TimeDelta::hours(1),
                now,
                1_000
            )
        );
    }

    #[test]
    fn nyse_bars_skip_closed_days_and_nights() {
        // Monday 2026-11-30, noon in New York; the week before has Thanksgiving.
        let now = Utc.with_ymd_and_hms(2026, 11, 30, 17, 0, 0).unwrap();
        let h = history(MarketMode::Nyse, now);
        let monday = Utc.with_ymd_and_hms(2026, 11, 23, 5, 0, 0).unwrap();
        let days = h.bars(
            &aapl(),
            BarLength::Day,
            Decimal::from(190),
            monday,
            now,
            100,
        );
        let dates: Vec<_> = days
            .iter()
            .map(|b| to_new_york(b.start).date_naive().day())
            .collect();
        assert_eq!(dates, [23, 24, 25, 27, 30]);
        let hours = h.bars(
            &aapl(),
            BarLength::Hours(1),
            Decimal::from(190),
            now - TimeDelta::days(1),
            now,
            100,
        );
        assert!(hours.iter().all(|b| h.clock.is_extended_open(b.start)));
    }
}
