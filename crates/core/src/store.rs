//! The store interface. Handlers reach the database only through these traits; each
//! backend (SQLite now, PostgreSQL later) implements them, and the handlers do not
//! change when the backend does.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::OAuthError;
use crate::grant::{CodeGrant, GrantSummary, NewToken, TokenGrant, TokenIssue};
use crate::ids::{AccountId, BrokerId, BrokerKeyId, ClientId, GrantId, UserId};
use crate::model::{Account, Broker, Client, ClientStatus, User};
use crate::password::Email;
use crate::secret::Digest;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness rule refused the write; the message names the rule.
    #[error("{0}")]
    Conflict(String),
    /// A referenced record does not exist; the message names it.
    #[error("{0}")]
    Missing(String),
    #[error("database error: {0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

pub type StoreResult<T> = Result<T, StoreError>;

#[async_trait]
pub trait BrokerStore {
    async fn create_broker(&self, broker: &Broker) -> StoreResult<()>;
    async fn broker(&self, id: BrokerId) -> StoreResult<Option<Broker>>;
    async fn broker_by_key_id(&self, key_id: &BrokerKeyId) -> StoreResult<Option<Broker>>;
    /// Every broker, oldest first.
    async fn brokers(&self) -> StoreResult<Vec<Broker>>;
}

#[async_trait]
pub trait UserStore {
    /// `Conflict` when the e-mail address is taken.
    async fn create_user(&self, user: &User) -> StoreResult<()>;
    async fn user(&self, id: UserId) -> StoreResult<Option<User>>;
    async fn user_by_email(&self, email: &Email) -> StoreResult<Option<User>>;
    /// Every user, oldest first.
    async fn users(&self) -> StoreResult<Vec<User>>;
}

#[async_trait]
pub trait AccountStore {
    /// `Conflict` when the user already has a live account; `Missing` when the user
    /// or broker does not exist.
    async fn create_account(&self, account: &Account) -> StoreResult<()>;
    async fn account(&self, id: AccountId) -> StoreResult<Option<Account>>;
    async fn accounts_of_user(&self, user: UserId) -> StoreResult<Vec<Account>>;
    /// Every account, oldest first.
    async fn accounts(&self) -> StoreResult<Vec<Account>>;
}

#[async_trait]
pub trait ClientStore {
    /// `Missing` when the broker does not exist.
    async fn create_client(&self, client: &Client) -> StoreResult<()>;
    async fn client(&self, id: &ClientId) -> StoreResult<Option<Client>>;
    /// Every client, oldest first.
    async fn clients(&self) -> StoreResult<Vec<Client>>;
    /// `false` when there is no such client.
    async fn set_client_status(&self, id: &ClientId, status: ClientStatus) -> StoreResult<bool>;
    /// `false` when there is no such client.
    async fn set_client_secret(&self, id: &ClientId, digest: &Digest) -> StoreResult<bool>;
}

/// The outcome of presenting an authorization code at the token endpoint.
#[derive(Debug)]
pub enum Redemption {
    /// The code was fresh and passed the check: the token is stored.
    Issued(CodeGrant),
    /// The code was fresh but failed the check; it is spent all the same, so that a
    /// verifier or redirect URI cannot be guessed by retrying.
    Refused(OAuthError),
    /// The code had been redeemed before; every token issued from it is now revoked
    /// (RFC 9700 §4.5).
    Replayed,
    /// No such code.
    Unknown,
}

/// The check a fresh code must pass before its token is stored, run by the store inside
/// the transaction that spends the code.
pub type RedemptionCheck<'a> = &'a (dyn Fn(&CodeGrant) -> Result<(), OAuthError> + Send + Sync);

#[async_trait]
pub trait GrantStore {
    async fn insert_code(&self, digest: &Digest, grant: &CodeGrant) -> StoreResult<()>;

    /// Spends the code and, if `check` passes, stores the token it grants as issued from
    /// it, all in one transaction: of concurrent redemptions exactly one sees a fresh
    /// code. Presenting a spent code revokes every token issued from it.
    async fn redeem_code(
        &self,
        code: &Digest,
        check: RedemptionCheck<'_>,
        token: &TokenIssue,
    ) -> StoreResult<Redemption>;

    async fn insert_token(&self, token: &NewToken) -> StoreResult<()>;

    /// The token with its client's status: one indexed read by digest, no write.
    async fn token(&self, digest: &Digest) -> StoreResult<Option<TokenGrant>>;

    /// Marks the token revoked (keeping the first revocation time). `false` when there
    /// is no such token.
    async fn revoke_token(&self, digest: &Digest, now: DateTime<Utc>) -> StoreResult<bool>;

    /// The user's grants that are neither revoked nor expired at `now`, newest first.
    async fn grants_of_user(
        &self,
        user: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<GrantSummary>>;

    /// Revokes the grant if it is the user's. `false` when the user has no such grant.
    async fn revoke_grant(
        &self,
        user: UserId,
        grant: GrantId,
        now: DateTime<Utc>,
    ) -> StoreResult<bool>;

    /// Records when tokens were last used, in one batch.
    async fn touch_tokens(&self, used: &[(Digest, DateTime<Utc>)]) -> StoreResult<()>;

    /// Deletes codes that expired before `before`; returns how many.
    async fn purge_codes(&self, before: DateTime<Utc>) -> StoreResult<u64>;
}

/// A browser's signed-in session, kept server-side and found by the cookie's digest.
#[async_trait]
pub trait SessionStore {
    async fn create_session(
        &self,
        digest: &Digest,
        user: UserId,
        created_at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()>;

    /// The session's user, unless the session is unknown or expired at `now`: one
    /// read, since every page asks.
    async fn session_user(&self, digest: &Digest, now: DateTime<Utc>) -> StoreResult<Option<User>>;

    async fn delete_session(&self, digest: &Digest) -> StoreResult<()>;

    /// Deletes sessions that expired before `before`; returns how many.
    async fn purge_sessions(&self, before: DateTime<Utc>) -> StoreResult<u64>;
}

#[async_trait]
pub trait Store:
    BrokerStore + UserStore + AccountStore + ClientStore + GrantStore + SessionStore + Send + Sync
{
    /// A cheap round trip, for readiness checks.
    async fn ping(&self) -> StoreResult<()>;
}
