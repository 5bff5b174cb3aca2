//! Watchlists: named lists of listed assets, per account. The rules for a name and a
//! list of symbols live here; the store keeps a watchlist's symbols in order.

use chrono::{DateTime, Utc};

use crate::ids::{AccountId, WatchlistId};
use crate::trading::assets::{self, Symbol};

/// Watchlists one account may have: plenty by hand, and a bound on what a client can
/// make the store keep.
pub const MAX_WATCHLISTS: usize = 200;

/// The longest name, in characters.
pub const MAX_NAME: usize = 100;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Watchlist {
    pub id: WatchlistId,
    pub account_id: AccountId,
    pub name: String,
    /// In the order they were added.
    pub symbols: Vec<Symbol>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A watchlist's name as given, or why it cannot be one.
pub fn check_name(name: &str) -> Result<String, String> {
    let count = name.chars().count();
    if name.trim().is_empty() || count > MAX_NAME {
        return Err(format!("name must be 1 to {MAX_NAME} characters"));
    }
    if name.chars().any(char::is_control) {
        return Err("name must not contain control characters".into());
    }
    Ok(name.to_owned())
}

/// A listed asset's symbol, from a symbol or an asset id as a client sends it.
pub fn check_symbol(text: &str) -> Result<Symbol, String> {
    assets::find_listed(text).map(|asset| asset.symbol)
}

/// A list of symbols for a new or replaced watchlist: each listed, none twice.
pub fn check_symbols<'a>(texts: impl IntoIterator<Item = &'a str>) -> Result<Vec<Symbol>, String> {
    let mut symbols: Vec<Symbol> = Vec::new();
    for text in texts {
        let symbol = check_symbol(text)?;
        if symbols.contains(&symbol) {
            return Err(format!("{symbol} is in the list twice"));
        }
        symbols.push(symbol);
    }
    Ok(symbols)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_bounded_and_printable() {
        assert_eq!(check_name("Tech"), Ok("Tech".to_owned()));
        assert!(check_name("").is_err());
        assert!(check_name("   ").is_err());
        assert!(check_name("a\nb").is_err());
        assert!(check_name(&"x".repeat(MAX_NAME)).is_ok());
        assert!(check_name(&"x".repeat(MAX_NAME + 1)).is_err());
    }

    #[test]
    fn symbols_must_be_listed_and_distinct() {
        let list = check_symbols(["AAPL", "SPY"]).unwrap();
        assert_eq!(list.len(), 2);
        assert!(check_symbols(["AAPL", "AAPL"]).is_err());
        assert!(check_symbols(["NOPE"]).is_err());
        assert_eq!(check_symbols([]), Ok(Vec::new()));
    }
}
