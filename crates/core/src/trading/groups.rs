//! Bracket, OCO and OTO orders: an order with legs. A bracket buys (market or limit)
//! and, once filled, guards the position with a take-profit limit sell and a
//! stop-loss stop sell, one of which cancels the other; OTO has one such leg; OCO is
//! the two sells alone, for shares already held. The rules for what a group may be
//! live here; the engine places, fills and cancels the group together.

use rust_decimal::Decimal;

use crate::trading::orders::{
    Amount, NewOrder, Order, OrderClass, OrderPatch, OrderRejection, OrderType, Side, TimeInForce,
};

/// The stop-loss leg as requested: a stop, or a stop-limit when it has a limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StopLoss {
    pub stop_price: Decimal,
    pub limit_price: Option<Decimal>,
}

/// An order and, unless simple, its legs' prices.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderRequest {
    pub order: NewOrder,
    pub class: OrderClass,
    /// The take-profit leg's limit price.
    pub take_profit: Option<Decimal>,
    pub stop_loss: Option<StopLoss>,
}

impl OrderRequest {
    pub fn simple(order: NewOrder) -> Self {
        Self {
            order,
            class: OrderClass::Simple,
            take_profit: None,
            stop_loss: None,
        }
    }
}

/// A cent: the least a take-profit must sit above, and a stop-loss below, the entry.
const CENT: Decimal = Decimal::from_parts(1, 0, 0, false, 2);

fn invalid(message: impl Into<String>) -> OrderRejection {
    OrderRejection::Invalid(message.into())
}

fn leg(entry: &NewOrder, kind: OrderType) -> NewOrder {
    NewOrder::plain(Side::Sell, kind, entry.amount, entry.time_in_force)
}

impl OrderRequest {
    /// The group's first order and its legs, checked against Alpaca's rules; `price`
    /// is the market's now (a market entry's base price). The entry is validated as any
    /// order is; so is each leg.
    pub fn split(&self, price: Decimal) -> Result<(NewOrder, Vec<NewOrder>), OrderRejection> {
        let entry = &self.order;
        if self.class == OrderClass::Simple {
            if self.take_profit.is_some() || self.stop_loss.is_some() {
                return Err(invalid(
                    "take_profit and stop_loss are for bracket, oco and oto orders; set order_class",
                ));
            }
            entry.validate()?;
            return Ok((entry.clone(), Vec::new()));
        }
        let class = self.class;
        if !matches!(entry.time_in_force, TimeInForce::Day | TimeInForce::Gtc) {
            return Err(invalid(format!("{class} orders must be day or gtc")));
        }
        if entry.extended_hours {
            return Err(invalid(format!(
                "{class} orders cannot be extended hours orders"
            )));
        }
        if !matches!(entry.amount, Amount::Qty(q) if q.fract().is_zero()) {
            return Err(invalid(format!(
                "{class} orders must be for a whole number of shares"
            )));
        }
        let needs = |what: &str, present: bool| {
            if present {
                Ok(())
            } else {
                Err(invalid(format!("{class} orders need {what}")))
            }
        };
        match class {
            OrderClass::Bracket | OrderClass::Oco => needs(
                "take_profit and stop_loss",
                self.take_profit.is_some() && self.stop_loss.is_some(),
            )?,
            _ => needs(
                "exactly one of take_profit and stop_loss",
                self.take_profit.is_some() != self.stop_loss.is_some(),
            )?,
        }
        let first = if class == OrderClass::Oco {
            // OCO: the take-profit limit sell is the first order; alpaca-py may give
            // its price only in take_profit.
            if entry.side != Side::Sell || entry.kind != OrderType::Limit {
                return Err(invalid("oco orders are limit sells of shares held"));
            }
            let take_profit = self.take_profit.unwrap_or_default();
            if entry.limit_price.is_some_and(|l| l != take_profit) {
                return Err(invalid(
                    "an oco order's limit_price must equal take_profit.limit_price",
                ));
            }
            NewOrder {
                limit_price: Some(take_profit),
                ..entry.clone()
            }
        } else {
            if entry.side != Side::Buy {
                return Err(invalid(format!(
                    "{class} entries are buys: paddock's paper brokerage does not sell short"
                )));
            }
            if !matches!(entry.kind, OrderType::Market | OrderType::Limit) {
                return Err(invalid(format!(
                    "{class} entries are market or limit orders"
                )));
            }
            entry.clone()
        };
        first.validate()?;
        let base = match (class, first.limit_price) {
            (OrderClass::Oco, _) => None,
            (_, Some(limit)) => Some(limit),
            (_, None) => Some(price),
        };
        let mut legs = Vec::new();
        if let Some(limit) = self.take_profit
            && class != OrderClass::Oco
        {
            if base.is_some_and(|b| limit < b + CENT) {
                return Err(invalid(format!(
                    "take_profit.limit_price must be at least {} (the base price plus a cent)",
                    base.unwrap_or_default() + CENT
                )));
            }
            legs.push(NewOrder {
                limit_price: Some(limit),
                ..leg(&first, OrderType::Limit)
            });
        }
        if let Some(stop) = self.stop_loss {
            if base.is_some_and(|b| stop.stop_price > b - CENT) {
                return Err(invalid(format!(
                    "stop_loss.stop_price must be at most {} (the base price less a cent)",
                    base.unwrap_or_default() - CENT
                )));
            }
            if let Some(limit) = self.take_profit
                && stop.stop_price >= limit
            {
                return Err(invalid(
                    "stop_loss.stop_price must be below take_profit.limit_price",
                ));
            }
            let kind = match stop.limit_price {
                Some(_) => OrderType::StopLimit,
                None => OrderType::Stop,
            };
            legs.push(NewOrder {
                stop_price: Some(stop.stop_price),
                limit_price: stop.limit_price,
                ..leg(&first, kind)
            });
        }
        for leg in &legs {
            leg.validate()?;
        }
        Ok((first, legs))
    }
}

/// Whether a group's order may be replaced by `patch`: its prices may move, but not
/// its quantity or time in force, which its group shares (a leg sells what its entry
/// bought).
pub fn check_replace(order: &Order, patch: &OrderPatch) -> Result<(), OrderRejection> {
    if order.class != OrderClass::Simple && (patch.qty.is_some() || patch.time_in_force.is_some()) {
        return Err(invalid(format!(
            "the qty and time_in_force of a {} order's orders cannot be replaced; replace its \
             prices, or cancel it and place it again",
            order.class
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn buy(kind: OrderType, limit: Option<&str>) -> NewOrder {
        NewOrder {
            amount: Amount::Qty(Decimal::from(10)),
            side: Side::Buy,
            kind,
            time_in_force: TimeInForce::Gtc,
            limit_price: limit.map(d),
            stop_price: None,
            trail_price: None,
            trail_percent: None,
            extended_hours: false,
            client_order_id: None,
        }
    }

    fn bracket(order: NewOrder, tp: &str, sl: &str) -> OrderRequest {
        OrderRequest {
            order,
            class: OrderClass::Bracket,
            take_profit: Some(d(tp)),
            stop_loss: Some(StopLoss {
                stop_price: d(sl),
                limit_price: None,
            }),
        }
    }

    #[test]
    fn a_bracket_has_a_take_profit_and_a_stop_loss_sell() {
        let (entry, legs) = bracket(buy(OrderType::Market, None), "110", "90")
            .split(d("100"))
            .unwrap();
        assert_eq!(entry.kind, OrderType::Market);
        assert_eq!(legs.len(), 2);
        assert_eq!((legs[0].kind, legs[0].side), (OrderType::Limit, Side::Sell));
        assert_eq!(legs[0].limit_price, Some(d("110")));
        assert_eq!(legs[1].kind, OrderType::Stop);
        assert_eq!(legs[1].stop_price, Some(d("90")));
        assert_eq!(legs[1].amount, entry.amount);
    }

    #[test]
    fn bracket_prices_must_straddle_the_base_price() {
        for (tp, sl) in [("100", "90"), ("110", "100"), ("95", "90"), ("110", "120")] {
            let request = bracket(buy(OrderType::Market, None), tp, sl);
            assert!(request.split(d("100")).is_err(), "{tp} {sl}");
        }
        // A limit entry's base is its limit, not the market's price.
        let request = bracket(buy(OrderType::Limit, Some("80")), "85", "75");
        assert!(request.split(d("100")).is_ok());
    }

    #[test]
    fn groups_refuse_what_alpaca_refuses() {
        let fractional = NewOrder {
            amount: Amount::Qty(d("1.5")),
            ..buy(OrderType::Market, None)
        };
        let ioc = NewOrder {
            time_in_force: TimeInForce::Ioc,
            ..buy(OrderType::Market, None)
        };
        let stop_entry = NewOrder {
            stop_price: Some(d("100")),
            ..buy(OrderType::Stop, None)
        };
        for order in [fractional, ioc, stop_entry] {
            assert!(bracket(order, "110", "90").split(d("100")).is_err());
        }
        let one_leg = OrderRequest {
            stop_loss: None,
            ..bracket(buy(OrderType::Market, None), "110", "90")
        };
        assert!(
            one_leg.split(d("100")).is_err(),
            "a bracket needs both legs"
        );
        let oto = OrderRequest {
            class: OrderClass::Oto,
            ..one_leg.clone()
        };
        assert_eq!(oto.split(d("100")).unwrap().1.len(), 1);
        let simple_with_legs = OrderRequest {
            class: OrderClass::Simple,
            ..one_leg
        };
        assert!(simple_with_legs.split(d("100")).is_err());
    }

    #[test]
    fn an_oco_is_a_limit_sell_and_a_stop_sell() {
        let sell = NewOrder {
            side: Side::Sell,
            ..buy(OrderType::Limit, None)
        };
        let oco = OrderRequest {
            class: OrderClass::Oco,
            ..bracket(sell, "120", "80")
        };
        let (first, legs) = oco.split(d("100")).unwrap();
        assert_eq!(
            first.limit_price,
            Some(d("120")),
            "the price from take_profit"
        );
        assert_eq!(legs.len(), 1);
        assert_eq!(legs[0].kind, OrderType::Stop);
        let buy_oco = OrderRequest {
            class: OrderClass::Oco,
            ..bracket(buy(OrderType::Limit, Some("120")), "120", "80")
        };
        assert!(buy_oco.split(d("100")).is_err());
    }
}
