"""The live side of announcements: the `announcement` event, and its push at the start of
a scheduled one.

An announcement active when created is broadcast by the handler (every socket on every
node, through the hub). One that starts later is pushed at its start by every node to its
own sockets, so each socket gets it once: each node keeps a task per announcement starting
within `horizon`, loaded from PostgreSQL at start-up and every `refresh`, and reloaded
when any node creates or deletes one (broker channel `CHANNEL`). At the start the task
reads the row again: one deleted or ended meanwhile is not pushed, whatever the broker
delivered. A node that was down at the start pushes nothing: its clients read the
active list when they connect.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Coroutine
from typing import Any
from uuid import UUID

from aiohttp import web

from actors.broker import Broker, Subscription
from actors.hub import Hub
from protocols.frames import encode_event
from veza import keys
from veza.store import announcements as store

log = logging.getLogger("veza.announcements")

CHANNEL = "announcements.schedule"  # payload-less: "reload the schedule"
# The fields of veza.api.announcements.AnnouncementOut.
EVENT_FIELDS = ("id", "title", "content", "type", "starts_at", "ends_at", "created_at")


def event(row: dict[str, Any]) -> bytes:
    return encode_event("announcement", announcement={f: row[f] for f in EVENT_FIELDS})


class AnnouncementSchedule:
    horizon = 3600.0  # seconds ahead a node holds a task for (at most `limit` of them)
    refresh = 300.0  # a reload this often picks up what came into the horizon (or a missed message)
    limit = 100

    def __init__(self, db: Any, hub: Hub, broker: Broker) -> None:
        self.db, self.hub, self.broker = db, hub, broker
        self._timers: dict[UUID, asyncio.Task[None]] = {}  # waiting for their start
        self._tasks: set[asyncio.Task[None]] = set()  # everything running, for stop()
        self._subscription: Subscription | None = None
        self._reloading: asyncio.Task[None] | None = None
        self._again = False
        self._full = False  # the last reload hit `limit`: reload after each push

    async def start(self) -> None:
        await self._reload()
        self._subscription = await self.broker.subscribe(CHANNEL, self._on_message)
        self._spawn(self._refresh_loop())

    async def stop(self) -> None:
        if self._subscription is not None:
            await self.broker.unsubscribe(self._subscription)
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=2.0)

    async def changed(self) -> None:
        """After an announcement was created or deleted (committed): every node reloads."""
        self._request_reload()
        try:
            await self.broker.publish(CHANNEL, b"")
        except Exception as exc:  # the other nodes catch up at their next refresh
            log.warning("announcement schedule change not published: %r", exc)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _on_message(self, payload: bytes, origin: str) -> None:
        if origin != self.broker.node_id:  # our own change reloaded already
            self._request_reload()

    def _request_reload(self) -> None:
        """One reload at a time; a request during one runs another after it."""
        if self._reloading is not None and not self._reloading.done():
            self._again = True
        else:
            self._reloading = self._spawn(self._reload_while_asked())

    async def _reload_while_asked(self) -> None:
        self._again = True
        while self._again:
            self._again = False
            try:
                await self._reload()
            except Exception as exc:  # keep the current timers; the next refresh tries again
                log.warning("announcement schedule reload failed: %r", exc)

    async def _refresh_loop(self) -> None:
        while True:
            await asyncio.sleep(self.refresh)
            self._request_reload()

    async def _reload(self) -> None:
        async with self.db.connection() as conn:
            rows = await store.upcoming(conn, self.horizon, self.limit)
        self._full = len(rows) == self.limit
        waits = {row["id"]: row["wait"] for row in rows}
        for gone in self._timers.keys() - waits.keys():  # deleted (or no longer within `limit`)
            self._timers.pop(gone).cancel()
        for announcement_id, wait in waits.items():
            if announcement_id not in self._timers:
                self._arm(announcement_id, wait)

    def _arm(self, announcement_id: UUID, wait: float) -> None:
        self._timers[announcement_id] = self._spawn(self._at_start(announcement_id, wait))

    async def _at_start(self, announcement_id: UUID, wait: float) -> None:
        await asyncio.sleep(wait)
        self._timers.pop(announcement_id, None)  # started: a reload no longer lists (nor cancels) it
        try:
            async with self.db.connection() as conn:
                row = await store.starting(conn, announcement_id)
        except Exception as exc:
            log.warning("scheduled announcement %s not pushed: %r", announcement_id, exc)
            return
        if row is None:  # deleted or ended meanwhile
            return
        if row["wait"] > 0:  # woke a little early by the database's clock
            if announcement_id not in self._timers:
                self._arm(announcement_id, row["wait"])
            return
        data = event(row)
        for sock in self.hub.connections():  # this node's sockets: every node pushes its own
            try:
                sock.deliver(data)
            except Exception:
                log.exception("announcement delivery failed")
        if self._full:
            self._request_reload()


async def announcements_ctx(app: web.Application) -> AsyncIterator[None]:
    """A cleanup_ctx entry after the hub's (the gateway's): its timers stop before the sockets close."""
    schedule = AnnouncementSchedule(app[keys.db], app[keys.hub], app[keys.broker])
    await schedule.start()
    app[keys.announcement_schedule] = schedule
    yield
    await schedule.stop()
