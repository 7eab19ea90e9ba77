"""Account erasure (GDPR art. 17): `DELETE /users/me` with the password, or an admin's
`DELETE /admin/users/:id`.

One transaction deletes what is the user's alone (profile, sessions, API keys, tracks and
their audio, posts, cloud files, gear and documents, exports, follows, likes,
notifications, privacy settings, reports they filed or about the account) and detaches
what others rely on: their messages in shared rooms and their comments become "deleted
user" without their text; orders, order lines, invoices, refunds and transfers stay for
the accounts with the buyer's own fields erased; reviews keep their rating. What a seller
is still owed is still paid to their connected account; what could never be paid (no
account able to receive payouts) is canceled, with the reason. The username
and email are free again at once. After the commit every session's sockets close on every
node, the stored files are deleted (listed as storage garbage with the change, so never
forgotten), and live rooms drop their cached copies of the messages.

`KEPT` lists the only columns that may still name the erased user, with the reason; the
erasure test walks the schema and finds no other row naming them.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

from veza.domain.cloud_garbage import Freer, discard
from veza.domain.errors import Forbidden, NotFound, Unauthorized
from veza.domain.unit_of_work import unit_of_work
from veza.store import audit
from veza.store import erasure as store

log = logging.getLogger("veza.erasure")

KEPT: dict[str, str] = {
    "audit_log.user_id": "the security audit trail is kept (GDPR art. 17(3)(e)): what was done and when; the"
                         " addresses of earlier requests are blanked (the erasure request's own entry keeps its"
                         " address), and the id names no one once the account row is gone",
}
FEED_WINDOW = 7 * 24 * 3600.0  # posts younger than this may be in the live trending counters
FEED_LIMIT = 1000


@dataclasses.dataclass(frozen=True, slots=True)
class Aftermath:
    """What the rest of the system must hear, wired by the edge."""

    end_streams: Callable[[list[UUID]], Awaitable[None]]  # before: live broadcasts end, watchers told
    sessions_revoked: Callable[[UUID], Awaitable[None]]  # after commit: every socket closes, every node
    rooms_changed: Callable[[list[UUID], list[UUID]], Awaitable[None]]  # (detached, deleted) rooms
    posts_deleted: Callable[[list[UUID]], None]  # the feed's trending counters forget them
    freer: Freer  # deletes stored objects after commit


@dataclasses.dataclass(frozen=True, slots=True)
class Erasure:
    user_id: UUID
    by: UUID  # who asked: the user, or an admin
    via: str  # "self" or "admin"
    route: str


async def check_password(conn: Any, verify: Callable[[str | None, str], Awaitable[bool]], user_id: UUID,
                         password: str) -> None:
    """401 unless `password` is the account's (an account without a password cannot say so)."""
    if not await verify(await store.password_hash(conn, user_id), password):
        raise Unauthorized("The password is incorrect")


def check_admin_target(admin_id: UUID, target_role: str | None, target_id: UUID) -> None:
    if target_role is None:
        raise NotFound("User not found")
    if target_id == admin_id:
        raise Forbidden("Admins erase their own account with DELETE /users/me")
    if target_role == "admin":
        raise Forbidden("An admin account cannot be erased by another admin; change its role first")


async def erase(db: Any, request: Erasure, effects: Aftermath) -> dict[str, Any]:
    """Erase the account; what it was (id, username) for the answer."""
    async with db.connection() as conn:
        live = await store.live_streams(conn, request.user_id)
    if live:
        await effects.end_streams(live)
    async with unit_of_work(db) as uow:
        conn = uow.conn
        user = await store.lock_user(conn, request.user_id)
        await discard(uow, effects.freer, await store.stored_keys(conn, request.user_id))
        posts = await store.recent_posts(conn, request.user_id, FEED_WINDOW, FEED_LIMIT)
        await store.release_counters(conn, request.user_id)
        deleted_rooms = await store.delete_lone_rooms(conn, request.user_id)
        rooms = await store.detach_messages(conn, request.user_id)
        await store.detach_comments(conn, request.user_id)
        await store.detach_marketplace(conn, request.user_id)
        if canceled := await store.hand_over_payouts(conn, request.user_id):
            log.info("erasure of %s canceled %d transfer(s) it could never be paid", request.user_id, canceled)
        await store.delete_reports_about(conn, request.user_id)
        await store.blank_audit_addresses(conn, request.user_id)
        await store.delete_user(conn, request.user_id)
        await audit.insert_one(conn, user_id=request.by, action="ERASE", resource=f"/users/{request.user_id}",
                               route=request.route, status=200, via=request.via)
        uow.after_commit(effects.sessions_revoked, request.user_id)
        uow.after_commit(effects.rooms_changed, rooms, deleted_rooms)
        uow.after_commit(effects.posts_deleted, posts)
    return {"id": user["id"], "username": user["username"]}
