"""Errors a handler or store raises; the edge (`veza.http.edge.errors`) turns them into envelopes.

Stores raise the domain errors (NotFound, Conflict, ...) too: they carry no HTTP types,
only a stable code from `protocols.errors`, which maps to a status in one table.
"""

from __future__ import annotations

from typing import Any

from protocols.errors import HTTP_STATUS, ErrorCode


class ApiError(Exception):
    code: ErrorCode = ErrorCode.INTERNAL
    message: str = "Internal server error"

    def __init__(
        self,
        message: str | None = None,
        *,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.message = message or self.message
        self.details = details
        self.headers = headers or {}
        super().__init__(self.message)

    @property
    def status(self) -> int:
        return HTTP_STATUS[self.code]


class BadRequest(ApiError):
    code = ErrorCode.INVALID
    message = "Invalid request"


class Unauthorized(ApiError):
    code = ErrorCode.UNAUTHORIZED
    message = "Authentication required"


class Forbidden(ApiError):
    code = ErrorCode.FORBIDDEN
    message = "Forbidden"


class NotFound(ApiError):
    code = ErrorCode.NOT_FOUND
    message = "Not found"


class Conflict(ApiError):
    code = ErrorCode.CONFLICT
    message = "Conflict"


class PayloadTooLarge(ApiError):
    code = ErrorCode.TOO_LARGE
    message = "Request body too large"


class UnsupportedMediaType(ApiError):
    code = ErrorCode.UNSUPPORTED_MEDIA_TYPE
    message = "Unsupported media type"


class RateLimited(ApiError):
    code = ErrorCode.RATE_LIMITED
    message = "Too many requests"


class Unavailable(ApiError):
    code = ErrorCode.UNAVAILABLE
    message = "Service unavailable"
