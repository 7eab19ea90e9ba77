"""Serving a stored object over HTTP with single-range support (RFC 9110 section 14).

One range (`bytes=a-b`, `bytes=a-`, `bytes=-n`) answers 206 with Content-Range; a range
starting past the end answers 416 with `Content-Range: bytes */size`; several ranges or
a malformed header are ignored and the whole object is sent (both allowed by the RFC).
"""

from __future__ import annotations

import asyncio
import logging
import re

from aiohttp import web

from protocols.errors import ErrorCode
from veza.http.edge.edge import stamp
from veza.http.errors import ApiError
from veza.services.storage import Storage

log = logging.getLogger("veza.streaming")
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class RangeNotSatisfiable(ApiError):
    code = ErrorCode.RANGE_NOT_SATISFIABLE
    message = "Requested range not satisfiable"


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(start, end inclusive) of the one range asked for, or None for the whole object."""
    if not header:
        return None
    match = _RANGE.match(header.strip().replace(" ", ""))
    if match is None:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # suffix: the last n bytes
        length = int(last)
        if length == 0:
            raise RangeNotSatisfiable(headers={"Content-Range": f"bytes */{size}"})
        return max(0, size - length), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or (last and int(last) < start):
        raise RangeNotSatisfiable(headers={"Content-Range": f"bytes */{size}"})
    return start, end


async def stream_object(request: web.Request, storage: Storage, key: str, content_type: str) -> web.StreamResponse:
    size = await storage.size(key)
    wanted = parse_range(request.headers.get("Range"), size)
    start, end = wanted if wanted is not None else (0, size - 1)
    response = web.StreamResponse(status=206 if wanted is not None else 200)
    response.content_type = content_type
    response.content_length = end - start + 1 if size else 0
    response.headers["Accept-Ranges"] = "bytes"
    response.headers["Cache-Control"] = "public, max-age=3600"
    if wanted is not None:
        response.headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    stamp(request, response)  # the headers leave with prepare, before the edge sees the response
    await response.prepare(request)
    try:
        if size:
            async for chunk in storage.read(key, start, end):
                await response.write(chunk)
    except (ConnectionResetError, asyncio.CancelledError):
        raise
    except Exception:
        # Headers are gone: no error envelope is possible now. Cut the connection so the
        # client sees a short body instead of waiting for bytes that will never come.
        log.exception("streaming %s failed after %d bytes were promised", key, end - start + 1)
        if request.transport is not None:
            request.transport.close()
        return response
    await response.write_eof()
    return response
