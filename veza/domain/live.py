"""Live streams: who owns one, who may change it, and the stream every owner has.

Rules:
- The stream key is its owner's: another user (platform admins included) asking for a
  stream's key, or to replace it, is refused (403); an unknown stream is a 404.
- A stream's metadata is changed by its owner or a platform admin.
- Every stream has its chat: a public conversation owned by the streamer, created with it.
- A stream key designates its stream for every ingest; anything not shaped like a key
  designates none.
- The owner's current stream is the live one, else the newest; asking for a key with no
  stream yet creates a draft ("Untitled stream").
Live state itself (going live or offline, viewers) is the `LiveStream` actor's.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from veza.domain.errors import Forbidden, NotFound
from veza.store import conversations as conversation_store
from veza.store import live as store

DRAFT_TITLE = "Untitled stream"


def check_owner(owner_id: UUID, user_id: UUID) -> None:
    if owner_id != user_id:
        raise Forbidden("You do not own this stream")


def check_editor(owner_id: UUID, user_id: UUID, platform_admin: bool) -> None:
    if owner_id != user_id and not platform_admin:
        raise Forbidden("You do not own this stream")


async def stream_of_key(conn: Any, key: str) -> dict[str, Any] | None:
    """The stream a key publishes (id, owner, status, ingest), or None: what every ingest
    (RTMP, SRS, MediaMTX, WHIP) asks first. A value not shaped like a key never reaches
    the database."""
    return await store.find_by_key(conn, key) if store.looks_like_key(key) else None


async def create_stream(conn: Any, owner_id: UUID, **meta: Any) -> dict[str, Any]:
    """A stream and its chat, in the caller's transaction; the row carries the key."""
    chat = await conversation_store.create_conversation(conn, type_="public", name=meta["title"],
                                                        owner_id=owner_id, members=[])
    return await store.create_stream(conn, owner_id, chat_room_id=chat["id"], **meta)


async def owned_stream(conn: Any, user_id: UUID, stream_id: UUID) -> dict[str, Any]:
    """The stream with its key, for its owner."""
    row = await store.get_with_key(conn, stream_id)
    if row is None:
        raise NotFound("Stream not found")
    check_owner(row["owner_id"], user_id)
    return row


async def current_stream(conn: Any, user_id: UUID, stream_id: UUID | None) -> dict[str, Any]:
    """`stream_id` (owned), else the owner's current stream, else a new draft (in the caller's transaction)."""
    if stream_id is not None:
        return await owned_stream(conn, user_id, stream_id)
    row = await store.current_owned(conn, user_id)
    return row if row is not None else await create_stream(conn, user_id, title=DRAFT_TITLE)


async def regenerate_key(conn: Any, user_id: UUID, stream_id: UUID) -> dict[str, Any]:
    """A new key for the owner's stream (the old one stops working); the row with it."""
    await owned_stream(conn, user_id, stream_id)
    await store.replace_key(conn, stream_id)
    return await owned_stream(conn, user_id, stream_id)


async def editable_stream(conn: Any, user_id: UUID, platform_admin: bool, stream_id: UUID) -> dict[str, Any]:
    """The stream (public fields) when the user may change its metadata."""
    row = await store.get_stream(conn, stream_id)
    check_editor(row["owner_id"], user_id, platform_admin)
    return row
