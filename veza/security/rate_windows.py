"""The rate limiter's windows: counted in memory on the request path, shared in the background.

`LocalWindows` is exact for one node. `SyncedWindows` (when Redis is configured) counts
the same way and, every `interval` seconds, adds what this node counted to Redis in one
script call and learns the cluster-wide totals back. So a request never waits for
Redis, and each node sees the others' traffic within one interval: a cluster may let
through up to (nodes x rate x interval) more than the limit at the edge of a burst,
which for a DDoS guard is the right trade against a Redis round trip per request.
If Redis is down the node keeps limiting on its own counts.
"""

from __future__ import annotations

import asyncio
import logging
import time

from veza.aio import stop_task
from veza.security.counters import RedisCounters

log = logging.getLogger("veza.ratelimit")

GLOBAL = "global"  # the key of the window every request counts in
_SWEEP_AT = 50_000
_SYNC_CHUNK = 500


class Window:
    """One key's open window: what the cluster counted, what this node counted and has
    not shared yet, and when the window ends (monotonic)."""

    __slots__ = ("remote", "pending", "ends")

    def __init__(self, ends: float) -> None:
        self.remote = 0
        self.pending = 0
        self.ends = ends


class LocalWindows:
    """Fixed windows of `window` seconds per key; `count` is synchronous and O(1)."""

    def __init__(self, window: float) -> None:
        self.window = window
        self._table: dict[str, Window] = {}
        self._next_sweep = _SWEEP_AT

    def count(self, key: str, now: float) -> tuple[int, int]:
        """Count one request in the `GLOBAL` window and in the window of `key`; returns both
        counts (cluster-wide when synced). One call for both: this runs on every request."""
        total = self._table.get(GLOBAL)
        if total is None or total.ends <= now:
            total = self._open(GLOBAL, now)
        total.pending += 1
        entry = self._table.get(key)  # (re-read: opening a window may have swept the table)
        if entry is None or entry.ends <= now:
            entry = self._open(key, now)
        entry.pending += 1
        return total.remote + total.pending, entry.remote + entry.pending

    def _open(self, key: str, now: float) -> Window:
        if len(self._table) >= self._next_sweep:
            self._sweep(now)
        entry = self._table[key] = Window(now + self.window)
        return entry

    def peek(self, key: str, now: float) -> tuple[int, int]:
        """The counts `count` last returned for `key`, without counting a request."""
        total, entry = self._table.get(GLOBAL), self._table.get(key)
        return (total.remote + total.pending if total is not None and total.ends > now else 0,
                entry.remote + entry.pending if entry is not None and entry.ends > now else 0)

    def reset_in(self, key: str, now: float) -> float:
        """Seconds until the window of `key` ends (0 when none is open)."""
        entry = self._table.get(key)
        return max(0.0, entry.ends - now) if entry is not None else 0.0

    def _sweep(self, now: float) -> None:
        self._table = {k: v for k, v in self._table.items() if v.ends > now}
        self._next_sweep = max(_SWEEP_AT, 2 * len(self._table))

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        self._table.clear()


class SyncedWindows(LocalWindows):
    def __init__(self, window: float, remote: RedisCounters, interval: float) -> None:
        super().__init__(window)
        self.remote = remote
        self.interval = interval
        self._task: asyncio.Task[None] | None = None
        self._closing = False

    async def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="rate-limit-sync")

    async def close(self) -> None:
        self._closing = True
        await stop_task(self._task)
        await super().close()

    async def _loop(self) -> None:
        task = asyncio.current_task()
        while not self._closing:
            await asyncio.sleep(self.interval)
            # A cancel that lands inside the Redis client can be swallowed there (or come out
            # as another error): the flag and this check end the loop regardless.
            if task is not None and task.cancelling():
                return
            try:
                await self.sync()
            except Exception as exc:  # keep limiting on local counts
                log.warning("rate limit sync with Redis failed: %r", exc)

    async def sync(self) -> None:
        """Share local counts and learn the cluster's, for every window still open."""
        now = time.monotonic()
        self._table = live = {k: v for k, v in self._table.items() if v.ends > now}
        batch = [(key, entry, entry.pending) for key, entry in live.items()]
        for start in range(0, len(batch), _SYNC_CHUNK):
            chunk = batch[start:start + _SYNC_CHUNK]
            windows = await self.remote.add([(key, sent) for key, _, sent in chunk], self.window)
            after = time.monotonic()
            for (key, entry, sent), remote in zip(chunk, windows):
                entry.pending -= sent  # hits that arrived during the call stay pending
                entry.remote = remote.count
                if remote.reset_in > 0:  # align our window end with the shared one
                    entry.ends = after + remote.reset_in
