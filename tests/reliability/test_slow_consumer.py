"""A client that stops reading is cut with 4009; the others keep receiving everything."""

from __future__ import annotations

import socket

import aiohttp
import pytest

from tests.reliability.conftest import FrameReader, Remote

pytestmark = [pytest.mark.slow]

OUTBOX = 64 * 1024
MAX_MESSAGES = 6000  # bound: ~20 MB of events, far past what any buffer between us holds
CONTENT = "y" * 3000


def _small_receive_buffer(addr_info):  # type: ignore[no-untyped-def]
    """The slow client's socket: a tiny kernel receive buffer, so the server notices quickly."""
    family, type_, proto, _, _ = addr_info
    sock = socket.socket(family=family, type=type_, proto=proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
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

        sent = acked = fast_received = 0
        slow_gone = False
        while sent < MAX_MESSAGES and not slow_gone:
            await sender.ws.send_json({"type": "message", "room": room, "content": CONTENT, "client_id": f"s{sent}"})
            sent += 1
            while sent - acked > 50:
                await sender.next("ack")
                acked += 1
            while not fast.frames.empty():  # the room announces the cut socket's user going offline
                frame = fast.frames.get_nowait()
                if frame["type"] == "presence" and frame["user"]["id"] == slow_user["id"] and frame["status"] == "offline":
                    slow_gone = True
                elif frame["type"] == "message":
                    fast_received += 1
        assert slow_gone, f"the slow socket was still open after {sent} messages"
        while acked < sent:
            await sender.next("ack")
            acked += 1
        # Delivery, not wall-clock: the fast reader gets every message that was sent.
        while fast_received < sent:
            await fast.next("message")
            fast_received += 1
        assert fast_received == sent

        slow_got = 0
        async for msg in slow:  # now read what reached the slow client, then its close
            if msg.type == aiohttp.WSMsgType.TEXT:
                slow_got += 1
        assert slow.close_code == 4009
        assert slow_got < sent
    await sender.close()
    await fast.close()
