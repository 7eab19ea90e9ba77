"""Fixed-window counters for rate limits and the brute-force guard, behind one interface.

Two backends: `MemoryCounters` (one node) and `RedisCounters` (one Lua script per call,
so a check-and-increment is atomic and every node shares the same counts). A window
starts at a key's first hit and the key expires with it; no clock is compared across
nodes. `counters_for(settings)` picks Redis when REDIS_URL is set.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import NamedTuple, Protocol

from veza.config import Settings


class Window(NamedTuple):
    count: int
    reset_in: float  # seconds until this window ends (0 when the key is absent)


class Counters(Protocol):
    async def hit(self, keys: Sequence[str], window: float, amount: int = 1) -> list[Window]:
        """Add `amount` to each key (starting a `window`-second window if new); new counts.
        A negative amount takes back from a live window and never starts one."""

    async def add(self, amounts: Sequence[tuple[str, int]], window: float) -> list[Window]:
        """`hit` with an amount of its own per key (0 reads it), in one atomic step."""

    async def peek(self, keys: Sequence[str]) -> list[Window]:
        """Current counts without changing them."""

    async def reset(self, key: str) -> None: ...

    async def ping(self) -> None: ...

    async def close(self) -> None: ...


class MemoryCounters:
    """One node's counters. Expired keys are swept when the table grows, not per call."""

    _SWEEP_AT = 50_000

    def __init__(self, prefix: str = "") -> None:
        self.prefix = prefix
        self._table: dict[str, list[float]] = {}  # key -> [count, expires_at]
        self._next_sweep = self._SWEEP_AT

    def _sweep(self, now: float) -> None:
        self._table = {k: v for k, v in self._table.items() if v[1] > now}
        self._next_sweep = max(self._SWEEP_AT, 2 * len(self._table))

    async def hit(self, keys: Sequence[str], window: float, amount: int = 1) -> list[Window]:
        return await self.add([(key, amount) for key in keys], window)

    async def add(self, amounts: Sequence[tuple[str, int]], window: float) -> list[Window]:
        now = time.monotonic()
        if len(self._table) >= self._next_sweep:
            self._sweep(now)
        out = []
        for key, amount in amounts:
            entry = self._table.get(self.prefix + key)
            if entry is None or entry[1] <= now:
                if amount <= 0:  # reading or taking back never starts a window
                    out.append(Window(0, 0.0))
                    continue
                entry = self._table[self.prefix + key] = [0, now + window]
            entry[0] += amount
            out.append(Window(int(entry[0]), entry[1] - now))
        return out

    async def peek(self, keys: Sequence[str]) -> list[Window]:
        now = time.monotonic()
        out = []
        for key in keys:
            entry = self._table.get(self.prefix + key)
            live = entry is not None and entry[1] > now
            out.append(Window(int(entry[0]), entry[1] - now) if live else Window(0, 0.0))  # type: ignore[index]
        return out

    async def reset(self, key: str) -> None:
        self._table.pop(self.prefix + key, None)

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        self._table.clear()


# KEYS: the counters; ARGV[1]: window in ms; ARGV[i + 1]: what to add to KEYS[i] (0 =
# read only; below 0 = take back, only from a live key). Returns count, pttl for each key.
# A key left without a TTL (it cannot happen through this script, but a manual SET
# could) gets one: no counter lives forever.
_HIT_LUA = """
local window = tonumber(ARGV[1])
local out = {}
for i, key in ipairs(KEYS) do
  local amount = tonumber(ARGV[i + 1])
  local count
  if amount > 0 or (amount < 0 and redis.call('EXISTS', key) == 1) then
    count = redis.call('INCRBY', key, amount)
  else
    count = tonumber(redis.call('GET', key) or '0')
  end
  local ttl = redis.call('PTTL', key)
  if amount > 0 and ttl < 0 then
    redis.call('PEXPIRE', key, window)
    ttl = window
  end
  out[#out + 1] = count
  out[#out + 1] = ttl
end
return out
"""


class RedisCounters:
    """Counters shared by every node through Redis (redis.asyncio, one script call per check)."""

    def __init__(self, url: str, prefix: str) -> None:
        import redis.asyncio as redis

        self.prefix = prefix
        self._redis = redis.Redis.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0)
        self._script = self._redis.register_script(_HIT_LUA)

    async def add(self, amounts: Sequence[tuple[str, int]], window: float) -> list[Window]:
        """Add a different amount to each key (0 reads it) in one atomic script call."""
        raw = await self._script(keys=[self.prefix + k for k, _ in amounts],
                                 args=[max(int(window * 1000), 1), *(n for _, n in amounts)])
        return [Window(int(raw[i]), max(int(raw[i + 1]), 0) / 1000) for i in range(0, len(raw), 2)]

    async def hit(self, keys: Sequence[str], window: float, amount: int = 1) -> list[Window]:
        return await self.add([(k, amount) for k in keys], window)

    async def peek(self, keys: Sequence[str]) -> list[Window]:
        return await self.add([(k, 0) for k in keys], 0.001)

    async def reset(self, key: str) -> None:
        await self._redis.delete(self.prefix + key)

    async def ping(self) -> None:
        await self._redis.ping()

    async def close(self) -> None:
        await self._redis.aclose()


def counters_for(settings: Settings) -> Counters:
    if settings.redis_url:
        return RedisCounters(settings.redis_url, settings.rate_limit_key_prefix)
    return MemoryCounters(settings.rate_limit_key_prefix)
