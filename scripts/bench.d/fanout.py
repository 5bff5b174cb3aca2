"""Scenario g of scripts/bench: trade updates fanned out to many websockets.

Opens N websockets on URL (a /stream of one account), authenticates each with TOKEN and
listens to trade_updates, prints "ready", then counts the trade updates every socket
receives for SECONDS, and prints one line: "FANOUT sockets events seconds min max",
where min and max are the fewest and most events one socket received.

    python3 fanout.py URL TOKEN SOCKETS SECONDS
"""

import asyncio
import json
import sys
import time

import websockets


async def listen(url, token, counts, i, ready):
    async with websockets.connect(url, max_queue=None) as ws:
        await ws.send(json.dumps({"action": "authenticate", "data": {"oauth_token": token}}))
        reply = json.loads(await ws.recv())
        assert reply["data"]["status"] == "authorized", reply
        await ws.send(json.dumps({"action": "listen", "data": {"streams": ["trade_updates"]}}))
        json.loads(await ws.recv())  # listening
        ready.release()
        async for message in ws:
            if b'"trade_updates"' in (message if isinstance(message, bytes) else message.encode()):
                counts[i] += 1


async def main(url, token, sockets, seconds):
    counts = [0] * sockets
    ready = asyncio.Semaphore(0)
    tasks = [asyncio.create_task(listen(url, token, counts, i, ready)) for i in range(sockets)]
    for _ in range(sockets):
        await ready.acquire()
    print("ready", flush=True)
    started = time.monotonic()
    await asyncio.sleep(seconds)
    elapsed = time.monotonic() - started
    total = sum(counts)
    for task in tasks:
        task.cancel()
    print(f"FANOUT\t{sockets}\t{total}\t{elapsed:.3f}\t{min(counts)}\t{max(counts)}", flush=True)


if __name__ == "__main__":
    url, token, sockets, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    asyncio.run(main(url, token, sockets, seconds))
