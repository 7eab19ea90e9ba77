"""The `success`/`data`/`error` envelope and the one JSON encoder every response uses."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
from aiohttp import web

from protocols.errors import ErrorCode


def _enc_hook(obj: Any) -> Any:
    # asyncpg Records and other mappings encode as objects.
    if hasattr(obj, "items"):
        return dict(obj.items())
    if isinstance(obj, (set, frozenset)):
        return sorted(obj)
    if isinstance(obj, dt.timedelta):
        return obj.total_seconds()
    raise NotImplementedError(f"cannot encode {type(obj).__name__}")


_encoder = msgspec.json.Encoder(enc_hook=_enc_hook)
_JSON = "application/json"


def encode(value: Any) -> bytes:
    return _encoder.encode(value)


class Ok(msgspec.Struct):
    success: bool
    data: Any


class Err(msgspec.Struct, omit_defaults=True):
    success: bool
    error: str
    code: str
    details: dict[str, Any] | None = None
    request_id: str | None = None


def ok(data: Any = None, *, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(body=_encoder.encode(Ok(success=True, data=data)), status=status, content_type=_JSON, headers=headers)


def error_response(
    status: int,
    code: ErrorCode | str,
    message: str,
    *,
    details: dict[str, Any] | None = None,
    request_id: str | None = None,
    headers: dict[str, str] | None = None,
) -> web.Response:
    body = Err(success=False, error=message, code=str(code), details=details, request_id=request_id)
    return web.Response(body=_encoder.encode(body), status=status, content_type=_JSON, headers=headers)
