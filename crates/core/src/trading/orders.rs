//! Orders: the values an order can take (as Alpaca names them), what makes a new order
//! valid, when a resting order fills, and what a fill does to cash and holdings. No
//! I/O: the store applies what these functions decide, in one transaction.

use chrono::{DateTime, Utc};
use rust_decimal::{Decimal, RoundingStrategy};
use uuid::Uuid;

use crate::ids::{AccountId, OrderId};
use crate::money::SCALE;
use crate::trading::assets::Symbol;

/// Wire names, both ways, for the enums of an order.
macro_rules! wire_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident = $wire:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => $wire),+ }
            }

            /// The value named `s`, exactly as Alpaca writes it.
            pub fn parse(s: &str) -> Option<Self> {
                match s { $($wire => Some($name::$variant),)+ _ => None }
            }

            /// Every accepted name, for an error message.
            pub fn names() -> String {
                Self::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", ")
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

pub(crate) use wire_enum;

wire_enum!(Side { Buy = "buy", Sell = "sell" });

wire_enum!(OrderType {
    Market = "market",
    Limit = "limit",
    Stop = "stop",
    StopLimit = "stop_limit",
    TrailingStop = "trailing_stop",
});

wire_enum!(TimeInForce {
    Day = "day",
    Gtc = "gtc",
    Opg = "opg",
    Cls = "cls",
    Ioc = "ioc",
    Fok = "fok",
});

wire_enum!(OrderClass {
    Simple = "simple",
    Bracket = "bracket",
    Oco = "oco",
    Oto = "oto",
});

wire_enum!(
    /// Every status alpaca-py's `OrderStatus` knows; paddock's orders use a few.
    OrderStatus {
        New = "new",
        PartiallyFilled = "partially_filled",
        Filled = "filled",
        DoneForDay = "done_for_day",
        Canceled = "canceled",
        Expired = "expired",
        Replaced = "replaced",
        PendingCancel = "pending_cancel",
        PendingReplace = "pending_replace",
        Accepted = "accepted",
        PendingNew = "pending_new",
        AcceptedForBidding = "accepted_for_bidding",
        Stopped = "stopped",
        Rejected = "rejected",
        Suspended = "suspended",
        Calculated = "calculated",
        Held = "held",
    }
);

impl OrderStatus {
    /// Whether an order in this status may still fill or be canceled.
    pub const fn is_open(self) -> bool {
        matches!(
            self,
            OrderStatus::New
                | OrderStatus::PartiallyFilled
                | OrderStatus::Accepted
                | OrderStatus::PendingNew
                | OrderStatus::Held
                | OrderStatus::AcceptedForBidding
                | OrderStatus::PendingCancel
                | OrderStatus::PendingReplace
        )
    }
}

/// How much an order is for: shares, or dollars (a market order for a fractional
/// number of shares, worked out at the fill price).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Amount {
    Qty(Decimal),
    Notional(Decimal),
}

/// A new order, parsed from the request but not yet checked against the rules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewOrder {
    pub amount: Amount,
    pub side: Side,
    pub kind: OrderType,
    pub time_in_force: TimeInForce,
    pub limit_price: Option<Decimal>,
    pub stop_price: Option<Decimal>,
    pub trail_price: Option<Decimal>,
    pub trail_percent: Option<Decimal>,
    pub extended_hours: bool,
    pub client_order_id: Option<String>,
}

/// Why an order is refused: 422 for a request that can never be valid, 403 for one
/// the account cannot afford (Alpaca's split, and its wording where it has one).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OrderRejection {
    #[error("{0}")]
    Invalid(String),
    #[error("insufficient buying power")]
    InsufficientBuyingPower,
    #[error("new orders are refused: suspend_trade is set in this account's configurations")]
    Suspended,
    #[error(
        "insufficient qty available for order (requested: {requested}, available: {available})"
    )]
    InsufficientQty {
        requested: Decimal,
        available: Decimal,
    },
}

fn invalid(message: impl Into<String>) -> OrderRejection {
    OrderRejection::Invalid(message.into())
}

/// A positive amount with at most nine decimals.
/// A positive amount the store can keep: at most nine decimals and below 9.2 billion
/// (so that no product of two amounts can overflow either).
fn positive(name: &str, value: Decimal) -> Result<(), OrderRejection> {
    if value <= Decimal::ZERO {
        return Err(invalid(format!("{name} must be > 0")));
    }
    if value.normalize().scale() > SCALE {
        return Err(invalid(format!("{name} has more than 9 decimal places")));
    }
    crate::money::to_nanos(value).map_err(|_| invalid(format!("{name} is too large")))?;
    Ok(())
}

/// Alpaca's smallest notional order, in dollars.
pub const MIN_NOTIONAL: Decimal = Decimal::ONE;

/// The longest `client_order_id` Alpaca accepts.
pub const MAX_CLIENT_ORDER_ID: usize = 128;

impl NewOrder {
    /// An order with no prices, no extended hours and no `client_order_id`: a market
    /// order, or the start of one whose prices the caller sets.
    pub fn plain(side: Side, kind: OrderType, amount: Amount, time_in_force: TimeInForce) -> Self {
        Self {
            amount,
            side,
            kind,
            time_in_force,
            limit_price: None,
            stop_price: None,
            trail_price: None,
            trail_percent: None,
            extended_hours: false,
            client_order_id: None,
        }
    }

    /// A notional order, or one for a fraction of a share.
    pub fn is_fractional(&self) -> bool {
        match self.amount {
            Amount::Notional(_) => true,
            Amount::Qty(qty) => qty.fract() != Decimal::ZERO,
        }
    }

    /// Alpaca's rules for a simple order: what each type needs, what notional and
    /// fractional orders may be, and when extended hours apply.
    pub fn validate(&self) -> Result<(), OrderRejection> {
        match self.amount {
            Amount::Qty(qty) => positive("qty", qty)?,
            Amount::Notional(notional) => {
                positive("notional", notional)?;
                if notional < MIN_NOTIONAL {
                    return Err(invalid("notional must be at least $1"));
                }
                if self.kind != OrderType::Market {
                    return Err(invalid(
                        "notional orders are only supported for market orders",
                    ));
                }
            }
        }
        if self.is_fractional() && self.time_in_force != TimeInForce::Day {
            return Err(invalid("fractional orders must be DAY orders"));
        }
        let needs = |name: &str, value: Option<Decimal>| -> Result<(), OrderRejection> {
            match value {
                Some(v) => positive(name, v),
                None => Err(invalid(format!(
                    "{name} is required for {} orders",
                    self.kind
                ))),
            }
        };
        let refuses = |name: &str, value: Option<Decimal>| -> Result<(), OrderRejection> {
            match value {
                Some(_) => Err(invalid(format!(
                    "{name} is not allowed for {} orders",
                    self.kind
                ))),
                None => Ok(()),
            }
        };
        match self.kind {
            OrderType::Market => {
                refuses("limit_price", self.limit_price)?;
                refuses("stop_price", self.stop_price)?;
            }
            OrderType::Limit => {
                needs("limit_price", self.limit_price)?;
                refuses("stop_price", self.stop_price)?;
            }
            OrderType::Stop => {
                needs("stop_price", self.stop_price)?;
                refuses("limit_price", self.limit_price)?;
            }
            OrderType::StopLimit => {
                needs("limit_price", self.limit_price)?;
                needs("stop_price", self.stop_price)?;
            }
            OrderType::TrailingStop => {
                refuses("limit_price", self.limit_price)?;
                refuses("stop_price", self.stop_price)?;
                match (self.trail_price, self.trail_percent) {
                    (Some(price), None) => positive("trail_price", price)?,
                    (None, Some(percent)) => {
                        positive("trail_percent", percent)?;
                        if percent >= Decimal::from(100) {
                            return Err(invalid("trail_percent must be < 100"));
                        }
                    }
                    _ => {
                        return Err(invalid(
                            "trailing_stop orders need exactly one of trail_price and trail_percent",
                        ));
                    }
                }
            }
        }
        if self.kind != OrderType::TrailingStop
            && (self.trail_price.is_some() || self.trail_percent.is_some())
        {
            return Err(invalid(format!(
                "trail_price and trail_percent are only for trailing_stop orders, not {}",
                self.kind
            )));
        }
        if matches!(self.time_in_force, TimeInForce::Opg | TimeInForce::Cls)
            && !matches!(self.kind, OrderType::Market | OrderType::Limit)
        {
            return Err(invalid(format!(
                "{} orders are market or limit orders",
                self.time_in_force
            )));
        }
        if self.extended_hours
            && !(self.kind == OrderType::Limit && self.time_in_force == TimeInForce::Day)
        {
            return Err(invalid("extended hours orders must be DAY limit orders"));
        }
        if let Some(id) = &self.client_order_id
            && (id.is_empty() || id.chars().count() > MAX_CLIENT_ORDER_ID)
        {
            return Err(invalid(format!(
                "client_order_id must be 1 to {MAX_CLIENT_ORDER_ID} characters"
            )));
        }
        Ok(())
    }
}

/// Shares for `notional` dollars at `price`: rounded down to nine decimals, so that the
/// fill never costs more than asked.
pub fn qty_for_notional(notional: Decimal, price: Decimal) -> Decimal {
    (notional / price).round_dp_with_strategy(SCALE, RoundingStrategy::ToZero)
}

/// What a resting order needs from the market to fill, and where it stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Trigger {
    pub kind: OrderType,
    pub side: Side,
    pub limit_price: Option<Decimal>,
    pub stop_price: Option<Decimal>,
    pub trail_price: Option<Decimal>,
    pub trail_percent: Option<Decimal>,
    /// A stop-limit whose stop was crossed now rests as a limit order.
    pub stopped: bool,
    /// A trailing stop's high (sell) or low (buy) water mark since it was placed.
    pub water_mark: Option<Decimal>,
}

/// What a market price does to a resting order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Crossing {
    /// It fills, at this price.
    Fill(Decimal),
    /// It rests, with its trigger updated (a stop crossed, a water mark moved).
    Rest(Trigger),
}

impl Trigger {
    /// The order's response to the market trading at `price`. A buy limit fills at or
    /// below its limit, a sell limit at or above; a stop triggers when the price
    /// reaches it, then fills as a market (stop) or rests as a limit (stop-limit); a
    /// trailing stop follows the best price since it was placed and fills when the
    /// price comes back by the trail.
    pub fn at(self, price: Decimal) -> Crossing {
        let limit_ok = |limit: Option<Decimal>| match (self.side, limit) {
            (Side::Buy, Some(limit)) => price <= limit,
            (Side::Sell, Some(limit)) => price >= limit,
            (_, None) => false,
        };
        let stop_hit = |stop: Option<Decimal>| match (self.side, stop) {
            (Side::Buy, Some(stop)) => price >= stop,
            (Side::Sell, Some(stop)) => price <= stop,
            (_, None) => false,
        };
        match self.kind {
            OrderType::Market => Crossing::Fill(price),
            OrderType::Limit if limit_ok(self.limit_price) => Crossing::Fill(price),
            OrderType::Stop if stop_hit(self.stop_price) => Crossing::Fill(price),
            OrderType::StopLimit if self.stopped || stop_hit(self.stop_price) => {
                if limit_ok(self.limit_price) {
                    Crossing::Fill(price)
                } else {
                    Crossing::Rest(Trigger {
                        stopped: true,
                        ..self
                    })
                }
            }
            OrderType::TrailingStop => {
                let mark = match (self.side, self.water_mark) {
                    (Side::Sell, Some(mark)) => mark.max(price),
                    (Side::Buy, Some(mark)) => mark.min(price),
                    (_, None) => price,
                };
                let trail = match (self.trail_price, self.trail_percent) {
                    (Some(trail), _) => trail,
                    (None, Some(percent)) => mark * percent / Decimal::from(100),
                    (None, None) => Decimal::ZERO,
                };
                let stop = match self.side {
                    Side::Sell => mark - trail,
                    Side::Buy => mark + trail,
                };
                if stop_hit(Some(stop)) && self.water_mark.is_some() {
                    Crossing::Fill(price)
                } else {
                    Crossing::Rest(Trigger {
                        water_mark: Some(mark),
                        ..self
                    })
                }
            }
            _ => Crossing::Rest(self),
        }
    }
}

/// An account's shares of one symbol (long only: the paper brokerage does not short).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Holding {
    pub qty: Decimal,
    pub avg_entry_price: Decimal,
}

/// A fill: this many shares, this side, at this price.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fill {
    pub side: Side,
    pub qty: Decimal,
    pub price: Decimal,
}

impl Fill {
    /// What the fill costs (a buy) or brings in (a sell), to the billionth.
    pub fn value(&self) -> Decimal {
        (self.qty * self.price).round_dp_with_strategy(SCALE, RoundingStrategy::MidpointNearestEven)
    }
}

/// Cash and the holding of the fill's symbol after the fill, or why the account cannot
/// take it: a buy may spend `buying_power` at most (cash less what open orders hold),
/// a sell may sell `sellable` shares at most (held less what open sells hold).
pub fn apply_fill(
    cash: Decimal,
    buying_power: Decimal,
    holding: Option<Holding>,
    sellable: Decimal,
    fill: &Fill,
) -> Result<(Decimal, Option<Holding>), OrderRejection> {
    let value = fill.value();
    match fill.side {
        Side::Buy => {
            if value > buying_power || value > cash {
                return Err(OrderRejection::InsufficientBuyingPower);
            }
            let (qty, cost) = match holding {
                Some(h) => (h.qty + fill.qty, h.qty * h.avg_entry_price + value),
                None => (fill.qty, value),
            };
            let avg_entry_price =
                (cost / qty).round_dp_with_strategy(SCALE, RoundingStrategy::MidpointNearestEven);
            Ok((
                cash - value,
                Some(Holding {
                    qty,
                    avg_entry_price,
                }),
            ))
        }
        Side::Sell => {
            let held = holding.map_or(Decimal::ZERO, |h| h.qty);
            if fill.qty > sellable.min(held) {
                return Err(OrderRejection::InsufficientQty {
                    requested: fill.qty.normalize(),
                    available: sellable.min(held).normalize(),
                });
            }
            let left = held - fill.qty;
            let holding = holding
                .filter(|_| left > Decimal::ZERO)
                .map(|h| Holding { qty: left, ..h });
            Ok((cash + value, holding))
        }
    }
}

/// An order of an account, as the store keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Order {
    pub id: OrderId,
    pub account_id: AccountId,
    pub client_order_id: String,
    pub symbol: Symbol,
    pub asset_id: Uuid,
    pub side: Side,
    pub kind: OrderType,
    pub time_in_force: TimeInForce,
    pub amount: Amount,
    pub filled_qty: Decimal,
    pub filled_avg_price: Option<Decimal>,
    /// Prices, and where a stop or trailing stop stands.
    pub trigger: Trigger,
    pub extended_hours: bool,
    pub status: OrderStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub submitted_at: DateTime<Utc>,
    pub filled_at: Option<DateTime<Utc>>,
    pub canceled_at: Option<DateTime<Utc>>,
    pub expired_at: Option<DateTime<Utc>>,
    /// The order this one replaced (`PATCH /v2/orders/{id}`), and, on a replaced
    /// order, the one that replaced it and when.
    pub replaces: Option<OrderId>,
    pub replaced_by: Option<OrderId>,
    pub replaced_at: Option<DateTime<Utc>>,
    /// `simple`, or the class of the group (bracket, OCO, OTO) the order belongs to.
    pub class: OrderClass,
    /// For a leg: the group's first order (the entry; for OCO, the take-profit limit).
    pub parent_id: Option<OrderId>,
}

/// A replacement's changes (`PATCH /v2/orders/{id}`): `None` keeps the order's value.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OrderPatch {
    pub qty: Option<Decimal>,
    pub time_in_force: Option<TimeInForce>,
    pub limit_price: Option<Decimal>,
    pub stop_price: Option<Decimal>,
    /// The new trail: a price or a percent, as the order has.
    pub trail: Option<Decimal>,
    pub client_order_id: Option<String>,
}

impl OrderPatch {
    pub fn is_empty(&self) -> bool {
        *self == OrderPatch::default()
    }
}

impl Order {
    /// A new order, as placed at `now`: `open` says whether the market is.
    pub fn new(
        id: OrderId,
        account_id: AccountId,
        asset: &crate::trading::assets::Asset,
        new: &NewOrder,
        open: bool,
        now: DateTime<Utc>,
    ) -> Self {
        Order {
            id,
            account_id,
            client_order_id: new
                .client_order_id
                .clone()
                .unwrap_or_else(|| id.to_string()),
            symbol: asset.symbol.clone(),
            asset_id: asset.id,
            side: new.side,
            kind: new.kind,
            time_in_force: new.time_in_force,
            amount: new.amount,
            filled_qty: Decimal::ZERO,
            filled_avg_price: None,
            trigger: Trigger {
                kind: new.kind,
                side: new.side,
                limit_price: new.limit_price,
                stop_price: new.stop_price,
                trail_price: new.trail_price,
                trail_percent: new.trail_percent,
                stopped: false,
                water_mark: None,
            },
            extended_hours: new.extended_hours,
            status: if open {
                OrderStatus::New
            } else {
                OrderStatus::Accepted
            },
            created_at: now,
            updated_at: now,
            submitted_at: now,
            filled_at: None,
            canceled_at: None,
            expired_at: None,
            replaces: None,
            replaced_by: None,
            replaced_at: None,
            class: OrderClass::Simple,
            parent_id: None,
        }
    }

    /// The order as it stood just after `event` (the store keeps only its state now):
    /// what a trade update shows.
    pub fn as_of(&self, event: &TradeEvent) -> Order {
        let mut order = Order {
            filled_qty: Decimal::ZERO,
            filled_avg_price: None,
            filled_at: None,
            canceled_at: None,
            expired_at: None,
            replaced_by: None,
            replaced_at: None,
            updated_at: event.at,
            ..self.clone()
        };
        match event.kind {
            TradeEventKind::New => {
                order.status = match self.status {
                    OrderStatus::Held | OrderStatus::Accepted => self.status,
                    _ => OrderStatus::New,
                };
            }
            TradeEventKind::Fill => {
                order.status = OrderStatus::Filled;
                order.filled_qty = event.fill.map_or(self.filled_qty, |f| f.qty);
                order.filled_avg_price = event.fill.map(|f| f.price);
                order.filled_at = Some(event.at);
            }
            TradeEventKind::Canceled => {
                order.status = OrderStatus::Canceled;
                order.canceled_at = Some(event.at);
            }
            TradeEventKind::Expired => {
                order.status = OrderStatus::Expired;
                order.expired_at = Some(event.at);
            }
            TradeEventKind::Rejected => order.status = OrderStatus::Rejected,
            TradeEventKind::Replaced => {
                order.status = OrderStatus::Replaced;
                order.replaced_by = self.replaced_by;
                order.replaced_at = Some(event.at);
            }
        }
        order
    }

    /// The group the order belongs to, named by its first order; `None` for a simple
    /// order.
    pub fn group(&self) -> Option<OrderId> {
        (self.class != OrderClass::Simple).then(|| self.parent_id.unwrap_or(self.id))
    }

    /// Whether the order holds back funds or shares now: an open order does, except a
    /// leg still held for its entry's fill, and the stop-loss leg of a bracket or OCO
    /// (it sells the same shares as its take-profit sibling, and only one of them can
    /// fill).
    pub fn holds_back(&self) -> bool {
        let second_leg = self.parent_id.is_some()
            && matches!(self.class, OrderClass::Bracket | OrderClass::Oco)
            && matches!(self.kind, OrderType::Stop | OrderType::StopLimit);
        self.status.is_open() && self.status != OrderStatus::Held && !second_leg
    }

    /// The order that would replace this one under `patch`, to be validated as any new
    /// order is. Its side, type and symbol stay; a notional order stays notional unless
    /// the patch gives a `qty`.
    pub fn patched(&self, patch: &OrderPatch) -> Result<NewOrder, OrderRejection> {
        if patch.is_empty() {
            return Err(invalid(
                "nothing to replace: give qty, time_in_force, limit_price, stop_price, trail \
                 or client_order_id",
            ));
        }
        let refuse = |name: &str, given: bool, has: bool| {
            if given && !has {
                Err(invalid(format!(
                    "{name} cannot be set on a {} order",
                    self.kind
                )))
            } else {
                Ok(())
            }
        };
        refuse(
            "limit_price",
            patch.limit_price.is_some(),
            self.trigger.limit_price.is_some(),
        )?;
        refuse(
            "stop_price",
            patch.stop_price.is_some(),
            self.trigger.stop_price.is_some(),
        )?;
        refuse(
            "trail",
            patch.trail.is_some(),
            self.kind == OrderType::TrailingStop,
        )?;
        let (trail_price, trail_percent) = match (patch.trail, self.trigger.trail_price) {
            (Some(trail), Some(_)) => (Some(trail), None),
            (Some(trail), None) => (None, Some(trail)),
            (None, _) => (self.trigger.trail_price, self.trigger.trail_percent),
        };
        Ok(NewOrder {
            amount: patch.qty.map_or(self.amount, Amount::Qty),
            side: self.side,
            kind: self.kind,
            time_in_force: patch.time_in_force.unwrap_or(self.time_in_force),
            limit_price: patch.limit_price.or(self.trigger.limit_price),
            stop_price: patch.stop_price.or(self.trigger.stop_price),
            trail_price,
            trail_percent,
            extended_hours: self.extended_hours,
            client_order_id: patch.client_order_id.clone(),
        })
    }

    /// The price a buy is taken to cost per share, for the funds it needs when placed
    /// and holds back while open: its limit when it has one (it fills at or below it),
    /// else the higher of its stop and `price`, the current one.
    pub fn commitment_price(&self, price: Decimal) -> Decimal {
        match (self.trigger.limit_price, self.trigger.stop_price) {
            (Some(limit), _) => limit,
            (None, Some(stop)) => stop.max(price),
            (None, None) => price,
        }
    }

    /// What an open buy holds back from buying power at `price`: its notional, or its
    /// remaining shares at its commitment price.
    pub fn reserved_cash(&self, price: Decimal) -> Decimal {
        if self.side != Side::Buy || !self.holds_back() {
            return Decimal::ZERO;
        }
        match self.amount {
            Amount::Notional(notional) => notional,
            Amount::Qty(qty) => ((qty - self.filled_qty) * self.commitment_price(price))
                .round_dp_with_strategy(SCALE, RoundingStrategy::AwayFromZero),
        }
    }

    /// The shares an open sell holds back from what can be sold at `price` (a notional
    /// sell, its shares at that price).
    pub fn reserved_qty(&self, price: Decimal) -> Decimal {
        if self.side != Side::Sell || !self.holds_back() {
            return Decimal::ZERO;
        }
        match self.amount {
            Amount::Qty(qty) => qty - self.filled_qty,
            Amount::Notional(notional) if price > Decimal::ZERO => {
                qty_for_notional(notional, price)
            }
            Amount::Notional(_) => Decimal::ZERO,
        }
    }
}

/// What happened to an order, as the trade-updates stream will tell it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TradeEventKind {
    New,
    Fill,
    Canceled,
    Expired,
    Replaced,
    /// A resting order the account could no longer pay for when it came to fill.
    Rejected,
}

impl TradeEventKind {
    pub fn parse(s: &str) -> Option<Self> {
        [
            TradeEventKind::New,
            TradeEventKind::Fill,
            TradeEventKind::Canceled,
            TradeEventKind::Expired,
            TradeEventKind::Replaced,
            TradeEventKind::Rejected,
        ]
        .into_iter()
        .find(|kind| kind.as_str() == s)
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            TradeEventKind::New => "new",
            TradeEventKind::Fill => "fill",
            TradeEventKind::Canceled => "canceled",
            TradeEventKind::Expired => "expired",
            TradeEventKind::Replaced => "replaced",
            TradeEventKind::Rejected => "rejected",
        }
    }
}

/// One event of an order, written in the transaction that makes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TradeEvent {
    pub account_id: AccountId,
    pub order_id: OrderId,
    pub kind: TradeEventKind,
    pub at: DateTime<Utc>,
    /// For a fill: its price, its shares, the position's shares after it, and an id.
    pub fill: Option<FillEvent>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FillEvent {
    pub price: Decimal,
    pub qty: Decimal,
    pub position_qty: Decimal,
    pub execution_id: Uuid,
}

#[cfg(test)]
#[path = "orders_tests.rs"]
mod tests;
