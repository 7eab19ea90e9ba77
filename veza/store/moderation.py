"""Reports, moderation decisions and warnings."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg

from veza.domain.errors import Conflict, NotFound

_REPORT = ("id, reporter_id, content_type, content_id, reason, status, action, target_user_id,"
           " resolved_by, resolved_at, created_at")
STATUS_FOR_ACTION = {"resolve": "resolved", "dismiss": "dismissed", "ban": "resolved", "warn": "resolved"}


async def create_report(conn: asyncpg.Connection, *, reporter_id: UUID, content_type: str, content_id: UUID,
                        reason: str) -> dict[str, Any]:
    try:
        row = await conn.fetchrow(
            f"INSERT INTO reports (reporter_id, content_type, content_id, reason) VALUES ($1, $2, $3, $4)"
            f" RETURNING {_REPORT}",
            reporter_id, content_type, content_id, reason,
        )
    except asyncpg.UniqueViolationError:
        raise Conflict("You already reported this and it is awaiting review",
                       details={"content_id": "already reported"}) from None
    return dict(row)


async def list_reports(conn: asyncpg.Connection, status: str | None, limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
    rows = await conn.fetch(
        f"SELECT {_REPORT} FROM reports WHERE ($1::text IS NULL OR status = $1)"
        " ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3",
        status, limit, offset,
    )
    total = await conn.fetchval("SELECT count(*) FROM reports WHERE ($1::text IS NULL OR status = $1)", status)
    return [dict(r) for r in rows], total


async def lock_pending(conn: asyncpg.Connection, report_id: UUID) -> dict[str, Any]:
    """The report, locked for the deciding transaction; only a pending one can be decided."""
    row = await conn.fetchrow(f"SELECT {_REPORT} FROM reports WHERE id = $1 FOR UPDATE", report_id)
    if row is None:
        raise NotFound("Report not found")
    if row["status"] != "pending":
        raise Conflict(f"Report is already {row['status']}", details={"status": row["status"]})
    return dict(row)


async def decide(conn: asyncpg.Connection, report_id: UUID, *, action: str, target_user_id: UUID | None,
                 resolved_by: UUID) -> dict[str, Any]:
    row = await conn.fetchrow(
        f"UPDATE reports SET status = $2, action = $3, target_user_id = $4, resolved_by = $5, resolved_at = now()"
        f" WHERE id = $1 RETURNING {_REPORT}",
        report_id, STATUS_FOR_ACTION[action], action, target_user_id, resolved_by,
    )
    return dict(row)


async def ban_user(conn: asyncpg.Connection, user_id: UUID) -> None:
    status = await conn.execute("UPDATE users SET is_banned = true, updated_at = now() WHERE id = $1", user_id)
    if status.endswith(" 0"):
        raise NotFound("User not found")


async def content_owner(conn: asyncpg.Connection, content_type: str, content_id: UUID) -> UUID | None:
    """Whose the reported content is: the user itself, a track's owner, a comment's author
    (track or post comment); None when it does not exist (any more)."""
    if content_type == "user":
        return await conn.fetchval("SELECT id FROM users WHERE id = $1", content_id)
    if content_type == "track":
        return await conn.fetchval("SELECT owner_id FROM tracks WHERE id = $1", content_id)
    return await conn.fetchval(
        "SELECT author_id FROM track_comments WHERE id = $1"
        " UNION ALL SELECT author_id FROM post_comments WHERE id = $1 LIMIT 1", content_id)


async def user_role(conn: asyncpg.Connection, user_id: UUID) -> str | None:
    return await conn.fetchval("SELECT role FROM users WHERE id = $1", user_id)


async def add_warning(conn: asyncpg.Connection, *, user_id: UUID, report_id: UUID | None, message: str) -> dict[str, Any]:
    row = await conn.fetchrow(
        "INSERT INTO moderation_warnings (user_id, report_id, message) VALUES ($1, $2, $3)"
        " RETURNING id, user_id, report_id, message, created_at, read_at",
        user_id, report_id, message,
    )
    return dict(row)


async def list_warnings(conn: asyncpg.Connection, user_id: UUID, limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
    rows = await conn.fetch(
        "SELECT id, report_id, message, created_at, read_at FROM moderation_warnings WHERE user_id = $1"
        " ORDER BY created_at DESC LIMIT $2 OFFSET $3",
        user_id, limit, offset,
    )
    total = await conn.fetchval("SELECT count(*) FROM moderation_warnings WHERE user_id = $1", user_id)
    return [dict(r) for r in rows], total
