"""CORS for the origins in ALLOWED_ORIGINS ("*" allows any origin without credentials)."""

from __future__ import annotations

from aiohttp import web
from multidict import CIMultiDict, istr

from protocols.errors import ErrorCode
from veza.http.envelope import error_response

_ALLOW_HEADERS = "Authorization, Content-Type, X-API-Key, X-CSRF-Token, X-Request-ID"
_ALLOW_METHODS = "GET, POST, PUT, PATCH, DELETE, OPTIONS"
_EXPOSE = "X-Request-ID, X-RateLimit-Limit, X-RateLimit-Remaining, Retry-After, Location"
ALLOW_ORIGIN = istr("Access-Control-Allow-Origin")
ALLOW_CREDENTIALS = istr("Access-Control-Allow-Credentials")
EXPOSE_HEADERS = istr("Access-Control-Expose-Headers")
REQUEST_METHOD = istr("Access-Control-Request-Method")
VARY = istr("Vary")


def always(allowed: tuple[str, ...]) -> dict[istr, str]:
    """Headers every answer carries (the edge adds them with the security headers, in one
    call): with a list of origins, answers differ by Origin, and caches must not serve one
    origin's answer to another. With none, or with "*" (answered "*"), they do not."""
    return {VARY: "Origin"} if allowed and "*" not in allowed else {}


def _allowed(origin: str | None, allowed: tuple[str, ...]) -> bool:
    return bool(origin) and (origin in allowed or "*" in allowed)


def is_preflight(request: web.Request) -> bool:
    return request.method == "OPTIONS" and REQUEST_METHOD in request.headers


def preflight(request: web.Request, allowed: tuple[str, ...], request_id: str) -> web.Response:
    """The answer to a preflight (the edge adds the headers every answer carries)."""
    origin = request.headers.get("Origin", "")
    if not _allowed(origin, allowed):
        # In the envelope like every other refusal; no Allow-Origin, so the browser blocks it.
        return error_response(403, ErrorCode.FORBIDDEN, "CORS origin not allowed",
                              details={"origin": origin or "missing"}, request_id=request_id)
    response = web.Response(status=204)
    response.headers["Access-Control-Allow-Methods"] = _ALLOW_METHODS
    response.headers["Access-Control-Allow-Headers"] = _ALLOW_HEADERS
    response.headers["Access-Control-Max-Age"] = "600"
    return response


def allow(origin: str, headers: CIMultiDict[str], allowed: tuple[str, ...]) -> None:
    """The CORS headers of an answer to a request from `origin`, if that origin is allowed."""
    if "*" in allowed:  # any origin, never with credentials
        headers[ALLOW_ORIGIN] = "*"
    elif origin in allowed:
        headers[ALLOW_ORIGIN] = origin
        headers[ALLOW_CREDENTIALS] = "true"
    else:
        return
    headers[EXPOSE_HEADERS] = _EXPOSE
