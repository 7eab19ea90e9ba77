"""CORS for the origins in ALLOWED_ORIGINS ("*" allows any origin without credentials)."""

from __future__ import annotations

from aiohttp import web

from protocols.errors import ErrorCode
from veza import keys
from veza.http.envelope import error_response

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
            # In the envelope like every other refusal; no Allow-Origin, so the browser blocks it.
            return error_response(403, ErrorCode.FORBIDDEN, "CORS origin not allowed",
                                  details={"origin": origin or "missing"}, request_id=request.get(keys.request_id))
        response: web.StreamResponse = web.Response(status=204)
        response.headers["Access-Control-Allow-Methods"] = _ALLOW_METHODS
        response.headers["Access-Control-Allow-Headers"] = _ALLOW_HEADERS
        response.headers["Access-Control-Max-Age"] = "600"
    else:
        response = await handler(request)
        if response.prepared:  # a WebSocket or stream already sent its headers
            return response
    # Caches must not serve one origin's answer to another.
    response.headers.add("Vary", "Origin")
    if _allowed(origin, allowed):
        response.headers["Access-Control-Allow-Origin"] = origin
        if "*" not in allowed:
            response.headers["Access-Control-Allow-Credentials"] = "true"
        response.headers["Access-Control-Expose-Headers"] = _EXPOSE
    return response
