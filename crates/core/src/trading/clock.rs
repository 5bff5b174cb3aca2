//! The market clock behind `/v2/clock` and `/v2/calendar`: when NYSE's regular session
//! is open, in New York time, with the exchange's holidays and early closes (SPEC §3.4).
//!
//! Pure: every question takes `now`, so tests drive the clock to any instant. In
//! [`MarketMode::AlwaysOpen`] (the sandbox, `--market always-open`) the market never
//! closes, and the clock says so rather than pretend to follow NYSE.

pub mod holidays;
pub mod new_york;

use std::fmt;
use std::ops::RangeInclusive;
use std::str::FromStr;

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, TimeDelta, Utc};

use self::holidays::{DayKind, day_kind, is_trading_day};
pub use self::new_york::{new_york_rfc3339, to_new_york};

const fn hm(hour: u32, minute: u32) -> NaiveTime {
    match NaiveTime::from_hms_opt(hour, minute, 0) {
        Some(time) => time,
        None => panic!("not a time of day"),
    }
}

/// NYSE's core session opens at 09:30 New York time.
pub const REGULAR_OPEN: NaiveTime = hm(9, 30);
/// … and closes at 16:00,
pub const REGULAR_CLOSE: NaiveTime = hm(16, 0);
/// … or at 13:00 on an early-close day.
pub const EARLY_CLOSE: NaiveTime = hm(13, 0);
/// Extended hours, as Alpaca's calendar gives them: pre-market from 04:00 …
pub const EXTENDED_OPEN: NaiveTime = hm(4, 0);
/// … to after-hours' end at 20:00.
pub const EXTENDED_CLOSE: NaiveTime = hm(20, 0);
/// The last minute of an always-open calendar day (Alpaca's calendar has minutes only).
pub const END_OF_DAY: NaiveTime = hm(23, 59);

/// The longest calendar answered, in days: five years, leap days included. Longer
/// requests are refused so that a query cannot make the server build a huge list.
pub const MAX_CALENDAR_DAYS: i64 = 5 * 366;
/// The years a calendar may cover (Alpaca's own calendar starts in 1970).
pub const CALENDAR_YEARS: RangeInclusive<i32> = 1970..=9999;
/// How far ahead an always-open clock puts `next_close`: no close is scheduled, so it
/// names an instant a year away on every call.
pub const ALWAYS_OPEN_HORIZON: TimeDelta = TimeDelta::days(366);
/// US equities settle T+1 for trades from 28 May 2024 (SEC Rule 15c6-1 as amended in
/// 2023), T+2 before.
pub const T_PLUS_ONE_SINCE: NaiveDate = match NaiveDate::from_ymd_opt(2024, 5, 28) {
    Some(date) => date,
    None => panic!("not a calendar date"),
};

/// Which hours the market keeps (`--market`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MarketMode {
    /// NYSE's regular session, 09:30–16:00 New York time on trading days.
    #[default]
    Nyse,
    /// Open at every instant, for sandbox use at any hour.
    AlwaysOpen,
}

impl MarketMode {
    /// The flag value: `nyse` or `always-open`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Nyse => "nyse",
            Self::AlwaysOpen => "always-open",
        }
    }
}

impl fmt::Display for MarketMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown market mode {0:?}: expected `nyse` or `always-open`")]
pub struct UnknownMarketMode(pub String);

impl FromStr for MarketMode {
    type Err = UnknownMarketMode;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "nyse" => Ok(Self::Nyse),
            "always-open" => Ok(Self::AlwaysOpen),
            _ => Err(UnknownMarketMode(text.to_owned())),
        }
    }
}

/// What `/v2/clock` answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClockState {
    pub timestamp: DateTime<Utc>,
    pub is_open: bool,
    /// The first open after `timestamp`: the next trading day's when open now.
    pub next_open: DateTime<Utc>,
    /// The first close after `timestamp`: today's when open now, else the next session's.
    pub next_close: DateTime<Utc>,
}

/// One day of `/v2/calendar`; times are New York wall-clock times.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TradingDay {
    pub date: NaiveDate,
    pub open: NaiveTime,
    pub close: NaiveTime,
    pub session_open: NaiveTime,
    pub session_close: NaiveTime,
    pub settlement_date: NaiveDate,
}

impl TradingDay {
    /// The instant the regular session opens.
    pub fn open_at(&self) -> DateTime<Utc> {
        new_york::new_york_instant(self.date, self.open)
    }

    /// The instant the regular session closes (the market is closed from then on).
    pub fn close_at(&self) -> DateTime<Utc> {
        new_york::new_york_instant(self.date, self.close)
    }

    /// The instants the extended session (pre-market to after-hours) opens and closes.
    pub fn session_open_at(&self) -> DateTime<Utc> {
        new_york::new_york_instant(self.date, self.session_open)
    }

    pub fn session_close_at(&self) -> DateTime<Utc> {
        new_york::new_york_instant(self.date, self.session_close)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("the calendar from {start} to {end} is longer than {MAX_CALENDAR_DAYS} days")]
    RangeTooLong { start: NaiveDate, end: NaiveDate },
    #[error("the calendar covers the years 1970 to 9999, not {0}")]
    OutOfRange(NaiveDate),
}

/// The market clock of one server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MarketClock {
    mode: MarketMode,
}

impl MarketClock {
    pub const fn new(mode: MarketMode) -> Self {
        Self { mode }
    }

    pub const fn mode(&self) -> MarketMode {
        self.mode
    }

    /// `/v2/clock` at `now`.
    pub fn clock(&self, now: DateTime<Utc>) -> ClockState {
        ClockState {
            timestamp: now,
            is_open: self.is_open(now),
            next_open: self.next_open_after(now),
            next_close: self.next_close_after(now),
        }
    }

    /// Whether the regular session runs at `now`: from the open, inclusive, to the
    /// close, exclusive. Always true in [`MarketMode::AlwaysOpen`].
    pub fn is_open(&self, now: DateTime<Utc>) -> bool {
        match self.mode {
            MarketMode::AlwaysOpen => true,
            MarketMode::Nyse => nyse_day(to_new_york(now).date_naive())
                .is_some_and(|day| day.open_at() <= now && now < day.close_at()),
        }
    }

    /// Whether the extended session runs at `now`: from the pre-market open, inclusive,
    /// to the after-hours close, exclusive (04:00–20:00 New York on a trading day).
    /// Always true in [`MarketMode::AlwaysOpen`].
    pub fn is_extended_open(&self, now: DateTime<Utc>) -> bool {
        match self.mode {
            MarketMode::AlwaysOpen => true,
            MarketMode::Nyse => nyse_day(to_new_york(now).date_naive())
                .is_some_and(|day| day.session_open_at() <= now && now < day.session_close_at()),
        }
    }

    /// The first after-hours close strictly after `now`: when an extended-hours day
    /// order ends. A year ahead in [`MarketMode::AlwaysOpen`], as
    /// [`Self::next_close_after`].
    pub fn next_extended_close_after(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        match self.mode {
            MarketMode::AlwaysOpen => now + ALWAYS_OPEN_HORIZON,
            MarketMode::Nyse => nyse_days_from(now)
                .map(|day| day.session_close_at())
                .find(|close| *close > now)
                .expect("NYSE closes within every week"),
        }
    }

    /// The first open strictly after `now`: when day orders sent while the market is
    /// closed may first fill. In [`MarketMode::AlwaysOpen`] it is `now` itself, since
    /// the market is open and no later opening is scheduled.
    ///
    /// # Panics
    /// Only within a week of the last date chrono represents (year 262,142).
    pub fn next_open_after(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        match self.mode {
            MarketMode::AlwaysOpen => now,
            MarketMode::Nyse => nyse_days_from(now)
                .map(|day| day.open_at())
                .find(|open| *open > now)
                .expect("NYSE opens within every week"),
        }
    }

    /// The first close strictly after `now`: today's session's while open, the next
    /// session's while closed. In [`MarketMode::AlwaysOpen`] no close is scheduled and
    /// the answer is [`ALWAYS_OPEN_HORIZON`] (a year) ahead, an instant every client
    /// parses and none reads as "closing soon"; a sentinel such as 9999-12-31 would be
    /// as honest but overflows clients that add to it or convert it.
    ///
    /// # Panics
    /// Only within a week (a year when always open) of the last date chrono represents.
    pub fn next_close_after(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        match self.mode {
            MarketMode::AlwaysOpen => now + ALWAYS_OPEN_HORIZON,
            MarketMode::Nyse => nyse_days_from(now)
                .map(|day| day.close_at())
                .find(|close| *close > now)
                .expect("NYSE closes within every week"),
        }
    }

    /// The session on `date`, or `None` when the market does not open that day. In
    /// [`MarketMode::AlwaysOpen`] every date has one, 00:00–23:59 (regular and
    /// extended alike), and settles as a trade on NYSE would: the sandbox keeps the
    /// market open, not the clearing house.
    pub fn trading_day(&self, date: NaiveDate) -> Option<TradingDay> {
        match self.mode {
            MarketMode::Nyse => nyse_day(date),
            MarketMode::AlwaysOpen => Some(TradingDay {
                date,
                open: NaiveTime::MIN,
                close: END_OF_DAY,
                session_open: NaiveTime::MIN,
                session_close: END_OF_DAY,
                settlement_date: settlement_date(date),
            }),
        }
    }

    /// `/v2/calendar`: the sessions from `start` to `end`, both included, in date order
    /// (empty when `end` is before `start`). Refuses ranges longer than
    /// [`MAX_CALENDAR_DAYS`] and dates outside [`CALENDAR_YEARS`].
    pub fn calendar(
        &self,
        start: NaiveDate,
        end: NaiveDate,
    ) -> Result<Vec<TradingDay>, CalendarError> {
        for date in [start, end] {
            if !CALENDAR_YEARS.contains(&date.year()) {
                return Err(CalendarError::OutOfRange(date));
            }
        }
        if (end - start).num_days() + 1 > MAX_CALENDAR_DAYS {
            return Err(CalendarError::RangeTooLong { start, end });
        }
        Ok(start
            .iter_days()
            .take_while(|date| *date <= end)
            .filter_map(|date| self.trading_day(date))
            .collect())
    }
}

/// NYSE's session on `date`, if it trades.
fn nyse_day(date: NaiveDate) -> Option<TradingDay> {
    let close = match day_kind(date) {
        DayKind::Regular => REGULAR_CLOSE,
        DayKind::EarlyClose => EARLY_CLOSE,
        DayKind::Weekend | DayKind::Closed(_) => return None,
    };
    Some(TradingDay {
        date,
        open: REGULAR_OPEN,
        close,
        session_open: EXTENDED_OPEN,
        session_close: EXTENDED_CLOSE,
        settlement_date: settlement_date(date),
    })
}

/// NYSE's sessions from the New York date of `now` on.
fn nyse_days_from(now: DateTime<Utc>) -> impl Iterator<Item = TradingDay> {
    to_new_york(now)
        .date_naive()
        .iter_days()
        .filter_map(nyse_day)
}

/// When a trade made on `date` settles: the first (T+1, from [`T_PLUS_ONE_SINCE`]) or
/// second (T+2, before) trading day after it. Settlement days are taken to be NYSE's
/// trading days; the bank holidays on which markets open but DTC does not settle
/// (Columbus Day, Veterans Day) are not modelled.
pub fn settlement_date(date: NaiveDate) -> NaiveDate {
    let days = if date >= T_PLUS_ONE_SINCE { 1 } else { 2 };
    date.iter_days()
        .skip(1)
        .filter(|day| is_trading_day(*day))
        .nth(days - 1)
        .expect("NYSE trades within every week")
}

#[cfg(test)]
mod tests;
