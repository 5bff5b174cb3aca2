"""alpaca-py against a running paddock, on the paper base and the live base, as its
users call it: `TradingClient(oauth_token=..., url_override=BASE)`. alpaca-py parses
every answer with strict pydantic models, so a field missing, mistyped or with an
unknown enum value fails the check that received it.

    python compat/alpaca_py_checks.py http://127.0.0.1:PORT LABEL [--verbose]
"""

import sys
import time
import uuid
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from importlib.metadata import version

from alpaca.common.enums import Sort
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import (
    AccountStatus,
    AssetClass,
    AssetStatus,
    OrderClass,
    OrderSide,
    OrderStatus,
    OrderType,
    PositionSide,
    QueryOrderStatus,
    TimeInForce,
    TradeConfirmationEmail,
    TradeEvent,
)
from alpaca.trading.models import (
    ClosePositionResponse,
    NonTradeActivity,
    Order,
    TradeActivity,
    TradeUpdate,
)
from alpaca.trading.requests import (
    ClosePositionRequest,
    CreateWatchlistRequest,
    GetAssetsRequest,
    GetCalendarRequest,
    GetOrderByIdRequest,
    GetOrdersRequest,
    GetPortfolioHistoryRequest,
    LimitOrderRequest,
    MarketOrderRequest,
    ReplaceOrderRequest,
    StopLimitOrderRequest,
    StopLossRequest,
    StopOrderRequest,
    TakeProfitRequest,
    TrailingStopOrderRequest,
    UpdateWatchlistRequest,
)

from alpaca.data.historical import StockHistoricalDataClient
from alpaca.data.requests import (
    StockBarsRequest,
    StockLatestQuoteRequest,
    StockLatestTradeRequest,
    StockSnapshotRequest,
)
from alpaca.data.timeframe import TimeFrame, TimeFrameUnit

import common
import trade_stream
from common import expect_status

# Statuses of an order that can still fill or be canceled, and of one that is done.
OPEN = {
    OrderStatus.NEW, OrderStatus.ACCEPTED, OrderStatus.PENDING_NEW, OrderStatus.HELD,
    OrderStatus.PARTIALLY_FILLED, OrderStatus.ACCEPTED_FOR_BIDDING,
    OrderStatus.PENDING_CANCEL, OrderStatus.PENDING_REPLACE, OrderStatus.CALCULATED,
}
DONE = {
    OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.EXPIRED,
    OrderStatus.REPLACED, OrderStatus.REJECTED,
}
# A buy limit this far below any listed price rests until canceled.
FAR_BELOW = 1.00


class Context:
    """One base: its clients (one per token) and what checks hand to later ones."""

    def __init__(self, server, base, tokens):
        self.server = server
        self.base = base  # "paper" or "live"
        self.url = server + ("/paper" if base == "paper" else "")
        self.account_id = common.PAPER_ACCOUNT if base == "paper" else common.LIVE_ACCOUNT
        self.tokens = tokens
        self.client = self.client_for("full")
        self.watchlist_id = None

    def client_for(self, token_name):
        return TradingClient(
            oauth_token=self.tokens[token_name], paper=self.base == "paper", url_override=self.url
        )


# ---------------------------------------------------------------- helpers


def wait_for(ctx, order_id, statuses, seconds=5.0):
    """The order once its status is one of `statuses` (fills may land just after the
    answer to the submit)."""
    deadline = time.monotonic() + seconds
    while True:
        order = ctx.client.get_order_by_id(order_id)
        if order.status in statuses or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert order.status in statuses, (
        f"order {order_id} is {order.status.value}, expected one of {sorted(s.value for s in statuses)}"
    )
    return order


def buy(ctx, symbol, qty):
    """A filled market buy of `qty` shares; returns the filled order."""
    order = ctx.client.submit_order(
        MarketOrderRequest(symbol=symbol, qty=qty, side=OrderSide.BUY, time_in_force=TimeInForce.DAY)
    )
    return wait_for(ctx, order.id, {OrderStatus.FILLED})


def resting_buy(ctx, symbol="AAPL", qty=1, **extra):
    """A buy limit far below the price: it stays open until canceled."""
    order = ctx.client.submit_order(
        LimitOrderRequest(
            symbol=symbol, qty=qty, side=OrderSide.BUY, time_in_force=TimeInForce.GTC,
            limit_price=FAR_BELOW, **extra,
        )
    )
    assert order.status in OPEN, f"a limit far below the price is {order.status.value}"
    return order


def price(ctx, symbol):
    """The symbol's current price, as a fill reports it (no quote endpoint here)."""
    return Decimal(str(buy(ctx, symbol, 1).filled_avg_price))


def held(ctx, symbol):
    """Shares of `symbol` held (0 when there is no position)."""
    for position in ctx.client.get_all_positions():
        if position.symbol == symbol:
            return Decimal(position.qty)
    return Decimal(0)


def is_aware(moment):
    return moment.tzinfo is not None and moment.utcoffset() is not None


# ---------------------------------------------------------------- account, market


def check_account(ctx):
    account = ctx.client.get_account()
    assert str(account.id) == ctx.account_id, f"the {ctx.base} base answered for account {account.id}"
    assert account.status == AccountStatus.ACTIVE, account.status
    for field in ("cash", "buying_power", "equity", "portfolio_value", "currency"):
        assert getattr(account, field) is not None, f"account.{field} is missing"
    for field in ("cash", "buying_power", "equity", "portfolio_value"):
        Decimal(getattr(account, field))  # a decimal number, as a string


def check_clock(ctx):
    clock = ctx.client.get_clock()
    # paddock serve --demo keeps the market open (--market always-open).
    assert clock.is_open is True, f"is_open={clock.is_open} under --demo"
    for field in ("timestamp", "next_open", "next_close"):
        assert is_aware(getattr(clock, field)), f"clock.{field} has no UTC offset"


def check_calendar(ctx):
    days = ctx.client.get_calendar(GetCalendarRequest(start=date(2025, 1, 1), end=date(2025, 1, 31)))
    dates = [day.date for day in days]
    assert dates, "no market days in January 2025"
    assert all(date(2025, 1, 1) <= d <= date(2025, 1, 31) for d in dates), dates
    assert dates == sorted(set(dates)), "days out of order or repeated"
    assert all(day.open < day.close for day in days)
    jan2 = days[dates.index(date(2025, 1, 2))]
    if (jan2.open.hour, jan2.open.minute) == (0, 0):
        # --market always-open: every day is a market day, all day long.
        assert len(dates) == 31, f"always-open, yet {31 - len(dates)} days of January are missing"
    else:
        # NYSE hours: regular session, no weekends, no holidays.
        assert (jan2.open.hour, jan2.open.minute) == (9, 30), jan2.open
        assert (jan2.close.hour, jan2.close.minute) == (16, 0), jan2.close
        assert date(2025, 1, 1) not in dates, "New Year's Day is a holiday"
        assert date(2025, 1, 4) not in dates, "a Saturday"
    assert ctx.client.get_calendar(), "the calendar without filters is empty"


def check_assets(ctx):
    assets = ctx.client.get_all_assets()
    symbols = {asset.symbol for asset in assets}
    assert len(assets) >= 30, f"{len(assets)} assets"
    assert {"AAPL", "SPY", "QQQ"} <= symbols, symbols
    active = ctx.client.get_all_assets(
        GetAssetsRequest(status=AssetStatus.ACTIVE, asset_class=AssetClass.US_EQUITY)
    )
    assert active and all(a.status == AssetStatus.ACTIVE for a in active)


def check_asset(ctx):
    aapl = ctx.client.get_asset("AAPL")
    assert aapl.symbol == "AAPL" and aapl.asset_class == AssetClass.US_EQUITY, aapl
    assert aapl.tradable and aapl.fractionable
    by_id = ctx.client.get_asset(aapl.id)  # a UUID: looked up by asset id
    assert by_id.symbol == "AAPL"
    expect_status(404, ctx.client.get_asset, "NOSUCHSYMBOL")


# ---------------------------------------------------------------- orders


def check_market_order_qty(ctx):
    order = ctx.client.submit_order(
        MarketOrderRequest(symbol="AAPL", qty=1, side=OrderSide.BUY, time_in_force=TimeInForce.DAY)
    )
    assert order.symbol == "AAPL" and order.side == OrderSide.BUY, order
    assert order.type == OrderType.MARKET and order.order_class == OrderClass.SIMPLE
    assert Decimal(str(order.qty)) == 1, order.qty
    filled = wait_for(ctx, order.id, {OrderStatus.FILLED})
    assert Decimal(str(filled.filled_qty)) == 1, filled.filled_qty
    assert Decimal(str(filled.filled_avg_price)) > 0, filled.filled_avg_price
    assert filled.filled_at is not None and is_aware(filled.filled_at)


def check_market_order_notional(ctx):
    order = ctx.client.submit_order(
        MarketOrderRequest(symbol="AAPL", notional=125.5, side=OrderSide.BUY, time_in_force=TimeInForce.DAY)
    )
    assert order.notional is not None and Decimal(order.notional) == Decimal("125.5"), order.notional
    filled = wait_for(ctx, order.id, {OrderStatus.FILLED})
    qty = Decimal(str(filled.filled_qty))
    assert qty != qty.to_integral_value(), f"a notional order of $125.50 filled a whole {qty} shares"
    cost = qty * Decimal(str(filled.filled_avg_price))
    assert abs(cost - Decimal("125.5")) < Decimal("0.01"), f"{qty} x {filled.filled_avg_price} = {cost}"


def check_limit_order_rests(ctx):
    client_order_id = f"compat-{uuid.uuid4()}"
    order = resting_buy(ctx, client_order_id=client_order_id)
    assert order.client_order_id == client_order_id
    assert order.type == OrderType.LIMIT and Decimal(str(order.limit_price)) == Decimal("1")
    assert order.time_in_force == TimeInForce.GTC
    again = ctx.client.get_order_by_id(order.id)
    assert again.status in OPEN and again.filled_at is None, again.status


def check_stop_orders_rest(ctx):
    # Buy stops far above the price wait for a rise that does not come.
    stop = ctx.client.submit_order(
        StopOrderRequest(symbol="AAPL", qty=1, side=OrderSide.BUY, time_in_force=TimeInForce.GTC, stop_price=10000)
    )
    assert stop.type == OrderType.STOP and stop.status in OPEN, (stop.type, stop.status)
    stop_limit = ctx.client.submit_order(
        StopLimitOrderRequest(
            symbol="AAPL", qty=1, side=OrderSide.BUY, time_in_force=TimeInForce.GTC,
            stop_price=10000, limit_price=10001,
        )
    )
    assert stop_limit.type == OrderType.STOP_LIMIT and stop_limit.status in OPEN
    trailing = ctx.client.submit_order(
        TrailingStopOrderRequest(
            symbol="AAPL", qty=1, side=OrderSide.BUY, time_in_force=TimeInForce.GTC, trail_percent=50
        )
    )
    assert trailing.type == OrderType.TRAILING_STOP and trailing.status in OPEN
    for order in (stop, stop_limit, trailing):
        ctx.client.cancel_order_by_id(order.id)


def check_get_orders_filters(ctx):
    resting = resting_buy(ctx)
    buy(ctx, "AAPL", 1)
    before = datetime.now(timezone.utc) - timedelta(hours=1)
    after = datetime.now(timezone.utc) + timedelta(hours=1)

    open_buys = ctx.client.get_orders(
        GetOrdersRequest(
            status=QueryOrderStatus.OPEN, limit=50, direction=Sort.DESC,
            symbols=["AAPL", "MSFT"], side=OrderSide.BUY,
        )
    )
    assert resting.id in {o.id for o in open_buys}, "the resting limit is not among the open orders"
    assert all(o.status in OPEN for o in open_buys), [o.status.value for o in open_buys]
    assert all(o.symbol in ("AAPL", "MSFT") and o.side == OrderSide.BUY for o in open_buys)
    created = [o.created_at for o in open_buys]
    assert created == sorted(created, reverse=True), "direction=desc is not newest first"

    closed = ctx.client.get_orders(GetOrdersRequest(status=QueryOrderStatus.CLOSED, limit=3))
    assert 1 <= len(closed) <= 3, f"{len(closed)} closed orders with limit=3"
    assert all(o.status in DONE for o in closed), [o.status.value for o in closed]

    window = ctx.client.get_orders(
        GetOrdersRequest(status=QueryOrderStatus.ALL, after=before, until=after, direction=Sort.ASC, nested=True)
    )
    created = [o.created_at for o in window]
    assert created == sorted(created), "direction=asc is not oldest first"
    assert resting.id in {o.id for o in window}

    sells = ctx.client.get_orders(GetOrdersRequest(status=QueryOrderStatus.ALL, side=OrderSide.SELL))
    assert all(o.side == OrderSide.SELL for o in sells), "side=sell returned buys"
    assert ctx.client.get_orders() is not None  # no filter at all
    ctx.client.cancel_order_by_id(resting.id)


def check_orders_filter_validation(ctx):
    # Unknown filter values are refused with a message, not ignored (issue #9).
    for params in ({"status": "bogus"}, {"direction": "sideways"}, {"side": "hold"}, {"limit": "many"}):
        expect_status(422, ctx.client.get, "/orders", params)


def check_time_in_force(ctx):
    # ioc and fok limits that cannot fill at once are canceled rather than left open.
    for tif in (TimeInForce.IOC, TimeInForce.FOK):
        order = ctx.client.submit_order(
            LimitOrderRequest(symbol="AAPL", qty=1, side=OrderSide.BUY, time_in_force=tif, limit_price=FAR_BELOW)
        )
        assert order.time_in_force == tif
        wait_for(ctx, order.id, {OrderStatus.CANCELED, OrderStatus.EXPIRED})
    extended = ctx.client.submit_order(
        LimitOrderRequest(
            symbol="AAPL", qty=1, side=OrderSide.BUY, time_in_force=TimeInForce.DAY,
            limit_price=FAR_BELOW, extended_hours=True,
        )
    )
    assert extended.extended_hours is True and extended.status in OPEN
    ctx.client.cancel_order_by_id(extended.id)


def check_other_account_order(ctx):
    # An order of the account on the other base is not found from this one.
    other = "live" if ctx.base == "paper" else "paper"
    elsewhere = Context(ctx.server, other, ctx.tokens)
    order = resting_buy(elsewhere)
    expect_status(404, ctx.client.get_order_by_id, order.id)
    expect_status(404, ctx.client.cancel_order_by_id, order.id)
    elsewhere.client.cancel_order_by_id(order.id)


def check_get_order_by_id(ctx):
    order = resting_buy(ctx)
    got = ctx.client.get_order_by_id(order.id)
    assert got.id == order.id and got.client_order_id == order.client_order_id
    nested = ctx.client.get_order_by_id(order.id, GetOrderByIdRequest(nested=True))
    assert nested.id == order.id
    expect_status(404, ctx.client.get_order_by_id, uuid.uuid4())
    ctx.client.cancel_order_by_id(order.id)


def check_get_order_by_client_id(ctx):
    client_order_id = f"compat-{uuid.uuid4()}"
    order = resting_buy(ctx, client_order_id=client_order_id)
    got = ctx.client.get_order_by_client_id(client_order_id)
    assert got.id == order.id
    expect_status(404, ctx.client.get_order_by_client_id, f"compat-missing-{uuid.uuid4()}")
    ctx.client.cancel_order_by_id(order.id)


def check_client_order_id_reuse(ctx):
    client_order_id = f"compat-{uuid.uuid4()}"
    order = resting_buy(ctx, client_order_id=client_order_id)
    expect_status(422, resting_buy, ctx, client_order_id=client_order_id)
    ctx.client.cancel_order_by_id(order.id)


def check_replace_order(ctx):
    order = resting_buy(ctx)
    new = ctx.client.replace_order_by_id(order.id, ReplaceOrderRequest(qty=2, limit_price=1.5))
    assert new.id != order.id, "a replacement is a new order"
    assert new.replaces == order.id, f"replaces={new.replaces}"
    assert Decimal(str(new.qty)) == 2 and Decimal(str(new.limit_price)) == Decimal("1.5"), (new.qty, new.limit_price)
    old = wait_for(ctx, order.id, {OrderStatus.REPLACED})
    assert old.replaced_by == new.id, f"replaced_by={old.replaced_by}"
    ctx.client.cancel_order_by_id(new.id)


def check_cancel_order(ctx):
    order = resting_buy(ctx)
    assert ctx.client.cancel_order_by_id(order.id) is None
    canceled = wait_for(ctx, order.id, {OrderStatus.CANCELED})
    assert canceled.canceled_at is not None
    # A filled order can no longer be canceled (Alpaca: 422).
    filled = buy(ctx, "AAPL", 1)
    expect_status(422, ctx.client.cancel_order_by_id, filled.id)


def check_cancel_orders(ctx):
    first, second = resting_buy(ctx), resting_buy(ctx, "MSFT")
    answers = ctx.client.cancel_orders()  # HTTP 207, one entry per order
    by_id = {answer.id: answer for answer in answers}
    for order in (first, second):
        assert order.id in by_id, f"order {order.id} is not in the answer to DELETE /v2/orders"
        assert by_id[order.id].status == 200, by_id[order.id]
    still_open = ctx.client.get_orders(GetOrdersRequest(status=QueryOrderStatus.OPEN))
    assert not {first.id, second.id} & {o.id for o in still_open}, "canceled orders are still open"


def check_bracket_limit_entry(ctx):
    order = ctx.client.submit_order(
        LimitOrderRequest(
            symbol="AAPL", qty=1, side=OrderSide.BUY, time_in_force=TimeInForce.GTC,
            limit_price=FAR_BELOW, order_class=OrderClass.BRACKET,
            take_profit=TakeProfitRequest(limit_price=3.0),
            stop_loss=StopLossRequest(stop_price=0.5, limit_price=0.45),
        )
    )
    assert order.order_class == OrderClass.BRACKET, order.order_class
    assert order.legs and len(order.legs) == 2, f"legs: {order.legs}"
    kinds = {leg.type for leg in order.legs}
    assert OrderType.LIMIT in kinds and OrderType.STOP_LIMIT in kinds, kinds
    assert all(leg.side == OrderSide.SELL for leg in order.legs)
    nested = ctx.client.get_orders(GetOrdersRequest(status=QueryOrderStatus.OPEN, nested=True))
    parent = [o for o in nested if o.id == order.id]
    assert parent and parent[0].legs and len(parent[0].legs) == 2, "nested=true does not nest the legs"
    leg_ids = {leg.id for leg in order.legs}
    assert not leg_ids & {o.id for o in nested}, "with nested=true legs appear at the top level too"
    ctx.client.cancel_order_by_id(order.id)
    for leg in order.legs:
        wait_for(ctx, leg.id, {OrderStatus.CANCELED})


def check_bracket_market_entry(ctx):
    now = price(ctx, "NVDA")
    order = ctx.client.submit_order(
        MarketOrderRequest(
            symbol="NVDA", qty=1, side=OrderSide.BUY, time_in_force=TimeInForce.GTC,
            order_class=OrderClass.BRACKET,
            take_profit=TakeProfitRequest(limit_price=float(round(now * Decimal("1.5"), 2))),
            stop_loss=StopLossRequest(stop_price=float(round(now * Decimal("0.5"), 2))),
        )
    )
    assert order.order_class == OrderClass.BRACKET
    wait_for(ctx, order.id, {OrderStatus.FILLED})
    parent = ctx.client.get_order_by_id(order.id, GetOrderByIdRequest(nested=True))
    assert parent.legs and len(parent.legs) == 2, f"legs: {parent.legs}"
    assert all(leg.status in OPEN for leg in parent.legs), [leg.status.value for leg in parent.legs]


def check_oco_order(ctx):
    now = price(ctx, "META")  # holds one share to exit from
    order = ctx.client.submit_order(
        LimitOrderRequest(
            symbol="META", qty=1, side=OrderSide.SELL, time_in_force=TimeInForce.GTC,
            order_class=OrderClass.OCO,
            take_profit=TakeProfitRequest(limit_price=float(round(now * 2, 2))),
            stop_loss=StopLossRequest(stop_price=float(round(now / 2, 2))),
        )
    )
    assert order.order_class == OrderClass.OCO, order.order_class
    assert order.status in OPEN and order.legs and len(order.legs) == 1, (order.status, order.legs)
    ctx.client.cancel_order_by_id(order.id)


def check_oto_order(ctx):
    order = ctx.client.submit_order(
        LimitOrderRequest(
            symbol="AAPL", qty=1, side=OrderSide.BUY, time_in_force=TimeInForce.GTC,
            limit_price=FAR_BELOW, order_class=OrderClass.OTO,
            take_profit=TakeProfitRequest(limit_price=5.0),
        )
    )
    assert order.order_class == OrderClass.OTO, order.order_class
    assert order.legs and len(order.legs) == 1, f"legs: {order.legs}"
    ctx.client.cancel_order_by_id(order.id)


def check_insufficient_funds_and_qty(ctx):
    expect_status(
        403, ctx.client.submit_order,
        MarketOrderRequest(symbol="AAPL", qty=100000, side=OrderSide.BUY, time_in_force=TimeInForce.DAY),
    )
    buy(ctx, "INTC", 1)
    expect_status(
        403, ctx.client.submit_order,
        MarketOrderRequest(symbol="INTC", qty=1000, side=OrderSide.SELL, time_in_force=TimeInForce.DAY),
    )


# ---------------------------------------------------------------- positions


def check_positions(ctx):
    buy(ctx, "MSFT", 1)
    positions = ctx.client.get_all_positions()
    msft = [p for p in positions if p.symbol == "MSFT"]
    assert msft, f"no MSFT among {[p.symbol for p in positions]}"
    assert Decimal(msft[0].qty) >= 1 and msft[0].side == PositionSide.LONG, msft[0]
    assert msft[0].asset_class == AssetClass.US_EQUITY


def check_open_position(ctx):
    buy(ctx, "MSFT", 1)
    position = ctx.client.get_open_position("MSFT")
    assert position.symbol == "MSFT" and Decimal(position.qty) >= 1
    by_id = ctx.client.get_open_position(position.asset_id)
    assert by_id.symbol == "MSFT"
    expect_status(404, ctx.client.get_open_position, "DIS")  # never bought here


def check_close_position_qty(ctx):
    buy(ctx, "AMZN", 3)
    before = held(ctx, "AMZN")
    order = ctx.client.close_position("AMZN", ClosePositionRequest(qty="1"))
    assert order.side == OrderSide.SELL and Decimal(str(order.qty)) == 1, (order.side, order.qty)
    wait_for(ctx, order.id, {OrderStatus.FILLED})
    assert held(ctx, "AMZN") == before - 1


def check_close_position_percentage(ctx):
    buy(ctx, "GOOGL", 4)
    before = held(ctx, "GOOGL")
    order = ctx.client.close_position("GOOGL", ClosePositionRequest(percentage="50"))
    assert order.side == OrderSide.SELL and Decimal(str(order.qty)) == before / 2, (order.side, order.qty)
    wait_for(ctx, order.id, {OrderStatus.FILLED})
    assert held(ctx, "GOOGL") == before / 2
    whole = ctx.client.close_position("GOOGL")  # the rest
    wait_for(ctx, whole.id, {OrderStatus.FILLED})
    expect_status(404, ctx.client.get_open_position, "GOOGL")


def check_close_all_positions(ctx):
    buy(ctx, "TSLA", 1)
    resting = resting_buy(ctx)
    answers = ctx.client.close_all_positions(cancel_orders=True)
    assert answers, "no position was closed"
    for answer in answers:
        assert isinstance(answer, ClosePositionResponse)
        assert answer.status == 200 and isinstance(answer.body, Order), answer
        wait_for(ctx, answer.body.id, {OrderStatus.FILLED})
    assert ctx.client.get_all_positions() == [], "positions remain after closing them all"
    wait_for(ctx, resting.id, {OrderStatus.CANCELED})


# ---------------------------------------------------------------- configurations


def check_get_configurations(ctx):
    config = ctx.client.get_account_configurations()
    assert config.trade_confirm_email in (TradeConfirmationEmail.ALL, TradeConfirmationEmail.NONE)
    Decimal(config.max_margin_multiplier)


def check_set_configurations(ctx):
    config = ctx.client.get_account_configurations()
    original = config.trade_confirm_email
    flipped = TradeConfirmationEmail.NONE if original == TradeConfirmationEmail.ALL else TradeConfirmationEmail.ALL
    config.trade_confirm_email = flipped
    changed = ctx.client.set_account_configurations(config)
    assert changed.trade_confirm_email == flipped, changed
    assert ctx.client.get_account_configurations().trade_confirm_email == flipped
    config.trade_confirm_email = original
    ctx.client.set_account_configurations(config)


# ---------------------------------------------------------------- watchlists


def the_watchlist(ctx):
    assert ctx.watchlist_id is not None, "no watchlist (creating one failed)"
    return ctx.watchlist_id


def check_watchlist_create(ctx):
    name = f"compat {uuid.uuid4().hex[:8]}"
    watchlist = ctx.client.create_watchlist(CreateWatchlistRequest(name=name, symbols=["AAPL", "MSFT"]))
    assert watchlist.name == name and str(watchlist.account_id) == ctx.account_id, watchlist
    assert [a.symbol for a in watchlist.assets or []] == ["AAPL", "MSFT"], watchlist.assets
    ctx.watchlist_id = watchlist.id


def check_watchlist_list(ctx):
    ids = {w.id for w in ctx.client.get_watchlists()}
    assert the_watchlist(ctx) in ids


def check_watchlist_get(ctx):
    watchlist = ctx.client.get_watchlist_by_id(the_watchlist(ctx))
    assert [a.symbol for a in watchlist.assets or []] == ["AAPL", "MSFT"]


def check_watchlist_update(ctx):
    watchlist = ctx.client.update_watchlist_by_id(
        the_watchlist(ctx), UpdateWatchlistRequest(name="compat renamed", symbols=["AAPL", "QQQ"])
    )
    assert watchlist.name == "compat renamed", watchlist.name
    assert [a.symbol for a in watchlist.assets or []] == ["AAPL", "QQQ"], watchlist.assets


def check_watchlist_add_asset(ctx):
    watchlist = ctx.client.add_asset_to_watchlist_by_id(the_watchlist(ctx), "SPY")
    assert [a.symbol for a in watchlist.assets or []] == ["AAPL", "QQQ", "SPY"], watchlist.assets


def check_watchlist_remove_asset(ctx):
    watchlist = ctx.client.remove_asset_from_watchlist_by_id(the_watchlist(ctx), "AAPL")
    assert [a.symbol for a in watchlist.assets or []] == ["QQQ", "SPY"], watchlist.assets


def check_watchlist_delete(ctx):
    ctx.client.delete_watchlist_by_id(the_watchlist(ctx))
    expect_status(404, ctx.client.get_watchlist_by_id, the_watchlist(ctx))


# ---------------------------------------------------------------- activities, history


def parse_activity(raw):
    # alpaca-py 0.44 has no TradingClient method for activities; its models are
    # TradeActivity for FILL and NonTradeActivity for every other type.
    return TradeActivity(**raw) if raw.get("activity_type") == "FILL" else NonTradeActivity(**raw)


def check_activities(ctx):
    buy(ctx, "AAPL", 1)
    activities = [parse_activity(raw) for raw in ctx.client.get("/account/activities")]
    fills = [a for a in activities if isinstance(a, TradeActivity)]
    assert fills, "no FILL activity after a filled order"
    assert all(str(a.account_id) == ctx.account_id for a in activities)
    only_fills = ctx.client.get("/account/activities/FILL", {"direction": "asc", "page_size": 2})
    assert 1 <= len(only_fills) <= 2, f"{len(only_fills)} activities with page_size=2"
    for raw in only_fills:
        assert parse_activity(raw).activity_type == "FILL", raw
    # Paging: page_token is the last id of the page before; the next page goes on
    # from there in the same direction (newest first by default).
    buy(ctx, "AAPL", 1)
    first = ctx.client.get("/account/activities/FILL", {"page_size": 1})
    second = ctx.client.get("/account/activities/FILL", {"page_size": 1, "page_token": first[0]["id"]})
    assert len(first) == 1 and len(second) == 1, (first, second)
    assert second[0]["id"] != first[0]["id"], "page_token did not move on"
    assert parse_activity(second[0]).transaction_time <= parse_activity(first[0]).transaction_time
    # activity_types filters the plain endpoint; an unknown filter value is refused.
    listed = ctx.client.get("/account/activities", {"activity_types": "FILL,DIV", "after": "2000-01-01T00:00:00Z"})
    assert all(raw["activity_type"] in ("FILL", "DIV") for raw in listed)
    expect_status(422, ctx.client.get, "/account/activities", {"direction": "sideways"})


def check_portfolio_history(ctx):
    history = ctx.client.get_portfolio_history()
    assert len(history.timestamp) == len(history.equity) == len(history.profit_loss), history
    week = ctx.client.get_portfolio_history(GetPortfolioHistoryRequest(period="1W", timeframe="1D"))
    assert week.timeframe == "1D", week.timeframe
    assert len(week.timestamp) == len(week.equity) == len(week.profit_loss_pct)


# ---------------------------------------------------------------- tokens and scopes


def check_no_trading_scope(ctx):
    client = ctx.client_for("no_trading")
    assert str(client.get_account().id) == ctx.account_id, "reads need no scope"
    expect_status(
        403, client.submit_order,
        MarketOrderRequest(symbol="AAPL", qty=1, side=OrderSide.BUY, time_in_force=TimeInForce.DAY),
    )
    expect_status(403, client.cancel_orders)
    expect_status(403, client.close_all_positions)


def check_read_only_token(ctx):
    client = ctx.client_for("read_only")
    assert client.get_orders() is not None, "reads need no scope"
    expect_status(403, client.create_watchlist, CreateWatchlistRequest(name="compat no", symbols=["AAPL"]))
    config = ctx.client.get_account_configurations()
    expect_status(403, client.set_account_configurations, config)


def check_paper_only_token(ctx):
    client = ctx.client_for("paper_only")
    if ctx.base == "paper":
        assert str(client.get_account().id) == common.PAPER_ACCOUNT
    else:
        error = expect_status(401, client.get_account)
        assert "Bearer" in error.response.headers.get("WWW-Authenticate", ""), error.response.headers


def check_bad_token(ctx):
    client = TradingClient(oauth_token="pdk_at_not-a-token", url_override=ctx.url)
    error = expect_status(401, client.get_account)
    assert "Bearer" in error.response.headers.get("WWW-Authenticate", ""), error.response.headers


CHECKS = [
    check_account, check_clock, check_calendar, check_assets, check_asset,
    check_market_order_qty, check_market_order_notional, check_limit_order_rests,
    check_stop_orders_rest, check_get_orders_filters, check_orders_filter_validation,
    check_time_in_force, check_other_account_order, check_get_order_by_id,
    check_get_order_by_client_id, check_client_order_id_reuse, check_replace_order,
    check_cancel_order, check_cancel_orders, check_bracket_limit_entry,
    check_bracket_market_entry, check_oco_order, check_oto_order,
    check_insufficient_funds_and_qty, check_positions, check_open_position,
    check_close_position_qty, check_close_position_percentage,
    check_get_configurations, check_set_configurations,
    check_watchlist_create, check_watchlist_list, check_watchlist_get,
    check_watchlist_update, check_watchlist_add_asset, check_watchlist_remove_asset,
    check_watchlist_delete, check_activities, check_portfolio_history,
    check_no_trading_scope, check_read_only_token, check_paper_only_token, check_bad_token,
    # Last: it cancels every open order and sells everything bought above.
    check_close_all_positions,
]


# ---------------------------------------------------------------- the trade-updates stream
# A plain websocket client speaks the protocol (compat/trade_stream.py); alpaca-py
# parses what arrives as its TradingStream does for its handlers: TradeUpdate(**data).


def parse_trade_update(data):
    update = TradeUpdate(**data)
    # `event` is Union[TradeEvent, str] there, so pydantic keeps the string: it must
    # still be one of alpaca-py's TradeEvent values.
    event = TradeEvent(update.event)
    assert is_aware(update.timestamp), f"timestamp {update.timestamp} has no UTC offset"
    return event.value, str(update.order.id), update.order.status.value


def stream_target(ctx):
    return trade_stream.Target(
        ctx.url, "/stream", ctx.base, ctx.tokens,
        buy=lambda: str(buy(ctx, "AAPL", 1).id),
        rest=lambda: str(resting_buy(ctx).id),
        cancel=ctx.client.cancel_order_by_id,
        parse=parse_trade_update,
    )


# ---------------------------------------------------------------- the Data API
# StockHistoricalDataClient(oauth_token=..., url_override=ROOT), as its users call it:
# the Data API lives at the server's root, for a token with the `data` scope.


class DataContext:
    def __init__(self, server, tokens):
        self.client = StockHistoricalDataClient(oauth_token=tokens["data"], url_override=server)
        self.without_scope = StockHistoricalDataClient(
            oauth_token=tokens["full"], url_override=server
        )


def check_data_latest_trade_and_quote(ctx):
    trades = ctx.client.get_stock_latest_trade(StockLatestTradeRequest(symbol_or_symbols=["AAPL", "SPY"]))
    assert set(trades) == {"AAPL", "SPY"}, trades
    assert trades["AAPL"].price > 0 and trades["AAPL"].size > 0
    quotes = ctx.client.get_stock_latest_quote(StockLatestQuoteRequest(symbol_or_symbols="MSFT"))
    quote = quotes["MSFT"]
    assert quote.bid_price < quote.ask_price, quote


def check_data_snapshot(ctx):
    snapshots = ctx.client.get_stock_snapshot(StockSnapshotRequest(symbol_or_symbols=["AAPL", "QQQ"]))
    snap = snapshots["AAPL"]
    assert snap.latest_trade.price == snap.minute_bar.close, snap
    assert snap.daily_bar is not None and snap.previous_daily_bar is not None


def check_data_bars_page_without_repeats(ctx):
    start = datetime.now(timezone.utc) - timedelta(hours=6)
    request = StockBarsRequest(
        symbol_or_symbols=["AAPL", "SPY"], timeframe=TimeFrame(5, TimeFrameUnit.Minute), start=start
    )
    whole = ctx.client.get_stock_bars(request).data
    assert whole["AAPL"] and whole["SPY"], whole.keys()
    # The same bars a page of 7 at a time (alpaca-py follows next_page_token itself
    # when given a limit larger than a page; here the raw pages are walked).
    seen = {"AAPL": [], "SPY": []}
    token = None
    while True:
        params = {"symbols": "AAPL,SPY", "timeframe": "5Min", "start": start.isoformat(), "limit": 7}
        if token:
            params["page_token"] = token
        page = ctx.client.get("/stocks/bars", params)
        for symbol, bars in page["bars"].items():
            seen[symbol].extend(bar["t"] for bar in bars)
        token = page.get("next_page_token")
        if not token:
            break
    for symbol in ("AAPL", "SPY"):
        times = [bar.timestamp for bar in whole[symbol]]
        assert len(seen[symbol]) == len(times) == len(set(seen[symbol])), symbol
    last = whole["AAPL"][-1]
    trade = ctx.client.get_stock_latest_trade(StockLatestTradeRequest(symbol_or_symbols="AAPL"))["AAPL"]
    assert last.close == trade.price, (last, trade)


def check_data_daily_bars(ctx):
    request = StockBarsRequest(
        symbol_or_symbols="SPY", timeframe=TimeFrame.Day, start=datetime.now(timezone.utc) - timedelta(days=30)
    )
    bars = ctx.client.get_stock_bars(request).data["SPY"]
    assert 15 <= len(bars) <= 31, len(bars)
    assert all(b.low <= min(b.open, b.close) and b.high >= max(b.open, b.close) for b in bars)


def check_data_needs_the_data_scope(ctx):
    expect_status(
        403,
        ctx.without_scope.get_stock_latest_trade,
        StockLatestTradeRequest(symbol_or_symbols="AAPL"),
    )


DATA_CHECKS = [
    check_data_latest_trade_and_quote,
    check_data_snapshot,
    check_data_bars_page_without_repeats,
    check_data_daily_bars,
    check_data_needs_the_data_scope,
]


def main():
    server, label = sys.argv[1].rstrip("/"), sys.argv[2]
    runner = common.Runner(f"alpaca-py {version('alpaca-py')} on {label}", "--verbose" in sys.argv)
    tokens = {}
    runner.run("oauth: tokens through the login and consent pages", lambda: tokens.update(common.tokens(server)))
    if not tokens:
        runner.finish()
    for base in ("paper", "live"):
        ctx = Context(server, base, tokens)
        for check in CHECKS:
            runner.run(f"{base}: {check.__name__.removeprefix('check_')}", check, ctx)
        for check in trade_stream.CHECKS:
            runner.run(f"{base}: {check.__name__.removeprefix('check_')}", check, stream_target(ctx))
    data = DataContext(server, tokens)
    for check in DATA_CHECKS:
        runner.run(f"data: {check.__name__.removeprefix('check_')}", check, data)
    runner.finish()


if __name__ == "__main__":
    main()
