"""Moderation: users report content; admins resolve, dismiss, ban or warn.

Reports name existing content (a user, a track, a track or post comment); a ban or warning
falls on its owner unless the admin names another account. A ban blocks login (users.is_banned), revokes every session and API-key access, and
announces the revocation so the gateway closes the user's sockets (on every node). A
warning is stored (GET /users/me/warnings), listed in GET /notifications and pushed to the
user's sockets as a `notification` by their Inbox actor.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal
from uuid import UUID

import msgspec
from aiohttp import web

from veza import feeds, keys
from veza.api.pagination import Limit, Offset
from veza.domain import notifications
from veza.domain.unit_of_work import unit_of_work
from veza.http.auth import Principal
from veza.http.envelope import ok
from veza.http.errors import BadRequest, Forbidden
from veza.http.routing import ApiRouter, path_uuid
from veza.store import moderation as store
from veza.store import sessions
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
    if not body.reason.strip():
        raise BadRequest("Invalid reason: must not be blank", details={"reason": "must not be blank"})
    if body.content_type == "user" and body.content_id == principal.user_id:
        raise BadRequest("You cannot report yourself", details={"content_id": "is you"})
    async with request.app[keys.db].connection() as conn:
        if await store.content_owner(conn, body.content_type, body.content_id) is None:
            raise BadRequest(f"No such {body.content_type}", details={"content_id": f"unknown {body.content_type}"})
        row = await store.create_report(conn, reporter_id=principal.user_id, content_type=body.content_type,
                                        content_id=body.content_id, reason=body.reason.strip())
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
    report_id = path_uuid(request, "id")
    async with unit_of_work(request.app[keys.db]) as uow:
        conn = uow.conn
        report = await store.lock_pending(conn, report_id)
        target = None
        if body.action in ("ban", "warn"):
            # The content's owner; the admin may name another account (or must, once the
            # content is gone).
            target = body.user_id or await store.content_owner(conn, report["content_type"], report["content_id"])
            if target is None:
                raise BadRequest(f"The reported {report['content_type']} no longer exists; pass user_id",
                                 details={"user_id": f"required to {body.action}: the {report['content_type']} is gone"})
            role = await store.user_role(conn, target)
            if role is None:
                raise BadRequest("No such user", details={"user_id": "unknown user"})
            if body.action == "ban" and role == "admin":
                raise Forbidden("Admins cannot be banned")
        if body.action == "ban":
            await store.ban_user(conn, target)
            await sessions.revoke_all(conn, target, reason="banned")
        elif body.action == "warn":
            message = body.message or f"A moderator reviewed a report about your {report['content_type']}: {report['reason']}"
            warning = await store.add_warning(conn, user_id=target, report_id=report_id, message=message[:1000])
            # Pushed by the user's Inbox after commit.
            await notifications.notify(uow, feeds.notifier(request.app), user_id=target, actor_id=None, kind="moderation_warning",
                subject_id=warning["id"], data={"message": warning["message"], "report_id": str(report_id)})
        row = await store.decide(conn, report_id, action=body.action, target_user_id=target, resolved_by=principal.user_id)
    if body.action == "ban":
        await request.app[keys.session_events].revoked(target, None)
    return ok(_report(row))
