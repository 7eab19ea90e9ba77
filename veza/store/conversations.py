"""Conversations (the socket's rooms: `veza.domain.conversations`) and their members."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import asyncpg

from veza.domain.errors import NotFound

_COLUMNS = "id, type, name, owner_id, last_seq, created_at, updated_at, last_activity_at"


def direct_key(a: UUID, b: UUID) -> str:
    low, high = sorted((str(a), str(b)))
    return f"{low}:{high}"


async def get_conversation(conn: asyncpg.Connection, conversation_id: UUID) -> dict[str, Any] | None:
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM conversations WHERE id = $1", conversation_id)
    return dict(row) if row else None


async def access(conn: asyncpg.Connection | asyncpg.Pool, conversation_id: UUID,
                 user_id: UUID | None) -> dict[str, Any] | None:
    """The conversation's type/owner/last_seq plus the user's membership (role None when not a member)."""
    row = await conn.fetchrow(
        "SELECT c.id, c.type, c.name, c.owner_id, c.last_seq, m.role, coalesce(m.last_read_seq, 0) AS last_read_seq"
        " FROM conversations c LEFT JOIN conversation_members m ON m.conversation_id = c.id AND m.user_id = $2"
        " WHERE c.id = $1", conversation_id, user_id)
    return dict(row) if row else None


async def _check_users(conn: asyncpg.Connection, user_ids: Sequence[UUID]) -> None:
    found = {r["id"] for r in await conn.fetch("SELECT id FROM users WHERE id = ANY($1::uuid[])", list(user_ids))}
    missing = [str(u) for u in user_ids if u not in found]
    if missing:
        raise NotFound("User not found", details={"members": ", ".join(missing)})


async def create_conversation(conn: asyncpg.Connection, *, type_: str, name: str, owner_id: UUID,
                      members: Sequence[UUID]) -> dict[str, Any]:
    """A group or public conversation; the owner is a member with role 'owner'."""
    others = [m for m in dict.fromkeys(members) if m != owner_id]
    await _check_users(conn, others)
    async with conn.transaction():
        row = dict(await conn.fetchrow(f"INSERT INTO conversations (type, name, owner_id) VALUES ($1, $2, $3)"
                                       f" RETURNING {_COLUMNS}", type_, name, owner_id))
        await conn.executemany("INSERT INTO conversation_members (conversation_id, user_id, role) VALUES ($1, $2, $3)",
                               [(row["id"], owner_id, "owner")] + [(row["id"], m, "member") for m in others])
    return row


async def find_or_create_direct(conn: asyncpg.Connection, user_id: UUID, peer_id: UUID) -> tuple[dict[str, Any], bool]:
    """The one direct conversation of a pair; (conversation, created). The pair is checked by
    `veza.domain.conversations.direct_peer`."""
    await _check_users(conn, [peer_id])
    key = direct_key(user_id, peer_id)
    async with conn.transaction():
        row = await conn.fetchrow(f"INSERT INTO conversations (type, owner_id, direct_key) VALUES ('direct', $1, $2)"
                                  f" ON CONFLICT (direct_key) DO NOTHING RETURNING {_COLUMNS}", user_id, key)
        if row is None:
            return dict(await conn.fetchrow(f"SELECT {_COLUMNS} FROM conversations WHERE direct_key = $1", key)), False
        await conn.executemany("INSERT INTO conversation_members (conversation_id, user_id, role) VALUES ($1, $2, 'member')",
                               [(row["id"], user_id), (row["id"], peer_id)])
    return dict(row), True


async def rename(conn: asyncpg.Connection, conversation_id: UUID, name: str) -> dict[str, Any]:
    row = await conn.fetchrow(f"UPDATE conversations SET name = $2, updated_at = now() WHERE id = $1 RETURNING {_COLUMNS}",
                              conversation_id, name)
    if row is None:
        raise NotFound("Conversation not found")
    return dict(row)


async def delete_conversation(conn: asyncpg.Connection, conversation_id: UUID) -> bool:
    return (await conn.execute("DELETE FROM conversations WHERE id = $1", conversation_id)) != "DELETE 0"


async def add_member(conn: asyncpg.Connection, conversation_id: UUID, user_id: UUID,
                     role: str = "member") -> dict[str, Any]:
    """Idempotent: an existing member keeps their role and read marker."""
    await _check_users(conn, [user_id])
    await conn.execute("INSERT INTO conversation_members (conversation_id, user_id, role) VALUES ($1, $2, $3)"
                       " ON CONFLICT DO NOTHING", conversation_id, user_id, role)
    return await get_member(conn, conversation_id, user_id)  # type: ignore[return-value]


async def promote(conn: asyncpg.Connection, conversation_id: UUID, user_id: UUID) -> None:
    """A member becomes an admin (the owner stays the owner)."""
    await conn.execute("UPDATE conversation_members SET role = 'admin'"
                       " WHERE conversation_id = $1 AND user_id = $2 AND role = 'member'", conversation_id, user_id)


async def get_member(conn: asyncpg.Connection, conversation_id: UUID, user_id: UUID) -> dict[str, Any] | None:
    row = await conn.fetchrow(
        "SELECT m.user_id AS id, u.username, m.role, m.last_read_seq, m.joined_at FROM conversation_members m"
        " JOIN users u ON u.id = m.user_id WHERE m.conversation_id = $1 AND m.user_id = $2", conversation_id, user_id)
    return dict(row) if row else None


async def member_role(conn: asyncpg.Connection, conversation_id: UUID, user_id: UUID) -> str | None:
    return await conn.fetchval("SELECT role FROM conversation_members WHERE conversation_id = $1 AND user_id = $2",
                               conversation_id, user_id)


async def remove_member(conn: asyncpg.Connection, conversation_id: UUID, user_id: UUID) -> bool:
    status = await conn.execute("DELETE FROM conversation_members WHERE conversation_id = $1 AND user_id = $2",
                                conversation_id, user_id)
    return status != "DELETE 0"


async def members(conn: asyncpg.Connection, conversation_id: UUID, limit: int = 100) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT m.user_id AS id, u.username, m.role FROM conversation_members m JOIN users u ON u.id = m.user_id"
        " WHERE m.conversation_id = $1 ORDER BY m.joined_at LIMIT $2", conversation_id, limit)
    return [dict(r) for r in rows]


# Unread = messages by others after the read marker, not deleted; counted up to a cap so a
# huge backlog costs a bounded index scan.
UNREAD_CAP = 999

_LIST = f"""
SELECT c.id, c.type, c.name, c.owner_id, c.last_seq, c.created_at, c.updated_at, c.last_activity_at,
       me.role, me.last_read_seq,
       (SELECT count(*) FROM (SELECT 1 FROM chat_messages x WHERE x.room_id = c.id AND x.seq > me.last_read_seq
               AND x.author_id IS DISTINCT FROM $1 AND x.deleted_at IS NULL LIMIT {UNREAD_CAP}) unread) AS unread_count,
       (SELECT count(*) FROM conversation_members cm WHERE cm.conversation_id = c.id) AS member_count,
       (SELECT jsonb_build_object('id', p.id, 'username', p.username) FROM conversation_members pm
          JOIN users p ON p.id = pm.user_id
         WHERE c.type = 'direct' AND pm.conversation_id = c.id AND pm.user_id <> $1 LIMIT 1) AS peer,
       (SELECT x.id FROM chat_messages x WHERE x.room_id = c.id AND x.deleted_at IS NULL
         ORDER BY x.seq DESC LIMIT 1) AS last_message_id,
       count(*) OVER () AS total
FROM conversation_members me JOIN conversations c ON c.id = me.conversation_id
WHERE me.user_id = $1
ORDER BY c.last_activity_at DESC, c.id
LIMIT $2 OFFSET $3
"""


async def list_for_user(conn: asyncpg.Connection, user_id: UUID, limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
    """The user's conversations, newest activity first, with unread count; (rows, total)."""
    rows = [dict(r) for r in await conn.fetch(_LIST, user_id, limit, offset)]
    total = rows[0]["total"] if rows else await conn.fetchval(
        "SELECT count(*) FROM conversation_members WHERE user_id = $1", user_id)
    return rows, total


async def list_public(conn: asyncpg.Connection, user_id: UUID | None, limit: int,
                      offset: int) -> tuple[list[dict[str, Any]], int]:
    """Public conversations, newest activity first, with whether `user_id` is a member; (rows, total)."""
    rows = await conn.fetch(
        f"SELECT {_COLUMNS}, (SELECT count(*) FROM conversation_members cm WHERE cm.conversation_id = c.id) AS member_count,"
        " (SELECT role FROM conversation_members cm WHERE cm.conversation_id = c.id AND cm.user_id = $1) AS role,"
        " count(*) OVER () AS total"
        " FROM conversations c WHERE type = 'public' ORDER BY last_activity_at DESC, id LIMIT $2 OFFSET $3",
        user_id, limit, offset)
    total = rows[0]["total"] if rows else await conn.fetchval("SELECT count(*) FROM conversations WHERE type = 'public'")
    return [dict(r) for r in rows], total
