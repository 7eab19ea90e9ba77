"""Request counts and latency by route template (not raw path, to bound label cardinality)."""

from __future__ import annotations

import time

from aiohttp import web

from veza import keys


def _route_label(request: web.Request) -> str:
    resource = request.match_info.route.resource
    if resource is None:
        return "unmatched"
    return resource.canonical


@web.middleware
async def metrics_middleware(request: web.Request, handler):  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        request.app[keys.metrics].observe_request(request.method, _route_label(request), status,
                                                  time.perf_counter() - started)
