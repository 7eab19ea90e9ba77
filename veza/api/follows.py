"""Public profiles and follows (GET /users/:id, POST/DELETE /users/:id/follow)."""

from __future__ import annotations

from aiohttp import web

from veza import feeds, keys
from veza.api.social_schemas import FollowOut, ProfileOut
from veza.domain import notifications
from veza.domain.unit_of_work import unit_of_work
from veza.http.auth import Principal
from veza.http.envelope import ok
from veza.http.routing import ApiRouter, path_uuid
from veza.store import social

router = ApiRouter("users")


@router.get("/users/{id}", response=ProfileOut, auth="optional",
            summary="A user's public profile with follower, following, track and post counts (no email)")
async def profile(request: web.Request, principal: Principal | None) -> web.Response:
    async with request.app[keys.db].connection() as conn:
        row = await social.public_profile(conn, path_uuid(request), principal.user_id if principal else None)
    return ok(ProfileOut(**{f: row[f] for f in ProfileOut.__struct_fields__}))


async def _followers(conn, user_id) -> int:  # type: ignore[no-untyped-def]
    return (await social.public_profile(conn, user_id, None))["follower_count"]


@router.post("/users/{id}/follow", response=FollowOut, auth="required", summary="Follow a user (idempotent)")
async def follow(request: web.Request, principal: Principal) -> web.Response:
    target = path_uuid(request)
    async with unit_of_work(request.app[keys.db]) as uow:
        if await social.follow(uow.conn, principal.user_id, target):
            await notifications.notify(uow, feeds.notifier(request.app), user_id=target, actor_id=principal.user_id,
                                       kind="follow", subject_id=principal.user_id)
        count = await _followers(uow.conn, target)
    return ok(FollowOut(user_id=target, following=True, follower_count=count))


@router.delete("/users/{id}/follow", response=FollowOut, auth="required", summary="Unfollow a user (idempotent)")
async def unfollow(request: web.Request, principal: Principal) -> web.Response:
    target = path_uuid(request)
    async with request.app[keys.db].transaction() as conn:
        await social.unfollow(conn, principal.user_id, target)
        count = await _followers(conn, target)
    return ok(FollowOut(user_id=target, following=False, follower_count=count))
