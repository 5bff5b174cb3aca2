//! What a node keeps in memory of the store: the grants it has looked up, so that a
//! Bearer-checked call does not touch the database on a hit, the accounts, and the
//! brokers and clients that authenticate at the OAuth endpoints.
//!
//! Staleness is bounded three ways: the node that revokes a token or changes a client
//! drops the entry at once; every other node drops it when it reads the store's
//! invalidation log (woken by PostgreSQL `NOTIFY`, or by polling on SQLite, within a
//! fraction of a second); and no entry is used past [`TTL`], the safety net for a log
//! that could not be read. Only tokens the store knows are cached, so unknown tokens
//! cannot flush the cache, and it never holds more than its capacity.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use paddock_core::ids::{AccountId, BrokerKeyId, ClientId};
use paddock_core::model::{Account, Broker, Client};
use paddock_core::oauth::grant::TokenGrant;
use paddock_core::secret::Digest;
use paddock_core::store::Invalidation;
use paddock_core::trading::assets::Symbol;
use paddock_core::trading::config::AccountConfig;
use paddock_core::trading::market::Market;
use paddock_core::trading::orders::{Holding, Order};

/// The longest an entry is used without hearing from the store.
pub const TTL: Duration = Duration::from_secs(30);

/// Entries kept at most per cache (a grant or an account is a few hundred bytes).
pub const CAPACITY: usize = 100_000;

/// What a node keeps in memory of the store, each cache dropped from by [`apply`].
///
/// [`apply`]: Caches::apply
#[derive(Default)]
pub struct Caches {
    /// Grants by token digest, for the Bearer check.
    pub grants: Cache<Digest, Arc<TokenGrant>>,
    /// Accounts by id, with their holdings and open orders, for the Trading API;
    /// every unit of work that trades on an account logs an invalidation for it.
    pub accounts: Cache<AccountId, Arc<AccountState>>,
    /// The market's prices (one entry), dropped whenever a price is set.
    pub market: Cache<(), Arc<Market>>,
    /// Brokers by key id, for the Broker API's HTTP Basic check. A broker's record
    /// does not change once created, so only the lifetime bounds these.
    pub brokers: Cache<BrokerKeyId, Arc<Broker>>,
    /// Clients by id, for client authentication; every change to a client (disabled,
    /// enabled, a new secret) logs an invalidation for it.
    pub clients: Cache<ClientId, Arc<Client>>,
}

/// An account as the Trading API shows it: its record, holdings and open orders.
#[derive(Debug)]
pub struct AccountState {
    pub account: Account,
    pub config: AccountConfig,
    pub holdings: Vec<(Symbol, Holding)>,
    pub open_orders: Vec<Order>,
    /// `GET /v2/account`'s body, as last written: it is a function of this state, the
    /// market snapshot and the day alone, so it is reused while those are the same.
    pub rendered: Mutex<Option<Rendered>>,
}

/// A response body, and what it was made from.
#[derive(Debug)]
pub struct Rendered {
    /// Held, so that the comparison by pointer cannot match a later snapshot that
    /// happens to take its place in memory.
    pub market: Arc<Market>,
    pub day: chrono::NaiveDate,
    pub body: axum::body::Bytes,
}

impl Caches {
    /// Forgets everything.
    pub fn clear(&self) {
        self.grants.retain(|_| false);
        self.accounts.retain(|_| false);
        self.market.retain(|_| false);
        self.brokers.retain(|_| false);
        self.clients.retain(|_| false);
    }

    /// Forgets what `change` makes stale.
    pub fn apply(&self, change: &Invalidation) {
        match change {
            Invalidation::Token(digest) => self.grants.remove(digest),
            Invalidation::Client(id) => {
                self.clients.remove(id);
                self.grants.retain(|grant| &grant.client_id != id);
            }
            Invalidation::Account(id) => self.accounts.remove(id),
            Invalidation::Prices => self.market.retain(|_| false),
        }
    }
}

/// A bounded map of what the store said, each entry used for [`TTL`] at most.
pub struct Cache<K, V> {
    entries: Mutex<HashMap<K, Entry<V>>>,
    /// Bumped by every removal: a lookup that started before one may have read what it
    /// removed, and must not be cached.
    epoch: AtomicU64,
    capacity: usize,
}

struct Entry<V> {
    value: V,
    fetched: Instant,
}

impl<K: Eq + Hash + Clone, V: Clone> Default for Cache<K, V> {
    fn default() -> Self {
        Self::with_capacity(CAPACITY)
    }
}

impl<K: Eq + Hash + Clone, V: Clone> Cache<K, V> {
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
            epoch: AtomicU64::new(0),
            capacity,
        }
    }

    fn entries(&self) -> MutexGuard<'_, HashMap<K, Entry<V>>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The cached value of `key`, if fresh.
    pub fn get(&self, key: &K) -> Option<V> {
        let entries = self.entries();
        entries
            .get(key)
            .filter(|e| e.fetched.elapsed() < TTL)
            .map(|e| e.value.clone())
    }

    /// The cached value of `key`, or what `load` (a read of the store, run only on a
    /// miss) finds, cached unless a removal raced it.
    pub async fn get_or_load<E>(
        &self,
        key: K,
        load: impl Future<Output = Result<Option<V>, E>>,
    ) -> Result<Option<V>, E> {
        if let Some(value) = self.get(&key) {
            return Ok(Some(value));
        }
        let epoch = self.epoch();
        let loaded = load.await?;
        if let Some(value) = &loaded {
            self.insert(key, value.clone(), epoch);
        }
        Ok(loaded)
    }

    /// Where the removals stand; take it before reading the store.
    pub fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    /// Caches what the store said of `key`, unless a removal happened since `epoch`
    /// (what was read may be what it removed).
    pub fn insert(&self, key: K, value: V, epoch: u64) {
        let mut entries = self.entries();
        if self.epoch() != epoch {
            return;
        }
        if entries.len() >= self.capacity && !entries.contains_key(&key) {
            Self::make_room(&mut entries, self.capacity);
        }
        entries.insert(
            key,
            Entry {
                value,
                fetched: Instant::now(),
            },
        );
    }

    /// Drops expired entries and, if that is not enough, a quarter of the rest (in no
    /// particular order): one sweep per many inserts, not one per insert.
    fn make_room(entries: &mut HashMap<K, Entry<V>>, capacity: usize) {
        entries.retain(|_, e| e.fetched.elapsed() < TTL);
        if entries.len() >= capacity {
            let drop: Vec<K> = entries.keys().take(capacity / 4 + 1).cloned().collect();
            for key in drop {
                entries.remove(&key);
            }
        }
    }

    pub fn remove(&self, key: &K) {
        let mut entries = self.entries();
        self.epoch.fetch_add(1, Ordering::AcqRel);
        entries.remove(key);
    }

    /// Keeps only the entries whose value passes `keep`.
    pub fn retain(&self, keep: impl Fn(&V) -> bool) {
        let mut entries = self.entries();
        self.epoch.fetch_add(1, Ordering::AcqRel);
        entries.retain(|_, e| keep(&e.value));
    }

    /// Whether some fresh entry's value satisfies `test`.
    pub fn any(&self, test: impl Fn(&V) -> bool) -> bool {
        self.entries()
            .values()
            .any(|e| e.fetched.elapsed() < TTL && test(&e.value))
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
    use paddock_core::ids::{AccountId, BrokerId, ClientId, GrantId, UserId};
    use paddock_core::oauth::grant::AccountBinding;
    use paddock_core::oauth::scope::ScopeSet;

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
        let caches = Caches::default();
        let cache = &caches.grants;
        let (t1, t2, t3) = (Digest::of("1"), Digest::of("2"), Digest::of("3"));
        let epoch = cache.epoch();
        cache.insert(t1, Arc::new(grant(A)), epoch);
        cache.insert(t2, Arc::new(grant(A)), epoch);
        cache.insert(t3, Arc::new(grant(B)), epoch);
        caches.apply(&Invalidation::Token(t3));
        assert!(cache.get(&t3).is_none());
        assert!(cache.get(&t1).is_some());
        caches.apply(&Invalidation::Client(ClientId::parse(A).unwrap()));
        assert!(cache.is_empty());
    }

    #[test]
    fn a_lookup_that_raced_an_invalidation_is_not_cached() {
        let caches = Caches::default();
        let t = Digest::of("t");
        let before = caches.grants.epoch();
        caches.apply(&Invalidation::Token(t));
        caches.grants.insert(t, Arc::new(grant(A)), before);
        assert!(caches.grants.get(&t).is_none());
    }

    #[test]
    fn the_cache_never_outgrows_its_capacity() {
        let cache = Cache::with_capacity(100);
        for i in 0..1000 {
            cache.insert(Digest::of(&i.to_string()), grant(A), cache.epoch());
            assert!(cache.len() <= 100);
        }
        assert!(cache.get(&Digest::of("999")).is_some(), "the newest stays");
    }
}
