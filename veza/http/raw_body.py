"""A request body read whole as bytes, up to a limit: for signed webhooks, whose signature
covers the exact bytes sent (so the body cannot go through the JSON decoder first)."""

from __future__ import annotations

from aiohttp import web

from veza.domain.errors import TooLarge


async def read_raw_body(request: web.Request, limit: int, what: str = "Request bodies") -> bytes:
    """All of the body (a read returns as soon as some bytes are there: loop to EOF), or a
    413 once more than `limit` bytes are announced or arrive."""
    if request.content_length is not None and request.content_length > limit:
        raise TooLarge(f"{what} are at most {limit} bytes")
    chunks, size = [], 0
    while chunk := await request.content.read(64 * 1024):
        size += len(chunk)
        if size > limit:
            raise TooLarge(f"{what} are at most {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
