"""Receiving a multipart track upload without holding it in memory.

The file part is streamed chunk by chunk into a temporary file under the data directory,
counting bytes as they arrive; past the limit the partial file is removed and the upload
answered with 413 before the rest is read. Small text fields are collected alongside.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import uuid
from pathlib import Path
from typing import Any

from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import BadHttpMessage

from veza.http.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType

# What aiohttp's multipart reader raises on a broken body: no starting boundary, a part cut
# off before its boundary (ValueError or a failed assert), a bad part header line.
_MALFORMED = (ValueError, AssertionError, BadHttpMessage)
MAX_FIELD_BYTES = 8 * 1024
MAX_FIELDS = 20
# Room for the multipart framing and text fields around the file itself.
FORM_OVERHEAD = 64 * 1024
_WRITE_BATCH = 1024 * 1024


@dataclasses.dataclass(slots=True)
class Upload:
    fields: dict[str, str]
    path: Path | None = None
    filename: str | None = None
    size: int = 0
    sha256: str | None = None  # hex digest of the file part, when asked for
    content_type: str | None = None  # what the client claims the file part is

    def discard(self) -> None:
        if self.path is not None:
            self.path.unlink(missing_ok=True)


async def receive_upload(request: web.Request, tmp_dir: Path, max_bytes: int, file_field: str = "file", *,
                         hash_sha256: bool = False, what: str = "audio file") -> Upload:
    """Read the form; the caller must `discard()` the upload when done with the file.

    `hash_sha256` computes the file's digest while it streams (no second read); `what`
    names the file in the missing-part message."""
    if not request.content_type.startswith("multipart/form-data"):
        raise UnsupportedMediaType("Content-Type must be multipart/form-data")
    if request.content_length is not None and request.content_length > max_bytes + FORM_OVERHEAD:
        raise PayloadTooLarge(f"File exceeds the upload limit of {max_bytes} bytes", details={"max_bytes": max_bytes})
    upload = Upload(fields={})
    try:
        reader = await request.multipart()
        count = 0
        while (part := await reader.next()) is not None:
            count += 1
            if count > MAX_FIELDS or not isinstance(part, BodyPartReader):
                raise BadRequest("Too many or nested form parts")
            if part.name == file_field and part.filename is not None:
                if not part.filename:  # what a browser sends when no file was chosen
                    raise BadRequest(f"Missing {what} part '{file_field}'", details={file_field: "required"})
                if upload.path is not None:
                    raise BadRequest("Only one file per upload", details={file_field: "duplicate"})
                upload.filename = part.filename
                upload.content_type = part.headers.get("Content-Type")
                upload.path = tmp_dir / f"upload-{uuid.uuid4().hex}.part"
                hasher = hashlib.sha256() if hash_sha256 else None
                upload.size = await _stream_to_file(part, upload.path, max_bytes, hasher)
                upload.sha256 = hasher.hexdigest() if hasher is not None else None
            elif part.name:
                upload.fields[part.name] = await _read_field(part)
    except _MALFORMED:
        upload.discard()
        raise BadRequest("Malformed multipart body", details={"body": "malformed multipart/form-data"}) from None
    except BaseException:
        upload.discard()
        raise
    return upload


async def _read_field(part: BodyPartReader) -> str:
    raw = bytearray()
    while chunk := await part.read_chunk(MAX_FIELD_BYTES):
        raw += chunk
        if len(raw) > MAX_FIELD_BYTES:
            raise BadRequest(f"Form field {part.name!r} is too long", details={str(part.name): "too long"})
    return raw.decode("utf-8", errors="replace")


def _write(handle: Any, data: bytes, hasher: Any) -> None:
    handle.write(data)
    if hasher is not None:
        hasher.update(data)  # off the loop: hashlib releases the GIL on large buffers


async def _stream_to_file(part: BodyPartReader, path: Path, max_bytes: int, hasher: Any = None) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = await asyncio.to_thread(open, path, "wb")
    size, pending = 0, bytearray()
    try:
        while chunk := await part.read_chunk(256 * 1024):
            size += len(chunk)
            if size > max_bytes:
                raise PayloadTooLarge(f"File exceeds the upload limit of {max_bytes} bytes",
                                      details={"max_bytes": max_bytes})
            pending += chunk
            if len(pending) >= _WRITE_BATCH:
                await asyncio.to_thread(_write, handle, bytes(pending), hasher)
                pending.clear()
        if pending:
            await asyncio.to_thread(_write, handle, bytes(pending), hasher)
    finally:
        await asyncio.to_thread(handle.close)
    return size
