//! `application/x-www-form-urlencoded` parsing for OAuth requests.
//!
//! Stricter than a general-purpose decoder, as RFC 6749 §3.1 and §3.2 ask:
//! a parameter may appear at most once, and every name and value must decode
//! to valid UTF-8 (a lossy decoder would hand `state` back changed).

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use percent_encoding::percent_decode;

/// Parameters of one query string or form body, each name at most once.
#[derive(Debug, Default)]
pub struct Params(HashMap<String, String>);

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum FormError {
    #[error("parameter `{0}` is repeated; send each parameter at most once")]
    Repeated(String),
    #[error("the request holds a name or value that is not valid UTF-8 once percent-decoded")]
    InvalidUtf8,
    #[error("the request has more than {MAX_PARAMS} parameters")]
    TooMany,
}

/// More than any OAuth request needs; bounds the work a hostile body can cause.
const MAX_PARAMS: usize = 64;

impl Params {
    /// Every parameter at most once, or an error naming the first repeated one.
    pub fn parse(input: &[u8]) -> Result<Self, FormError> {
        let (params, mut repeated) = Self::parse_keeping_first(input)?;
        match repeated.pop() {
            None => Ok(params),
            Some(name) => Err(FormError::Repeated(name)),
        }
    }

    /// Like [`parse`](Self::parse), but a repeated parameter keeps its first value, and
    /// every repeated name is listed beside the result, for a caller whose answer
    /// depends on which were repeated (the authorization endpoint: a repeated
    /// `client_id` is shown on a page, any other is redirected as `invalid_request`).
    pub fn parse_keeping_first(input: &[u8]) -> Result<(Self, Vec<String>), FormError> {
        let mut map = HashMap::new();
        let mut repeated: Vec<String> = Vec::new();
        for (i, pair) in input
            .split(|&b| b == b'&')
            .filter(|p| !p.is_empty())
            .enumerate()
        {
            if i == MAX_PARAMS {
                return Err(FormError::TooMany);
            }
            let (name, value) = match pair.iter().position(|&b| b == b'=') {
                Some(i) => (&pair[..i], &pair[i + 1..]),
                None => (pair, &[][..]),
            };
            let name = decode(name)?;
            let value = decode(value)?;
            match map.entry(name) {
                Entry::Occupied(first) => {
                    if !repeated.contains(first.key()) {
                        repeated.push(first.key().clone());
                    }
                }
                Entry::Vacant(slot) => {
                    slot.insert(value);
                }
            }
        }
        Ok((Self(map), repeated))
    }

    /// The value of `name`; an empty value counts as absent (RFC 6749 §3.1:
    /// "Parameters sent without a value MUST be treated as if they were omitted").
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// The value of `name` as sent, an empty one included: for a typed parameter
    /// (a number, a boolean), where an empty value is a mistake to report.
    pub fn raw(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }
}

/// Percent-decodes one component, `+` meaning a space.
pub fn decode(raw: &[u8]) -> Result<String, FormError> {
    let plus_as_space: Vec<u8> = raw
        .iter()
        .map(|&b| if b == b'+' { b' ' } else { b })
        .collect();
    let bytes: Vec<u8> = percent_decode(&plus_as_space).collect();
    String::from_utf8(bytes).map_err(|_| FormError::InvalidUtf8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_plus_and_percent_escapes() {
        let p = Params::parse(b"scope=account%3Awrite+trading&state=a%20b").unwrap();
        assert_eq!(p.get("scope"), Some("account:write trading"));
        assert_eq!(p.get("state"), Some("a b"));
    }

    #[test]
    fn repeated_parameter_is_an_error() {
        assert_eq!(
            Params::parse(b"a=1&b=2&a=3").unwrap_err(),
            FormError::Repeated("a".into())
        );
    }

    #[test]
    fn a_repeated_parameter_can_be_kept_and_named() {
        let (p, repeated) = Params::parse_keeping_first(b"a=1&b=2&a=3&b=4&a=5").unwrap();
        assert_eq!(p.get("a"), Some("1"));
        assert_eq!(repeated, ["a", "b"]);
    }

    #[test]
    fn invalid_utf8_is_an_error() {
        assert_eq!(
            Params::parse(b"state=%ff%fe").unwrap_err(),
            FormError::InvalidUtf8
        );
    }

    #[test]
    fn empty_value_counts_as_absent() {
        let p = Params::parse(b"a=&b").unwrap();
        assert_eq!(p.get("a"), None);
        assert!(!p.contains("b"));
    }

    #[test]
    fn bounds_the_number_of_parameters() {
        let body: Vec<u8> = (0..100)
            .map(|i| format!("p{i}=x"))
            .collect::<Vec<_>>()
            .join("&")
            .into_bytes();
        assert_eq!(Params::parse(&body).unwrap_err(), FormError::TooMany);
    }
}
