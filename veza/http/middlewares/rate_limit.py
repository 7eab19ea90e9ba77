"""DDoS rate limiting (SEC1-04): a global and a per-IP fixed window per request.

Health, metrics, Swagger and auth endpoints are not limited here (auth has its own
brute-force guard). Every limited response carries X-RateLimit-Limit/-Remaining; a
refused one is a 429 envelope with Retry-After. Counting is in memory and never awaited
(`veza.security.rate_windows`: Redis sharing happens in the background).

`check` is called by the platform controls (`controls.py`) from the edge middleware.
"""

from __future__ import annotations

import math
import time

from aiohttp import web
from multidict import istr

from veza.http.client_info import client_ip
from veza.http.errors import RateLimited
from veza.security.rate_windows import LocalWindows

EXEMPT_PREFIXES = (
    "/health", "/readyz", "/metrics", "/swagger",
    "/api/v1/health", "/api/v1/readyz", "/api/v1/metrics", "/api/v1/auth/",
)


def is_exempt(path: str) -> bool:
    return path.startswith(EXEMPT_PREFIXES)


class RateLimit:
    """The limiter of one app: its windows and limits, read with one lookup per request."""

    __slots__ = ("windows", "per_ip", "total", "window", "limit_header")

    def __init__(self, windows: LocalWindows, *, per_ip: int, total: int, window: float) -> None:
        self.windows, self.per_ip, self.total, self.window = windows, per_ip, total, window
        self.limit_header = str(per_ip)


LIMIT, REMAINING = istr("X-RateLimit-Limit"), istr("X-RateLimit-Remaining")


def check(request: web.Request, limiter: RateLimit) -> tuple[str, str] | None:
    """Count the request; raise 429 over a limit; else the values of X-RateLimit-Limit and
    -Remaining for the response (None when the path is not limited)."""
    if request.path.startswith(EXEMPT_PREFIXES):
        return None
    now = time.monotonic()
    total, total_reset = limiter.windows.hit("global", now)
    per_ip, ip_reset = limiter.windows.hit("ip:" + client_ip(request), now)
    remaining = min(limiter.per_ip - per_ip, limiter.total - total)
    limits = (limiter.limit_header, str(remaining if remaining > 0 else 0))
    if per_ip > limiter.per_ip or total > limiter.total:
        headers = {LIMIT: limits[0], REMAINING: limits[1]}
        scope = "ip" if per_ip > limiter.per_ip else "global"
        headers["Retry-After"] = str(max(1, math.ceil(ip_reset if scope == "ip" else total_reset)))
        raise RateLimited("Too many requests, slow down",
                          details={"scope": scope, "limit": limiter.per_ip if scope == "ip" else limiter.total,
                                   "window_seconds": limiter.window},
                          headers=headers)
    return limits
