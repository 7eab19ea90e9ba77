"""python-socketio (engine.io v4) on aiohttp: the room broadcast the way its docs show it.

Subscribers connect to the default namespace and join room "bench"; a client connecting
with `?role=pub` publishes: each `publish` event is re-emitted as `message` to the room.
python-socketio encodes a room emit once and queues it per socket (its AsyncManager).

    python -m bench.peers.socketio_server --port 8802
"""

from __future__ import annotations

import argparse
from urllib.parse import parse_qs

import socketio
from aiohttp import web

ROOM = "bench"


def make_app() -> web.Application:
    sio = socketio.AsyncServer(async_mode="aiohttp", transports=["websocket"], logger=False,
                               engineio_logger=False, cors_allowed_origins=None)
    app = web.Application()
    sio.attach(app)

    @sio.event
    async def connect(sid: str, environ: dict, auth: object = None) -> None:
        role = parse_qs(environ.get("QUERY_STRING", "")).get("role", ["sub"])[0]
        if role == "sub":
            await sio.enter_room(sid, ROOM)

    @sio.on("publish")
    async def publish(sid: str, data: object) -> None:
        await sio.emit("message", data, room=ROOM, skip_sid=sid)

    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    web.run_app(make_app(), host=args.host, port=args.port, access_log=None, print=None, backlog=4096)


if __name__ == "__main__":
    main()
