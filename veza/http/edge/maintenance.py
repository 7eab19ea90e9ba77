"""Maintenance mode: non-admin requests answer 503 (envelope + Retry-After) while it is on.

Open during maintenance: health probes and metrics, `/api/v1/admin/*` (its own role
checks still apply), the session routes (login, refresh with its CSRF token, logout: so
admins can sign in and stay signed in, and anyone can sign out), Swagger and static
pages. Admins pass everywhere. When off, the cost is one attribute read (`RequestControls.state.maintenance.enabled`);
whether a route is closed is decided once per route (`RoutePolicy.closable`).
"""

from __future__ import annotations

from aiohttp import web

from veza import keys
from veza.http.auth import get_principal
from veza.http.errors import ApiError, Unavailable

OPEN_PREFIXES = (
    "/health", "/readyz", "/metrics", "/swagger", "/static/",
    "/api/v1/health", "/api/v1/readyz", "/api/v1/metrics", "/api/v1/admin/",
    "/api/v1/auth/login", "/api/v1/auth/refresh", "/api/v1/auth/logout", "/api/v1/csrf-token",
    "/api/v1/webhooks/",  # payment events carry money: they land whatever the maintenance
)


def applies_to(path: str) -> bool:
    """The path is closed during maintenance (health, admin, login... stay open)."""
    return not path.startswith(OPEN_PREFIXES)


async def check(request: web.Request) -> None:
    """Raise 503 unless the caller is an admin (call only when it is on and the route is closable)."""
    state = request.app[keys.platform_state].maintenance
    try:
        principal = await get_principal(request)
    except ApiError:  # a bad token is not an admin
        principal = None
    if principal is not None and principal.is_admin:
        return
    raise Unavailable(state.message, details={"maintenance": True, "retry_after_seconds": state.retry_after},
                      headers={"Retry-After": str(state.retry_after)})
