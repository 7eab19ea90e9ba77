"""CSRF protection for requests the browser authenticates on its own (the refresh cookie).

Signed double submit: `GET /csrf-token` returns a token and sets the same value in an
HttpOnly, SameSite=Strict cookie. A request that relies on the refresh cookie must echo
the token in `X-CSRF-Token`; it must match the cookie and carry our HMAC, so a cookie
planted by a sibling subdomain is not enough. Bearer and API-key requests cannot be
forged cross-site (a page cannot set those headers), so they need no token.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

from aiohttp import web

from veza.http.auth import bearer_token
from veza.http.errors import Forbidden
from veza.security.api_keys import HEADER as API_KEY_HEADER
from veza.security.api_keys import KEY_PREFIX

COOKIE = "csrf_token"
HEADER = "X-CSRF-Token"
TTL = 24 * 3600


class CsrfTokens:
    def __init__(self, secret: str) -> None:
        self._key = hashlib.sha256(b"veza-csrf:" + secret.encode()).digest()

    def _sign(self, body: str) -> str:
        return hmac.new(self._key, _raw(body), hashlib.sha256).hexdigest()[:32]

    def issue(self, now: float | None = None) -> str:
        body = f"{secrets.token_urlsafe(18)}.{int((now or time.time()) + TTL)}"
        return f"{body}.{self._sign(body)}"

    def valid(self, token: str, now: float | None = None) -> bool:
        body, _, sig = token.rpartition(".")
        _, _, expires = body.partition(".")
        if not body or not expires.isdigit() or not hmac.compare_digest(_raw(sig), _raw(self._sign(body))):
            return False
        return int(expires) > (now or time.time())

    def set_cookie(self, response: web.StreamResponse, token: str, *, secure: bool) -> None:
        response.set_cookie(COOKIE, token, max_age=TTL, path="/api/v1", httponly=True, samesite="Strict", secure=secure)

    def require(self, request: web.Request) -> None:
        header = request.headers.get(HEADER, "")
        cookie = request.cookies.get(COOKIE, "")
        if not header:
            raise Forbidden("CSRF token required for cookie-authenticated requests",
                            details={HEADER: "missing; fetch one from GET /api/v1/csrf-token"})
        if not cookie or not hmac.compare_digest(_raw(header), _raw(cookie)) or not self.valid(header):
            raise Forbidden("CSRF token invalid", details={HEADER: "does not match the csrf_token cookie or expired"})


def _raw(text: str) -> bytes:
    # compare_digest raises TypeError on a non-ASCII str; headers that were not UTF-8 arrive
    # with surrogate escapes, which a plain encode() refuses.
    return text.encode("utf-8", "surrogateescape")


def header_authenticated(request: web.Request) -> bool:
    """True when the request carries a credential a cross-site page cannot send.

    Only the credentials authentication accepts count (a Bearer token, an API key): a junk
    `Authorization` header authenticates nothing, so it must not waive the check.
    """
    return bearer_token(request) is not None or request.headers.get(API_KEY_HEADER, "").strip().startswith(KEY_PREFIX)
