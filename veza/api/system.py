"""Status & System: GET /status, POST /validate, GET /csrf-token."""

from __future__ import annotations

import asyncio
import datetime as dt
import math
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import msgspec
from aiohttp import web

from veza import keys
from veza.http.auth import Principal
from veza.http.client_info import client_ip
from veza.http.envelope import ok
from veza.http.errors import RateLimited
from veza.http.routing import ApiRouter
from veza.security.csrf import HEADER as CSRF_HEADER
from veza.security.csrf import TTL as CSRF_TTL
from veza.store import users
from veza.validation import email_problems, password_problems, username_problems

router = ApiRouter("system")

ValidationType = Literal["email", "username", "password", "username_available", "email_available"]


class ValidateIn(msgspec.Struct, forbid_unknown_fields=True):
    type: ValidationType
    value: Annotated[str, msgspec.Meta(max_length=512)]


class ValidateOut(msgspec.Struct):
    type: str
    valid: bool
    errors: list[str]
    available: bool | None = None
    strength: str | None = None


class CsrfOut(msgspec.Struct):
    csrf_token: str
    header: str
    expires_in: int


class StatusOut(msgspec.Struct):
    status: str
    timestamp: dt.datetime
    components: dict[str, Any]


def _strength(value: str, problems: list[str]) -> str:
    if problems:
        return "weak"
    return "strong" if len(value) >= 12 else "medium"


async def _check_rate(request: web.Request) -> None:
    settings = request.app[keys.settings]
    try:
        (window,) = await request.app[keys.counters].hit(("validate:" + client_ip(request),), settings.validate_rate_window)
    except Exception:  # the store being down must not break validation
        return
    if window.count > settings.validate_rate_limit:
        retry = str(max(1, math.ceil(window.reset_in)))
        raise RateLimited("Too many validation requests", headers={"Retry-After": retry},
                          details={"limit": settings.validate_rate_limit, "window_seconds": settings.validate_rate_window})


@router.post("/validate", body=ValidateIn, response=ValidateOut, summary="Validate an email, username or password")
async def validate(request: web.Request, body: ValidateIn) -> web.Response:
    await _check_rate(request)
    value = body.value.strip() if body.type != "password" else body.value
    if body.type == "password":
        errors = password_problems(value)
        return ok(ValidateOut(type=body.type, valid=not errors, errors=errors, strength=_strength(value, errors)))
    checker = email_problems if body.type.startswith("email") else username_problems
    errors = checker(value)
    if not body.type.endswith("_available"):
        return ok(ValidateOut(type=body.type, valid=not errors, errors=errors))
    available = None
    if not errors:
        taken = users.email_taken if body.type == "email_available" else users.username_taken
        async with request.app[keys.db].connection() as conn:
            available = not await taken(conn, value)
        if not available:
            errors = ["already taken"]
    return ok(ValidateOut(type=body.type, valid=not errors, errors=errors, available=available))


@router.get("/csrf-token", response=CsrfOut, auth="optional", summary="Get a CSRF token for cookie-authenticated requests")
async def csrf_token(request: web.Request, principal: Principal | None) -> web.Response:
    csrf = request.app[keys.csrf]
    token = csrf.issue()
    response = ok(CsrfOut(csrf_token=token, header=CSRF_HEADER, expires_in=CSRF_TTL))
    csrf.set_cookie(response, token, secure=request.app[keys.settings].production)
    return response


def _component(checks: dict[str, dict[str, Any]], *names: str, missing: str) -> dict[str, Any]:
    for name in names:
        if name in checks:
            return checks[name]
    return {"status": missing}


async def _rtmp_reachable(url: str) -> dict[str, Any]:
    """Can this node open a TCP connection to the media server's RTMP port?"""
    parts = urlsplit(url)
    host, port = parts.hostname or "localhost", parts.port or 1935
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout=1.0)
    except (OSError, TimeoutError) as exc:
        return {"status": "unreachable", "rtmp": f"{host}:{port}", "error": type(exc).__name__}
    writer.close()
    return {"status": "ok", "rtmp": f"{host}:{port}"}


def _chat(app: web.Application) -> dict[str, Any]:
    hub = app.get(keys.hub)
    has_ws = any(r.resource is not None and r.resource.canonical == "/api/v1/ws" for r in app.router.routes())
    if hub is None or not has_ws:
        return {"status": "not_available"}
    return {"status": "ok", "connections": len(hub.connections())}


@router.get("/status", response=StatusOut, summary="Platform status: database, Redis, chat and stream ingest")
async def status(request: web.Request) -> web.Response:
    app = request.app
    (overall, checks), rtmp = await asyncio.gather(app[keys.health_checks].run_all(),
                                                   _rtmp_reachable(app[keys.settings].live_rtmp_url))
    components: dict[str, Any] = dict(checks)
    components["database"] = checks.get("database", {"status": "error", "error": "no database check"})
    redis_missing = "not_configured" if app[keys.settings].redis_url is None else "unknown"
    components["redis"] = _component(checks, "redis", "rate_limit_store", missing=redis_missing)
    broker = app.get(keys.broker)
    components["broker"] = {"status": "ok" if broker is not None and broker.healthy else "error",
                            "kind": type(broker).__name__ if broker is not None else None}
    components["chat"] = _chat(app)
    # RTMP goes through the media server; WHIP ingest is served by this node itself.
    components["stream_ingest"] = {**rtmp, "whip": "ok" if keys.webrtc in app else "not_available"}
    summary = {"healthy": "ok", "degraded": "degraded", "unhealthy": "down"}[overall]
    if summary == "ok" and rtmp["status"] != "ok":
        summary = "degraded"
    body = StatusOut(status=summary, timestamp=dt.datetime.now(dt.UTC).replace(microsecond=0), components=components)
    return ok(body, status=503 if overall == "unhealthy" else 200)
