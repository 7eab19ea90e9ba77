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

# An opaque page cursor: what a previous page's `next_cursor` said, never built by hand.
# The document can state its alphabet and size; that it decodes is the server's to say (a 400).
MAX_CURSOR_LENGTH = 512
CURSOR_SCHEMA = {"pattern": "^[A-Za-z0-9_+/-]+={0,2}$",
                 "description": "Opaque: the next_cursor of the previous page (base64); one that does not decode, "
                                "or was made for another list, is a 400"}
Cursor = Annotated[str, msgspec.Meta(max_length=MAX_CURSOR_LENGTH, extra_json_schema=CURSOR_SCHEMA)]
