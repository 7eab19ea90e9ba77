"""The `Inbox` actor: one per user, pushes their notifications to all their sockets.

The notification is already persisted by the REST handler's transaction (PostgreSQL is
the source of truth); the inbox keeps the unread count warm, encodes one `notification`
event, hands it to this node's sockets of the user and publishes it for other nodes.

Context it needs (`context.services`): "delivery" (gateway: `to_user(user_id, bytes)`),
"unread_count" (async fn user_id -> int).
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any, ClassVar
from uuid import UUID

from actors.runtime import Actor

USER_CHANNEL = "inbox:{user}"


@dataclasses.dataclass(frozen=True, slots=True)
class Notify:
    notification: dict[str, Any]  # JSON-ready


@dataclasses.dataclass(frozen=True, slots=True)
class MarkedRead:
    notification_id: UUID


@dataclasses.dataclass(frozen=True, slots=True)
class UnreadCount:
    pass


@dataclasses.dataclass(frozen=True, slots=True)
class _Remote:
    payload: bytes


class Inbox(Actor):
    idle_timeout: ClassVar[float | None] = 120.0

    async def on_start(self) -> None:
        self.user_id: UUID = self.key
        counter = self.context.services.get("unread_count")
        self.unread = await counter(self.user_id) if counter else 0
        ref = self.context.services["actors"].ref(Inbox, self.key)
        me = self.context.node_id

        def on_remote(payload: bytes, origin: str) -> None:
            if origin != me:
                try:
                    ref.tell(_Remote(payload))
                except Exception:  # noqa: BLE001 - the notification stays listed in /notifications
                    pass

        self.subscription = await self.context.broker.subscribe(USER_CHANNEL.format(user=self.user_id), on_remote)

    async def on_stop(self) -> None:
        await self.context.broker.unsubscribe(self.subscription)

    async def receive(self, message: Any) -> Any:
        if isinstance(message, Notify):
            self.unread += 1
            frame = json.dumps({"type": "notification", "notification": message.notification,
                                "unread_count": self.unread}, separators=(",", ":")).encode()
            self._deliver(frame)
            await self.context.broker.publish(USER_CHANNEL.format(user=self.user_id), frame)
            return self.unread
        if isinstance(message, MarkedRead):
            self.unread = max(0, self.unread - 1)
            return self.unread
        if isinstance(message, UnreadCount):
            return self.unread
        if isinstance(message, _Remote):
            # Another node's inbox for this user counted it; deliver to our sockets only.
            self.unread = json.loads(message.payload).get("unread_count", self.unread)
            self._deliver(message.payload)
            return None
        raise TypeError(f"Inbox cannot handle {type(message).__name__}")

    def _deliver(self, frame: bytes) -> None:
        delivery = self.context.services.get("delivery")
        if delivery is not None:
            delivery.to_user(self.user_id, frame)
