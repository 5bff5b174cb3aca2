//! User credentials: e-mail addresses and argon2id password hashes.

use std::fmt;

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

/// A user's login: trimmed, lower-cased, one `@` with text on both sides.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Email(String);

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an e-mail address")]
pub struct InvalidEmail(String);

impl Email {
    pub fn parse(s: &str) -> Result<Self, InvalidEmail> {
        let s = s.trim().to_lowercase();
        let valid = s.len() <= 254
            && s.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty() && !domain.is_empty() && !domain.contains('@')
            })
            && !s.chars().any(|c| c.is_whitespace() || c.is_control());
        if valid {
            Ok(Self(s))
        } else {
            let shown: String = s.chars().take(64).collect();
            Err(InvalidEmail(shown))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A password as typed; never printed.
pub struct Password(String);

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum WeakPassword {
    #[error("a password needs at least {MIN_PASSWORD_LEN} characters")]
    TooShort,
    #[error("a password has at most {MAX_PASSWORD_LEN} characters")]
    TooLong,
}

const MIN_PASSWORD_LEN: usize = 8;
/// Bounds the argon2 work one login attempt can ask for.
pub const MAX_PASSWORD_LEN: usize = 1024;

impl Password {
    /// A new password, checked against the length policy.
    pub fn new(s: String) -> Result<Self, WeakPassword> {
        match s.chars().count() {
            n if n < MIN_PASSWORD_LEN => Err(WeakPassword::TooShort),
            n if n > MAX_PASSWORD_LEN => Err(WeakPassword::TooLong),
            _ => Ok(Self(s)),
        }
    }

    /// A password presented at login: no policy, only a bound on its length.
    pub fn presented(s: String) -> Option<Self> {
        (s.len() <= MAX_PASSWORD_LEN * 4).then_some(Self(s))
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password([redacted])")
    }
}

/// An argon2id PHC string (`$argon2id$v=19$…`).
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

#[derive(Debug, thiserror::Error)]
#[error("could not hash the password: {0}")]
pub struct HashError(String);

impl PasswordHash {
    /// Hashes with argon2id's recommended parameters and a fresh random salt.
    /// Deliberately slow (tens of milliseconds): call it off the async runtime.
    pub fn new(password: &Password) -> Result<Self, HashError> {
        let hash = Argon2::default()
            .hash_password(password.0.as_bytes())
            .map_err(|e| HashError(e.to_string()))?;
        Ok(Self(hash.to_string()))
    }

    pub fn from_stored(phc: String) -> Self {
        Self(phc)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Constant-time verification (argon2 compares its output in constant time).
    pub fn verify(&self, password: &Password) -> bool {
        Argon2::default()
            .verify_password(password.0.as_bytes(), self.0.as_str())
            .is_ok()
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_only_the_same_password() {
        let pw = Password::new("correct horse".into()).unwrap();
        let hash = PasswordHash::new(&pw).unwrap();
        assert!(hash.as_str().starts_with("$argon2id$"));
        assert!(hash.verify(&pw));
        assert!(!hash.verify(&Password::new("wrong horse".into()).unwrap()));
    }

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            Email::parse(" Demo@Example.COM ").unwrap().as_str(),
            "demo@example.com"
        );
        assert!(Email::parse("no-at-sign").is_err());
        assert!(Email::parse("a@b@c").is_err());
        assert!(Email::parse("a b@c").is_err());
    }

    #[test]
    fn short_passwords_are_refused() {
        assert_eq!(
            Password::new("short".into()).unwrap_err(),
            WeakPassword::TooShort
        );
    }
}
