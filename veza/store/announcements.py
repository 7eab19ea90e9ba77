"""Site-wide announcements with a visibility window."""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

import asyncpg

from veza.domain.errors import NotFound

_COLS = "id, title, content, type, starts_at, ends_at, created_by, created_at"
# Seconds until it starts by the database's clock (the one `list_active` goes by).
_WAIT = "extract(epoch FROM starts_at - now())::float8 AS wait"


async def create(conn: asyncpg.Connection, *, title: str, content: str, type: str, starts_at: dt.datetime | None,
                 ends_at: dt.datetime | None, created_by: UUID) -> dict[str, Any]:
    row = await conn.fetchrow(
        f"INSERT INTO announcements (title, content, type, starts_at, ends_at, created_by)"
        f" VALUES ($1, $2, $3, coalesce($4, now()), $5, $6) RETURNING {_COLS},"
        f" starts_at <= now() AND (ends_at IS NULL OR ends_at > now()) AS active",
        title, content, type, starts_at, ends_at, created_by,
    )
    return dict(row)


async def list_active(conn: asyncpg.Connection, limit: int = 20) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        f"SELECT {_COLS} FROM announcements WHERE starts_at <= now() AND (ends_at IS NULL OR ends_at > now())"
        " ORDER BY starts_at DESC LIMIT $1",
        limit,
    )
    return [dict(r) for r in rows]


async def upcoming(conn: asyncpg.Connection, within: float, limit: int) -> list[dict[str, Any]]:
    """Those starting in the next `within` seconds, soonest first, each with `wait`."""
    rows = await conn.fetch(
        f"SELECT {_COLS}, {_WAIT} FROM announcements"
        " WHERE starts_at > now() AND starts_at <= now() + make_interval(secs => $1) ORDER BY starts_at LIMIT $2",
        within, limit,
    )
    return [dict(r) for r in rows]


async def starting(conn: asyncpg.Connection, announcement_id: UUID) -> dict[str, Any] | None:
    """The announcement with `wait` (<= 0 once started), or None when deleted or ended."""
    row = await conn.fetchrow(f"SELECT {_COLS}, {_WAIT} FROM announcements"
                              " WHERE id = $1 AND (ends_at IS NULL OR ends_at > now())", announcement_id)
    return dict(row) if row is not None else None


async def list_all(conn: asyncpg.Connection, limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
    rows = await conn.fetch(f"SELECT {_COLS} FROM announcements ORDER BY created_at DESC, id DESC LIMIT $1 OFFSET $2",
                            limit, offset)
    return [dict(r) for r in rows], await conn.fetchval("SELECT count(*) FROM announcements")


async def delete(conn: asyncpg.Connection, announcement_id: UUID) -> None:
    status = await conn.execute("DELETE FROM announcements WHERE id = $1", announcement_id)
    if status.endswith(" 0"):
        raise NotFound("Announcement not found")
