//! Account configurations, watchlists, replaced orders and fills as activities: the
//! same answers on both backends.

use std::str::FromStr;

use paddock_core::env::Env;
use paddock_core::ids::WatchlistId;
use paddock_core::store::{Conflict, FillQuery, Missing, StoreError};
use paddock_core::trading::assets::{self, Symbol};
use paddock_core::trading::clock::{MarketClock, MarketMode};
use paddock_core::trading::config::{self, AccountConfig, CheckWhen, ConfigError, ConfigPatch};
use paddock_core::trading::engine;
use paddock_core::trading::orders::{
    Amount, NewOrder, OrderPatch, OrderStatus, OrderType, Side, TimeInForce,
};
use paddock_core::trading::watchlists::Watchlist;
use rust_decimal::Decimal;

use crate::{Backend, account, at, broker, paper_account, user};

fn symbols(list: &[&str]) -> Vec<Symbol> {
    list.iter().map(|s| Symbol::parse(s).unwrap()).collect()
}

pub async fn configurations_default_and_are_kept_per_account(b: &Backend) {
    let store = b.store.as_ref();
    let (u, k) = (user(1), broker(1));
    store.create_user(&u).await.unwrap();
    store.create_broker(&k).await.unwrap();
    let a = account(&u, &k, Env::Paper, 1);
    let other = account(&u, &k, Env::Live, 2);
    store.create_account(&a).await.unwrap();
    store.create_account(&other).await.unwrap();

    assert_eq!(
        store.account_config(a.id).await.unwrap(),
        AccountConfig::default()
    );
    let patch = ConfigPatch {
        dtbp_check: Some(CheckWhen::Both),
        suspend_trade: Some(true),
        max_options_trading_level: Some(Some(2)),
        ..ConfigPatch::default()
    };
    let other_patch = ConfigPatch {
        fractional_trading: Some(false),
        ..ConfigPatch::default()
    };
    // Two patches of different settings at once: both land.
    let (one, two) = tokio::join!(
        config::update(store, a.id, &patch, at(3)),
        config::update(store, a.id, &other_patch, at(3))
    );
    one.unwrap();
    two.unwrap();
    let changed = AccountConfig {
        dtbp_check: CheckWhen::Both,
        suspend_trade: true,
        fractional_trading: false,
        max_options_trading_level: Some(2),
        ..AccountConfig::default()
    };
    assert_eq!(store.account_config(a.id).await.unwrap(), changed);
    assert_eq!(
        store.account_config(other.id).await.unwrap(),
        AccountConfig::default()
    );
    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.account_config(a.id).await.unwrap(), changed);
    drop(tx);

    let unknown = paddock_core::ids::AccountId::random();
    assert!(matches!(
        config::update(store, unknown, &patch, at(4))
            .await
            .unwrap_err(),
        ConfigError::Missing
    ));
    let refused = ConfigPatch {
        no_shorting: Some(false),
        ..ConfigPatch::default()
    };
    assert!(matches!(
        config::update(store, a.id, &refused, at(5))
            .await
            .unwrap_err(),
        ConfigError::Invalid(_)
    ));
    assert_eq!(store.account_config(a.id).await.unwrap(), changed);
}

pub async fn watchlists_keep_order_names_and_owners(b: &Backend) {
    let store = b.store.as_ref();
    let (u, k) = (user(1), broker(1));
    store.create_user(&u).await.unwrap();
    store.create_broker(&k).await.unwrap();
    let a = account(&u, &k, Env::Paper, 1);
    let other = account(&u, &k, Env::Live, 2);
    store.create_account(&a).await.unwrap();
    store.create_account(&other).await.unwrap();

    let list = Watchlist {
        id: WatchlistId::random(),
        account_id: a.id,
        name: "Tech".into(),
        symbols: symbols(&["MSFT", "AAPL"]),
        created_at: at(1),
        updated_at: at(1),
    };
    store.create_watchlist(&list).await.unwrap();
    assert_eq!(
        store.watchlist(a.id, list.id).await.unwrap(),
        Some(list.clone())
    );
    let same_name = Watchlist {
        id: WatchlistId::random(),
        ..list.clone()
    };
    assert!(matches!(
        store.create_watchlist(&same_name).await.unwrap_err(),
        StoreError::Conflict(Conflict::WatchlistNameTaken)
    ));
    // Another account may use the name, and cannot see or change the first list.
    let theirs = Watchlist {
        id: WatchlistId::random(),
        account_id: other.id,
        ..list.clone()
    };
    store.create_watchlist(&theirs).await.unwrap();
    assert_eq!(store.watchlist(other.id, list.id).await.unwrap(), None);
    let spy = Symbol::parse("SPY").unwrap();
    assert!(
        !store
            .add_to_watchlist(other.id, list.id, &spy, at(2))
            .await
            .unwrap()
    );
    assert!(!store.delete_watchlist(other.id, list.id).await.unwrap());

    assert!(
        store
            .add_to_watchlist(a.id, list.id, &spy, at(2))
            .await
            .unwrap()
    );
    assert!(matches!(
        store
            .add_to_watchlist(a.id, list.id, &spy, at(3))
            .await
            .unwrap_err(),
        StoreError::Conflict(Conflict::SymbolInWatchlist)
    ));
    let msft = Symbol::parse("MSFT").unwrap();
    assert!(
        store
            .remove_from_watchlist(a.id, list.id, &msft, at(4))
            .await
            .unwrap()
    );
    assert!(matches!(
        store
            .remove_from_watchlist(a.id, list.id, &msft, at(5))
            .await
            .unwrap_err(),
        StoreError::Missing(Missing::WatchlistSymbol)
    ));
    let now = store.watchlist(a.id, list.id).await.unwrap().unwrap();
    assert_eq!(now.symbols, symbols(&["AAPL", "SPY"]));
    assert_eq!(now.updated_at, at(4));

    assert!(
        store
            .replace_watchlist(
                a.id,
                list.id,
                Some("Core"),
                Some(&symbols(&["QQQ", "AAPL"])),
                at(6)
            )
            .await
            .unwrap()
    );
    let now = store.watchlist(a.id, list.id).await.unwrap().unwrap();
    assert_eq!(
        (now.name.as_str(), now.symbols),
        ("Core", symbols(&["QQQ", "AAPL"]))
    );
    // A rename alone keeps the symbols.
    assert!(
        store
            .replace_watchlist(a.id, list.id, Some("Main"), None, at(7))
            .await
            .unwrap()
    );
    let now = store.watchlist(a.id, list.id).await.unwrap().unwrap();
    assert_eq!(
        (now.name.as_str(), now.symbols),
        ("Main", symbols(&["QQQ", "AAPL"]))
    );
    assert_eq!(store.watchlists(a.id).await.unwrap().len(), 1);

    assert!(store.delete_watchlist(a.id, list.id).await.unwrap());
    assert_eq!(store.watchlists(a.id).await.unwrap(), Vec::new());
    assert_eq!(store.watchlists(other.id).await.unwrap().len(), 1);
}

pub async fn replacements_and_fills_read_back(b: &Backend) {
    let store = b.store.as_ref();
    let a = paper_account(store).await;
    let clock = MarketClock::new(MarketMode::AlwaysOpen);
    let aapl = assets::find("AAPL").unwrap();
    let order = |kind: OrderType, limit: Option<&str>| NewOrder {
        amount: Amount::Qty(Decimal::ONE),
        side: Side::Buy,
        kind,
        time_in_force: TimeInForce::Gtc,
        limit_price: limit.map(|l| Decimal::from_str(l).unwrap()),
        stop_price: None,
        trail_price: None,
        trail_percent: None,
        extended_hours: false,
        client_order_id: None,
    };

    let resting = engine::submit(
        store,
        a.id,
        &aapl,
        order(OrderType::Limit, Some("100")),
        clock,
        at(1),
    )
    .await
    .unwrap();
    let patch = OrderPatch {
        limit_price: Some(Decimal::from(500)),
        ..OrderPatch::default()
    };
    let successor = engine::replace(store, a.id, resting.id, &patch, clock, at(2))
        .await
        .unwrap();
    assert_eq!(
        successor.status,
        OrderStatus::Filled,
        "its limit is above the price"
    );
    assert_eq!(successor.replaces, Some(resting.id));
    let replaced = store.order(a.id, resting.id).await.unwrap().unwrap();
    assert_eq!(replaced.status, OrderStatus::Replaced);
    assert_eq!(replaced.replaced_by, Some(successor.id));
    assert_eq!(replaced.replaced_at, Some(at(2)));

    for secs in 3..6 {
        engine::submit(
            store,
            a.id,
            &aapl,
            order(OrderType::Market, None),
            clock,
            at(secs),
        )
        .await
        .unwrap();
    }
    let query = |ascending, page_after| FillQuery {
        after: None,
        until: None,
        ascending,
        limit: 2,
        page_after,
    };
    let newest = store.fills(a.id, &query(false, None)).await.unwrap();
    assert_eq!(
        newest.iter().map(|f| f.at).collect::<Vec<_>>(),
        [at(5), at(4)]
    );
    assert_eq!(newest[0].side, Side::Buy);
    assert_eq!(newest[0].qty, Decimal::ONE);
    assert_eq!(newest[0].order_status, OrderStatus::Filled);
    let next = store
        .fills(a.id, &query(false, Some(newest[1].execution_id)))
        .await
        .unwrap();
    assert_eq!(
        next.iter().map(|f| f.at).collect::<Vec<_>>(),
        [at(3), at(2)]
    );
    let oldest = store.fills(a.id, &query(true, None)).await.unwrap();
    assert_eq!(oldest[0].order_id, successor.id);
    let window = FillQuery {
        after: Some(at(3)),
        until: Some(at(5)),
        ..query(true, None)
    };
    let between = store.fills(a.id, &window).await.unwrap();
    assert_eq!(between.iter().map(|f| f.at).collect::<Vec<_>>(), [at(4)]);
}
