"""The gateway over a real socket: auth, errors that keep the socket open, limits, closes."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest
from aiohttp import WSMsgType, web

from protocols import frames
from tests.support import ApiClient
from veza import keys
from veza.config import Settings
from veza.ws.gateway import close_sockets


async def recv(ws, timeout: float = 5.0) -> dict:  # type: ignore[no-untyped-def]
    msg = await ws.receive(timeout=timeout)
    assert msg.type is WSMsgType.TEXT, (msg.type, msg.data, ws.close_code)
    return json.loads(msg.data)


async def closed_with(ws, timeout: float = 10.0) -> int:  # type: ignore[no-untyped-def]
    """Read until the server's close; returns its code."""
    async with asyncio.timeout(timeout):
        while True:
            msg = await ws.receive()
            if msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.CLOSING, WSMsgType.ERROR):
                return ws.close_code


async def test_chat_token_matches_reference(client: ApiClient) -> None:
    user = await client.register()
    reply = await client.get("/chat/token", user=user)
    assert reply.status == 200
    assert set(reply.data) == {"token", "expires_in"} and reply.data["expires_in"] == 300
    assert (await client.get("/chat/token")).status == 401
    # Only valid for the socket: not an access token.
    assert (await client.get("/users/me", token=reply.data["token"])).status == 401


@pytest.mark.parametrize("path", ["/api/v1/ws", "/ws"])
async def test_ping_pong_with_ref_on_both_paths(client: ApiClient, path: str) -> None:
    user = await client.register()
    ws = await client.ws(user, path=path)
    await ws.send_json({"type": "ping", "ref": "p1"})
    assert await recv(ws) == {"type": "pong", "ref": "p1"}
    await ws.close()


async def test_token_in_authorization_header(client: ApiClient) -> None:
    user = await client.register()
    token = await client.chat_token(user)
    ws = await client.raw.ws_connect("/api/v1/ws", headers={"Authorization": f"Bearer {token}"})
    await ws.send_json({"type": "ping", "ref": 1})
    assert await recv(ws) == {"type": "pong", "ref": 1}
    await ws.close()


@pytest.mark.parametrize("token", ["garbage", "access"])
async def test_bad_token_closes_4001(client: ApiClient, token: str) -> None:
    user = await client.register()
    value = user.access_token if token == "access" else token
    ws = await client.raw.ws_connect("/api/v1/ws", params={"token": value})
    assert await closed_with(ws) == frames.CLOSE_UNAUTHORIZED


async def test_anonymous_socket_opens(client: ApiClient) -> None:
    ws = await client.ws()
    await ws.send_json({"type": "ping"})
    assert (await recv(ws))["type"] == "pong"
    await ws.close()


async def test_bad_frames_get_error_frames_and_the_socket_stays_open(client: ApiClient) -> None:
    user = await client.register()
    ws = await client.ws(user)
    cases = [
        ("not json", None, "invalid"),
        (json.dumps({"type": "teleport", "ref": "a"}), "a", "invalid"),
        (json.dumps({"type": "join", "room": "nope", "ref": "b"}), "b", "invalid"),
        (json.dumps({"no_type": True}), None, "invalid"),
    ]
    for raw, ref, code in cases:
        await ws.send_str(raw)
        reply = await recv(ws)
        assert reply["type"] == "error" and reply["code"] == code and reply["ref"] == ref, reply
        assert reply["error"]
    await ws.send_bytes(b"\x00\x01")
    assert (await recv(ws))["code"] == "invalid"
    await ws.send_json({"type": "ping", "ref": "still-open"})
    assert await recv(ws) == {"type": "pong", "ref": "still-open"}
    await ws.close()


async def test_oversize_frame_closes_1009(client: ApiClient) -> None:
    ws = await client.ws(await client.register())
    await ws.send_str(json.dumps({"type": "ping", "pad": "x" * (frames.MAX_FRAME_BYTES + 10)}))
    assert await closed_with(ws) == frames.CLOSE_TOO_LARGE


async def test_non_websocket_get_is_a_clear_400(client: ApiClient) -> None:
    reply = await client.get("/ws")
    assert reply.status == 400 and reply.body["success"] is False


async def test_rate_limit_errors_then_abuse_closes_4008(client: ApiClient) -> None:
    ws = await client.ws(await client.register())
    burst = client.app[keys.settings].ws_burst
    for i in range(burst + 5):
        await ws.send_json({"type": "ping", "ref": i})
    replies = [await recv(ws) for _ in range(burst + 5)]
    limited = [r for r in replies if r["type"] == "error"]
    assert limited and all(r["code"] == "rate_limited" for r in limited)
    assert {r["ref"] for r in limited} <= set(range(burst + 5))
    assert sum(r["type"] == "pong" for r in replies) >= burst
    for i in range(200):  # keeps hammering
        await ws.send_json({"type": "ping", "ref": i})
    assert await closed_with(ws) == frames.CLOSE_POLICY


async def test_logout_all_closes_the_users_sockets_4001(client: ApiClient) -> None:
    user, other = await client.register(), await client.register()
    tab1, tab2, bystander = await client.ws(user), await client.ws(user), await client.ws(other)
    assert (await client.post("/sessions/logout-all", json={}, user=user)).status == 200
    assert await closed_with(tab1) == frames.CLOSE_UNAUTHORIZED
    assert await closed_with(tab2) == frames.CLOSE_UNAUTHORIZED
    await bystander.send_json({"type": "ping", "ref": "ok"})
    assert (await recv(bystander))["type"] == "pong"
    await bystander.close()


async def test_logout_of_one_session_closes_only_its_sockets(client: ApiClient) -> None:
    user = await client.register()
    second = await client.post("/auth/login", json={"email": user.email, "password": "SecureP@ssw0rd"})
    ws_first = await client.ws(user)
    token2 = second.data["access_token"]
    chat2 = (await client.get("/chat/token", token=token2)).data["token"]
    ws_second = await client.raw.ws_connect("/api/v1/ws", params={"token": chat2})
    assert (await client.post("/sessions/logout", json={}, token=token2)).status == 200
    assert await closed_with(ws_second) == frames.CLOSE_UNAUTHORIZED
    await ws_first.send_json({"type": "ping"})
    assert (await recv(ws_first))["type"] == "pong"
    # A chat token of a revoked session no longer opens a socket.
    again = await client.raw.ws_connect("/api/v1/ws", params={"token": chat2})
    assert await closed_with(again) == frames.CLOSE_UNAUTHORIZED
    await ws_first.close()


async def test_slow_reader_is_cut_with_4009_and_others_keep_receiving(client: ApiClient) -> None:
    hub = client.app[keys.hub]
    slow = await client.ws(await client.register())
    fast = await client.ws(await client.register())
    conns = hub.connections()
    topic = "room:" + str(uuid.uuid4())
    for conn in conns:
        await hub.subscribe(topic, conn)
    chunk = frames.encode_event("message", pad="x" * 16000)
    received = 0

    async def read_fast() -> None:
        nonlocal received
        while received < 2000:
            await recv(fast)
            received += 1

    reader = asyncio.create_task(read_fast())
    # The slow socket never reads: kernel buffers fill, then its outbox passes 1 MiB.
    for _ in range(2000):
        await hub.publish(topic, chunk)
        await asyncio.sleep(0)
    await asyncio.wait_for(reader, 30)
    assert received == 2000
    assert await closed_with(slow, timeout=30) == frames.CLOSE_TOO_SLOW
    await fast.close()
    closes = client.app[keys.metrics].websocket_closes
    for _ in range(200):  # the server-side clean-up finishes just after the client sees the close
        if closes.labels(str(frames.CLOSE_TOO_SLOW))._value.get() == 1:
            break
        await asyncio.sleep(0.01)
    assert closes.labels(str(frames.CLOSE_TOO_SLOW))._value.get() == 1


async def _one_socket_on_a_topic(aiohttp_client, settings: Settings):  # type: ignore[no-untyped-def]
    """A server built from `settings`, one signed-in socket on it, subscribed to a fresh topic."""
    from veza.app import create_app

    client = ApiClient(await aiohttp_client(create_app(settings)))
    hub = client.app[keys.hub]
    ws = await client.ws(await client.register())
    (conn,) = hub.connections()
    topic = "room:" + str(uuid.uuid4())
    await hub.subscribe(topic, conn)
    return hub, ws, conn, topic


async def test_a_socket_cut_for_being_slow_leaves_rooms_at_once(aiohttp_client, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    """No ghost: the server forgets a 4009 socket while its client still reads nothing
    (heartbeat and idle timeout are out of reach here, so only the cut itself can do it)."""
    hub, slow, conn, topic = await _one_socket_on_a_topic(aiohttp_client, settings.replace(
        ws_idle_timeout=3600, ws_heartbeat=3600))
    chunk = frames.encode_event("message", pad="x" * 16000)
    while not conn.closing:
        await hub.publish(topic, chunk)
        await asyncio.sleep(0)
    assert conn.close_code == frames.CLOSE_TOO_SLOW
    async with asyncio.timeout(30):
        while hub.connections():
            await asyncio.sleep(0.02)
    assert hub.local_count(topic) == 0
    # A client that reads again still finds the close frame behind what was buffered.
    assert await closed_with(slow, timeout=30) == frames.CLOSE_TOO_SLOW


async def test_a_burst_that_overflows_a_socket_in_one_step_still_closes_it(aiohttp_client, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    """One synchronous burst fills the kernel, then the transport, then the whole outbox:
    the writer task it created is cancelled before it ever ran, and the socket must still
    be closed with 4009 and forgotten."""
    hub, slow, conn, topic = await _one_socket_on_a_topic(aiohttp_client, settings.replace(
        ws_idle_timeout=3600, ws_heartbeat=3600))
    chunk = frames.encode_event("message", pad="x" * 16000)
    while not conn.closing:  # no await: all in one step of the loop
        hub.deliver_local(topic, chunk)
    async with asyncio.timeout(30):
        while hub.connections():
            await asyncio.sleep(0.02)
    assert await closed_with(slow, timeout=30) == frames.CLOSE_TOO_SLOW


async def test_frames_keep_their_order_through_a_backed_up_socket(aiohttp_client, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    """Frames go straight to the transport while the socket keeps up, through the outbox
    and its writer once it backs up, and straight again after: the client gets every
    frame once, in order."""
    hub, ws, conn, topic = await _one_socket_on_a_topic(aiohttp_client, settings.replace(
        ws_outbox_bytes=64 * 1024 * 1024))
    backlog, total, most_queued = 1200, 2400, 0
    for n in range(backlog):  # the client reads nothing meanwhile: buffers fill, then the outbox
        await hub.publish(topic, frames.encode_event("message", n=n, pad="x" * 16000))
        most_queued = max(most_queued, conn.queued_bytes)
        if n % 50 == 0:
            await asyncio.sleep(0)
    assert most_queued > 0  # the outbox path was taken, not only direct writes

    async def read_all() -> list[int]:
        return [(await recv(ws, timeout=30))["n"] for _ in range(total)]

    reader = asyncio.create_task(read_all())
    for n in range(backlog, total):  # while the backlog drains: the switch back to direct writes
        await hub.publish(topic, frames.encode_event("message", n=n, pad="x" * 1000))
        await asyncio.sleep(0)
    assert await reader == list(range(total))
    await hub.publish(topic, frames.encode_event("message", n=total))  # direct again
    assert (await recv(ws))["n"] == total and not conn.closing
    await ws.close()


async def test_volatile_events_are_dropped_first(client: ApiClient) -> None:
    from veza.ws.connection import Connection, ConnectionLimits

    conn = Connection(None, None, ConnectionLimits(outbox_bytes=1000))  # type: ignore[arg-type]
    conn.deliver(b"v" * 300, volatile=True)
    conn.deliver(b"d" * 300)
    conn.deliver(b"t" * 300, volatile=True)  # over the soft threshold (500): dropped
    assert conn.dropped == 1 and conn.queued_bytes == 600
    conn.deliver(b"e" * 600)  # would overflow: the queued volatile event goes first
    assert conn.dropped == 2 and conn.queued_bytes == 900 and not conn.closing
    conn.deliver(b"f" * 200)  # still no room: too slow
    assert conn.close_code == frames.CLOSE_TOO_SLOW


async def test_shutdown_closes_sockets_1001(client: ApiClient) -> None:
    ws = await client.ws(await client.register())
    anon = await client.ws()
    closing = asyncio.create_task(close_sockets(client.app))
    assert await closed_with(ws) == frames.CLOSE_GOING_AWAY
    assert await closed_with(anon) == frames.CLOSE_GOING_AWAY
    await closing
    assert client.app[keys.hub].connections() == []


async def test_open_sockets_gauge(client: ApiClient) -> None:
    gauge = client.app[keys.metrics].websockets
    before = gauge._value.get()
    ws = await client.ws()
    await ws.send_json({"type": "ping"})
    await recv(ws)
    assert gauge._value.get() == before + 1
    await ws.close()
    for _ in range(100):
        if gauge._value.get() == before:
            break
        await asyncio.sleep(0.01)
    assert gauge._value.get() == before


@pytest.fixture
def quiet_settings(settings: Settings) -> Settings:
    return settings.replace(ws_idle_timeout=0.5, ws_heartbeat=30.0)


async def test_silent_socket_is_closed(aiohttp_client, quiet_settings: Settings) -> None:  # type: ignore[no-untyped-def]
    from veza.app import create_app

    client = ApiClient(await aiohttp_client(create_app(quiet_settings)))
    ws = await client.raw.ws_connect("/api/v1/ws", autoping=False)
    assert await closed_with(ws) == frames.CLOSE_GOING_AWAY


async def test_server_shutdown_closes_sockets_1001_then_drains_actors(aiohttp_client, app: web.Application) -> None:  # type: ignore[no-untyped-def]
    from tests.veza.ws.chat_support import joined, room, say

    client = ApiClient(await aiohttp_client(app))
    user = await client.register()
    rid = await room(client, user)
    ws = await client.ws(user)
    await joined(ws, rid)
    acked = (await say(ws, rid, "before shutdown", "s1"))["message"]
    stopping = asyncio.create_task(client.raw.server.close())  # the runner's full shutdown sequence
    assert await closed_with(ws) == frames.CLOSE_GOING_AWAY
    await stopping
    assert app[keys.actors].stopping  # the actors were stopped after the sockets closed
    import asyncpg

    conn = await asyncpg.connect(app[keys.settings].database_url)
    try:
        assert await conn.fetchval("SELECT content FROM chat_messages WHERE id = $1", uuid.UUID(acked["id"])) \
            == "before shutdown"
    finally:
        await conn.close()
    await client.raw.close()


@pytest.fixture
def unthrottled(settings: Settings) -> Settings:
    return settings.replace(ws_rate=1e6, ws_burst=1_000_000)


def _junk_frames(rng, room: str, n: int) -> list[str]:  # type: ignore[no-untyped-def]
    """Broken JSON, random objects, and valid frames with one field mutated (reaching handlers)."""
    values = [None, 0, -1, 2**31, 2**64, 1.5, "", "x" * 5000, "🔥", [], {}, [1, {"a": None}], True, room,
              str(uuid.uuid4()), "not-a-uuid", {"$gt": ""}, "\u0000", "a" * 70]
    msg = str(uuid.uuid4())
    templates = [
        {"type": "join", "room": room, "since": 0}, {"type": "leave", "room": room},
        {"type": "message", "room": room, "content": "hi", "client_id": "c"},
        {"type": "edit", "room": room, "message_id": msg, "content": "x"},
        {"type": "delete", "room": room, "message_id": msg},
        {"type": "react", "room": room, "message_id": msg, "emoji": "🔥"},
        {"type": "unreact", "room": room, "message_id": msg, "emoji": "🔥"},
        {"type": "read", "room": room, "seq": 3}, {"type": "typing", "room": room},
        {"type": "history", "room": room, "before": 10, "limit": 5}, {"type": "ping"},
    ]
    out = []
    for _ in range(n):
        kind = rng.random()
        if kind < 0.1:
            out.append("".join(rng.choice('{}[]":,0123456789abc\\') for _ in range(rng.randint(0, 40))))
            continue
        frame = dict(rng.choice(templates))
        for name in rng.sample(sorted(frame) + ["ref", "extra"], rng.randint(0, 2)):
            frame[name] = rng.choice(values + [str(uuid.uuid4())] * 3)
        text = json.dumps(frame)
        out.append(text[: rng.randint(1, len(text))] if kind < 0.15 else text)
    return out


async def test_junk_frames_never_break_the_gateway(aiohttp_client, unthrottled: Settings) -> None:  # type: ignore[no-untyped-def]
    import random

    from tests.veza.ws.chat_support import joined, room
    from veza.app import create_app

    client = ApiClient(await aiohttp_client(create_app(unthrottled)))
    user, other = await client.register(), await client.register()
    rid = await room(client, user, members=[other])
    fuzzer, bystander = await client.ws(user), await client.ws(other)
    await joined(fuzzer, rid)
    await joined(bystander, rid)
    codes = set()
    for raw in _junk_frames(random.Random(1234), rid, 1500):
        await fuzzer.send_str(raw)
    await fuzzer.send_json({"type": "ping", "ref": "end"})
    while True:
        reply = await recv(fuzzer, timeout=30)
        if reply.get("ref") == "end" and reply["type"] == "pong":
            break
        if reply["type"] == "error":
            codes.add(reply["code"])
    assert "internal" not in codes and codes <= {"invalid", "not_found", "forbidden", "unauthorized"}
    assert {"invalid", "not_found", "forbidden"} <= codes, codes  # the junk reached handlers, not just the decoder
    await bystander.send_json({"type": "ping", "ref": "fine"})
    while (reply := await recv(bystander))["type"] != "pong":
        pass
    assert reply["ref"] == "fine"
    await fuzzer.close()
    await bystander.close()


async def test_token_expiry_does_not_cut_a_live_socket(aiohttp_client, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    from veza.app import create_app

    client = ApiClient(await aiohttp_client(create_app(settings.replace(chat_token_ttl=1))))
    user = await client.register()
    token = await client.chat_token(user)
    ws = await client.raw.ws_connect("/api/v1/ws", params={"token": token})
    await asyncio.sleep(2.2)  # the token is now expired
    await ws.send_json({"type": "ping", "ref": "still"})
    assert await recv(ws) == {"type": "pong", "ref": "still"}
    late = await client.raw.ws_connect("/api/v1/ws", params={"token": token})
    assert await closed_with(late) == frames.CLOSE_UNAUTHORIZED
    await ws.close()


async def test_a_ban_announcement_closes_the_users_sockets(client: ApiClient) -> None:
    user = await client.register()
    ws = await client.ws(user)
    await client.app[keys.session_events].revoked(uuid.UUID(user.id), None)
    assert await closed_with(ws) == frames.CLOSE_UNAUTHORIZED



def _upgrades_counted(app: web.Application) -> float:
    stats = app[keys.metrics].requests
    return sum(sum(series[:-1]) for (method, _), route in stats._routes.items() if method == "GET"
               for status, series in route.by_status.items() if status == 101)


async def test_the_handshake_is_counted_while_the_socket_lives_on_after_its_handler(client: ApiClient) -> None:
    """The socket's life runs after its handler returned (from aiohttp's `write_eof`): the edge
    has already counted the 101, and the socket still answers, is signed in, and is reached
    by the hub."""
    before = _upgrades_counted(client.app)
    user = await client.register()
    ws = await client.ws(user)
    await ws.send_json({"type": "ping", "ref": 1})
    assert (await recv(ws))["type"] == "pong"
    assert _upgrades_counted(client.app) == before + 1  # counted at the upgrade, not at the close
    hub = client.app[keys.hub]
    (conn,) = hub.connections_of(uuid.UUID(user.id))
    assert conn.ws.headers == {}  # the handshake's headers were let go once sent
    request = conn.ws._req
    assert request._cache == {}  # and what the edge read off the request, which still answers:
    assert (request.path, request.method) == ("/api/v1/ws", "GET")
    await hub.send_to_user(uuid.UUID(user.id), b'{"type":"notice"}')
    assert (await recv(ws)) == {"type": "notice"}
    await ws.close()
    for _ in range(200):
        if not hub.connections_of(uuid.UUID(user.id)):
            break
        await asyncio.sleep(0.01)
    assert not hub.connections_of(uuid.UUID(user.id))

