"""Both counter backends behave the same: fixed windows, atomic increments, peek, reset."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator

import pytest

from veza.security.counters import Counters, MemoryCounters, RedisCounters

REDIS_URL = os.environ.get("REDIS_URL")


@pytest.fixture(params=["memory", "redis"])
async def counters(request: pytest.FixtureRequest) -> AsyncIterator[Counters]:
    prefix = f"veza-test:{uuid.uuid4().hex}:"
    if request.param == "redis":
        if not REDIS_URL:
            pytest.skip("REDIS_URL not set")
        store: Counters = RedisCounters(REDIS_URL, prefix)
    else:
        store = MemoryCounters(prefix)
    yield store
    await store.close()


async def test_hit_counts_each_key_in_its_window(counters: Counters) -> None:
    first = await counters.hit(["a", "b"], window=30)
    second = await counters.hit(["a"], window=30)
    assert [w.count for w in first] == [1, 1]
    assert second[0].count == 2
    assert 0 < second[0].reset_in <= 30
    assert [w.count for w in await counters.peek(["a", "b", "never"])] == [2, 1, 0]


async def test_window_expiry_starts_a_new_count(counters: Counters) -> None:
    await counters.hit(["k"], window=0.05)
    await counters.hit(["k"], window=0.05)
    await asyncio.sleep(0.12)
    assert (await counters.peek(["k"]))[0].count == 0
    assert (await counters.hit(["k"], window=0.05))[0].count == 1


async def test_concurrent_hits_are_not_lost(counters: Counters) -> None:
    results = await asyncio.gather(*(counters.hit(["c"], window=30) for _ in range(50)))
    assert sorted(r[0].count for r in results) == list(range(1, 51))


async def test_reset_forgets_a_key(counters: Counters) -> None:
    await counters.hit(["r"], window=30, amount=3)
    await counters.reset("r")
    assert (await counters.peek(["r"]))[0].count == 0


async def test_a_negative_amount_takes_back_but_never_starts_a_window(counters: Counters) -> None:
    await counters.hit(["t"], window=30, amount=2)
    assert (await counters.hit(["t"], window=30, amount=-1))[0].count == 1
    assert (await counters.hit(["absent"], window=30, amount=-1))[0].count == 0
    assert (await counters.peek(["absent"]))[0] == (0, 0.0)
    assert (await counters.hit(["absent"], window=30))[0].count == 1  # a later hit starts from zero


async def test_redis_counters_are_shared_between_instances() -> None:
    if not REDIS_URL:
        pytest.skip("REDIS_URL not set")
    prefix = f"veza-test:{uuid.uuid4().hex}:"
    node_a, node_b = RedisCounters(REDIS_URL, prefix), RedisCounters(REDIS_URL, prefix)
    try:
        await node_a.hit(["shared"], window=30)
        assert (await node_b.hit(["shared"], window=30))[0].count == 2
    finally:
        await node_a.close()
        await node_b.close()


async def test_add_gives_each_key_its_own_amount_and_zero_only_reads(counters: Counters) -> None:
    await counters.hit(["x"], window=30)
    got = await counters.add([("x", 2), ("y", 1), ("z", 0), ("x", -1)], window=30)
    assert [w.count for w in got] == [3, 1, 0, 2]
    assert got[2].reset_in == 0  # a read never starts a window
    assert [w.count for w in await counters.peek(["x", "y", "z"])] == [2, 1, 0]
