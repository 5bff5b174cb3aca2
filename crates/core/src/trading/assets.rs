//! The assets the paper brokerage lists: US equities and the ETFs people test with,
//! each with a reference price that the market simulator starts from.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use sha2::{Digest as _, Sha256};
use uuid::Uuid;

/// A ticker symbol: 1 to 10 of `A-Z`, `0-9` and `.` (`BRK.B`), upper case.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Symbol(String);

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a symbol: 1 to 10 of A-Z, 0-9 and `.`")]
pub struct InvalidSymbol(pub String);

impl Symbol {
    /// Parses a symbol as a client may send it: surrounding spaces and lower case are
    /// forgiven (`aapl` is AAPL), anything else is refused.
    pub fn parse(s: &str) -> Result<Self, InvalidSymbol> {
        let upper = s.trim().to_ascii_uppercase();
        let valid = (1..=10).contains(&upper.len())
            && upper
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'.')
            && !upper.starts_with('.');
        if valid {
            Ok(Self(upper))
        } else {
            Err(InvalidSymbol(s.chars().take(40).collect()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Symbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Symbol {
    type Err = InvalidSymbol;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// The listing venue, as Alpaca names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exchange {
    Nasdaq,
    Nyse,
    Arca,
}

impl Exchange {
    pub const ALL: [Exchange; 3] = [Exchange::Nasdaq, Exchange::Nyse, Exchange::Arca];

    pub const fn as_str(self) -> &'static str {
        match self {
            Exchange::Nasdaq => "NASDAQ",
            Exchange::Nyse => "NYSE",
            Exchange::Arca => "ARCA",
        }
    }
}

/// A listed asset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Asset {
    /// Stable across runs and databases: derived from the symbol.
    pub id: Uuid,
    pub symbol: Symbol,
    pub name: &'static str,
    pub exchange: Exchange,
    /// Where the simulator's price starts, until set otherwise.
    pub reference_price: Decimal,
    pub fractionable: bool,
    pub shortable: bool,
}

/// (symbol, name, exchange, reference price in dollars). Prices are round figures near
/// where each traded in 2024, so that orders in tests look plausible.
const LISTINGS: &[(&str, &str, Exchange, i64)] = &[
    ("AAPL", "Apple Inc. Common Stock", Exchange::Nasdaq, 190),
    (
        "MSFT",
        "Microsoft Corporation Common Stock",
        Exchange::Nasdaq,
        420,
    ),
    (
        "AMZN",
        "Amazon.com, Inc. Common Stock",
        Exchange::Nasdaq,
        185,
    ),
    (
        "GOOGL",
        "Alphabet Inc. Class A Common Stock",
        Exchange::Nasdaq,
        170,
    ),
    (
        "GOOG",
        "Alphabet Inc. Class C Capital Stock",
        Exchange::Nasdaq,
        172,
    ),
    (
        "META",
        "Meta Platforms, Inc. Class A Common Stock",
        Exchange::Nasdaq,
        500,
    ),
    (
        "NVDA",
        "NVIDIA Corporation Common Stock",
        Exchange::Nasdaq,
        120,
    ),
    ("TSLA", "Tesla, Inc. Common Stock", Exchange::Nasdaq, 250),
    ("NFLX", "Netflix, Inc. Common Stock", Exchange::Nasdaq, 650),
    (
        "AMD",
        "Advanced Micro Devices, Inc. Common Stock",
        Exchange::Nasdaq,
        160,
    ),
    (
        "INTC",
        "Intel Corporation Common Stock",
        Exchange::Nasdaq,
        30,
    ),
    (
        "CSCO",
        "Cisco Systems, Inc. Common Stock",
        Exchange::Nasdaq,
        48,
    ),
    ("ADBE", "Adobe Inc. Common Stock", Exchange::Nasdaq, 520),
    ("PEP", "PepsiCo, Inc. Common Stock", Exchange::Nasdaq, 170),
    (
        "COST",
        "Costco Wholesale Corporation Common Stock",
        Exchange::Nasdaq,
        850,
    ),
    (
        "BRK.B",
        "Berkshire Hathaway Inc. Class B Common Stock",
        Exchange::Nyse,
        410,
    ),
    (
        "JPM",
        "JPMorgan Chase & Co. Common Stock",
        Exchange::Nyse,
        200,
    ),
    ("V", "Visa Inc. Class A Common Stock", Exchange::Nyse, 280),
    (
        "MA",
        "Mastercard Incorporated Class A Common Stock",
        Exchange::Nyse,
        460,
    ),
    ("JNJ", "Johnson & Johnson Common Stock", Exchange::Nyse, 155),
    ("WMT", "Walmart Inc. Common Stock", Exchange::Nyse, 70),
    (
        "PG",
        "Procter & Gamble Company (The) Common Stock",
        Exchange::Nyse,
        165,
    ),
    (
        "XOM",
        "Exxon Mobil Corporation Common Stock",
        Exchange::Nyse,
        115,
    ),
    (
        "CVX",
        "Chevron Corporation Common Stock",
        Exchange::Nyse,
        155,
    ),
    (
        "HD",
        "Home Depot, Inc. (The) Common Stock",
        Exchange::Nyse,
        350,
    ),
    (
        "KO",
        "Coca-Cola Company (The) Common Stock",
        Exchange::Nyse,
        62,
    ),
    (
        "DIS",
        "Walt Disney Company (The) Common Stock",
        Exchange::Nyse,
        100,
    ),
    (
        "ORCL",
        "Oracle Corporation Common Stock",
        Exchange::Nyse,
        140,
    ),
    ("CRM", "Salesforce, Inc. Common Stock", Exchange::Nyse, 270),
    (
        "BAC",
        "Bank of America Corporation Common Stock",
        Exchange::Nyse,
        40,
    ),
    ("PFE", "Pfizer, Inc. Common Stock", Exchange::Nyse, 28),
    ("T", "AT&T Inc. Common Stock", Exchange::Nyse, 18),
    (
        "VZ",
        "Verizon Communications Inc. Common Stock",
        Exchange::Nyse,
        40,
    ),
    ("NKE", "Nike, Inc. Common Stock", Exchange::Nyse, 90),
    ("SPY", "SPDR S&P 500 ETF Trust", Exchange::Arca, 550),
    ("QQQ", "Invesco QQQ Trust, Series 1", Exchange::Nasdaq, 470),
    ("IWM", "iShares Russell 2000 ETF", Exchange::Arca, 210),
    (
        "DIA",
        "SPDR Dow Jones Industrial Average ETF Trust",
        Exchange::Arca,
        400,
    ),
];

/// Every listed asset, in a fixed order (by symbol).
pub fn listed() -> Vec<Asset> {
    let mut assets: Vec<Asset> = LISTINGS
        .iter()
        .map(|&(symbol, name, exchange, dollars)| Asset {
            id: asset_id(symbol),
            symbol: Symbol(symbol.to_owned()),
            name,
            exchange,
            reference_price: Decimal::from(dollars),
            fractionable: true,
            shortable: false,
        })
        .collect();
    assets.sort_by(|a, b| a.symbol.cmp(&b.symbol));
    assets
}

/// The asset a client names by symbol (any case) or by id.
pub fn find(symbol_or_id: &str) -> Option<Asset> {
    let by_id = Uuid::parse_str(symbol_or_id.trim()).ok();
    let by_symbol = Symbol::parse(symbol_or_id).ok();
    listed()
        .into_iter()
        .find(|a| Some(a.id) == by_id || Some(&a.symbol) == by_symbol.as_ref())
}

/// A listed asset by symbol or asset id, or a message saying it is not listed and where
/// the listed ones are.
pub fn find_listed(symbol_or_id: &str) -> Result<Asset, String> {
    find(symbol_or_id).ok_or_else(|| {
        format!(
            "asset {} not found; GET /v2/assets lists them",
            symbol_or_id.chars().take(20).collect::<String>()
        )
    })
}

/// A UUID that is the same for a symbol in every run and database: a SHA-256 of it,
/// shaped as a version 4 UUID so that clients that check the version accept it.
fn asset_id(symbol: &str) -> Uuid {
    let digest = Sha256::digest(format!("paddock-asset:{symbol}").as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_least_thirty_equities_and_the_usual_etfs_are_listed() {
        let assets = listed();
        assert!(assets.len() >= 32, "{}", assets.len());
        for etf in ["SPY", "QQQ"] {
            assert!(find(etf).is_some(), "{etf}");
        }
        let mut ids: Vec<Uuid> = assets.iter().map(|a| a.id).collect();
        ids.dedup();
        assert_eq!(ids.len(), assets.len(), "ids are unique");
        assert!(assets.iter().all(|a| a.reference_price > Decimal::ZERO));
    }

    #[test]
    fn an_asset_is_found_by_symbol_in_any_case_or_by_id() {
        let aapl = find("aapl").unwrap();
        assert_eq!(aapl.symbol.as_str(), "AAPL");
        assert_eq!(find(&aapl.id.to_string()), Some(aapl.clone()));
        assert_eq!(aapl.id, asset_id("AAPL"), "stable");
        assert_eq!(aapl.id.get_version_num(), 4);
        assert!(find("NOPE").is_none());
        assert!(find("brk.b").is_some());
    }

    #[test]
    fn symbols_refuse_what_no_ticker_is() {
        for bad in ["", " ", "TOOLONGSYMBOL", "A B", "A/B", ".A", "ÄPL"] {
            assert!(Symbol::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(Symbol::parse(" spy ").unwrap().as_str(), "SPY");
    }
}
