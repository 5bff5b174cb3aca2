//! What an authorization code or an access token grants, and the rules for
//! redeeming a code and for honouring a token.

use chrono::{DateTime, Utc};

use crate::env::Env;
use crate::ids::{AccountId, BrokerId, ClientId, GrantId, UserId};
use crate::oauth::error::OAuthError;
use crate::oauth::pkce::{CodeChallenge, CodeVerifier};
use crate::oauth::scope::ScopeSet;
use crate::secret::Digest;
use crate::store::{CodeState, GrantTx, Store, StoreResult};

/// The accounts a grant reaches: at most one live and one paper account, at least one
/// of the two (seed 002: "one live account, one paper account, or one of each").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AccountBinding {
    live: Option<AccountId>,
    paper: Option<AccountId>,
}

impl AccountBinding {
    /// `None` when neither account is given: a grant must reach something.
    pub fn new(live: Option<AccountId>, paper: Option<AccountId>) -> Option<Self> {
        (live.is_some() || paper.is_some()).then_some(Self { live, paper })
    }

    pub fn single(env: Env, account: AccountId) -> Self {
        match env {
            Env::Live => Self {
                live: Some(account),
                paper: None,
            },
            Env::Paper => Self {
                live: None,
                paper: Some(account),
            },
        }
    }

    pub fn live(&self) -> Option<AccountId> {
        self.live
    }

    pub fn paper(&self) -> Option<AccountId> {
        self.paper
    }

    /// The account this grant reaches on the API base of `env`.
    pub fn for_env(&self, env: Env) -> Option<AccountId> {
        match env {
            Env::Live => self.live,
            Env::Paper => self.paper,
        }
    }
}

/// What an authorization code, once redeemed, turns into.
#[derive(Clone, Debug)]
pub struct CodeGrant {
    pub client_id: ClientId,
    pub user_id: UserId,
    /// The redirect URI exactly as the authorization request sent it.
    pub redirect_uri: String,
    pub scopes: ScopeSet,
    pub accounts: AccountBinding,
    pub code_challenge: Option<CodeChallenge>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// The token request's claims about the code it presents.
pub struct RedemptionRequest<'a> {
    pub client_id: &'a ClientId,
    pub redirect_uri: &'a str,
    pub code_verifier: Option<&'a CodeVerifier>,
}

impl CodeGrant {
    /// RFC 6749 §4.1.3 and RFC 7636 §4.6: the code must be fresh, issued to this
    /// client for this redirect URI, and, when a challenge was sent, the verifier must
    /// match it; a verifier for a code without a challenge is a downgrade attempt
    /// (RFC 9700 §2.1.1) and is refused.
    pub fn check_redemption(
        &self,
        request: &RedemptionRequest<'_>,
        now: DateTime<Utc>,
    ) -> Result<(), OAuthError> {
        if now >= self.expires_at {
            return Err(OAuthError::invalid_grant(
                "the authorization code has expired; start the authorization again",
            ));
        }
        if &self.client_id != request.client_id {
            return Err(OAuthError::invalid_grant(
                "the authorization code was issued to another client",
            ));
        }
        if self.redirect_uri != request.redirect_uri {
            return Err(OAuthError::invalid_grant(
                "redirect_uri does not match the one of the authorization request",
            ));
        }
        match (&self.code_challenge, request.code_verifier) {
            (None, None) => Ok(()),
            (Some(_), None) => Err(OAuthError::invalid_grant(
                "code_verifier is required: the authorization request sent a code_challenge",
            )),
            (None, Some(_)) => Err(OAuthError::invalid_grant(
                "code_verifier was sent, but the authorization request had no code_challenge",
            )),
            (Some(challenge), Some(verifier)) => {
                if challenge.is_satisfied_by(verifier) {
                    Ok(())
                } else {
                    Err(OAuthError::invalid_grant(
                        "code_verifier does not match the code_challenge",
                    ))
                }
            }
        }
    }
}

/// The parts of a new access token that do not come from the grant.
#[derive(Clone, Debug)]
pub struct TokenIssue {
    pub id: GrantId,
    pub digest: Digest,
    pub issued_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
}

impl CodeGrant {
    /// The access token this code turns into.
    pub fn token(&self, issue: &TokenIssue) -> NewToken {
        NewToken {
            id: issue.id,
            digest: issue.digest,
            client_id: self.client_id.clone(),
            user_id: self.user_id,
            scopes: self.scopes,
            accounts: self.accounts,
            created_at: issue.issued_at,
            expires_at: issue.expires_at,
        }
    }
}

/// An access token about to be stored.
#[derive(Clone, Debug)]
pub struct NewToken {
    pub id: GrantId,
    pub digest: Digest,
    pub client_id: ClientId,
    pub user_id: UserId,
    pub scopes: ScopeSet,
    pub accounts: AccountBinding,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// A stored access token with what the Bearer check needs of its client.
#[derive(Clone, Debug)]
pub struct TokenGrant {
    pub id: GrantId,
    pub client_id: ClientId,
    pub client_broker_id: BrokerId,
    pub client_active: bool,
    pub user_id: UserId,
    pub scopes: ScopeSet,
    pub accounts: AccountBinding,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A live grant as its user sees it on the connected-apps page.
#[derive(Clone, Debug)]
pub struct GrantSummary {
    pub id: GrantId,
    pub client_id: ClientId,
    pub client_name: String,
    pub scopes: ScopeSet,
    pub accounts: AccountBinding,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
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
    /// (RFC 9700 §4.5): these are their digests.
    Replayed(Vec<Digest>),
    /// No such code.
    Unknown,
}

/// A code presented at the token endpoint, with what its redemption is checked
/// against, owned: a backend may redeem it on another task, many at once.
#[derive(Clone)]
pub struct PresentedCode {
    pub code: Digest,
    pub client_id: ClientId,
    pub redirect_uri: String,
    pub code_verifier: Option<CodeVerifier>,
    pub issue: TokenIssue,
}

impl PresentedCode {
    /// What the fresh code `grant` turns into: the token to store if the request
    /// passes [`CodeGrant::check_redemption`], else the refusal.
    pub fn decide(&self, grant: &CodeGrant) -> Result<NewToken, OAuthError> {
        let request = RedemptionRequest {
            client_id: &self.client_id,
            redirect_uri: &self.redirect_uri,
            code_verifier: self.code_verifier.as_ref(),
        };
        grant.check_redemption(&request, self.issue.issued_at)?;
        Ok(grant.token(&self.issue))
    }
}

/// Redeems a code in one unit of work (the store's [`redeem_code`], which
/// does what [`redeem_in`] does).
///
/// [`redeem_code`]: crate::store::GrantStore::redeem_code
pub async fn redeem(
    store: &dyn Store,
    code: &Digest,
    request: &RedemptionRequest<'_>,
    issue: &TokenIssue,
) -> StoreResult<Redemption> {
    store
        .redeem_code(PresentedCode {
            code: *code,
            client_id: request.client_id.clone(),
            redirect_uri: request.redirect_uri.to_owned(),
            code_verifier: request.code_verifier.cloned(),
            issue: issue.clone(),
        })
        .await
}

/// Redeems a code in the unit of work `tx`: spends it and, if
/// [`PresentedCode::decide`] allows, stores the token it grants; presenting a spent
/// code revokes every token issued from it. Of concurrent redemptions exactly one
/// sees a fresh code.
pub async fn redeem_in<T: GrantTx + ?Sized>(
    tx: &mut T,
    presented: &PresentedCode,
) -> StoreResult<Redemption> {
    let (code, now) = (&presented.code, presented.issue.issued_at);
    Ok(match tx.spend_code(code, &presented.issue).await? {
        CodeState::Fresh(grant) => match presented.decide(&grant) {
            Ok(token) => {
                tx.insert_token(&token).await?;
                Redemption::Issued(grant)
            }
            Err(refusal) => Redemption::Refused(refusal),
        },
        CodeState::Spent => Redemption::Replayed(tx.revoke_tokens_of_code(code, now).await?),
        CodeState::Unknown => Redemption::Unknown,
    })
}

/// Why a stored token is not honoured.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TokenRefusal {
    #[error("the access token has been revoked")]
    Revoked,
    #[error("the access token has expired")]
    Expired,
    #[error("the app this access token was issued to is disabled")]
    ClientDisabled,
}

impl TokenGrant {
    pub fn check_usable(&self, now: DateTime<Utc>) -> Result<(), TokenRefusal> {
        if self.revoked_at.is_some() {
            Err(TokenRefusal::Revoked)
        } else if self.expires_at.is_some_and(|at| now >= at) {
            Err(TokenRefusal::Expired)
        } else if !self.client_active {
            Err(TokenRefusal::ClientDisabled)
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    fn grant(challenge: Option<CodeChallenge>) -> CodeGrant {
        let now = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        CodeGrant {
            client_id: ClientId::parse("7a3c52a910e1dc2abbb14da2b6b8e711").unwrap(),
            user_id: UserId::random(),
            redirect_uri: "http://localhost/cb".into(),
            scopes: ScopeSet::READ_ONLY,
            accounts: AccountBinding::single(Env::Paper, AccountId::random()),
            code_challenge: challenge,
            created_at: now,
            expires_at: now + Duration::minutes(10),
        }
    }

    #[test]
    fn redemption_checks_client_redirect_expiry_and_pkce() {
        let verifier = CodeVerifier::parse(&"v".repeat(43)).unwrap();
        let g = grant(Some(CodeChallenge::from_verifier(&verifier)));
        let client = g.client_id.clone();
        let other = ClientId::parse("00000000000000000000000000000000").unwrap();
        let ok = |v| RedemptionRequest {
            client_id: &client,
            redirect_uri: "http://localhost/cb",
            code_verifier: v,
        };
        let now = g.created_at;
        assert!(g.check_redemption(&ok(Some(&verifier)), now).is_ok());
        assert!(g.check_redemption(&ok(None), now).is_err());
        let wrong = CodeVerifier::parse(&"w".repeat(43)).unwrap();
        assert!(g.check_redemption(&ok(Some(&wrong)), now).is_err());
        let later = g.expires_at;
        assert!(g.check_redemption(&ok(Some(&verifier)), later).is_err());
        let by_other = RedemptionRequest {
            client_id: &other,
            ..ok(Some(&verifier))
        };
        assert!(g.check_redemption(&by_other, now).is_err());
        let other_redirect = RedemptionRequest {
            redirect_uri: "http://localhost/other",
            ..ok(Some(&verifier))
        };
        assert!(g.check_redemption(&other_redirect, now).is_err());
    }

    #[test]
    fn a_verifier_without_a_challenge_is_refused() {
        let g = grant(None);
        let verifier = CodeVerifier::parse(&"v".repeat(43)).unwrap();
        let request = RedemptionRequest {
            client_id: &g.client_id,
            redirect_uri: "http://localhost/cb",
            code_verifier: Some(&verifier),
        };
        assert!(g.check_redemption(&request, g.created_at).is_err());
    }

    #[test]
    fn a_binding_needs_at_least_one_account() {
        assert!(AccountBinding::new(None, None).is_none());
        let a = AccountId::random();
        let b = AccountBinding::new(Some(a), None).unwrap();
        assert_eq!(b.for_env(Env::Live), Some(a));
        assert_eq!(b.for_env(Env::Paper), None);
    }
}
