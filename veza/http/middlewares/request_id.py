"""X-Request-ID: echo a sane client id or mint one; it rides in every log line."""

from __future__ import annotations

import re
import uuid

from aiohttp import web

from veza import keys
from veza.logging_setup import request_id_var

HEADER = "X-Request-ID"
_SAFE = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")


@web.middleware
async def request_id_middleware(request: web.Request, handler):  # type: ignore[no-untyped-def]
    incoming = request.headers.get(HEADER, "")
    rid = incoming if _SAFE.match(incoming) else uuid.uuid4().hex
    request[keys.request_id] = rid
    token = request_id_var.set(rid)
    try:
        return await handler(request)
    finally:
        request_id_var.reset(token)


async def on_prepare(request: web.Request, response: web.StreamResponse) -> None:
    """Stamp the id when headers go out: also covers WebSocket handshakes and streams,
    whose headers are sent before the middleware sees the response."""
    rid = request.get(keys.request_id)
    if rid is not None:
        response.headers[HEADER] = rid
