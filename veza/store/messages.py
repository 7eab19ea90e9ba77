"""Chat messages, reactions and read markers. Rows come back as plain dicts in one shape.

A message row: id, seq, room_id, author_id, author_name, content ('' once deleted),
client_id, created_at, edited_at, deleted, reactions [{emoji, count, users}].
"""

from __future__ import annotations

from collections.abc import Sequence
import os
import time
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


def _new_ids(count: int) -> list[UUID]:
    """`count` time-ordered (version 7, RFC 9562) UUIDs from one clock read and one urandom
    call: 48 bits of Unix milliseconds, then 74 random bits. New messages' ids then land at
    the right edge of the primary key's index instead of on random pages of it (fewer pages
    dirtied and written whole into the WAL after each checkpoint). asyncpg's own UUID type
    (what it returns for uuid columns) is 3x cheaper to build than `uuid.UUID`."""
    raw = bytearray(os.urandom(16 * count))
    for k, b in enumerate((time.time_ns() // 1_000_000).to_bytes(6, "big")):
        raw[k::16] = bytes((b,)) * count
    raw[6::16] = bytes((b & 0x0F) | 0x70 for b in raw[6::16])
    raw[8::16] = bytes((b & 0x3F) | 0x80 for b in raw[8::16])
    raw = bytes(raw)
    return [_UUID(raw[k:k + 16]) for k in range(0, 16 * count, 16)]


def _row(record: asyncpg.Record) -> dict[str, Any]:
    return dict(record)


# One statement for a whole group of rooms; outside a transaction block it is its own
# transaction, committed (WAL flushed) before PostgreSQL answers, so an answer means stored.
# The rooms are locked first, in id order (`locked` is materialized and everything below
# reads it): that lock serializes every writer of a room, even on several nodes, and the
# fixed order means two writers of overlapping rooms wait instead of deadlocking. The lock
# reads the room's newest last_seq; the resend probe (same author, room and client_id)
# reads the statement's snapshot, so a resend of a message another writer committed while
# we waited for the lock is not seen here: its INSERT then breaks the unique key and the
# caller runs the statement again (`veza.room_writer`), which sees it.
_INSERT_ROOMS_WITH = """
WITH locked AS MATERIALIZED (
    SELECT id, last_seq FROM conversations WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE),
item AS MATERIALIZED (
    SELECT * FROM unnest($2::uuid[], $3::uuid[], $4::uuid[], $5::text[], $6::text[]) WITH ORDINALITY
        AS t(id, room_id, author_id, content, client_id, ord)),
resent AS MATERIALIZED ({resent}),
fresh AS MATERIALIZED (
    SELECT i.id, i.room_id, l.last_seq + row_number() OVER (PARTITION BY i.room_id ORDER BY i.ord) AS seq,
           i.author_id, i.content, i.client_id
    FROM item i JOIN locked l ON l.id = i.room_id WHERE NOT EXISTS (SELECT 1 FROM resent r WHERE r.ord = i.ord)),
added AS (
    INSERT INTO chat_messages (id, room_id, seq, author_id, content, client_id)
    SELECT id, room_id, seq, author_id, content, client_id FROM fresh),
moved AS (
    UPDATE conversations c SET last_seq = f.seq, last_activity_at = now()
    FROM (SELECT room_id, max(seq) AS seq FROM fresh GROUP BY room_id) f WHERE c.id = f.room_id
    RETURNING c.id, c.last_seq)
SELECT 'room' AS kind, l.id, l.last_seq AS seq, v.last_seq AS moved_to, NULL::text AS username, now() AS now
    FROM locked l LEFT JOIN moved v ON v.id = l.id
UNION ALL SELECT 'author', id, NULL, NULL, username, now() FROM users WHERE id = ANY($7::uuid[])
UNION ALL SELECT 'resent', id, ord, NULL, NULL, now() FROM resent
"""
_RESEND_PROBE = """
    SELECT i.ord, m.id FROM item i CROSS JOIN LATERAL (
        SELECT c.id FROM chat_messages c
        WHERE c.author_id = i.author_id AND c.room_id = i.room_id AND c.client_id = i.client_id LIMIT 1) m
    WHERE i.client_id IS NOT NULL"""
_INSERT_ROOMS = _INSERT_ROOMS_WITH.format(resent=_RESEND_PROBE)
# Without the probe (an index look-up per item, a fifth of the statement): for a writer that
# runs `_INSERT_ROOMS` when this one breaks the unique key, i.e. when the group holds a resend.
_INSERT_ROOMS_UNPROBED = _INSERT_ROOMS_WITH.format(resent="SELECT NULL::bigint AS ord, NULL::uuid AS id WHERE false")


async def insert_rooms(conn: asyncpg.Connection, batches: Sequence[tuple[UUID, Sequence[Item]]], *,
                       probe: bool = True) -> list[list[tuple[bool, dict[str, Any]]] | None]:
    """Persist each room's (author_id, content, client_id) items in order, many rooms at once;
    per batch, (fresh, row) per item, or None when the room no longer exists. Give each room
    once. Outside a transaction it is one statement and one commit (inside the caller's
    transaction, the rows are visible on its commit).

    A resend (same room, author and client_id as a stored message, or as an earlier item of
    the batch) is returned as stored, with fresh=False, and takes no sequence number; the
    others get the room's next numbers in order and the room's `last_seq` moves once.
    `probe=False` skips the look-up of stored resends: a batch holding one then raises
    UniqueViolationError (nothing stored; run it again with the probe).
    """
    room_ids = [room_id for room_id, _ in batches]
    item_rooms: list[UUID] = []
    item_authors: list[UUID] = []
    contents: list[str] = []
    client_ids: list[str | None] = []
    # Per room: its items' places among the distinct items sent (a repeat within the batch
    # points at the first one's place).
    places: list[Sequence[int]] = []
    for room_id, items in batches:
        start = len(item_rooms)
        keyed = [(author_id, client_id) for author_id, _, client_id in items if client_id is not None]
        if len(set(keyed)) == len(keyed):  # no repeat (the usual case: the room's actor merges them)
            authors_, contents_, client_ids_ = zip(*items)
            item_rooms += [room_id] * len(items)
            item_authors += authors_
            contents += contents_
            client_ids += client_ids_
            places.append(range(start, start + len(items)))
            continue
        first: dict[tuple[UUID, str], int] = {}
        mine = []
        for author_id, content, client_id in items:
            if client_id is not None:
                place = first.setdefault((author_id, client_id), len(item_rooms))
                if place != len(item_rooms):
                    mine.append(place)
                    continue
            mine.append(len(item_rooms))
            item_rooms.append(room_id)
            item_authors.append(author_id)
            contents.append(content)
            client_ids.append(client_id)
        places.append(mine)
    ids = _new_ids(len(item_rooms))
    found = await conn.fetch(_INSERT_ROOMS if probe else _INSERT_ROOMS_UNPROBED, room_ids, ids, item_rooms, item_authors, contents, client_ids,
                             list(set(item_authors)))
    seqs: dict[UUID, tuple[int, int | None]] = {}
    names: dict[UUID, str] = {}
    resent: dict[int, UUID] = {}  # place -> the stored message's id
    for r in found:
        kind = r["kind"]
        if kind == "room":
            seqs[r["id"]] = (r["seq"], r["moved_to"])
        elif kind == "author":
            names[r["id"]] = r["username"]
        else:
            resent[r["seq"] - 1] = r["id"]  # WITH ORDINALITY counts from 1
    if not seqs:
        return [None] * len(batches)
    now = found[0]["now"]
    stored = await fetch_by_ids(conn, list(resent.values())) if resent else {}

    def fresh(place: int, seq: int) -> dict[str, Any]:
        author_id = item_authors[place]
        return {"id": ids[place], "seq": seq, "room_id": item_rooms[place], "author_id": author_id,
                "author_name": names.get(author_id, "deleted user"), "content": contents[place],
                "client_id": client_ids[place], "created_at": now, "edited_at": None, "deleted": False,
                "reactions": []}

    out: list[list[tuple[bool, dict[str, Any]]] | None] = []
    for room_id, mine in zip(room_ids, places, strict=True):
        if room_id not in seqs:
            out.append(None)
            continue
        seq, moved_to = seqs[room_id]
        rows: list[tuple[bool, dict[str, Any]]] | None
        if isinstance(mine, range) and not resent:  # the usual case: every item is new
            rows = [(True, fresh(place, seq + n)) for n, place in enumerate(mine, 1)]
            seq += len(mine)
        else:
            rows, made = [], {}
            for place in mine:
                row = made.get(place)
                if row is not None:  # a repeat within the batch: the first one's message
                    rows.append((False, row))
                elif place in resent:
                    if resent[place] not in stored:  # gone with its room since the statement
                        rows = None
                        break
                    row = made[place] = stored[resent[place]]
                    rows.append((False, row))
                else:
                    seq += 1
                    row = made[place] = fresh(place, seq)
                    rows.append((True, row))
        if rows is not None and seq != seqs[room_id][0] and seq != moved_to:
            raise RuntimeError(f"room {room_id}: numbered up to {seq}, stored up to {moved_to}")
        out.append(rows)
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
