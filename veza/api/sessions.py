"""The caller's sessions: list, logout one, logout all, refresh (Sessions section)."""

from __future__ import annotations

import datetime as dt
from uuid import UUID

import msgspec
from aiohttp import web

from veza import keys
from veza.api.auth import AuthOut, RefreshIn, auth_response, presented_refresh_token, refresh_rules
from veza.http.auth import Principal
from veza.http.envelope import ok
from veza.http.errors import Unauthorized
from veza.http.routing import ApiRouter
from veza.domain.sessions import log_out, refresh_session
from veza.store import sessions

router = ApiRouter("sessions")


class SessionOut(msgspec.Struct):
    id: UUID
    user_agent: str
    ip_address: str
    created_at: dt.datetime
    last_used_at: dt.datetime
    expires_at: dt.datetime
    current: bool


class SessionList(msgspec.Struct):
    sessions: list[SessionOut]
    total: int


class LogoutIn(msgspec.Struct):
    session_id: UUID | None = None


class LogoutAllIn(msgspec.Struct):
    keep_current: bool = False


class Revoked(msgspec.Struct):
    message: str
    revoked: int


@router.get("/sessions", response=SessionList, auth="required", summary="List active sessions for the current user")
async def list_sessions(request: web.Request, principal: Principal) -> web.Response:
    async with request.app[keys.db].connection() as conn:
        rows = await sessions.list_active(conn, principal.user_id)
    items = [SessionOut(current=row["id"] == principal.session_id, **row) for row in rows]
    return ok(SessionList(sessions=items, total=len(items)))


@router.post("/sessions/logout", body=LogoutIn, body_optional=True, response=Revoked, auth="required",
             summary="Logout one session (the current one by default)")
async def logout_session(request: web.Request, body: LogoutIn, principal: Principal) -> web.Response:
    async with request.app[keys.db].connection() as conn:
        target = await log_out(conn, principal.user_id, body.session_id or principal.session_id)
    await request.app[keys.session_events].revoked(principal.user_id, [target])
    return ok(Revoked(message="Session logged out", revoked=1))


@router.post("/sessions/logout-all", body=LogoutAllIn, body_optional=True, response=Revoked, auth="required",
             summary="Logout every session of the current user")
async def logout_all(request: web.Request, body: LogoutAllIn, principal: Principal) -> web.Response:
    keep = principal.session_id if body.keep_current else None
    async with request.app[keys.db].connection() as conn:
        count = await sessions.revoke_all(conn, principal.user_id, reason="logout_all", except_session=keep)
    await request.app[keys.session_events].revoked(principal.user_id, None, keep=keep)
    return ok(Revoked(message="Sessions logged out", revoked=count))


@router.post("/sessions/refresh", body=RefreshIn, body_optional=True, response=AuthOut, auth="required",
             summary="Rotate the current user's refresh token")
async def refresh_current(request: web.Request, body: RefreshIn, principal: Principal) -> web.Response:
    token = presented_refresh_token(request, body)
    if not token:
        raise Unauthorized("Refresh token required (body or cookie)")
    # Autocommit, not one transaction: a detected reuse must stay revoked after the 401.
    async with request.app[keys.db].connection() as conn:
        pair, user = await refresh_session(conn, request.app[keys.tokens], token, expected_user=principal.user_id,
                                           **refresh_rules(request))
    return auth_response(request, pair, user)
