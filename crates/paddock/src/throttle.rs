//! Failure throttling for anything that checks a secret, counted in the store so that
//! every node sees every failure: 5 failed logins for one address mean 5 in all, not 5
//! per node. The rule is core's ([`ThrottleRule`]); this module names the keys and
//! saves windows with a version check, retrying when another node saved first.
//!
//! Keys are stored as digests: what someone typed in the e-mail box (a password, by
//! mistake) never reaches the database.

use std::net::IpAddr;

use chrono::{DateTime, Duration, Utc};
use paddock_core::secret::Digest;
use paddock_core::store::{Store, StoreResult};
use paddock_core::throttle::ThrottleRule;

/// How often a save that lost to a concurrent one is tried again. A key this contended
/// is under a burst: the attempt is refused rather than let through uncounted.
const SAVE_ATTEMPTS: usize = 16;

/// How long an attempt refused for contention is told to wait.
const CONTENDED_WAIT: Duration = Duration::seconds(1);

/// One rule over one kind of key, whose keys the store keeps under `prefix`.
pub struct FailureThrottle {
    prefix: &'static str,
    rule: ThrottleRule,
}

/// Whether an attempt may go ahead: `Err(wait)` while its key is locked out.
pub type Verdict = Result<(), Duration>;

impl FailureThrottle {
    pub const fn new(prefix: &'static str, limit: u32, window: Duration) -> Self {
        Self {
            prefix,
            rule: ThrottleRule::new(limit, window),
        }
    }

    fn key(&self, key: &str) -> String {
        format!("{}:{}", self.prefix, Digest::of(key).to_hex())
    }

    /// Checks and counts an attempt in one step: concurrent attempts, on any node,
    /// cannot all slip past the check before any of them is counted. A refused attempt
    /// is not counted.
    pub async fn attempt(
        &self,
        store: &dyn Store,
        key: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Verdict> {
        let key = self.key(key);
        for _ in 0..SAVE_ATTEMPTS {
            let current = store.throttle(&key).await?;
            let window = current.as_ref().map(|v| v.value);
            if let Some(wait) = self.rule.blocked(window.as_ref(), now) {
                return Ok(Err(wait));
            }
            let expected = current.map(|v| v.version);
            if store
                .save_throttle(&key, &self.rule.counted(window, now), expected)
                .await?
            {
                return Ok(Ok(()));
            }
        }
        tracing::warn!(
            throttle = self.prefix,
            "a burst on one key; attempt refused"
        );
        Ok(Err(CONTENDED_WAIT))
    }

    /// Takes back one counted attempt: it succeeded.
    pub async fn forgive(&self, store: &dyn Store, key: &str) -> StoreResult<()> {
        let key = self.key(key);
        for _ in 0..SAVE_ATTEMPTS {
            let Some(current) = store.throttle(&key).await? else {
                return Ok(());
            };
            let forgiven = ThrottleRule::forgiven(current.value);
            if store
                .save_throttle(&key, &forgiven, Some(current.version))
                .await?
            {
                return Ok(());
            }
        }
        Ok(())
    }

    /// Forgets `key`'s failures, after it proved itself.
    pub async fn forget(&self, store: &dyn Store, key: &str) -> StoreResult<()> {
        store.forget_throttle(&self.key(key)).await
    }
}

/// The login page's two limits: failures per client address (one machine guessing at
/// many accounts) and per e-mail address (one account guessed at). Each attempt is
/// counted before its password is checked, so that a burst of concurrent guesses
/// cannot all pass the check before any is counted.
pub struct LoginThrottle {
    by_email: FailureThrottle,
    by_ip: FailureThrottle,
}

impl LoginThrottle {
    pub const fn new(by_email: FailureThrottle, by_ip: FailureThrottle) -> Self {
        Self { by_email, by_ip }
    }

    /// Counts an attempt on `email` from `ip`, or says how long to wait. The address is
    /// checked first, so that a machine already refused writes nothing per e-mail it
    /// tries; a refused attempt checks no password and counts against neither.
    pub async fn attempt(
        &self,
        store: &dyn Store,
        email: &str,
        ip: IpAddr,
        now: DateTime<Utc>,
    ) -> StoreResult<Verdict> {
        let (email, ip) = (email_key(email), ip_key(ip));
        if let Err(wait) = self.by_ip.attempt(store, &ip, now).await? {
            return Ok(Err(wait));
        }
        if let Err(wait) = self.by_email.attempt(store, &email, now).await? {
            self.by_ip.forgive(store, &ip).await?;
            return Ok(Err(wait));
        }
        Ok(Ok(()))
    }

    /// The attempt proved the password: the account starts afresh, and the client
    /// gets this attempt back (its failures on other accounts still count).
    pub async fn succeeded(&self, store: &dyn Store, email: &str, ip: IpAddr) -> StoreResult<()> {
        self.by_email.forget(store, &email_key(email)).await?;
        self.by_ip.forgive(store, &ip_key(ip)).await
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
    fn ipv6_addresses_are_throttled_by_their_64_block() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(ip_key(a), ip_key(b));
        assert_ne!(ip_key(a), ip_key(c));
        assert_eq!(ip_key("::ffff:10.0.0.1".parse().unwrap()), "10.0.0.1");
    }

    #[test]
    fn email_keys_ignore_case_and_spaces() {
        assert_eq!(email_key(" A@Example.com "), email_key("a@example.com"));
    }

    #[test]
    fn stored_keys_are_digests_never_what_was_typed() {
        let throttle = FailureThrottle::new("login-email", 5, Duration::minutes(15));
        let key = throttle.key("my secret password");
        assert!(key.starts_with("login-email:"));
        assert!(!key.contains("secret"), "{key}");
    }
}
