//! Placing, filling and canceling orders, each in one unit of work: the order, the
//! cash, the holding and the trade event change together or not at all. The account's
//! cash is locked first, so that concurrent orders of one account queue and none can
//! spend what another already spent.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sha2::{Digest as _, Sha256};
use uuid::Uuid;

use crate::ids::{AccountId, OrderId};
use crate::store::{Store, StoreError, Tx};
use crate::trading::assets::Asset;
use crate::trading::clock::MarketClock;
use crate::trading::groups::OrderRequest;
use crate::trading::market::Market;
use crate::trading::orders::{
    Amount, Crossing, Fill, FillEvent, Holding, NewOrder, Order, OrderClass, OrderPatch,
    OrderRejection, OrderStatus, Side, TradeEvent, TradeEventKind, apply_fill, qty_for_notional,
};
use crate::trading::timing;

/// Open orders one account may have at once: far more than anyone places by hand, few
/// enough that reading them all (for buying power, and the matcher) stays cheap.
pub const MAX_OPEN_ORDERS: u32 = 1_000;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Rejected(#[from] OrderRejection),
    #[error("order not found")]
    NotFound,
    #[error("order is already in \"{0}\" state")]
    NotCancelable(OrderStatus),
    #[error("order is in \"{0}\" state and can no longer be replaced")]
    NotReplaceable(OrderStatus),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What an account can spend and sell, apart from one order (`except`, being worked)
/// and the rest of its group.
struct Funds {
    cash: Decimal,
    buying_power: Decimal,
    holding: Option<Holding>,
    sellable: Decimal,
}

/// The account's [`Funds`], from its `open` orders, which the caller has read in the
/// unit of work (placing an order reads them once, for the open-order limit too).
async fn funds(
    tx: &mut Box<dyn Tx>,
    account: AccountId,
    cash: Decimal,
    asset: &Asset,
    market: &Market,
    except: Option<&Order>,
    open: Vec<Order>,
) -> Result<Funds, EngineError> {
    let apart = |o: &Order| match except {
        Some(x) => o.id != x.id && (x.group().is_none() || o.group() != x.group()),
        None => true,
    };
    let others: Vec<Order> = open.into_iter().filter(|o| apart(o)).collect();
    let reserved: Decimal = others
        .iter()
        .map(|o| o.reserved_cash(market.price(&o.symbol).unwrap_or(Decimal::ZERO)))
        .sum();
    let holding = tx.holding(account, &asset.symbol).await?;
    let selling: Decimal = others
        .iter()
        .filter(|o| o.symbol == asset.symbol)
        .map(|o| o.reserved_qty(market.price(&o.symbol).unwrap_or(Decimal::ZERO)))
        .sum();
    Ok(Funds {
        cash,
        buying_power: cash - reserved,
        holding,
        sellable: holding.map_or(Decimal::ZERO, |h| h.qty) - selling,
    })
}

/// The market as the database prices it inside the unit of work. A node's snapshot
/// of the prices lags a price set elsewhere until the node hears of it; this is what
/// was committed when the unit read it (on PostgreSQL, a price committed after that
/// read and before the order's commit is not seen, as in any read-committed check).
async fn priced(tx: &mut Box<dyn Tx>, clock: MarketClock) -> Result<Market, EngineError> {
    Ok(Market::new(&tx.stored_prices().await?, clock))
}

/// Places a simple order: [`submit_request`] without legs.
pub async fn submit(
    store: &dyn Store,
    account: AccountId,
    asset: &Asset,
    new: NewOrder,
    clock: MarketClock,
    now: DateTime<Utc>,
) -> Result<Order, EngineError> {
    let (order, _) = submit_request(
        store,
        account,
        asset,
        &OrderRequest::simple(new),
        clock,
        now,
    )
    .await?;
    Ok(order)
}

/// Places `request` for `account` on `asset`: checked against the rules, the
/// account's configuration and its funds, stored with its legs (held until the entry
/// fills, except an OCO's), and worked at once while the market is open. An IOC or
/// FOK order that cannot fill at once is canceled. Returns the order and its legs.
pub async fn submit_request(
    store: &dyn Store,
    account: AccountId,
    asset: &Asset,
    request: &OrderRequest,
    clock: MarketClock,
    now: DateTime<Utc>,
) -> Result<(Order, Vec<Order>), EngineError> {
    let mut tx = store.begin().await?;
    let cash = tx.lock_cash(account).await?.ok_or(EngineError::NotFound)?;
    let market = &priced(&mut tx, clock).await?;
    let price = market.price(&asset.symbol).ok_or(EngineError::NotFound)?;
    let (first, legs) = request.split(price)?;
    timing::admit(&first, market, now)?;
    let open = tx.open_orders_of(account).await?;
    if open.len() + 1 + legs.len() > MAX_OPEN_ORDERS as usize {
        return Err(OrderRejection::Invalid(format!(
            "an account may have {MAX_OPEN_ORDERS} open orders at most; cancel some first"
        ))
        .into());
    }
    let funds = funds(&mut tx, account, cash, asset, market, None, open).await?;
    let open_now = timing::session_open(&first, market, now);
    let mut order = Order::new(OrderId::timed(), account, asset, &first, open_now, now);
    order.class = request.class;
    admit(&mut tx, &order, &first, price, &funds).await?;
    event(&mut tx, &order, TradeEventKind::New, now, None).await?;
    for new in &legs {
        let mut leg = Order::new(OrderId::timed(), account, asset, new, open_now, now);
        leg.class = request.class;
        leg.parent_id = Some(order.id);
        if request.class != OrderClass::Oco {
            leg.status = OrderStatus::Held;
        }
        tx.insert_order(&leg).await?;
        event(&mut tx, &leg, TradeEventKind::New, now, None).await?;
    }
    let order = work_now(&mut tx, order, price, funds, market, now).await?;
    // A simple order has no legs to read back.
    let legs = if legs.is_empty() {
        Vec::new()
    } else {
        tx.legs_of(account, order.id).await?
    };
    tx.touch_account(account, now).await?;
    tx.commit().await?;
    Ok((order, legs))
}

/// Replaces an open order of `account` (`PATCH /v2/orders/{id}`): the old order ends
/// as `replaced`, and a new one, with the patch applied, is placed in its stead as
/// [`submit`] places one, its funds checked without the old order's hold.
pub async fn replace(
    store: &dyn Store,
    account: AccountId,
    id: OrderId,
    patch: &OrderPatch,
    clock: MarketClock,
    now: DateTime<Utc>,
) -> Result<Order, EngineError> {
    let mut tx = store.begin().await?;
    let cash = tx.lock_cash(account).await?.ok_or(EngineError::NotFound)?;
    let market = &priced(&mut tx, clock).await?;
    let old = tx
        .order_of(account, id)
        .await?
        .ok_or(EngineError::NotFound)?;
    if !old.status.is_open() {
        return Err(EngineError::NotReplaceable(old.status));
    }
    crate::trading::groups::check_replace(&old, patch)?;
    let new = old.patched(patch)?;
    new.validate()?;
    timing::admit(&new, market, now)?;
    let asset = crate::trading::assets::find(old.symbol.as_str()).ok_or(EngineError::NotFound)?;
    let open = tx.open_orders_of(account).await?;
    let funds = funds(&mut tx, account, cash, &asset, market, Some(&old), open).await?;
    let mut order = Order::new(
        OrderId::timed(),
        account,
        &asset,
        &new,
        timing::session_open(&new, market, now),
        now,
    );
    order.replaces = Some(old.id);
    order.class = old.class;
    order.parent_id = old.parent_id;
    let held = old.status == OrderStatus::Held;
    if held {
        order.status = OrderStatus::Held;
    }
    let old = Order {
        status: OrderStatus::Replaced,
        replaced_by: Some(order.id),
        replaced_at: Some(now),
        updated_at: now,
        ..old
    };
    tx.update_order(&old).await?;
    event(&mut tx, &old, TradeEventKind::Replaced, now, None).await?;
    let price = market.price(&asset.symbol).ok_or(EngineError::NotFound)?;
    admit(&mut tx, &order, &new, price, &funds).await?;
    event(&mut tx, &order, TradeEventKind::New, now, None).await?;
    // The legs follow their entry to its replacement.
    for mut leg in tx.legs_of(account, old.id).await? {
        leg.parent_id = Some(order.id);
        tx.update_order(&leg).await?;
    }
    let order = if held {
        order
    } else {
        work_now(&mut tx, order, price, funds, market, now).await?
    };
    tx.touch_account(account, now).await?;
    tx.commit().await?;
    Ok(order)
}

/// Checks a new `order` (from `new`) against the account's configuration and funds,
/// and stores it.
async fn admit(
    tx: &mut Box<dyn Tx>,
    order: &Order,
    new: &NewOrder,
    price: Decimal,
    funds: &Funds,
) -> Result<(), EngineError> {
    let config = tx.account_config(order.account_id).await?;
    if config.suspend_trade {
        return Err(OrderRejection::Suspended.into());
    }
    // Selling a fraction of a position only reduces it: allowed whatever the setting.
    if new.is_fractional() && new.side == Side::Buy && !config.fractional_trading {
        return Err(OrderRejection::Invalid(
            "fractional buys are turned off in this account's configurations".into(),
        )
        .into());
    }
    check_funds(order, price, funds)?;
    tx.insert_order(order).await?;
    Ok(())
}

/// Works a just-placed order when it may trade now: fills it when the price allows,
/// cancels an IOC, FOK or auction order that cannot fill, else lets it rest.
async fn work_now(
    tx: &mut Box<dyn Tx>,
    order: Order,
    price: Decimal,
    funds: Funds,
    market: &Market,
    now: DateTime<Utc>,
) -> Result<Order, EngineError> {
    if !timing::can_trade(&order, market, now) {
        return Ok(order);
    }
    Ok(match order.trigger.at(price) {
        Crossing::Fill(at) => fill(tx, order, at, funds, market, now).await?,
        Crossing::Rest(_) if timing::ends_unfilled(&order) => {
            close(tx, order, OrderStatus::Canceled, now).await?
        }
        Crossing::Rest(trigger) => rest(tx, order, trigger, now).await?,
    })
}

/// Refuses, before anything is stored, an order the account could not cover at its
/// commitment price (what it will hold back while open).
fn check_funds(order: &Order, price: Decimal, funds: &Funds) -> Result<(), OrderRejection> {
    // A held leg (its shares come with its entry's fill) and a group's second leg
    // (its sibling holds the shares) hold nothing back: nothing to check.
    match order.side {
        Side::Buy if order.reserved_cash(price) > funds.buying_power => {
            Err(OrderRejection::InsufficientBuyingPower)
        }
        Side::Sell if order.reserved_qty(price) > funds.sellable => {
            Err(OrderRejection::InsufficientQty {
                requested: order.reserved_qty(price).normalize(),
                available: funds.sellable.max(Decimal::ZERO).normalize(),
            })
        }
        _ => Ok(()),
    }
}

/// Fills the rest of `order` at `price`.
async fn fill(
    tx: &mut Box<dyn Tx>,
    mut order: Order,
    price: Decimal,
    funds: Funds,
    market: &Market,
    now: DateTime<Utc>,
) -> Result<Order, EngineError> {
    let qty = match order.amount {
        Amount::Qty(qty) => qty - order.filled_qty,
        Amount::Notional(notional) => qty_for_notional(notional, price),
    };
    if qty <= Decimal::ZERO {
        return Err(OrderRejection::Invalid(
            "the notional amount buys less than a billionth of a share".into(),
        )
        .into());
    }
    let fill = Fill {
        side: order.side,
        qty,
        price,
    };
    let (cash, holding) = apply_fill(
        funds.cash,
        funds.buying_power,
        funds.holding,
        funds.sellable,
        &fill,
    )?;
    tx.set_cash(order.account_id, cash).await?;
    tx.set_holding(order.account_id, &order.symbol, holding, now)
        .await?;
    order.filled_qty += qty;
    order.filled_avg_price = Some(price);
    order.status = OrderStatus::Filled;
    order.filled_at = Some(now);
    order.updated_at = now;
    tx.update_order(&order).await?;
    let detail = FillEvent {
        price,
        qty,
        position_qty: holding.map_or(Decimal::ZERO, |h| h.qty),
        execution_id: execution_id(order.id, order.filled_qty),
    };
    event(tx, &order, TradeEventKind::Fill, now, Some(detail)).await?;
    match order.class {
        // An entry's fill sets its legs to work.
        OrderClass::Bracket | OrderClass::Oto if order.parent_id.is_none() => {
            for mut leg in tx.legs_of(order.account_id, order.id).await? {
                if leg.status == OrderStatus::Held {
                    leg.status = if market.is_open(now) {
                        OrderStatus::New
                    } else {
                        OrderStatus::Accepted
                    };
                    leg.updated_at = now;
                    tx.update_order(&leg).await?;
                }
            }
        }
        // A leg's (or an OCO's first order's) fill cancels the rest.
        OrderClass::Bracket | OrderClass::Oto | OrderClass::Oco => {
            cancel_rest_of_group(tx, &order, now).await?;
        }
        OrderClass::Simple => {}
    }
    Ok(order)
}

/// Cancels the open orders of `order`'s group other than `order`: the legs of an
/// entry that ended unfilled, the sibling of a leg that filled or ended (never the
/// entry of a bracket or OTO).
async fn cancel_rest_of_group(
    tx: &mut Box<dyn Tx>,
    order: &Order,
    now: DateTime<Utc>,
) -> Result<(), EngineError> {
    let Some(root) = order.group() else {
        return Ok(());
    };
    let mut members = tx.legs_of(order.account_id, root).await?;
    // An OCO's first order is a sibling of its leg; a bracket's or OTO's is the entry,
    // which its legs' ending does not end.
    if root != order.id
        && order.class == OrderClass::Oco
        && let Some(first) = tx.order_of(order.account_id, root).await?
    {
        members.push(first);
    }
    for member in members {
        if member.id != order.id && member.status.is_open() {
            end(tx, member, OrderStatus::Canceled, now).await?;
        }
    }
    Ok(())
}

/// Keeps a resting order's trigger up to date (a stop crossed, a water mark moved).
async fn rest(
    tx: &mut Box<dyn Tx>,
    mut order: Order,
    trigger: crate::trading::orders::Trigger,
    now: DateTime<Utc>,
) -> Result<Order, EngineError> {
    if trigger != order.trigger {
        order.trigger = trigger;
        order.updated_at = now;
        tx.update_order(&order).await?;
    }
    Ok(order)
}

/// Ends an open order without a fill (canceled, expired or rejected), and with it the rest of
/// its group (a bracket's legs go with their entry, an OCO's sibling with its leg).
async fn close(
    tx: &mut Box<dyn Tx>,
    order: Order,
    status: OrderStatus,
    now: DateTime<Utc>,
) -> Result<Order, EngineError> {
    let order = end(tx, order, status, now).await?;
    cancel_rest_of_group(tx, &order, now).await?;
    Ok(order)
}

/// Ends one open order without a fill.
async fn end(
    tx: &mut Box<dyn Tx>,
    mut order: Order,
    status: OrderStatus,
    now: DateTime<Utc>,
) -> Result<Order, EngineError> {
    order.status = status;
    order.updated_at = now;
    let kind = match status {
        OrderStatus::Expired => {
            order.expired_at = Some(now);
            TradeEventKind::Expired
        }
        // When it failed is `updated_at`, which the order shows as `failed_at`.
        OrderStatus::Rejected => TradeEventKind::Rejected,
        _ => {
            order.canceled_at = Some(now);
            TradeEventKind::Canceled
        }
    };
    tx.update_order(&order).await?;
    event(tx, &order, kind, now, None).await?;
    Ok(order)
}

async fn event(
    tx: &mut Box<dyn Tx>,
    order: &Order,
    kind: TradeEventKind,
    at: DateTime<Utc>,
    fill: Option<FillEvent>,
) -> Result<(), EngineError> {
    tx.insert_event(&TradeEvent {
        account_id: order.account_id,
        order_id: order.id,
        kind,
        at,
        fill,
    })
    .await?;
    Ok(())
}

/// A fill's id: the same for the same order and cumulative quantity, so that a fill
/// retried by another node cannot get a second one.
fn execution_id(order: OrderId, cumulative: Decimal) -> Uuid {
    let digest = Sha256::digest(format!("paddock-fill:{order}:{cumulative}").as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

/// Cancels an open order of `account`.
pub async fn cancel(
    store: &dyn Store,
    account: AccountId,
    id: OrderId,
    now: DateTime<Utc>,
) -> Result<Order, EngineError> {
    let mut tx = store.begin().await?;
    tx.lock_cash(account).await?.ok_or(EngineError::NotFound)?;
    let order = tx
        .order_of(account, id)
        .await?
        .ok_or(EngineError::NotFound)?;
    if !order.status.is_open() {
        return Err(EngineError::NotCancelable(order.status));
    }
    let order = close(&mut tx, order, OrderStatus::Canceled, now).await?;
    tx.touch_account(account, now).await?;
    tx.commit().await?;
    Ok(order)
}

/// Whether [`work`] would change `order` now: checked without a unit of work, so that
/// the matcher opens one only for the orders that fill, expire, start or move.
pub fn needs_work(order: &Order, market: &Market, now: DateTime<Utc>) -> bool {
    // A held leg waits for its entry, which sets it to work.
    if order.status == OrderStatus::Held {
        return false;
    }
    let Some(price) = market.price(&order.symbol) else {
        return false;
    };
    if timing::expired(order, market, now) {
        return true;
    }
    if !timing::can_trade(order, market, now) {
        return order.status == OrderStatus::Accepted && market.is_open(now);
    }
    order.status == OrderStatus::Accepted
        || timing::ends_unfilled(order)
        || match order.trigger.at(price) {
            Crossing::Fill(_) => true,
            Crossing::Rest(trigger) => trigger != order.trigger,
        }
}

/// Works one resting order against the market: fills it when the price allows, keeps
/// its trigger current, expires a day order once the session it was placed for has
/// closed. Safe to run on several nodes at once: the account lock makes one of them
/// do it, and the others find the order no longer open.
pub async fn work(
    store: &dyn Store,
    order: &Order,
    asset: &Asset,
    clock: MarketClock,
    now: DateTime<Utc>,
) -> Result<Option<Order>, EngineError> {
    let mut tx = store.begin().await?;
    let Some(cash) = tx.lock_cash(order.account_id).await? else {
        return Ok(None);
    };
    let market = &priced(&mut tx, clock).await?;
    let Some(order) = tx.order_of(order.account_id, order.id).await? else {
        return Ok(None);
    };
    if !order.status.is_open() || order.status == OrderStatus::Held {
        return Ok(None);
    }
    let Some(price) = market.price(&order.symbol) else {
        return Ok(None);
    };
    // An order accepted while the market was closed is new once it opens.
    let promoted = order.status == OrderStatus::Accepted
        && (market.is_open(now) || timing::can_trade(&order, market, now));
    let order = if promoted {
        let order = Order {
            status: OrderStatus::New,
            updated_at: now,
            ..order
        };
        tx.update_order(&order).await?;
        order
    } else {
        order
    };
    let worked = if timing::expired(&order, market, now) {
        Some(close(&mut tx, order, OrderStatus::Expired, now).await?)
    } else if timing::can_trade(&order, market, now) {
        match order.trigger.at(price) {
            Crossing::Fill(at) => {
                let open = tx.open_orders_of(order.account_id).await?;
                let funds = funds(
                    &mut tx,
                    order.account_id,
                    cash,
                    asset,
                    market,
                    Some(&order),
                    open,
                )
                .await?;
                match fill(&mut tx, order.clone(), at, funds, market, now).await {
                    Ok(filled) => Some(filled),
                    // The account can no longer cover it (a price that rose past a
                    // stop, say): rejected, as Alpaca rejects an order that fails its
                    // buying-power check when it comes to trade, so that it does not
                    // come back at every tick, and the stream says so.
                    Err(EngineError::Rejected(_)) => {
                        Some(close(&mut tx, order, OrderStatus::Rejected, now).await?)
                    }
                    Err(e) => return Err(e),
                }
            }
            // An IOC or FOK order placed while closed gets one chance, at the open;
            // an auction order, its auction.
            Crossing::Rest(_) if timing::ends_unfilled(&order) => {
                Some(close(&mut tx, order, OrderStatus::Canceled, now).await?)
            }
            Crossing::Rest(trigger) if trigger != order.trigger => {
                Some(rest(&mut tx, order, trigger, now).await?)
            }
            Crossing::Rest(_) => promoted.then_some(order),
        }
    } else {
        promoted.then_some(order)
    };
    if let Some(order) = &worked {
        tx.touch_account(order.account_id, now).await?;
    }
    tx.commit().await?;
    Ok(worked)
}
