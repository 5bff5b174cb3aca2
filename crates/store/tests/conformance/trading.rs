//! The paper brokerage's records, driven through core's engine: the same orders,
//! holdings and cash on both backends.

use std::str::FromStr;

use paddock_core::store::{Conflict, OrderQuery, StoreError};
use paddock_core::trading::assets;
use paddock_core::trading::clock::{MarketClock, MarketMode};
use paddock_core::trading::engine::{self, EngineError};
use paddock_core::trading::orders::{Amount, NewOrder, OrderStatus, OrderType, Side, TimeInForce};
use rust_decimal::Decimal;

use crate::{Backend, at, paper_account};

fn order(side: Side, kind: OrderType, qty: &str, limit: Option<&str>) -> NewOrder {
    NewOrder {
        amount: Amount::Qty(Decimal::from_str(qty).unwrap()),
        side,
        kind,
        time_in_force: TimeInForce::Day,
        limit_price: limit.map(|l| Decimal::from_str(l).unwrap()),
        stop_price: None,
        trail_price: None,
        trail_percent: None,
        extended_hours: false,
        client_order_id: None,
    }
}

fn all() -> OrderQuery {
    OrderQuery {
        open: None,
        after: None,
        until: None,
        limit: 100,
        ascending: true,
        symbols: Vec::new(),
        side: None,
    }
}

pub async fn orders_fill_rest_cancel_and_keep_exact_amounts(b: &Backend) {
    let store = b.store.as_ref();
    let a = paper_account(store).await;
    let clock = MarketClock::new(MarketMode::AlwaysOpen);
    let aapl = assets::find("AAPL").unwrap();

    let bought = engine::submit(
        store,
        a.id,
        &aapl,
        order(Side::Buy, OrderType::Market, "1.5", None),
        clock,
        at(2),
    )
    .await
    .unwrap();
    assert_eq!(bought.status, OrderStatus::Filled);
    let resting = engine::submit(
        store,
        a.id,
        &aapl,
        order(Side::Sell, OrderType::Limit, "0.5", Some("250.123456789")),
        clock,
        at(3),
    )
    .await
    .unwrap();
    assert_eq!(resting.status, OrderStatus::New);

    let cash = store.account(a.id).await.unwrap().unwrap().cash;
    assert_eq!(
        cash,
        Decimal::from_str("99715").unwrap(),
        "100000 - 1.5 x 190"
    );
    let holdings = store.holdings(a.id).await.unwrap();
    assert_eq!(holdings.len(), 1);
    assert_eq!(holdings[0].1.qty, Decimal::from_str("1.5").unwrap());

    let stored = store.order(a.id, resting.id).await.unwrap().unwrap();
    assert_eq!(stored, resting, "an order reads back exactly as written");
    let open = OrderQuery {
        open: Some(true),
        ..all()
    };
    assert_eq!(store.orders(a.id, &open).await.unwrap().len(), 1);
    assert_eq!(store.orders(a.id, &all()).await.unwrap().len(), 2);
    assert_eq!(store.open_orders().await.unwrap().len(), 1);

    // Selling more than the 1 share left unreserved is refused.
    let too_many = engine::submit(
        store,
        a.id,
        &aapl,
        order(Side::Sell, OrderType::Market, "1.1", None),
        clock,
        at(4),
    )
    .await;
    assert!(
        matches!(too_many, Err(EngineError::Rejected(_))),
        "{too_many:?}"
    );

    let canceled = engine::cancel(store, a.id, resting.id, at(5))
        .await
        .unwrap();
    assert_eq!(canceled.status, OrderStatus::Canceled);
    assert!(matches!(
        engine::cancel(store, a.id, resting.id, at(6)).await,
        Err(EngineError::NotCancelable(OrderStatus::Canceled))
    ));
    assert!(store.open_orders().await.unwrap().is_empty());

    let named = NewOrder {
        client_order_id: Some("twice".into()),
        ..order(Side::Buy, OrderType::Limit, "1", Some("100"))
    };
    engine::submit(store, a.id, &aapl, named.clone(), clock, at(7))
        .await
        .unwrap();
    let again = engine::submit(store, a.id, &aapl, named, clock, at(8)).await;
    assert!(
        matches!(
            again,
            Err(EngineError::Store(StoreError::Conflict(
                Conflict::ClientOrderIdTaken
            )))
        ),
        "{again:?}"
    );
    let found = store
        .order_by_client_id(a.id, "twice")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.trigger.limit_price, Some(Decimal::from(100)));
}

/// The engine prices an order inside its unit of work, from the stored prices: a node
/// whose snapshot of the market still holds an older price (one set by another
/// process, not yet heard of) must not trade at it.
pub async fn orders_trade_at_the_price_stored_when_they_trade(b: &Backend) {
    let store = b.store.as_ref();
    let a = paper_account(store).await;
    let clock = MarketClock::new(MarketMode::AlwaysOpen);
    let aapl = assets::find("AAPL").unwrap();
    assert_ne!(aapl.reference_price, Decimal::from(150));

    store
        .set_price(&aapl.symbol, Decimal::from(150), at(1))
        .await
        .unwrap();
    let bought = engine::submit(
        store,
        a.id,
        &aapl,
        order(Side::Buy, OrderType::Market, "2", None),
        clock,
        at(2),
    )
    .await
    .unwrap();
    assert_eq!(bought.filled_avg_price, Some(Decimal::from(150)));
    let cash = store.account(a.id).await.unwrap().unwrap().cash;
    assert_eq!(cash, Decimal::from(100_000 - 2 * 150));

    let resting = engine::submit(
        store,
        a.id,
        &aapl,
        order(Side::Sell, OrderType::Limit, "1", Some("160")),
        clock,
        at(3),
    )
    .await
    .unwrap();
    assert_eq!(resting.status, OrderStatus::New, "150 is below its limit");
    store
        .set_price(&aapl.symbol, Decimal::from(161), at(4))
        .await
        .unwrap();
    let worked = engine::work(store, &resting, &aapl, clock, at(5))
        .await
        .unwrap()
        .expect("the order is worked");
    assert_eq!(worked.status, OrderStatus::Filled);
    assert_eq!(worked.filled_avg_price, Some(Decimal::from(161)));
}
