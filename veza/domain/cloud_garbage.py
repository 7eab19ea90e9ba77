"""Deleting stored objects once the rows that named them are gone.

The change that orphans an object writes its key to `storage_garbage` in its own
transaction; after COMMIT `Collector.free` deletes the objects in the background and
forgets the keys it could delete. Keys it could not (storage down, a crash before the
task ran) stay listed and `sweep` retries them, at start-up. So an object is deleted
only after the commit that released it, and never forgotten.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Iterable
from typing import Any, Protocol

from veza.domain.unit_of_work import UnitOfWork
from veza.store import cloud_usage as store

log = logging.getLogger("veza.cloud")
SWEEP_BATCH = 500


class Deleter(Protocol):
    async def delete(self, key: str) -> None: ...


class Freer(Protocol):
    def free(self, keys: list[str]) -> None: ...


async def discard(uow: UnitOfWork, freer: Freer, keys: Iterable[str]) -> None:
    """List `keys` as garbage in this transaction; free them after it commits."""
    keys = list(dict.fromkeys(keys))
    if keys:
        await store.add_garbage(uow.conn, keys)
        uow.after_commit(freer.free, keys)


class Collector:
    """Frees listed objects in tracked background tasks; `close` waits for them."""

    def __init__(self, db: Any, storage: Deleter) -> None:
        self._db = db
        self._storage = storage
        self._tasks: set[asyncio.Task[None]] = set()

    def free(self, keys: list[str]) -> None:
        self._spawn(self._free(keys))

    def start_sweep(self) -> None:
        self._spawn(self.sweep())

    def _spawn(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _free(self, keys: list[str]) -> int:
        gone: list[str] = []
        for key in keys:
            try:
                await self._storage.delete(key)
            except Exception:  # noqa: BLE001 - kept listed; the next sweep retries it
                log.warning("could not delete stored object %s; it stays listed for the next sweep", key,
                            exc_info=True)
                continue
            gone.append(key)
        if gone:
            async with self._db.connection() as conn:
                await store.forget_garbage(conn, gone)
        return len(gone)

    async def sweep(self) -> None:
        """Free every listed key, a batch at a time, until the list is empty or a batch frees nothing."""
        try:
            while True:
                async with self._db.connection() as conn:
                    keys = await store.garbage(conn, SWEEP_BATCH)
                if not keys or await self._free(keys) < len(keys):
                    return
        except Exception:  # noqa: BLE001 - a failed sweep is retried at the next start
            log.exception("storage garbage sweep failed")

    async def idle(self) -> None:
        """Wait for the frees in flight (tests and shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self, timeout: float = 10.0) -> None:
        try:
            await asyncio.wait_for(self.idle(), timeout)
        except TimeoutError:
            log.warning("storage frees still running at shutdown; the next sweep finishes them")


