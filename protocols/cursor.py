"""Pagination cursors: small typed classes with `from_string` / `to_string`.

A cursor names the last row a client saw, so the next page is a keyset seek (`WHERE
(key, id) < (...)`) whose cost does not grow with depth. Clients treat cursors as opaque;
anything that does not decode to exactly the expected shape raises `InvalidCursor`,
which the API answers with a 400.

- `KeysetCursor`: tracks. urlsafe base64 of compact JSON `{"created_at": ISO, "id": uuid}`,
  plus `sort_by`/`value` when the list is sorted by another column (the cursor is only
  valid for the ordering that produced it).
- `FeedCursor`: the social feed, per the reference: base64 of `created_at_unix_nano|uuid`,
  with the viewer's feed position appended when the feed is personalized.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime as dt
import json
from typing import Any
from uuid import UUID

MAX_CURSOR_LENGTH = 512
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MAX_NANOS = 2**63 - 1


class InvalidCursor(ValueError):
    """The cursor is garbled, forged, or was made for another ordering."""


def _b64decode(raw: str) -> bytes:
    if not raw or len(raw) > MAX_CURSOR_LENGTH:
        raise InvalidCursor("cursor is empty or too long")
    padded = raw + "=" * (-len(raw) % 4)
    try:
        # Accept both alphabets: clients sometimes re-encode '-_' as '+/'.
        return base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidCursor("cursor is not valid base64") from None


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _uuid(value: Any) -> UUID:
    if not isinstance(value, str):
        raise InvalidCursor("cursor id must be a string")
    try:
        return UUID(value)
    except ValueError:
        raise InvalidCursor("cursor id is not a UUID") from None


def _timestamp(value: Any) -> dt.datetime:
    if not isinstance(value, str):
        raise InvalidCursor("cursor created_at must be a string")
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise InvalidCursor("cursor created_at is not an ISO-8601 time") from None
    if parsed.tzinfo is None:
        raise InvalidCursor("cursor created_at has no time zone")
    return parsed


def _iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


@dataclasses.dataclass(frozen=True, slots=True)
class KeysetCursor:
    created_at: dt.datetime
    id: UUID
    sort_by: str = "created_at"
    # The sort column's value of the last row when sort_by is not created_at.
    value: str | int | float | None = None

    def to_string(self) -> str:
        body: dict[str, Any] = {"created_at": _iso(self.created_at), "id": str(self.id)}
        if self.sort_by != "created_at":
            body["sort_by"] = self.sort_by
            body["value"] = self.value
        return _b64encode(json.dumps(body, separators=(",", ":")).encode())

    @classmethod
    def from_string(cls, raw: str) -> KeysetCursor:
        try:
            body = json.loads(_b64decode(raw))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise InvalidCursor("cursor is not valid JSON") from None
        if not isinstance(body, dict) or not {"created_at", "id"} <= body.keys():
            raise InvalidCursor("cursor lacks created_at and id")
        if set(body) - {"created_at", "id", "sort_by", "value"}:
            raise InvalidCursor("cursor has unknown fields")
        sort_by = body.get("sort_by", "created_at")
        value = body.get("value")
        if not isinstance(sort_by, str):
            raise InvalidCursor("cursor sort_by must be a string")
        if sort_by != "created_at" and (value is None or isinstance(value, bool)
                                        or not isinstance(value, (str, int, float))):
            raise InvalidCursor("cursor value must be a string or number")
        return cls(_timestamp(body["created_at"]), _uuid(body["id"]), sort_by, value)


# A personalized feed cursor also carries the viewer's circle as it was on the first page:
# short hex hashes of the accounts followed (at most MAX_CIRCLE, else none; see
# veza/store/social.py `feed`), so paging never re-sorts posts already passed.
CIRCLE_HASH_CHARS = 6
MAX_CIRCLE = 48
_HEX = frozenset("0123456789abcdef")


def _nanos(value: str) -> dt.datetime:
    if not value.isdigit() or len(value) > 19 or int(value) > _MAX_NANOS:
        raise InvalidCursor("cursor time is not a unix nano count in range")
    return _EPOCH + dt.timedelta(microseconds=int(value) // 1_000)


def _to_nanos(value: dt.datetime) -> int:
    delta = value - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000


@dataclasses.dataclass(frozen=True, slots=True)
class FeedCursor:
    """`created_at_unix_nano|uuid` (the reference format, the public feed), or for a
    personalized feed `created_at_unix_nano|uuid|rank|since_unix_nano|circle`: rank 0 when
    the last post was in the viewer's circle, 1 when in the rest; `since` the first page's
    time; `circle` the concatenated hashes of the followees then (possibly empty)."""

    created_at: dt.datetime
    id: UUID
    rank: int | None = None
    since: dt.datetime | None = None
    circle: tuple[str, ...] = ()

    @property
    def unix_nano(self) -> int:
        return _to_nanos(self.created_at)

    @property
    def personalized(self) -> bool:
        return self.rank is not None

    def to_string(self) -> str:
        text = f"{self.unix_nano}|{self.id}"
        if self.rank is not None and self.since is not None:
            text += f"|{self.rank}|{_to_nanos(self.since)}|{''.join(self.circle)}"
        return _b64encode(text.encode())

    @classmethod
    def from_string(cls, raw: str) -> FeedCursor:
        try:
            text = _b64decode(raw).decode("ascii")
        except UnicodeDecodeError:
            raise InvalidCursor("cursor is not text") from None
        parts = text.split("|")
        if len(parts) not in (2, 5) or not parts[0].isdigit():
            raise InvalidCursor("cursor is not created_at_unix_nano|uuid")
        created, ident = _nanos(parts[0]), _uuid(parts[1])
        if len(parts) == 2:
            return cls(created, ident)
        rank, since, circle = parts[2:]
        if rank not in ("0", "1"):
            raise InvalidCursor("cursor rank must be 0 or 1")
        n = CIRCLE_HASH_CHARS
        if len(circle) % n or len(circle) > n * MAX_CIRCLE or not set(circle) <= _HEX:
            raise InvalidCursor("cursor circle is not a list of hashes")
        return cls(created, ident, int(rank), _nanos(since), tuple(circle[i:i + n] for i in range(0, len(circle), n)))
