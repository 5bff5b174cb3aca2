//! Exact amounts in the database. Money and quantities are `Decimal` in the domain;
//! SQLite keeps them as integer billionths (`i64`), which SQL compares and sums
//! exactly, and PostgreSQL as `NUMERIC`. Nine decimals hold fractional shares as
//! Alpaca gives them and any price; an `i64` of billionths reaches 9.2 billion.

use rust_decimal::Decimal;

/// Decimal places kept.
pub const SCALE: u32 = 9;

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    #[error("{0} has more than 9 decimal places")]
    TooPrecise(Decimal),
    #[error("{0} is too large")]
    TooLarge(Decimal),
}

/// `amount` in billionths, exactly, or why it cannot be.
pub fn to_nanos(amount: Decimal) -> Result<i64, AmountError> {
    let scaled = amount
        .checked_mul(Decimal::from(1_000_000_000_i64))
        .ok_or(AmountError::TooLarge(amount))?;
    if scaled.fract() != Decimal::ZERO {
        return Err(AmountError::TooPrecise(amount));
    }
    i64::try_from(scaled).map_err(|_| AmountError::TooLarge(amount))
}

/// Billionths back to a decimal, normalised (`100000`, `2500.5`).
pub fn from_nanos(nanos: i64) -> Decimal {
    Decimal::new(nanos, SCALE).normalize()
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;

    #[test]
    fn amounts_round_trip_exactly() {
        for text in [
            "0",
            "100000",
            "2500.5",
            "0.000000001",
            "9200000000.123456789",
        ] {
            let d = Decimal::from_str(text).unwrap();
            assert_eq!(from_nanos(to_nanos(d).unwrap()), d.normalize(), "{text}");
        }
        assert_eq!(
            to_nanos(Decimal::from_str("-12.5").unwrap()),
            Ok(-12_500_000_000)
        );
    }

    #[test]
    fn too_precise_or_too_large_is_refused() {
        let tiny = Decimal::from_str("0.0000000001").unwrap();
        assert_eq!(to_nanos(tiny), Err(AmountError::TooPrecise(tiny)));
        let huge = Decimal::from_str("10000000000").unwrap();
        assert_eq!(to_nanos(huge), Err(AmountError::TooLarge(huge)));
    }
}
