"""Chat rooms: who may do what (one rule set for REST and the socket), and the services
the `ChatRoom` actor is handed (it never imports `veza`).

Rules: a non-member can neither read, join, post in, nor learn of a group or direct
room (404). A public room may be read by anyone, anonymous included; any signed-in user
may join it and post (joining makes them a member). Moderators are the room's owner and
admins, and platform admins.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any
from uuid import UUID

import asyncpg
import msgspec
from aiohttp import web

from actors import ActorRef
from actors.chat_room import ChatRoom, NotJoined, RoomGone
from protocols.frames import Author, ChatMessage, Reaction
from veza import keys
from veza.http.errors import Forbidden, NotFound
from veza.store import conversations, messages


@dataclasses.dataclass(frozen=True, slots=True)
class Access:
    room_id: UUID
    type: str
    name: str
    owner_id: UUID | None
    role: str | None  # membership role, None when not a member
    last_read_seq: int
    platform_admin: bool = False

    @property
    def member(self) -> bool:
        return self.role is not None

    @property
    def moderator(self) -> bool:
        return self.role in ("owner", "admin") or self.platform_admin


async def access(db_conn: Any, room_id: UUID, user_id: UUID | None, platform_role: str | None = None) -> Access:
    """What the caller may see of the room; NotFound when they may not even know it exists."""
    row = await conversations.access(db_conn, room_id, user_id)
    admin = platform_role == "admin"
    if row is None or (row["type"] != "public" and row["role"] is None and not admin):
        raise NotFound("Conversation not found")
    return Access(room_id=row["id"], type=row["type"], name=row["name"], owner_id=row["owner_id"], role=row["role"],
                  last_read_seq=row["last_read_seq"], platform_admin=admin)


async def access_for_posting(db_conn: Any, room_id: UUID, user_id: UUID, platform_role: str | None) -> Access:
    """Members post; in a public room a signed-in user becomes a member by posting or joining."""
    room = await access(db_conn, room_id, user_id, platform_role)
    if room.member:
        return room
    if room.type != "public":
        raise NotFound("Conversation not found")
    await conversations.add_member(db_conn, room_id, user_id)
    return dataclasses.replace(room, role="member")


def require_moderator(room: Access) -> None:
    if not room.moderator:
        raise Forbidden("Only the room's owner or an admin can do this")


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


def chat_message(row: Mapping[str, Any]) -> ChatMessage:
    return ChatMessage(
        id=row["id"], seq=row["seq"], room=row["room_id"],
        author=Author(id=row["author_id"], username=row["author_name"]) if row["author_id"] else
        Author(id=UUID(int=0), username=row["author_name"]),
        content=row["content"], client_id=row["client_id"], created_at=row["created_at"],
        edited_at=row["edited_at"], deleted=row["deleted"],
        reactions=[msgspec.convert(r, Reaction) for r in row["reactions"]],
    )


class ChatServices:
    """What a ChatRoom needs from the database, as ChatMessage structs (`context.services["chat"]`)."""

    def __init__(self, db: Any) -> None:
        self.db = db

    async def load_room(self, room_id: UUID) -> dict[str, Any] | None:
        async with self.db.connection() as conn:
            return await conversations.get_room(conn, room_id)

    async def insert_batch(self, room_id: UUID,
                           items: Sequence[tuple[UUID, str, str | None]]) -> list[tuple[bool, ChatMessage]]:
        async with self.db.connection() as conn:
            try:
                rows = await messages.insert_batch(conn, room_id, items)
            except asyncpg.UniqueViolationError:
                # Another node stored a resend between our read and insert: now it is "existing".
                rows = await messages.insert_batch(conn, room_id, items)
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
        async with self.db.connection() as conn:
            return chat_message(await messages.edit(conn, room_id, message_id, user_id, content))

    async def delete(self, room_id: UUID, message_id: UUID, user_id: UUID, platform_admin: bool) -> int:
        async with self.db.connection() as conn:
            return (await messages.delete(conn, room_id, message_id, user_id, platform_admin))["seq"]

    async def react(self, room_id: UUID, message_id: UUID, user_id: UUID, emoji: str, add: bool) -> tuple[bool, int]:
        async with self.db.connection() as conn:
            return await messages.react(conn, room_id, message_id, user_id, emoji, add)

    async def mark_read(self, room_id: UUID, user_id: UUID, seq: int) -> int | None:
        async with self.db.connection() as conn:
            return await messages.mark_read(conn, room_id, user_id, seq)


async def chat_ctx(app: web.Application) -> AsyncIterator[None]:
    """Hands the ChatRoom actors their store facade (after the actor system starts)."""
    app[keys.actors].context.services["chat"] = ChatServices(app[keys.db])
    yield
