"""The ceiling: a bare aiohttp WebSocket broadcast server, nothing else.

`/sub` sockets subscribe; every text frame received on `/pub` is broadcast as-is to every
subscriber. The payload is already bytes, so it is "encoded" once; aiohttp 3.14 writes an
uncompressed frame synchronously (`send_frame` never waits on a slow peer, its transport
buffers), so a plain loop is the fastest honest broadcast with the public API. There is
no persistence, no validation, no per-socket cap: that is what makes it the ceiling.

    python -m bench.peers.bare_broadcast --port 8801
"""

from __future__ import annotations

import argparse

from aiohttp import WSMsgType, web

SUBSCRIBERS: web.AppKey[set[web.WebSocketResponse]] = web.AppKey("subscribers", set)


async def subscribe(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse(autoping=True)
    await ws.prepare(request)
    subscribers = request.app[SUBSCRIBERS]
    subscribers.add(ws)
    try:
        async for _ in ws:  # subscribers only read; drain whatever they send
            pass
    finally:
        subscribers.discard(ws)
    return ws


async def publish(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    subscribers = request.app[SUBSCRIBERS]
    async for msg in ws:
        if msg.type != WSMsgType.TEXT:
            continue
        payload = msg.data.encode()
        for sub in tuple(subscribers):
            try:
                await sub.send_frame(payload, WSMsgType.TEXT)
            except ConnectionError:
                subscribers.discard(sub)
    return ws


def make_app() -> web.Application:
    app = web.Application()
    app[SUBSCRIBERS] = set()
    app.router.add_get("/sub", subscribe)
    app.router.add_get("/pub", publish)
    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    web.run_app(make_app(), host=args.host, port=args.port, access_log=None, print=None, backlog=4096)


if __name__ == "__main__":
    main()
