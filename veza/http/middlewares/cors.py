"""CORS for the origins in ALLOWED_ORIGINS ("*" allows any origin without credentials)."""

from __future__ import annotations

from aiohttp import web

from protocols.errors import ErrorCode
from veza.http.envelope import error_response

_ALLOW_HEADERS = "Authorization, Content-Type, X-API-Key, X-CSRF-Token, X-Request-ID"
_ALLOW_METHODS = "GET, POST, PUT, PATCH, DELETE, OPTIONS"
_EXPOSE = "X-Request-ID, X-RateLimit-Limit, X-RateLimit-Remaining, Retry-After, Location"


def _allowed(origin: str | None, allowed: tuple[str, ...]) -> bool:
    return bool(origin) and (origin in allowed or "*" in allowed)


def is_preflight(request: web.Request) -> bool:
    return request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers


def preflight(request: web.Request, allowed: tuple[str, ...], request_id: str) -> web.Response:
    origin = request.headers.get("Origin", "")
    if not _allowed(origin, allowed):
        # In the envelope like every other refusal; no Allow-Origin, so the browser blocks it.
        response = error_response(403, ErrorCode.FORBIDDEN, "CORS origin not allowed",
                                  details={"origin": origin or "missing"}, request_id=request_id)
    else:
        response = web.Response(status=204)
        response.headers["Access-Control-Allow-Methods"] = _ALLOW_METHODS
        response.headers["Access-Control-Allow-Headers"] = _ALLOW_HEADERS
        response.headers["Access-Control-Max-Age"] = "600"
    apply(request, response, allowed)
    return response


def apply(request: web.Request, response: web.StreamResponse, allowed: tuple[str, ...]) -> None:
    """The CORS headers of an answer (not for responses whose headers are already sent)."""
    # Caches must not serve one origin's answer to another.
    response.headers.add("Vary", "Origin")
    origin = request.headers.get("Origin")
    if _allowed(origin, allowed):
        response.headers["Access-Control-Allow-Origin"] = origin
        if "*" not in allowed:
            response.headers["Access-Control-Allow-Credentials"] = "true"
        response.headers["Access-Control-Expose-Headers"] = _EXPOSE
