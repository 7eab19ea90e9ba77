"""Announcements: what a valid one is (pushing it live is `veza/announcements.py`'s job).

Rules:
- Title and content are required (not blank once trimmed, stored trimmed).
- `starts_at` and `ends_at` carry an offset (a naive time is refused, not guessed) and lie
  in 1970..9998 (UTC): beyond, conversions overflow and nobody means them.
- `ends_at` lies after the start (`starts_at`, or now when it starts at once).
Every broken rule is reported at once, in `details`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

from veza.domain.errors import Invalid
from veza.store import announcements as store

EARLIEST = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
LATEST = dt.datetime(9999, 1, 1, tzinfo=dt.UTC)  # exclusive


def problems(title: str, content: str, starts_at: dt.datetime | None, ends_at: dt.datetime | None,
             now: dt.datetime) -> dict[str, str]:
    """field -> what is wrong with it; empty when the announcement is valid."""
    found = {f: "must not be blank" for f, value in (("title", title), ("content", content)) if not value.strip()}
    for field, value in (("starts_at", starts_at), ("ends_at", ends_at)):
        if value is None:
            continue
        if value.tzinfo is None:
            found[field] = "must include a timezone (e.g. 2026-03-01T12:00:00Z)"
        elif not EARLIEST <= value < LATEST:  # compared without converting: year 1 +01:00 overflows
            found[field] = "must be between 1970-01-01T00:00:00Z and 9998-12-31T23:59:59Z"
    if not found and ends_at is not None and ends_at <= (starts_at or now):
        found["ends_at"] = "must be after starts_at"
    return found


async def create(conn: Any, admin_id: UUID, *, title: str, content: str, type_: str,
                 starts_at: dt.datetime | None, ends_at: dt.datetime | None) -> dict[str, Any]:
    """The stored announcement (`active` says whether it shows now)."""
    if found := problems(title, content, starts_at, ends_at, dt.datetime.now(dt.UTC)):
        field, why = next(iter(found.items()))
        raise Invalid(f"Invalid {field}: {why}", details=found)
    return await store.create(conn, title=title.strip(), content=content.strip(), type=type_,
                              starts_at=starts_at, ends_at=ends_at, created_by=admin_id)
