"""The caller's own profile (GET/PUT /users/me)."""

from __future__ import annotations

from typing import Annotated

import msgspec
from aiohttp import web

from veza import keys
from veza.api.schemas import UserProfile, user_profile
from veza.http.auth import Principal
from veza.http.envelope import ok
from veza.http.errors import BadRequest
from veza.http.routing import ApiRouter
from veza.store import users
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
