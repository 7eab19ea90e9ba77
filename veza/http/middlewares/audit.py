"""Audit every POST/PUT/PATCH/DELETE (user, action, resource, IP, status, request id).

Sits inside the error middleware, so the status of an error is read from the exception
it carries; the entry is handed to the AuditLog actor after the handler, never awaited.
"""

from __future__ import annotations

from aiohttp import web

from veza.controls.audit import audited, record
from veza.http.errors import ApiError


@web.middleware
async def audit_middleware(request: web.Request, handler):  # type: ignore[no-untyped-def]
    if not audited(request):
        return await handler(request)
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except (ApiError, web.HTTPException) as exc:
        status = exc.status
        raise
    finally:
        record(request, status)
