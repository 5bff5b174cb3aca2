//! The market simulator's stored prices.

use std::str::FromStr;

use paddock_core::trading::assets::Symbol;
use rust_decimal::Decimal;

use crate::{Backend, at};

pub async fn prices_are_set_replaced_and_listed_exactly(b: &Backend) {
    let store = b.store.as_ref();
    let aapl = Symbol::parse("AAPL").unwrap();
    let spy = Symbol::parse("SPY").unwrap();
    assert!(store.price(&aapl).await.unwrap().is_none());
    assert!(store.prices().await.unwrap().is_empty());

    let exact = Decimal::from_str("187.123456789").unwrap();
    store
        .set_price(&spy, Decimal::from(550), at(1))
        .await
        .unwrap();
    store
        .set_price(&aapl, Decimal::from(190), at(2))
        .await
        .unwrap();
    store.set_price(&aapl, exact, at(3)).await.unwrap();

    let stored = store.price(&aapl).await.unwrap().unwrap();
    assert_eq!(stored.price.to_string(), "187.123456789");
    assert_eq!(stored.updated_at, at(3));
    let all = store.prices().await.unwrap();
    let symbols: Vec<&str> = all.iter().map(|p| p.symbol.as_str()).collect();
    assert_eq!(symbols, ["AAPL", "SPY"], "by symbol, one row each");
    assert_eq!(all[1].price.to_string(), "550");

    let too_precise = Decimal::from_str("1.0000000001").unwrap();
    assert!(store.set_price(&aapl, too_precise, at(4)).await.is_err());
    assert_eq!(
        store.price(&aapl).await.unwrap().unwrap().price,
        exact,
        "unchanged"
    );
}
