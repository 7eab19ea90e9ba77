"""The Redis broker against a real Redis: fan-out between nodes, subscriptions that follow
local subscribers, prefixes that isolate, and an outage survived by reconnecting."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable

import pytest
import redis.asyncio as redis

from tests.redis_server import RedisProcess
from veza.cluster.redis_broker import RedisBroker


async def eventually(check: Callable[[], bool], timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.01)


@pytest.fixture
async def nodes(redis_url: str, redis_prefix: str) -> AsyncIterator[Callable[[str], RedisBroker]]:
    made: list[RedisBroker] = []

    def make(name: str, prefix: str = redis_prefix) -> RedisBroker:
        broker = RedisBroker(redis_url, name, prefix, ping_interval=0.5)
        made.append(broker)
        return broker

    yield make
    for broker in made:
        await broker.close()


async def test_a_publish_reaches_the_other_node_once_and_this_node_at_once(nodes) -> None:  # type: ignore[no-untyped-def]
    a, b = nodes("node-a"), nodes("node-b")
    await a.start()
    await b.start()
    got_a: list[tuple[bytes, str]] = []
    got_b: list[tuple[bytes, str]] = []
    await a.subscribe("room:1", lambda p, o: got_a.append((p, o)))
    await b.subscribe("room:1", lambda p, o: got_b.append((p, o)))
    for i in range(100):
        await a.publish("room:1", b"m%d" % i)
    assert len(got_a) == 100  # local handlers do not wait for Redis
    await eventually(lambda: len(got_b) == 100)
    assert got_b == [(b"m%d" % i, "node-a") for i in range(100)]  # in order, origin named
    await asyncio.sleep(0.1)
    assert len(got_a) == 100  # our own echo from Redis is not delivered twice


async def test_redis_channel_held_only_while_there_are_local_subscribers(nodes, redis_url: str,
                                                                         redis_prefix: str) -> None:
    a = nodes("node-a")
    await a.start()
    client = redis.Redis.from_url(redis_url)
    try:
        async def channels() -> set[bytes]:
            return set(await client.pubsub_channels(redis_prefix + "*"))

        assert await channels() == set()
        first = await a.subscribe("room:x", lambda p, o: None)
        second = await a.subscribe("room:x", lambda p, o: None)
        assert await channels() == {(redis_prefix + "room:x").encode()}
        await a.unsubscribe(first)
        assert await channels() == {(redis_prefix + "room:x").encode()}
        await a.unsubscribe(second)
        await eventually(lambda: True)
        async with asyncio.timeout(5):
            while await channels():
                await asyncio.sleep(0.01)
    finally:
        await client.aclose()


async def test_subscribe_returns_once_messages_from_other_nodes_arrive(nodes) -> None:  # type: ignore[no-untyped-def]
    a, b = nodes("node-a"), nodes("node-b")
    await a.start()
    await b.start()
    for i in range(20):  # no sleep between subscribe and publish: nothing may be missed
        got: list[bytes] = []
        sub = await b.subscribe(f"t{i}", lambda p, o: got.append(p))
        await a.publish(f"t{i}", b"x")
        await eventually(lambda: got == [b"x"])
        await b.unsubscribe(sub)


async def test_prefixes_keep_clusters_apart(nodes) -> None:  # type: ignore[no-untyped-def]
    a = nodes("node-a", prefix=f"other-{uuid.uuid4().hex}:")
    b = nodes("node-b")
    c = nodes("node-c")
    for n in (a, b, c):
        await n.start()
    heard: list[str] = []
    await b.subscribe("room:1", lambda p, o: heard.append(o))
    await a.publish("room:1", b"not for you")
    await c.publish("room:1", b"for you")
    await eventually(lambda: heard == ["node-c"])
    await asyncio.sleep(0.1)
    assert heard == ["node-c"]


async def test_a_failing_handler_does_not_starve_the_others(nodes) -> None:  # type: ignore[no-untyped-def]
    a, b = nodes("node-a"), nodes("node-b")
    await a.start()
    await b.start()
    got: list[bytes] = []

    def broken(p: bytes, o: str) -> None:
        raise RuntimeError("boom")

    await b.subscribe("c", broken)
    await b.subscribe("c", lambda p, o: got.append(p))
    await a.publish("c", b"1")
    await eventually(lambda: got == [b"1"])


def test_node_id_cannot_break_the_envelope() -> None:
    with pytest.raises(ValueError):
        RedisBroker("redis://127.0.0.1:1/0", "bad\nid")


async def test_redis_restart_local_delivery_continues_then_the_broker_reconnects_by_itself(redis_prefix: str) -> None:
    with RedisProcess() as server:
        a = RedisBroker(server.url, "node-a", redis_prefix, ping_interval=0.5, backoff_max=0.5)
        b = RedisBroker(server.url, "node-b", redis_prefix, ping_interval=0.5, backoff_max=0.5)
        reconnected = asyncio.Event()

        async def on_reconnect() -> None:
            reconnected.set()

        b.on_reconnect(on_reconnect)
        try:
            await a.start()
            await b.start()
            assert a.healthy and b.healthy
            local: list[bytes] = []
            remote: list[bytes] = []
            await a.subscribe("room:1", lambda p, o: local.append(p))
            await b.subscribe("room:1", lambda p, o: remote.append(p))
            await a.publish("room:1", b"before")
            await eventually(lambda: remote == [b"before"])

            server.kill()
            await eventually(lambda: not a.healthy and not b.healthy)
            await a.publish("room:1", b"during")  # never raises
            assert local == [b"before", b"during"]
            assert a.dropped >= 1

            server.start()  # same port
            await eventually(lambda: a.healthy and b.healthy, timeout=10)
            await asyncio.wait_for(reconnected.wait(), 5)
            assert b.reconnects == 1
            await a.publish("room:1", b"after")  # re-subscribed by itself
            await eventually(lambda: remote == [b"before", b"after"])
        finally:
            await a.close()
            await b.close()


async def test_a_node_starts_while_redis_is_down_and_joins_when_it_comes_up(redis_prefix: str) -> None:
    server = RedisProcess()
    a = RedisBroker(server.url, "node-a", redis_prefix, ping_interval=0.5, backoff_max=0.3)
    b = RedisBroker(server.url, "node-b", redis_prefix, ping_interval=0.5, backoff_max=0.3)
    try:
        await a.start(wait=0.2)
        assert not a.healthy
        got: list[bytes] = []
        await a.subscribe("room:1", lambda p, o: got.append(p))  # recorded, sent on connect
        server.start()
        await b.start()
        await eventually(lambda: a.healthy, timeout=10)
        await b.publish("room:1", b"hello")
        await eventually(lambda: got == [b"hello"])
    finally:
        await a.close()
        await b.close()
        server.__exit__()
