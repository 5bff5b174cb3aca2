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

pub async fn the_walk_takes_each_tick_once_and_follows_its_seed(b: &Backend) {
    use paddock_core::trading::assets;
    use paddock_core::trading::walk::{self, Walk};

    let store = b.store.as_ref();
    let w = Walk {
        seed: 11,
        every: chrono::TimeDelta::seconds(5),
    };
    // The first call only marks where the walk starts.
    assert!(!walk::advance(store, &w, at(0)).await.unwrap());
    assert!(store.prices().await.unwrap().is_empty());
    let aapl = Symbol::parse("AAPL").unwrap();
    store
        .set_price(&aapl, Decimal::from(100), at(1))
        .await
        .unwrap();

    // Three ticks later, concurrently from two "nodes": the ticks are taken once.
    let (one, two) = tokio::join!(
        walk::advance(store, &w, at(15)),
        walk::advance(store, &w, at(15))
    );
    assert!(one.unwrap() ^ two.unwrap(), "exactly one takes the ticks");
    let start = w.tick(at(0));
    let expected = (start + 1..=start + 3).fold(Decimal::from(100), |p, k| w.step(&aapl, p, k));
    assert_eq!(store.price(&aapl).await.unwrap().unwrap().price, expected);
    let spy = assets::find("SPY").unwrap();
    let spy_expected =
        (start + 1..=start + 3).fold(spy.reference_price, |p, k| w.step(&spy.symbol, p, k));
    assert_eq!(
        store.price(&spy.symbol).await.unwrap().unwrap().price,
        spy_expected
    );
    assert!(!walk::advance(store, &w, at(16)).await.unwrap());
}
