"""Session revocations and role changes reach every node: logout-all or a ban closes
sockets everywhere, a new role applies to the user's sockets everywhere.

A revocation announced on this node (`app[keys.session_events].revoked(...)`) is published
on the broker channel `sessions`; every other node replays it into its own
`SessionEvents`, whose listeners (the WebSocket gateway) close the affected sockets. A
replayed event is not published again. Announcements made while Redis is away are kept
(bounded) and published when the broker reconnects, and again a few seconds later for
nodes that reconnect after this one.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections import deque
from collections.abc import Sequence
from typing import Any
from uuid import UUID

import msgspec

from actors.broker import Subscription
from veza.session_events import SessionEvents

log = logging.getLogger("veza.cluster.sessions")

CHANNEL = "sessions"
_replaying: contextvars.ContextVar[bool] = contextvars.ContextVar("session_relay_replaying", default=False)


class Revoked(msgspec.Struct, frozen=True):
    user: UUID
    sessions: list[UUID] | None = None
    keep: UUID | None = None
    # "role": the user's role changed to `role` (nothing is revoked). A node that predates
    # the field reads it as a revocation of every session: it closes the user's sockets,
    # which reconnect with the new role, so a mixed cluster errs on the safe side.
    kind: str = "revoked"
    role: str | None = None


class SessionRelay:
    def __init__(self, broker: Any, events: SessionEvents, max_pending: int = 10_000, repeat_after: float = 6.0) -> None:
        self.broker = broker
        self.events = events
        self._pending: deque[bytes] = deque(maxlen=max_pending)
        self.repeat_after = repeat_after
        self._sub: Subscription | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._sub = await self.broker.subscribe(CHANNEL, self._on_message)
        self.events.subscribe(self._on_local)
        self.events.subscribe_roles(self._on_local_role)
        if hasattr(self.broker, "on_reconnect"):
            self.broker.on_reconnect(self._resend)

    async def stop(self) -> None:
        if self._sub is not None:
            await self.broker.unsubscribe(self._sub)
            self._sub = None
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=2.0)

    async def _on_local(self, user_id: UUID, session_ids: Sequence[UUID] | None, keep: UUID | None) -> None:
        if _replaying.get():
            return  # came from another node: it already told everyone
        await self._publish(Revoked(user_id, list(session_ids) if session_ids is not None else None, keep))

    async def _on_local_role(self, user_id: UUID, role: str) -> None:
        if _replaying.get():
            return
        await self._publish(Revoked(user_id, kind="role", role=role))

    async def _publish(self, event: Revoked) -> None:
        data = msgspec.json.encode(event)
        if not self.broker.healthy:
            self._pending.append(data)
            return
        await self.broker.publish(CHANNEL, data)

    async def _resend(self) -> None:
        """Publish what was kept, now and once more when the other nodes have surely
        reconnected too (their backoff is at most ~5 s); closing a socket twice is harmless."""
        kept = list(self._pending)
        self._pending.clear()
        for data in kept:
            await self.broker.publish(CHANNEL, data)
        await asyncio.sleep(self.repeat_after)
        for data in kept:
            await self.broker.publish(CHANNEL, data)

    def _on_message(self, payload: bytes, origin: str) -> None:
        if origin == self.broker.node_id:
            return
        try:
            event = msgspec.json.decode(payload, type=Revoked)
        except msgspec.DecodeError:
            log.warning("bad session revocation from %s", origin)
            return
        task = asyncio.get_running_loop().create_task(self._replay(event))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _replay(self, event: Revoked) -> None:
        _replaying.set(True)  # this task's context only
        if event.kind == "role":
            if event.role is not None:
                await self.events.role_changed(event.user, event.role)
            return
        await self.events.revoked(event.user, event.sessions, keep=event.keep)
