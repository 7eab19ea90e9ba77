"""Chat messages: who may edit or delete one, and the history page REST and the socket read.

Rules: only the author edits a message. The author, the conversation's moderators
(`conversations.is_moderator`) and platform admins delete it. Reading the history needs
the same access as reading the conversation. Sends, reactions and read markers have no
rule beyond membership, which the edges check before the `ChatRoom` actor is asked.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

import msgspec

from protocols.frames import Author, ChatMessage, Reaction
from veza.domain import conversations
from veza.domain.errors import Forbidden
from veza.store import conversations as conversation_store
from veza.store import messages as store


def chat_message(row: Mapping[str, Any]) -> ChatMessage:
    """A stored message row (`veza.store.messages`) as the wire's ChatMessage."""
    return ChatMessage(
        id=row["id"], seq=row["seq"], room=row["room_id"],
        author=Author(id=row["author_id"], username=row["author_name"]) if row["author_id"] else
        Author(id=UUID(int=0), username=row["author_name"]),
        content=row["content"], client_id=row["client_id"], created_at=row["created_at"],
        edited_at=row["edited_at"], deleted=row["deleted"],
        reactions=[msgspec.convert(r, Reaction) for r in row["reactions"]],
    )


def check_edit(author_id: UUID | None, user_id: UUID) -> None:
    if author_id != user_id:
        raise Forbidden("Only the author can edit a message")


def check_delete(author_id: UUID | None, user_id: UUID, role: str | None, platform_admin: bool) -> None:
    """`role`: the user's role in the conversation (None when not a member)."""
    if author_id != user_id and not conversations.is_moderator(role, platform_admin):
        raise Forbidden("Only the author or a room moderator can delete a message")


async def edit(conn: Any, conversation_id: UUID, message_id: UUID, user_id: UUID, content: str) -> ChatMessage:
    """Run in the caller's transaction (the message is locked until it ends)."""
    target = await store.lock(conn, conversation_id, message_id)
    check_edit(target["author_id"], user_id)
    return chat_message(await store.set_content(conn, message_id, content))


async def delete(conn: Any, conversation_id: UUID, message_id: UUID, user_id: UUID, platform_admin: bool) -> int:
    """The deleted message's seq. Run in the caller's transaction."""
    target = await store.lock(conn, conversation_id, message_id)
    role = None
    if target["author_id"] != user_id and not platform_admin:  # the author needs no lookup
        role = await conversation_store.member_role(conn, conversation_id, user_id)
    check_delete(target["author_id"], user_id, role, platform_admin)
    return (await store.mark_deleted(conn, message_id))["seq"]


async def history(conn: Any, access: conversations.Access, before: int | None,
                  limit: int) -> tuple[list[ChatMessage], bool]:
    """Up to `limit` messages before seq `before` (the newest when None), newest first, and
    whether there are older ones. `access` is the reader's (`conversations.access`)."""
    rows = await store.before(conn, access.conversation_id, before, limit + 1)
    return [chat_message(r) for r in rows[:limit]], len(rows) > limit
