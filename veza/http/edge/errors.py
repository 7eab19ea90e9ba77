"""Every failure leaves as an envelope: ApiErrors with their code, aiohttp's own HTTP
errors (404, 405, 413, ...) mapped by status, anything else a 500 with the request id
and the traceback in the log only."""

from __future__ import annotations

import logging

from aiohttp import web

from protocols.errors import CODE_FOR_STATUS, ErrorCode
from veza.http.envelope import error_response
from veza.http.errors import ApiError

log = logging.getLogger("veza.http")

_MESSAGES = {
    404: "Route not found",
    405: "Method not allowed",
    413: "Request body too large",
}
_KEPT_HEADERS = frozenset({"allow", "retry-after", "www-authenticate"})


def from_api_error(exc: ApiError, request_id: str) -> web.Response:
    return error_response(exc.status, exc.code, exc.message, details=exc.details, request_id=request_id,
                          headers=exc.headers)


def from_http_exception(exc: web.HTTPException, request_id: str) -> web.Response:
    """aiohttp's own 4xx/5xx (call only for status >= 400: redirects pass through)."""
    code = CODE_FOR_STATUS.get(exc.status, ErrorCode.INVALID if exc.status < 500 else ErrorCode.INTERNAL)
    headers = {k: v for k, v in exc.headers.items() if k.lower() in _KEPT_HEADERS}
    message = _MESSAGES.get(exc.status) or exc.reason
    return error_response(exc.status, code, message, request_id=request_id, headers=headers)


def internal(request: web.Request, request_id: str) -> web.Response:
    """An unexpected exception (call from an except block: the traceback goes to the log)."""
    log.exception("unhandled error in %s %s", request.method, request.path)
    return error_response(500, ErrorCode.INTERNAL, "Internal server error", request_id=request_id)
