//! The one state every handler receives.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use paddock_core::ids::{BrokerKeyId, ClientId};
use paddock_core::model::{Broker, Client};
use paddock_core::oauth::grant::TokenGrant;
use paddock_core::secret::Digest;
use paddock_core::store::{Invalidation, Store, StoreError};
use tokio::sync::{Semaphore, broadcast};

use crate::cache::Caches;
use crate::clock::Clock;
use crate::config::Settings;
use crate::throttle::{FailureThrottle, LoginThrottle};

/// Changes kept for a stream that has not read them yet; one that falls further behind
/// reads its events from the store instead (nothing is lost, only the hint).
const CHANGES_BUFFER: usize = 4_096;

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub settings: Arc<Settings>,
    pub clock: Clock,
    pub last_used: Arc<LastUsed>,
    /// Grants and accounts, so that a Bearer-checked call does not read the store on a
    /// hit; brokers and clients, for the OAuth endpoints' credentials.
    pub caches: Arc<Caches>,
    pub throttles: Arc<Throttles>,
    /// Bounds the argon2 checks running at once (each takes ~19 MiB and a core for
    /// tens of milliseconds), so that a burst of logins queues instead of exhausting
    /// memory.
    pub password_checks: Arc<Semaphore>,
    /// Every change the invalidation log tells this node of, from any node: what the
    /// trade streams listen to (an account's new events, a revoked token).
    pub changes: broadcast::Sender<Invalidation>,
}

impl AppState {
    pub fn new(store: Arc<dyn Store>, settings: Settings, clock: Clock) -> Self {
        Self {
            store,
            settings: Arc::new(settings),
            clock,
            last_used: Arc::default(),
            caches: Arc::default(),
            throttles: Arc::new(Throttles::default()),
            password_checks: Arc::new(Semaphore::new(
                std::thread::available_parallelism().map_or(2, |n| n.get().max(2)),
            )),
            changes: broadcast::channel(CHANGES_BUFFER).0,
        }
    }

    /// The grant of the token whose digest is `digest`, from this node's cache when it
    /// holds it, whatever state the grant is in (revoked, expired…).
    pub async fn grant(&self, digest: Digest) -> Result<Option<Arc<TokenGrant>>, StoreError> {
        self.caches
            .grants
            .get_or_load(digest, async {
                Ok(self.store.token(&digest).await?.map(Arc::new))
            })
            .await
    }

    /// The broker whose key id is `key_id`, from this node's cache when it holds it.
    pub async fn broker(&self, key_id: &BrokerKeyId) -> Result<Option<Arc<Broker>>, StoreError> {
        self.caches
            .brokers
            .get_or_load(key_id.clone(), async {
                Ok(self.store.broker_by_key_id(key_id).await?.map(Arc::new))
            })
            .await
    }

    /// The client `id`, from this node's cache when it holds it.
    pub async fn client(&self, id: &ClientId) -> Result<Option<Arc<Client>>, StoreError> {
        self.caches
            .clients
            .get_or_load(id.clone(), async {
                Ok(self.store.client(id).await?.map(Arc::new))
            })
            .await
    }
}

/// Failure throttles, one per kind of secret checked.
pub struct Throttles {
    /// Per broker key id, on the Broker API's HTTP Basic check.
    pub broker_auth: FailureThrottle,
    /// Per client id, on client authentication at the token endpoint.
    pub client_auth: FailureThrottle,
    /// On the login page: per e-mail address and per client IP address.
    pub login: LoginThrottle,
}

impl Default for Throttles {
    fn default() -> Self {
        Self {
            broker_auth: FailureThrottle::new("broker", 20, Duration::minutes(5)),
            client_auth: FailureThrottle::new("client", 20, Duration::minutes(5)),
            login: LoginThrottle::new(
                FailureThrottle::new("login-email", 5, Duration::minutes(15)),
                FailureThrottle::new("login-ip", 20, Duration::minutes(15)),
            ),
        }
    }
}

impl Throttles {
    /// The longest window of any throttle: older windows have ended and can go.
    pub const LONGEST_WINDOW: Duration = Duration::minutes(15);
}

/// When tokens were last used, gathered in memory and written in batches, so that
/// the Bearer check never writes to the database.
#[derive(Default)]
pub struct LastUsed {
    pending: Mutex<HashMap<Digest, DateTime<Utc>>>,
}

impl LastUsed {
    pub fn record(&self, token: Digest, at: DateTime<Utc>) {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        pending.insert(token, at);
    }

    pub fn take(&self) -> Vec<(Digest, DateTime<Utc>)> {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        pending.drain().collect()
    }
}
