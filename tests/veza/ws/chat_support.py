"""Socket helpers for chat tests: read frames, skip what a test does not look at."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import WSMsgType

from tests.support import ApiClient, User


async def recv(ws: Any, timeout: float = 5.0) -> dict:
    msg = await ws.receive(timeout=timeout)
    assert msg.type is WSMsgType.TEXT, (msg.type, msg.data, ws.close_code)
    return json.loads(msg.data)


async def until(ws: Any, type_: str, timeout: float = 5.0, **match: Any) -> dict:
    """The next frame of `type_` (and matching fields), skipping others."""
    async with asyncio.timeout(timeout):
        while True:
            frame = await recv(ws, timeout)
            if frame["type"] == type_ and all(frame.get(k) == v for k, v in match.items()):
                return frame


async def closed_with(ws: Any, timeout: float = 10.0) -> int:
    async with asyncio.timeout(timeout):
        while True:
            msg = await ws.receive()
            if msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.CLOSING, WSMsgType.ERROR):
                return ws.close_code


async def quiet(ws: Any, wait: float = 0.2) -> list[dict]:
    """Whatever arrives within `wait` seconds (to show that nothing else came)."""
    frames = []
    try:
        while True:
            frames.append(await recv(ws, wait))
    except (TimeoutError, asyncio.TimeoutError):
        return frames


async def room(client: ApiClient, owner: User, type_: str = "group", members: list[User] = (), name: str = "Room") -> str:
    body: dict[str, Any] = {"type": type_, "name": name, "members": [m.id for m in members]}
    if type_ == "direct":
        body = {"type": "direct", "user_id": members[0].id}
    reply = await client.post("/conversations", json=body, user=owner)
    assert reply.status in (200, 201), reply.body
    return reply.data["id"]


async def joined(ws: Any, room_id: str, since: int | None = None, ref: str = "j") -> dict:
    frame: dict[str, Any] = {"type": "join", "room": room_id, "ref": ref}
    if since is not None:
        frame["since"] = since
    await ws.send_json(frame)
    return await until(ws, "joined", ref=ref)


async def say(ws: Any, room_id: str, content: str, client_id: str, ref: str | None = None) -> dict:
    await ws.send_json({"type": "message", "room": room_id, "content": content, "client_id": client_id,
                        "ref": ref or client_id})
    return await until(ws, "ack", ref=ref or client_id)
