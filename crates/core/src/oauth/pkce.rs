//! Proof Key for Code Exchange (RFC 7636), S256 only: `plain` offers no protection
//! against a stolen authorization request (RFC 9700 §2.1.1).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq;

/// A `code_challenge` sent with the authorization request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodeChallenge(String);

/// A `code_verifier` sent with the token request.
#[derive(Clone, PartialEq, Eq)]
pub struct CodeVerifier(String);

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum PkceError {
    #[error("code_challenge_method must be S256; `plain` is not accepted")]
    PlainMethod,
    #[error("code_challenge_method must be S256")]
    UnknownMethod,
    #[error("code_challenge_method was sent without a code_challenge")]
    MethodWithoutChallenge,
    #[error(
        "code_challenge must be BASE64URL(SHA256(code_verifier)): 43 characters of A-Z, a-z, 0-9, '-', '_'"
    )]
    MalformedChallenge,
    #[error("code_verifier must be 43 to 128 characters of A-Z, a-z, 0-9, '-', '.', '_', '~'")]
    MalformedVerifier,
}

/// RFC 7636 §4.1: `code-verifier = 43*128unreserved`.
fn is_unreserved_43_to_128(s: &str) -> bool {
    (43..=128).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

impl CodeChallenge {
    /// Parses the pair of authorization-request parameters. No challenge and no method
    /// means the client does not use PKCE; a method defaults to S256 only when sent.
    pub fn from_request(
        challenge: Option<&str>,
        method: Option<&str>,
    ) -> Result<Option<Self>, PkceError> {
        match (challenge, method) {
            (None, None) => Ok(None),
            (None, Some(_)) => Err(PkceError::MethodWithoutChallenge),
            // RFC 7636 §4.3 defaults a missing method to `plain`, which is refused.
            (Some(_), None) | (Some(_), Some("plain")) => Err(PkceError::PlainMethod),
            (Some(_), Some(m)) if m != "S256" => Err(PkceError::UnknownMethod),
            (Some(c), Some(_)) => Self::parse(c).map(Some),
        }
    }

    /// An S256 challenge is a SHA-256 digest in unpadded base64url: exactly 43
    /// characters. Anything else can never match a verifier, so it is refused at the
    /// authorization request rather than after the user has consented.
    pub fn parse(s: &str) -> Result<Self, PkceError> {
        let s256 = s.len() == 43
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'));
        if s256 {
            Ok(Self(s.to_owned()))
        } else {
            Err(PkceError::MalformedChallenge)
        }
    }

    pub fn from_verifier(verifier: &CodeVerifier) -> Self {
        Self(URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.0.as_bytes())))
    }

    /// `BASE64URL(SHA256(verifier)) == challenge`, compared in constant time.
    pub fn is_satisfied_by(&self, verifier: &CodeVerifier) -> bool {
        let expected = Self::from_verifier(verifier);
        expected.0.as_bytes().ct_eq(self.0.as_bytes()).into()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl CodeVerifier {
    pub fn parse(s: &str) -> Result<Self, PkceError> {
        if is_unreserved_43_to_128(s) {
            Ok(Self(s.to_owned()))
        } else {
            Err(PkceError::MalformedVerifier)
        }
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for CodeVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CodeVerifier([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_a_challenge_computed_by_another_implementation() {
        // Computed with Python: base64.urlsafe_b64encode(hashlib.sha256(v).digest()).
        let verifier =
            CodeVerifier::parse("dBjftJeZ4CVP-mB92K9uhvFKm4lkQ43NwJUhAaMrjbHj0").unwrap();
        let challenge =
            CodeChallenge::parse("_sc8dag_km-0C56-Y9DPn7LEz3xUk7as86GZQPpbCV4").unwrap();
        assert!(challenge.is_satisfied_by(&verifier));
        let other = CodeVerifier::parse(&"a".repeat(43)).unwrap();
        assert!(!challenge.is_satisfied_by(&other));
    }

    #[test]
    fn plain_and_unknown_methods_are_refused() {
        let c = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert_eq!(
            CodeChallenge::from_request(Some(c), Some("plain")),
            Err(PkceError::PlainMethod)
        );
        assert_eq!(
            CodeChallenge::from_request(Some(c), None),
            Err(PkceError::PlainMethod)
        );
        assert_eq!(
            CodeChallenge::from_request(Some(c), Some("s256")),
            Err(PkceError::UnknownMethod)
        );
        assert_eq!(CodeChallenge::from_request(None, None), Ok(None));
        assert!(
            CodeChallenge::from_request(Some(c), Some("S256"))
                .unwrap()
                .is_some()
        );
    }

    #[test]
    fn verifier_length_and_alphabet_are_checked() {
        assert!(CodeVerifier::parse(&"a".repeat(42)).is_err());
        assert!(CodeVerifier::parse(&"a".repeat(129)).is_err());
        assert!(CodeVerifier::parse(&format!("{}+", "a".repeat(43))).is_err());
    }

    #[test]
    fn a_challenge_is_exactly_an_s256_digest() {
        assert!(CodeChallenge::parse(&"a".repeat(43)).is_ok());
        assert!(CodeChallenge::parse(&"a".repeat(44)).is_err());
        assert!(CodeChallenge::parse(&"a".repeat(64)).is_err());
        assert!(CodeChallenge::parse(&format!("{}~", "a".repeat(42))).is_err());
    }
}
