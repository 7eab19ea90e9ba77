"""Request and response shapes of the tracks routes (documented in OpenAPI)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec

from veza.api.pagination import DEFAULT_LIMIT, MAX_LIMIT, MAX_OFFSET, Cursor, Limit, Offset  # noqa: F401
from veza.store.tracks import SORT_COLUMNS
from veza.validation import NOT_BLANK_SCHEMA

SortBy = Literal[tuple(SORT_COLUMNS)]  # type: ignore[valid-type]


class TrackListQuery(msgspec.Struct, forbid_unknown_fields=False):
    limit: Limit = DEFAULT_LIMIT
    page: Annotated[int, msgspec.Meta(ge=1, le=MAX_OFFSET + 1, description=(
        f"Legacy OFFSET page, 1-based; (page - 1) * limit at most {MAX_OFFSET}, else a 400"))] | None = None
    cursor: Cursor | None = None
    genre: Annotated[str, msgspec.Meta(max_length=50)] | None = None
    format: Annotated[str, msgspec.Meta(max_length=10)] | None = None
    sort_by: SortBy = "created_at"
    sort_order: Literal["asc", "desc"] = "desc"


class SearchQuery(msgspec.Struct, forbid_unknown_fields=False):
    q: Annotated[str, msgspec.Meta(min_length=1, max_length=200, extra_json_schema=NOT_BLANK_SCHEMA)]
    limit: Limit = DEFAULT_LIMIT


class PageQuery(msgspec.Struct, forbid_unknown_fields=False):
    limit: Limit = DEFAULT_LIMIT
    offset: Offset = 0


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
    content: Annotated[str, msgspec.Meta(min_length=1, max_length=2000, extra_json_schema=NOT_BLANK_SCHEMA)]


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


def tracks_out(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Tracks rows (asyncpg Records or dicts) as TrackOut's JSON objects.

    The hot path of every listing: one dict copy per row, encoded as it is, rather than a
    typed object built per row (TrackOut documents the shape in OpenAPI; a test checks the
    answers against it). The rows of one query share their columns, so they are checked
    once: the store's track queries carry exactly TrackOut's fields; others (a search
    score, a file key) are cut down to them.
    """
    if not rows:
        return []
    if set(rows[0].keys()) == _TRACK_FIELDS:
        out = [dict(row) for row in rows]
    else:
        out = [{k: row[k] for k in _TRACK_FIELDS} for row in rows]
    for track in out:
        track["stream_url"] = f"/api/v1/tracks/{track['id']}/stream"
    return out


def track_out(row: Mapping[str, Any]) -> dict[str, Any]:
    return tracks_out((row,))[0]


def comment_out(row: dict[str, Any]) -> CommentOut:
    return CommentOut(**{f: row[f] for f in CommentOut.__struct_fields__})
