"""Three real nodes, one PostgreSQL, one Redis (our own: the Redis test restarts it).

One room, clients spread over the nodes, 3,000 messages from several senders: every
client receives every message exactly once, all in the same (seq) order — plainly, while
Redis restarts mid-run, and while a node is SIGKILLed mid-run (its clients move to the
others with `since`; its senders resend what was not acknowledged). Then SIGTERM: exit
within 10 s, sockets told 1001.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import aiohttp
import pytest

from tests.cluster_support import ChatClient, Node, public_room, register
from tests.db import TestDatabase
from tests.redis_server import RedisProcess

pytestmark = pytest.mark.slow

MESSAGES = 3000
SENDERS = 6
CLIENTS_PER_NODE = 3


@pytest.fixture(scope="module")
def cluster(test_database: TestDatabase, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RedisProcess, list[Node]]]:
    workdir = tmp_path_factory.mktemp("cluster")
    prefix = f"veza-cluster-{uuid.uuid4().hex[:8]}:"
    with RedisProcess() as redis:
        nodes = [Node(f"node-{i}", test_database.dsn, redis.url, prefix, workdir) for i in range(3)]
        try:
            for node in nodes:
                node.wait_ready()
            yield redis, nodes
        finally:
            for node in nodes:
                node.kill()


async def run(nodes: list[Node], during: Callable[[list[ChatClient]], Awaitable[None]] | None = None) -> list[ChatClient]:
    """Clients on every node join one room; senders (spread too) send MESSAGES in all."""
    async with aiohttp.ClientSession() as http:
        live = [n for n in nodes if n.alive]
        users = [await register(http, live[0]) for _ in range(len(live) * CLIENTS_PER_NODE)]
        room = await public_room(http, live[0], users[0])
        clients = [ChatClient(http, u, room, nodes, nodes.index(live[i % len(live)])) for i, u in enumerate(users)]
        per_sender = MESSAGES // SENDERS

        async def send_all(sender: ChatClient, index: int) -> None:
            for i in range(per_sender):
                await sender.send(f"s{index}-{i}", f"message {i} from sender {index}")

        try:
            await asyncio.gather(*(c.start() for c in clients))
            sending = asyncio.gather(*(send_all(s, i) for i, s in enumerate(clients[:SENDERS])))
            if during is not None:
                await during(clients)
            await sending
            await asyncio.gather(*(c.wait_for(MESSAGES, timeout=60) for c in clients))
            await asyncio.sleep(0.3)  # anything extra (a duplicate) would arrive by now
        finally:
            for c in clients:
                await c.close()
        return clients


async def statuses(nodes: list[Node]) -> list[str | None]:
    return [await asyncio.to_thread(n.status) for n in nodes]


def assert_all_once_in_order(clients: list[ChatClient]) -> None:
    for c in clients:
        assert c.seqs == list(range(1, MESSAGES + 1)), (c.home, len(c.seqs), c.seqs[:5])


async def until_progress(clients: list[ChatClient], fraction: float) -> None:
    async with asyncio.timeout(60):
        while min(len(c.seqs) for c in clients) < MESSAGES * fraction:
            await asyncio.sleep(0.01)


async def test_three_nodes_every_client_gets_every_message_once_in_order(cluster) -> None:  # type: ignore[no-untyped-def]
    _, nodes = cluster
    assert_all_once_in_order(await run(nodes))


async def test_redis_restarted_mid_run(cluster) -> None:  # type: ignore[no-untyped-def]
    redis, nodes = cluster

    async def restart_redis(clients: list[ChatClient]) -> None:
        await until_progress(clients, 0.3)
        redis.kill()
        async with asyncio.timeout(15):  # local rooms keep working; readiness says degraded
            while set(await statuses(nodes)) != {"degraded"}:
                await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)
        await asyncio.to_thread(redis.start)
        async with asyncio.timeout(20):
            while set(await statuses(nodes)) != {"ready"}:
                await asyncio.sleep(0.05)

    assert_all_once_in_order(await run(nodes, restart_redis))
    # The outage hit mid-traffic: publishes were lost, and recovered from PostgreSQL.
    assert sum(n.metric("veza_broker_dropped_total") for n in nodes) > 0
    assert all(n.metric("veza_broker_reconnects_total") >= 1 for n in nodes)
    assert sum(n.metric('veza_room_events_total{outcome="filled_from_db"}') for n in nodes) > 0


async def test_a_node_sigkilled_mid_run_its_clients_move_and_lose_nothing(cluster) -> None:  # type: ignore[no-untyped-def]
    _, nodes = cluster
    victim = nodes[2]

    async def kill_node(clients: list[ChatClient]) -> None:
        await until_progress(clients, 0.3)
        victim.kill()

    clients = await run(nodes, kill_node)
    assert_all_once_in_order(clients)
    assert sum(c.moves for c in clients) >= CLIENTS_PER_NODE  # the victim's clients moved


async def test_sigterm_tells_sockets_1001_and_exits_within_10s(cluster) -> None:  # type: ignore[no-untyped-def]
    _, nodes = cluster
    node = nodes[1]
    async with aiohttp.ClientSession() as http:
        user = await register(http, node)
        ws = await http.ws_connect(node.ws_url)
        code = await asyncio.to_thread(node.terminate, 10)
        msg = await ws.receive(timeout=5)
        assert msg.type is aiohttp.WSMsgType.CLOSE and msg.data == 1001, msg
        assert code == 0 and user
        await ws.close()
