//! Token introspection (RFC 7662): who may ask about a token, and when the answer is
//! `active`. The wire format is the binary's; the rule is here, beside the Bearer rule
//! it reuses ([`TokenGrant::check_usable`]), so that the API gateway and the Trading
//! API can never disagree about a token.

use chrono::{DateTime, Utc};

use crate::ids::{BrokerId, ClientId};
use crate::oauth::grant::TokenGrant;

/// The authenticated caller of the introspection endpoint (RFC 7662 §2.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Introspector {
    /// An OAuth client, asking about the tokens it holds.
    Client(ClientId),
    /// A broker (its API gateway), asking about the tokens of the clients it owns.
    Broker(BrokerId),
}

impl Introspector {
    /// Whether this caller may learn anything about `grant`. RFC 7662 §4 warns that an
    /// open introspection endpoint lets anyone probe for valid tokens; here a client
    /// learns only about tokens issued to itself, and a broker about tokens of its own
    /// clients, exactly as the Broker API scopes a broker to its own clients (SPEC §3.1).
    pub fn may_see(&self, grant: &TokenGrant) -> bool {
        match self {
            Introspector::Client(client) => grant.client_id == *client,
            Introspector::Broker(broker) => grant.client_broker_id == *broker,
        }
    }
}

impl TokenGrant {
    /// RFC 7662 §2.2's `active` for this caller at `now`: the token is one the caller
    /// may see, and the Trading API would honour it (not revoked, not expired, its
    /// client enabled). Anything else is answered as if the token did not exist.
    pub fn is_active_for(&self, caller: &Introspector, now: DateTime<Utc>) -> bool {
        caller.may_see(self) && self.check_usable(now).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::env::Env;
    use crate::ids::{AccountId, GrantId, UserId};
    use crate::oauth::grant::AccountBinding;
    use crate::oauth::scope::ScopeSet;

    fn grant(client: &ClientId, broker: BrokerId) -> TokenGrant {
        let now = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        TokenGrant {
            id: GrantId::random(),
            client_id: client.clone(),
            client_broker_id: broker,
            client_active: true,
            user_id: UserId::random(),
            scopes: ScopeSet::READ_ONLY,
            accounts: AccountBinding::single(Env::Paper, AccountId::random()),
            created_at: now,
            expires_at: Some(now + Duration::hours(1)),
            last_used_at: None,
            revoked_at: None,
        }
    }

    #[test]
    fn a_client_sees_its_own_tokens_and_a_broker_its_clients_tokens() {
        let client = ClientId::parse("7a3c52a910e1dc2abbb14da2b6b8e711").unwrap();
        let other = ClientId::parse("00000000000000000000000000000000").unwrap();
        let broker = BrokerId::random();
        let g = grant(&client, broker);
        let now = g.created_at;
        assert!(g.is_active_for(&Introspector::Client(client), now));
        assert!(g.is_active_for(&Introspector::Broker(broker), now));
        assert!(!g.is_active_for(&Introspector::Client(other), now));
        assert!(!g.is_active_for(&Introspector::Broker(BrokerId::random()), now));
    }

    #[test]
    fn an_unusable_token_is_inactive_even_for_its_owner() {
        let client = ClientId::parse("7a3c52a910e1dc2abbb14da2b6b8e711").unwrap();
        let broker = BrokerId::random();
        let caller = Introspector::Broker(broker);
        let g = grant(&client, broker);
        let expiry = g.expires_at.unwrap();
        assert!(!g.is_active_for(&caller, expiry));
        let revoked = TokenGrant {
            revoked_at: Some(g.created_at),
            ..g.clone()
        };
        assert!(!revoked.is_active_for(&caller, g.created_at));
        let disabled = TokenGrant {
            client_active: false,
            ..g.clone()
        };
        assert!(!disabled.is_active_for(&caller, g.created_at));
    }
}
