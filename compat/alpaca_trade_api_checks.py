"""alpaca-trade-api (Alpaca's older SDK) against a running paddock, on the paper base
and the live base: `REST(oauth=TOKEN, base_url=BASE)`. Its entities wrap the JSON
without validating it, so these checks read the fields its users read (and that its
`Entity` turns into timestamps) and test their types.

    python compat/alpaca_trade_api_checks.py http://127.0.0.1:PORT LABEL [--verbose]
"""

import sys
import time
import uuid
from decimal import Decimal
from importlib.metadata import version

import pandas as pd
from alpaca_trade_api.entity import Entity, Order
from alpaca_trade_api.rest import REST

import common
import trade_stream
from common import expect_status

OPEN = {
    "new", "accepted", "pending_new", "held", "partially_filled", "accepted_for_bidding",
    "pending_cancel", "pending_replace", "calculated",
}
DONE = {"filled", "canceled", "expired", "replaced", "rejected"}
FAR_BELOW = "1.00"


class Context:
    def __init__(self, server, base, tokens):
        self.base = base
        self.url = server + ("/paper" if base == "paper" else "")
        self.account_id = common.PAPER_ACCOUNT if base == "paper" else common.LIVE_ACCOUNT
        self.tokens = tokens
        self.api = self.api_for("full")
        self.watchlist_id = None

    def api_for(self, token_name):
        return REST(oauth=self.tokens[token_name], base_url=self.url)


def decimal_string(value, what):
    """Alpaca sends money and quantities as JSON strings holding a decimal number."""
    assert isinstance(value, str), f"{what} is {type(value).__name__} {value!r}, expected a string"
    return Decimal(value)


def wait_for(ctx, order_id, statuses, seconds=5.0):
    deadline = time.monotonic() + seconds
    while True:
        order = ctx.api.get_order(order_id)
        if order.status in statuses or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert order.status in statuses, f"order {order_id} is {order.status}, expected one of {sorted(statuses)}"
    return order


def buy(ctx, symbol, qty):
    order = ctx.api.submit_order(symbol=symbol, qty=qty, side="buy", type="market", time_in_force="day")
    return wait_for(ctx, order.id, {"filled"})


def resting_buy(ctx, symbol="AAPL", **extra):
    order = ctx.api.submit_order(
        symbol=symbol, qty=1, side="buy", type="limit", time_in_force="gtc", limit_price=FAR_BELOW, **extra
    )
    assert order.status in OPEN, f"a limit far below the price is {order.status}"
    return order


def held(ctx, symbol):
    for position in ctx.api.list_positions():
        if position.symbol == symbol:
            return Decimal(position.qty)
    return Decimal(0)


def check_account(ctx):
    account = ctx.api.get_account()
    assert account.id == ctx.account_id, f"the {ctx.base} base answered for account {account.id}"
    assert account.status == "ACTIVE", account.status
    for field in ("cash", "buying_power", "equity", "portfolio_value"):
        decimal_string(getattr(account, field), f"account.{field}")
    assert isinstance(account.created_at, pd.Timestamp), account.created_at


def check_clock(ctx):
    clock = ctx.api.get_clock()
    assert clock.is_open is True
    for field in ("timestamp", "next_open", "next_close"):
        assert getattr(clock, field).tzinfo is not None, f"clock.{field} has no UTC offset"


def check_calendar(ctx):
    days = ctx.api.get_calendar(start="2025-01-01", end="2025-01-31")
    dates = [day.date.date().isoformat() for day in days]
    assert "2025-01-02" in dates, dates
    jan2 = days[dates.index("2025-01-02")]
    if jan2.open.strftime("%H:%M") == "00:00":  # --market always-open: every day
        assert len(dates) == 31, dates
    else:
        assert "2025-01-01" not in dates, "New Year's Day is a holiday"
        assert jan2.open.strftime("%H:%M") == "09:30" and jan2.close.strftime("%H:%M") == "16:00"
    for day in days:  # the session times the SDK parses (HHMM)
        day.session_open, day.session_close


def check_assets(ctx):
    assets = ctx.api.list_assets(status="active")
    symbols = {asset.symbol for asset in assets}
    assert {"AAPL", "SPY", "QQQ"} <= symbols and len(assets) >= 30, len(assets)
    aapl = ctx.api.get_asset("AAPL")
    assert aapl.symbol == "AAPL" and aapl._raw["class"] == "us_equity", aapl
    assert ctx.api.get_asset(aapl.id).symbol == "AAPL"


def check_market_order(ctx):
    order = ctx.api.submit_order(symbol="AAPL", qty=1, side="buy", type="market", time_in_force="day")
    assert isinstance(order.submitted_at, pd.Timestamp), order.submitted_at
    filled = wait_for(ctx, order.id, {"filled"})
    assert decimal_string(filled.filled_qty, "filled_qty") == 1
    assert decimal_string(filled.filled_avg_price, "filled_avg_price") > 0
    assert isinstance(filled.filled_at, pd.Timestamp)


def check_notional_order(ctx):
    order = ctx.api.submit_order(symbol="AAPL", notional=99.99, side="buy", type="market", time_in_force="day")
    filled = wait_for(ctx, order.id, {"filled"})
    qty = decimal_string(filled.filled_qty, "filled_qty")
    assert qty != qty.to_integral_value(), qty


def check_limit_order(ctx):
    client_order_id = f"compat-{uuid.uuid4()}"
    order = resting_buy(ctx, client_order_id=client_order_id)
    assert decimal_string(order.limit_price, "limit_price") == 1
    assert ctx.api.get_order(order.id).status in OPEN
    assert ctx.api.get_order_by_client_order_id(client_order_id).id == order.id
    ctx.api.cancel_order(order.id)


def check_list_orders(ctx):
    resting = resting_buy(ctx)
    open_orders = ctx.api.list_orders(status="open", limit=50, direction="desc", symbols=["AAPL"], side="buy")
    assert resting.id in {o.id for o in open_orders}
    assert all(o.status in OPEN and o.symbol == "AAPL" and o.side == "buy" for o in open_orders)
    closed = ctx.api.list_orders(status="closed", limit=2, nested=True)
    assert len(closed) <= 2 and all(o.status in DONE for o in closed), [o.status for o in closed]
    everything = ctx.api.list_orders(
        status="all", after="2000-01-01T00:00:00Z", until="2100-01-01T00:00:00Z", direction="asc"
    )
    created = [o.created_at for o in everything]
    assert created == sorted(created), "direction=asc is not oldest first"
    ctx.api.cancel_order(resting.id)


def check_replace_order(ctx):
    order = resting_buy(ctx)
    new = ctx.api.replace_order(order.id, qty="2", limit_price="1.5")
    assert new.id != order.id and new.replaces == order.id, (new.id, new.replaces)
    assert decimal_string(new.qty, "qty") == 2
    assert wait_for(ctx, order.id, {"replaced"}).replaced_by == new.id
    ctx.api.cancel_order(new.id)


def check_cancel_order(ctx):
    order = resting_buy(ctx)
    ctx.api.cancel_order(order.id)
    wait_for(ctx, order.id, {"canceled"})
    expect_status(404, ctx.api.get_order, str(uuid.uuid4()))


def check_cancel_all_orders(ctx):
    first, second = resting_buy(ctx), resting_buy(ctx, "MSFT")
    ctx.api.cancel_all_orders()
    for order in (first, second):
        wait_for(ctx, order.id, {"canceled"})


def check_bracket_order(ctx):
    order = ctx.api.submit_order(
        symbol="AAPL", qty=1, side="buy", type="limit", time_in_force="gtc", limit_price=FAR_BELOW,
        order_class="bracket", take_profit={"limit_price": "3"}, stop_loss={"stop_price": "0.5"},
    )
    assert order.order_class == "bracket" and len(order.legs) == 2, (order.order_class, order._raw.get("legs"))
    ctx.api.cancel_order(order.id)


def check_positions(ctx):
    buy(ctx, "MSFT", 2)
    positions = ctx.api.list_positions()
    msft = [p for p in positions if p.symbol == "MSFT"]
    assert msft, [p.symbol for p in positions]
    for field in ("qty", "avg_entry_price", "market_value", "cost_basis", "current_price", "unrealized_pl"):
        decimal_string(getattr(msft[0], field), f"position.{field}")
    assert ctx.api.get_position("MSFT").side == "long"
    expect_status(404, ctx.api.get_position, "DIS")


def check_close_position(ctx):
    buy(ctx, "AMZN", 2)
    before = held(ctx, "AMZN")
    order = ctx.api.close_position("AMZN", qty=1)
    wait_for(ctx, order.id, {"filled"})
    assert held(ctx, "AMZN") == before - 1
    order = ctx.api.close_position("AMZN")
    wait_for(ctx, order.id, {"filled"})
    assert held(ctx, "AMZN") == 0


def check_close_all_positions(ctx):
    buy(ctx, "TSLA", 1)
    ctx.api.cancel_all_orders()  # open sells would hold shares back
    answers = ctx.api.close_all_positions()
    assert answers, "nothing was closed"
    deadline = time.monotonic() + 5
    while ctx.api.list_positions() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert ctx.api.list_positions() == [], "positions remain"


def check_configurations(ctx):
    config = ctx.api.get_account_configurations()
    original = config.trade_confirm_email
    flipped = "none" if original == "all" else "all"
    assert ctx.api.update_account_configurations(trade_confirm_email=flipped).trade_confirm_email == flipped
    assert ctx.api.get_account_configurations().trade_confirm_email == flipped
    ctx.api.update_account_configurations(trade_confirm_email=original)


def check_watchlists(ctx):
    name = f"compat {uuid.uuid4().hex[:8]}"
    watchlist = ctx.api.create_watchlist(name, symbols=["AAPL"])
    assert watchlist.name == name and [a["symbol"] for a in watchlist.assets] == ["AAPL"]
    assert watchlist.id in {w.id for w in ctx.api.get_watchlists()}
    assert ctx.api.get_watchlist(watchlist.id).name == name
    added = ctx.api.add_to_watchlist(watchlist.id, "SPY")
    assert [a["symbol"] for a in added.assets] == ["AAPL", "SPY"]
    updated = ctx.api.update_watchlist(watchlist.id, name=name + " 2", symbols=["QQQ"])
    assert updated.name == name + " 2" and [a["symbol"] for a in updated.assets] == ["QQQ"]
    ctx.api.delete_from_watchlist(watchlist.id, "QQQ")
    assert ctx.api.get_watchlist(watchlist.id).assets in ([], None)
    ctx.api.delete_watchlist(watchlist.id)
    expect_status(404, ctx.api.get_watchlist, watchlist.id)


def check_activities(ctx):
    buy(ctx, "AAPL", 1)
    activities = ctx.api.get_activities()
    fills = [a for a in activities if a.activity_type == "FILL"]
    assert fills, "no FILL activity"
    assert isinstance(fills[0].transaction_time, pd.Timestamp)
    only_fills = ctx.api.get_activities(activity_types="FILL", direction="desc", page_size=1)
    assert len(only_fills) == 1 and only_fills[0].activity_type == "FILL"
    ctx.api.get_activities(activity_types=["FILL", "DIV"], after="2000-01-01T00:00:00Z")


def check_portfolio_history(ctx):
    history = ctx.api.get_portfolio_history(period="1W", timeframe="1D")
    frame = history.df  # the SDK's DataFrame: needs timestamp, equity, profit_loss(_pct)
    assert len(frame) == len(history.timestamp)


def check_scopes(ctx):
    api = ctx.api_for("no_trading")
    assert api.get_account().id == ctx.account_id
    expect_status(403, api.submit_order, symbol="AAPL", qty=1, side="buy", type="market", time_in_force="day")
    expect_status(403, ctx.api_for("read_only").create_watchlist, "compat no", symbols=["AAPL"])
    if ctx.base == "live":
        expect_status(401, ctx.api_for("paper_only").get_account)


CHECKS = [
    check_account, check_clock, check_calendar, check_assets, check_market_order,
    check_notional_order, check_limit_order, check_list_orders, check_replace_order,
    check_cancel_order, check_cancel_all_orders, check_bracket_order, check_positions,
    check_close_position, check_configurations, check_watchlists, check_activities,
    check_portfolio_history, check_scopes, check_close_all_positions,
]


# ---------------------------------------------------------------- the trade-updates stream
# A plain websocket client speaks the protocol (compat/trade_stream.py) on the path this
# SDK's stream uses, BASE/stream/; what arrives is read as its TradingStream hands it to
# handlers: Entity(message["data"]), whose `order` is the order's JSON.


def parse_trade_update(data):
    update = Entity(data)
    order = Order(update.order)
    for field in ("created_at", "updated_at", "submitted_at"):
        assert isinstance(getattr(order, field), pd.Timestamp), f"order.{field}: {getattr(order, field)!r}"
    assert pd.Timestamp(update.timestamp).tzinfo is not None, f"timestamp {update.timestamp} has no UTC offset"
    if update.event in ("fill", "partial_fill"):
        for field in ("price", "qty", "position_qty"):
            decimal_string(getattr(update, field), f"trade update {field}")
    return update.event, order.id, order.status


def stream_target(ctx):
    return trade_stream.Target(
        ctx.url, "/stream/", ctx.base, ctx.tokens,
        buy=lambda: buy(ctx, "AAPL", 1).id,
        rest=lambda: resting_buy(ctx).id,
        cancel=ctx.api.cancel_order,
        parse=parse_trade_update,
    )


def main():
    server, label = sys.argv[1].rstrip("/"), sys.argv[2]
    runner = common.Runner(
        f"alpaca-trade-api {version('alpaca-trade-api')} on {label}", "--verbose" in sys.argv
    )
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
    runner.finish()


if __name__ == "__main__":
    main()
