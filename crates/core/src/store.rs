//! The store interface. Handlers reach the database only through these traits; each
//! backend (SQLite, PostgreSQL) implements them, and the handlers do not change when
//! the backend does. Single-record reads and writes are methods of the store; a change
//! of several records is a unit of work ([`Store::begin`]), whose rules live in core
//! (for example [`crate::oauth::grant::redeem`]) rather than in each backend.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use crate::ids::{
    AccountId, BrokerId, BrokerKeyId, ClientId, GrantId, OrderId, UserId, WatchlistId,
};
use crate::model::{Account, Broker, Client, ClientStatus, User};
use crate::oauth::grant::{
    CodeGrant, GrantSummary, NewToken, PresentedCode, Redemption, TokenGrant, TokenIssue,
};
use crate::password::Email;
use crate::secret::Digest;
use crate::throttle::ThrottleWindow;
use crate::trading::assets::Symbol;
use crate::trading::config::AccountConfig;
use crate::trading::orders::{Holding, Order, OrderStatus, Side, TradeEvent};
use crate::trading::watchlists::Watchlist;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness rule refused the write.
    #[error("{0}")]
    Conflict(Conflict),
    /// A record the write refers to does not exist.
    #[error("{0}")]
    Missing(Missing),
    /// The database could not be reached in time; the request may succeed later.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    #[error("database error: {0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// The uniqueness rules a write can break, each recognised by its constraint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Conflict {
    #[error("a user with this e-mail address exists")]
    EmailTaken,
    #[error("the user already has a live account (a user has at most one)")]
    LiveAccountExists,
    #[error("the account number is taken")]
    AccountNumberTaken,
    #[error("a broker with this key id exists")]
    BrokerKeyIdTaken,
    #[error("client_order_id must be unique: this account has an order with it")]
    ClientOrderIdTaken,
    #[error("this account has a watchlist with this name")]
    WatchlistNameTaken,
    #[error(
        "an account may have {} watchlists at most",
        crate::trading::watchlists::MAX_WATCHLISTS
    )]
    TooManyWatchlists,
    #[error("the symbol is in the watchlist already")]
    SymbolInWatchlist,
    /// A record with the same id (a UUID, a client_id, a digest) exists.
    #[error("a record with this id exists")]
    IdTaken,
}

/// The records a write can refer to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Missing {
    #[error("the user does not exist")]
    User,
    #[error("the broker does not exist")]
    Broker,
    #[error("the client does not exist")]
    Client,
    #[error("the account does not exist")]
    Account,
    #[error("the symbol is not in the watchlist")]
    WatchlistSymbol,
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
    /// The account's trading configuration (the default until one is set).
    async fn account_config(&self, id: AccountId) -> StoreResult<AccountConfig>;
}

/// An account's watchlists. Each write checks that the watchlist is the account's, so
/// that another account's id reads as missing.
#[async_trait]
pub trait WatchlistStore {
    /// The account's watchlists, oldest first.
    async fn watchlists(&self, account: AccountId) -> StoreResult<Vec<Watchlist>>;
    async fn watchlist(
        &self,
        account: AccountId,
        id: WatchlistId,
    ) -> StoreResult<Option<Watchlist>>;
    /// `Conflict::WatchlistNameTaken` when the account has one by that name;
    /// `Conflict::TooManyWatchlists` when it has `MAX_WATCHLISTS` already.
    async fn create_watchlist(&self, watchlist: &Watchlist) -> StoreResult<()>;
    /// Renames it, or replaces its symbols, or both (`None` keeps what it has), in one
    /// write; `false` when the account has no such list.
    async fn replace_watchlist(
        &self,
        account: AccountId,
        id: WatchlistId,
        name: Option<&str>,
        symbols: Option<&[Symbol]>,
        now: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// Appends a symbol; `Conflict::SymbolInWatchlist` when it is there already.
    async fn add_to_watchlist(
        &self,
        account: AccountId,
        id: WatchlistId,
        symbol: &Symbol,
        now: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// `Missing::WatchlistSymbol` when the symbol is not in the list.
    async fn remove_from_watchlist(
        &self,
        account: AccountId,
        id: WatchlistId,
        symbol: &Symbol,
        now: DateTime<Utc>,
    ) -> StoreResult<bool>;
    async fn delete_watchlist(&self, account: AccountId, id: WatchlistId) -> StoreResult<bool>;
}

#[async_trait]
pub trait ClientStore {
    /// `Missing` when the broker does not exist.
    async fn create_client(&self, client: &Client) -> StoreResult<()>;
    async fn client(&self, id: &ClientId) -> StoreResult<Option<Client>>;
    /// Every client, oldest first.
    async fn clients(&self) -> StoreResult<Vec<Client>>;
    /// Disables or enables the client, and tells every node. `false` when there is no
    /// such client.
    async fn set_client_status(
        &self,
        id: &ClientId,
        status: ClientStatus,
        now: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// Replaces the client's secret digest, and tells every node. `false` when there is
    /// no such client.
    async fn set_client_secret(
        &self,
        id: &ClientId,
        digest: &Digest,
        now: DateTime<Utc>,
    ) -> StoreResult<bool>;
}

/// What the store knows of a presented authorization code, as it spends it.
#[derive(Debug)]
pub enum CodeState {
    /// The code was fresh; it is now spent, and this is what it grants.
    Fresh(CodeGrant),
    /// The code had been spent before.
    Spent,
    /// No such code.
    Unknown,
}

#[async_trait]
pub trait GrantStore {
    async fn insert_code(&self, digest: &Digest, grant: &CodeGrant) -> StoreResult<()>;

    /// Stores a token issued without a code (the Broker API's direct issuance).
    async fn insert_token(&self, token: &NewToken) -> StoreResult<()>;

    /// Redeems `presented` in one unit of work, as [`redeem_in`] does (a backend may
    /// redeem many at once, each with the outcome it would have had alone).
    ///
    /// [`redeem_in`]: crate::oauth::grant::redeem_in
    async fn redeem_code(&self, presented: PresentedCode) -> StoreResult<Redemption>;

    /// The token with its client's status: one indexed read by digest, no write.
    async fn token(&self, digest: &Digest) -> StoreResult<Option<TokenGrant>>;

    /// Marks the token revoked (keeping the first revocation time) and tells every
    /// node. `false` when there is no such token.
    async fn revoke_token(&self, digest: &Digest, now: DateTime<Utc>) -> StoreResult<bool>;

    /// The user's grants that are neither revoked nor expired at `now`, newest first.
    async fn grants_of_user(
        &self,
        user: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<GrantSummary>>;

    /// Revokes the grant if it is the user's, and tells every node. The revoked token's
    /// digest, or `None` when the user has no such grant.
    async fn revoke_grant(
        &self,
        user: UserId,
        grant: GrantId,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Digest>>;

    /// Records when tokens were last used, in one batch.
    async fn touch_tokens(&self, used: &[(Digest, DateTime<Utc>)]) -> StoreResult<()>;

    /// Deletes codes that expired before `before`; returns how many.
    async fn purge_codes(&self, before: DateTime<Utc>) -> StoreResult<u64>;
}

/// The grant operations of a unit of work: what redeeming a code changes together.
#[async_trait]
pub trait GrantTx: Send {
    /// Spends the code for the token `issue` would be issued as, and records that
    /// token's digest on it (for [`GrantTx::revoke_tokens_of_code`]): of concurrent
    /// units of work presenting one code, exactly one sees it fresh.
    async fn spend_code(&mut self, code: &Digest, issue: &TokenIssue) -> StoreResult<CodeState>;

    /// Stores a token.
    async fn insert_token(&mut self, token: &NewToken) -> StoreResult<()>;

    /// Revokes every token issued from the code, and tells every node; returns their
    /// digests.
    async fn revoke_tokens_of_code(
        &mut self,
        code: &Digest,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<Digest>>;
}

/// A unit of work: what is done through it commits together, or not at all (dropped
/// without `commit`, it rolls back). On SQLite it holds the write lock from its start;
/// on PostgreSQL it is one transaction.
#[async_trait]
pub trait Tx: GrantTx + TradingTx + MarketTx + Send {
    async fn commit(self: Box<Self>) -> StoreResult<()>;
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

/// Failure counts, shared by every node: load, apply [`crate::throttle`]'s rule, save
/// with a version check (and retry when another node saved first).
#[async_trait]
pub trait ThrottleStore {
    async fn throttle(&self, key: &str) -> StoreResult<Option<Versioned<ThrottleWindow>>>;

    /// Saves `window` for `key` if its version is still `expected` (`None`: if there is
    /// no row yet). `false` when another writer came first.
    async fn save_throttle(
        &self,
        key: &str,
        window: &ThrottleWindow,
        expected: Option<i64>,
    ) -> StoreResult<bool>;

    async fn forget_throttle(&self, key: &str) -> StoreResult<()>;

    /// Deletes windows that started before `before`; returns how many.
    async fn purge_throttles(&self, before: DateTime<Utc>) -> StoreResult<u64>;
}

/// A value and the version it was read at.
#[derive(Clone, Debug)]
pub struct Versioned<T> {
    pub value: T,
    pub version: i64,
}

/// What a node may hold in memory that a change elsewhere made stale.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Invalidation {
    /// The token was revoked.
    Token(Digest),
    /// The client was disabled, enabled, or given a new secret.
    Client(ClientId),
    /// The account's cash, orders or holdings changed.
    Account(AccountId),
    /// A market price was set.
    Prices,
}

impl Invalidation {
    /// How the log keeps it: a kind and the bytes of what it names, the same on every
    /// backend.
    pub fn encode(&self) -> (&'static str, Vec<u8>) {
        match self {
            Invalidation::Token(digest) => ("token", digest.as_bytes().to_vec()),
            Invalidation::Client(id) => ("client", id.as_str().as_bytes().to_vec()),
            Invalidation::Account(id) => ("account", id.to_string().into_bytes()),
            Invalidation::Prices => ("prices", Vec::new()),
        }
    }

    /// What [`Invalidation::encode`] wrote, or `None` for a row no paddock writes.
    pub fn decode(kind: &str, target: &[u8]) -> Option<Self> {
        let text = || std::str::from_utf8(target).ok();
        match kind {
            "token" => Digest::from_bytes(target).map(Invalidation::Token),
            "client" => text()
                .and_then(|id| ClientId::parse(id).ok())
                .map(Invalidation::Client),
            "account" => text()
                .and_then(|id| id.parse().ok())
                .map(Invalidation::Account),
            "prices" => Some(Invalidation::Prices),
            _ => None,
        }
    }
}

/// Wakes a node when other nodes may have written invalidations.
#[async_trait]
pub trait ChangeFeed: Send {
    /// Returns when there may be new invalidations: on a notification, or after a short
    /// wait at most, so that a missed notification costs a moment, not correctness.
    async fn next(&mut self) -> StoreResult<()>;
}

/// The log of invalidations, written in the transaction of each change, so that every
/// node can bring its caches up to date.
#[async_trait]
pub trait InvalidationStore {
    /// The invalidations after `seq`, oldest first, with their sequence numbers.
    async fn invalidations_since(&self, seq: i64) -> StoreResult<Vec<(i64, Invalidation)>>;

    /// The sequence number of the latest invalidation (0 for none): where a starting
    /// node begins to follow the log.
    async fn latest_invalidation(&self) -> StoreResult<i64>;

    /// Starts listening for invalidations written by any process.
    async fn change_feed(&self) -> StoreResult<Box<dyn ChangeFeed>>;

    /// Deletes invalidations written before `before`; returns how many.
    async fn purge_invalidations(&self, before: DateTime<Utc>) -> StoreResult<u64>;
}

/// A price the market simulator holds for a symbol, away from its reference price.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredPrice {
    pub symbol: Symbol,
    pub price: Decimal,
    pub updated_at: DateTime<Utc>,
}

/// The simulator's prices, shared by every process on the database: a price set by
/// the admin CLI is the price every node trades at.
#[async_trait]
pub trait MarketStore {
    /// Every stored price, by symbol.
    async fn prices(&self) -> StoreResult<Vec<StoredPrice>>;

    async fn price(&self, symbol: &Symbol) -> StoreResult<Option<StoredPrice>>;

    /// The last tick the price walk took (`None` before the first): read without a
    /// lock, so that a node can see a tick taken before opening a unit of work.
    async fn walk_tick(&self) -> StoreResult<Option<i64>>;

    /// Sets (or replaces) the price of `symbol`, and tells every node; the caller has
    /// checked that it is a listed symbol and a positive amount of at most nine
    /// decimals.
    async fn set_price(
        &self,
        symbol: &Symbol,
        price: Decimal,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
}

/// The price walk's unit of work: the last tick taken (locked, so that one node takes
/// each), and the prices it moves.
#[async_trait]
pub trait MarketTx: Send {
    /// The last tick the walk took, locking it for this unit of work; `None` before
    /// the first.
    async fn lock_walk(&mut self) -> StoreResult<Option<i64>>;
    async fn set_walk_tick(&mut self, tick: i64) -> StoreResult<()>;
    async fn stored_prices(&mut self) -> StoreResult<Vec<StoredPrice>>;
    async fn put_price(
        &mut self,
        symbol: &Symbol,
        price: Decimal,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Tells every node that prices changed in this unit of work.
    async fn touch_prices(&mut self, now: DateTime<Utc>) -> StoreResult<()>;
}

/// Which of an account's orders a list asks for (Alpaca's filters, checked by the
/// binary).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderQuery {
    /// `Some(true)`: open orders only; `Some(false)`: closed only; `None`: all.
    pub open: Option<bool>,
    /// Submitted strictly after / strictly before.
    pub after: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    /// At most this many, newest first unless `ascending`.
    pub limit: u32,
    pub ascending: bool,
    /// Only these symbols, when not empty.
    pub symbols: Vec<Symbol>,
    pub side: Option<Side>,
}

impl OrderQuery {
    /// Every open order of an account, oldest first (the engine caps how many there
    /// can be).
    pub fn all_open() -> Self {
        Self {
            open: Some(true),
            after: None,
            until: None,
            limit: crate::trading::engine::MAX_OPEN_ORDERS,
            ascending: true,
            symbols: Vec::new(),
            side: None,
        }
    }
}

/// The paper brokerage's records, read outside a unit of work.
#[async_trait]
pub trait TradingStore {
    async fn orders(&self, account: AccountId, query: &OrderQuery) -> StoreResult<Vec<Order>>;
    async fn order(&self, account: AccountId, id: OrderId) -> StoreResult<Option<Order>>;
    async fn order_by_client_id(
        &self,
        account: AccountId,
        client_order_id: &str,
    ) -> StoreResult<Option<Order>>;
    /// The account's holdings, by symbol.
    async fn holdings(&self, account: AccountId) -> StoreResult<Vec<(Symbol, Holding)>>;
    /// Every open order of every account, oldest first: what the matcher looks at.
    async fn open_orders(&self) -> StoreResult<Vec<Order>>;
    /// The legs of the groups whose first orders are `parents`, oldest first.
    async fn legs(&self, account: AccountId, parents: &[OrderId]) -> StoreResult<Vec<Order>>;
    /// The account's trade events after `after` (a sequence number), oldest first, each
    /// with its order as stored now: what the trade-updates streams deliver.
    async fn trade_events_after(
        &self,
        account: AccountId,
        after: i64,
        limit: u32,
    ) -> StoreResult<Vec<StreamEvent>>;
    /// The sequence number of the account's latest trade event (0 before the first).
    async fn latest_trade_event(&self, account: AccountId) -> StoreResult<i64>;
    /// Where a stream that starts at `at` resumes after: the sequence number just before
    /// the account's first event at or after `at` (its latest when there is none).
    /// Nodes stamp events with their own clocks, so an event of about `at` may be
    /// delivered twice, but none at or after it is skipped.
    async fn trade_event_before(&self, account: AccountId, at: DateTime<Utc>) -> StoreResult<i64>;
    /// The account's fills (from the trade events), as its activities list them.
    async fn fills(&self, account: AccountId, query: &FillQuery) -> StoreResult<Vec<FillRecord>>;
}

/// A trade event as the streams read it back: its place in the log and its order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamEvent {
    pub seq: i64,
    pub event: TradeEvent,
    pub order: Order,
}

/// Which fills an activities page or a portfolio history asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FillQuery {
    /// Strictly after / strictly before.
    pub after: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub ascending: bool,
    pub limit: u32,
    /// The execution id of the last fill of the previous page: this page goes on after
    /// it, in the query's direction.
    pub page_after: Option<uuid::Uuid>,
}

/// A fill, with what its activity shows of the order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FillRecord {
    pub execution_id: uuid::Uuid,
    pub order_id: OrderId,
    pub symbol: Symbol,
    pub side: Side,
    pub price: Decimal,
    pub qty: Decimal,
    pub at: DateTime<Utc>,
    /// The order's filled shares and status now.
    pub order_filled_qty: Decimal,
    pub order_status: OrderStatus,
}

/// The trading operations of a unit of work: what placing, filling and canceling an
/// order change together. `lock_cash` comes first, so that the units of work of one
/// account queue, and what they read of it cannot change under them.
#[async_trait]
pub trait TradingTx: Send {
    async fn lock_cash(&mut self, account: AccountId) -> StoreResult<Option<Decimal>>;
    async fn account_config(&mut self, account: AccountId) -> StoreResult<AccountConfig>;
    async fn set_account_config(
        &mut self,
        account: AccountId,
        config: &AccountConfig,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    async fn set_cash(&mut self, account: AccountId, cash: Decimal) -> StoreResult<()>;
    /// Tells every node that the account's cash, orders or holdings changed in this unit
    /// of work.
    async fn touch_account(&mut self, account: AccountId, now: DateTime<Utc>) -> StoreResult<()>;
    async fn open_orders_of(&mut self, account: AccountId) -> StoreResult<Vec<Order>>;
    async fn order_of(&mut self, account: AccountId, id: OrderId) -> StoreResult<Option<Order>>;
    /// The legs of the group whose first order is `parent`, oldest first.
    async fn legs_of(&mut self, account: AccountId, parent: OrderId) -> StoreResult<Vec<Order>>;
    async fn holding(
        &mut self,
        account: AccountId,
        symbol: &Symbol,
    ) -> StoreResult<Option<Holding>>;
    /// Sets the account's holding of `symbol`; `None` removes it.
    async fn set_holding(
        &mut self,
        account: AccountId,
        symbol: &Symbol,
        holding: Option<Holding>,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// `Conflict::ClientOrderIdTaken` when the account has an order with its
    /// `client_order_id`.
    async fn insert_order(&mut self, order: &Order) -> StoreResult<()>;
    async fn update_order(&mut self, order: &Order) -> StoreResult<()>;
    async fn insert_event(&mut self, event: &TradeEvent) -> StoreResult<()>;
}

#[async_trait]
pub trait Store:
    BrokerStore
    + UserStore
    + AccountStore
    + ClientStore
    + GrantStore
    + SessionStore
    + ThrottleStore
    + InvalidationStore
    + MarketStore
    + TradingStore
    + WatchlistStore
    + Send
    + Sync
{
    /// Starts a unit of work.
    async fn begin(&self) -> StoreResult<Box<dyn Tx>>;

    /// A cheap round trip, for readiness checks.
    async fn ping(&self) -> StoreResult<()>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::AccountId;

    #[test]
    fn every_invalidation_reads_back_as_written() {
        let all = [
            Invalidation::Token(Digest::of("t")),
            Invalidation::Client(ClientId::parse("7a3c52a910e1dc2abbb14da2b6b8e711").unwrap()),
            Invalidation::Account(AccountId::random()),
            Invalidation::Prices,
        ];
        for change in all {
            let (kind, target) = change.encode();
            assert_eq!(Invalidation::decode(kind, &target), Some(change));
        }
        assert_eq!(Invalidation::decode("token", b"short"), None);
        assert_eq!(Invalidation::decode("weather", b""), None);
    }
}
