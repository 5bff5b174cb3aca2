//! `application/x-www-form-urlencoded` parsing for OAuth requests.
//!
//! Stricter than a general-purpose decoder, as RFC 6749 §3.1 and §3.2 ask:
//! a parameter may appear at most once, and every name and value must decode
//! to valid UTF-8 (a lossy decoder would hand `state` back changed).

use std::collections::HashMap;

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
    pub fn parse(input: &[u8]) -> Result<Self, FormError> {
        let mut map = HashMap::new();
        for pair in input.split(|&b| b == b'&').filter(|p| !p.is_empty()) {
            if map.len() == MAX_PARAMS {
                return Err(FormError::TooMany);
            }
            let (name, value) = match pair.iter().position(|&b| b == b'=') {
                Some(i) => (&pair[..i], &pair[i + 1..]),
                None => (pair, &[][..]),
            };
            let name = decode(name)?;
            let value = decode(value)?;
            if map.contains_key(&name) {
                return Err(FormError::Repeated(name));
            }
            map.insert(name, value);
        }
        Ok(Self(map))
    }

    /// The value of `name`; an empty value counts as absent (RFC 6749 §3.1:
    /// "Parameters sent without a value MUST be treated as if they were omitted").
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
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
