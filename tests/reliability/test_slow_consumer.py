"""A client that stops reading is cut with 4009; the others keep receiving everything."""

from __future__ import annotations

import socket
from pathlib import Path

import aiohttp
import pytest

from tests.reliability.conftest import FrameReader, Remote

pytestmark = [pytest.mark.slow]

OUTBOX = 64 * 1024
CONTENT = "y" * 3900
CLIENT_RCVBUF = 4096


def messages_past_every_buffer() -> int:
    """Enough events to overflow everything between the room and a client that reads nothing:
    the server socket's largest kernel send buffer, asyncio's write buffer, aiohttp's reader
    queue, the client's receive buffer, and the outbox itself (with 25% to spare)."""
    wmem_max = int(Path("/proc/sys/net/ipv4/tcp_wmem").read_text().split()[2])
    total = wmem_max + 64 * 1024 + 2 * 64 * 1024 + 2 * CLIENT_RCVBUF + OUTBOX
    return int(total / len(CONTENT) * 1.25)


def _small_receive_buffer(addr_info):  # type: ignore[no-untyped-def]
    """The slow client's socket: a tiny kernel receive buffer, so the server notices quickly."""
    family, type_, proto, _, _ = addr_info
    sock = socket.socket(family=family, type=type_, proto=proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, CLIENT_RCVBUF)
    return sock


async def test_a_reader_that_stops_is_cut_with_4009_and_others_get_everything(start_server, remote_session):  # type: ignore[no-untyped-def]
    server = start_server(WS_OUTBOX_BYTES=str(OUTBOX))
    remote = Remote(remote_session, server)
    alice, fast_user, slow_user = await remote.register(), await remote.register(), await remote.register()
    room = await remote.public_room(alice)

    sender = FrameReader(await remote.ws(alice))
    fast = FrameReader(await remote.ws(fast_user))
    for reader in (sender, fast):
        await reader.ws.send_json({"type": "join", "room": room})
        await reader.next("joined")
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(socket_factory=_small_receive_buffer)) as slow_http:
        slow = await slow_http.ws_connect(remote.url("/api/v1/ws"), params={
            "token": (await remote.call("GET", "/chat/token", slow_user["token"]))["token"]})
        await slow.send_json({"type": "join", "room": room})
        while (await slow.receive(timeout=10)).json()["type"] != "joined":
            pass
        # From here on the slow client reads nothing (aiohttp stops reading its socket).

        total = messages_past_every_buffer()
        acked = 0
        for sent in range(1, total + 1):
            await sender.ws.send_json({"type": "message", "room": room, "content": CONTENT, "client_id": f"s{sent}"})
            while sent - acked > 50:
                await sender.next("ack")
                acked += 1
        while acked < total:
            await sender.next("ack")
            acked += 1
        # Delivery, not wall-clock: the reader that keeps up gets every message.
        for _ in range(total):
            await fast.next("message")

        slow_got = 0
        async for msg in slow:  # now read what reached the slow client, then its close
            if msg.type == aiohttp.WSMsgType.TEXT:
                slow_got += 1
        assert slow.close_code == 4009
        assert slow_got < total
    await sender.close()
    await fast.close()
