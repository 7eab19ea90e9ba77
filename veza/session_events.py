"""Session revocations announced to whoever holds live connections for them.

The WebSocket gateway listens and closes the sockets of revoked sessions (4001); the
cluster layer forwards the same announcement to the other nodes.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from uuid import UUID

log = logging.getLogger("veza.sessions")

# (user_id, session_ids, keep): session_ids None means every session of the user except
# `keep` (when given).
Listener = Callable[[UUID, Sequence[UUID] | None, UUID | None], Awaitable[None]]


class SessionEvents:
    def __init__(self) -> None:
        self._listeners: list[Listener] = []

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    async def revoked(self, user_id: UUID, session_ids: Sequence[UUID] | None, *, keep: UUID | None = None) -> None:
        for listener in list(self._listeners):
            try:
                await listener(user_id, session_ids, keep)
            except Exception:  # one failing listener must not block the others or the request
                log.exception("session revocation listener failed")
