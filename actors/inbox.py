"""The `Inbox` actor: one per user, pushes their notifications to all their sockets.

The notification is already persisted by the REST handler's transaction (PostgreSQL is
the source of truth). The inbox batches what is queued, reads the unread count once per
batch (so it is right whichever node counted what), encodes each `notification` event
once and hands it to the hub, which reaches every socket of the user on every node.

What it needs from outside is its `InboxServices`: the hub and the unread count reader.
Frames are `protocols.frames.NotificationEvent`, encoded once each.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar
from uuid import UUID

from actors.hub import Hub
from actors.runtime import Actor, Envelope
from protocols.frames import NotificationEvent, encode


@dataclasses.dataclass(frozen=True, slots=True)
class InboxServices:
    """Everything an Inbox needs from outside."""

    hub: Hub
    unread_count: Callable[[UUID], Awaitable[int]] | None = None  # None: events carry no count


@dataclasses.dataclass(frozen=True, slots=True)
class Notify:
    notification: dict[str, Any]  # JSON-ready


class Inbox(Actor):
    idle_timeout: ClassVar[float | None] = 120.0
    context: InboxServices

    async def receive_many(self, batch: list[Envelope]) -> None:
        notifies = [e for e in batch if isinstance(e.message, Notify)]
        for envelope in batch:
            if not isinstance(envelope.message, Notify):
                envelope.fail(TypeError(f"Inbox cannot handle {type(envelope.message).__name__}"))
        if not notifies:
            return
        counter = self.context.unread_count
        unread = await counter(self.key) if counter else None
        # Oldest first; the unread count each event carries is the one of its moment.
        for index, envelope in enumerate(notifies):
            count = None if unread is None else unread - (len(notifies) - 1 - index)
            frame = encode(NotificationEvent(notification=envelope.message.notification, unread_count=count))
            await self.context.hub.send_to_user(self.key, frame)
            envelope.reply(count)
