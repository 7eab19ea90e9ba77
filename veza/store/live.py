"""Live streams: metadata, stream keys and the persisted live state.

The stream key only leaves this module through `get_with_key` and the `*_owned` functions
(their rows carry `stream_key`; `veza.domain.live` hands them to the owner only); every
other function selects `_PUBLIC`, which never names it. Live state
changes (`go_live`, `go_offline`, heartbeats, viewer counts) are called by the LiveStream
actor only, which owns that state.
"""

from __future__ import annotations

import re
import secrets
from typing import Any
from uuid import UUID

import asyncpg

from veza.domain.errors import NotFound

KEY_PREFIX = "live_"

_PUBLIC = (
    "s.id, s.owner_id, u.username AS owner_username, s.title, s.description, s.category, s.tags,"
    " s.status, s.viewer_count, s.peak_viewers, s.started_at, s.ended_at, s.duration_seconds,"
    " s.chat_room_id, s.created_at, s.updated_at"
)
_FROM = "live_streams s JOIN users u ON u.id = s.owner_id"


# What new_stream_key makes: token_urlsafe(32) is 32 bytes in unpadded base64url, 43 characters.
_KEY_SHAPE = re.compile(re.escape(KEY_PREFIX) + r"[A-Za-z0-9_-]{43}")


def new_stream_key() -> str:
    """A long random secret (256 bits), prefixed so it is recognisable in a leak scan."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def looks_like_key(value: str) -> bool:
    """Exactly the shape `new_stream_key` makes: anything else (a NUL, a stray newline) is
    no key, refused before it reaches the database."""
    return _KEY_SHAPE.fullmatch(value) is not None


async def create_stream(conn: asyncpg.Connection, owner_id: UUID, *, title: str, description: str = "",
                        category: str = "", tags: list[str] | None = None,
                        chat_room_id: UUID | None = None) -> dict[str, Any]:
    stream_id = await conn.fetchval(
        "INSERT INTO live_streams (owner_id, title, description, category, tags, stream_key, chat_room_id)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        owner_id, title, description, category, list(tags or []), new_stream_key(), chat_room_id,
    )
    return await get_with_key(conn, stream_id)  # type: ignore[return-value]


async def get_stream(conn: asyncpg.Connection, stream_id: UUID) -> dict[str, Any]:
    row = await conn.fetchrow(f"SELECT {_PUBLIC} FROM {_FROM} WHERE s.id = $1", stream_id)
    if row is None:
        raise NotFound("Stream not found")
    return dict(row)


async def list_streams(conn: asyncpg.Connection, *, is_live: bool | None, limit: int,
                       offset: int) -> tuple[list[dict[str, Any]], int]:
    """Live streams first (most recently started), then the rest, newest first."""
    where = "" if is_live is None else ("WHERE s.status = 'live'" if is_live else "WHERE s.status = 'offline'")
    rows = await conn.fetch(
        f"SELECT {_PUBLIC}, count(*) OVER () AS total FROM {_FROM} {where}"
        " ORDER BY (s.status = 'live') DESC, s.started_at DESC NULLS LAST, s.created_at DESC, s.id DESC"
        " LIMIT $1 OFFSET $2",
        limit, offset,
    )
    if rows:
        return [_without_total(r) for r in rows], rows[0]["total"]
    total = await conn.fetchval(f"SELECT count(*) FROM {_FROM} {where}")
    return [], total


def _without_total(row: asyncpg.Record) -> dict[str, Any]:
    out = dict(row)
    out.pop("total", None)
    return out


async def get_with_key(conn: asyncpg.Connection, stream_id: UUID) -> dict[str, Any] | None:
    """The stream with its key (for its owner only: `veza.domain.live.owned_stream`)."""
    row = await conn.fetchrow(f"SELECT {_PUBLIC}, s.stream_key FROM {_FROM} WHERE s.id = $1", stream_id)
    return dict(row) if row else None


async def list_owned(conn: asyncpg.Connection, owner_id: UUID) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        f"SELECT {_PUBLIC}, s.stream_key FROM {_FROM} WHERE s.owner_id = $1 ORDER BY s.created_at DESC, s.id DESC",
        owner_id,
    )
    return [dict(r) for r in rows]


async def current_owned(conn: asyncpg.Connection, owner_id: UUID) -> dict[str, Any] | None:
    """The owner's current stream: the live one, else the most recently created."""
    row = await conn.fetchrow(
        f"SELECT {_PUBLIC}, s.stream_key FROM {_FROM} WHERE s.owner_id = $1"
        " ORDER BY (s.status = 'live') DESC, s.created_at DESC, s.id DESC LIMIT 1",
        owner_id,
    )
    return dict(row) if row else None


async def replace_key(conn: asyncpg.Connection, stream_id: UUID) -> None:
    await conn.execute("UPDATE live_streams SET stream_key = $2, updated_at = now() WHERE id = $1",
                       stream_id, new_stream_key())


_EDITABLE = ("title", "description", "category", "tags")


async def update_metadata(conn: asyncpg.Connection, stream_id: UUID, changes: dict[str, Any]) -> dict[str, Any]:
    fields = [k for k in _EDITABLE if k in changes]
    if fields:
        assignments = ", ".join(f"{name} = ${i + 2}" for i, name in enumerate(fields))
        await conn.execute(f"UPDATE live_streams SET {assignments}, updated_at = now() WHERE id = $1",
                           stream_id, *(changes[k] for k in fields))
    return await get_stream(conn, stream_id)


async def find_by_key(conn: asyncpg.Connection, stream_key: str) -> dict[str, Any] | None:
    """The stream a key belongs to (id, owner, status), or None. One unique-index lookup."""
    row = await conn.fetchrow(
        "SELECT id, owner_id, status, ingest, ingest_session FROM live_streams WHERE stream_key = $1", stream_key)
    return dict(row) if row else None


# --- live state: called by the LiveStream actor only ---------------------------------------

async def go_live(conn: asyncpg.Connection, stream_id: UUID, stream_key: str, *, ingest: str,
                  session: str) -> dict[str, Any] | None:
    """Offline -> live if the key still matches; None when the key is stale or it is already live."""
    updated = await conn.fetchval(
        "UPDATE live_streams SET status = 'live', ingest = $3, ingest_session = $4, started_at = now(),"
        " ended_at = NULL, duration_seconds = 0, viewer_count = 0, peak_viewers = 0,"
        " last_heartbeat_at = now(), updated_at = now()"
        " WHERE id = $1 AND stream_key = $2 AND status = 'offline' RETURNING id",
        stream_id, stream_key, ingest, session,
    )
    return await get_stream(conn, stream_id) if updated else None


_ENDED = (
    "status = 'offline', ingest = NULL, ingest_session = NULL, ended_at = now(),"
    " duration_seconds = GREATEST(0, EXTRACT(EPOCH FROM now() - started_at))::integer,"
    " peak_viewers = GREATEST(peak_viewers, $2), viewer_count = 0, updated_at = now()"
)


async def go_offline(conn: asyncpg.Connection, stream_id: UUID, *, session: str | None,
                     peak_viewers: int) -> dict[str, Any] | None:
    """Live -> offline, persisting peak and duration; None if it was not live, or is live
    with another ingest session than `session` (a late callback of an older publisher)."""
    updated = await conn.fetchval(
        f"UPDATE live_streams SET {_ENDED}"
        " WHERE id = $1 AND status = 'live' AND ($3::text IS NULL OR ingest_session = $3) RETURNING id",
        stream_id, peak_viewers, session,
    )
    return await get_stream(conn, stream_id) if updated else None


async def expire(conn: asyncpg.Connection, stream_id: UUID, *, ingests: list[str], timeout: float,
                 peak_viewers: int) -> dict[str, Any] | None:
    """End the stream if its heartbeat-sending ingest has been silent for `timeout` seconds."""
    updated = await conn.fetchval(
        f"UPDATE live_streams SET {_ENDED}"
        " WHERE id = $1 AND status = 'live' AND ingest = ANY($3::text[])"
        " AND last_heartbeat_at < now() - make_interval(secs => $4) RETURNING id",
        stream_id, peak_viewers, ingests, timeout,
    )
    return await get_stream(conn, stream_id) if updated else None


_STATE = (
    "s.title, s.status, s.ingest, s.ingest_session, s.peak_viewers, s.started_at,"
    " EXTRACT(EPOCH FROM now() - s.last_heartbeat_at)::float8 AS heartbeat_age"
)


async def load_state(conn: asyncpg.Connection, stream_id: UUID) -> dict[str, Any] | None:
    row = await conn.fetchrow(f"SELECT s.id, {_STATE} FROM live_streams s WHERE s.id = $1", stream_id)
    return dict(row) if row else None


async def heartbeat(conn: asyncpg.Connection, stream_id: UUID, session: str) -> bool:
    """Record that the live ingest session still publishes; False if it is not the live one."""
    return await conn.fetchval(
        "UPDATE live_streams SET last_heartbeat_at = now()"
        " WHERE id = $1 AND status = 'live' AND ingest_session = $2 RETURNING true",
        stream_id, session) is not None


async def sync_viewers(conn: asyncpg.Connection, stream_id: UUID, *, node_id: str, local: int,
                       fresh_seconds: float) -> dict[str, Any] | None:
    """Record this node's viewers; answer the other nodes' fresh total (`remote`) and the
    stream's persisted state, in one round trip."""
    row = await conn.fetchrow(
        "WITH mine AS (INSERT INTO live_stream_viewers (stream_id, node_id, viewers) VALUES ($1, $2, $3)"
        " ON CONFLICT (stream_id, node_id) DO UPDATE SET viewers = EXCLUDED.viewers, updated_at = now())"
        f" SELECT {_STATE}, coalesce((SELECT sum(v.viewers) FROM live_stream_viewers v"
        "  WHERE v.stream_id = $1 AND v.node_id <> $2 AND v.updated_at > now() - make_interval(secs => $4)),"
        "  0)::integer AS remote"
        " FROM live_streams s WHERE s.id = $1",
        stream_id, node_id, local, fresh_seconds,
    )
    return dict(row) if row else None


async def set_viewers(conn: asyncpg.Connection, stream_id: UUID, viewers: int, peak: int) -> None:
    await conn.execute(
        "UPDATE live_streams SET viewer_count = $2, peak_viewers = GREATEST(peak_viewers, $3) WHERE id = $1",
        stream_id, viewers, peak)


async def live_stream_ids(conn: asyncpg.Connection) -> list[UUID]:
    return [r["id"] for r in await conn.fetch("SELECT id FROM live_streams WHERE status = 'live'")]
