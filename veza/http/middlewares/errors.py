"""Every failure leaves as an envelope: ApiErrors with their code, aiohttp's own HTTP
errors (404, 405, 413, ...) mapped by status, anything else a 500 with the request id
and the traceback in the log only."""

from __future__ import annotations

import logging

from aiohttp import web

from protocols.errors import CODE_FOR_STATUS, ErrorCode
from veza import keys
from veza.http.envelope import error_response
from veza.http.errors import ApiError

log = logging.getLogger("veza.http")

_MESSAGES = {
    404: "Route not found",
    405: "Method not allowed",
    413: "Request body too large",
}


@web.middleware
async def error_middleware(request: web.Request, handler):  # type: ignore[no-untyped-def]
    rid = request.get(keys.request_id)
    try:
        return await handler(request)
    except ApiError as exc:
        return error_response(exc.status, exc.code, exc.message, details=exc.details, request_id=rid, headers=exc.headers)
    except web.HTTPException as exc:
        if exc.status < 400:  # redirects pass through
            raise
        code = CODE_FOR_STATUS.get(exc.status, ErrorCode.INVALID if exc.status < 500 else ErrorCode.INTERNAL)
        headers = {k: v for k, v in exc.headers.items() if k.lower() in {"allow", "retry-after", "www-authenticate"}}
        message = _MESSAGES.get(exc.status) or exc.reason
        return error_response(exc.status, code, message, request_id=rid, headers=headers)
    except Exception:
        log.exception("unhandled error in %s %s", request.method, request.path)
        return error_response(500, ErrorCode.INTERNAL, "Internal server error", request_id=rid)
