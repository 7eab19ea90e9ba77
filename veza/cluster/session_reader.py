"""Sessions as the authenticators need them, read in batches: no query per socket upgrade.

`SessionReader.state(session_id)` answers exactly what `veza.store.sessions.state` would
(the session's owner, whether it is active, the owner's role, ban and name as the database
has them now), but the lookups that arrive while earlier ones are in flight share one
`= ANY(...)` query, a few queries at a time: 100,000 sockets reconnecting after a deploy
cost a few hundred queries, not 100,000.

Nothing is kept between lookups. A cache invalidated by the announcements every node hears
(logout, logout-all, the session cap, refresh reuse, a ban, a new role) was considered and
refused: a ban or a role written to the database by anything that does not announce it (an
operator's SQL, another service) must still apply to the very next upgrade and request
(tests/veza/security/test_token_trust.py), and no announcement-driven cache can promise
that.

It also closes a gap in the revocation path. A socket is checked, then upgraded, then
registered in the hub; a revocation announced in between found nothing to close. The reader
counts the announcements per user (`epoch`, `invalidated_since`), and the gateway reads a
socket's session again once it is registered if one arrived meanwhile, on this node or (the
relay replays them here) any other.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from veza.session_events import SessionEvents
from veza.store import sessions

Waiters = list[asyncio.Future[sessions.SessionState | None]]


class SessionReader:
    def __init__(self, pool: Any, events: SessionEvents, *, max_batch: int = 500, max_inflight: int = 4) -> None:
        self.pool = pool
        self.max_batch = max_batch
        self.max_inflight = max_inflight
        self._wanted: dict[UUID, Waiters] = {}
        self._inflight = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self._scheduled = False
        self.epoch = 0  # counts announcements
        self._announced: dict[UUID, tuple[int, float]] = {}  # user -> (epoch, monotonic time)
        self.queries = 0
        self.lookups = 0
        events.subscribe(self._on_revoked)
        events.subscribe_roles(self._on_role)

    async def state(self, session_id: UUID) -> sessions.SessionState | None:
        """The session now (None when unknown): read with the other lookups of the moment."""
        self.lookups += 1
        future: asyncio.Future[sessions.SessionState | None] = asyncio.get_running_loop().create_future()
        self._wanted.setdefault(session_id, []).append(future)
        if not self._scheduled and self._inflight < self.max_inflight:
            self._scheduled = True  # the lookups of this loop turn go together
            asyncio.get_running_loop().call_soon(self._start)
        return await future

    def _start(self) -> None:
        self._scheduled = False
        while self._wanted and self._inflight < self.max_inflight:
            ids = list(self._wanted)[:self.max_batch] if len(self._wanted) > self.max_batch else list(self._wanted)
            batch = {sid: self._wanted.pop(sid) for sid in ids}
            self._inflight += 1
            task = asyncio.get_running_loop().create_task(self._load(batch))
            self._tasks.add(task)  # the loop keeps only a weak reference to a task
            task.add_done_callback(self._tasks.discard)

    async def _load(self, batch: dict[UUID, Waiters]) -> None:
        try:
            self.queries += 1
            rows = await sessions.states(self.pool, list(batch))
        except BaseException as exc:
            error = exc if isinstance(exc, Exception) else ConnectionError("session lookup cancelled")
            for waiters in batch.values():
                for future in waiters:
                    if not future.done():
                        future.set_exception(error)
            if not isinstance(exc, Exception):
                raise
            return
        finally:
            self._inflight -= 1
            if self._wanted and not self._scheduled:  # what gathered meanwhile goes next
                self._scheduled = True
                asyncio.get_running_loop().call_soon(self._start)
        found = {row["id"]: sessions.SessionState(user_id=row["user_id"], active=row["active"], stale=row["stale"],
                                                  role=row["role"], is_banned=row["is_banned"],
                                                  username=row["username"]) for row in rows}
        for sid, waiters in batch.items():
            state = found.get(sid)
            for future in waiters:
                if not future.done():
                    future.set_result(state)

    # ---- announcements ------------------------------------------------------------------
    def invalidated_since(self, user_id: UUID, epoch: int) -> bool:
        """Was a revocation or role change of the user announced after `epoch`?"""
        seen = self._announced.get(user_id)
        return seen is not None and seen[0] > epoch

    def announced(self, user_id: UUID) -> None:
        self.epoch += 1
        now = time.monotonic()
        self._announced[user_id] = (self.epoch, now)
        if len(self._announced) > 10_000:  # older than any upgrade still opening
            self._announced = {u: seen for u, seen in self._announced.items() if now - seen[1] < 120}

    async def _on_revoked(self, user_id: UUID, session_ids: Sequence[UUID] | None, keep: UUID | None) -> None:
        self.announced(user_id)

    async def _on_role(self, user_id: UUID, role: str) -> None:
        self.announced(user_id)
