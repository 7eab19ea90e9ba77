"""Rooms: conversations as the socket protocol sees them, each owned by a `ChatRoom` actor.

Asking a room's actor (its refusals become domain errors), and the store facade the actor
is handed (it never imports `veza`). Who may do what is `veza.domain.conversations` and
`veza.domain.messages`, one rule set for REST and the socket.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any
from uuid import UUID

from aiohttp import web

from actors import ActorRef
from actors.chat_room import ChatRoom, NotJoined, RoomGone, RoomServices
from protocols.frames import ChatMessage
from veza import keys
from veza.domain import messages as message_rules
from veza.domain.errors import Forbidden, NotFound
from veza.domain.messages import chat_message
from veza.room_writer import RoomWriter
from veza.store import conversations, messages


def room_ref(app: web.Application, room_id: UUID) -> ActorRef[ChatRoom]:
    return app[keys.actors].ref(ChatRoom, room_id)


def api_error_of(exc: BaseException) -> BaseException:
    """The room's own refusals as the API's errors; anything else unchanged."""
    if isinstance(exc, RoomGone):
        return NotFound("Conversation not found")
    if isinstance(exc, NotJoined):
        return Forbidden("Join the room first")
    return exc


async def ask_room(app: web.Application, room_id: UUID, message: Any, timeout: float = 5.0) -> Any:
    """Ask the room's actor; its own refusals become the API's errors."""
    try:
        return await room_ref(app, room_id).ask(message, timeout=timeout)
    except (RoomGone, NotJoined) as exc:
        raise api_error_of(exc) from None


class RoomStoreAdapter:
    """The ChatRoom's `RoomStore`: what it needs from the database, as ChatMessage structs.

    Sends go through one `RoomWriter` per node: the batches of many rooms share a statement
    and a commit."""

    def __init__(self, db: Any, writer: RoomWriter | None = None) -> None:
        self.db = db
        self.writer = writer or RoomWriter(db)

    async def load_room(self, room_id: UUID) -> dict[str, Any] | None:
        async with self.db.connection() as conn:
            return await conversations.get_conversation(conn, room_id)

    async def insert_batch(self, room_id: UUID,
                           items: Sequence[tuple[UUID, str, str | None]]) -> list[tuple[bool, ChatMessage]]:
        rows = await self.writer.write(room_id, items)
        if rows is None:
            raise NotFound("Conversation not found")
        return [(fresh, chat_message(row)) for fresh, row in rows]

    async def after(self, room_id: UUID, since: int, limit: int) -> list[ChatMessage]:
        async with self.db.connection() as conn:
            return [chat_message(r) for r in await messages.after(conn, room_id, since, limit)]

    async def newest(self, room_id: UUID, limit: int) -> list[ChatMessage]:
        """The newest `limit` messages, oldest first."""
        async with self.db.connection() as conn:
            rows = await messages.before(conn, room_id, None, limit)
        return [chat_message(r) for r in reversed(rows)]

    async def edit(self, room_id: UUID, message_id: UUID, user_id: UUID, content: str) -> ChatMessage:
        async with self.db.transaction() as conn:
            return await message_rules.edit(conn, room_id, message_id, user_id, content)

    async def delete(self, room_id: UUID, message_id: UUID, user_id: UUID, platform_admin: bool) -> int:
        async with self.db.transaction() as conn:
            return await message_rules.delete(conn, room_id, message_id, user_id, platform_admin)

    async def react(self, room_id: UUID, message_id: UUID, user_id: UUID, emoji: str, add: bool) -> tuple[bool, int]:
        async with self.db.connection() as conn:
            return await messages.react(conn, room_id, message_id, user_id, emoji, add)

    async def mark_read(self, room_id: UUID, user_id: UUID, seq: int) -> int | None:
        async with self.db.connection() as conn:
            return await messages.mark_read(conn, room_id, user_id, seq)


async def rooms_ctx(app: web.Application) -> AsyncIterator[None]:
    """Hands the ChatRoom actors their services (after the hub; with Redis, cluster presence)."""
    presence = app[keys.presence] if app[keys.settings].redis_url else None
    services = RoomServices(RoomStoreAdapter(app[keys.db]), app[keys.hub], app[keys.broker], presence)
    app[keys.actors].provide(ChatRoom, services)
    yield
