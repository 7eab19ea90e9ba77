"""Security headers of the reference on every response (HSTS only in production)."""

from __future__ import annotations

from aiohttp import web

from veza import keys

# Pages under /static and /swagger load only our own scripts; the API answers JSON.
_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "media-src 'self' blob:; connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)
_BASE = {
    "Content-Security-Policy": _CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Permissions-Policy": "camera=(self), microphone=(self), geolocation=(), payment=()",
}
_HSTS = "max-age=63072000; includeSubDomains"


def _apply(response: web.StreamResponse, production: bool) -> None:
    for name, value in _BASE.items():
        response.headers.setdefault(name, value)
    if production:
        response.headers.setdefault("Strict-Transport-Security", _HSTS)


async def on_prepare(request: web.Request, response: web.StreamResponse) -> None:
    """Runs for every response, streamed or not, including WebSocket upgrades and errors."""
    _apply(response, request.app[keys.settings].production)
