"""Notifications: written in the caller's transaction, pushed to the user's Inbox after COMMIT.

The one place for the rule "record the notification with the change, announce it only once
the change is committed": a rollback drops the push, so no socket hears of a like, follow,
comment or warning the database does not have. The store decides whether a row is written
at all (never for one's own action; a repeated like or follow with an unread notice adds
nothing).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from veza.domain.unit_of_work import UnitOfWork
from veza.store import notifications as store


async def notify(uow: UnitOfWork, push: Callable[[dict[str, Any]], None], *, user_id: UUID, actor_id: UUID | None, kind: str,
                 subject_id: UUID | None, data: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """Create the notification on `uow.conn` and register `push(note)` (the edge's live push,
    e.g. `feeds.notifier(app)`) to run after COMMIT; the record, or None when none is written."""
    note = await store.create(uow.conn, user_id=user_id, actor_id=actor_id, kind=kind,  # type: ignore[arg-type]
                              subject_id=subject_id, data=data)
    if note is not None:
        uow.after_commit(push, note)
    return note
