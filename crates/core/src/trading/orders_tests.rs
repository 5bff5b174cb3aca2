use std::str::FromStr;

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use super::*;

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn market(amount: Amount) -> NewOrder {
    NewOrder {
        amount,
        side: Side::Buy,
        kind: OrderType::Market,
        time_in_force: TimeInForce::Day,
        limit_price: None,
        stop_price: None,
        trail_price: None,
        trail_percent: None,
        extended_hours: false,
        client_order_id: None,
    }
}

#[test]
fn wire_names_round_trip() {
    for status in OrderStatus::ALL {
        assert_eq!(OrderStatus::parse(status.as_str()), Some(*status));
    }
    assert_eq!(TimeInForce::parse("gtc"), Some(TimeInForce::Gtc));
    assert_eq!(OrderType::parse("MARKET"), None, "names are exact");
    assert!(Side::names().contains("buy, sell"));
}

#[test]
fn each_type_needs_its_prices_and_refuses_the_others() {
    assert!(market(Amount::Qty(d("1"))).validate().is_ok());
    let limit = NewOrder {
        kind: OrderType::Limit,
        ..market(Amount::Qty(d("1")))
    };
    assert!(
        limit.validate().is_err(),
        "a limit order without limit_price"
    );
    let limit = NewOrder {
        limit_price: Some(d("10")),
        ..limit
    };
    assert!(limit.validate().is_ok());
    let stop_limit = NewOrder {
        kind: OrderType::StopLimit,
        ..limit.clone()
    };
    assert!(stop_limit.validate().is_err(), "no stop_price");
    let with_limit = NewOrder {
        limit_price: Some(d("10")),
        ..market(Amount::Qty(d("1")))
    };
    assert!(
        with_limit.validate().is_err(),
        "a market order with a limit price"
    );
    let trailing = NewOrder {
        kind: OrderType::TrailingStop,
        trail_percent: Some(d("2.5")),
        ..market(Amount::Qty(d("1")))
    };
    assert!(trailing.validate().is_ok());
    let both = NewOrder {
        trail_price: Some(d("1")),
        ..trailing.clone()
    };
    assert!(both.validate().is_err());
}

#[test]
fn notional_and_fractional_orders_follow_alpacas_rules() {
    assert!(market(Amount::Notional(d("100.50"))).validate().is_ok());
    let gtc = NewOrder {
        time_in_force: TimeInForce::Gtc,
        ..market(Amount::Qty(d("0.5")))
    };
    assert_eq!(
        gtc.validate(),
        Err(OrderRejection::Invalid(
            "fractional orders must be DAY orders".into()
        ))
    );
    let notional_limit = NewOrder {
        kind: OrderType::Limit,
        limit_price: Some(d("10")),
        ..market(Amount::Notional(d("100")))
    };
    assert!(notional_limit.validate().is_err());
    for bad in ["0", "-1", "0.0000000001"] {
        assert!(market(Amount::Qty(d(bad))).validate().is_err(), "{bad}");
    }
    let extended = NewOrder {
        extended_hours: true,
        ..market(Amount::Qty(d("1")))
    };
    assert!(
        extended.validate().is_err(),
        "extended hours: limit and day only"
    );
    let long_id = NewOrder {
        client_order_id: Some("x".repeat(129)),
        ..market(Amount::Qty(d("1")))
    };
    assert!(long_id.validate().is_err());
}

#[test]
fn notional_buys_a_fraction_rounded_down() {
    assert_eq!(qty_for_notional(d("100"), d("3")), d("33.333333333"));
    assert_eq!(qty_for_notional(d("190"), d("190")), d("1"));
}

fn trigger(kind: OrderType, side: Side) -> Trigger {
    Trigger {
        kind,
        side,
        limit_price: None,
        stop_price: None,
        trail_price: None,
        trail_percent: None,
        stopped: false,
        water_mark: None,
    }
}

#[test]
fn limits_fill_when_the_price_crosses() {
    let buy = Trigger {
        limit_price: Some(d("100")),
        ..trigger(OrderType::Limit, Side::Buy)
    };
    assert_eq!(buy.at(d("101")), Crossing::Rest(buy));
    assert_eq!(buy.at(d("100")), Crossing::Fill(d("100")));
    assert_eq!(
        buy.at(d("99")),
        Crossing::Fill(d("99")),
        "price improvement"
    );
    let sell = Trigger {
        limit_price: Some(d("100")),
        ..trigger(OrderType::Limit, Side::Sell)
    };
    assert_eq!(sell.at(d("99")), Crossing::Rest(sell));
    assert_eq!(sell.at(d("101")), Crossing::Fill(d("101")));
}

#[test]
fn stops_trigger_then_fill_or_rest_as_a_limit() {
    let stop = Trigger {
        stop_price: Some(d("90")),
        ..trigger(OrderType::Stop, Side::Sell)
    };
    assert!(matches!(stop.at(d("95")), Crossing::Rest(_)));
    assert_eq!(stop.at(d("89")), Crossing::Fill(d("89")));

    let stop_limit = Trigger {
        stop_price: Some(d("110")),
        limit_price: Some(d("112")),
        ..trigger(OrderType::StopLimit, Side::Buy)
    };
    // Gaps past its limit: the stop is crossed, the order rests as a limit...
    let Crossing::Rest(stopped) = stop_limit.at(d("115")) else {
        panic!("a stop-limit past its limit rests");
    };
    assert!(stopped.stopped);
    // ...and fills once the price comes back within it, though below the stop.
    assert_eq!(stopped.at(d("109")), Crossing::Fill(d("109")));
    assert!(matches!(stop_limit.at(d("109")), Crossing::Rest(t) if !t.stopped));
}

#[test]
fn a_trailing_stop_follows_the_best_price() {
    let start = Trigger {
        trail_price: Some(d("5")),
        ..trigger(OrderType::TrailingStop, Side::Sell)
    };
    let Crossing::Rest(t) = start.at(d("100")) else {
        panic!("rests at placement");
    };
    let Crossing::Rest(t) = t.at(d("110")) else {
        panic!("rests while rising");
    };
    assert_eq!(t.water_mark, Some(d("110")));
    assert!(matches!(t.at(d("106")), Crossing::Rest(_)));
    assert_eq!(t.at(d("105")), Crossing::Fill(d("105")));
}

#[test]
fn a_buy_spends_cash_and_averages_the_entry_price() {
    let fill = Fill {
        side: Side::Buy,
        qty: d("2"),
        price: d("100"),
    };
    let (cash, holding) = apply_fill(d("1000"), d("1000"), None, Decimal::ZERO, &fill).unwrap();
    assert_eq!(cash, d("800"));
    let fill = Fill {
        price: d("130"),
        qty: d("1"),
        ..fill
    };
    let (cash, holding) = apply_fill(cash, cash, holding, Decimal::ZERO, &fill).unwrap();
    assert_eq!(cash, d("670"));
    let holding = holding.unwrap();
    assert_eq!(holding.qty, d("3"));
    assert_eq!(holding.avg_entry_price, d("110"));
}

#[test]
fn what_the_account_cannot_afford_is_refused() {
    let buy = Fill {
        side: Side::Buy,
        qty: d("11"),
        price: d("100"),
    };
    assert_eq!(
        apply_fill(d("1000"), d("1000"), None, Decimal::ZERO, &buy),
        Err(OrderRejection::InsufficientBuyingPower)
    );
    let held = Holding {
        qty: d("2"),
        avg_entry_price: d("50"),
    };
    let sell = Fill {
        side: Side::Sell,
        qty: d("3"),
        price: d("60"),
    };
    assert_eq!(
        apply_fill(d("0"), d("0"), Some(held), d("2"), &sell),
        Err(OrderRejection::InsufficientQty {
            requested: d("3"),
            available: d("2")
        })
    );
    let (cash, left) = apply_fill(
        d("0"),
        d("0"),
        Some(held),
        d("2"),
        &Fill {
            qty: d("2"),
            ..sell
        },
    )
    .unwrap();
    assert_eq!(cash, d("120"));
    assert_eq!(left, None, "a position sold out is gone");
}

/// Random fills against a random account: value (cash plus shares at the fill price)
/// is conserved to the billionth, and neither cash nor shares go negative.
#[test]
fn fills_conserve_value_and_never_overspend() {
    let mut rng = StdRng::seed_from_u64(20_261_125);
    for _ in 0..20_000 {
        let cash = Decimal::new(rng.random_range(0..1_000_000_000), 2);
        let holding = rng.random_bool(0.5).then(|| Holding {
            qty: Decimal::new(rng.random_range(1..1_000_000_000_000), 9),
            avg_entry_price: Decimal::new(rng.random_range(1..10_000_000), 2),
        });
        let fill = Fill {
            side: if rng.random_bool(0.5) {
                Side::Buy
            } else {
                Side::Sell
            },
            qty: Decimal::new(rng.random_range(1..5_000_000_000_000), 9),
            price: Decimal::new(rng.random_range(1..1_000_000_000), 4),
        };
        let held = holding.map_or(Decimal::ZERO, |h| h.qty);
        let before = cash + held * fill.price;
        match apply_fill(cash, cash, holding, held, &fill) {
            Ok((after_cash, after)) => {
                let after_qty = after.map_or(Decimal::ZERO, |h| h.qty);
                assert!(after_cash >= Decimal::ZERO, "{fill:?} from {cash}");
                assert!(after_qty >= Decimal::ZERO);
                let after_value = after_cash + after_qty * fill.price;
                let drift = (after_value - before).abs();
                assert!(
                    drift <= Decimal::new(1, 9),
                    "{fill:?}: {before} -> {after_value}"
                );
            }
            Err(OrderRejection::InsufficientBuyingPower) => {
                assert_eq!(fill.side, Side::Buy);
                assert!(fill.value() > cash);
            }
            Err(OrderRejection::InsufficientQty { .. }) => {
                assert_eq!(fill.side, Side::Sell);
                assert!(fill.qty > held);
            }
            Err(other) => panic!("{other}"),
        }
    }
}

/// Runs of fills against one account whose open orders hold back part of its cash and
/// shares: no accepted fill spends what open orders hold or sells shares they hold, so
/// buying power (cash less what is held back) never goes negative, and each fill moves
/// value between cash and shares without making or losing any.
#[test]
fn runs_of_fills_never_spend_what_open_orders_hold() {
    let mut rng = StdRng::seed_from_u64(20_261_207);
    for _ in 0..2_000 {
        let mut cash = Decimal::new(rng.random_range(0..100_000_000), 2);
        let mut holding: Option<Holding> = None;
        for _ in 0..50 {
            let held = holding.map_or(Decimal::ZERO, |h| h.qty);
            // What open orders hold back now: part of the cash, part of the shares.
            let reserved_cash = (cash * Decimal::new(rng.random_range(0..=100), 2)).round_dp(2);
            let reserved_qty = (held * Decimal::new(rng.random_range(0..=100), 2)).round_dp(9);
            let buying_power = cash - reserved_cash;
            let sellable = held - reserved_qty;
            let fill = Fill {
                side: if rng.random_bool(0.6) {
                    Side::Buy
                } else {
                    Side::Sell
                },
                qty: Decimal::new(rng.random_range(1..2_000_000_000_000), 9),
                price: Decimal::new(rng.random_range(1..100_000_000), 4),
            };
            let before = cash + held * fill.price;
            match apply_fill(cash, buying_power, holding, sellable, &fill) {
                Ok((after_cash, after)) => {
                    let after_qty = after.map_or(Decimal::ZERO, |h| h.qty);
                    assert!(
                        after_cash - reserved_cash >= Decimal::ZERO,
                        "{fill:?} spent held-back cash: {cash} - {reserved_cash}"
                    );
                    assert!(after_qty >= reserved_qty, "{fill:?} sold held-back shares");
                    let drift = (after_cash + after_qty * fill.price - before).abs();
                    assert!(drift <= Decimal::new(1, 9), "{fill:?}: drift {drift}");
                    if let Some(h) = after {
                        assert!(h.qty > Decimal::ZERO && h.avg_entry_price > Decimal::ZERO);
                    }
                    cash = after_cash;
                    holding = after;
                }
                Err(OrderRejection::InsufficientBuyingPower) => {
                    assert_eq!(fill.side, Side::Buy);
                    assert!(fill.value() > buying_power);
                }
                Err(OrderRejection::InsufficientQty { .. }) => {
                    assert_eq!(fill.side, Side::Sell);
                    assert!(fill.qty > sellable);
                }
                Err(other) => panic!("{other}"),
            }
        }
    }
}
