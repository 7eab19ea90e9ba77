"""Serving a stored object over HTTP with single-range support (RFC 9110 section 14).

One range (`bytes=a-b`, `bytes=a-`, `bytes=-n`) answers 206 with Content-Range; a range
starting past the end answers 416 with `Content-Range: bytes */size`; several ranges or
a malformed header (including `bytes=5-3`, last before first) are ignored and the whole
object is sent (both allowed by the RFC). A number too long to be any real offset is read
as "past any end": as a first-pos that is a 416, as a last-pos or suffix it means the end.
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
# ASCII digits only: `\d` would take other scripts' digits, which int() accepts too.
_RANGE = re.compile(r"^bytes=([0-9]*)-([0-9]*)$")
# More digits than any object size can have (2**63 has 19). Longer numbers are never
# handed to int(), which refuses more than 4300 digits and is slow well before that.
_MAX_DIGITS = 19
_BEYOND = 10**_MAX_DIGITS


class RangeNotSatisfiable(ApiError):
    code = ErrorCode.RANGE_NOT_SATISFIABLE
    message = "Requested range not satisfiable"


def _position(digits: str) -> int:
    digits = digits.lstrip("0") or "0"
    return _BEYOND if len(digits) > _MAX_DIGITS else int(digits)


def _unsatisfiable(size: int) -> RangeNotSatisfiable:
    return RangeNotSatisfiable(headers={"Content-Range": f"bytes */{size}"})


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
    if not first:  # suffix: the last n bytes (all of them if n is larger than the object)
        length = _position(last)
        if length == 0 or size == 0:
            raise _unsatisfiable(size)
        return max(0, size - length), size - 1
    start = _position(first)
    end = _position(last) if last else None
    if end is not None and end < start:
        return None  # an invalid range-spec (RFC 9110 14.1.1): ignored, not a 416
    if start >= size:
        raise _unsatisfiable(size)
    return start, size - 1 if end is None else min(end, size - 1)


async def stream_object(request: web.Request, storage: Storage, key: str, content_type: str,
                        headers: dict[str, str] | None = None) -> web.StreamResponse:
    """`headers` are added to (or override) the defaults, e.g. a private Cache-Control."""
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
    response.headers.update(headers or {})
    stamp(request, response)  # the headers leave with prepare, before the edge sees the response
    await response.prepare(request)
    try:
        if size and request.method != "HEAD":  # HEAD: the same headers, no body
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
