"""The socket protocol as an outside client sees it: every frame here goes through the
`websockets` library (not aiohttp's client, not our code), against the running server,
and the expectations are the numbers and shapes of docs/websocket.md, not our constants.

Covered: the upgrade with a chat token (query and header), join and presence, send ->
ack -> room event, the resend rule, recovery with `since`, error frames that keep the
socket open, and the close codes 4001 (bad token), 1009 (frame too large) and 1001
(server going away).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.support import ApiClient, User

TOO_LARGE = 64 * 1024  # "1009 frame too large (64 KiB)"


class Socket:
    """One `websockets` connection and the frames it reads as JSON."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws

    async def send(self, frame: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(frame))

    async def recv(self, timeout: float = 5.0) -> dict[str, Any]:
        raw = await asyncio.wait_for(self.ws.recv(), timeout)
        assert isinstance(raw, str), "frames are JSON text"
        return json.loads(raw)

    async def until(self, type_: str, timeout: float = 5.0, **match: Any) -> dict[str, Any]:
        async with asyncio.timeout(timeout):
            while True:
                frame = await self.recv(timeout)
                if frame["type"] == type_ and all(frame.get(k) == v for k, v in match.items()):
                    return frame

    async def close_code(self, timeout: float = 10.0) -> int | None:
        """Read until the server closes; the code it sent."""
        try:
            async with asyncio.timeout(timeout):
                while True:
                    await self.ws.recv()
        except ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd is not None else None
        raise AssertionError("the server did not close the socket")


@pytest.fixture
async def url(client: ApiClient) -> str:
    server = client.raw.server
    return f"ws://{server.host}:{server.port}/api/v1/ws"


@pytest.fixture
async def sockets(url: str) -> AsyncIterator[list[ClientConnection]]:
    opened: list[ClientConnection] = []
    yield opened
    for ws in opened:
        await ws.close()


async def _token(client: ApiClient, user: User) -> str:
    reply = await client.get("/chat/token", user=user)
    assert reply.status == 200 and reply.data["expires_in"] == 300
    return reply.data["token"]


async def _open(client: ApiClient, url: str, sockets: list[ClientConnection], user: User | None = None,
                *, header: bool = False) -> Socket:
    headers, target = None, url
    if user is not None:
        token = await _token(client, user)
        if header:
            headers = {"Authorization": f"Bearer {token}"}
        else:
            target = f"{url}?token={token}"
    ws = await connect(target, additional_headers=headers, max_size=None, open_timeout=10)
    sockets.append(ws)
    return Socket(ws)


async def _room(client: ApiClient, owner: User, *members: User) -> str:
    reply = await client.post("/conversations", user=owner,
                              json={"type": "group", "name": "outside", "members": [m.id for m in members]})
    assert reply.status in (200, 201), reply.body
    return reply.data["id"]


async def _join(sock: Socket, room: str, since: int | None = None, ref: str = "j") -> dict[str, Any]:
    frame: dict[str, Any] = {"type": "join", "room": room, "ref": ref}
    if since is not None:
        frame["since"] = since
    await sock.send(frame)
    return await sock.until("joined", ref=ref)


async def test_ping_with_a_ref_on_a_token_in_the_query_and_in_the_header(client: ApiClient, url: str,
                                                                          sockets: list[ClientConnection]) -> None:
    user = await client.register()
    for header in (False, True):
        sock = await _open(client, url, sockets, user, header=header)
        await sock.send({"type": "ping", "ref": 7})
        assert await sock.recv() == {"type": "pong", "ref": 7}
    anonymous = await _open(client, url, sockets)
    await anonymous.send({"type": "ping", "ref": "anon"})
    assert await anonymous.recv() == {"type": "pong", "ref": "anon"}


async def test_join_presence_send_ack_and_the_room_event(client: ApiClient, url: str,
                                                         sockets: list[ClientConnection]) -> None:
    ann, bob = await client.register(), await client.register()
    room = await _room(client, ann, bob)
    ann_ws = await _open(client, url, sockets, ann)
    first = await _join(ann_ws, room)
    assert first["room"] == room and first["seq"] == 0 and first["messages"] == []
    assert [p["id"] for p in first["presence"]] == [ann.id]
    bob_ws = await _open(client, url, sockets, bob)
    second = await _join(bob_ws, room)
    assert {p["id"] for p in second["presence"]} == {ann.id, bob.id}
    online = await ann_ws.until("presence")
    assert online["user"] == {"id": bob.id, "username": bob.username} and online["status"] == "online"

    await ann_ws.send({"type": "message", "room": room, "content": "hi from outside", "client_id": "c-1", "ref": "r1"})
    ack = await ann_ws.until("ack", ref="r1")
    message = ack["message"]
    assert message["seq"] == 1 and message["content"] == "hi from outside" and message["client_id"] == "c-1"
    assert message["author"] == {"id": ann.id, "username": ann.username}
    assert set(message) >= {"id", "seq", "author", "content", "client_id", "created_at"}
    event = await bob_ws.until("message")
    assert event == {"type": "message", "room": room, "message": message}
    # The same client_id again: the stored message back in the ack, no second broadcast.
    await ann_ws.send({"type": "message", "room": room, "content": "hi from outside", "client_id": "c-1", "ref": "r2"})
    assert (await ann_ws.until("ack", ref="r2"))["message"] == message
    await bob_ws.send({"type": "ping", "ref": "after"})
    assert await bob_ws.until("pong") == {"type": "pong", "ref": "after"}  # nothing in between but frames we skip


async def test_recovery_with_since_replays_what_was_missed_in_order(client: ApiClient, url: str,
                                                                    sockets: list[ClientConnection]) -> None:
    ann, bob = await client.register(), await client.register()
    room = await _room(client, ann, bob)
    ann_ws, bob_ws = await _open(client, url, sockets, ann), await _open(client, url, sockets, bob)
    await _join(ann_ws, room)
    await _join(bob_ws, room)
    await ann_ws.send({"type": "message", "room": room, "content": "one", "client_id": "1", "ref": "1"})
    await ann_ws.until("ack", ref="1")
    seen = (await bob_ws.until("message"))["message"]["seq"]
    await bob_ws.ws.close()  # bob drops; ann keeps talking
    for i in range(2, 8):
        await ann_ws.send({"type": "message", "room": room, "content": f"m{i}", "client_id": str(i), "ref": str(i)})
        await ann_ws.until("ack", ref=str(i))
    back_ws = await _open(client, url, sockets, bob)
    back = await _join(back_ws, room, since=seen)
    assert back["recovered"] is True and back["seq"] == 7
    assert [m["seq"] for m in back["messages"]] == list(range(2, 8))
    assert [m["content"] for m in back["messages"]] == [f"m{i}" for i in range(2, 8)]
    ahead = await _join(back_ws, room, since=1000, ref="ahead")  # ahead of the room: not a recovery
    assert ahead["recovered"] is False


async def test_bad_frames_get_error_frames_and_the_socket_stays_open(client: ApiClient, url: str,
                                                                    sockets: list[ClientConnection]) -> None:
    sock = await _open(client, url, sockets, await client.register())
    await sock.ws.send("not json")
    reply = await sock.recv()
    assert reply["type"] == "error" and reply["code"] == "invalid" and reply["error"]
    await sock.send({"type": "teleport", "ref": "t"})
    assert (await sock.recv())["ref"] == "t"
    await sock.send({"type": "join", "room": str(uuid.uuid4()), "ref": "nowhere"})
    missing = await sock.recv()
    assert missing["type"] == "error" and missing["code"] == "not_found" and missing["ref"] == "nowhere"
    await sock.send({"type": "message", "room": str(uuid.uuid4()), "content": "x", "client_id": "c", "ref": "m"})
    assert (await sock.recv())["code"] == "forbidden"  # room frames need a join
    await sock.send({"type": "ping", "ref": "still-open"})
    assert await sock.recv() == {"type": "pong", "ref": "still-open"}


@pytest.mark.parametrize("token", ["garbage", "access"])
async def test_a_bad_token_gets_the_upgrade_then_close_4001(client: ApiClient, url: str, token: str,
                                                            sockets: list[ClientConnection]) -> None:
    user = await client.register()
    value = user.access_token if token == "access" else "garbage"  # an access token is not a chat token
    ws = await connect(f"{url}?token={value}", open_timeout=10)
    sockets.append(ws)
    assert await Socket(ws).close_code() == 4001


async def test_a_frame_over_64_kib_closes_1009(client: ApiClient, url: str, sockets: list[ClientConnection]) -> None:
    sock = await _open(client, url, sockets, await client.register())
    await sock.ws.send(json.dumps({"type": "ping", "pad": "x" * TOO_LARGE}))
    assert await sock.close_code() == 1009


async def test_server_shutdown_closes_with_1001(aiohttp_client, app) -> None:  # type: ignore[no-untyped-def]
    raw = await aiohttp_client(app)
    client = ApiClient(raw)
    url = f"ws://{raw.server.host}:{raw.server.port}/api/v1/ws"
    opened: list[ClientConnection] = []
    signed_in = await _open(client, url, opened, await client.register())
    anonymous = await _open(client, url, opened)
    await signed_in.send({"type": "ping", "ref": 1})
    await signed_in.until("pong")
    closing = asyncio.create_task(raw.close())
    assert await signed_in.close_code() == 1001
    assert await anonymous.close_code() == 1001
    await closing
