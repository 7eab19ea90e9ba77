"""Likes and comments on tracks (removing a comment: `veza.domain.comments`).

A like is idempotent and only a new one notifies the track's owner; a comment's text is
required (trimmed, never blank) and notifies the owner with an excerpt. Notifications are
never for one's own action (the notifications store) and are pushed after commit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from veza.domain import notifications
from veza.domain.social import EXCERPT
from veza.domain.text import required
from veza.domain.unit_of_work import UnitOfWork
from veza.store import tracks as store

Push = Callable[[dict[str, Any]], None]


async def like(uow: UnitOfWork, user_id: UUID, track_id: UUID, *, push: Push) -> int:
    """The track's like count once `user_id` likes it."""
    created, count = await store.like(uow.conn, track_id, user_id)
    if created:
        track = await store.get_track(uow.conn, track_id)
        await notifications.notify(uow, push, user_id=track["owner_id"], actor_id=user_id, kind="track_like",
                                   subject_id=track_id, data={"track_title": track["title"]})
    return count


async def comment(uow: UnitOfWork, user_id: UUID, track_id: UUID, content: str, *, push: Push) -> dict[str, Any]:
    content = required(content, "content")
    row = await store.add_comment(uow.conn, track_id, user_id, content)
    track = await store.get_track(uow.conn, track_id)
    await notifications.notify(uow, push, user_id=track["owner_id"], actor_id=user_id, kind="track_comment",
                               subject_id=track_id, data={"track_title": track["title"], "comment_id": str(row["id"]),
                                                          "excerpt": content[:EXCERPT]})
    return row
