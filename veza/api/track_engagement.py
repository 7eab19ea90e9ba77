"""Track likes (idempotent) and comments; the owner is notified through their Inbox
(`veza.domain.track_engagement`). Removing a comment: its author, the track's owner or a
moderator (`veza.domain.comments`)."""

from __future__ import annotations

from aiohttp import web

from veza import feeds, keys
from veza.api.schemas import Message
from veza.api.track_schemas import CommentIn, CommentListOut, CommentOut, LikeOut, PageQuery, comment_out
from veza.domain import comments, track_engagement
from veza.domain.unit_of_work import unit_of_work
from veza.http.auth import Principal
from veza.http.envelope import ok
from veza.http.routing import ApiRouter, path_uuid
from veza.store import tracks

router = ApiRouter("tracks")


@router.post("/tracks/{id}/like", response=LikeOut, auth="required", summary="Like a track (idempotent)")
async def like_track(request: web.Request, principal: Principal) -> web.Response:
    track_id = path_uuid(request)
    async with unit_of_work(request.app[keys.db]) as uow:
        count = await track_engagement.like(uow, principal.user_id, track_id, push=feeds.notifier(request.app))
    return ok(LikeOut(track_id=track_id, liked=True, like_count=count))


@router.delete("/tracks/{id}/like", response=LikeOut, auth="required", summary="Unlike a track (idempotent)")
async def unlike_track(request: web.Request, principal: Principal) -> web.Response:
    track_id = path_uuid(request)
    async with request.app[keys.db].transaction() as conn:
        count = await tracks.unlike(conn, track_id, principal.user_id)
    return ok(LikeOut(track_id=track_id, liked=False, like_count=count))


@router.get("/tracks/{id}/comments", query=PageQuery, response=CommentListOut, summary="Comments on a track")
async def list_comments(request: web.Request, query: PageQuery) -> web.Response:
    async with request.app[keys.db].connection() as conn:
        rows, total = await tracks.list_comments(conn, path_uuid(request), query.limit, query.offset)
    return ok(CommentListOut(comments=[comment_out(r) for r in rows], total=total, limit=query.limit,
                             offset=query.offset))


@router.post("/tracks/{id}/comments", body=CommentIn, response=CommentOut, status=201, auth="required",
             summary="Comment on a track")
async def add_comment(request: web.Request, body: CommentIn, principal: Principal) -> web.Response:
    track_id = path_uuid(request)
    async with unit_of_work(request.app[keys.db]) as uow:
        comment = await track_engagement.comment(uow, principal.user_id, track_id, body.content,
                                                 push=feeds.notifier(request.app))
    return ok(comment_out(comment), status=201)


@router.delete("/tracks/{id}/comments/{comment_id}", response=Message, auth="required",
               summary="Delete a comment on a track (its author, the track's owner or a moderator)")
async def delete_comment(request: web.Request, principal: Principal) -> web.Response:
    track_id, comment_id = path_uuid(request), path_uuid(request, "comment_id")
    async with unit_of_work(request.app[keys.db]) as uow:
        await comments.delete_track_comment(uow, principal.user_id, principal.role, track_id, comment_id)
    return ok(Message(message="Comment deleted"))
