//! Failure throttling for anything that checks a secret: after a burst of failures for
//! one key (a client id, a broker key id, an IP address), that key is refused until its
//! window ends, so that secrets cannot be guessed at network speed.

use std::collections::HashMap;
use std::net::IpAddr;
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

/// The login page's two limits: failures per e-mail address (one account guessed at)
/// and per client address (one machine guessing at many accounts). Each attempt is
/// counted against both before its password is checked, so that a burst of
/// concurrent guesses cannot all pass the check before any is counted.
pub struct LoginThrottle {
    by_email: FailureThrottle,
    by_ip: FailureThrottle,
}

impl LoginThrottle {
    pub fn new(by_email: FailureThrottle, by_ip: FailureThrottle) -> Self {
        Self { by_email, by_ip }
    }

    /// Counts an attempt on `email` from `ip`, or says how long to wait. A refused
    /// attempt checks no password, so it counts against neither.
    pub fn attempt(&self, email: &str, ip: IpAddr, now: DateTime<Utc>) -> Result<(), Duration> {
        let (email, ip) = (email_key(email), ip_key(ip));
        let by_email = self.by_email.attempt(&email, now);
        let by_ip = self.by_ip.attempt(&ip, now);
        if by_email.is_ok() && by_ip.is_ok() {
            return Ok(());
        }
        if by_email.is_ok() {
            self.by_email.forgive(&email);
        }
        if by_ip.is_ok() {
            self.by_ip.forgive(&ip);
        }
        Err([by_email, by_ip]
            .into_iter()
            .filter_map(Result::err)
            .max()
            .unwrap_or(self.by_ip.window))
    }

    /// The attempt proved the password: the account starts afresh, and the client
    /// gets this attempt back (its failures on other accounts still count).
    pub fn succeeded(&self, email: &str, ip: IpAddr) {
        self.by_email.forget(&email_key(email));
        self.by_ip.forgive(&ip_key(ip));
    }
}

fn email_key(email: &str) -> String {
    email.trim().to_lowercase()
}

/// IPv6 by /64, the block one machine usually holds, so that its many addresses
/// count as one.
fn ip_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let [a, b, c, d, ..] = v6.segments();
                format!("{a:x}:{b:x}:{c:x}:{d:x}::/64")
            }
        },
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
    fn ipv6_addresses_are_throttled_by_their_64_block() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(ip_key(a), ip_key(b));
        assert_ne!(ip_key(a), ip_key(c));
        assert_eq!(ip_key("::ffff:10.0.0.1".parse().unwrap()), "10.0.0.1");
    }

    #[test]
    fn a_refused_login_attempt_counts_against_neither_limit() {
        let t = LoginThrottle::new(
            FailureThrottle::new(1, Duration::minutes(1)),
            FailureThrottle::new(5, Duration::minutes(1)),
        );
        let now = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        assert!(t.attempt("A@example.com ", ip, now).is_ok());
        for _ in 0..10 {
            assert!(
                t.attempt("a@example.com", ip, now).is_err(),
                "one address, normalised"
            );
        }
        // The ten refusals did not use up the client's five attempts.
        for i in 0..4 {
            assert!(t.attempt(&format!("{i}@example.com"), ip, now).is_ok());
        }
        assert!(t.attempt("x@example.com", ip, now).is_err());
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
