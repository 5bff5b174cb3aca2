//! Portfolio history (`/v2/account/portfolio/history`): the account's equity at evenly
//! spaced moments, worked out from its cash and holdings now and its fills since.
//!
//! paddock keeps no price history, so at each moment a holding is valued at the price
//! of its latest fill up to then (the market's current price when none), and at the
//! current price from `now` on. Cash and quantities are exact at every moment.

use std::collections::HashMap;

use chrono::{DateTime, Months, NaiveDate, NaiveTime, TimeDelta, Utc};
use rust_decimal::Decimal;

use crate::store::FillRecord;
use crate::trading::assets::Symbol;
use crate::trading::clock::{MarketClock, new_york, to_new_york};
use crate::trading::market::Market;
use crate::trading::orders::{Fill, Holding, Side, wire_enum};

wire_enum!(Timeframe {
    Min1 = "1Min",
    Min5 = "5Min",
    Min15 = "15Min",
    Hour1 = "1H",
    Day1 = "1D",
});

impl Timeframe {
    pub fn step(self) -> TimeDelta {
        match self {
            Timeframe::Min1 => TimeDelta::minutes(1),
            Timeframe::Min5 => TimeDelta::minutes(5),
            Timeframe::Min15 => TimeDelta::minutes(15),
            Timeframe::Hour1 => TimeDelta::hours(1),
            Timeframe::Day1 => TimeDelta::days(1),
        }
    }

    /// Alpaca's default for a window: by the minute under a week, by the quarter hour
    /// under a month (30 days), by the day beyond.
    pub fn default_for(window: TimeDelta) -> Self {
        if window < TimeDelta::days(7) {
            Timeframe::Min1
        } else if window < TimeDelta::days(30) {
            Timeframe::Min15
        } else {
            Timeframe::Day1
        }
    }
}

wire_enum!(
    /// Which moments of a day an intraday history shows.
    Reporting {
        MarketHours = "market_hours",
        ExtendedHours = "extended_hours",
        Continuous = "continuous",
    }
);

wire_enum!(
    /// Whether profit and loss count from the window's start or from each day's.
    PnlReset { PerDay = "per_day", NoReset = "no_reset" }
);

/// A length of history as Alpaca writes it: a count and a unit, `1D`, `2W`, `3M`, `1A`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Period {
    count: u32,
    unit: char,
}

impl Period {
    pub fn parse(text: &str) -> Option<Self> {
        let unit = text.chars().last()?;
        let count: u32 = text[..text.len() - unit.len_utf8()].parse().ok()?;
        (matches!(unit, 'D' | 'W' | 'M' | 'A') && (1..=1000).contains(&count))
            .then_some(Self { count, unit })
    }

    /// The moment this period before `end`.
    pub fn before(self, end: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self.unit {
            'D' => end.checked_sub_signed(TimeDelta::days(i64::from(self.count))),
            'W' => end.checked_sub_signed(TimeDelta::weeks(i64::from(self.count))),
            'M' => end.checked_sub_months(Months::new(self.count)),
            _ => end.checked_sub_months(Months::new(self.count.checked_mul(12)?)),
        }
    }

    /// The moment this period after `start`.
    pub fn after(self, start: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self.unit {
            'D' => start.checked_add_signed(TimeDelta::days(i64::from(self.count))),
            'W' => start.checked_add_signed(TimeDelta::weeks(i64::from(self.count))),
            'M' => start.checked_add_months(Months::new(self.count)),
            _ => start.checked_add_months(Months::new(self.count.checked_mul(12)?)),
        }
    }
}

/// The most points one history may have.
pub const MAX_POINTS: usize = 10_000;

/// What a history covers and how.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HistoryRequest {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub timeframe: Timeframe,
    pub reporting: Reporting,
    pub pnl_reset: PnlReset,
}

/// The account as it stands now, and its fills since the window's start.
pub struct Ledger<'a> {
    pub created_at: DateTime<Utc>,
    pub cash: Decimal,
    pub holdings: &'a [(Symbol, Holding)],
    /// Every fill after the request's start, in any order.
    pub fills: &'a [FillRecord],
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Point {
    /// The moment shown (a day's midnight in New York, for daily points).
    pub at: DateTime<Utc>,
    pub equity: Decimal,
    pub profit_loss: Decimal,
    pub profit_loss_pct: Option<Decimal>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct History {
    pub points: Vec<Point>,
    pub base_value: Decimal,
}

/// A point's moment: the one it shows, and the one its equity is valued at. A daily
/// point shows the day's midnight in New York and values the day's close; an intraday
/// point shows its bar's start and values its end; neither values past `now`.
struct Moment {
    shown: DateTime<Utc>,
    valued: DateTime<Utc>,
}

fn moments(
    request: &HistoryRequest,
    clock: MarketClock,
    created_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Vec<Moment>, String> {
    let too_many = || {
        format!(
            "the history would have more than {MAX_POINTS} points; ask for a shorter period or \
             a longer timeframe"
        )
    };
    // Refused by the window's size, not by what is left once the moments before the
    // account are dropped, so that the same request is accepted or refused alike for
    // every account.
    let span = request.end - request.start;
    if span.num_seconds() / request.timeframe.step().num_seconds() > MAX_POINTS as i64 {
        return Err(too_many());
    }
    let end = request.end.min(now);
    let mut out = Vec::new();
    if request.timeframe == Timeframe::Day1 {
        let first = to_new_york(request.start).date_naive();
        let last = to_new_york(end).date_naive();
        for date in first.iter_days().take_while(|d| *d <= last) {
            let Some(day) = clock.trading_day(date) else {
                continue;
            };
            let valued = day.close_at().min(now);
            if valued < created_at {
                continue;
            }
            out.push(Moment {
                shown: new_york::new_york_instant(date, NaiveTime::MIN),
                valued,
            });
            if out.len() > MAX_POINTS {
                return Err(too_many());
            }
        }
        return Ok(out);
    }
    let step = request.timeframe.step();
    let step_secs = step.num_seconds();
    let first = request.start.timestamp().div_euclid(step_secs) * step_secs;
    let mut at = DateTime::from_timestamp(first, 0).ok_or_else(too_many)?;
    // Each bar shows its start and values its end: the bar under way, `now`.
    while at <= end {
        let valued = (at + step).min(now);
        let shown = match request.reporting {
            Reporting::Continuous => true,
            Reporting::MarketHours => clock.is_open(at),
            Reporting::ExtendedHours => clock.is_extended_open(at),
        };
        if shown && valued >= created_at {
            out.push(Moment { shown: at, valued });
            if out.len() > MAX_POINTS {
                return Err(too_many());
            }
        }
        at += step;
    }
    Ok(out)
}

/// The history `request` asks for, or why it cannot be given.
pub fn history(
    request: &HistoryRequest,
    ledger: &Ledger<'_>,
    market: &Market,
    now: DateTime<Utc>,
) -> Result<History, String> {
    if request.end < request.start {
        return Err("end must not be before start".into());
    }
    let moments = moments(request, market.clock(), ledger.created_at, now)?;
    let mut fills: Vec<&FillRecord> = ledger
        .fills
        .iter()
        .filter(|f| f.at > request.start)
        .collect();
    fills.sort_by_key(|f| f.at);

    // The account at the window's start: now, with every later fill undone.
    let mut cash = ledger.cash;
    let mut qty: HashMap<Symbol, Decimal> = ledger
        .holdings
        .iter()
        .map(|(s, h)| (s.clone(), h.qty))
        .collect();
    for f in &fills {
        let value = fill_value(f);
        let held = qty.entry(f.symbol.clone()).or_default();
        match f.side {
            Side::Buy => {
                cash += value;
                *held -= f.qty;
            }
            Side::Sell => {
                cash -= value;
                *held += f.qty;
            }
        }
    }

    // Forward again, point by point.
    let mut last_price: HashMap<Symbol, Decimal> = HashMap::new();
    let mut next = fills.iter().peekable();
    let mut points: Vec<Point> = Vec::with_capacity(moments.len());
    let mut base_value = None;
    let mut day_base: Option<(NaiveDate, Decimal)> = None;
    for Moment { shown, valued } in moments {
        while let Some(f) = next.next_if(|f| f.at <= valued) {
            let value = fill_value(f);
            let held = qty.entry(f.symbol.clone()).or_default();
            match f.side {
                Side::Buy => {
                    cash -= value;
                    *held += f.qty;
                }
                Side::Sell => {
                    cash += value;
                    *held -= f.qty;
                }
            }
            last_price.insert(f.symbol.clone(), f.price);
        }
        let holdings: Decimal = qty
            .iter()
            .map(|(symbol, q)| {
                let current = market.price(symbol).unwrap_or_default();
                let price = if valued >= now {
                    current
                } else {
                    last_price.get(symbol).copied().unwrap_or(current)
                };
                *q * price
            })
            .sum();
        let equity = (cash + holdings).round_dp(4).normalize();
        let base = *base_value.get_or_insert(equity);
        let base = match request.pnl_reset {
            PnlReset::NoReset => base,
            PnlReset::PerDay => {
                let day = to_new_york(valued).date_naive();
                match day_base {
                    Some((d, b)) if d == day => b,
                    _ => {
                        day_base = Some((day, equity));
                        equity
                    }
                }
            }
        };
        let profit_loss = (equity - base).normalize();
        points.push(Point {
            at: shown,
            equity,
            profit_loss,
            profit_loss_pct: (!base.is_zero())
                .then(|| (profit_loss / base).round_dp(6).normalize()),
        });
    }
    Ok(History {
        points,
        base_value: base_value.unwrap_or(ledger.cash),
    })
}

fn fill_value(f: &FillRecord) -> Decimal {
    Fill {
        side: f.side,
        qty: f.qty,
        price: f.price,
    }
    .value()
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use uuid::Uuid;

    use super::*;
    use crate::ids::OrderId;
    use crate::trading::clock::MarketMode;
    use crate::trading::orders::OrderStatus;

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 24, h, m, 0).unwrap()
    }

    fn fill(side: Side, qty: i64, price: i64, when: DateTime<Utc>) -> FillRecord {
        FillRecord {
            execution_id: Uuid::new_v4(),
            order_id: OrderId::random(),
            symbol: Symbol::parse("AAPL").unwrap(),
            side,
            price: Decimal::from(price),
            qty: Decimal::from(qty),
            at: when,
            order_filled_qty: Decimal::from(qty),
            order_status: OrderStatus::Filled,
        }
    }

    fn continuous(
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        timeframe: Timeframe,
    ) -> HistoryRequest {
        HistoryRequest {
            start,
            end,
            timeframe,
            reporting: Reporting::Continuous,
            pnl_reset: PnlReset::NoReset,
        }
    }

    #[test]
    fn periods_parse_as_alpaca_writes_them() {
        let end = at(12, 0);
        assert_eq!(
            Period::parse("1D").unwrap().before(end),
            Some(end - TimeDelta::days(1))
        );
        assert_eq!(
            Period::parse("2W").unwrap().before(end),
            Some(end - TimeDelta::weeks(2))
        );
        assert!(Period::parse("1M").is_some());
        assert!(Period::parse("1A").is_some());
        for bad in ["", "M", "0D", "1Y", "-1D", "1.5D", "99999D"] {
            assert_eq!(Period::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn fills_are_replayed_from_the_account_as_it_is_now() {
        // 1000 cash at 10:00; bought 5 at 100 at 10:30; AAPL trades at 120 now (12:00).
        let market = Market::new(
            &[crate::store::StoredPrice {
                symbol: Symbol::parse("AAPL").unwrap(),
                price: Decimal::from(120),
                updated_at: at(11, 0),
            }],
            MarketClock::new(MarketMode::AlwaysOpen),
        );
        let holdings = [(
            Symbol::parse("AAPL").unwrap(),
            Holding {
                qty: Decimal::from(5),
                avg_entry_price: Decimal::from(100),
            },
        )];
        let fills = [fill(Side::Buy, 5, 100, at(10, 30))];
        let ledger = Ledger {
            created_at: at(9, 0),
            cash: Decimal::from(500),
            holdings: &holdings,
            fills: &fills,
        };
        let request = continuous(at(10, 0), at(12, 0), Timeframe::Hour1);
        let history = history(&request, &ledger, &market, at(12, 0)).unwrap();
        let equity: Vec<String> = history
            .points
            .iter()
            .map(|p| p.equity.to_string())
            .collect();
        // The 10:00 bar ends with five shares at their fill price; the later ones reach
        // now, and today's price.
        assert_eq!(equity, ["1000", "1100", "1100"]);
        assert_eq!(history.base_value, Decimal::from(1000));
        assert_eq!(history.points[2].profit_loss, Decimal::from(100));
        assert_eq!(history.points[2].profit_loss_pct, Some(Decimal::new(1, 1)));
    }

    #[test]
    fn no_point_comes_before_the_account_or_after_now() {
        let market = Market::new(&[], MarketClock::new(MarketMode::AlwaysOpen));
        let ledger = Ledger {
            created_at: at(10, 30),
            cash: Decimal::from(100),
            holdings: &[],
            fills: &[],
        };
        let request = continuous(at(9, 0), at(23, 0), Timeframe::Hour1);
        let history = history(&request, &ledger, &market, at(12, 0)).unwrap();
        let shown: Vec<_> = history.points.iter().map(|p| p.at).collect();
        assert_eq!(shown, [at(10, 0), at(11, 0), at(12, 0)]);
    }

    #[test]
    fn market_hours_show_only_the_session() {
        let market = Market::new(&[], MarketClock::new(MarketMode::Nyse));
        let ledger = Ledger {
            created_at: at(0, 0),
            cash: Decimal::from(100),
            holdings: &[],
            fills: &[],
        };
        let request = HistoryRequest {
            reporting: Reporting::MarketHours,
            ..continuous(at(0, 0), at(23, 59), Timeframe::Hour1)
        };
        // 2026-11-24 is a Tuesday: 9:30–16:00 New York is 14:30–21:00 UTC.
        let history = history(&request, &ledger, &market, at(23, 59)).unwrap();
        let hours: Vec<_> = history.points.iter().map(|p| p.at).collect();
        assert_eq!(hours, (15..=20).map(|h| at(h, 0)).collect::<Vec<_>>());
    }

    #[test]
    fn too_many_points_are_refused() {
        let market = Market::new(&[], MarketClock::new(MarketMode::AlwaysOpen));
        let ledger = Ledger {
            created_at: at(0, 0) - TimeDelta::days(400),
            cash: Decimal::ONE,
            holdings: &[],
            fills: &[],
        };
        let request = continuous(at(0, 0) - TimeDelta::days(30), at(0, 0), Timeframe::Min1);
        assert!(history(&request, &ledger, &market, at(0, 0)).is_err());
    }
}
