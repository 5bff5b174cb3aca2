//! Typed identifiers: a `ClientId` cannot be passed where an `AccountId` is meant, and
//! none can hold a malformed value.

use std::fmt;
use std::str::FromStr;

use rand::CryptoRng;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            pub fn random() -> Self {
                Self(Uuid::new_v4())
            }

            /// A new id that sorts after those made before it (a UUIDv7: the time in
            /// milliseconds, then 74 random bits). Ids of rows written in bulk (tokens,
            /// orders) are then appended to their index, where random ones would
            /// touch a page of it each.
            pub fn timed() -> Self {
                Self(Uuid::now_v7())
            }

            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            pub const fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

uuid_id!(
    /// A broker: a partner that calls the Broker API.
    BrokerId
);
uuid_id!(
    /// A person who logs in to the authorization page.
    UserId
);
uuid_id!(
    /// A live or paper brokerage account.
    AccountId
);
uuid_id!(
    /// An order of the paper brokerage.
    OrderId
);
uuid_id!(
    /// A watchlist of an account.
    WatchlistId
);
uuid_id!(
    /// An access token's public handle: what the connected-apps page shows and revokes,
    /// so that the token itself never leaves the app that holds it.
    GrantId
);

/// An OAuth client's public identifier: 32 lowercase hex characters.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ClientId(String);

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("client_id must be 32 lowercase hex characters")]
pub struct InvalidClientId;

impl ClientId {
    pub fn generate(rng: &mut (impl CryptoRng + ?Sized)) -> Self {
        let mut bytes = [0u8; 16];
        rng.fill_bytes(&mut bytes);
        Self(hex::encode(bytes))
    }

    pub fn parse(s: &str) -> Result<Self, InvalidClientId> {
        if s.len() == 32 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            Ok(Self(s.to_owned()))
        } else {
            Err(InvalidClientId)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for ClientId {
    type Error = InvalidClientId;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<ClientId> for String {
    fn from(id: ClientId) -> Self {
        id.0
    }
}

/// A broker's public key id, the user part of its HTTP Basic credentials:
/// `BK` and 18 characters of `A-Z0-9`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct BrokerKeyId(String);

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("a broker key id is `BK` followed by 18 characters of A-Z and 0-9")]
pub struct InvalidBrokerKeyId;

impl BrokerKeyId {
    const ALPHABET: &'static [u8; 36] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

    pub fn generate(rng: &mut (impl CryptoRng + ?Sized)) -> Self {
        let mut id = String::from("BK");
        for _ in 0..18 {
            let i = (rng.next_u32() % 36) as usize;
            id.push(char::from(Self::ALPHABET[i]));
        }
        Self(id)
    }

    pub fn parse(s: &str) -> Result<Self, InvalidBrokerKeyId> {
        let valid =
            s.len() == 20 && s.starts_with("BK") && s.bytes().all(|b| Self::ALPHABET.contains(&b));
        if valid {
            Ok(Self(s.to_owned()))
        } else {
            Err(InvalidBrokerKeyId)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for BrokerKeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_client_ids_parse() {
        let id = ClientId::generate(&mut rand::rng());
        assert_eq!(ClientId::parse(id.as_str()), Ok(id));
    }

    #[test]
    fn client_id_rejects_uppercase_and_wrong_length() {
        assert!(ClientId::parse("7A3C52A910E1DC2ABBB14DA2B6B8E711").is_err());
        assert!(ClientId::parse("7a3c52a910e1dc2abbb14da2b6b8e71").is_err());
        assert!(ClientId::parse("7a3c52a910e1dc2abbb14da2b6b8e711").is_ok());
    }

    #[test]
    fn generated_broker_key_ids_parse() {
        let id = BrokerKeyId::generate(&mut rand::rng());
        assert_eq!(BrokerKeyId::parse(id.as_str()), Ok(id));
    }
}
