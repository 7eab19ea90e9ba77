"""Account erasure over REST (issue 18): `DELETE /users/me` (the users router, with the
password) and `DELETE /admin/users/:id` (the admin router). The rules are in
`veza.domain.erasure`; this module wires what others must hear afterwards."""

from __future__ import annotations

import logging
from typing import Annotated
from uuid import UUID

import msgspec
from aiohttp import web

from actors.chat_room import Close, Forget, announce
from veza import feeds, keys
from veza.api.cloud_setup import collector
from veza.domain import erasure
from veza.domain.errors import Forbidden
from veza.http.auth import Principal
from veza.http.envelope import ok
from veza.http.routing import ApiRouter, path_uuid
from veza.live.service import end_live_stream
from veza.store import users

log = logging.getLogger("veza.erasure")


class EraseIn(msgspec.Struct, forbid_unknown_fields=True):
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=256)]


class ErasedOut(msgspec.Struct):
    id: UUID
    username: str
    erased: bool = True


def _aftermath(app: web.Application) -> erasure.Aftermath:
    async def end_streams(stream_ids: list[UUID]) -> None:
        for stream_id in stream_ids:
            try:
                await end_live_stream(app, stream_id, reason="account erased")
            except Exception:  # noqa: BLE001 - the stream row goes anyway; its ingest is refused after
                log.warning("could not end live stream %s before erasure", stream_id, exc_info=True)

    async def sessions_revoked(user_id: UUID) -> None:
        await app[keys.session_events].revoked(user_id, None)

    async def rooms_changed(detached: list[UUID], deleted: list[UUID]) -> None:
        broker = app[keys.broker]
        for room_id in detached:
            await announce(broker, room_id, Forget())
        for room_id in deleted:
            await announce(broker, room_id, Close())

    def posts_deleted(post_ids: list[UUID]) -> None:
        for post_id in post_ids:
            feeds.post_deleted(app, post_id)

    return erasure.Aftermath(end_streams=end_streams, sessions_revoked=sessions_revoked, rooms_changed=rooms_changed,
                             posts_deleted=posts_deleted, freer=app[collector])


async def erase_me(request: web.Request, body: EraseIn, principal: Principal) -> web.Response:
    app = request.app
    if principal.via != "jwt":
        raise Forbidden("Sign in to erase your account; API keys cannot")
    async with app[keys.db].connection() as conn:
        await erasure.check_password(conn, app[keys.passwords].verify, principal.user_id, body.password)
    gone = await erasure.erase(app[keys.db], erasure.Erasure(principal.user_id, by=principal.user_id, via="self",
                                                             route="DELETE /users/me"), _aftermath(app))
    return ok(ErasedOut(**gone))


async def erase_user(request: web.Request, principal: Principal) -> web.Response:
    app = request.app
    target = path_uuid(request)
    async with app[keys.db].connection() as conn:
        standing = await users.standing(conn, target)
    erasure.check_admin_target(principal.user_id, standing["role"] if standing else None, target)
    gone = await erasure.erase(app[keys.db], erasure.Erasure(target, by=principal.user_id, via="admin",
                                                             route="DELETE /admin/users/{id}"), _aftermath(app))
    return ok(ErasedOut(**gone))


def add_routes(router: ApiRouter) -> None:
    """`DELETE /users/me` on the users router."""
    router.delete("/users/me", body=EraseIn, response=ErasedOut, auth="required",
                  summary="Erase my account and personal data (password required); shared messages,"
                          " comments and orders stay, detached")(erase_me)


def add_admin_routes(router: ApiRouter) -> None:
    """`DELETE /admin/users/:id` on the admin router."""
    router.delete("/admin/users/{id}", response=ErasedOut, roles=("admin",), scope="admin",
                  summary="Erase a user's account and personal data (admin; not an admin's, not your own)")(erase_user)
