//! The Bearer check served from memory: each node keeps the grants it has looked up,
//! so that a Bearer-checked call does not touch the database on a hit.
//!
//! Staleness is bounded three ways: the node that revokes a token or changes a client
//! drops the entry at once; every other node drops it when it reads the store's
//! invalidation log (woken by PostgreSQL `NOTIFY`, or by polling on SQLite, within a
//! fraction of a second); and no entry is used past [`TTL`], the safety net for a log
//! that could not be read. Only tokens the store knows are cached, so unknown tokens
//! cannot flush the cache, and it never holds more than its capacity.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use paddock_core::grant::TokenGrant;
use paddock_core::secret::Digest;
use paddock_core::store::Invalidation;

/// The longest an entry is used without hearing from the store.
pub const TTL: Duration = Duration::from_secs(30);

/// Entries kept at most (a grant is a few hundred bytes).
pub const CAPACITY: usize = 100_000;

pub struct GrantCache {
    entries: Mutex<HashMap<Digest, Entry>>,
    /// Bumped by every invalidation: a lookup that started before one may have read
    /// what it invalidated, and must not be cached.
    epoch: AtomicU64,
    capacity: usize,
}

struct Entry {
    grant: TokenGrant,
    fetched: Instant,
}

impl Default for GrantCache {
    fn default() -> Self {
        Self::with_capacity(CAPACITY)
    }
}

impl GrantCache {
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
            epoch: AtomicU64::new(0),
            capacity,
        }
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<Digest, Entry>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The cached grant of `digest`, if fresh.
    pub fn get(&self, digest: &Digest) -> Option<TokenGrant> {
        let entries = self.entries();
        entries
            .get(digest)
            .filter(|e| e.fetched.elapsed() < TTL)
            .map(|e| e.grant.clone())
    }

    /// Where the invalidations stand; take it before reading the store.
    pub fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    /// Caches what the store said of `digest`, unless an invalidation arrived since
    /// `epoch` (what was read may be what it invalidated).
    pub fn insert(&self, digest: Digest, grant: TokenGrant, epoch: u64) {
        let mut entries = self.entries();
        if self.epoch() != epoch {
            return;
        }
        if entries.len() >= self.capacity && !entries.contains_key(&digest) {
            Self::make_room(&mut entries, self.capacity);
        }
        entries.insert(
            digest,
            Entry {
                grant,
                fetched: Instant::now(),
            },
        );
    }

    /// Drops expired entries and, if that is not enough, a quarter of the rest (in no
    /// particular order): one sweep per many inserts, not one per insert.
    fn make_room(entries: &mut HashMap<Digest, Entry>, capacity: usize) {
        entries.retain(|_, e| e.fetched.elapsed() < TTL);
        if entries.len() >= capacity {
            let drop: Vec<Digest> = entries.keys().take(capacity / 4 + 1).copied().collect();
            for digest in drop {
                entries.remove(&digest);
            }
        }
    }

    /// Forgets what `change` makes stale.
    pub fn invalidate(&self, change: &Invalidation) {
        let mut entries = self.entries();
        self.epoch.fetch_add(1, Ordering::AcqRel);
        match change {
            Invalidation::Token(digest) => {
                entries.remove(digest);
            }
            Invalidation::Client(id) => entries.retain(|_, e| &e.grant.client_id != id),
        }
    }

    pub fn len(&self) -> usize {
        self.entries().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;
    use paddock_core::env::Env;
    use paddock_core::grant::AccountBinding;
    use paddock_core::ids::{AccountId, BrokerId, ClientId, GrantId, UserId};
    use paddock_core::scope::ScopeSet;

    use super::*;

    fn grant(client: &str) -> TokenGrant {
        TokenGrant {
            id: GrantId::random(),
            client_id: ClientId::parse(client).unwrap(),
            client_broker_id: BrokerId::random(),
            client_active: true,
            user_id: UserId::random(),
            scopes: ScopeSet::READ_ONLY,
            accounts: AccountBinding::single(Env::Paper, AccountId::random()),
            created_at: DateTime::from_timestamp(0, 0).unwrap(),
            expires_at: None,
            last_used_at: None,
            revoked_at: None,
        }
    }

    const A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const B: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

    #[test]
    fn an_invalidation_drops_the_token_or_every_token_of_the_client() {
        let cache = GrantCache::default();
        let (t1, t2, t3) = (Digest::of("1"), Digest::of("2"), Digest::of("3"));
        let epoch = cache.epoch();
        cache.insert(t1, grant(A), epoch);
        cache.insert(t2, grant(A), epoch);
        cache.insert(t3, grant(B), epoch);
        cache.invalidate(&Invalidation::Token(t3));
        assert!(cache.get(&t3).is_none());
        assert!(cache.get(&t1).is_some());
        cache.invalidate(&Invalidation::Client(ClientId::parse(A).unwrap()));
        assert!(cache.is_empty());
    }

    #[test]
    fn a_lookup_that_raced_an_invalidation_is_not_cached() {
        let cache = GrantCache::default();
        let t = Digest::of("t");
        let before = cache.epoch();
        cache.invalidate(&Invalidation::Token(t));
        cache.insert(t, grant(A), before);
        assert!(cache.get(&t).is_none());
    }

    #[test]
    fn the_cache_never_outgrows_its_capacity() {
        let cache = GrantCache::with_capacity(100);
        for i in 0..1000 {
            cache.insert(Digest::of(&i.to_string()), grant(A), cache.epoch());
            assert!(cache.len() <= 100);
        }
        assert!(cache.get(&Digest::of("999")).is_some(), "the newest stays");
    }
}
