//! The failure-throttling rule, shared by every node through the store: after `limit`
//! failures for one key (a client id, a broker key id, an e-mail address, an IP
//! address) within a window, that key is refused until the window ends, so that
//! secrets cannot be guessed at network speed.

use chrono::{DateTime, Duration, Utc};

/// One key's failures in its current window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ThrottleWindow {
    pub started: DateTime<Utc>,
    pub failures: u32,
}

#[derive(Clone, Copy, Debug)]
pub struct ThrottleRule {
    pub limit: u32,
    pub window: Duration,
}

impl ThrottleRule {
    pub const fn new(limit: u32, window: Duration) -> Self {
        Self { limit, window }
    }

    /// `Some(wait)` while `current` has used up its failures.
    pub fn blocked(
        &self,
        current: Option<&ThrottleWindow>,
        now: DateTime<Utc>,
    ) -> Option<Duration> {
        current
            .filter(|w| w.failures >= self.limit && now < w.started + self.window)
            .map(|w| w.started + self.window - now)
    }

    /// `current` with one more failure; an ended window starts afresh.
    pub fn counted(&self, current: Option<ThrottleWindow>, now: DateTime<Utc>) -> ThrottleWindow {
        match current {
            Some(w) if now < w.started + self.window => ThrottleWindow {
                failures: w.failures.saturating_add(1),
                ..w
            },
            _ => ThrottleWindow {
                started: now,
                failures: 1,
            },
        }
    }

    /// `current` with one failure taken back.
    pub fn forgiven(current: ThrottleWindow) -> ThrottleWindow {
        ThrottleWindow {
            failures: current.failures.saturating_sub(1),
            ..current
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_out_after_the_limit_until_the_window_ends() {
        let rule = ThrottleRule::new(3, Duration::minutes(1));
        let start = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let mut w = None;
        for _ in 0..3 {
            assert!(rule.blocked(w.as_ref(), start).is_none());
            w = Some(rule.counted(w, start));
        }
        assert_eq!(
            rule.blocked(w.as_ref(), start + Duration::seconds(20)),
            Some(Duration::seconds(40))
        );
        let later = start + Duration::minutes(1);
        assert!(rule.blocked(w.as_ref(), later).is_none());
        assert_eq!(rule.counted(w, later).failures, 1, "a new window");
    }

    #[test]
    fn a_forgiven_attempt_no_longer_counts() {
        let rule = ThrottleRule::new(1, Duration::minutes(1));
        let now = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let w = rule.counted(None, now);
        assert!(rule.blocked(Some(&w), now).is_some());
        assert!(
            rule.blocked(Some(&ThrottleRule::forgiven(w)), now)
                .is_none()
        );
    }
}
