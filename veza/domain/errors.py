"""Errors the domain and the stores raise: a stable code and details, nothing of HTTP.

The code maps to an HTTP status in one table (`protocols.errors.HTTP_STATUS`, used by the
edge in `veza.http.edge.errors`) and to a socket `error` frame in one table
(`veza.ws.commands`). A webhook, a worker or an actor that reuses a store gets the same
errors as a REST handler.
"""

from __future__ import annotations

from typing import Any

from protocols.errors import HTTP_STATUS, ErrorCode


class DomainError(Exception):
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
        # Protocol hints that travel with the error (Retry-After, Allow): the edge keeps them.
        self.headers = headers or {}
        super().__init__(self.message)

    @property
    def status(self) -> int:
        return HTTP_STATUS[self.code]


class Invalid(DomainError):
    code = ErrorCode.INVALID
    message = "Invalid request"


class Unauthorized(DomainError):
    code = ErrorCode.UNAUTHORIZED
    message = "Authentication required"


class Forbidden(DomainError):
    code = ErrorCode.FORBIDDEN
    message = "Forbidden"


class NotFound(DomainError):
    code = ErrorCode.NOT_FOUND
    message = "Not found"


class Conflict(DomainError):
    code = ErrorCode.CONFLICT
    message = "Conflict"


class SoldOut(Conflict):
    code = ErrorCode.SOLD_OUT
    message = "Sold out"


class TooLarge(DomainError):
    code = ErrorCode.TOO_LARGE
    message = "Request body too large"


class UnsupportedMediaType(DomainError):
    code = ErrorCode.UNSUPPORTED_MEDIA_TYPE
    message = "Unsupported media type"


class QuotaExceeded(DomainError):
    code = ErrorCode.QUOTA_EXCEEDED
    message = "Storage quota exceeded"


class RateLimited(DomainError):
    code = ErrorCode.RATE_LIMITED
    message = "Too many requests"


class Unavailable(DomainError):
    code = ErrorCode.UNAVAILABLE
    message = "Service unavailable"


class FeatureDisabled(Unavailable):
    code = ErrorCode.FEATURE_DISABLED
    message = "This feature is turned off"


class BadGateway(DomainError):
    """An outside system (payment provider, Stripe) failed or answered nonsense."""

    code = ErrorCode.BAD_GATEWAY
    message = "An upstream service failed"
