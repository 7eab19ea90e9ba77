"""Chat messages, reactions and read markers. Rows come back as plain dicts in one shape.

A message row: id, seq, room_id, author_id, author_name, content ('' once deleted),
client_id, created_at, edited_at, deleted, reactions [{emoji, count, users}].
"""

from __future__ import annotations

from collections.abc import Sequence
import os
from typing import Any
from uuid import UUID

import asyncpg
from asyncpg.pgproto.pgproto import UUID as _UUID

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

Item = tuple[UUID, str, str | None]  # (author_id, content, client_id)
_COPY_COLUMNS = ("id", "room_id", "seq", "author_id", "content", "client_id")


def _new_ids(count: int) -> list[UUID]:
    """`count` random (version 4) UUIDs, what gen_random_uuid() makes, from one urandom call.
    asyncpg's own UUID type (what it returns for uuid columns) is 3x cheaper to build than
    `uuid.uuid4()`, which showed at 10% of a busy chat node's time."""
    raw = bytearray(os.urandom(16 * count))
    raw[6::16] = bytes((b & 0x0F) | 0x40 for b in raw[6::16])
    raw[8::16] = bytes((b & 0x3F) | 0x80 for b in raw[8::16])
    return [_UUID(bytes(raw[k:k + 16])) for k in range(0, 16 * count, 16)]


def _row(record: asyncpg.Record) -> dict[str, Any]:
    return dict(record)


async def insert_rooms(conn: asyncpg.Connection,
                       batches: Sequence[tuple[UUID, Sequence[Item]]]) -> list[list[tuple[bool, dict[str, Any]]] | None]:
    """Persist each room's (author_id, content, client_id) items in order, many rooms at once;
    per batch, (fresh, row) per item, or None when the room no longer exists. Run it inside
    the caller's transaction: the rows are visible (and the senders may be told) on commit.

    Four statements whatever the number of rooms and items: the rooms' rows are locked in
    id order (that lock serializes every writer of a room, even on several nodes, and the
    fixed order means two writers of overlapping rooms wait instead of deadlocking) as the
    authors' names are read, then the resends are looked up (same room, author and
    client_id: returned as stored, with fresh=False, taking no sequence number), the new
    rows are COPYed with the next sequence numbers and each room's `last_seq` moves once.
    Give each room once.
    """
    room_ids = [room_id for room_id, _ in batches]
    authors = list({author_id for _, items in batches for author_id, _, _ in items})
    # The rooms, locked in id order, and the authors' names in one round trip: the CTE is
    # read first (Append runs its branches in order), row by row in its sorted order.
    found = await conn.fetch(
        "WITH locked AS MATERIALIZED (SELECT id, last_seq FROM conversations WHERE id = ANY($1::uuid[])"
        " ORDER BY id FOR UPDATE)"
        " SELECT id, last_seq, NULL::text AS username, now() AS now FROM locked"
        " UNION ALL SELECT id, NULL, username, now() FROM users WHERE id = ANY($2::uuid[])", room_ids, authors)
    seqs = {r["id"]: r["last_seq"] for r in found if r["last_seq"] is not None}
    if not seqs:
        return [None] * len(batches)
    names = {r["id"]: r["username"] for r in found if r["username"] is not None}
    now = found[0]["now"]
    probe_rooms, probe_authors, probe_ids = [], [], []
    for room_id, items in batches:
        if room_id in seqs:
            for author_id, _, client_id in items:
                if client_id is not None:
                    probe_rooms.append(room_id)
                    probe_authors.append(author_id)
                    probe_ids.append(client_id)
    stored: dict[tuple[UUID, UUID, str], dict[str, Any]] = {}
    if probe_ids:  # the locks are held: no writer of these rooms can add one meanwhile
        for record in await conn.fetch(
                f"SELECT {_COLUMNS} FROM unnest($1::uuid[], $2::uuid[], $3::text[]) AS t(room_id, author_id, client_id)"
                " CROSS JOIN LATERAL (SELECT * FROM chat_messages c WHERE c.room_id = t.room_id"
                " AND c.author_id = t.author_id AND c.client_id = t.client_id LIMIT 1) m"
                " LEFT JOIN users u ON u.id = m.author_id", probe_rooms, probe_authors, probe_ids):
            stored[(record["room_id"], record["author_id"], record["client_id"])] = _row(record)
    out: list[list[tuple[bool, dict[str, Any]]] | None] = []
    copy: list[tuple[Any, ...]] = []
    ids = iter(_new_ids(sum(len(items) for _, items in batches)))
    moved_rooms, moved_seqs = [], []
    for room_id, items in batches:
        if room_id not in seqs:
            out.append(None)
            continue
        seq, rows = seqs[room_id], []
        batch_ids: dict[tuple[UUID, str], dict[str, Any]] = {}
        for author_id, content, client_id in items:
            key = (room_id, author_id, client_id) if client_id is not None else None
            earlier = stored.get(key) if key is not None else None  # type: ignore[arg-type]
            if earlier is None and client_id is not None:
                earlier = batch_ids.get((author_id, client_id))
            if earlier is not None:
                rows.append((False, earlier))
                continue
            seq += 1
            row = {"id": next(ids), "seq": seq, "room_id": room_id, "author_id": author_id,
                   "author_name": names.get(author_id, "deleted user"), "content": content, "client_id": client_id,
                   "created_at": now, "edited_at": None, "deleted": False, "reactions": []}
            if client_id is not None:
                batch_ids[(author_id, client_id)] = row
            copy.append((row["id"], room_id, seq, author_id, content, client_id))
            rows.append((True, row))
        if seq != seqs[room_id]:
            moved_rooms.append(room_id)
            moved_seqs.append(seq)
        out.append(rows)
    if copy:
        # created_at is the column's default, now(): the transaction's time, read above.
        await conn.copy_records_to_table("chat_messages", records=copy, columns=_COPY_COLUMNS)
        await conn.execute("UPDATE conversations c SET last_seq = v.last_seq, last_activity_at = now()"
                           " FROM unnest($1::uuid[], $2::bigint[]) AS v(id, last_seq) WHERE c.id = v.id",
                           moved_rooms, moved_seqs)
    return out


async def insert_batch(conn: asyncpg.Connection, room_id: UUID,
                       items: Sequence[Item]) -> list[tuple[bool, dict[str, Any]]]:
    """One room's `insert_rooms` in its own transaction (or the caller's); raises NotFound
    when the room no longer exists."""
    async with conn.transaction():
        (rows,) = await insert_rooms(conn, [(room_id, items)])
    if rows is None:
        raise NotFound("Conversation not found")
    return rows


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
