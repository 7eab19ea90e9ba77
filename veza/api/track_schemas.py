"""Request and response shapes of the tracks routes (documented in OpenAPI)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec

from veza.store.tracks import SORT_COLUMNS

MAX_LIMIT = 100
DEFAULT_LIMIT = 20
SortBy = Literal[tuple(SORT_COLUMNS)]  # type: ignore[valid-type]
Limit = Annotated[int, msgspec.Meta(ge=1, le=MAX_LIMIT, description=(
    f"Page size, 1..{MAX_LIMIT} (default {DEFAULT_LIMIT}); values outside the range are a 400"))]


class TrackListQuery(msgspec.Struct, forbid_unknown_fields=False):
    limit: Limit = DEFAULT_LIMIT
    page: Annotated[int, msgspec.Meta(ge=1, le=1_000_000, description="Legacy OFFSET page, 1-based")] | None = None
    cursor: Annotated[str, msgspec.Meta(max_length=512, description="Opaque next_cursor of the previous page")] | None = None
    genre: Annotated[str, msgspec.Meta(max_length=50)] | None = None
    format: Annotated[str, msgspec.Meta(max_length=10)] | None = None
    sort_by: SortBy = "created_at"
    sort_order: Literal["asc", "desc"] = "desc"


class SearchQuery(msgspec.Struct, forbid_unknown_fields=False):
    q: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    limit: Limit = DEFAULT_LIMIT


class PageQuery(msgspec.Struct, forbid_unknown_fields=False):
    limit: Limit = DEFAULT_LIMIT
    offset: Annotated[int, msgspec.Meta(ge=0, le=1_000_000)] = 0


class TrackOut(msgspec.Struct):
    id: UUID
    title: str
    artist: str
    description: str
    genre: str | None
    format: str
    mime_type: str
    duration: float
    size_bytes: int
    tags: list[str]
    like_count: int
    comment_count: int
    owner_id: UUID
    owner_username: str
    stream_url: str
    created_at: dt.datetime
    updated_at: dt.datetime


class TrackListOut(msgspec.Struct):
    tracks: list[TrackOut]
    next_cursor: str | None
    has_more: bool
    limit: int
    page: int | None = None


class SearchOut(msgspec.Struct):
    tracks: list[TrackOut]
    query: str
    count: int


class TrackUpdateIn(msgspec.Struct, forbid_unknown_fields=True):
    title: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] | None = None
    artist: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] | None = None
    description: Annotated[str, msgspec.Meta(max_length=5000)] | None = None
    genre: Annotated[str, msgspec.Meta(max_length=50)] | None = None
    tags: Annotated[list[Annotated[str, msgspec.Meta(max_length=50)]], msgspec.Meta(max_length=20)] | None = None


class LikeOut(msgspec.Struct):
    track_id: UUID
    liked: bool
    like_count: int


class CommentIn(msgspec.Struct):
    content: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]


class CommentOut(msgspec.Struct):
    id: UUID
    track_id: UUID
    content: str
    author_id: UUID
    author_username: str
    created_at: dt.datetime


class CommentListOut(msgspec.Struct):
    comments: list[CommentOut]
    total: int
    limit: int
    offset: int


_TRACK_FIELDS = frozenset(TrackOut.__struct_fields__) - {"stream_url"}


def track_out(row: dict[str, Any]) -> TrackOut:
    # The hot path of every listing: rows carry exactly the fields, so splat them (C speed).
    if row.keys() != _TRACK_FIELDS:
        row = {k: row[k] for k in _TRACK_FIELDS}
    return TrackOut(**row, stream_url=f"/api/v1/tracks/{row['id']}/stream")


def comment_out(row: dict[str, Any]) -> CommentOut:
    return CommentOut(**{f: row[f] for f in CommentOut.__struct_fields__})
