"""Every `/users/*` route: the caller's own profile (GET/PUT /users/me), public profiles
(GET /users/:id) and follows (POST/DELETE /users/:id/follow).

`/users/me` is declared before `/users/{id}`, so "me" never reaches the id route.
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from aiohttp import web

from veza import feeds, keys
from veza.api import erasure, exports
from veza.api.schemas import UserProfile, user_profile
from veza.api.social_schemas import FollowOut, ProfileOut
from veza.domain import notifications
from veza.domain.unit_of_work import unit_of_work
from veza.http.auth import Principal
from veza.http.envelope import ok
from veza.http.errors import BadRequest
from veza.http.routing import ApiRouter, path_uuid
from veza.store import social, users
from veza.validation import url_problems, username_problems

router = ApiRouter("users")


class ProfileIn(msgspec.Struct, forbid_unknown_fields=True):
    username: Annotated[str, msgspec.Meta(max_length=64)] | None = None
    bio: Annotated[str, msgspec.Meta(max_length=2000)] | None = None
    avatar_url: Annotated[str, msgspec.Meta(max_length=2048)] | None = None


@router.get("/users/me", response=UserProfile, auth="required", summary="The current user's profile")
async def get_me(request: web.Request, principal: Principal) -> web.Response:
    async with request.app[keys.db].connection() as conn:
        return ok(user_profile(await users.get_user(conn, principal.user_id)))


@router.put("/users/me", body=ProfileIn, response=UserProfile, auth="required",
            summary="Update username, bio or avatar URL")
async def update_me(request: web.Request, body: ProfileIn, principal: Principal) -> web.Response:
    changes = {f: getattr(body, f) for f in body.__struct_fields__ if getattr(body, f) is not None}
    problems = {}
    if "username" in changes and (p := username_problems(changes["username"])):
        problems["username"] = p[0]
    if changes.get("avatar_url") and (p := url_problems(changes["avatar_url"])):
        problems["avatar_url"] = p[0]
    if problems:
        field, why = next(iter(problems.items()))
        raise BadRequest(f"Invalid {field}: {why}", details=problems)
    if changes.get("avatar_url") == "":
        changes["avatar_url"] = None
    async with request.app[keys.db].connection() as conn:
        return ok(user_profile(await users.update_profile(conn, principal.user_id, changes)))


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


exports.add_routes(router)  # POST /users/me/export, /users/me/exports* (issue 18)
erasure.add_routes(router)  # DELETE /users/me (issue 18)
