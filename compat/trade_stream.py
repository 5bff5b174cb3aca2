"""The trade-updates WebSocket (SPEC §3.5, README "Trade updates") with a plain client,
`websockets` (both virtualenvs have it: the SDKs depend on it), speaking exactly the
documented protocol. Alpaca's SDKs' own trade streams authenticate with API keys only,
so an OAuth client speaks it itself; what it receives is then parsed by each suite's
SDK, through the model that SDK's own `TradingStream` gives its handlers.

Each suite makes a `Target` per base and runs `CHECKS` with it.
"""

import asyncio
import functools
import json
from decimal import Decimal

import websockets

AUTHORIZED = {"stream": "authorization", "data": {"status": "authorized", "action": "authenticate"}}
UNAUTHORIZED = {"stream": "authorization", "data": {"status": "unauthorized", "action": "authenticate"}}
LISTENING = {"stream": "listening", "data": {"streams": ["trade_updates"]}}
LISTEN = json.dumps({"action": "listen", "data": {"streams": ["trade_updates"]}})
# How long a check waits for a message (or for the lack of one).
QUIET = 0.5
WAIT = 10.0


def authenticate(token):
    return json.dumps({"action": "authenticate", "data": {"oauth_token": token}})


class Target:
    """One base as a suite sees it: the stream's URL (`path` is the SDK's: `/stream`
    for alpaca-py, `/stream/` for alpaca-trade-api), the tokens, and the suite's SDK:
    `buy()` (a filled market order's id), `rest()` (a resting limit order's id),
    `cancel(id)`, and `parse(data)`, which parses a trade update's `data` with the SDK
    and returns what the SDK read: (event, order id, order status)."""

    def __init__(self, url, path, base, tokens, buy, rest, cancel, parse):
        self.url = url.replace("http", "ws", 1) + path
        self.base = base
        self.tokens = tokens
        self.buy, self.rest, self.cancel, self.parse = buy, rest, cancel, parse


async def receive(ws, seconds=WAIT):
    """The next message, parsed; the server sends JSON in text frames."""
    try:
        raw = await asyncio.wait_for(ws.recv(), seconds)
    except asyncio.TimeoutError:
        raise AssertionError(f"no message within {seconds} s") from None
    assert isinstance(raw, str), f"a binary frame from the server: {raw[:200]!r}"
    return json.loads(raw)


async def expect(ws, expected, what):
    got = await receive(ws)
    assert got == expected, f"{what}: expected {json.dumps(expected)}, got {json.dumps(got)}"


async def nothing_yet(ws):
    """No message arrives for a while (the server speaks only when spoken to)."""
    try:
        early = await asyncio.wait_for(ws.recv(), QUIET)
    except asyncio.TimeoutError:
        return
    raise AssertionError(f"a message before the reply to authenticate: {early!r}")


async def closed(ws, after):
    """The server closes the connection, sending nothing more."""
    try:
        extra = await asyncio.wait_for(ws.recv(), WAIT)
    except websockets.exceptions.ConnectionClosed:
        return
    except asyncio.TimeoutError:
        raise AssertionError(f"still open {WAIT} s after {after}") from None
    raise AssertionError(f"after {after}, another message instead of a close: {extra!r}")


async def listen(ws, token, encode=str):
    """Authenticates and listens; `encode=str.encode` sends the JSON in binary frames."""
    await ws.send(encode(authenticate(token)))
    await expect(ws, AUTHORIZED, "reply to authenticate")
    await ws.send(encode(LISTEN))
    await expect(ws, LISTENING, "reply to listen")


def run(coroutine):
    """Checks are plain functions; each runs its conversation in an event loop of its own."""

    @functools.wraps(coroutine)
    def check(target):
        asyncio.run(coroutine(target))

    return check


# ---------------------------------------------------------------- the checks


@run
async def check_stream_authenticate_and_listen(target):
    async with websockets.connect(target.url) as ws:
        await nothing_yet(ws)
        await listen(ws, target.tokens["full"])


@run
async def check_stream_tokens(target):
    """Every token the suite holds opens the stream of a base it has an account on
    (reading needs no scope); the paper-only token is refused on the live base."""
    for name, token in target.tokens.items():
        refused = name == "paper_only" and target.base == "live"
        async with websockets.connect(target.url) as ws:
            await ws.send(authenticate(token))
            await expect(ws, UNAUTHORIZED if refused else AUTHORIZED, f"the {name} token")
            if refused:
                await closed(ws, "unauthorized")


@run
async def check_stream_bad_token(target):
    async with websockets.connect(target.url) as ws:
        await ws.send(authenticate("pdk_at_not-a-token"))
        await expect(ws, UNAUTHORIZED, "reply to a bad token")
        await closed(ws, "unauthorized")


@run
async def check_stream_binary_frames(target):
    async with websockets.connect(target.url) as ws:
        await listen(ws, target.tokens["full"], encode=str.encode)


@run
async def check_stream_trade_updates(target):
    """A market order (new, fill) and a limit order canceled (new, canceled): each
    event arrives, in order, and parses in the SDK."""
    async with websockets.connect(target.url) as ws:
        await listen(ws, target.tokens["full"])
        market = await asyncio.to_thread(target.buy)
        resting = await asyncio.to_thread(target.rest)
        await asyncio.to_thread(target.cancel, resting)
        wanted = [(market, "new"), (market, "fill"), (resting, "new"), (resting, "canceled")]
        seen = []
        while not set(wanted) <= set(seen):
            try:
                message = await receive(ws)
            except AssertionError as error:
                raise AssertionError(f"{error}; waiting for {wanted}, seen {seen}") from None
            assert message.get("stream") == "trade_updates" and set(message) == {"stream", "data"}, message
            data = message["data"]
            event, order_id, status = target.parse(data)
            assert (event, order_id) == (data["event"], data["order"]["id"]), (event, order_id, data)
            if event == "fill":
                assert status == "filled", f"order status {status} in a fill of the whole order"
                missing = {"price", "qty", "position_qty", "execution_id"} - set(data)
                assert not missing, f"a fill without {sorted(missing)}: {data}"
                assert Decimal(data["qty"]) == 1 and Decimal(data["price"]) > 0, data
            if event == "canceled":
                assert status == "canceled", f"order status {status} in a canceled event"
            seen.append((order_id, event))
        at = [seen.index(pair) for pair in wanted]
        assert at[0] < at[1] and at[2] < at[3], f"events out of order: {seen}"


CHECKS = [
    check_stream_authenticate_and_listen,
    check_stream_tokens,
    check_stream_bad_token,
    check_stream_binary_frames,
    check_stream_trade_updates,
]
