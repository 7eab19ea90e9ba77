"""Security headers of the reference on every response (HSTS only in production), and a
`Server` header that names no versions.

Two sets, by what the response is:
- JSON (the API): nothing in it is ever rendered, so the strictest short values (what
  OWASP's REST guidance recommends): no sources at all, no framing, no referrer, no
  powerful features;
- anything else (the pages under /static and /swagger): our own scripts only, and camera
  and microphone for this origin (the browser live studio publishes with WHIP).
"""

from __future__ import annotations

from multidict import CIMultiDict, istr

CSP = istr("Content-Security-Policy")
CONTENT_TYPE = istr("Content-Type")
JSON = "application/json"
_COMMON = {
    istr("X-Frame-Options"): "DENY",
    istr("X-Content-Type-Options"): "nosniff",
    # In place of aiohttp's "Python/3.11 aiohttp/3.x.y": no versions for scanners to match
    # against known flaws (OWASP's advice; nginx's `server_tokens off`).
    istr("Server"): "Veza",
}
_API = {
    CSP: "default-src 'none'; frame-ancestors 'none'",
    **_COMMON,
    istr("Referrer-Policy"): "no-referrer",
    istr("Permissions-Policy"): "camera=(), microphone=(), geolocation=()",
}
_PAGE = {
    CSP: ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
          "media-src 'self' blob:; connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'self'; "
          "form-action 'self'"),
    **_COMMON,
    istr("Referrer-Policy"): "strict-origin-when-cross-origin",
    istr("Permissions-Policy"): "camera=(self), microphone=(self), geolocation=(), payment=()",
}
_HSTS = {istr("Strict-Transport-Security"): "max-age=63072000; includeSubDomains"}


class SecurityHeaders:
    """Both sets, prebuilt, ready to `extend` a response's headers with in one call
    (`extra`: other headers every response carries, added in the same call). The edge
    picks `api` for JSON answers and `page` for the rest (`Edge.stamp_headers`)."""

    __slots__ = ("api", "page")

    def __init__(self, production: bool, extra: dict[istr, str] | None = None) -> None:
        always = {**(_HSTS if production else {}), **(extra or {})}
        self.api: CIMultiDict[str] = CIMultiDict({**_API, **always})
        self.page: CIMultiDict[str] = CIMultiDict({**_PAGE, **always})


def merge(headers: CIMultiDict[str], chosen: CIMultiDict[str]) -> None:
    """Add `chosen` to the headers of a handler that set its own policy, keeping all of its own."""
    for name, value in chosen.items():
        headers.setdefault(name, value)
