//! Secrets: client and broker secrets, access tokens and authorization codes.
//!
//! Each is a newtype whose `Debug` prints `[redacted]`, so a secret cannot reach a log
//! by accident. The store keeps only a [`Digest`] of each (built on SHA-256: every
//! secret here carries at least 128 random bits, so a fast hash is enough and a lookup
//! by digest is a single indexed read). Tokens and codes carry a recognisable prefix so
//! that a leaked one can be found by secret scanners.
//!
//! Tokens and codes also begin with the time they were made, and so do their digests
//! (see [`Digest::of_stamped`]): the store's index of them then grows at its end, one
//! page written for many new ones, where random digests would each write a page of
//! their own at a random place.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::CryptoRng;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq;

/// What the store keeps instead of a secret: its SHA-256, or for a stamped token or
/// code, its stamp and then most of its SHA-256 ([`Digest::of_stamped`]).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Digest([u8; 32]);

impl Digest {
    pub fn of(secret: &str) -> Self {
        Self(Sha256::digest(secret.as_bytes()).into())
    }

    /// The digest of a stamped secret (`prefix`, then the base64url of an 8-byte
    /// stamp and 32 random bytes): the stamp, then the first 24 bytes of the secret's
    /// SHA-256. Digests of secrets made later sort later, and 192 bits of hash still
    /// stand between a digest and its secret. A secret of the older form (no stamp,
    /// 43 characters after the prefix) keeps its plain SHA-256, as it was stored.
    fn of_stamped(secret: &str, prefix: &str) -> Self {
        let hash = Self::of(secret);
        let Some(bytes) = secret.strip_prefix(prefix).and_then(stamped_bytes) else {
            return hash;
        };
        let mut stamped = [0u8; 32];
        stamped[..STAMP_BYTES].copy_from_slice(&bytes[..STAMP_BYTES]);
        stamped[STAMP_BYTES..].copy_from_slice(&hash.0[..32 - STAMP_BYTES]);
        Self(stamped)
    }

    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        bytes.try_into().ok().map(Self)
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Constant-time comparison, for checking a presented secret against a stored digest.
    pub fn ct_eq(&self, other: &Digest) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Four bytes of hash are enough to tell digests apart in a debug print (the
        // first four of a stamped digest are those of every token of the same minute).
        write!(f, "Digest(…{})", hex::encode(&self.0[28..]))
    }
}

macro_rules! secret_type {
    ($(#[$doc:meta])* $name:ident) => {
        secret_type!($(#[$doc])* $name, Digest::of);
    };
    ($(#[$doc:meta])* $name:ident, $digest:expr) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq)]
        pub struct $name(String);

        impl $name {
            /// The secret itself, for the one place that must show or send it.
            pub fn expose(&self) -> &str {
                &self.0
            }

            pub fn digest(&self) -> Digest {
                ($digest)(self.0.as_str())
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "([redacted])"))
            }
        }
    };
}

secret_type!(
    /// An OAuth client's secret: 40 lowercase hex characters (160 random bits).
    ClientSecret
);
secret_type!(
    /// A broker's secret, the password part of its HTTP Basic credentials:
    /// 40 lowercase hex characters (160 random bits).
    BrokerSecret
);
secret_type!(
    /// A bearer access token: `pdk_at_` and 54 base64url characters (a stamp of the
    /// time it was made, then 256 random bits). Tokens of the older form, 43 characters
    /// without the stamp, are still accepted.
    AccessToken,
    |s: &str| Digest::of_stamped(s, AccessToken::PREFIX)
);
secret_type!(
    /// An authorization code: `pdk_ac_` and 54 base64url characters (a stamp, then 256
    /// random bits); codes of the older 43-character form are still accepted.
    AuthCode,
    |s: &str| Digest::of_stamped(s, AuthCode::PREFIX)
);

secret_type!(
    /// A browser's session cookie after login: 43 base64url characters (256 random bits).
    SessionToken
);
secret_type!(
    /// A browser's CSRF cookie, from which its form tokens are derived: 43 base64url
    /// characters (256 random bits).
    CsrfSeed
);

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("malformed {0}")]
pub struct MalformedSecret(&'static str);

fn random_hex(rng: &mut (impl CryptoRng + ?Sized), len_bytes: usize) -> String {
    let mut bytes = vec![0u8; len_bytes];
    rng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

fn is_lower_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn random_prefixed(rng: &mut (impl CryptoRng + ?Sized), prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rng.fill_bytes(&mut bytes);
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// Bytes of a stamped secret's stamp: the first eight of a UUIDv7 (48 bits of Unix time in
/// milliseconds, the version, then the top of a counter). One process's stamps never go
/// back; those of one millisecond are often equal, which is all the index needs.
const STAMP_BYTES: usize = 8;
/// Bytes of a stamped secret after its prefix: a stamp and 32 random bytes.
const STAMPED_BYTES: usize = STAMP_BYTES + 32;
/// Base64url characters of a stamped secret after its prefix.
const STAMPED_LEN: usize = 54;
/// Base64url characters of a secret of the older form: 32 random bytes.
const UNSTAMPED_LEN: usize = 43;

fn random_stamped(rng: &mut (impl CryptoRng + ?Sized), prefix: &str) -> String {
    let mut bytes = [0u8; STAMPED_BYTES];
    bytes[..STAMP_BYTES].copy_from_slice(&uuid::Uuid::now_v7().as_bytes()[..STAMP_BYTES]);
    rng.fill_bytes(&mut bytes[STAMP_BYTES..]);
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

fn is_base64url(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn is_prefixed(s: &str, prefix: &str) -> bool {
    s.strip_prefix(prefix)
        .is_some_and(|rest| rest.len() == UNSTAMPED_LEN && is_base64url(rest))
}

/// The bytes of a stamped secret's `body` (what follows its prefix), when it is their
/// canonical base64url; decoded in place, since every Bearer check does it.
fn stamped_bytes(body: &str) -> Option<[u8; STAMPED_BYTES]> {
    if body.len() != STAMPED_LEN {
        return None;
    }
    let mut bytes = [0u8; STAMPED_BYTES];
    let decoded = URL_SAFE_NO_PAD.decode_slice(body, &mut bytes);
    (decoded == Ok(STAMPED_BYTES)).then_some(bytes)
}

/// A stamped secret, or one of the older unstamped form.
fn is_stamped_or_older(s: &str, prefix: &str) -> bool {
    is_prefixed(s, prefix) || s.strip_prefix(prefix).and_then(stamped_bytes).is_some()
}

impl ClientSecret {
    pub fn generate(rng: &mut (impl CryptoRng + ?Sized)) -> Self {
        Self(random_hex(rng, 20))
    }

    pub fn parse(s: &str) -> Result<Self, MalformedSecret> {
        is_lower_hex(s, 40)
            .then(|| Self(s.to_owned()))
            .ok_or(MalformedSecret("client_secret"))
    }
}

impl BrokerSecret {
    pub fn generate(rng: &mut (impl CryptoRng + ?Sized)) -> Self {
        Self(random_hex(rng, 20))
    }

    pub fn parse(s: &str) -> Result<Self, MalformedSecret> {
        is_lower_hex(s, 40)
            .then(|| Self(s.to_owned()))
            .ok_or(MalformedSecret("broker secret"))
    }
}

impl AccessToken {
    const PREFIX: &'static str = "pdk_at_";

    pub fn generate(rng: &mut (impl CryptoRng + ?Sized)) -> Self {
        Self(random_stamped(rng, Self::PREFIX))
    }

    pub fn parse(s: &str) -> Result<Self, MalformedSecret> {
        is_stamped_or_older(s, Self::PREFIX)
            .then(|| Self(s.to_owned()))
            .ok_or(MalformedSecret("access token"))
    }
}

impl AuthCode {
    const PREFIX: &'static str = "pdk_ac_";

    pub fn generate(rng: &mut (impl CryptoRng + ?Sized)) -> Self {
        Self(random_stamped(rng, Self::PREFIX))
    }

    pub fn parse(s: &str) -> Result<Self, MalformedSecret> {
        is_stamped_or_older(s, Self::PREFIX)
            .then(|| Self(s.to_owned()))
            .ok_or(MalformedSecret("authorization code"))
    }
}

impl SessionToken {
    pub fn generate(rng: &mut (impl CryptoRng + ?Sized)) -> Self {
        Self(random_prefixed(rng, ""))
    }

    pub fn parse(s: &str) -> Result<Self, MalformedSecret> {
        is_prefixed(s, "")
            .then(|| Self(s.to_owned()))
            .ok_or(MalformedSecret("session cookie"))
    }
}

impl CsrfSeed {
    pub fn generate(rng: &mut (impl CryptoRng + ?Sized)) -> Self {
        Self(random_prefixed(rng, ""))
    }

    pub fn parse(s: &str) -> Result<Self, MalformedSecret> {
        is_prefixed(s, "")
            .then(|| Self(s.to_owned()))
            .ok_or(MalformedSecret("CSRF cookie"))
    }

    /// The token a form of this browser carries: derived from this cookie and, once
    /// signed in, from the session cookie too. A page of another site can neither read
    /// the cookies nor compute this; and one that manages to plant a CSRF cookie of its
    /// own (a sibling subdomain, another port of the same host) still cannot know the
    /// session cookie its victim's forms are bound to.
    pub fn form_token(&self, session: Option<&SessionToken>) -> String {
        let session = session.map_or("", SessionToken::expose);
        let bound = format!("paddock-csrf-v2:{}:{session}", self.0);
        URL_SAFE_NO_PAD.encode(Digest::of(&bound).as_bytes())
    }

    /// Whether `presented` is this browser's form token, compared in constant time.
    pub fn accepts(&self, presented: &str, session: Option<&SessionToken>) -> bool {
        self.form_token(session)
            .as_bytes()
            .ct_eq(presented.as_bytes())
            .into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_secret() {
        let token = AccessToken::generate(&mut rand::rng());
        let printed = format!("{token:?}");
        assert_eq!(printed, "AccessToken([redacted])");
        assert!(!printed.contains(&token.expose()[7..]));
        let secret = ClientSecret::generate(&mut rand::rng());
        assert_eq!(format!("{secret:?}"), "ClientSecret([redacted])");
    }

    #[test]
    fn generated_secrets_parse_back() {
        let rng = &mut rand::rng();
        let t = AccessToken::generate(rng);
        assert_eq!(AccessToken::parse(t.expose()), Ok(t.clone()));
        let c = AuthCode::generate(rng);
        assert_eq!(AuthCode::parse(c.expose()), Ok(c));
        let s = ClientSecret::generate(rng);
        assert_eq!(ClientSecret::parse(s.expose()), Ok(s));
        let b = BrokerSecret::generate(rng);
        assert_eq!(BrokerSecret::parse(b.expose()), Ok(b));
        // A code is not a token, even though both are prefixed base64url.
        assert!(AuthCode::parse(t.expose()).is_err());
    }

    #[test]
    fn a_csrf_seed_accepts_only_its_own_form_token() {
        let rng = &mut rand::rng();
        let seed = CsrfSeed::generate(rng);
        let other = CsrfSeed::generate(rng);
        let session = SessionToken::generate(rng);
        assert!(seed.accepts(&seed.form_token(None), None));
        assert!(!seed.accepts(&other.form_token(None), None));
        assert!(!seed.accepts("", None));
        assert!(!seed.accepts(seed.expose(), None));
        // Once signed in, a token made without the session no longer passes.
        assert!(seed.accepts(&seed.form_token(Some(&session)), Some(&session)));
        assert!(!seed.accepts(&seed.form_token(None), Some(&session)));
        let another = SessionToken::generate(rng);
        assert!(!seed.accepts(&seed.form_token(Some(&another)), Some(&session)));
    }

    #[test]
    fn a_stamped_digest_is_the_stamp_then_most_of_the_hash() {
        let token = AccessToken::generate(&mut rand::rng());
        let body = URL_SAFE_NO_PAD
            .decode(&token.expose()[AccessToken::PREFIX.len()..])
            .expect("base64url");
        assert_eq!(body.len(), STAMPED_BYTES);
        let digest = token.digest();
        assert_eq!(digest.as_bytes()[..STAMP_BYTES], body[..STAMP_BYTES]);
        // The stamp is the time it was made: its first six bytes, in milliseconds.
        let mut millis = [0u8; 8];
        millis[2..].copy_from_slice(&body[..6]);
        let made = u128::from(u64::from_be_bytes(millis));
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis();
        assert!(now.abs_diff(made) < 60_000, "stamped {made}, now {now}");
        assert_eq!(
            digest.as_bytes()[STAMP_BYTES..],
            Digest::of(token.expose()).as_bytes()[..32 - STAMP_BYTES]
        );
    }

    #[test]
    fn secrets_made_later_have_digests_that_sort_later() {
        let rng = &mut rand::rng();
        let mut last = [0u8; STAMP_BYTES];
        for i in 0..2_000 {
            let digest = if i % 2 == 0 {
                AccessToken::generate(rng).digest()
            } else {
                AuthCode::generate(rng).digest()
            };
            let stamp: [u8; STAMP_BYTES] = digest.as_bytes()[..STAMP_BYTES].try_into().unwrap();
            assert!(stamp >= last, "stamp {i} went back");
            last = stamp;
        }
    }

    #[test]
    fn secrets_of_the_older_form_keep_their_plain_digest() {
        let older = format!("{}{}", AccessToken::PREFIX, "A".repeat(UNSTAMPED_LEN));
        let token = AccessToken::parse(&older).expect("still accepted");
        assert_eq!(token.digest(), Digest::of(&older));
        let older = format!("{}{}", AuthCode::PREFIX, "b".repeat(UNSTAMPED_LEN));
        assert_eq!(
            AuthCode::parse(&older).unwrap().digest(),
            Digest::of(&older)
        );
    }

    #[test]
    fn only_the_two_lengths_parse_and_the_stamped_one_only_canonical() {
        let ok = AccessToken::generate(&mut rand::rng());
        let body = &ok.expose()[AccessToken::PREFIX.len()..];
        for bad in [
            format!("{}{}", AccessToken::PREFIX, &body[1..]),
            format!("{}{body}A", AccessToken::PREFIX),
            // The last character of 40 bytes carries 2 bits; others set are not canonical.
            format!("{}{}B", AccessToken::PREFIX, &body[..STAMPED_LEN - 1]),
            format!("{}{}=", AccessToken::PREFIX, &body[..STAMPED_LEN - 1]),
            format!("{}{}", AuthCode::PREFIX, body),
        ] {
            assert!(AccessToken::parse(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn digests_compare_equal_only_for_the_same_secret() {
        assert!(Digest::of("a").ct_eq(&Digest::of("a")));
        assert!(!Digest::of("a").ct_eq(&Digest::of("b")));
    }
}
