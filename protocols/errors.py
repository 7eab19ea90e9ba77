"""Stable machine error codes, one table for REST envelopes and WebSocket error frames."""

from enum import StrEnum


class ErrorCode(StrEnum):
    INVALID = "invalid"
    UNAUTHORIZED = "unauthorized"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    TOO_LARGE = "too_large"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    RATE_LIMITED = "rate_limited"
    UNAVAILABLE = "unavailable"
    INTERNAL = "internal"
    RANGE_NOT_SATISFIABLE = "range_not_satisfiable"
    # Domain-specific refinements: each still answers one status, below.
    SOLD_OUT = "sold_out"
    QUOTA_EXCEEDED = "quota_exceeded"
    FEATURE_DISABLED = "feature_disabled"
    BAD_GATEWAY = "bad_gateway"


# The HTTP status each code answers with on the REST side.
HTTP_STATUS: dict[ErrorCode, int] = {
    ErrorCode.INVALID: 400,
    ErrorCode.UNAUTHORIZED: 401,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.METHOD_NOT_ALLOWED: 405,
    ErrorCode.CONFLICT: 409,
    ErrorCode.TOO_LARGE: 413,
    ErrorCode.UNSUPPORTED_MEDIA_TYPE: 415,
    ErrorCode.RATE_LIMITED: 429,
    ErrorCode.INTERNAL: 500,
    ErrorCode.UNAVAILABLE: 503,
    ErrorCode.RANGE_NOT_SATISFIABLE: 416,
    ErrorCode.SOLD_OUT: 409,
    ErrorCode.QUOTA_EXCEEDED: 507,
    ErrorCode.FEATURE_DISABLED: 503,
    ErrorCode.BAD_GATEWAY: 502,
}

# The code of a bare status (aiohttp's own errors): the generic code, never a refinement.
_REFINEMENTS = {ErrorCode.SOLD_OUT, ErrorCode.QUOTA_EXCEEDED, ErrorCode.FEATURE_DISABLED}
CODE_FOR_STATUS: dict[int, ErrorCode] = {
    status: code for code, status in HTTP_STATUS.items() if code not in _REFINEMENTS}
