"""CORS for the origins in ALLOWED_ORIGINS ("*" allows any origin without credentials)."""

from __future__ import annotations

from aiohttp import web

from veza import keys

_ALLOW_HEADERS = "Authorization, Content-Type, X-API-Key, X-CSRF-Token, X-Request-ID"
_ALLOW_METHODS = "GET, POST, PUT, PATCH, DELETE, OPTIONS"
_EXPOSE = "X-Request-ID, X-RateLimit-Limit, X-RateLimit-Remaining, Retry-After, Location"


def _allowed(origin: str, allowed: tuple[str, ...]) -> bool:
    return bool(origin) and (origin in allowed or "*" in allowed)


@web.middleware
async def cors_middleware(request: web.Request, handler):  # type: ignore[no-untyped-def]
    allowed = request.app[keys.settings].allowed_origins
    origin = request.headers.get("Origin", "")
    preflight = request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers
    if preflight:
        if not _allowed(origin, allowed):
            return web.Response(status=403, text="CORS origin not allowed")
        response: web.StreamResponse = web.Response(status=204)
        response.headers["Access-Control-Allow-Methods"] = _ALLOW_METHODS
        response.headers["Access-Control-Allow-Headers"] = _ALLOW_HEADERS
        response.headers["Access-Control-Max-Age"] = "600"
    else:
        response = await handler(request)
    if _allowed(origin, allowed):
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Vary"] = "Origin"
        if "*" not in allowed:
            response.headers["Access-Control-Allow-Credentials"] = "true"
        response.headers["Access-Control-Expose-Headers"] = _EXPOSE
    return response
