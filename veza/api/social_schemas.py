"""Request and response shapes of the social routes."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from uuid import UUID

import msgspec

from veza.api.pagination import CURSOR_SCHEMA, DEFAULT_LIMIT, MAX_CURSOR_LENGTH, Cursor, Limit
from veza.validation import NOT_BLANK_SCHEMA


class FeedQuery(msgspec.Struct, forbid_unknown_fields=False):
    limit: Limit = DEFAULT_LIMIT
    cursor: Annotated[str, msgspec.Meta(max_length=MAX_CURSOR_LENGTH, extra_json_schema={
        **CURSOR_SCHEMA, "description": "base64 of created_at_unix_nano|uuid: the next_cursor of the previous "
                                        "page (a personalized feed's only in a personalized feed)"})] | None = None


class CommentsQuery(msgspec.Struct, forbid_unknown_fields=False):
    limit: Limit = DEFAULT_LIMIT
    cursor: Cursor | None = None


class TrendingQuery(msgspec.Struct, forbid_unknown_fields=False):
    limit: Limit = DEFAULT_LIMIT


class PostIn(msgspec.Struct, forbid_unknown_fields=True):
    content: Annotated[str, msgspec.Meta(min_length=1, max_length=5000, extra_json_schema=NOT_BLANK_SCHEMA)]
    tags: Annotated[list[Annotated[str, msgspec.Meta(max_length=50)]], msgspec.Meta(max_length=20)] = []
    track_id: UUID | None = None


class LikeIn(msgspec.Struct):
    post_id: UUID


class CommentIn(msgspec.Struct):
    post_id: UUID
    content: Annotated[str, msgspec.Meta(min_length=1, max_length=2000, extra_json_schema=NOT_BLANK_SCHEMA)]


class PostOut(msgspec.Struct):
    id: UUID
    author_id: UUID
    author_username: str
    content: str
    track_id: UUID | None
    tags: list[str]
    like_count: int
    comment_count: int
    created_at: dt.datetime
    score: float | None = None


class FeedOut(msgspec.Struct):
    posts: list[PostOut]
    next_cursor: str | None
    has_more: bool
    personalized: bool


class PostListOut(msgspec.Struct):
    posts: list[PostOut]
    limit: int
    offset: int = 0


class PostLikeOut(msgspec.Struct):
    post_id: UUID
    liked: bool
    like_count: int


class PostCommentOut(msgspec.Struct):
    id: UUID
    post_id: UUID
    content: str
    author_id: UUID
    author_username: str
    created_at: dt.datetime


class PostCommentListOut(msgspec.Struct):
    comments: list[PostCommentOut]  # newest first
    next_cursor: str | None
    has_more: bool
    total: int


class ProfileOut(msgspec.Struct):
    id: UUID
    username: str
    role: str
    bio: str
    avatar_url: str | None
    created_at: dt.datetime
    follower_count: int
    following_count: int
    track_count: int
    post_count: int
    is_following: bool | None


class FollowOut(msgspec.Struct):
    user_id: UUID
    following: bool
    follower_count: int


def post_out(row: dict[str, Any], score: float | None = None) -> PostOut:
    return PostOut(**{f: row[f] for f in PostOut.__struct_fields__ if f != "score"}, score=score)


def comment_out(row: dict[str, Any]) -> PostCommentOut:
    return PostCommentOut(**{f: row[f] for f in PostCommentOut.__struct_fields__})
