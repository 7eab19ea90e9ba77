"""Admin controls of the platform: feature flags, maintenance mode and the audit trail.

Flag and maintenance reads come from this node's in-memory `PlatformState`; writes go
through the control plane, which persists them and propagates them to every node.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal
from uuid import UUID

import msgspec
from aiohttp import web

from veza import keys
from veza.controls import features
from veza.api.pagination import Offset
from veza.domain import platform
from veza.http.auth import Principal
from veza.http.envelope import ok
from veza.http.errors import BadRequest
from veza.http.routing import ApiRouter
from veza.store import audit as audit_store
from veza.validation import NOT_BLANK_SCHEMA

router = ApiRouter("admin")

class FlagIn(msgspec.Struct, forbid_unknown_fields=True):
    enabled: bool
    description: Annotated[str, msgspec.Meta(max_length=500)] | None = None


class FlagOut(msgspec.Struct):
    name: str
    enabled: bool
    description: str
    updated_at: dt.datetime | None  # None: a known flag never set (at its default)


class FlagList(msgspec.Struct):
    flags: list[FlagOut]
    total: int


class MaintenanceIn(msgspec.Struct, forbid_unknown_fields=True):
    enabled: bool
    message: Annotated[str, msgspec.Meta(min_length=1, max_length=500, extra_json_schema=NOT_BLANK_SCHEMA)] | None = None
    retry_after: Annotated[int, msgspec.Meta(ge=1, le=86400)] | None = None


class MaintenanceOut(msgspec.Struct):
    enabled: bool
    message: str
    retry_after: int
    updated_at: dt.datetime | None


class AuditQuery(msgspec.Struct, forbid_unknown_fields=True):
    user_id: UUID | None = None
    action: Literal["POST", "PUT", "PATCH", "DELETE"] | None = None
    resource: Annotated[str, msgspec.Meta(max_length=512)] | None = None
    status: Annotated[int, msgspec.Meta(ge=100, le=599)] | None = None
    # `from`/`to` are Python keywords: renamed on the wire.
    since: dt.datetime | None = msgspec.field(default=None, name="from")
    until: dt.datetime | None = msgspec.field(default=None, name="to")
    limit: Annotated[int, msgspec.Meta(ge=1, le=100)] = 50
    offset: Offset = 0


class AuditEntryOut(msgspec.Struct):
    id: int
    user_id: UUID | None
    action: str
    resource: str
    route: str | None
    ip_address: str
    status: int
    request_id: str | None
    via: str | None
    created_at: dt.datetime


class AuditList(msgspec.Struct):
    entries: list[AuditEntryOut]
    total: int
    limit: int
    offset: int


def _flag(flag) -> FlagOut:  # type: ignore[no-untyped-def]
    return FlagOut(name=flag.name, enabled=flag.enabled, description=flag.description, updated_at=flag.updated_at)


def _flags(state) -> list[FlagOut]:  # type: ignore[no-untyped-def]
    """Every flag set so far, and the known ones (`veza.controls.features`) at their default
    (on) until they are; a known flag set without a description shows the known one."""
    out = {name: _flag(f) for name, f in state.flags.items()}
    for name, feature in features.KNOWN.items():
        if name not in out:
            out[name] = FlagOut(name=name, enabled=True, description=feature.description, updated_at=None)
        elif not out[name].description:
            out[name].description = feature.description
    return [out[name] for name in sorted(out)]


def _maintenance(state) -> MaintenanceOut:  # type: ignore[no-untyped-def]
    never_set = state.updated_at.year == 1970
    return MaintenanceOut(enabled=state.enabled, message=state.message, retry_after=state.retry_after,
                          updated_at=None if never_set else state.updated_at)


@router.get("/admin/feature-flags", response=FlagList, roles=("admin",), scope="admin",
            summary="List all feature flags, the known ones (registrations, uploads, marketplace, live, chat) "
                    "included before they are first set (admin)")
async def list_flags(request: web.Request, principal: Principal) -> web.Response:
    flags = _flags(request.app[keys.platform_state])
    return ok(FlagList(flags=flags, total=len(flags)))


@router.put("/admin/feature-flags/{name}", body=FlagIn, response=FlagOut, roles=("admin",), scope="admin",
            path_schemas={"name": {"type": "string", "pattern": f"^{platform.FLAG_NAME.pattern}$"}},
            summary="Turn a feature flag on or off (admin); reaches every node")
async def put_flag(request: web.Request, body: FlagIn, principal: Principal) -> web.Response:
    name = request.match_info["name"]
    platform.check_flag_name(name)
    flag = await request.app[keys.control_plane].set_flag(name, body.enabled, body.description, principal.user_id)
    return ok(_flag(flag))


@router.get("/admin/maintenance", response=MaintenanceOut, roles=("admin",), scope="admin",
            summary="Current maintenance mode status (admin)")
async def get_maintenance(request: web.Request, principal: Principal) -> web.Response:
    return ok(_maintenance(request.app[keys.platform_state].maintenance))


@router.put("/admin/maintenance", body=MaintenanceIn, response=MaintenanceOut, roles=("admin",), scope="admin",
            summary="Turn maintenance mode on or off (admin); persisted and propagated to every node")
async def put_maintenance(request: web.Request, body: MaintenanceIn, principal: Principal) -> web.Response:
    platform.check_maintenance_message(body.message)
    state = await request.app[keys.control_plane].set_maintenance(body.enabled, body.message, body.retry_after,
                                                                  principal.user_id)
    return ok(_maintenance(state))


@router.get("/admin/audit", query=AuditQuery, response=AuditList, roles=("admin",), scope="admin",
            summary="Read the audit trail (admin, paginated, filtered)")
async def audit_log(request: web.Request, query: AuditQuery, principal: Principal) -> web.Response:
    for field in ("since", "until"):
        value = getattr(query, field)
        if value is not None and value.tzinfo is None:
            name = "from" if field == "since" else "to"
            raise BadRequest(f"Invalid query parameter '{name}': needs a timezone", details={name: "needs a timezone"})
    async with request.app[keys.db].connection() as conn:
        rows, total = await audit_store.search(conn, user_id=query.user_id, action=query.action, resource=query.resource,
                                               status=query.status, since=query.since, until=query.until,
                                               limit=query.limit, offset=query.offset)
    entries = [AuditEntryOut(**{f: r[f] for f in AuditEntryOut.__struct_fields__}) for r in rows]
    return ok(AuditList(entries=entries, total=total, limit=query.limit, offset=query.offset))
