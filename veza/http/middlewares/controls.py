"""The platform controls of every request, in one middleware layer (each layer costs a
coroutine per request, and these run on every call):

1. privacy: Sec-GPC -> `keys.do_not_sell`
2. rate limits (`rate_limit.check`): 429, or X-RateLimit-* headers for the response
3. maintenance (`maintenance.check`, only while it is on): 503 for non-admins
4. audit (`veza.controls.audit`): POST/PUT/PATCH/DELETE recorded after the handler,
   refusals (429, 503) included, handed to the AuditLog actor without awaiting it

Sits inside the error middleware: refusals are raised as ApiErrors, and the status of an
error is read from the exception it carries.
"""

from __future__ import annotations

from aiohttp import web

from veza.controls.audit import audited, record
from veza.http.errors import ApiError
from veza.http.middlewares import maintenance, privacy, rate_limit


def _add_headers(target: web.StreamResponse | ApiError | web.HTTPException, headers: dict[str, str]) -> None:
    for name, value in headers.items():
        target.headers.setdefault(name, value)


@web.middleware
async def controls_middleware(request: web.Request, handler):  # type: ignore[no-untyped-def]
    privacy.mark(request)
    status, limit_headers = 500, None
    try:
        limit_headers = rate_limit.check(request)
        if maintenance.active(request):
            await maintenance.check(request)
        response = await handler(request)
        status = response.status
    except (ApiError, web.HTTPException) as exc:
        status = exc.status
        if limit_headers:
            _add_headers(exc, limit_headers)
        raise
    finally:
        if audited(request):
            record(request, status)
    if limit_headers and not response.prepared:
        response.headers.update(limit_headers)
    return response
