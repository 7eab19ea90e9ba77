"""Posts, the feed (cursor), explore and trending; likes and comments on posts; removing
posts and comments (the rules: `veza.domain.social`, `veza.domain.comments`).

Creating a post, like or comment commits first, then tells the Feed actor (and the
author's Inbox); the actors push to sockets, the handler never does.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any
from uuid import UUID

from aiohttp import web

from protocols.cursor import FeedCursor, InvalidCursor, KeysetCursor
from veza import feeds, keys
from veza.api.schemas import Message
from veza.api.social_schemas import (
    CommentIn, CommentsQuery, FeedOut, FeedQuery, LikeIn, PostCommentListOut, PostCommentOut, PostIn, PostLikeOut,
    PostListOut, PostOut, TrendingQuery, comment_out, post_out,
)
from veza.api.track_schemas import PageQuery
from veza.domain import comments
from veza.domain import social as social_rules
from veza.domain.unit_of_work import unit_of_work
from veza.http.auth import Principal
from veza.http.envelope import ok
from veza.http.errors import BadRequest
from veza.http.routing import ApiRouter, path_uuid
from veza.store import social

router = ApiRouter("social")


def _after_commit(app: web.Application) -> dict[str, Any]:
    """What a like or comment tells after commit: the author's Inbox and the Feed actor."""
    return {"push": feeds.notifier(app), "on_engaged": functools.partial(feeds.post_engaged, app)}


@router.get("/social/feed", query=FeedQuery, response=FeedOut, auth="optional",
            summary="The feed, newest first; followed and own posts first when authenticated")
async def feed(request: web.Request, query: FeedQuery, principal: Principal | None) -> web.Response:
    viewer = principal.user_id if principal else None
    cursor = None
    if query.cursor is not None:
        try:
            cursor = FeedCursor.from_string(query.cursor)
        except InvalidCursor as exc:
            raise BadRequest(f"Invalid cursor: {exc}", details={"cursor": str(exc)}) from None
        if cursor.personalized != (viewer is not None):
            # A personalized position means nothing in the public feed and vice versa (also
            # cursors from before positions were personalized): the client starts over.
            raise BadRequest("This cursor belongs to another feed; load the feed again without it",
                             details={"cursor": "personalized" if cursor.personalized else "public"})
    async with request.app[keys.db].connection() as conn:
        circle = None
        if viewer is not None:
            circle = (social.Circle(cursor.since, cursor.circle) if cursor and cursor.since
                      else await social.circle_snapshot(conn, viewer))
        after = (cursor.rank or 0, cursor.created_at, cursor.id) if cursor else None
        rows, has_more, rank = await social.feed(conn, viewer=viewer, circle=circle, after=after, limit=query.limit)
    next_cursor = None
    if has_more and rows:
        last = rows[-1]
        next_cursor = (FeedCursor(last["created_at"], last["id"], rank, circle.since, circle.hashes) if circle
                       else FeedCursor(last["created_at"], last["id"])).to_string()
    return ok(FeedOut(posts=[post_out(r) for r in rows], next_cursor=next_cursor, has_more=has_more,
                      personalized=viewer is not None))


@router.get("/social/explore", query=PageQuery, response=PostListOut, auth="optional",
            summary="Most engaged recent posts, from people you do not follow yet")
async def explore(request: web.Request, query: PageQuery, principal: Principal | None) -> web.Response:
    async with request.app[keys.db].connection() as conn:
        rows = await social.explore(conn, viewer=principal.user_id if principal else None, limit=query.limit,
                                    offset=query.offset)
    return ok(PostListOut(posts=[post_out(r) for r in rows], limit=query.limit, offset=query.offset))


@router.get("/social/trending", query=TrendingQuery, response=PostListOut,
            summary="Trending posts: likes and comments with time decay (kept in memory by the Feed actor)")
async def trending(request: web.Request, query: TrendingQuery) -> web.Response:
    ranked = await feeds.trending(request.app, query.limit)
    async with request.app[keys.db].connection() as conn:
        rows = await social.posts_by_ids(conn, [post_id for post_id, _ in ranked])
    scores = dict(ranked)
    return ok(PostListOut(posts=[post_out(r, round(scores[r["id"]], 6)) for r in rows], limit=query.limit))


@router.post("/social/posts", body=PostIn, response=PostOut, status=201, auth="required", summary="Create a post")
async def create_post(request: web.Request, body: PostIn, principal: Principal) -> web.Response:
    async with request.app[keys.db].transaction() as conn:
        post = await social_rules.create_post(conn, principal.user_id, body.content, body.tags, body.track_id)
    feeds.post_created(request.app, post)
    return ok(post_out(post), status=201)


@router.post("/social/like", body=LikeIn, response=PostLikeOut, auth="required", summary="Like or unlike a post (toggle)")
async def toggle_like(request: web.Request, body: LikeIn, principal: Principal) -> web.Response:
    async with unit_of_work(request.app[keys.db]) as uow:
        liked, count = await social_rules.toggle_like(uow, principal.user_id, body.post_id, **_after_commit(request.app))
    return ok(PostLikeOut(post_id=body.post_id, liked=liked, like_count=count))


@router.post("/social/comments", body=CommentIn, response=PostCommentOut, status=201, auth="required",
             summary="Comment on a post")
async def comment(request: web.Request, body: CommentIn, principal: Principal) -> web.Response:
    async with unit_of_work(request.app[keys.db]) as uow:
        row = await social_rules.comment(uow, principal.user_id, body.post_id, body.content, **_after_commit(request.app))
    return ok(comment_out(row), status=201)


@router.delete("/social/posts/{id}", response=Message, auth="required",
               summary="Delete a post with its likes and comments (its author or a moderator)")
async def delete_post(request: web.Request, principal: Principal) -> web.Response:
    post_id = path_uuid(request)
    app = request.app
    async with unit_of_work(app[keys.db]) as uow:
        await comments.delete_post(uow, principal.user_id, principal.role, post_id,
                                   lambda deleted: feeds.post_deleted(app, deleted))
    return ok(Message(message="Post deleted"))


@router.get("/social/posts/{id}/comments", query=CommentsQuery, response=PostCommentListOut,
            summary="A post's comments, newest first (cursor: next_cursor of the previous page)")
async def list_post_comments(request: web.Request, query: CommentsQuery) -> web.Response:
    post_id = path_uuid(request)
    after = _comments_after(query.cursor)
    async with request.app[keys.db].connection() as conn:
        rows, has_more, total = await social.list_comments(conn, post_id, after, query.limit)
    next_cursor = KeysetCursor(rows[-1]["created_at"], rows[-1]["id"]).to_string() if has_more and rows else None
    return ok(PostCommentListOut(comments=[comment_out(r) for r in rows], next_cursor=next_cursor,
                                 has_more=has_more, total=total))


@router.delete("/social/comments/{id}", response=Message, auth="required",
               summary="Delete a comment on a post (its author, the post's author or a moderator)")
async def delete_post_comment(request: web.Request, principal: Principal) -> web.Response:
    comment_id = path_uuid(request)
    app = request.app
    async with unit_of_work(app[keys.db]) as uow:
        await comments.delete_post_comment(uow, principal.user_id, principal.role, comment_id,
                                           lambda post_id: feeds.post_engaged(app, post_id, "comment", -1))
    return ok(Message(message="Comment deleted"))


def _comments_after(raw: str | None) -> tuple[dt.datetime, UUID] | None:
    if raw is None:
        return None
    try:
        cursor = KeysetCursor.from_string(raw)
        if cursor.sort_by != "created_at":
            raise InvalidCursor("cursor was made for another list")
        cursor.created_at.astimezone(dt.UTC)  # what asyncpg does; years 1 and 9999 can overflow
    except InvalidCursor as exc:
        raise BadRequest(f"Invalid cursor: {exc}", details={"cursor": str(exc)}) from None
    except OverflowError:
        raise BadRequest("Invalid cursor: created_at is out of range", details={"cursor": "out of range"}) from None
    return cursor.created_at, cursor.id
