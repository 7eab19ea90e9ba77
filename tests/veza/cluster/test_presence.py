"""Presence across nodes on a real Redis: members count once, leave when their sockets do,
and a node that dies without a word drops out by expiry."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest
import redis.asyncio as redis

from tests.redis_server import RedisProcess
from veza.cluster.presence import LocalPresence, RedisPresence


@pytest.fixture
async def make(redis_url: str, redis_prefix: str) -> AsyncIterator[Callable[..., RedisPresence]]:
    clients: list[redis.Redis] = []
    made: list[RedisPresence] = []

    def build(node: str, ttl: float = 25.0, url: str = redis_url) -> RedisPresence:
        client = redis.Redis.from_url(url)
        clients.append(client)
        presence = RedisPresence(client, node, redis_prefix, ttl=ttl)
        made.append(presence)
        return presence

    yield build
    for p in made:
        await p.stop()
    for c in clients:
        await c.aclose()


async def test_local_presence_counts_members_once() -> None:
    p = LocalPresence()
    await p.add("room:1", "alice", "c1")
    await p.add("room:1", "alice", "c2")
    await p.add("room:1", "bob", "c3")
    assert await p.members("room:1") == ["alice", "bob"] and await p.count("room:1") == 2
    await p.remove("room:1", "alice", "c1")
    assert await p.count("room:1") == 2
    await p.remove("room:1", "alice", "c2")
    assert await p.members("room:1") == ["bob"]
    assert await p.members("room:none") == []


async def test_members_are_cluster_wide_and_count_once(make) -> None:  # type: ignore[no-untyped-def]
    a, b = make("node-a"), make("node-b")
    await a.add("room:1", "alice", "a1")
    await b.add("room:1", "alice", "b1")  # a second tab, on another node
    await b.add("room:1", "bob", "b2")
    await a.add("stream:9", "anon-a3", "a3")
    for p in (a, b):
        assert await p.members("room:1") == ["alice", "bob"]
        assert await p.count("room:1") == 2
        assert await p.count("stream:9") == 1
    await b.remove("room:1", "alice", "b1")
    assert await a.members("room:1") == ["alice", "bob"]  # still on node a
    await a.remove("room:1", "alice", "a1")
    assert await b.members("room:1") == ["bob"]


async def test_a_clean_stop_takes_the_nodes_entries_at_once(make) -> None:  # type: ignore[no-untyped-def]
    a, b = make("node-a"), make("node-b")
    await a.start()
    await a.add("room:1", "alice", "a1")
    await b.add("room:1", "bob", "b1")
    await a.stop()
    assert await b.members("room:1") == ["bob"]


async def test_a_dead_node_vanishes_by_expiry_while_live_ones_heartbeat(make) -> None:  # type: ignore[no-untyped-def]
    dead, alive = make("node-dead", ttl=0.6), make("node-alive", ttl=0.6)
    await alive.start()  # re-stamps every 0.2 s
    await dead.add("room:1", "ghost", "d1")  # never heartbeats: as if SIGKILLed
    await alive.add("room:1", "bob", "b1")
    assert await alive.members("room:1") == ["bob", "ghost"]
    async with asyncio.timeout(5):
        while await alive.members("room:1") != ["bob"]:
            await asyncio.sleep(0.1)
    await asyncio.sleep(1.0)  # several ttls later bob is still there: the heartbeat works
    assert await alive.members("room:1") == ["bob"]


async def test_redis_away_answers_from_this_node_then_heartbeat_restores_entries(make) -> None:  # type: ignore[no-untyped-def]
    with RedisProcess() as server:
        a, b = make("node-a", ttl=0.9, url=server.url), make("node-b", ttl=0.9, url=server.url)
        await a.start()
        await a.add("room:1", "alice", "a1")
        await b.add("room:1", "bob", "b1")
        server.kill()
        assert await a.members("room:1") == ["alice"]  # degraded: its own view, no error
        await a.add("room:1", "carol", "a2")
        server.start()  # empty: everything was lost
        async with asyncio.timeout(5):
            while await b.members("room:1") != ["alice", "carol"]:
                await asyncio.sleep(0.1)
