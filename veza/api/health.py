"""Health, readiness, status, metrics and the API's own documentation."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from veza import keys
from veza.http.envelope import encode, ok
from veza.http.routing import ApiRouter

router = ApiRouter("health")


class HealthOut(msgspec.Struct):
    status: str


class DeepHealthOut(msgspec.Struct):
    status: str
    timestamp: dt.datetime
    checks: dict[str, Any]
    config: dict[str, Any]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def config_summary(app: web.Application) -> dict[str, Any]:
    settings = app[keys.settings]
    summary: dict[str, Any] = {
        "jwt_secret_set": settings.jwt_secret_set,
        "app_env": settings.app_env,
        "redis_configured": settings.redis_url is not None,
    }
    summary.update(app.get(keys.config_summary_extra, {}))
    return summary


@router.get("/health", response=HealthOut, aliases=("/health",), summary="Simple health check (always OK)")
async def health(request: web.Request) -> web.Response:
    return ok(HealthOut(status="ok"))


@router.get("/health/deep", response=DeepHealthOut, aliases=("/health/deep",),
            summary="Deep health check (database, Redis, disk, config summary)")
async def health_deep(request: web.Request) -> web.Response:
    overall, checks = await request.app[keys.health_checks].run_all()
    body = DeepHealthOut(status=overall, timestamp=_now(), checks=checks, config=config_summary(request.app))
    return ok(body, status=503 if overall == "unhealthy" else 200)


@router.get("/healthz", response=HealthOut, aliases=("/healthz",), summary="Liveness probe")
async def healthz(request: web.Request) -> web.Response:
    return ok(HealthOut(status="alive"))


@router.get("/readyz", response=DeepHealthOut, aliases=("/readyz",),
            summary="Readiness probe: ready, degraded or not_ready")
async def readyz(request: web.Request) -> web.Response:
    if request.app[keys.shutting_down].get("value"):
        overall, checks = "not_ready", {"shutdown": {"status": "error", "error": "shutting down"}}
    else:
        overall, checks = await request.app[keys.health_checks].run_all()
        overall = {"healthy": "ready", "degraded": "degraded", "unhealthy": "not_ready"}[overall]
    body = DeepHealthOut(status=overall, timestamp=_now(), checks=checks, config={})
    return ok(body, status=503 if overall == "not_ready" else 200)


@router.get("/metrics", aliases=("/metrics",), produces=CONTENT_TYPE_LATEST, summary="Prometheus metrics")
async def metrics(request: web.Request) -> web.Response:
    registry = request.app[keys.metrics_registry]
    for refresh in request.app.get(keys.metric_refreshers, []):
        refresh()
    return web.Response(body=generate_latest(registry), headers={"Content-Type": CONTENT_TYPE_LATEST})


@router.get("/openapi.json", include_in_schema=False)
async def openapi_document(request: web.Request) -> web.Response:
    """The OpenAPI 3 document of every declared route."""
    doc = request.app[keys.openapi].document(server_url="/")
    return web.Response(body=encode(doc), content_type="application/json")
