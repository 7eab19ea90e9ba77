"""Upload limits and type validation (public): the same settings POST /tracks enforces."""

from __future__ import annotations

from typing import Annotated

import msgspec
from aiohttp import web

from veza import keys
from veza.http.envelope import ok
from veza.http.routing import ApiRouter
from veza.services.audio import MIME_TYPES, format_for

router = ApiRouter("uploads")


class LimitsOut(msgspec.Struct):
    max_size_bytes: int
    max_size_mb: float
    allowed_types: list[str]
    allowed_mime_types: list[str]
    allowed_extensions: list[str]
    storage_backend: str


class ValidateQuery(msgspec.Struct, forbid_unknown_fields=False):
    filename: Annotated[str, msgspec.Meta(max_length=255, description="Name of the file to upload")] | None = None
    content_type: Annotated[str, msgspec.Meta(max_length=100, description="Its MIME type")] | None = None
    size: Annotated[int, msgspec.Meta(ge=0, le=2**63 - 1, description="Its size in bytes")] | None = None


class ValidateOut(msgspec.Struct):
    valid: bool
    format: str | None
    reasons: list[str]
    max_size_bytes: int
    allowed_types: list[str]


@router.get("/upload/limits", response=LimitsOut, summary="Upload size limit and accepted audio types")
async def limits(request: web.Request) -> web.Response:
    settings = request.app[keys.settings]
    allowed = list(settings.upload_allowed_types)
    extensions = sorted({ext for ext in ("mp3", "flac", "wav", "ogg", "oga", "opus", "m4a", "mp4", "aac")
                         if format_for(f"x.{ext}", None) in allowed})
    return ok(LimitsOut(
        max_size_bytes=settings.upload_max_bytes, max_size_mb=round(settings.upload_max_bytes / 1048576, 2),
        allowed_types=allowed, allowed_mime_types=[MIME_TYPES[t] for t in allowed], allowed_extensions=extensions,
        storage_backend=request.app[keys.storage].name,
    ))


@router.get("/upload/validate-type", query=ValidateQuery, response=ValidateOut,
            summary="Would a file with this name, MIME type and size be accepted? (content is checked on upload)")
async def validate_type(request: web.Request, query: ValidateQuery) -> web.Response:
    settings = request.app[keys.settings]
    reasons: list[str] = []
    by_type = format_for(None, query.content_type) if query.content_type else None
    by_name = format_for(query.filename, None) if query.filename else None
    fmt = by_type or by_name
    if query.filename is None and query.content_type is None:
        reasons.append("give filename or content_type")
    elif (query.content_type and by_type is None) or (query.filename and by_name is None):
        reasons.append("not a recognised audio type")
    elif by_type and by_name and by_type != by_name:
        reasons.append(f"the name says {by_name} but the content type says {by_type}")
    elif fmt not in settings.upload_allowed_types:
        reasons.append(f"{fmt} uploads are not accepted")
    if query.size is not None and query.size > settings.upload_max_bytes:
        reasons.append(f"larger than the {settings.upload_max_bytes} byte limit")
    return ok(ValidateOut(valid=not reasons, format=fmt, reasons=reasons, max_size_bytes=settings.upload_max_bytes,
                          allowed_types=list(settings.upload_allowed_types)))
