use super::*;

const NYSE: MarketClock = MarketClock::new(MarketMode::Nyse);
const ALWAYS_OPEN: MarketClock = MarketClock::new(MarketMode::AlwaysOpen);

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().to_utc()
}

fn date(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

fn second() -> TimeDelta {
    TimeDelta::seconds(1)
}

#[test]
fn a_weekday_opens_at_nine_thirty_and_closes_at_four_new_york_time() {
    assert!(!NYSE.is_open(at("2025-06-10T09:29:59-04:00")));
    assert!(NYSE.is_open(at("2025-06-10T09:30:00-04:00")));
    assert!(NYSE.is_open(at("2025-06-10T15:59:59-04:00")));
    assert!(!NYSE.is_open(at("2025-06-10T16:00:00-04:00")));
    assert!(NYSE.is_open(at("2025-01-14T09:30:00-05:00")));
    assert!(!NYSE.is_open(at("2025-01-14T16:00:00-05:00")));
}

#[test]
fn weekends_and_holidays_are_closed_all_day() {
    for closed in [
        "2025-06-14T12:00:00-04:00", // Saturday
        "2025-06-15T12:00:00-04:00", // Sunday
        "2025-06-19T12:00:00-04:00", // Juneteenth
        "2026-07-03T12:00:00-04:00", // Independence Day observed on the Friday
        "2027-07-05T12:00:00-04:00", // Independence Day observed on the Monday
        "2025-01-09T12:00:00-05:00", // National Day of Mourning for President Carter
        "2025-04-18T12:00:00-04:00", // Good Friday
    ] {
        assert!(!NYSE.is_open(at(closed)), "{closed}");
    }
    // New Year's Day 2028 falls on a Saturday and is not observed the Friday before.
    assert!(NYSE.is_open(at("2027-12-31T12:00:00-05:00")));
}

#[test]
fn early_closes_end_the_session_at_one() {
    for day in ["2025-07-03", "2025-11-28", "2025-12-24"] {
        let day = NYSE.trading_day(date(day)).unwrap();
        assert_eq!(day.close, EARLY_CLOSE, "{}", day.date);
        assert!(NYSE.is_open(day.close_at() - second()));
        assert!(!NYSE.is_open(day.close_at()));
    }
    let state = NYSE.clock(at("2025-07-03T10:00:00-04:00"));
    assert!(state.is_open);
    assert_eq!(state.next_close, at("2025-07-03T13:00:00-04:00"));
    // 4 July is a Friday: the next open is Monday's.
    assert_eq!(state.next_open, at("2025-07-07T09:30:00-04:00"));
}

#[test]
fn daylight_saving_moves_the_session_in_utc() {
    // The Friday before the spring switch opens at 14:30 UTC, the Monday after at 13:30.
    let state = NYSE.clock(at("2025-03-07T16:00:00-05:00"));
    assert!(!state.is_open);
    assert_eq!(state.next_open, at("2025-03-10T13:30:00Z"));
    assert_eq!(state.next_close, at("2025-03-10T20:00:00Z"));
    // And back in November.
    let state = NYSE.clock(at("2025-10-31T16:30:00-04:00"));
    assert_eq!(state.next_open, at("2025-11-03T14:30:00Z"));
    assert_eq!(state.next_close, at("2025-11-03T21:00:00Z"));
    // On the switch days themselves (Sundays) the market is shut across the switch.
    assert!(!NYSE.is_open(at("2026-03-08T07:00:00Z")));
    assert!(!NYSE.is_open(at("2026-11-01T06:00:00Z")));
    let monday = NYSE.trading_day(date("2026-03-09")).unwrap();
    assert_eq!(monday.open_at(), at("2026-03-09T13:30:00Z"));
}

#[test]
fn the_clock_just_before_the_open() {
    let state = NYSE.clock(at("2024-01-02T09:29:59-05:00"));
    assert_eq!(
        state,
        ClockState {
            timestamp: at("2024-01-02T09:29:59-05:00"),
            is_open: false,
            next_open: at("2024-01-02T09:30:00-05:00"),
            next_close: at("2024-01-02T16:00:00-05:00"),
        }
    );
    assert_eq!(
        new_york_rfc3339(state.next_open),
        "2024-01-02T09:30:00-05:00"
    );
}

#[test]
fn the_clock_while_open_points_at_tomorrow_s_open_and_today_s_close() {
    let state = NYSE.clock(at("2024-01-02T09:30:00-05:00"));
    assert!(state.is_open);
    assert_eq!(state.next_open, at("2024-01-03T09:30:00-05:00"));
    assert_eq!(state.next_close, at("2024-01-02T16:00:00-05:00"));
}

#[test]
fn the_clock_at_the_close_and_just_after_is_closed() {
    for now in ["2024-01-02T16:00:00-05:00", "2024-01-02T16:00:01-05:00"] {
        let state = NYSE.clock(at(now));
        assert!(!state.is_open, "{now}");
        assert_eq!(state.next_open, at("2024-01-03T09:30:00-05:00"), "{now}");
        assert_eq!(state.next_close, at("2024-01-03T16:00:00-05:00"), "{now}");
    }
}

#[test]
fn friday_after_the_close_waits_for_monday_or_tuesday_after_a_monday_holiday() {
    assert_eq!(
        NYSE.next_open_after(at("2025-06-13T16:00:00-04:00")),
        at("2025-06-16T09:30:00-04:00")
    );
    // Martin Luther King, Jr. Day, Monday 20 January 2025.
    assert_eq!(
        NYSE.next_open_after(at("2025-01-17T17:00:00-05:00")),
        at("2025-01-21T09:30:00-05:00")
    );
    // Good Friday then a weekend: Thursday's close waits until Monday.
    assert_eq!(
        NYSE.next_open_after(at("2025-04-17T16:00:00-04:00")),
        at("2025-04-21T09:30:00-04:00")
    );
}

#[test]
fn july_2025_has_22_sessions_and_closes_early_on_the_third() {
    let days = NYSE
        .calendar(date("2025-07-01"), date("2025-07-31"))
        .unwrap();
    assert_eq!(days.len(), 22);
    assert!(
        days.iter()
            .all(|day| day.date.weekday().num_days_from_monday() < 5)
    );
    assert!(!days.iter().any(|day| day.date == date("2025-07-04")));
    let third = days
        .iter()
        .find(|day| day.date == date("2025-07-03"))
        .unwrap();
    assert_eq!(
        *third,
        TradingDay {
            date: date("2025-07-03"),
            open: hm(9, 30),
            close: hm(13, 0),
            session_open: hm(4, 0),
            session_close: hm(20, 0),
            settlement_date: date("2025-07-07"),
        }
    );
    let first = days[0];
    assert_eq!((first.date, first.close), (date("2025-07-01"), hm(16, 0)));
    assert!(days.windows(2).all(|pair| pair[0].date < pair[1].date));
}

#[test]
fn settlement_skips_weekends_and_holidays() {
    let settles = |day: &str| settlement_date(date(day));
    assert_eq!(settles("2025-06-10"), date("2025-06-11"));
    assert_eq!(settles("2025-06-13"), date("2025-06-16")); // Friday → Monday
    assert_eq!(settles("2025-06-18"), date("2025-06-20")); // over Juneteenth
    assert_eq!(settles("2025-04-17"), date("2025-04-21")); // over Good Friday and a weekend
    // T+2 before 28 May 2024: Friday 24 May settles, over Memorial Day, on the 29th,
    // as does Tuesday 28 May, the first T+1 trade date.
    assert_eq!(settles("2024-05-23"), date("2024-05-28"));
    assert_eq!(settles("2024-05-24"), date("2024-05-29"));
    assert_eq!(settles("2024-05-28"), date("2024-05-29"));
}

#[test]
fn the_calendar_range_is_bounded() {
    let whole_table = NYSE
        .calendar(date("2024-01-01"), date("2028-12-31"))
        .unwrap();
    assert_eq!(whole_table.first().unwrap().date, date("2024-01-02"));
    assert_eq!(whole_table.last().unwrap().date, date("2028-12-29"));
    assert_eq!(
        NYSE.calendar(date("2020-01-01"), date("2025-12-31")),
        Err(CalendarError::RangeTooLong {
            start: date("2020-01-01"),
            end: date("2025-12-31"),
        })
    );
    assert_eq!(
        ALWAYS_OPEN.calendar(date("2020-01-01"), date("2025-12-31")),
        NYSE.calendar(date("2020-01-01"), date("2025-12-31"))
    );
    assert_eq!(
        NYSE.calendar(date("1969-12-01"), date("1970-01-31")),
        Err(CalendarError::OutOfRange(date("1969-12-01")))
    );
    assert_eq!(
        NYSE.calendar(date("2025-07-31"), date("2025-07-01")),
        Ok(vec![])
    );
    assert_eq!(
        NYSE.calendar(date("2025-07-05"), date("2025-07-06")),
        Ok(vec![])
    );
}

#[test]
fn always_open_never_closes_and_says_so() {
    for now in [
        "2025-06-15T03:00:00-04:00", // a Sunday night
        "2025-12-25T12:00:00-05:00", // Christmas
        "2026-03-08T07:00:00Z",      // the spring switch
    ] {
        let state = ALWAYS_OPEN.clock(at(now));
        assert!(state.is_open, "{now}");
        assert_eq!(state.next_open, at(now));
        assert_eq!(state.next_close, at(now) + TimeDelta::days(366));
        assert_eq!(ALWAYS_OPEN.next_open_after(at(now)), at(now));
    }
    let days = ALWAYS_OPEN
        .calendar(date("2025-07-01"), date("2025-07-31"))
        .unwrap();
    assert_eq!(days.len(), 31);
    let saturday = days
        .iter()
        .find(|day| day.date == date("2025-07-05"))
        .unwrap();
    assert_eq!(
        (
            saturday.open,
            saturday.close,
            saturday.session_open,
            saturday.session_close
        ),
        (hm(0, 0), hm(23, 59), hm(0, 0), hm(23, 59))
    );
    assert_eq!(saturday.settlement_date, date("2025-07-07"));
}

#[test]
fn market_modes_read_and_write_as_the_flag_spells_them() {
    for mode in [MarketMode::Nyse, MarketMode::AlwaysOpen] {
        assert_eq!(mode.to_string().parse::<MarketMode>(), Ok(mode));
    }
    assert_eq!("always-open".parse(), Ok(MarketMode::AlwaysOpen));
    assert_eq!(
        "24/7".parse::<MarketMode>(),
        Err(UnknownMarketMode("24/7".to_owned()))
    );
    assert_eq!(MarketClock::default().mode(), MarketMode::Nyse);
}

/// Every session of the table's years starts and stops exactly at its published times.
#[test]
fn every_session_opens_and_closes_on_the_second() {
    let days = NYSE
        .calendar(date("2024-01-01"), date("2028-12-31"))
        .unwrap();
    // 1,305 weekdays less the 50 weekday closures of the holiday table.
    assert_eq!(days.len(), 1255);
    for day in days {
        let (open, close) = (day.open_at(), day.close_at());
        assert!(!NYSE.is_open(open - second()), "{}", day.date);
        assert!(NYSE.is_open(open), "{}", day.date);
        assert!(NYSE.is_open(close - second()), "{}", day.date);
        assert!(!NYSE.is_open(close), "{}", day.date);
        assert_eq!(NYSE.next_open_after(open - second()), open);
        assert_eq!(NYSE.next_close_after(open), close);
    }
}

/// A year in steps of a few minutes: the clock agrees with `is_open`, its next open
/// and close lie ahead, and the market changes state exactly there.
#[test]
fn the_clock_is_consistent_at_every_step_of_a_year() {
    let mut now = at("2025-01-01T00:00:00Z");
    while now < at("2026-01-01T00:00:00Z") {
        let state = NYSE.clock(now);
        assert_eq!(state.is_open, NYSE.is_open(now), "{now}");
        assert!(state.next_open > now && state.next_close > now, "{now}");
        assert!(NYSE.is_open(state.next_open) && !NYSE.is_open(state.next_close));
        if state.is_open {
            assert!(state.next_close < state.next_open, "{now}");
        } else {
            assert!(state.next_open < state.next_close, "{now}");
            assert!(!NYSE.is_open(state.next_open - second()), "{now}");
        }
        assert!(state.next_open - now <= TimeDelta::days(5), "{now}");
        now += TimeDelta::minutes(3);
    }
}
