//! NYSE's holidays and early closes, 2024 through 2028.
//!
//! NYSE Rule 7.2 names the holidays; the exchange publishes each year's dates
//! (for example "NYSE Group Announces 2026, 2027 and 2028 Holiday and Early Closings
//! Calendar", December 2025). The rule-based ones are computed here; only Good Friday
//! (Easter moves) and special closures are written out per year. Outside [`TABLE_YEARS`]
//! nothing is known, so only weekends are closed and no day closes early: a clock that
//! guesses a future closure would be no more honest than one that leaves it out.

use std::ops::RangeInclusive;

use chrono::{Datelike, Days, NaiveDate, Weekday};

/// The years whose holidays and early closes this table knows.
pub const TABLE_YEARS: RangeInclusive<i32> = 2024..=2028;

/// Why NYSE is closed on a weekday.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closure {
    NewYearsDay,
    MartinLutherKingJrDay,
    WashingtonsBirthday,
    GoodFriday,
    MemorialDay,
    JuneteenthNationalIndependenceDay,
    IndependenceDay,
    LaborDay,
    ThanksgivingDay,
    ChristmasDay,
    /// A one-off closure, such as the National Day of Mourning for President Carter.
    Special,
}

/// What kind of day a date is on NYSE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayKind {
    Weekend,
    Closed(Closure),
    /// 09:30–16:00 New York time.
    Regular,
    /// 09:30–13:00 New York time.
    EarlyClose,
}

/// A date in a `const`, checked when the crate compiles.
const fn ymd(year: i32, month: u32, day: u32) -> NaiveDate {
    match NaiveDate::from_ymd_opt(year, month, day) {
        Some(date) => date,
        None => panic!("not a calendar date"),
    }
}

/// Good Friday, two days before Easter Sunday (Gregorian computus), per year.
const GOOD_FRIDAYS: [NaiveDate; 5] = [
    ymd(2024, 3, 29),
    ymd(2025, 4, 18),
    ymd(2026, 4, 3),
    ymd(2027, 3, 26),
    ymd(2028, 4, 14),
];

/// Closures no rule predicts. NYSE closed on Thursday 9 January 2025 for the National
/// Day of Mourning for President Jimmy Carter.
const SPECIAL_CLOSURES: [NaiveDate; 1] = [ymd(2025, 1, 9)];

/// What kind of day `date` is on NYSE.
pub fn day_kind(date: NaiveDate) -> DayKind {
    if matches!(date.weekday(), Weekday::Sat | Weekday::Sun) {
        return DayKind::Weekend;
    }
    if let Some(closure) = closure(date) {
        return DayKind::Closed(closure);
    }
    if is_early_close(date) {
        DayKind::EarlyClose
    } else {
        DayKind::Regular
    }
}

/// Whether NYSE's regular session runs on `date`.
pub fn is_trading_day(date: NaiveDate) -> bool {
    matches!(day_kind(date), DayKind::Regular | DayKind::EarlyClose)
}

/// The holiday NYSE observes on `date`, if any (weekends aside).
fn closure(date: NaiveDate) -> Option<Closure> {
    let year = date.year();
    if !TABLE_YEARS.contains(&year) {
        return None;
    }
    if GOOD_FRIDAYS.contains(&date) {
        return Some(Closure::GoodFriday);
    }
    if SPECIAL_CLOSURES.contains(&date) {
        return Some(Closure::Special);
    }
    // NYSE Rule 7.2: a holiday on a Saturday is observed the Friday before, one on a
    // Sunday the Monday after, except that New Year's Day on a Saturday is not observed
    // at all (the Friday before closes another year, as in 2022 and 2028).
    let new_years_day = ymd_in(year, 1, 1);
    let new_years_observed =
        (new_years_day.weekday() != Weekday::Sat).then(|| observed(new_years_day));
    let rules = [
        (new_years_observed, Closure::NewYearsDay),
        (
            Some(nth(year, 1, Weekday::Mon, 3)),
            Closure::MartinLutherKingJrDay,
        ),
        (
            Some(nth(year, 2, Weekday::Mon, 3)),
            Closure::WashingtonsBirthday,
        ),
        (Some(last_monday_of_may(year)), Closure::MemorialDay),
        (
            Some(observed(ymd_in(year, 6, 19))),
            Closure::JuneteenthNationalIndependenceDay,
        ),
        (Some(observed(ymd_in(year, 7, 4))), Closure::IndependenceDay),
        (Some(nth(year, 9, Weekday::Mon, 1)), Closure::LaborDay),
        (Some(thanksgiving(year)), Closure::ThanksgivingDay),
        (Some(observed(ymd_in(year, 12, 25))), Closure::ChristmasDay),
    ];
    rules
        .into_iter()
        .find(|(day, _)| *day == Some(date))
        .map(|(_, closure)| closure)
}

/// NYSE closes at 13:00 on 3 July, the day before Independence Day, when that is a
/// trading day (when 4 July is a Saturday, 3 July is itself the observed holiday and
/// 2 July is a full day; when it is a Sunday or Monday, 3 July is a weekend day), on the
/// day after Thanksgiving, and on Christmas Eve when that is a trading day (24 December
/// on a Friday is the observed Christmas). `date` is assumed to be a trading day.
fn is_early_close(date: NaiveDate) -> bool {
    let year = date.year();
    if !TABLE_YEARS.contains(&year) {
        return false;
    }
    let day_after_thanksgiving = thanksgiving(year) + Days::new(1);
    matches!((date.month(), date.day()), (7, 3) | (12, 24)) || date == day_after_thanksgiving
}

/// The weekday a fixed-date holiday is observed on.
fn observed(holiday: NaiveDate) -> NaiveDate {
    match holiday.weekday() {
        Weekday::Sat => holiday - Days::new(1),
        Weekday::Sun => holiday + Days::new(1),
        _ => holiday,
    }
}

/// Thanksgiving Day: the fourth Thursday of November.
fn thanksgiving(year: i32) -> NaiveDate {
    nth(year, 11, Weekday::Thu, 4)
}

/// Memorial Day: the last Monday of May.
fn last_monday_of_may(year: i32) -> NaiveDate {
    let may_31 = ymd_in(year, 5, 31);
    may_31 - Days::new(may_31.weekday().num_days_from_monday().into())
}

fn nth(year: i32, month: u32, weekday: Weekday, n: u8) -> NaiveDate {
    NaiveDate::from_weekday_of_month_opt(year, month, weekday, n)
        .expect("the first four of each weekday exist in every month of the table's years")
}

fn ymd_in(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).expect("a calendar date in the table's years")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(text: &str) -> DayKind {
        day_kind(text.parse().unwrap())
    }

    #[test]
    fn good_fridays_are_fridays() {
        for date in GOOD_FRIDAYS {
            assert_eq!(date.weekday(), Weekday::Fri, "{date}");
        }
        assert_eq!(GOOD_FRIDAYS.len(), TABLE_YEARS.count());
    }

    /// Every closure of NYSE's published calendars, 2024 through 2028.
    #[test]
    fn the_table_matches_nyse_s_published_holidays() {
        use Closure::*;
        let published = [
            ("2024-01-01", NewYearsDay),
            ("2024-01-15", MartinLutherKingJrDay),
            ("2024-02-19", WashingtonsBirthday),
            ("2024-03-29", GoodFriday),
            ("2024-05-27", MemorialDay),
            ("2024-06-19", JuneteenthNationalIndependenceDay),
            ("2024-07-04", IndependenceDay),
            ("2024-09-02", LaborDay),
            ("2024-11-28", ThanksgivingDay),
            ("2024-12-25", ChristmasDay),
            ("2025-01-01", NewYearsDay),
            ("2025-01-09", Special),
            ("2025-01-20", MartinLutherKingJrDay),
            ("2025-02-17", WashingtonsBirthday),
            ("2025-04-18", GoodFriday),
            ("2025-05-26", MemorialDay),
            ("2025-06-19", JuneteenthNationalIndependenceDay),
            ("2025-07-04", IndependenceDay),
            ("2025-09-01", LaborDay),
            ("2025-11-27", ThanksgivingDay),
            ("2025-12-25", ChristmasDay),
            ("2026-01-01", NewYearsDay),
            ("2026-01-19", MartinLutherKingJrDay),
            ("2026-02-16", WashingtonsBirthday),
            ("2026-04-03", GoodFriday),
            ("2026-05-25", MemorialDay),
            ("2026-06-19", JuneteenthNationalIndependenceDay),
            ("2026-07-03", IndependenceDay),
            ("2026-09-07", LaborDay),
            ("2026-11-26", ThanksgivingDay),
            ("2026-12-25", ChristmasDay),
            ("2027-01-01", NewYearsDay),
            ("2027-01-18", MartinLutherKingJrDay),
            ("2027-02-15", WashingtonsBirthday),
            ("2027-03-26", GoodFriday),
            ("2027-05-31", MemorialDay),
            ("2027-06-18", JuneteenthNationalIndependenceDay),
            ("2027-07-05", IndependenceDay),
            ("2027-09-06", LaborDay),
            ("2027-11-25", ThanksgivingDay),
            ("2027-12-24", ChristmasDay),
            ("2028-01-17", MartinLutherKingJrDay),
            ("2028-02-21", WashingtonsBirthday),
            ("2028-04-14", GoodFriday),
            ("2028-05-29", MemorialDay),
            ("2028-06-19", JuneteenthNationalIndependenceDay),
            ("2028-07-04", IndependenceDay),
            ("2028-09-04", LaborDay),
            ("2028-11-23", ThanksgivingDay),
            ("2028-12-25", ChristmasDay),
        ];
        for (date, closure) in published {
            assert_eq!(kind(date), DayKind::Closed(closure), "{date}");
        }
        // And no other weekday of those years is closed.
        let closed = ymd(2024, 1, 1)
            .iter_days()
            .take_while(|date| date.year() <= 2028)
            .filter(|date| matches!(day_kind(*date), DayKind::Closed(_)))
            .count();
        assert_eq!(closed, published.len());
    }

    #[test]
    fn a_saturday_holiday_is_observed_the_friday_before() {
        assert_eq!(kind("2026-07-04"), DayKind::Weekend);
        assert_eq!(
            kind("2026-07-03"),
            DayKind::Closed(Closure::IndependenceDay)
        );
        assert_eq!(kind("2027-12-24"), DayKind::Closed(Closure::ChristmasDay));
    }

    #[test]
    fn a_sunday_holiday_is_observed_the_monday_after() {
        assert_eq!(kind("2027-07-04"), DayKind::Weekend);
        assert_eq!(
            kind("2027-07-05"),
            DayKind::Closed(Closure::IndependenceDay)
        );
    }

    #[test]
    fn new_year_s_day_on_a_saturday_is_not_observed() {
        assert_eq!(kind("2028-01-01"), DayKind::Weekend);
        assert_eq!(kind("2027-12-31"), DayKind::Regular);
        assert_eq!(kind("2028-01-03"), DayKind::Regular);
    }

    #[test]
    fn early_closes_follow_the_published_calendars() {
        let published = [
            "2024-07-03",
            "2024-11-29",
            "2024-12-24",
            "2025-07-03",
            "2025-11-28",
            "2025-12-24",
            "2026-11-27",
            "2026-12-24",
            "2027-11-26",
            "2028-07-03",
            "2028-11-24",
        ];
        for date in published {
            assert_eq!(kind(date), DayKind::EarlyClose, "{date}");
        }
        let early = ymd(2024, 1, 1)
            .iter_days()
            .take_while(|date| date.year() <= 2028)
            .filter(|date| day_kind(*date) == DayKind::EarlyClose)
            .count();
        assert_eq!(early, published.len());
        // The day before an observed Independence Day is a full day.
        assert_eq!(kind("2026-07-02"), DayKind::Regular);
    }

    #[test]
    fn outside_the_table_only_weekends_close() {
        assert_eq!(kind("2029-01-01"), DayKind::Regular);
        assert_eq!(kind("2029-12-25"), DayKind::Regular);
        assert_eq!(kind("2023-11-24"), DayKind::Regular);
        assert_eq!(kind("2029-01-06"), DayKind::Weekend);
        assert!(!is_trading_day("2030-06-02".parse().unwrap()));
    }
}
