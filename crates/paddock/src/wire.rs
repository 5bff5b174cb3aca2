//! Wire formats shared by the JSON surfaces.

use chrono::{DateTime, SecondsFormat, Utc};
use rust_decimal::Decimal;
use serde::Serializer;

/// RFC 3339 in UTC with microseconds, as Alpaca writes timestamps
/// (`2026-11-23T14:30:00.123456Z`); every SDK's date parser reads it.
pub fn timestamp<S: Serializer>(at: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&at.to_rfc3339_opts(SecondsFormat::Micros, true))
}

/// [`timestamp`], or `null`.
pub fn optional_timestamp<S: Serializer>(
    at: &Option<DateTime<Utc>>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match at {
        Some(at) => timestamp(at, serializer),
        None => serializer.serialize_none(),
    }
}

/// An amount where Alpaca sends JSON numbers (market data, portfolio history).
pub fn float(d: Decimal) -> f64 {
    rust_decimal::prelude::ToPrimitive::to_f64(&d).unwrap_or_default()
}

/// An amount as Alpaca writes it: a JSON string of the exact decimal, without trailing
/// zeros (`"100000"`, `"395.5"`).
pub fn amount(d: Decimal) -> String {
    d.normalize().to_string()
}
