"""DDoS rate limiting (SEC1-04): a global and a per-IP fixed window per request.

Health, metrics, Swagger and auth endpoints are not limited here (`is_exempt`, decided
once per route; auth has its own brute-force guard). Every limited response carries
X-RateLimit-Limit/-Remaining; a refused one is a 429 envelope with Retry-After. Counting
is in memory and never awaited (`veza.security.rate_windows`: Redis sharing happens in
the background).
"""

from __future__ import annotations

import math
import time

from multidict import istr

from veza.http.errors import RateLimited
from veza.security.rate_windows import GLOBAL, LocalWindows

EXEMPT_PREFIXES = (
    "/health", "/readyz", "/metrics", "/swagger",
    "/api/v1/health", "/api/v1/readyz", "/api/v1/metrics", "/api/v1/auth/",
)
LIMIT, REMAINING = istr("X-RateLimit-Limit"), istr("X-RateLimit-Remaining")


def is_exempt(path: str) -> bool:
    return path.startswith(EXEMPT_PREFIXES)


class RateLimit:
    """The limiter of one app: its windows and limits."""

    __slots__ = ("windows", "per_ip", "total", "window", "limit_header")

    def __init__(self, windows: LocalWindows, *, per_ip: int, total: int, window: float) -> None:
        self.windows, self.per_ip, self.total, self.window = windows, per_ip, total, window
        self.limit_header = str(per_ip)

    def check(self, ip: str) -> tuple[str, str]:
        """Count a request from `ip`; raise 429 over a limit; else the values of
        X-RateLimit-Limit and -Remaining for the response."""
        now = time.monotonic()
        total, per_ip = self.windows.count("ip:" + ip, now)
        if per_ip > self.per_ip or total > self.total:
            raise self._refusal(ip, per_ip > self.per_ip, now)
        left, left_total = self.per_ip - per_ip, self.total - total
        return self.limit_header, str(left if left < left_total else left_total)

    def current(self, ip: str) -> tuple[str, str]:
        """The X-RateLimit-* values of a request from `ip` already counted (for answers whose
        handler sends the headers itself, before the edge has them)."""
        total, per_ip = self.windows.peek("ip:" + ip, time.monotonic())
        return self.limit_header, str(max(0, min(self.per_ip - per_ip, self.total - total)))

    def _refusal(self, ip: str, by_ip: bool, now: float) -> RateLimited:
        retry = max(1, math.ceil(self.windows.reset_in("ip:" + ip if by_ip else GLOBAL, now)))
        limit = self.per_ip if by_ip else self.total  # the limit that refused it, in body and header
        return RateLimited("Too many requests, slow down",
                           details={"scope": "ip" if by_ip else "global", "limit": limit,
                                    "window_seconds": self.window, "retry_after_seconds": retry},
                           headers={LIMIT: str(limit), REMAINING: "0", "Retry-After": str(retry)})
