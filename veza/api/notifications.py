"""My notifications: list (with the unread count) and mark one read."""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

import msgspec
from aiohttp import web

from veza import keys
from veza.api.pagination import DEFAULT_LIMIT, Limit, Offset
from veza.http.auth import Principal
from veza.http.envelope import ok
from veza.http.routing import ApiRouter, path_uuid
from veza.store import notifications

router = ApiRouter("notifications")


class ListQuery(msgspec.Struct, forbid_unknown_fields=False):
    limit: Limit = DEFAULT_LIMIT
    offset: Offset = 0
    unread: bool = False


class NotificationOut(msgspec.Struct):
    id: UUID
    kind: str
    subject_id: UUID | None
    actor_id: UUID | None
    actor_username: str | None
    data: dict[str, Any]
    read: bool
    read_at: dt.datetime | None
    created_at: dt.datetime


class NotificationListOut(msgspec.Struct):
    notifications: list[NotificationOut]
    unread_count: int
    total: int
    limit: int
    offset: int


def notification_out(row: dict[str, Any]) -> NotificationOut:
    return NotificationOut(id=row["id"], kind=row["kind"], subject_id=row["subject_id"], actor_id=row["actor_id"],
                           actor_username=row["actor_username"], data=row["data"], read=row["read_at"] is not None,
                           read_at=row["read_at"], created_at=row["created_at"])


@router.get("/notifications", query=ListQuery, response=NotificationListOut, auth="required",
            summary="My notifications, newest first, with the unread count")
async def list_notifications(request: web.Request, query: ListQuery, principal: Principal) -> web.Response:
    async with request.app[keys.db].connection() as conn:
        rows, total, unread = await notifications.list_for(conn, principal.user_id, limit=query.limit,
                                                           offset=query.offset, unread_only=query.unread)
    return ok(NotificationListOut(notifications=[notification_out(r) for r in rows], unread_count=unread,
                                  total=total, limit=query.limit, offset=query.offset))


@router.post("/notifications/{id}/read", response=NotificationOut, auth="required",
             summary="Mark one of my notifications read")
async def mark_read(request: web.Request, principal: Principal) -> web.Response:
    notification_id = path_uuid(request)
    async with request.app[keys.db].transaction() as conn:
        row = await notifications.mark_read(conn, principal.user_id, notification_id)
    return ok(notification_out(row))
