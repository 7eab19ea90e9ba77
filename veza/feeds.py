"""REST -> live bridge: handlers call these after commit; the Feed and Inbox actors
broadcast. Handlers never touch sockets themselves.

`feeds_ctx` (a cleanup_ctx entry, after the hub) hands the Feed and Inbox actors their
typed services (the hub, the broker, SQL seeds and counts) and warms the Feed actor.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID

from aiohttp import web

from actors import ActorDead, MailboxFull
from actors.feed import GLOBAL, Engaged, Feed, FeedServices, PostCreated, PostDeleted, Trending
from actors.inbox import Inbox, InboxServices, Notify
from veza import keys
from veza.http.envelope import encode
from veza.store import notifications as notification_store
from veza.store import social as social_store

log = logging.getLogger("veza.feeds")


def _json_ready(record: dict[str, Any]) -> dict[str, Any]:
    import msgspec

    return msgspec.json.decode(encode(record))


def _tell(app: web.Application, cls: type, key: Any, message: Any) -> None:
    try:
        app[keys.actors].ref(cls, key).tell(message)
    except (MailboxFull, ActorDead) as exc:
        # The change is committed and listed by REST; only the live push is lost.
        log.warning("live push dropped (%s[%s]): %s", cls.__name__, key, exc)


def notify(app: web.Application, notification: dict[str, Any] | None) -> None:
    if notification is not None:
        _tell(app, Inbox, notification["user_id"], Notify(_json_ready(notification)))


def notifier(app: web.Application) -> Any:
    """`notify` bound to the app: the push a domain registers to run after commit."""
    return lambda notification: notify(app, notification)


def post_created(app: web.Application, post: dict[str, Any]) -> None:
    _tell(app, Feed, GLOBAL, PostCreated(_json_ready(post), post["created_at"].timestamp()))


def post_deleted(app: web.Application, post_id: UUID) -> None:
    _tell(app, Feed, GLOBAL, PostDeleted(post_id))


def post_engaged(app: web.Application, post_id: UUID, kind: str, delta: int) -> None:
    _tell(app, Feed, GLOBAL, Engaged(post_id, kind, delta, time.time()))


async def trending(app: web.Application, limit: int) -> list[tuple[UUID, float]]:
    return await app[keys.actors].ref(Feed, GLOBAL).ask(Trending(limit), timeout=5.0)


async def feeds_ctx(app: web.Application) -> AsyncIterator[None]:
    db = app[keys.db]
    system = app[keys.actors]

    async def trending_seed(since: float) -> list[tuple[UUID, float, int, int]]:
        async with db.connection() as conn:
            return await social_store.engagement_since(conn, dt.datetime.fromtimestamp(since, dt.UTC))

    async def unread_count(user_id: UUID) -> int:  # the Inbox reads it once per batch
        async with db.connection() as conn:
            return await notification_store.unread_count(conn, user_id)

    system.provide(Feed, FeedServices(hub=app[keys.hub], broker=app[keys.broker], trending_seed=trending_seed))
    system.provide(Inbox, InboxServices(hub=app[keys.hub], unread_count=unread_count))
    # Warm the feed now so the first trending read does not pay for the seed query.
    await system.ref(Feed, GLOBAL).ask(Trending(1), timeout=30.0)
    yield
