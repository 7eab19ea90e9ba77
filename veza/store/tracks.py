"""Tracks: listing (keyset and legacy offset), search, CRUD, likes and comments."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from typing import Any
from uuid import UUID

import asyncpg

from veza.domain.errors import NotFound
from veza.store import tags as tag_store
from veza.store.search import hits_cte

_COLUMNS = ("t.id, t.owner_id, u.username AS owner_username, t.title, t.artist, t.description, t.genre, "
            "t.format, t.mime_type, t.duration, t.size_bytes, t.tags, t.like_count, t.comment_count, "
            "t.created_at, t.updated_at")
_FROM = "tracks t JOIN users u ON u.id = t.owner_id"

# sort_by name -> column; only these ever reach SQL.
SORT_COLUMNS = {"created_at": "created_at", "title": "title", "artist": "artist", "duration": "duration",
                "like_count": "like_count", "comment_count": "comment_count"}
UPDATABLE = ("title", "artist", "description", "genre", "tags")


@dataclasses.dataclass(frozen=True, slots=True)
class TrackQuery:
    limit: int
    genre: str | None = None
    format: str | None = None
    sort_by: str = "created_at"
    descending: bool = True
    # Keyset position (sort value, created_at, id) of the last row seen, or None.
    after: tuple[Any, Any, UUID] | None = None
    offset: int = 0


async def list_tracks(conn: asyncpg.Connection, q: TrackQuery) -> tuple[list[asyncpg.Record], bool]:
    """One page (newest first by default) and whether more follow. Fetches limit+1 rows."""
    where, args = [], []
    for column, value in (("genre", q.genre), ("format", q.format)):
        if value is not None:
            args.append(value)
            where.append(f"t.{column} = ${len(args)}")
    column = SORT_COLUMNS[q.sort_by]
    op, direction = ("<", "DESC") if q.descending else (">", "ASC")
    if q.after is not None:
        value, created_at, ident = q.after
        if column == "created_at":
            args += [created_at, ident]
            where.append(f"(t.created_at, t.id) {op} (${len(args) - 1}, ${len(args)})")
        else:
            args += [value, ident]
            where.append(f"(t.{column}, t.id) {op} (${len(args) - 1}, ${len(args)})")
    order = (f"t.created_at {direction}, t.id {direction}" if column == "created_at"
             else f"t.{column} {direction}, t.id {direction}")
    args += [q.limit + 1, q.offset]
    sql = (f"SELECT {_COLUMNS} FROM {_FROM} {'WHERE ' + ' AND '.join(where) if where else ''} "
           f"ORDER BY {order} LIMIT ${len(args) - 1} OFFSET ${len(args)}")
    rows = await conn.fetch(sql, *args)
    return rows[: q.limit], len(rows) > q.limit


async def get_track(conn: asyncpg.Connection, track_id: UUID, *, with_file: bool = False) -> dict[str, Any]:
    extra = ", t.file_key" if with_file else ""
    row = await conn.fetchrow(f"SELECT {_COLUMNS}{extra} FROM {_FROM} WHERE t.id = $1", track_id)
    if row is None:
        raise NotFound("Track not found")
    return dict(row)


async def search(conn: asyncpg.Connection, text: str, limit: int) -> list[asyncpg.Record]:
    """Full-text matches ranked first (words and word prefixes), then trigram-similar titles
    and artists for typos. `text` is only ever a bound parameter."""
    hits = hits_cte("tracks", similarity="greatest(similarity(t.title, $1), similarity(t.artist, $1))",
                           trigram_match="t.title % $1 OR t.artist % $1")
    rows = await conn.fetch(
        f"""{hits}
        SELECT {_COLUMNS}, hits.score FROM hits JOIN tracks t ON t.id = hits.id JOIN users u ON u.id = t.owner_id
        ORDER BY hits.tier, hits.score DESC, t.created_at DESC LIMIT $2
        """,
        text, limit,
    )
    return rows


async def create_track(conn: asyncpg.Connection, *, owner_id: UUID, fields: dict[str, Any]) -> dict[str, Any]:
    names = ["owner_id", *fields]
    placeholders = ", ".join(f"${i + 1}" for i in range(len(names)))
    track_id = await conn.fetchval(
        f"INSERT INTO tracks ({', '.join(names)}) VALUES ({placeholders}) RETURNING id", owner_id, *fields.values())
    await tag_store.adjust(conn, added=fields.get("tags", []), removed=[])
    return await get_track(conn, track_id)


async def owner_of(conn: asyncpg.Connection, track_id: UUID) -> UUID:
    owner = await conn.fetchval("SELECT owner_id FROM tracks WHERE id = $1", track_id)
    if owner is None:
        raise NotFound("Track not found")
    return owner


async def update_track(conn: asyncpg.Connection, track_id: UUID, changes: dict[str, Any]) -> dict[str, Any]:
    fields = [k for k in changes if k in UPDATABLE]
    if fields:
        old_tags = await conn.fetchval("SELECT tags FROM tracks WHERE id = $1 FOR UPDATE", track_id)
        sets = ", ".join(f"{name} = ${i + 2}" for i, name in enumerate(fields))
        await conn.execute(f"UPDATE tracks SET {sets}, updated_at = now() WHERE id = $1",
                           track_id, *(changes[k] for k in fields))
        if "tags" in changes and old_tags is not None:
            new = set(changes["tags"])
            await tag_store.adjust(conn, added=sorted(new - set(old_tags)), removed=sorted(set(old_tags) - new))
    return await get_track(conn, track_id)


async def delete_track(conn: asyncpg.Connection, track_id: UUID) -> str:
    """Delete the row; returns its file key so the caller removes the file after commit."""
    row = await conn.fetchrow("DELETE FROM tracks WHERE id = $1 RETURNING file_key, tags", track_id)
    if row is None:
        raise NotFound("Track not found")
    await tag_store.adjust(conn, added=[], removed=row["tags"])
    return row["file_key"]


@contextlib.contextmanager
def _track_must_exist() -> Iterator[None]:
    """An insert that references a track checked a moment ago: a concurrent DELETE of the
    track can land in between, and the insert's foreign key then fails. That is a 404."""
    try:
        yield
    except asyncpg.ForeignKeyViolationError as exc:
        if "track_id" in (exc.constraint_name or ""):
            raise NotFound("Track not found") from None
        raise  # another reference (the user's): not a missing track


async def like(conn: asyncpg.Connection, track_id: UUID, user_id: UUID) -> tuple[bool, int]:
    """Idempotent like: (newly liked?, like count). The counter moves only when the
    (track, user) row really appears, so concurrent likes stay exact."""
    await owner_of(conn, track_id)
    with _track_must_exist():
        inserted = await conn.fetchval(
            "INSERT INTO track_likes (track_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING true",
            track_id, user_id)
    if inserted:
        count = await conn.fetchval("UPDATE tracks SET like_count = like_count + 1 WHERE id = $1 RETURNING like_count",
                                    track_id)
    else:
        count = await conn.fetchval("SELECT like_count FROM tracks WHERE id = $1", track_id)
    if count is None:  # already liked, and the track deleted meanwhile
        raise NotFound("Track not found")
    return bool(inserted), count


async def unlike(conn: asyncpg.Connection, track_id: UUID, user_id: UUID) -> int:
    await owner_of(conn, track_id)
    deleted = await conn.fetchval("DELETE FROM track_likes WHERE track_id = $1 AND user_id = $2 RETURNING true",
                                  track_id, user_id)
    if deleted:
        count = await conn.fetchval(
            "UPDATE tracks SET like_count = like_count - 1 WHERE id = $1 RETURNING like_count", track_id)
    else:
        count = await conn.fetchval("SELECT like_count FROM tracks WHERE id = $1", track_id)
    if count is None:  # the track was deleted meanwhile
        raise NotFound("Track not found")
    return count


async def liked_by(conn: asyncpg.Connection, track_id: UUID, user_id: UUID) -> bool:
    return bool(await conn.fetchval("SELECT true FROM track_likes WHERE track_id = $1 AND user_id = $2",
                                    track_id, user_id))


async def add_comment(conn: asyncpg.Connection, track_id: UUID, author_id: UUID, content: str) -> dict[str, Any]:
    await owner_of(conn, track_id)
    with _track_must_exist():
        row = await conn.fetchrow(
            """WITH c AS (INSERT INTO track_comments (track_id, author_id, content) VALUES ($1, $2, $3) RETURNING *),
                    bump AS (UPDATE tracks SET comment_count = comment_count + 1 WHERE id = $1)
               SELECT c.id, c.track_id, c.content, c.created_at, u.id AS author_id, u.username AS author_username
               FROM c JOIN users u ON u.id = c.author_id""",
            track_id, author_id, content)
    return dict(row)


async def list_comments(conn: asyncpg.Connection, track_id: UUID, limit: int, offset: int
                        ) -> tuple[list[dict[str, Any]], int]:
    total = await conn.fetchval("SELECT comment_count FROM tracks WHERE id = $1", track_id)
    if total is None:
        raise NotFound("Track not found")
    rows = await conn.fetch(
        # An erased author's comment stays as "deleted user" (the nil id, like chat messages).
        """SELECT c.id, c.track_id, c.content, c.created_at,
                  coalesce(u.id, '00000000-0000-0000-0000-000000000000') AS author_id,
                  coalesce(u.username, 'deleted user') AS author_username
           FROM track_comments c LEFT JOIN users u ON u.id = c.author_id WHERE c.track_id = $1
           ORDER BY c.created_at DESC, c.id DESC LIMIT $2 OFFSET $3""",
        track_id, limit, offset)
    return [dict(r) for r in rows], total


async def lock_comment(conn: asyncpg.Connection, track_id: UUID, comment_id: UUID) -> dict[str, Any]:
    """{author_id, owner_id} of a comment on this track (else a 404); the track's row is
    locked before the comment's, the order a track's removal takes them in (by cascade)."""
    owner = await conn.fetchval("SELECT owner_id FROM tracks WHERE id = $1 FOR NO KEY UPDATE", track_id)
    author = None if owner is None else await conn.fetchval(
        "SELECT author_id FROM track_comments WHERE id = $1 AND track_id = $2 FOR UPDATE", comment_id, track_id)
    if author is None:
        raise NotFound("Comment not found")
    return {"author_id": author, "owner_id": owner}


async def delete_comment(conn: asyncpg.Connection, track_id: UUID, comment_id: UUID) -> None:
    deleted = await conn.fetchval("DELETE FROM track_comments WHERE id = $1 AND track_id = $2 RETURNING true",
                                  comment_id, track_id)
    if not deleted:
        raise NotFound("Comment not found")
    await conn.execute("UPDATE tracks SET comment_count = comment_count - 1 WHERE id = $1 AND comment_count > 0",
                       track_id)
