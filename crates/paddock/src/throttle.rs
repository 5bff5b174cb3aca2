//! Failure throttling for anything that checks a secret: after a burst of failures for
//! one key (a client id, a broker key id, an IP address), that key is refused until its
//! window ends, so that secrets cannot be guessed at network speed.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};

pub struct FailureThrottle {
    limit: u32,
    window: Duration,
    entries: Mutex<HashMap<String, Window>>,
}

#[derive(Clone, Copy)]
struct Window {
    started: DateTime<Utc>,
    failures: u32,
}

/// Bounds memory under a flood of distinct keys.
const MAX_KEYS: usize = 100_000;

impl FailureThrottle {
    pub fn new(limit: u32, window: Duration) -> Self {
        Self {
            limit,
            window,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// `Err(wait)` while `key` has used up its failures for the current window.
    pub fn check(&self, key: &str, now: DateTime<Utc>) -> Result<(), Duration> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        match entries.get(key) {
            Some(w) if w.failures >= self.limit && now < w.started + self.window => {
                Err(w.started + self.window - now)
            }
            _ => Ok(()),
        }
    }

    pub fn record_failure(&self, key: &str, now: DateTime<Utc>) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        self.count(&mut entries, key, now);
    }

    /// Checks and counts an attempt in one step, as a failure until [`forgive`] says
    /// otherwise: concurrent attempts cannot all slip past the check before any of
    /// them is counted.
    ///
    /// [`forgive`]: Self::forgive
    pub fn attempt(&self, key: &str, now: DateTime<Utc>) -> Result<(), Duration> {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(w) = entries.get(key)
            && w.failures >= self.limit
            && now < w.started + self.window
        {
            return Err(w.started + self.window - now);
        }
        self.count(&mut entries, key, now);
        Ok(())
    }

    /// Takes back one counted attempt: it succeeded.
    pub fn forgive(&self, key: &str) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(w) = entries.get_mut(key) {
            w.failures = w.failures.saturating_sub(1);
        }
    }

    fn count(&self, entries: &mut HashMap<String, Window>, key: &str, now: DateTime<Utc>) {
        if entries.len() >= MAX_KEYS && !entries.contains_key(key) {
            self.make_room(entries, now);
        }
        let entry = entries.entry(key.to_owned()).or_insert(Window {
            started: now,
            failures: 0,
        });
        if now >= entry.started + self.window {
            *entry = Window {
                started: now,
                failures: 0,
            };
        }
        entry.failures += 1;
    }

    /// Drops ended windows and, if that is not enough, the older half of the rest:
    /// a flood of new keys costs one sort per MAX_KEYS / 2 of them, not a scan each.
    fn make_room(&self, entries: &mut HashMap<String, Window>, now: DateTime<Utc>) {
        let window = self.window;
        entries.retain(|_, w| now < w.started + window);
        if entries.len() >= MAX_KEYS / 2 {
            let mut starts: Vec<DateTime<Utc>> = entries.values().map(|w| w.started).collect();
            starts.sort_unstable();
            let cutoff = starts[starts.len() / 2];
            entries.retain(|_, w| w.started > cutoff);
        }
    }

    /// Forgets `key`'s failures, after it proved itself.
    pub fn forget(&self, key: &str) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.remove(key);
    }
}

/// Whole seconds to wait, rounded up, for a `Retry-After` header.
pub fn retry_after_secs(wait: Duration) -> u64 {
    let ms = u64::try_from(wait.num_milliseconds()).unwrap_or(0);
    ms.div_ceil(1000).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_out_after_the_limit_until_the_window_ends() {
        let t = FailureThrottle::new(3, Duration::minutes(1));
        let start = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        for _ in 0..3 {
            assert!(t.check("k", start).is_ok());
            t.record_failure("k", start);
        }
        assert!(t.check("k", start).is_err());
        assert!(t.check("other", start).is_ok());
        assert!(t.check("k", start + Duration::minutes(1)).is_ok());
    }

    #[test]
    fn attempts_count_until_forgiven() {
        let t = FailureThrottle::new(2, Duration::minutes(1));
        let now = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        assert!(t.attempt("k", now).is_ok());
        t.forgive("k");
        assert!(t.attempt("k", now).is_ok());
        assert!(t.attempt("k", now).is_ok());
        assert!(
            t.attempt("k", now).is_err(),
            "two counted attempts: the third waits"
        );
    }

    #[test]
    fn a_flood_of_keys_stays_bounded() {
        let t = FailureThrottle::new(1, Duration::minutes(1));
        let start = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        for i in 0..(MAX_KEYS + 10) {
            t.record_failure(&i.to_string(), start + Duration::milliseconds(i as i64));
        }
        let kept = t.entries.lock().unwrap().len();
        assert!(kept <= MAX_KEYS, "{kept}");
        // The newest keys are the ones kept.
        assert!(t.check(&(MAX_KEYS + 9).to_string(), start).is_err());
    }
}
