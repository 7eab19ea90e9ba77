"""Notifications: what happened to my tracks, posts and followers."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg

from veza.domain.errors import NotFound

_SELECT = """SELECT n.id, n.user_id, n.kind, n.subject_id, n.data, n.read_at, n.created_at,
                    n.actor_id, a.username AS actor_username
             FROM notifications n LEFT JOIN users a ON a.id = n.actor_id"""


# Kinds that say the same thing again when repeated: liking after unliking, following
# after unfollowing. One unread notice is enough (toggling must not spam someone).
_ONCE_UNREAD = ("track_like", "post_like", "follow")


async def create(conn: asyncpg.Connection, *, user_id: UUID, actor_id: UUID, kind: str, subject_id: UUID | None,
                 data: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """Record a notification for `user_id`; None for one's own actions, and for a like or
    follow that the user has an unread notice of already (from the same actor, same subject)."""
    if user_id == actor_id:
        return None
    new_id = await conn.fetchval(
        "INSERT INTO notifications (user_id, actor_id, kind, subject_id, data) SELECT $1, $2, $3, $4, $5"
        " WHERE NOT ($3 = ANY($6::text[]) AND EXISTS (SELECT 1 FROM notifications WHERE user_id = $1"
        " AND actor_id = $2 AND kind = $3 AND subject_id IS NOT DISTINCT FROM $4 AND read_at IS NULL))"
        " RETURNING id", user_id, actor_id, kind, subject_id, data or {}, list(_ONCE_UNREAD))
    if new_id is None:
        return None
    return dict(await conn.fetchrow(f"{_SELECT} WHERE n.id = $1", new_id))


async def list_for(conn: asyncpg.Connection, user_id: UUID, *, limit: int, offset: int, unread_only: bool
                   ) -> tuple[list[dict[str, Any]], int, int]:
    """(page, total, unread count) of one user's notifications, newest first."""
    rows = await conn.fetch(
        f"{_SELECT} WHERE n.user_id = $1 AND ($4 = false OR n.read_at IS NULL) "
        "ORDER BY n.created_at DESC, n.id DESC LIMIT $2 OFFSET $3", user_id, limit, offset, unread_only)
    counts = await conn.fetchrow(
        "SELECT count(*) AS total, count(*) FILTER (WHERE read_at IS NULL) AS unread "
        "FROM notifications WHERE user_id = $1", user_id)
    total = counts["unread"] if unread_only else counts["total"]
    return [dict(r) for r in rows], total, counts["unread"]


async def mark_read(conn: asyncpg.Connection, user_id: UUID, notification_id: UUID) -> dict[str, Any]:
    """Mark one of MY notifications read (once: the first read time stays). Someone
    else's notification reads as none."""
    previous = await conn.fetchrow(
        "SELECT read_at FROM notifications WHERE id = $1 AND user_id = $2 FOR UPDATE", notification_id, user_id)
    if previous is None:
        raise NotFound("Notification not found")
    if previous["read_at"] is None:
        await conn.execute("UPDATE notifications SET read_at = now() WHERE id = $1", notification_id)
    row = await conn.fetchrow(f"{_SELECT} WHERE n.id = $1", notification_id)
    return dict(row)


async def unread_count(conn: asyncpg.Connection, user_id: UUID) -> int:
    return await conn.fetchval("SELECT count(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL", user_id)
