//! Scopes (SPEC §2): `account:write`, `trading`, `data`; read-only access is implied.

use std::fmt;

/// A scope beyond the read-only access every grant carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Account configuration and watchlist changes.
    AccountWrite,
    /// Placing, replacing and cancelling orders; closing positions.
    Trading,
    /// The Data API.
    Data,
}

impl Scope {
    /// Every known scope, in the order a granted scope string lists them.
    pub const ALL: [Scope; 3] = [Scope::AccountWrite, Scope::Trading, Scope::Data];

    pub const fn as_str(self) -> &'static str {
        match self {
            Scope::AccountWrite => "account:write",
            Scope::Trading => "trading",
            Scope::Data => "data",
        }
    }

    /// What the scope lets an app do, in plain words for the consent page.
    pub const fn describe(self) -> &'static str {
        match self {
            Scope::AccountWrite => "Change your account configuration and watchlists",
            Scope::Trading => "Place, change and cancel orders, and close positions",
            Scope::Data => "Read market data through the Data API",
        }
    }

    const fn bit(self) -> u8 {
        match self {
            Scope::AccountWrite => 1,
            Scope::Trading => 2,
            Scope::Data => 4,
        }
    }
}

/// The scopes of a request or grant. The empty set is read-only access.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct ScopeSet(u8);

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum InvalidScope {
    #[error("unknown scope `{0}`; known scopes are account:write, trading, data and general")]
    Unknown(String),
    #[error("scope is too long")]
    TooLong,
}

/// Longer than every known scope together, repeated; bounds hostile input.
const MAX_SCOPE_LEN: usize = 256;

impl ScopeSet {
    pub const READ_ONLY: ScopeSet = ScopeSet(0);

    /// Parses a space-delimited scope string (RFC 6749 §3.3). `general` and an empty
    /// string both mean read-only access; repeated or extra spaces are tolerated.
    pub fn parse(s: &str) -> Result<Self, InvalidScope> {
        if s.len() > MAX_SCOPE_LEN {
            return Err(InvalidScope::TooLong);
        }
        let mut set = ScopeSet::READ_ONLY;
        for token in s.split(' ').filter(|t| !t.is_empty()) {
            let scope = match token {
                "account:write" => Scope::AccountWrite,
                "trading" => Scope::Trading,
                "data" => Scope::Data,
                "general" => continue,
                other => {
                    let shown: String = other.chars().take(64).collect();
                    return Err(InvalidScope::Unknown(shown));
                }
            };
            set = set.with(scope);
        }
        Ok(set)
    }

    pub const fn with(self, scope: Scope) -> Self {
        ScopeSet(self.0 | scope.bit())
    }

    pub const fn contains(self, scope: Scope) -> bool {
        self.0 & scope.bit() != 0
    }

    pub const fn is_read_only(self) -> bool {
        self.0 == 0
    }

    pub fn iter(self) -> impl Iterator<Item = Scope> {
        Scope::ALL.into_iter().filter(move |s| self.contains(*s))
    }
}

/// The granted scope string: known scopes in the order `account:write trading data`,
/// the empty string for read-only.
impl fmt::Display for ScopeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, scope) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            f.write_str(scope.as_str())?;
        }
        Ok(())
    }
}

impl fmt::Debug for ScopeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ScopeSet({:?})", self.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn general_and_empty_mean_read_only() {
        assert_eq!(ScopeSet::parse("general").unwrap().to_string(), "");
        assert_eq!(ScopeSet::parse("").unwrap(), ScopeSet::READ_ONLY);
    }

    #[test]
    fn granted_string_is_canonical() {
        let s = ScopeSet::parse("data  trading general account:write trading").unwrap();
        assert_eq!(s.to_string(), "account:write trading data");
    }

    #[test]
    fn unknown_scope_is_rejected() {
        assert_eq!(
            ScopeSet::parse("trading admin"),
            Err(InvalidScope::Unknown("admin".into()))
        );
        // Only the space separates scopes (RFC 6749 §3.3).
        assert!(ScopeSet::parse("trading\tdata").is_err());
        assert!(ScopeSet::parse("Trading").is_err());
    }
}
