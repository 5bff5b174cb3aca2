//! New York time without a time-zone database.
//!
//! The market clock needs one zone, America/New_York, and chrono 0.4 without `chrono-tz`
//! knows none, so the rule is written out here. Since 2007 (Energy Policy Act of 2005,
//! 15 U.S.C. § 260a) US Eastern time is UTC−5 (EST), and UTC−4 (EDT) from 02:00 local on
//! the second Sunday of March until 02:00 local on the first Sunday of November. The
//! 2007 rule is applied to every year; instants before 2007 may be an hour off, which
//! the clock, whose holiday table starts in 2024, never meets.

use chrono::{
    DateTime, Datelike, FixedOffset, MappedLocalTime, NaiveDate, NaiveDateTime, NaiveTime,
    SecondsFormat, TimeDelta, Utc, Weekday,
};

/// Eastern Standard Time, UTC−5.
pub const EST: FixedOffset = match FixedOffset::west_opt(5 * 3600) {
    Some(offset) => offset,
    None => panic!("five hours is a valid offset"),
};

/// Eastern Daylight Time, UTC−4.
pub const EDT: FixedOffset = match FixedOffset::west_opt(4 * 3600) {
    Some(offset) => offset,
    None => panic!("four hours is a valid offset"),
};

/// The instants daylight saving time starts and ends in `year`: 02:00 EST on the second
/// Sunday of March (07:00 UTC) and 02:00 EDT on the first Sunday of November (06:00 UTC).
pub fn daylight_saving_bounds(year: i32) -> (DateTime<Utc>, DateTime<Utc>) {
    let start = sunday(year, 3, 2).and_time(NaiveTime::MIN).and_utc() + TimeDelta::hours(7);
    let end = sunday(year, 11, 1).and_time(NaiveTime::MIN).and_utc() + TimeDelta::hours(6);
    (start, end)
}

/// The `n`th Sunday of `month`.
fn sunday(year: i32, month: u32, n: u8) -> NaiveDate {
    NaiveDate::from_weekday_of_month_opt(year, month, Weekday::Sun, n)
        .expect("every March and November chrono represents has two Sundays")
}

/// The offset New York's clocks show at `at`.
pub fn new_york_offset(at: DateTime<Utc>) -> FixedOffset {
    let (start, end) = daylight_saving_bounds(at.year());
    if start <= at && at < end { EDT } else { EST }
}

/// `at` as New York's clocks show it.
pub fn to_new_york(at: DateTime<Utc>) -> DateTime<FixedOffset> {
    at.with_timezone(&new_york_offset(at))
}

/// `at` in RFC 3339 with New York's offset, as Alpaca's `/v2/clock` writes its times:
/// `2024-01-02T09:30:00-05:00` (fractional seconds only when there are some).
pub fn new_york_rfc3339(at: DateTime<Utc>) -> String {
    to_new_york(at).to_rfc3339_opts(SecondsFormat::AutoSi, false)
}

/// The instant(s) a New York wall-clock reading names, exactly: `Single` on most
/// days; `Ambiguous(edt, est)` for 01:00–01:59 on the first Sunday of November, which
/// the clocks show twice; `None` for 02:00–02:59 on the second Sunday of March, which
/// they skip.
pub fn from_new_york(local: NaiveDateTime) -> MappedLocalTime<DateTime<Utc>> {
    // A reading is valid under an offset when the instant it names under that offset
    // is one at which New York actually uses it. EDT first: it names the earlier instant.
    let mut valid = [EDT, EST].into_iter().filter_map(|offset| {
        let utc = local
            .checked_sub_signed(TimeDelta::seconds(offset.local_minus_utc().into()))?
            .and_utc();
        (new_york_offset(utc) == offset).then_some(utc)
    });
    match (valid.next(), valid.next()) {
        (Some(earliest), Some(latest)) => MappedLocalTime::Ambiguous(earliest, latest),
        (Some(only), None) => MappedLocalTime::Single(only),
        _ => MappedLocalTime::None,
    }
}

/// A New York wall-clock reading as one instant: the earlier of a repeated reading, and
/// a skipped reading read in EST (02:30 on the spring-forward day is 03:30 EDT). The
/// market's own times (04:00 to 20:00) are never repeated or skipped.
pub fn new_york_instant(date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
    let local = date.and_time(time);
    match from_new_york(local) {
        MappedLocalTime::Single(at) | MappedLocalTime::Ambiguous(at, _) => at,
        MappedLocalTime::None => {
            (local - TimeDelta::seconds(EST.local_minus_utc().into())).and_utc()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().to_utc()
    }

    fn local(text: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").unwrap()
    }

    #[test]
    fn daylight_saving_switches_at_two_in_the_morning_local() {
        assert_eq!(
            daylight_saving_bounds(2025),
            (utc("2025-03-09T07:00:00Z"), utc("2025-11-02T06:00:00Z"))
        );
        assert_eq!(
            daylight_saving_bounds(2026),
            (utc("2026-03-08T07:00:00Z"), utc("2026-11-01T06:00:00Z"))
        );
    }

    #[test]
    fn the_offset_changes_exactly_at_the_switch_instants() {
        for (before, at) in [
            ("2025-03-09T06:59:59Z", "2025-03-09T07:00:00Z"),
            ("2026-03-08T06:59:59Z", "2026-03-08T07:00:00Z"),
        ] {
            assert_eq!(new_york_offset(utc(before)), EST, "{before}");
            assert_eq!(new_york_offset(utc(at)), EDT, "{at}");
            assert_eq!(
                new_york_rfc3339(utc(before)).get(11..),
                Some("01:59:59-05:00")
            );
            assert_eq!(new_york_rfc3339(utc(at)).get(11..), Some("03:00:00-04:00"));
        }
        for (before, at) in [
            ("2025-11-02T05:59:59Z", "2025-11-02T06:00:00Z"),
            ("2026-11-01T05:59:59Z", "2026-11-01T06:00:00Z"),
        ] {
            assert_eq!(new_york_offset(utc(before)), EDT, "{before}");
            assert_eq!(new_york_offset(utc(at)), EST, "{at}");
            assert_eq!(
                new_york_rfc3339(utc(before)).get(11..),
                Some("01:59:59-04:00")
            );
            assert_eq!(new_york_rfc3339(utc(at)).get(11..), Some("01:00:00-05:00"));
        }
    }

    #[test]
    fn times_are_written_as_alpaca_writes_them() {
        assert_eq!(
            new_york_rfc3339(utc("2024-01-02T14:30:00Z")),
            "2024-01-02T09:30:00-05:00"
        );
        assert_eq!(
            new_york_rfc3339(utc("2024-07-01T20:00:00Z")),
            "2024-07-01T16:00:00-04:00"
        );
        assert_eq!(
            new_york_rfc3339(utc("2024-07-01T13:28:35.123456Z")),
            "2024-07-01T09:28:35.123456-04:00"
        );
    }

    #[test]
    fn wall_clock_readings_map_back_exactly() {
        assert_eq!(
            from_new_york(local("2025-03-09 01:59")),
            MappedLocalTime::Single(utc("2025-03-09T06:59:00Z"))
        );
        assert_eq!(
            from_new_york(local("2025-03-09 02:00")),
            MappedLocalTime::None
        );
        assert_eq!(
            from_new_york(local("2025-03-09 02:59")),
            MappedLocalTime::None
        );
        assert_eq!(
            from_new_york(local("2025-03-09 03:00")),
            MappedLocalTime::Single(utc("2025-03-09T07:00:00Z"))
        );
        assert_eq!(
            from_new_york(local("2025-11-02 00:59")),
            MappedLocalTime::Single(utc("2025-11-02T04:59:00Z"))
        );
        assert_eq!(
            from_new_york(local("2025-11-02 01:30")),
            MappedLocalTime::Ambiguous(utc("2025-11-02T05:30:00Z"), utc("2025-11-02T06:30:00Z"))
        );
        assert_eq!(
            from_new_york(local("2025-11-02 02:00")),
            MappedLocalTime::Single(utc("2025-11-02T07:00:00Z"))
        );
        assert_eq!(
            from_new_york(local("2026-03-08 02:30")),
            MappedLocalTime::None
        );
        assert_eq!(
            from_new_york(local("2026-11-01 01:00")),
            MappedLocalTime::Ambiguous(utc("2026-11-01T05:00:00Z"), utc("2026-11-01T06:00:00Z"))
        );
    }

    #[test]
    fn instants_resolve_repeated_and_skipped_readings() {
        let on = |text: &str| {
            let reading = local(text);
            new_york_instant(reading.date(), reading.time())
        };
        assert_eq!(on("2025-03-09 02:30"), utc("2025-03-09T07:30:00Z"));
        assert_eq!(on("2025-11-02 01:30"), utc("2025-11-02T05:30:00Z"));
        assert_eq!(on("2025-03-10 09:30"), utc("2025-03-10T13:30:00Z"));
        assert_eq!(on("2025-03-07 09:30"), utc("2025-03-07T14:30:00Z"));
    }

    #[test]
    fn every_five_minutes_of_two_years_round_trip() {
        let mut at = utc("2025-01-01T00:00:00Z");
        while at < utc("2027-01-01T00:00:00Z") {
            let shown = to_new_york(at).naive_local();
            match from_new_york(shown) {
                MappedLocalTime::Single(back) => assert_eq!(back, at),
                MappedLocalTime::Ambiguous(edt, est) => assert!(edt == at || est == at),
                MappedLocalTime::None => panic!("{at} shows a skipped reading"),
            }
            at += TimeDelta::minutes(5);
        }
    }
}
