"""The `Inbox` actor: one per user, pushes their notifications to all their sockets.

The notification is already persisted by the REST handler's transaction (PostgreSQL is
the source of truth). The inbox batches what is queued, reads the unread count once per
batch (so it is right whichever node counted what), encodes each `notification` event
once and hands it to the hub, which reaches every socket of the user on every node.

Context it needs (`context.services`): "hub" (actors.hub.Hub), "unread_count" (async fn
user_id -> int).
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any, ClassVar

from actors.runtime import Actor, Envelope


@dataclasses.dataclass(frozen=True, slots=True)
class Notify:
    notification: dict[str, Any]  # JSON-ready


class Inbox(Actor):
    idle_timeout: ClassVar[float | None] = 120.0

    async def receive_many(self, batch: list[Envelope]) -> None:
        notifies = [e for e in batch if isinstance(e.message, Notify)]
        for envelope in batch:
            if not isinstance(envelope.message, Notify):
                envelope.fail(TypeError(f"Inbox cannot handle {type(envelope.message).__name__}"))
        if not notifies:
            return
        counter = self.context.services.get("unread_count")
        unread = await counter(self.key) if counter else None
        hub = self.context.services.get("hub")
        # Oldest first; the unread count each event carries is the one of its moment.
        for index, envelope in enumerate(notifies):
            count = None if unread is None else unread - (len(notifies) - 1 - index)
            frame = json.dumps({"type": "notification", "notification": envelope.message.notification,
                                "unread_count": count}, separators=(",", ":")).encode()
            if hub is not None:
                await hub.send_to_user(self.key, frame)
            envelope.reply(count)
