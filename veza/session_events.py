"""Session revocations and role changes announced to whoever holds live connections.

The WebSocket gateway listens: it closes the sockets of revoked sessions (4001) and gives
a user's open sockets their new role. The cluster layer (`veza.cluster.session_relay`)
forwards both announcements to the other nodes, so they apply on every node at once.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from uuid import UUID

log = logging.getLogger("veza.sessions")

# (user_id, session_ids, keep): session_ids None means every session of the user except
# `keep` (when given).
Listener = Callable[[UUID, Sequence[UUID] | None, UUID | None], Awaitable[None]]
# (user_id, role): the user's platform role is now `role`.
RoleListener = Callable[[UUID, str], Awaitable[None]]


class SessionEvents:
    def __init__(self) -> None:
        self._listeners: list[Listener] = []
        self._role_listeners: list[RoleListener] = []

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def subscribe_roles(self, listener: RoleListener) -> None:
        self._role_listeners.append(listener)

    async def revoked(self, user_id: UUID, session_ids: Sequence[UUID] | None, *, keep: UUID | None = None) -> None:
        for listener in list(self._listeners):
            try:
                await listener(user_id, session_ids, keep)
            except Exception:  # one failing listener must not block the others or the request
                log.exception("session revocation listener failed")

    async def role_changed(self, user_id: UUID, role: str) -> None:
        for listener in list(self._role_listeners):
            try:
                await listener(user_id, role)
            except Exception:
                log.exception("role change listener failed")
