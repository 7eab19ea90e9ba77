"""Announcements: the public active list (AnnouncementBanner) and admin management.

An `announcement` event reaches every connected socket on every node when one becomes
active: at once when created active (the hub's broadcast), at its start when scheduled
(`veza.announcements.AnnouncementSchedule`).

What a valid announcement is (required text, times with an offset in 1970..9998, an end
after the start): `veza.domain.announcements`.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal
from uuid import UUID

import msgspec
from aiohttp import web

from veza import keys
from veza.announcements import event
from veza.domain import announcements
from veza.http.auth import Principal
from veza.http.envelope import ok
from veza.http.routing import ApiRouter, path_uuid
from veza.store import announcements as store
from veza.validation import NOT_BLANK_SCHEMA

router = ApiRouter("announcements")

class AnnouncementIn(msgspec.Struct, forbid_unknown_fields=True):
    title: Annotated[str, msgspec.Meta(min_length=1, max_length=200, extra_json_schema=NOT_BLANK_SCHEMA)]
    content: Annotated[str, msgspec.Meta(min_length=1, max_length=5000, extra_json_schema=NOT_BLANK_SCHEMA)]
    type: Literal["info", "warning", "error"] = "info"
    starts_at: dt.datetime | None = None
    ends_at: dt.datetime | None = None


class AnnouncementOut(msgspec.Struct):
    id: UUID
    title: str
    content: str
    type: str
    starts_at: dt.datetime
    ends_at: dt.datetime | None
    created_at: dt.datetime


class AnnouncementList(msgspec.Struct):
    announcements: list[AnnouncementOut]
    total: int


class PageQuery(msgspec.Struct, forbid_unknown_fields=True):
    limit: Annotated[int, msgspec.Meta(ge=1, le=100)] = 20
    offset: Annotated[int, msgspec.Meta(ge=0, le=100_000)] = 0


def _out(row: dict) -> AnnouncementOut:
    return AnnouncementOut(**{f: row[f] for f in AnnouncementOut.__struct_fields__})


@router.get("/announcements/active", response=AnnouncementList, summary="Active announcements (public)")
async def active(request: web.Request) -> web.Response:
    async with request.app[keys.db].connection() as conn:
        rows = await store.list_active(conn)
    return ok(AnnouncementList(announcements=[_out(r) for r in rows], total=len(rows)))


@router.get("/admin/announcements", query=PageQuery, response=AnnouncementList, roles=("admin",), scope="admin",
            summary="List all announcements (admin)")
async def list_all(request: web.Request, query: PageQuery, principal: Principal) -> web.Response:
    async with request.app[keys.db].connection() as conn:
        rows, total = await store.list_all(conn, query.limit, query.offset)
    return ok(AnnouncementList(announcements=[_out(r) for r in rows], total=total))


@router.post("/admin/announcements", body=AnnouncementIn, response=AnnouncementOut, status=201, roles=("admin",),
             scope="admin", summary="Create an announcement (admin); pushed live to every socket")
async def create(request: web.Request, body: AnnouncementIn, principal: Principal) -> web.Response:
    async with request.app[keys.db].connection() as conn:
        row = await announcements.create(conn, principal.user_id, title=body.title, content=body.content,
                                         type_=body.type, starts_at=body.starts_at, ends_at=body.ends_at)
    if row["active"]:
        await request.app[keys.hub].broadcast(event(row))
    else:  # scheduled (or already over): every node pushes it at its start
        await request.app[keys.announcement_schedule].changed()
    return ok(_out(row), status=201)


@router.delete("/admin/announcements/{id}", roles=("admin",), scope="admin", summary="Delete an announcement (admin)")
async def delete(request: web.Request, principal: Principal) -> web.Response:
    announcement_id = path_uuid(request, "id")
    async with request.app[keys.db].connection() as conn:
        await store.delete(conn, announcement_id)
    await request.app[keys.announcement_schedule].changed()  # no push if it was yet to start
    return ok({"id": str(announcement_id), "deleted": True})
