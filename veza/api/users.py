"""Every `/users/*` route: the caller's own profile (GET/PUT /users/me), their privacy
preferences (CCPA Do Not Sell) and moderation warnings, public profiles (GET /users/:id)
and follows (POST/DELETE /users/:id/follow).

`/users/me` is declared before `/users/{id}`, so "me" never reaches the id route.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec
from aiohttp import web

from veza import feeds, keys
from veza.api import erasure, exports
from veza.api.moderation import PageQuery, WarningList, WarningOut
from veza.api.schemas import UserProfile, user_profile
from veza.api.social_schemas import FollowOut, ProfileOut
from veza.domain import social as social_rules
from veza.domain import users as user_rules
from veza.domain.unit_of_work import unit_of_work
from veza.http.auth import Principal
from veza.http.edge.privacy import do_not_sell
from veza.http.envelope import ok
from veza.http.routing import ApiRouter, path_uuid
from veza.store import moderation as moderation_store
from veza.store import privacy, social, users
from veza.validation import URL_OR_EMPTY_SCHEMA, USERNAME_SCHEMA, documented

router = ApiRouter("users")


class ProfileIn(msgspec.Struct, forbid_unknown_fields=True):
    username: Annotated[str, msgspec.Meta(max_length=64, extra_json_schema=documented(USERNAME_SCHEMA))] | None = None
    bio: Annotated[str, msgspec.Meta(max_length=2000)] | None = None
    avatar_url: Annotated[str, msgspec.Meta(max_length=2048, extra_json_schema=documented(URL_OR_EMPTY_SCHEMA))] | (
        None) = None


@router.get("/users/me", response=UserProfile, auth="required", summary="The current user's profile")
async def get_me(request: web.Request, principal: Principal) -> web.Response:
    async with request.app[keys.db].connection() as conn:
        return ok(user_profile(await users.get_user(conn, principal.user_id)))


@router.put("/users/me", body=ProfileIn, response=UserProfile, auth="required", errors=(409,),
            summary="Update username, bio or avatar URL")
async def update_me(request: web.Request, body: ProfileIn, principal: Principal) -> web.Response:
    changes = {f: getattr(body, f) for f in body.__struct_fields__ if getattr(body, f) is not None}
    async with request.app[keys.db].connection() as conn:
        return ok(user_profile(await user_rules.update_profile(conn, principal.user_id, changes)))


# CCPA: the persisted Do Not Sell preference (the per-request Sec-GPC signal is read at the
# edge: `veza.http.edge.privacy`).

class OptOutIn(msgspec.Struct, forbid_unknown_fields=True):
    do_not_sell: bool = True


class PrivacyOut(msgspec.Struct):
    do_not_sell: bool
    updated_at: dt.datetime | None
    gpc: bool  # this request carried Sec-GPC: 1


def _out(request: web.Request, row: dict) -> PrivacyOut:
    return PrivacyOut(do_not_sell=row["do_not_sell"], updated_at=row["do_not_sell_updated_at"],
                      gpc=do_not_sell(request))


@router.post("/users/me/privacy/opt-out", body=OptOutIn, response=PrivacyOut, auth="required",
             summary="Set the Do Not Sell preference (CCPA)")
async def opt_out(request: web.Request, body: OptOutIn, principal: Principal) -> web.Response:
    async with request.app[keys.db].connection() as conn:
        return ok(_out(request, await privacy.set_do_not_sell(conn, principal.user_id, body.do_not_sell)))


@router.get("/users/me/privacy", response=PrivacyOut, auth="required", summary="The current privacy preferences")
async def get_privacy(request: web.Request, principal: Principal) -> web.Response:
    async with request.app[keys.db].connection() as conn:
        return ok(_out(request, await privacy.get_preferences(conn, principal.user_id)))


@router.get("/users/me/warnings", query=PageQuery, response=WarningList, auth="required",
            summary="Moderation warnings you received")
async def my_warnings(request: web.Request, query: PageQuery, principal: Principal) -> web.Response:
    async with request.app[keys.db].connection() as conn:
        rows, total = await moderation_store.list_warnings(conn, principal.user_id, query.limit, query.offset)
    return ok(WarningList(warnings=[WarningOut(**{f: r[f] for f in WarningOut.__struct_fields__}) for r in rows],
                          total=total))


@router.get("/users/{id}", response=ProfileOut, auth="optional",
            summary="A user's public profile with follower, following, track and post counts (no email)")
async def profile(request: web.Request, principal: Principal | None) -> web.Response:
    async with request.app[keys.db].connection() as conn:
        row = await social.public_profile(conn, path_uuid(request), principal.user_id if principal else None)
    return ok(ProfileOut(**{f: row[f] for f in ProfileOut.__struct_fields__}))


@router.post("/users/{id}/follow", response=FollowOut, auth="required", summary="Follow a user (idempotent)")
async def follow(request: web.Request, principal: Principal) -> web.Response:
    target = path_uuid(request)
    async with unit_of_work(request.app[keys.db]) as uow:
        count = await social_rules.follow(uow, principal.user_id, target, push=feeds.notifier(request.app))
    return ok(FollowOut(user_id=target, following=True, follower_count=count))


@router.delete("/users/{id}/follow", response=FollowOut, auth="required", summary="Unfollow a user (idempotent)")
async def unfollow(request: web.Request, principal: Principal) -> web.Response:
    target = path_uuid(request)
    async with request.app[keys.db].transaction() as conn:
        count = await social_rules.unfollow(conn, principal.user_id, target)
    return ok(FollowOut(user_id=target, following=False, follower_count=count))


exports.add_routes(router)  # POST /users/me/export, /users/me/exports* (issue 18)
erasure.add_routes(router)  # DELETE /users/me (issue 18)
