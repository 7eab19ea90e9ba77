"""The errors as the HTTP edge names them: the domain errors under their HTTP-era names.

Everything is defined in `veza.domain.errors` (stores and domain code import it from
there, never from here); the edge (`veza.http.edge.errors`) maps any `DomainError` to
its status and envelope.
"""

from __future__ import annotations

from veza.domain.errors import (  # noqa: F401 - re-exported for the edges
    BadGateway,
    Conflict,
    DomainError,
    FeatureDisabled,
    Forbidden,
    Invalid,
    NotFound,
    QuotaExceeded,
    RateLimited,
    SoldOut,
    Unauthorized,
    Unavailable,
    UnsupportedMediaType,
)
from veza.domain.errors import TooLarge as PayloadTooLarge  # noqa: F401

ApiError = DomainError
BadRequest = Invalid
