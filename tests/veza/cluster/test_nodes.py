"""Two real apps (two nodes) on one Redis and one database, in one process: session
revocations, broadcasts and the health check cross nodes; Redis away degrades /readyz."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable

import pytest
from aiohttp import WSMsgType

from actors.broker import InProcessBroker
from protocols import frames
from tests.redis_server import RedisProcess
from tests.support import ApiClient
from tests.veza.ws.chat_support import joined, quiet, room, until
from tests.veza.ws.test_gateway import recv
from veza import keys
from veza.app import create_app
from veza.cluster.presence import LocalPresence, RedisPresence
from veza.cluster.redis_broker import RedisBroker
from veza.config import Settings

Nodes = Callable[..., Awaitable[ApiClient]]


async def closed_with(ws, timeout: float = 10.0) -> int:  # type: ignore[no-untyped-def]
    """The code of the server's close frame (the client's own close_code says 1006 when the
    server cut the TCP connection before the client's close reply went out)."""
    async with asyncio.timeout(timeout):
        while True:
            msg = await ws.receive()
            if msg.type is WSMsgType.CLOSE:
                return int(msg.data)
            if msg.type in (WSMsgType.CLOSED, WSMsgType.CLOSING, WSMsgType.ERROR):
                return int(ws.close_code)


@pytest.fixture
def node(aiohttp_client, settings: Settings) -> Nodes:  # type: ignore[no-untyped-def]
    async def start(name: str, **changes: object) -> ApiClient:
        return ApiClient(await aiohttp_client(create_app(settings.replace(node_id=name, **changes))))

    return start


async def test_redis_url_selects_the_redis_broker_and_its_health_check(node: Nodes) -> None:
    a = await node("node-a")
    assert isinstance(a.app[keys.broker], RedisBroker)
    assert a.app[keys.broker].node_id == "node-a"
    assert isinstance(a.app[keys.presence], RedisPresence)
    ready = await a.get("/readyz")
    assert ready.status == 200 and ready.data["status"] == "ready"
    assert ready.data["checks"]["redis"]["status"] == "ok"


async def test_without_redis_the_node_is_complete_on_its_own(node: Nodes) -> None:
    a = await node("solo", redis_url=None)
    assert isinstance(a.app[keys.broker], InProcessBroker)
    assert isinstance(a.app[keys.presence], LocalPresence)
    assert "redis" not in (await a.get("/readyz")).data["checks"]


async def test_logout_all_on_one_node_closes_the_users_sockets_on_the_other(node: Nodes) -> None:
    a, b = await node("node-a"), await node("node-b")
    user, other = await a.register(), await a.register()
    on_b = await b.ws(user)
    bystander = await b.ws(other)
    on_a = await a.ws(user)
    assert (await a.post("/sessions/logout-all", json={}, user=user)).status == 200
    assert await closed_with(on_b) == frames.CLOSE_UNAUTHORIZED
    assert await closed_with(on_a) == frames.CLOSE_UNAUTHORIZED
    await bystander.send_json({"type": "ping", "ref": 1})
    assert (await recv(bystander))["type"] == "pong"
    await bystander.close()


async def test_hub_send_to_user_and_broadcast_cross_nodes(node: Nodes) -> None:
    a, b = await node("node-a"), await node("node-b")
    user = await a.register()
    on_b = await b.ws(user)
    anon_b = await b.raw.ws_connect("/api/v1/ws")
    await a.app[keys.hub].send_to_user(user.id, b'{"type":"notification","n":1}')
    assert (await recv(on_b))["n"] == 1
    await a.app[keys.hub].broadcast(b'{"type":"announcement","n":2}')
    assert (await recv(on_b))["n"] == 2
    assert (await recv(anon_b))["n"] == 2
    await on_b.close()
    await anon_b.close()


async def test_redis_away_degrades_readyz_and_local_sockets_keep_working(node: Nodes, redis_prefix: str) -> None:
    with RedisProcess() as server:
        a = await node("node-a", redis_url=server.url)
        user = await a.register()
        ws = await a.ws(user)
        server.kill()
        async with asyncio.timeout(10):
            while (await a.get("/readyz")).data["status"] != "degraded":
                await asyncio.sleep(0.05)
        ready = await a.get("/readyz")
        assert ready.status == 200 and ready.data["checks"]["redis"]["status"] == "error"
        await a.app[keys.hub].send_to_user(user.id, b'{"type":"notification","n":3}')  # local: still delivered
        assert (await recv(ws))["n"] == 3
        server.start()
        async with asyncio.timeout(15):
            while (await a.get("/readyz")).data["status"] != "ready":
                await asyncio.sleep(0.05)
        await ws.close()


async def test_room_messages_and_presence_cross_nodes(node: Nodes) -> None:
    a, b = await node("node-a"), await node("node-b")
    alice, bob = await a.register(), await a.register()
    room_id = await room(a, alice, "public")
    on_a = await a.ws(alice)
    first = await joined(on_a, room_id)
    assert [p["id"] for p in first["presence"]] == [alice.id]
    on_b = await b.ws(bob)
    second = await joined(on_b, room_id)
    assert sorted(p["id"] for p in second["presence"]) == sorted([alice.id, bob.id])  # both nodes
    assert (await until(on_a, "presence", status="online"))["user"]["id"] == bob.id

    for i in range(6):  # writers on both nodes at once: one order everywhere
        await (on_a if i % 2 else on_b).send_json({"type": "message", "room": room_id, "content": f"m{i}",
                                                   "client_id": f"c{i}"})

    async def seqs(ws) -> list[int]:  # type: ignore[no-untyped-def]
        return [(await until(ws, "message"))["message"]["seq"] for _ in range(6)]

    assert await seqs(on_a) == await seqs(on_b) == [1, 2, 3, 4, 5, 6]

    alice_tab2 = await b.ws(alice)
    await joined(alice_tab2, room_id)  # alice's second tab, on the other node: not "online" again
    await alice_tab2.close()  # ... and closing it is not "offline": her tab on node a remains
    await on_b.close()
    assert (await until(on_a, "presence", status="offline"))["user"]["id"] == bob.id
    assert [f for f in await quiet(on_a, 0.3) if f["type"] == "presence"] == []
    await on_a.close()


async def test_single_node_rooms_without_redis_use_the_rooms_own_cache(node: Nodes) -> None:
    """The suite runs with Redis; this keeps the single-node path (no sequencer) honest."""
    a = await node("solo", redis_url=None)
    alice = await a.register()
    room_id = await room(a, alice, "public")
    ws = await a.ws(alice)
    await joined(ws, room_id)
    assert a.app[keys.hub].sequencer(f"room:{room_id}") is None
    for i in range(3):
        await ws.send_json({"type": "message", "room": room_id, "content": f"m{i}", "client_id": f"c{i}"})
    assert [(await until(ws, "message"))["message"]["seq"] for _ in range(3)] == [1, 2, 3]
    again = await a.ws(alice)
    replay = await joined(again, room_id, since=1)
    assert [m["seq"] for m in replay["messages"]] == [2, 3] and replay["seq"] == 3 and replay["recovered"]
    await ws.close()
    await again.close()


async def test_a_feature_flag_change_reaches_every_node_within_a_second(node: Nodes) -> None:
    a, b = await node("node-a"), await node("node-b")
    admin = await a.register(role="admin")
    name = f"cluster-flag-{uuid.uuid4().hex[:6]}"
    assert (await a.put(f"/admin/feature-flags/{name}", user=admin, json={"enabled": True})).status == 200
    assert a.app[keys.platform_state].is_enabled(name)  # the node applies its own at once
    async with asyncio.timeout(1.0):  # the periodic reload is 30 s away: this is the broker
        while not b.app[keys.platform_state].is_enabled(name):
            await asyncio.sleep(0.01)
    assert (await b.put(f"/admin/feature-flags/{name}", user=admin, json={"enabled": False})).status == 200
    async with asyncio.timeout(1.0):
        while a.app[keys.platform_state].is_enabled(name):
            await asyncio.sleep(0.01)


async def test_a_revocation_made_while_redis_is_away_reaches_the_other_node_when_it_is_back(node: Nodes) -> None:
    with RedisProcess() as server:
        a, b = await node("node-a", redis_url=server.url), await node("node-b", redis_url=server.url)
        user = await a.register()
        on_b = await b.ws(user)
        server.kill()
        async with asyncio.timeout(10):
            while a.app[keys.broker].healthy:
                await asyncio.sleep(0.02)
        assert (await a.post("/sessions/logout-all", json={}, user=user)).status == 200
        server.start()  # the relay re-sends what it kept once the broker is back
        assert await closed_with(on_b, timeout=20) == frames.CLOSE_UNAUTHORIZED
