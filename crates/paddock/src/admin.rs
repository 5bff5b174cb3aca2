//! The admin operations behind the CLI (SPEC §4). Tests call them too, so fixtures are
//! made exactly as an operator makes them.

use chrono::{DateTime, Utc};
use paddock_core::env::Env;
use paddock_core::ids::{AccountId, BrokerId, BrokerKeyId, ClientId, OrderId, UserId};
use paddock_core::model::{Account, Broker, Client, ClientStatus, User, generate_account_number};
use paddock_core::oauth::redirect::RedirectUri;
use paddock_core::password::{Email, Password, PasswordHash};
use paddock_core::secret::{AccessToken, BrokerSecret, ClientSecret};
use paddock_core::store::{Conflict, OrderQuery, Store, StoreError};
use paddock_core::trading::assets;
use paddock_core::trading::clock::MarketClock;
use paddock_core::trading::market::Market;
use paddock_core::trading::orders::{Amount, Order};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::oauth::broker::ClientResponse;
use crate::wire;

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// The operator's input cannot be used; the message says why.
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}; the database refused the change: check that it is healthy, then retry")]
    Store(StoreError),
}

/// A conflict is the operator's to fix, so it says how; the rest is the database's.
impl From<StoreError> for AdminError {
    fn from(error: StoreError) -> Self {
        let hint = match &error {
            StoreError::Conflict(Conflict::EmailTaken) => {
                "`paddock user show EMAIL` shows that user"
            }
            StoreError::Conflict(Conflict::LiveAccountExists) => {
                "`paddock user show ID` lists the user's accounts; create a paper account instead"
            }
            StoreError::Conflict(_) => "try again: ids are random",
            StoreError::Unavailable(_) => "check that the database is running and reachable",
            StoreError::Missing(_) => {
                "`paddock broker list` and `paddock user list` show what exists"
            }
            StoreError::Backend(_) => return AdminError::Store(error),
        };
        AdminError::Invalid(format!("{error}; {hint}"))
    }
}

/// A record that is not there, with the command that lists what is.
fn not_found(what: String, list: &str) -> AdminError {
    AdminError::NotFound(format!("{what}; `paddock {list} list` shows them all"))
}

fn invalid(message: impl Into<String>) -> AdminError {
    AdminError::Invalid(message.into())
}

/// A free-text field: bounded, no control characters.
fn text_field(name: &str, value: &str, max: usize, required: bool) -> Result<String, AdminError> {
    let value = value.trim();
    if required && value.is_empty() {
        return Err(invalid(format!(
            "{name} must not be empty; give it a value"
        )));
    }
    if value.chars().count() > max {
        return Err(invalid(format!(
            "{name} has more than {max} characters; shorten it"
        )));
    }
    if value.chars().any(char::is_control) {
        return Err(invalid(format!(
            "{name} must not contain control characters; remove them"
        )));
    }
    Ok(value.to_owned())
}

#[derive(Serialize)]
pub struct CreatedBroker {
    pub id: BrokerId,
    pub name: String,
    pub key_id: String,
    /// Shown once; only its digest is kept.
    pub secret: String,
}

pub async fn create_broker(
    store: &dyn Store,
    name: &str,
    now: DateTime<Utc>,
) -> Result<CreatedBroker, AdminError> {
    let rng = &mut rand::rng();
    let secret = BrokerSecret::generate(rng);
    let broker = Broker {
        id: BrokerId::random(),
        name: text_field("name", name, 200, true)?,
        key_id: BrokerKeyId::generate(rng),
        secret_digest: secret.digest(),
        created_at: now,
    };
    store.create_broker(&broker).await?;
    Ok(CreatedBroker {
        id: broker.id,
        name: broker.name,
        key_id: broker.key_id.to_string(),
        secret: secret.expose().to_owned(),
    })
}

/// A broker as the CLI lists it: never its secret.
#[derive(Serialize)]
pub struct BrokerView {
    pub id: BrokerId,
    pub name: String,
    pub key_id: String,
    #[serde(serialize_with = "wire::timestamp")]
    pub created_at: DateTime<Utc>,
}

impl From<&Broker> for BrokerView {
    fn from(b: &Broker) -> Self {
        Self {
            id: b.id,
            name: b.name.clone(),
            key_id: b.key_id.to_string(),
            created_at: b.created_at,
        }
    }
}

pub async fn list_brokers(store: &dyn Store) -> Result<Vec<BrokerView>, AdminError> {
    Ok(store
        .brokers()
        .await?
        .iter()
        .map(BrokerView::from)
        .collect())
}

/// One broker, by id or by key id.
pub async fn show_broker(store: &dyn Store, id: &str) -> Result<BrokerView, AdminError> {
    let id = id.trim();
    let broker = if let Ok(uuid) = id.parse::<BrokerId>() {
        store.broker(uuid).await?
    } else if let Ok(key_id) = BrokerKeyId::parse(id) {
        store.broker_by_key_id(&key_id).await?
    } else {
        return Err(invalid(format!(
            "`{id}` is neither a broker id (a UUID) nor a key id (BK and 18 characters)"
        )));
    };
    broker
        .as_ref()
        .map(BrokerView::from)
        .ok_or_else(|| not_found(format!("no broker with id or key id {id}"), "broker"))
}

#[derive(Serialize)]
pub struct CreatedUser {
    pub id: UserId,
    pub email: String,
}

/// A user as the CLI lists it, with the ids of their accounts.
#[derive(Serialize)]
pub struct UserView {
    pub id: UserId,
    pub email: String,
    #[serde(serialize_with = "wire::timestamp")]
    pub created_at: DateTime<Utc>,
}

impl From<&User> for UserView {
    fn from(u: &User) -> Self {
        Self {
            id: u.id,
            email: u.email.to_string(),
            created_at: u.created_at,
        }
    }
}

pub async fn list_users(store: &dyn Store) -> Result<Vec<UserView>, AdminError> {
    Ok(store.users().await?.iter().map(UserView::from).collect())
}

/// One user, by id or by e-mail address, with their accounts.
pub async fn show_user(
    store: &dyn Store,
    id: &str,
) -> Result<(UserView, Vec<AccountView>), AdminError> {
    let id = id.trim();
    let user = if let Ok(uuid) = id.parse::<UserId>() {
        store.user(uuid).await?
    } else if let Ok(email) = Email::parse(id) {
        store.user_by_email(&email).await?
    } else {
        return Err(invalid(format!(
            "`{id}` is neither a user id (a UUID) nor an e-mail address"
        )));
    };
    let user = user.ok_or_else(|| not_found(format!("no user with id or e-mail {id}"), "user"))?;
    let accounts = store.accounts_of_user(user.id).await?;
    Ok((
        UserView::from(&user),
        accounts.iter().map(AccountView::from).collect(),
    ))
}

pub async fn create_user(
    store: &dyn Store,
    email: &str,
    password: String,
    now: DateTime<Utc>,
) -> Result<CreatedUser, AdminError> {
    let email = Email::parse(email)
        .map_err(|e| invalid(format!("{e}; give --email an address like ann@example.com")))?;
    let password = Password::new(password)
        .map_err(|e| invalid(format!("{e}; pipe another password in on stdin")))?;
    // argon2 is deliberately slow: keep it off the async workers.
    let hash = tokio::task::spawn_blocking(move || PasswordHash::new(&password))
        .await
        .map_err(|e| invalid(format!("hashing the password failed: {e}; try again")))?
        .map_err(|e| invalid(format!("{e}; try again")))?;
    let user = User {
        id: UserId::random(),
        email,
        password_hash: hash,
        created_at: now,
    };
    store.create_user(&user).await?;
    Ok(CreatedUser {
        id: user.id,
        email: user.email.to_string(),
    })
}

/// An account as the CLI shows it.
#[derive(Serialize)]
pub struct AccountView {
    pub id: AccountId,
    pub env: Env,
    pub account_number: String,
    pub user_id: UserId,
    pub broker_id: BrokerId,
    pub cash: String,
    #[serde(serialize_with = "wire::timestamp")]
    pub created_at: DateTime<Utc>,
}

impl From<&Account> for AccountView {
    fn from(a: &Account) -> Self {
        Self {
            id: a.id,
            env: a.env,
            account_number: a.account_number.clone(),
            user_id: a.user_id,
            broker_id: a.broker_id,
            cash: a.cash.normalize().to_string(),
            created_at: a.created_at,
        }
    }
}

pub async fn list_accounts(store: &dyn Store) -> Result<Vec<AccountView>, AdminError> {
    Ok(store
        .accounts()
        .await?
        .iter()
        .map(AccountView::from)
        .collect())
}

/// A holding as `account show` lists it, valued at the market's price.
#[derive(Serialize)]
pub struct PositionLine {
    pub symbol: String,
    pub qty: String,
    pub avg_entry_price: String,
    pub price: String,
    pub market_value: String,
}

/// An open order as `account show` lists it.
#[derive(Serialize)]
pub struct OrderLine {
    pub id: OrderId,
    pub client_order_id: String,
    pub symbol: String,
    pub side: &'static str,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub time_in_force: &'static str,
    pub qty: Option<String>,
    pub notional: Option<String>,
    pub limit_price: Option<String>,
    pub stop_price: Option<String>,
    pub status: &'static str,
    #[serde(serialize_with = "wire::timestamp")]
    pub submitted_at: DateTime<Utc>,
}

impl From<&Order> for OrderLine {
    fn from(o: &Order) -> Self {
        let (qty, notional) = match o.amount {
            Amount::Qty(q) => (Some(wire::amount(q)), None),
            Amount::Notional(n) => (None, Some(wire::amount(n))),
        };
        Self {
            id: o.id,
            client_order_id: o.client_order_id.clone(),
            symbol: o.symbol.to_string(),
            side: o.side.as_str(),
            kind: o.kind.as_str(),
            time_in_force: o.time_in_force.as_str(),
            qty,
            notional,
            limit_price: o.trigger.limit_price.map(wire::amount),
            stop_price: o.trigger.stop_price.map(wire::amount),
            status: o.status.as_str(),
            submitted_at: o.submitted_at,
        }
    }
}

/// An account with what it holds and its open orders: `paddock account show`.
#[derive(Serialize)]
pub struct AccountDetail {
    #[serde(flatten)]
    pub account: AccountView,
    /// Cash plus the holdings at the market's prices.
    pub equity: String,
    pub positions: Vec<PositionLine>,
    pub open_orders: Vec<OrderLine>,
}

/// One account, by id or by account number, with its positions and open orders.
pub async fn show_account(store: &dyn Store, id: &str) -> Result<AccountDetail, AdminError> {
    let id = id.trim();
    let account = match id.parse::<AccountId>() {
        Ok(uuid) => store.account(uuid).await?,
        Err(_) => store
            .accounts()
            .await?
            .into_iter()
            .find(|a| a.account_number == id),
    };
    let account = account
        .ok_or_else(|| not_found(format!("no account with id or number {id}"), "account"))?;
    // Valuing needs only the prices; the clock's mode does not matter here.
    let market = Market::new(&store.prices().await?, MarketClock::default());
    let holdings = store.holdings(account.id).await?;
    let positions: Vec<PositionLine> = holdings
        .iter()
        .map(|(symbol, h)| {
            let price = market.price(symbol).unwrap_or(h.avg_entry_price);
            PositionLine {
                symbol: symbol.to_string(),
                qty: wire::amount(h.qty),
                avg_entry_price: wire::amount(h.avg_entry_price),
                price: wire::amount(price),
                market_value: wire::amount(h.qty * price),
            }
        })
        .collect();
    let held = market.value_of(&holdings);
    let open_orders = store.orders(account.id, &OrderQuery::all_open()).await?;
    Ok(AccountDetail {
        equity: wire::amount(account.cash + held),
        account: AccountView::from(&account),
        positions,
        open_orders: open_orders.iter().map(OrderLine::from).collect(),
    })
}

pub async fn create_account(
    store: &dyn Store,
    user: UserId,
    broker: BrokerId,
    env: Env,
    cash: Decimal,
    now: DateTime<Utc>,
) -> Result<AccountView, AdminError> {
    if cash.is_sign_negative() {
        return Err(invalid("cash must not be negative; give --cash 0 or more"));
    }
    paddock_core::money::to_nanos(cash).map_err(|e| {
        invalid(format!(
            "--cash {e}; give at most 9 decimals, below 9.2 billion"
        ))
    })?;
    if store.user(user).await?.is_none() {
        return Err(not_found(format!("no user with id {user}"), "user"));
    }
    if store.broker(broker).await?.is_none() {
        return Err(not_found(format!("no broker with id {broker}"), "broker"));
    }
    let mut attempt = 0;
    loop {
        let account = Account {
            id: AccountId::random(),
            user_id: user,
            broker_id: broker,
            env,
            account_number: generate_account_number(env, &mut rand::rng()),
            cash,
            created_at: now,
        };
        match store.create_account(&account).await {
            Ok(()) => return Ok(AccountView::from(&account)),
            // A random account number may collide; a second live account always will.
            Err(StoreError::Conflict(Conflict::AccountNumberTaken)) if attempt < 3 => attempt += 1,
            Err(e) => return Err(e.into()),
        }
    }
}

/// What an operator supplies to register an OAuth client.
pub struct ClientRegistration {
    pub broker: BrokerId,
    pub name: String,
    pub redirect_uris: Vec<String>,
    pub description: String,
    pub url: String,
    pub terms_of_use: String,
    pub privacy_policy: String,
    pub live_trading_approved: bool,
}

/// A client as the CLI shows it: the seed 003 object plus its owner and age.
#[derive(Serialize)]
pub struct ClientView {
    #[serde(flatten)]
    pub client: ClientResponse,
    pub broker_id: BrokerId,
    #[serde(serialize_with = "wire::timestamp")]
    pub created_at: DateTime<Utc>,
}

impl From<&Client> for ClientView {
    fn from(c: &Client) -> Self {
        Self {
            client: ClientResponse::from(c),
            broker_id: c.broker_id,
            created_at: c.created_at,
        }
    }
}

#[derive(Serialize)]
pub struct CreatedClient {
    #[serde(flatten)]
    pub client: ClientView,
    /// Shown once; only its digest is kept.
    pub client_secret: String,
}

impl CreatedClient {
    pub fn id(&self) -> &str {
        &self.client.client.client_id
    }
}

pub async fn create_client(
    store: &dyn Store,
    registration: ClientRegistration,
    now: DateTime<Utc>,
) -> Result<CreatedClient, AdminError> {
    if store.broker(registration.broker).await?.is_none() {
        return Err(not_found(
            format!("no broker with id {}", registration.broker),
            "broker",
        ));
    }
    if registration.redirect_uris.is_empty() {
        return Err(invalid(
            "a client needs at least one redirect URI; give --redirect-uri URI",
        ));
    }
    let mut redirect_uris: Vec<RedirectUri> = Vec::new();
    for uri in &registration.redirect_uris {
        let uri = RedirectUri::parse(uri).map_err(|e| {
            invalid(format!(
                "{e}; give an absolute https URL, or an http one on localhost"
            ))
        })?;
        if !redirect_uris.contains(&uri) {
            redirect_uris.push(uri);
        }
    }
    let rng = &mut rand::rng();
    let secret = ClientSecret::generate(rng);
    let client = Client {
        client_id: ClientId::generate(rng),
        broker_id: registration.broker,
        secret_digest: secret.digest(),
        name: text_field("name", &registration.name, 200, true)?,
        description: text_field("description", &registration.description, 2000, false)?,
        url: text_field("url", &registration.url, 2000, false)?,
        terms_of_use: text_field("terms_of_use", &registration.terms_of_use, 2000, false)?,
        privacy_policy: text_field("privacy_policy", &registration.privacy_policy, 2000, false)?,
        status: ClientStatus::Active,
        redirect_uris,
        live_trading_approved: registration.live_trading_approved,
        created_at: now,
    };
    store.create_client(&client).await?;
    Ok(CreatedClient {
        client: ClientView::from(&client),
        client_secret: secret.expose().to_owned(),
    })
}

fn parse_client_id(id: &str) -> Result<ClientId, AdminError> {
    ClientId::parse(id)
        .map_err(|e| invalid(format!("{e}; `paddock client list` shows the client ids")))
}

fn no_such_client(id: &ClientId) -> AdminError {
    not_found(format!("no client with client_id {id}"), "client")
}

pub async fn show_client(store: &dyn Store, id: &str) -> Result<ClientView, AdminError> {
    let id = parse_client_id(id)?;
    let client = store
        .client(&id)
        .await?
        .ok_or_else(|| no_such_client(&id))?;
    Ok(ClientView::from(&client))
}

pub async fn list_clients(store: &dyn Store) -> Result<Vec<ClientView>, AdminError> {
    Ok(store
        .clients()
        .await?
        .iter()
        .map(ClientView::from)
        .collect())
}

/// Disables or re-enables a client. A disabled client can neither start a flow nor use
/// the tokens it holds; enabling it makes those tokens work again.
pub async fn set_client_status(
    store: &dyn Store,
    id: &str,
    status: ClientStatus,
    now: DateTime<Utc>,
) -> Result<ClientView, AdminError> {
    let id = parse_client_id(id)?;
    if !store.set_client_status(&id, status, now).await? {
        return Err(no_such_client(&id));
    }
    show_client(store, id.as_str()).await
}

#[derive(Serialize)]
pub struct RotatedSecret {
    pub client_id: String,
    /// Shown once; the old secret stops working at once.
    pub client_secret: String,
}

pub async fn rotate_client_secret(
    store: &dyn Store,
    id: &str,
    now: DateTime<Utc>,
) -> Result<RotatedSecret, AdminError> {
    let id = parse_client_id(id)?;
    let secret = ClientSecret::generate(&mut rand::rng());
    if !store.set_client_secret(&id, &secret.digest(), now).await? {
        return Err(no_such_client(&id));
    }
    Ok(RotatedSecret {
        client_id: id.to_string(),
        client_secret: secret.expose().to_owned(),
    })
}

#[derive(Serialize)]
pub struct RevokedToken {
    pub revoked: bool,
}

pub async fn revoke_token(
    store: &dyn Store,
    token: &str,
    now: DateTime<Utc>,
) -> Result<RevokedToken, AdminError> {
    let unknown = || {
        AdminError::NotFound(
            "no such access token; give the whole token, as the token endpoint returned it".into(),
        )
    };
    let token = AccessToken::parse(token.trim()).map_err(|_| unknown())?;
    if !store.revoke_token(&token.digest(), now).await? {
        return Err(unknown());
    }
    Ok(RevokedToken { revoked: true })
}

/// A listed asset's price as the simulator has it: set by an operator, or the
/// reference price of the built-in table.
#[derive(Serialize)]
pub struct PriceView {
    pub symbol: String,
    pub price: String,
    /// `set` (by `price set`) or `reference` (the built-in table).
    pub source: &'static str,
    #[serde(
        serialize_with = "wire::optional_timestamp",
        skip_serializing_if = "Option::is_none"
    )]
    pub updated_at: Option<DateTime<Utc>>,
}

/// Every listed asset with its current price.
pub async fn list_prices(store: &dyn Store) -> Result<Vec<PriceView>, AdminError> {
    let stored = store.prices().await?;
    Ok(assets::listed()
        .into_iter()
        .map(
            |asset| match stored.iter().find(|p| p.symbol == asset.symbol) {
                Some(set) => PriceView {
                    symbol: asset.symbol.to_string(),
                    price: set.price.normalize().to_string(),
                    source: "set",
                    updated_at: Some(set.updated_at),
                },
                None => PriceView {
                    symbol: asset.symbol.to_string(),
                    price: asset.reference_price.normalize().to_string(),
                    source: "reference",
                    updated_at: None,
                },
            },
        )
        .collect())
}

/// Sets the simulator's price of a listed asset, for every process on the database.
pub async fn set_price(
    store: &dyn Store,
    symbol: &str,
    price: Decimal,
    now: DateTime<Utc>,
) -> Result<PriceView, AdminError> {
    let asset = assets::find(symbol).ok_or_else(|| {
        invalid(format!(
            "`{symbol}` is not a listed symbol; `paddock price list` shows them"
        ))
    })?;
    if price <= Decimal::ZERO {
        return Err(invalid(
            "a price must be more than 0; give a positive amount",
        ));
    }
    paddock_core::money::to_nanos(price)
        .map_err(|e| invalid(format!("{e}; give at most 9 decimals")))?;
    store.set_price(&asset.symbol, price, now).await?;
    Ok(PriceView {
        symbol: asset.symbol.to_string(),
        price: price.normalize().to_string(),
        source: "set",
        updated_at: Some(now),
    })
}
