"""Group commit for every chat room of a node: one statement and one commit for many rooms.

Each `ChatRoom` actor already drains its mailbox into one batch; with a statement and a
commit per room, a node with many busy rooms pays one round trip and one WAL flush per
room per turn. The writer gathers the batches rooms hand in while earlier writes are in
flight and writes them together (`veza.store.messages.insert_rooms`: one statement, run
outside a transaction block, so PostgreSQL commits it, WAL flushed, before it answers): the
rooms get their answers only after that commit, so an ack still means "committed" (fsync
included). One round trip per group, whatever its number of rooms and messages.

Bounded: at most `max_inflight` statements at once (the second only once `overlap_rows`
wait), each of at most `max_rows` items (a single larger batch goes alone), and a room
appears once per statement. A group that fails for a reason other than a race is retried
room by room, so one room's failure is only that room's.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Sequence
from typing import Any
from uuid import UUID

import asyncpg

from veza.store import messages
from veza.store.messages import Item

log = logging.getLogger("veza.rooms")

Rows = list[tuple[bool, dict[str, Any]]]
# A resend (unique key) or, should two writers still collide (the rooms are locked in one
# order), a race: the statement is run again, with the resend probe.
_RACES = (asyncpg.UniqueViolationError, asyncpg.DeadlockDetectedError, asyncpg.SerializationError)


class RoomWriter:
    def __init__(self, db: Any, *, max_rows: int = 4096, max_inflight: int = 2, overlap_rows: int = 256,
                 max_rooms: int = 1024) -> None:
        self.db = db
        self.max_rows = max_rows
        self.max_inflight = max_inflight
        self.overlap_rows = overlap_rows
        self.max_rooms = max_rooms
        self._pending: deque[tuple[UUID, Sequence[Item], asyncio.Future[Rows | None]]] = deque()
        self._pending_rows = 0
        self._inflight = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self.statements = 0  # statements run (each one commit): batches / statements = grouping

    async def write(self, room_id: UUID, items: Sequence[Item]) -> Rows | None:
        """The room's items stored in order: (fresh, row) each, or None when the room is gone."""
        future: asyncio.Future[Rows | None] = asyncio.get_running_loop().create_future()
        self._pending.append((room_id, items, future))
        self._pending_rows += len(items)
        self._start()
        return await future

    def _start(self) -> None:
        # Idle: write at once (a lone send waits for nothing). Busy: the next statement waits
        # for the one in flight, unless enough has gathered to be worth a second connection.
        while self._pending and (self._inflight == 0 or (self._inflight < self.max_inflight
                                                         and self._pending_rows >= self.overlap_rows)):
            group, rows, rooms = [], 0, set()
            skipped: list[tuple[UUID, Sequence[Item], asyncio.Future[Rows | None]]] = []
            while self._pending and len(group) < self.max_rooms:
                room_id, items, future = self._pending[0]
                if group and rows + len(items) > self.max_rows:
                    break
                self._pending.popleft()
                self._pending_rows -= len(items)
                if future.done():  # its asker gave up (cancelled) before anything was sent
                    continue
                if room_id in rooms:  # never twice in one statement: the next one takes it
                    skipped.append((room_id, items, future))
                    continue
                group.append((room_id, items, future))
                rooms.add(room_id)
                rows += len(items)
            self._pending.extendleft(reversed(skipped))
            self._pending_rows += sum(len(items) for _, items, _ in skipped)
            if not group:
                continue
            self._inflight += 1
            task = asyncio.get_running_loop().create_task(self._run(group))
            self._tasks.add(task)  # the loop keeps only a weak reference to a task
            task.add_done_callback(self._tasks.discard)

    async def _run(self, group: list[tuple[UUID, Sequence[Item], asyncio.Future[Rows | None]]]) -> None:
        try:
            batches = [(room_id, items) for room_id, items, _ in group]
            try:
                results: list[Rows | None | BaseException] = list(await self._statement(batches))
            except Exception as exc:
                if len(group) == 1:
                    results = [exc]
                else:
                    log.warning("a group of %d rooms failed (%r): writing them one by one", len(group), exc)
                    results = [await self._one(batch) for batch in batches]
            for (_, _, future), result in zip(group, results, strict=True):
                if future.done():
                    continue
                if isinstance(result, BaseException):
                    future.set_exception(result)
                else:
                    future.set_result(result)
        except BaseException as exc:  # cancelled at shutdown: nobody waits forever
            for _, _, future in group:
                if not future.done():
                    future.set_exception(exc if isinstance(exc, Exception) else ConnectionError("writer stopped"))
            raise
        finally:
            self._inflight -= 1
            self._start()

    async def _statement(self, batches: list[tuple[UUID, Sequence[Item]]]) -> list[Rows | None]:
        self.statements += 1
        # No transaction block: the group is one statement, committed before it answers. It
        # runs first without the resend probe (resends are rare: a socket that reconnected);
        # a resend then breaks the unique key, nothing is stored, and it runs with the probe.
        try:
            async with self.db.connection() as conn:
                return await messages.insert_rooms(conn, batches, probe=False)
        except _RACES:
            async with self.db.connection() as conn:
                return await messages.insert_rooms(conn, batches)

    async def _one(self, batch: tuple[UUID, Sequence[Item]]) -> Rows | None | BaseException:
        try:
            return (await self._statement([batch]))[0]
        except Exception as exc:
            return exc
