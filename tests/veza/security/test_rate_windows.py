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
    assert windows.hit("a", now=100.0) == (1, 1.0)
    assert windows.hit("a", now=100.5) == (2, 0.5)
    assert windows.hit("b", now=100.5)[0] == 1
    assert windows.hit("a", now=101.0) == (1, 1.0)  # a new window


async def test_synced_windows_share_counts_without_losing_hits() -> None:
    if not REDIS_URL:
        pytest.skip("REDIS_URL not set")
    prefix = f"veza-test:{uuid.uuid4().hex}:"
    remote_a, remote_b = RedisCounters(REDIS_URL, prefix), RedisCounters(REDIS_URL, prefix)
    node_a, node_b = SyncedWindows(30.0, remote_a, 3600), SyncedWindows(30.0, remote_b, 3600)
    try:
        import time

        for _ in range(4):
            node_a.hit("ip:x", time.monotonic())
        node_b.hit("ip:x", time.monotonic())
        await node_a.sync()
        await node_b.sync()
        assert node_b.hit("ip:x", time.monotonic())[0] == 6
        await node_b.sync()
        await node_a.sync()
        count, reset_in = node_a.hit("ip:x", time.monotonic())
        assert count == 7 and 0 < reset_in <= 30
        assert (await remote_a.peek(["ip:x"]))[0].count == 6  # the 7th is still local
    finally:
        await node_a.close()
        await node_b.close()
        await remote_a.close()
        await remote_b.close()
