//! Failure throttling for anything that checks a secret, counted in the store so that
//! every node sees every failure: 5 failed logins for one address mean 5 in all, not 5
//! per node. The rule is core's ([`ThrottleRule`]); this module names the keys and
//! saves windows with a version check, retrying when another node saved first.

use std::net::IpAddr;

use chrono::{DateTime, Duration, Utc};
use paddock_core::store::{Store, StoreResult};
use paddock_core::throttle::{ThrottleRule, ThrottleWindow};

/// How often a save that lost to a concurrent one is tried again before giving up on
/// counting (the attempt is then let through: a throttle must not turn a busy key into
/// an outage).
const SAVE_ATTEMPTS: usize = 8;

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
        format!("{}:{key}", self.prefix)
    }

    /// `Err(wait)` while `key` has used up its failures.
    pub async fn check(
        &self,
        store: &dyn Store,
        key: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Verdict> {
        let current = store.throttle(&self.key(key)).await?;
        Ok(
            match self.rule.blocked(current.as_ref().map(|v| &v.value), now) {
                Some(wait) => Err(wait),
                None => Ok(()),
            },
        )
    }

    pub async fn record_failure(
        &self,
        store: &dyn Store,
        key: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.update(store, key, |w| Some(self.rule.counted(w, now)))
            .await
            .map(|_| ())
    }

    /// Checks and counts an attempt in one step, as a failure until [`forgive`] says
    /// otherwise: concurrent attempts, on any node, cannot all slip past the check
    /// before any of them is counted.
    ///
    /// [`forgive`]: Self::forgive
    pub async fn attempt(
        &self,
        store: &dyn Store,
        key: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Verdict> {
        let mut verdict = Ok(());
        self.update(store, key, |w| match self.rule.blocked(w.as_ref(), now) {
            Some(wait) => {
                verdict = Err(wait);
                None
            }
            None => {
                verdict = Ok(());
                Some(self.rule.counted(w, now))
            }
        })
        .await?;
        Ok(verdict)
    }

    /// Takes back one counted attempt: it succeeded.
    pub async fn forgive(&self, store: &dyn Store, key: &str) -> StoreResult<()> {
        self.update(store, key, |w| w.map(ThrottleRule::forgiven))
            .await
            .map(|_| ())
    }

    /// Forgets `key`'s failures, after it proved itself.
    pub async fn forget(&self, store: &dyn Store, key: &str) -> StoreResult<()> {
        store.forget_throttle(&self.key(key)).await
    }

    /// Load, change, save with a version check; again if another writer came first.
    /// `change` returns `None` to leave the window as it is.
    async fn update(
        &self,
        store: &dyn Store,
        key: &str,
        mut change: impl FnMut(Option<ThrottleWindow>) -> Option<ThrottleWindow>,
    ) -> StoreResult<bool> {
        let key = self.key(key);
        for _ in 0..SAVE_ATTEMPTS {
            let current = store.throttle(&key).await?;
            let Some(next) = change(current.as_ref().map(|v| v.value)) else {
                return Ok(false);
            };
            let expected = current.map(|v| v.version);
            if store.save_throttle(&key, &next, expected).await? {
                return Ok(true);
            }
        }
        tracing::warn!(key = %self.prefix, "a throttle window kept changing under us; not counted");
        Ok(false)
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
    pub const fn new(by_email: FailureThrottle, by_ip: FailureThrottle) -> Self {
        Self { by_email, by_ip }
    }

    /// Counts an attempt on `email` from `ip`, or says how long to wait. A refused
    /// attempt checks no password, so it counts against neither.
    pub async fn attempt(
        &self,
        store: &dyn Store,
        email: &str,
        ip: IpAddr,
        now: DateTime<Utc>,
    ) -> StoreResult<Verdict> {
        let (email, ip) = (email_key(email), ip_key(ip));
        let by_email = self.by_email.attempt(store, &email, now).await?;
        let by_ip = self.by_ip.attempt(store, &ip, now).await?;
        if by_email.is_ok() && by_ip.is_ok() {
            return Ok(Ok(()));
        }
        if by_email.is_ok() {
            self.by_email.forgive(store, &email).await?;
        }
        if by_ip.is_ok() {
            self.by_ip.forgive(store, &ip).await?;
        }
        Ok(Err([by_email, by_ip]
            .into_iter()
            .filter_map(Result::err)
            .max()
            .unwrap_or(self.by_ip.rule.window)))
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
}
