"""SIGTERM while messages are being sent: every acknowledged message is in history afterwards."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import aiohttp
import pytest

from tests.reliability.conftest import FrameReader, Remote

pytestmark = [pytest.mark.slow]


async def _ws_sender(reader: FrameReader, room: str, acked: dict[str, str], stop: asyncio.Event) -> None:
    """Send with up to 20 in flight; record each ack (client_id -> message id) until the socket dies."""
    sent = 0
    with contextlib.suppress(ConnectionError, asyncio.TimeoutError, RuntimeError):
        while not stop.is_set() and not reader.ws.closed:
            await reader.ws.send_json({"type": "message", "room": room, "content": f"ws {sent}", "client_id": f"ws-{sent}"})
            sent += 1
            while sent - len(acked) > 20:
                ack = await reader.next("ack", timeout=5)
                acked[ack["message"]["client_id"]] = ack["message"]["id"]
    # Acks already on the wire before the close count too.
    while not reader.frames.empty():
        frame = reader.frames.get_nowait()
        if frame["type"] == "ack":
            acked[frame["message"]["client_id"]] = frame["message"]["id"]


async def _rest_sender(remote: Remote, user: dict[str, str], room: str, acked: dict[str, str],
                       stop: asyncio.Event) -> None:
    n = 0
    while not stop.is_set():
        client_id = f"rest-{n}"
        n += 1
        try:
            async with remote.session.post(remote.url(f"/api/v1/conversations/{room}/messages"),
                                           headers={"Authorization": f"Bearer {user['token']}"},
                                           json={"content": f"rest {n}", "client_id": client_id}) as resp:
                body = await resp.json(content_type=None)
        except (aiohttp.ClientError, OSError, ValueError):
            return  # the server is gone: whatever was not answered 201 was not acknowledged
        if resp.status == 201:
            acked[client_id] = body["data"]["id"]


async def _history(remote: Remote, user: dict[str, str], room: str) -> list[dict[str, Any]]:
    messages, cursor = [], None
    while True:
        params = {"limit": "100", **({"cursor": cursor} if cursor else {})}
        data = await remote.call("GET", f"/conversations/{room}/history", user["token"], params=params)
        messages += data["messages"]
        if not data.get("has_more"):
            return messages
        cursor = data["next_cursor"]


async def test_sigterm_keeps_every_acknowledged_message(start_server, remote_session):  # type: ignore[no-untyped-def]
    server = start_server()
    remote = Remote(remote_session, server)
    alice = await remote.register()
    room = await remote.public_room(alice)
    reader = FrameReader(await remote.ws(alice))
    await reader.ws.send_json({"type": "join", "room": room})
    await reader.next("joined")

    acked: dict[str, str] = {}
    stop = asyncio.Event()
    senders = [asyncio.create_task(_ws_sender(reader, room, acked, stop)),
               asyncio.create_task(_rest_sender(remote, alice, room, acked, stop))]
    while len(acked) < 200:
        await asyncio.sleep(0.01)
    code = await asyncio.get_running_loop().run_in_executor(None, server.terminate)
    stop.set()
    await asyncio.gather(*senders)
    assert code == 0, server.log()[-3000:]
    assert reader.close_code in (1001, 1006, None)

    server.start()
    stored = await _history(remote, alice, room)
    by_client = {m["client_id"]: m["id"] for m in stored}
    missing = {cid: mid for cid, mid in acked.items() if by_client.get(cid) != mid}
    assert not missing, f"{len(missing)} acknowledged messages lost, e.g. {list(missing.items())[:3]}"
    assert len(by_client) == len(stored), "a client_id was stored twice"
    assert len(acked) > 200
