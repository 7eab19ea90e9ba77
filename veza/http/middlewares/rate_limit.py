"""DDoS rate limiting (SEC1-04): a global and a per-IP fixed window, one counter call per request.

Health, metrics, Swagger and auth endpoints are not limited here (auth has its own
brute-force guard). Every limited response carries X-RateLimit-Limit/-Remaining; a
refused one is a 429 envelope with Retry-After. Counting is in memory, never awaited
(`veza.security.rate_windows`: Redis sharing happens in the background).
"""

from __future__ import annotations

import math
import time

from aiohttp import web

from veza import keys
from veza.http.client_info import client_ip
from veza.http.errors import ApiError, RateLimited

EXEMPT_PREFIXES = (
    "/health", "/readyz", "/metrics", "/swagger",
    "/api/v1/health", "/api/v1/readyz", "/api/v1/metrics", "/api/v1/auth/",
)


def is_exempt(path: str) -> bool:
    return path.startswith(EXEMPT_PREFIXES)


def _add_headers(target: web.StreamResponse | ApiError | web.HTTPException, headers: dict[str, str]) -> None:
    for name, value in headers.items():
        target.headers.setdefault(name, value)


@web.middleware
async def rate_limit_middleware(request: web.Request, handler):  # type: ignore[no-untyped-def]
    settings = request.app[keys.settings]
    if not settings.rate_limit_enabled or is_exempt(request.path):
        return await handler(request)
    windows, now = request.app[keys.rate_windows], time.monotonic()
    total, total_reset = windows.hit("global", now)
    per_ip, ip_reset = windows.hit("ip:" + client_ip(request), now)
    limit, global_limit = settings.rate_limit_per_ip, settings.rate_limit_global
    remaining = max(0, min(limit - per_ip, global_limit - total))
    headers = {"X-RateLimit-Limit": str(limit), "X-RateLimit-Remaining": str(remaining)}
    if per_ip > limit or total > global_limit:
        scope = "ip" if per_ip > limit else "global"
        headers["Retry-After"] = str(max(1, math.ceil(ip_reset if scope == "ip" else total_reset)))
        raise RateLimited("Too many requests, slow down",
                          details={"scope": scope, "limit": limit if scope == "ip" else global_limit,
                                   "window_seconds": settings.rate_limit_window},
                          headers=headers)
    try:
        response = await handler(request)
    except (ApiError, web.HTTPException) as exc:
        _add_headers(exc, headers)
        raise
    if not response.prepared:
        _add_headers(response, headers)
    return response
