"""Chat messages, reactions and read markers. Rows come back as plain dicts in one shape.

A message row: id, seq, room_id, author_id, author_name, content ('' once deleted),
client_id, created_at, edited_at, deleted, reactions [{emoji, count, users}].
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import asyncpg

from protocols.frames import REACTION_USERS_CAP
from veza.domain.errors import NotFound

_COLUMNS = f"""
    m.id, m.seq, m.room_id, m.author_id, coalesce(u.username, 'deleted user') AS author_name,
    CASE WHEN m.deleted_at IS NULL THEN m.content ELSE '' END AS content,
    m.client_id, m.created_at, m.edited_at, m.deleted_at IS NOT NULL AS deleted,
    coalesce((
        SELECT jsonb_agg(jsonb_build_object('emoji', r.emoji, 'count', r.n, 'users', r.users) ORDER BY r.first)
        FROM (SELECT emoji, count(*) AS n, (array_agg(user_id ORDER BY created_at))[1:{REACTION_USERS_CAP}] AS users,
                     min(created_at) AS first
              FROM chat_reactions WHERE message_id = m.id GROUP BY emoji) r
    ), '[]'::jsonb) AS reactions
"""

# ONE statement per batch of sends (atomic on its own): resends (same author + client_id) come back as they
# are; the rest get the next sequence numbers under the conversation's row lock (which
# serializes writers, even on several nodes) and are inserted together.
_INSERT_BATCH = f"""
WITH input AS (
    SELECT * FROM unnest($2::uuid[], $3::text[], $4::text[]) WITH ORDINALITY AS t(author_id, content, client_id, ord)
), existing AS (
    SELECT i.ord, m.id FROM input i
    JOIN chat_messages m ON m.room_id = $1 AND m.author_id = i.author_id AND m.client_id = i.client_id
), fresh AS (
    SELECT i.*, row_number() OVER (ORDER BY i.ord) AS n FROM input i
    WHERE NOT EXISTS (SELECT 1 FROM existing e WHERE e.ord = i.ord)
), room AS (
    UPDATE conversations SET last_seq = last_seq + (SELECT count(*) FROM fresh),
           last_activity_at = CASE WHEN EXISTS (SELECT 1 FROM fresh) THEN now() ELSE last_activity_at END
    WHERE id = $1
    RETURNING last_seq - (SELECT count(*) FROM fresh) AS base
), ins AS (
    INSERT INTO chat_messages (room_id, seq, author_id, content, client_id)
    SELECT $1, room.base + f.n, f.author_id, f.content, f.client_id FROM fresh f, room
    RETURNING *
)
SELECT f.ord, true AS fresh, i.id, i.seq, i.room_id, i.author_id, coalesce(u.username, 'deleted user') AS author_name,
       i.content, i.client_id, i.created_at, i.edited_at, false AS deleted, '[]'::jsonb AS reactions
FROM ins i JOIN fresh f ON i.seq = (SELECT base FROM room) + f.n LEFT JOIN users u ON u.id = i.author_id
UNION ALL
SELECT e.ord, false AS fresh, {_COLUMNS}
FROM existing e JOIN chat_messages m ON m.id = e.id LEFT JOIN users u ON u.id = m.author_id
ORDER BY ord
"""


def _row(record: asyncpg.Record) -> dict[str, Any]:
    return dict(record)


async def insert_batch(conn: asyncpg.Connection, room_id: UUID,
                       items: Sequence[tuple[UUID, str, str | None]]) -> list[tuple[bool, dict[str, Any]]]:
    """Persist (author_id, content, client_id) items in order; returns (fresh, row) per item.

    Raises NotFound when the room no longer exists. A resend (same author and client_id)
    returns the stored message with fresh=False and takes no sequence number.
    """
    authors = [a for a, _, _ in items]
    contents = [c for _, c, _ in items]
    client_ids = [cid for _, _, cid in items]
    records = await conn.fetch(_INSERT_BATCH, room_id, authors, contents, client_ids)
    if len(records) != len(items):
        raise NotFound("Conversation not found")
    return [(r["fresh"], {k: v for k, v in r.items() if k not in ("ord", "fresh")}) for r in records]


async def fetch_by_ids(conn: asyncpg.Connection, ids: Sequence[UUID]) -> dict[UUID, dict[str, Any]]:
    records = await conn.fetch(f"SELECT {_COLUMNS} FROM chat_messages m LEFT JOIN users u ON u.id = m.author_id"
                               " WHERE m.id = ANY($1::uuid[])", list(ids))
    return {r["id"]: _row(r) for r in records}


async def after(conn: asyncpg.Connection, room_id: UUID, since: int, limit: int) -> list[dict[str, Any]]:
    """Messages with seq > since, oldest first, at most `limit`."""
    records = await conn.fetch(
        f"SELECT {_COLUMNS} FROM chat_messages m LEFT JOIN users u ON u.id = m.author_id"
        " WHERE m.room_id = $1 AND m.seq > $2 ORDER BY m.seq LIMIT $3", room_id, since, limit)
    return [_row(r) for r in records]


async def before(conn: asyncpg.Connection, room_id: UUID, before_seq: int | None, limit: int) -> list[dict[str, Any]]:
    """Messages with seq < before_seq (the newest when None), newest first, at most `limit`."""
    records = await conn.fetch(
        f"SELECT {_COLUMNS} FROM chat_messages m LEFT JOIN users u ON u.id = m.author_id"
        " WHERE m.room_id = $1 AND ($2::bigint IS NULL OR m.seq < $2) ORDER BY m.seq DESC LIMIT $3",
        room_id, before_seq, limit)
    return [_row(r) for r in records]


async def lock(conn: asyncpg.Connection, room_id: UUID, message_id: UUID) -> dict[str, Any]:
    """The message's author (row-locked until the transaction ends); NotFound when it is
    not in the room or deleted."""
    row = await conn.fetchrow("SELECT author_id, deleted_at FROM chat_messages WHERE id = $1 AND room_id = $2 FOR UPDATE",
                              message_id, room_id)
    if row is None or row["deleted_at"] is not None:
        raise NotFound("Message not found")
    return dict(row)


async def set_content(conn: asyncpg.Connection, message_id: UUID, content: str) -> dict[str, Any]:
    await conn.execute("UPDATE chat_messages SET content = $2, edited_at = now() WHERE id = $1", message_id, content)
    return (await fetch_by_ids(conn, [message_id]))[message_id]


async def mark_deleted(conn: asyncpg.Connection, message_id: UUID) -> dict[str, Any]:
    """Deleted (content hidden, reactions gone); returns id and seq."""
    row = await conn.fetchrow("UPDATE chat_messages SET deleted_at = now() WHERE id = $1 RETURNING id, seq", message_id)
    await conn.execute("DELETE FROM chat_reactions WHERE message_id = $1", message_id)
    return dict(row)


async def react(conn: asyncpg.Connection, room_id: UUID, message_id: UUID, user_id: UUID, emoji: str,
                add: bool) -> tuple[bool, int]:
    """Add or remove one reaction; returns (changed, how many users now have that emoji)."""
    async with conn.transaction():
        await lock(conn, room_id, message_id)
        if add:
            status = await conn.execute("INSERT INTO chat_reactions (message_id, user_id, emoji) VALUES ($1, $2, $3)"
                                        " ON CONFLICT DO NOTHING", message_id, user_id, emoji)
        else:
            status = await conn.execute("DELETE FROM chat_reactions WHERE message_id = $1 AND user_id = $2 AND emoji = $3",
                                        message_id, user_id, emoji)
        count = await conn.fetchval("SELECT count(*) FROM chat_reactions WHERE message_id = $1 AND emoji = $2",
                                    message_id, emoji)
    return not status.endswith(" 0"), count


async def mark_read(conn: asyncpg.Connection, room_id: UUID, user_id: UUID, seq: int) -> int | None:
    """Move the member's read marker forward (never back, never past the last seq).

    Returns the new marker, or None when it did not move (or the user is no member).
    """
    return await conn.fetchval(
        "UPDATE conversation_members cm SET last_read_seq = LEAST($3, c.last_seq) FROM conversations c"
        " WHERE cm.conversation_id = $1 AND cm.user_id = $2 AND c.id = cm.conversation_id"
        " AND LEAST($3, c.last_seq) > cm.last_read_seq RETURNING cm.last_read_seq", room_id, user_id, seq)
