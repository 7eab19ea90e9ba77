"""A reader whose network drops mid-stream rejoins with `since` and ends with every message once."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest

from tests.reliability.conftest import FrameReader, Remote
from tests.tcp_proxy import TcpProxy

pytestmark = [pytest.mark.slow]

TOTAL = 1000
CUT_AFTER = 300


async def _send_all(sender: FrameReader, room: str) -> int:
    """Send TOTAL messages at a steady pace, at most 100 unacknowledged; returns acks."""
    acked = 0
    for i in range(TOTAL):
        await sender.ws.send_json({"type": "message", "room": room, "content": f"m{i}", "client_id": f"c{i}"})
        while i + 1 - acked > 100:
            await sender.next("ack")
            acked += 1
        if i % 10 == 9:
            await asyncio.sleep(0.01)  # a steady stream, so the drop lands mid-stream
    while acked < TOTAL:
        await sender.next("ack")
        acked += 1
    return acked


async def _join(ws: aiohttp.ClientWebSocketResponse, room: str, since: int | None = None) -> dict[str, Any]:
    await ws.send_json({"type": "join", "room": room, **({"since": since} if since is not None else {})})
    while True:
        frame = (await ws.receive(timeout=10)).json()
        if frame["type"] == "joined":
            return frame
        assert frame["type"] != "error", frame


async def test_dropped_socket_recovers_all_messages_exactly_once_in_order(start_server, remote_session):  # type: ignore[no-untyped-def]
    server = start_server()
    remote = Remote(remote_session, server)
    alice, bob = await remote.register(), await remote.register()
    room = await remote.public_room(alice)
    proxy = await TcpProxy(server.port).start()
    sender = FrameReader(await remote.ws(alice))
    await sender.ws.send_json({"type": "join", "room": room})
    await sender.next("joined")

    ws = await remote.ws(bob, port=proxy.port)  # bob's network is the proxy
    last_seq = (await _join(ws, room))["seq"]
    got: list[dict[str, Any]] = []  # every message as it arrived, duplicates included
    replayed, reconnects = 0, 0
    sending = asyncio.create_task(_send_all(sender, room))
    while len(got) < TOTAL:
        msg = await ws.receive(timeout=15)
        if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
            ws = await remote.ws(bob, port=proxy.port)
            joined = await _join(ws, room, since=last_seq)
            assert joined["recovered"] is True, "fewer than the replay limit were missed"
            got += joined["messages"]
            replayed += len(joined["messages"])
            last_seq = max([last_seq] + [m["seq"] for m in joined["messages"]])
            reconnects += 1
            continue
        frame = msg.json()
        if frame["type"] != "message":
            continue
        got.append(frame["message"])
        last_seq = max(last_seq, frame["message"]["seq"])
        if len(got) == CUT_AFTER and reconnects == 0:
            assert proxy.cut() >= 1  # the link drops; bob's client notices and comes back
            proxy.hold()
            asyncio.get_running_loop().call_later(0.3, proxy.release)  # away long enough to miss some

    assert await sending == TOTAL
    assert reconnects == 1 and replayed > 0
    assert [m["content"] for m in got] == [f"m{i}" for i in range(TOTAL)]
    seqs = [m["seq"] for m in got]
    assert seqs == list(range(seqs[0], seqs[0] + TOTAL))
    assert len({m["id"] for m in got}) == TOTAL
    await ws.close()
    await sender.close()
    await proxy.close()
