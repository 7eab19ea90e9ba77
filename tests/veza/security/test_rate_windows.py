"""Rate-limit windows: exact local counting; Redis-synced counts converge across nodes."""

from __future__ import annotations

import os
import uuid

import pytest

from veza.security.counters import RedisCounters
from veza.security.rate_windows import LocalWindows, SyncedWindows

REDIS_URL = os.environ.get("REDIS_URL")


def test_local_windows_count_and_roll_over() -> None:
    windows = LocalWindows(window=1.0)
    assert windows.count("a", now=100.0) == (1, 1)  # (every request, this key)
    assert windows.count("a", now=100.5) == (2, 2)
    assert windows.reset_in("a", now=100.5) == 0.5
    assert windows.count("b", now=100.5) == (3, 1)
    assert windows.peek("b", now=100.6) == (3, 1) and windows.peek("c", now=100.6) == (3, 0)  # nothing counted
    assert windows.count("a", now=101.0) == (1, 1)  # new windows
    assert windows.reset_in("a", now=101.0) == 1.0 and windows.reset_in("c", now=101.0) == 0.0


async def test_synced_windows_share_counts_without_losing_hits() -> None:
    if not REDIS_URL:
        pytest.skip("REDIS_URL not set")
    prefix = f"veza-test:{uuid.uuid4().hex}:"
    remote_a, remote_b = RedisCounters(REDIS_URL, prefix), RedisCounters(REDIS_URL, prefix)
    node_a, node_b = SyncedWindows(30.0, remote_a, 3600), SyncedWindows(30.0, remote_b, 3600)
    try:
        import time

        for _ in range(4):
            node_a.count("ip:x", time.monotonic())
        node_b.count("ip:x", time.monotonic())
        await node_a.sync()
        await node_b.sync()
        assert node_b.count("ip:x", time.monotonic()) == (6, 6)
        await node_b.sync()
        await node_a.sync()
        now = time.monotonic()
        assert node_a.count("ip:x", now) == (7, 7)
        assert 0 < node_a.reset_in("ip:x", now) <= 30
        assert (await remote_a.peek(["ip:x"]))[0].count == 6  # the 7th is still local
    finally:
        await node_a.close()
        await node_b.close()
        await remote_a.close()
        await remote_b.close()
