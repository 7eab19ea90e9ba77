"""Moderation: users report content; admins resolve, dismiss, ban or warn.

Rules:
- A report names existing content (a user, a track, a track or post comment) with a
  reason that is not blank; nobody reports themself. One pending report per reporter and
  content (the store's unique index: 409).
- Only a pending report is decided (the store locks it: 404 / 409).
- A ban or warning falls on the content's owner (the user, the track's owner, the
  comment's author) unless the admin names another account, and must name one once the
  content is gone. The account must exist; an admin cannot be banned.
- A ban blocks login (users.is_banned) and revokes every session and API-key access in
  the deciding transaction; after commit the revocation is announced, so every node
  closes the user's sockets.
- A warning is stored and notified (pushed by the user's Inbox after commit); without a
  message of the admin's it quotes the report.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from veza.domain import notifications
from veza.domain.errors import Forbidden, Invalid
from veza.domain.unit_of_work import UnitOfWork
from veza.session_events import SessionEvents
from veza.store import moderation as store
from veza.store import sessions

MAX_TEXT = 1000  # a reason, a warning's message
TARGETED = frozenset({"ban", "warn"})


def clean_reason(reason: str) -> str:
    reason = reason.strip()
    if not reason:
        raise Invalid("Invalid reason: must not be blank", details={"reason": "must not be blank"})
    return reason


def check_reportable(reporter_id: UUID, content_type: str, content_id: UUID) -> None:
    if content_type == "user" and content_id == reporter_id:
        raise Invalid("You cannot report yourself", details={"content_id": "is you"})


async def report(conn: Any, reporter_id: UUID, content_type: str, content_id: UUID, reason: str) -> dict[str, Any]:
    """A new pending report of existing content."""
    reason = clean_reason(reason)
    check_reportable(reporter_id, content_type, content_id)
    if await store.content_owner(conn, content_type, content_id) is None:
        raise Invalid(f"No such {content_type}", details={"content_id": f"unknown {content_type}"})
    return await store.create_report(conn, reporter_id=reporter_id, content_type=content_type,
                                     content_id=content_id, reason=reason)


def check_target(action: str, content_type: str, target: UUID | None, target_role: str | None) -> None:
    """`target` is the named or owning account (None: the content is gone and nobody was
    named); `target_role` its role (None: no such user)."""
    if target is None:
        raise Invalid(f"The reported {content_type} no longer exists; pass user_id",
                      details={"user_id": f"required to {action}: the {content_type} is gone"})
    if target_role is None:
        raise Invalid("No such user", details={"user_id": "unknown user"})
    if action == "ban" and target_role == "admin":
        raise Forbidden("Admins cannot be banned")


def warning_message(message: str | None, content_type: str, reason: str) -> str:
    """The admin's message, or one quoting the report; at most MAX_TEXT characters."""
    text = message or f"A moderator reviewed a report about your {content_type}: {reason}"
    return text[:MAX_TEXT]


@dataclass(frozen=True, slots=True)
class Decision:
    action: str
    named_user: UUID | None = None  # the account the admin names for a ban or warning
    message: str | None = None  # a warning's text (default: `warning_message`)


async def resolve(uow: UnitOfWork, admin_id: UUID, report_id: UUID, decision: Decision, *,
                  push: Callable[[dict[str, Any]], None], session_events: SessionEvents) -> dict[str, Any]:
    """Decide a pending report; the report as decided. `push` delivers a warning's
    notification and `session_events` hears of a ban, both after commit."""
    conn, action = uow.conn, decision.action
    pending = await store.lock_pending(conn, report_id)
    target = None
    if action in TARGETED:
        target = decision.named_user or await store.content_owner(conn, pending["content_type"], pending["content_id"])
        role = await store.user_role(conn, target) if target is not None else None
        check_target(action, pending["content_type"], target, role)
    if action == "ban":
        await store.ban_user(conn, target)
        await sessions.revoke_all(conn, target, reason="banned")
        uow.after_commit(session_events.revoked, target, None)
    elif action == "warn":
        warning = await store.add_warning(conn, user_id=target, report_id=report_id, message=warning_message(
            decision.message, pending["content_type"], pending["reason"]))
        await notifications.notify(uow, push, user_id=target, actor_id=None, kind="moderation_warning",
                                   subject_id=warning["id"],
                                   data={"message": warning["message"], "report_id": str(report_id)})
    return await store.decide(conn, report_id, action=action, target_user_id=target, resolved_by=admin_id)
