//! What the market says at a moment: each listed asset's price (the stored one, else
//! its reference price) and whether the market is open.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use crate::store::StoredPrice;
use crate::trading::assets::{self, Symbol};
use crate::trading::clock::MarketClock;
use crate::trading::orders::Holding;

#[derive(Clone, Debug)]
pub struct Market {
    prices: HashMap<Symbol, Decimal>,
    clock: MarketClock,
}

impl Market {
    /// The listed assets at their reference prices, overridden by `stored`.
    pub fn new(stored: &[StoredPrice], clock: MarketClock) -> Self {
        let mut prices: HashMap<Symbol, Decimal> = assets::listed()
            .into_iter()
            .map(|a| (a.symbol, a.reference_price))
            .collect();
        for p in stored {
            if let Some(price) = prices.get_mut(&p.symbol) {
                *price = p.price;
            }
        }
        Self { prices, clock }
    }

    /// The price of a listed symbol.
    pub fn price(&self, symbol: &Symbol) -> Option<Decimal> {
        self.prices.get(symbol).copied()
    }

    /// What `holdings` are worth at the market's prices (a holding of a symbol the
    /// market does not list, at what it cost).
    pub fn value_of(&self, holdings: &[(Symbol, Holding)]) -> Decimal {
        holdings
            .iter()
            .map(|(symbol, h)| h.qty * self.price(symbol).unwrap_or(h.avg_entry_price))
            .sum()
    }

    pub fn is_open(&self, now: DateTime<Utc>) -> bool {
        self.clock.is_open(now)
    }

    pub fn clock(&self) -> MarketClock {
        self.clock
    }
}
