"""Moderation: users report content; admins resolve, dismiss, ban or warn.

Who may report what, on whom a ban or warning falls and what a ban revokes:
`veza.domain.moderation`. A warning is listed in GET /users/me/warnings and
GET /notifications and pushed to the user's sockets as a `notification` by their Inbox.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal
from uuid import UUID

import msgspec
from aiohttp import web

from veza import feeds, keys
from veza.api.pagination import Limit, Offset
from veza.domain import moderation
from veza.domain.unit_of_work import unit_of_work
from veza.http.auth import Principal
from veza.http.envelope import ok
from veza.http.routing import ApiRouter, path_uuid
from veza.store import moderation as store
from veza.validation import NOT_BLANK_SCHEMA

router = ApiRouter("moderation")


class ReportIn(msgspec.Struct, forbid_unknown_fields=True):
    content_type: Literal["user", "track", "comment"]
    content_id: UUID
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=1000, extra_json_schema=NOT_BLANK_SCHEMA)]


class ReportOut(msgspec.Struct):
    id: UUID
    reporter_id: UUID
    content_type: str
    content_id: UUID
    reason: str
    status: str
    action: str | None
    target_user_id: UUID | None
    resolved_by: UUID | None
    resolved_at: dt.datetime | None
    created_at: dt.datetime


class ReportList(msgspec.Struct):
    reports: list[ReportOut]
    total: int


class ReportsQuery(msgspec.Struct, forbid_unknown_fields=True):
    status: Literal["pending", "resolved", "dismissed", "all"] = "pending"
    limit: Limit = 20
    offset: Offset = 0


class ResolveIn(msgspec.Struct, forbid_unknown_fields=True):
    action: Literal["resolve", "dismiss", "ban", "warn"]
    # Whose account a ban/warn targets; by default the owner of the reported content (the
    # user, the track's owner, the comment's author).
    user_id: UUID | None = None
    message: Annotated[str, msgspec.Meta(max_length=1000)] | None = None


class WarningOut(msgspec.Struct):
    id: UUID
    report_id: UUID | None
    message: str
    created_at: dt.datetime
    read_at: dt.datetime | None


class WarningList(msgspec.Struct):
    warnings: list[WarningOut]
    total: int


class PageQuery(msgspec.Struct, forbid_unknown_fields=True):
    limit: Limit = 20
    offset: Offset = 0


def _report(row: dict) -> ReportOut:
    return ReportOut(**{f: row[f] for f in ReportOut.__struct_fields__})


@router.post("/reports", body=ReportIn, response=ReportOut, status=201, auth="required", errors=(409,),
             summary="Report content")
async def create_report(request: web.Request, body: ReportIn, principal: Principal) -> web.Response:
    async with request.app[keys.db].connection() as conn:
        row = await moderation.report(conn, principal.user_id, body.content_type, body.content_id, body.reason)
    return ok(_report(row), status=201)


@router.get("/admin/reports", query=ReportsQuery, response=ReportList, roles=("admin",), scope="admin",
            summary="List reports (admin)")
async def list_reports(request: web.Request, query: ReportsQuery, principal: Principal) -> web.Response:
    status = None if query.status == "all" else query.status
    async with request.app[keys.db].connection() as conn:
        rows, total = await store.list_reports(conn, status, query.limit, query.offset)
    return ok(ReportList(reports=[_report(r) for r in rows], total=total))


@router.post("/admin/reports/{id}/resolve", body=ResolveIn, response=ReportOut, roles=("admin",), scope="admin",
             errors=(409,),
             summary="Resolve a report: resolve, dismiss, ban or warn (admin)")
async def resolve_report(request: web.Request, body: ResolveIn, principal: Principal) -> web.Response:
    decision = moderation.Decision(body.action, named_user=body.user_id, message=body.message)
    async with unit_of_work(request.app[keys.db]) as uow:
        row = await moderation.resolve(uow, principal.user_id, path_uuid(request, "id"), decision,
                                       push=feeds.notifier(request.app), session_events=request.app[keys.session_events])
    return ok(_report(row))
