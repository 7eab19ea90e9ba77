"""Two real apps (two nodes) on one Redis and one database, in one process: session
revocations, broadcasts and the health check cross nodes; Redis away degrades /readyz."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest
from aiohttp import WSMsgType

from actors.broker import InProcessBroker
from protocols import frames
from tests.redis_server import RedisProcess
from tests.support import ApiClient
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
