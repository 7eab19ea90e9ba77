"""Receiving a file upload into storage for cloud files and gear documents.

The part streams to a temporary file (sha256 computed on the way, never held in memory),
its type is read from its first bytes, then it moves into storage under a generated key.
The caller records it in a transaction; `recorded_or_deleted` removes the stored object
when that transaction fails, so a refused upload leaves nothing behind.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web

from veza import keys
from veza.domain.cloud_types import detect, read_head
from veza.domain.errors import QuotaExceeded
from veza.http.errors import BadRequest, PayloadTooLarge
from veza.services.uploads import FORM_OVERHEAD, Upload, receive_upload


@dataclasses.dataclass(slots=True)
class Received:
    upload: Upload
    mime_type: str
    head: bytes
    complete: bool  # the head is the whole file

    def content(self, key: str) -> dict[str, Any]:
        return {"storage_key": key, "size_bytes": self.upload.size, "mime_type": self.mime_type,
                "sha256": self.upload.sha256}


async def receive(request: web.Request, max_bytes: int, *, quota_left: int | None = None,
                  what: str = "file") -> Received:
    """The form's `file` part in a temporary file. Over `max_bytes` is a 413; over
    `quota_left` (when smaller) a 507, found while streaming rather than after."""
    if request.content_length is not None and request.content_length > max_bytes + FORM_OVERHEAD:
        raise PayloadTooLarge(f"File exceeds the upload limit of {max_bytes} bytes", details={"max_bytes": max_bytes})
    limit = max_bytes if quota_left is None else min(max_bytes, quota_left)
    settings = request.app[keys.settings]
    try:
        upload = await receive_upload(request, settings.data_dir / "tmp", limit, hash_sha256=True, what=what)
    except PayloadTooLarge:
        if limit < max_bytes:
            raise QuotaExceeded("Storage quota exceeded: the file is larger than the space left",
                                details={"available_bytes": limit}) from None
        raise
    if upload.path is None:
        raise BadRequest(f"Missing {what} part 'file'", details={"file": "required"})
    try:
        head, complete = await asyncio.to_thread(read_head, upload.path)
    except BaseException:
        upload.discard()
        raise
    return Received(upload, detect(head, complete), head, complete)


async def put(request: web.Request, received: Received, key: str) -> None:
    """Move the temporary file into storage (consumed either way)."""
    try:
        await request.app[keys.storage].put_file(key, received.upload.path, received.mime_type)
    finally:
        received.upload.discard()


@asynccontextmanager
async def recorded_or_deleted(request: web.Request, key: str) -> AsyncIterator[None]:
    """Delete the stored object `key` if the block (the transaction recording it) fails."""
    try:
        yield
    except BaseException:
        await asyncio.shield(request.app[keys.storage].delete(key))
        raise
