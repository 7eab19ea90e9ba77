"""Page parameters shared by every list route: `limit` (1..100, default 20) and `offset`."""

from __future__ import annotations

from typing import Annotated

import msgspec

MAX_LIMIT = 100
DEFAULT_LIMIT = 20
Limit = Annotated[int, msgspec.Meta(ge=1, le=MAX_LIMIT, description=(
    f"Page size, 1..{MAX_LIMIT} (default {DEFAULT_LIMIT}); values outside the range are a 400"))]
# Every OFFSET page is bounded: a huge offset is no use to anyone and overflows a bigint.
MAX_OFFSET = 100_000
Offset = Annotated[int, msgspec.Meta(ge=0, le=MAX_OFFSET, description=f"Rows to skip, 0..{MAX_OFFSET}")]
