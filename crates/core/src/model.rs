//! The records paddock keeps (SPEC §1).

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use rand::CryptoRng;
use rust_decimal::Decimal;

use crate::env::Env;
use crate::ids::{AccountId, BrokerId, BrokerKeyId, ClientId, UserId};
use crate::oauth::redirect::RedirectUri;
use crate::password::{Email, PasswordHash};
use crate::secret::{BrokerSecret, ClientSecret, Digest};

/// A partner that calls the Broker API and owns accounts and OAuth clients.
#[derive(Clone, Debug)]
pub struct Broker {
    pub id: BrokerId,
    pub name: String,
    pub key_id: BrokerKeyId,
    pub secret_digest: Digest,
    pub created_at: DateTime<Utc>,
}

impl Broker {
    pub fn verify_secret(&self, presented: &BrokerSecret) -> bool {
        self.secret_digest.ct_eq(&presented.digest())
    }
}

/// A person who logs in to the authorization page.
#[derive(Clone, Debug)]
pub struct User {
    pub id: UserId,
    pub email: Email,
    pub password_hash: PasswordHash,
    pub created_at: DateTime<Utc>,
}

/// A live or paper brokerage account of one user, held at one broker.
#[derive(Clone, Debug)]
pub struct Account {
    pub id: AccountId,
    pub user_id: UserId,
    pub broker_id: BrokerId,
    pub env: Env,
    pub account_number: String,
    pub cash: Decimal,
    pub created_at: DateTime<Utc>,
}

/// Generates an account number: `PA` and ten characters for paper (as Alpaca's paper
/// accounts), nine digits for live.
pub fn generate_account_number(env: Env, rng: &mut (impl CryptoRng + ?Sized)) -> String {
    const ALNUM: &[u8; 36] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    match env {
        Env::Paper => {
            let tail: String = (0..10)
                .map(|_| char::from(ALNUM[(rng.next_u32() % 36) as usize]))
                .collect();
            format!("PA{tail}")
        }
        Env::Live => format!("{}", 100_000_000 + rng.next_u32() % 900_000_000),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientStatus {
    Active,
    Disabled,
}

impl ClientStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            ClientStatus::Active => "ACTIVE",
            ClientStatus::Disabled => "DISABLED",
        }
    }
}

impl fmt::Display for ClientStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
#[error("client status must be ACTIVE or DISABLED")]
pub struct InvalidClientStatus;

impl FromStr for ClientStatus {
    type Err = InvalidClientStatus;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "ACTIVE" => Ok(ClientStatus::Active),
            "DISABLED" => Ok(ClientStatus::Disabled),
            _ => Err(InvalidClientStatus),
        }
    }
}

/// A third-party app registered with a broker.
#[derive(Clone, Debug)]
pub struct Client {
    pub client_id: ClientId,
    pub broker_id: BrokerId,
    pub secret_digest: Digest,
    pub name: String,
    pub description: String,
    pub url: String,
    pub terms_of_use: String,
    pub privacy_policy: String,
    pub status: ClientStatus,
    pub redirect_uris: Vec<RedirectUri>,
    pub live_trading_approved: bool,
    pub created_at: DateTime<Utc>,
}

impl Client {
    pub fn is_active(&self) -> bool {
        self.status == ClientStatus::Active
    }

    pub fn verify_secret(&self, presented: &ClientSecret) -> bool {
        self.secret_digest.ct_eq(&presented.digest())
    }

    /// The registered redirect URI that `requested` matches, if any.
    pub fn redirect_uri_for(&self, requested: &str) -> Option<&RedirectUri> {
        crate::oauth::redirect::find_match(&self.redirect_uris, requested)
    }

    /// Whether this client may be granted an account of `env` (SPEC §2).
    pub fn may_access(&self, env: Env) -> bool {
        env == Env::Paper || self.live_trading_approved
    }
}

/// A client for unit tests: active, registered with `redirect_uris`, at `broker`.
#[cfg(test)]
pub(crate) fn test_client(
    broker: BrokerId,
    redirect_uris: &[&str],
    live_trading_approved: bool,
) -> Client {
    Client {
        client_id: ClientId::parse("7a3c52a910e1dc2abbb14da2b6b8e711").unwrap(),
        broker_id: broker,
        secret_digest: Digest::of("x"),
        name: "App".into(),
        description: String::new(),
        url: String::new(),
        terms_of_use: String::new(),
        privacy_policy: String::new(),
        status: ClientStatus::Active,
        redirect_uris: redirect_uris
            .iter()
            .map(|u| RedirectUri::parse(u).unwrap())
            .collect(),
        live_trading_approved,
        created_at: DateTime::from_timestamp(0, 0).unwrap(),
    }
}
