"""Balances read through a short-lived cache, so a storm of dashboard refreshes reaches
Stripe at most once per account per `ttl` seconds: concurrent misses share one request,
failures are not cached, and the cache holds at most `max_entries` accounts."""

from __future__ import annotations

import asyncio
import collections
import time
from collections.abc import Awaitable, Callable

from veza.services.stripe_connect import Balance


class BalanceCache:
    def __init__(self, ttl: float = 30.0, max_entries: int = 10_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self._max = max_entries
        self._clock = clock
        self._entries: collections.OrderedDict[str, tuple[float, Balance]] = collections.OrderedDict()
        self._inflight: dict[str, asyncio.Future[Balance]] = {}

    async def get(self, account_id: str, fetch: Callable[[], Awaitable[Balance]]) -> Balance:
        hit = self._entries.get(account_id)
        if hit is not None and self._clock() - hit[0] < self.ttl:
            return hit[1]
        pending = self._inflight.get(account_id)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[Balance] = asyncio.get_running_loop().create_future()
        self._inflight[account_id] = future
        try:
            balance = await fetch()
        except asyncio.CancelledError:
            future.cancel()
            raise
        except Exception as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: no "never retrieved" warning when nobody else waited
            raise
        finally:
            del self._inflight[account_id]
        future.set_result(balance)
        self._entries[account_id] = (self._clock(), balance)
        self._entries.move_to_end(account_id)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)
        return balance

    def forget(self, account_id: str) -> None:
        """The balance changed (a payout or a reversal settled): read it afresh next time."""
        self._entries.pop(account_id, None)
