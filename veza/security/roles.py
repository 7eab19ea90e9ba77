"""Who decides a user's platform role (`user`, `creator`, `admin`), and how it spreads.

An account picks `user` or `creator` when it registers; only an admin changes a role
afterwards, never their own (so the last admin cannot demote themself by mistake). The
new role is what the next request of that user is authorized with (the session lookup
reads it, `veza.security.authenticators`), and once the change has committed it is
announced to every node, whose sockets of that user take it at once.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from veza.domain.errors import Forbidden
from veza.domain.unit_of_work import UnitOfWork
from veza.http.auth import ROLES, Principal
from veza.session_events import SessionEvents
from veza.store import users

__all__ = ["ROLES", "change_role"]


async def change_role(uow: UnitOfWork, events: SessionEvents, actor: Principal, target: UUID, role: str) -> dict[str, Any]:
    """`actor` (an admin) gives `target` the role `role`; the user as it now is."""
    actor.require_role("admin")
    if target == actor.user_id:
        raise Forbidden("Admins cannot change their own role; ask another admin")
    user = await users.set_role(uow.conn, target, role)
    uow.after_commit(events.role_changed, target, role)
    return user
